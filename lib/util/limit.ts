/**
 * Concurrency primitives: a FIFO semaphore ({@linkcode createLimiter}) and a
 * concurrent map that keeps input order ({@linkcode mapConcurrent}).
 *
 * @module
 */

/** Runs functions with at most `concurrency` of them in flight, in FIFO order. */
export interface Limiter {
  /** Runs `fn` when a slot is free; resolves or rejects with its result. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting for a slot. */
  readonly pending: number;
  /** The slot count. */
  readonly concurrency: number;
}

/**
 * A FIFO semaphore.
 *
 * @example
 * ```ts
 * import { createLimiter } from "./limit.ts";
 * const limit = createLimiter(2);
 * let peak = 0;
 * await Promise.all([1, 2, 3, 4].map(() =>
 *   limit.run(async () => {
 *     peak = Math.max(peak, limit.active);
 *     await new Promise((r) => setTimeout(r, 5));
 *   })
 * ));
 * if (peak !== 2) throw new Error(`peak ${peak}`);
 * ```
 */
export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  let active = 0;
  const queue = new WaiterQueue();
  const release = () => {
    active--;
    const next = queue.take();
    if (next) {
      active++;
      next();
    }
  };
  return {
    get active() {
      return active;
    },
    get pending() {
      return queue.size;
    },
    concurrency,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active < concurrency) active++;
      else await new Promise<void>((resolve) => queue.put(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}

/** Entries taken before the array is compacted (when they are also half of it). */
const COMPACT_AFTER = 1024;

/**
 * A FIFO of waiters with O(1) take (amortised): a head index into an array, which is emptied
 * when the queue drains and compacted once the taken entries are 1,024 or more and at least
 * half of it, so a compaction copies no more entries than were taken since the last. It
 * replaces `Array.shift`, which moves every remaining entry once an array is too large for V8
 * to trim in place (~16k entries): draining n waiters was O(n²).
 */
class WaiterQueue {
  #items: ((() => void) | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  put(waiter: () => void): void {
    this.#items.push(waiter);
  }

  take(): (() => void) | undefined {
    if (this.#head === this.#items.length) return undefined;
    const waiter = this.#items[this.#head];
    // Dropped at once, so a resolved waiter is not kept alive until the next compaction.
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && 2 * this.#head >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return waiter;
  }
}

/**
 * Maps `items` through `fn` with at most `concurrency` calls in flight; results keep the
 * input order. Rejects with the first error (calls already started still finish).
 *
 * @example
 * ```ts
 * import { mapConcurrent } from "./limit.ts";
 * const out = await mapConcurrent([3, 1, 2], 2, async (x) => x * 10);
 * if (out.join() !== "30,10,20") throw new Error("order lost");
 * ```
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const limiter = createLimiter(Math.max(1, Math.min(concurrency, items.length || 1)));
  return await Promise.all(items.map((item, i) => limiter.run(() => fn(item, i))));
}
