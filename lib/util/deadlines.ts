/**
 * Many timeouts of one length on one timer. Every call of a run gets the same per-attempt
 * timeout, and most calls answer long before it: a timer per call (Deno's global
 * `setTimeout` makes a Node `Timeout` object, with an async id, a list entry and a native
 * timer, and `clearTimeout` undoes it all) was a visible part of the wrapper's CPU per call.
 * Deadlines of equal length fall due in the order they were set, so a FIFO queue per length
 * with one timer armed for its head holds them all: setting one is a push, cancelling one a
 * flag.
 *
 * @module
 */

interface Entry {
  at: number;
  fire: (() => void) | undefined;
}

/** The deadlines of one length, in the order they fall due. */
class Queue {
  readonly #ms: number;
  readonly #entries: Entry[] = [];
  #head = 0;
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add(fire: () => void): () => void {
    const entry: Entry = { at: performance.now() + this.#ms, fire };
    this.#entries.push(entry);
    this.#live++;
    if (this.#timer === undefined) this.#arm(entry.at);
    return () => {
      if (entry.fire === undefined) return;
      entry.fire = undefined;
      this.#cancelled();
    };
  }

  #cancelled(): void {
    if (--this.#live === 0) {
      // Nothing left to watch: no timer may keep the process alive.
      this.#entries.length = 0;
      this.#head = 0;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    this.#dropSettledHead();
  }

  /** Calls settle roughly in order: dropping settled entries at the head keeps the queue short. */
  #dropSettledHead(): void {
    const entries = this.#entries;
    while (this.#head < entries.length && entries[this.#head]?.fire === undefined) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      entries.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#due(), Math.max(1, Math.ceil(at - performance.now())));
  }

  #due(): void {
    this.#timer = undefined;
    const now = performance.now();
    const entries = this.#entries;
    while (this.#head < entries.length) {
      const entry = entries[this.#head] as Entry;
      // A timer may fire a fraction of a millisecond before the clock reads its time.
      if (entry.fire !== undefined && entry.at > now + 1) break;
      this.#head++;
      const fire = entry.fire;
      if (fire === undefined) continue;
      entry.fire = undefined;
      this.#live--;
      fire();
    }
    if (this.#live === 0) {
      entries.length = 0;
      this.#head = 0;
      return;
    }
    this.#dropSettledHead();
    const next = entries[this.#head];
    if (next !== undefined && this.#timer === undefined) this.#arm(next.at);
  }
}

const queues = new Map<number, Queue>();

/**
 * Calls `fire` once `ms` milliseconds have passed, unless the returned function is called
 * first (calling it later, or twice, does nothing). `fire` must not throw. Like a timer that
 * is set, a deadline that is pending keeps the process alive.
 *
 * @example
 * ```ts
 * import { deadlineAfter } from "./deadlines.ts";
 * const fired: string[] = [];
 * const cancel = deadlineAfter(10, () => fired.push("cancelled one"));
 * deadlineAfter(10, () => fired.push("kept"));
 * cancel();
 * await new Promise((resolve) => setTimeout(resolve, 30));
 * if (fired.join() !== "kept") throw new Error(fired.join());
 * ```
 */
export function deadlineAfter(ms: number, fire: () => void): () => void {
  let queue = queues.get(ms);
  if (queue === undefined) queues.set(ms, queue = new Queue(ms));
  return queue.add(fire);
}
