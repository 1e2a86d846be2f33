/**
 * The limiter's waiter queue (`lib/util/limit.ts`): push n waiters behind one held slot, then
 * drain them, with the limiter as it is and with the queue it had before (`Array.shift`,
 * copied here as the baseline); three rounds each, interleaved, wall time per round.
 * `deno run -A bench/limit_queue_bench_script.ts [n ...]` (default 10k 50k 100k).
 *
 * A script rather than `deno bench`: under `deno bench` the old queue's 100k drain measured
 * 75-166 ms, in a plain process 5.4-5.9 s (V8 trims a large array's start in place only
 * sometimes; otherwise each `shift` moves every remaining entry), and a plain process is
 * what `rpt` runs in.
 *
 * @module
 */
import { createLimiter, type Limiter } from "../lib/util/limit.ts";

/** The limiter as it was before the O(1) queue: `queue.shift()` per release. */
function shiftLimiter(concurrency: number): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    active--;
    const next = queue.shift();
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
      return queue.length;
    },
    concurrency,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active < concurrency) active++;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}

/** Holds the one slot, queues `n` waiters, lets go and waits for every one to run. */
async function pushAndDrain(make: (c: number) => Limiter, n: number): Promise<void> {
  const limit = make(1);
  let open!: () => void;
  const held = limit.run(() => new Promise<void>((resolve) => open = resolve));
  const done = Promise.resolve();
  const waiting: Promise<void>[] = new Array(n);
  for (let i = 0; i < n; i++) waiting[i] = limit.run(() => done);
  open();
  await held;
  await Promise.all(waiting);
  if (limit.pending !== 0 || limit.active !== 0) throw new Error("not drained");
}

async function main(): Promise<void> {
  const sizes = Deno.args.length > 0 ? Deno.args.map(Number) : [10_000, 50_000, 100_000];
  const kinds = [["Array.shift queue (before)", shiftLimiter], [
    "head-index queue (now)",
    createLimiter,
  ]] as const;
  console.log(
    `push and drain n waiters, ${navigator.hardwareConcurrency} cores (ms per round; min):`,
  );
  for (const n of sizes) {
    const times = new Map<string, number[]>();
    for (let round = 0; round < 3; round++) {
      for (const [name, make] of kinds) {
        const t0 = performance.now();
        await pushAndDrain(make, n);
        times.set(name, [...(times.get(name) ?? []), performance.now() - t0]);
      }
    }
    for (const [name, values] of times) {
      console.log(
        `  ${String(n).padStart(7)} ${name.padEnd(28)} ${
          values.map((v) => v.toFixed(0)).join(" ").padEnd(18)
        } min ${Math.min(...values).toFixed(0)} ms`,
      );
    }
  }
}

if (import.meta.main) await main();
