/**
 * The FIFO semaphore of `lib/util/limit.ts`: FIFO order, slot counts, failures releasing
 * their slot, and waiters queued while others drain, across the waiter queue's compaction
 * (it compacts once 1,024 entries are taken and they are half of it) and its reset when it
 * drains. Timing is the bench's (`bench/limit_bench.ts`), never a test's.
 */
import assert from "node:assert/strict";
import { createLimiter, mapConcurrent } from "../lib/util/limit.ts";

/** A promise with its resolve, to hold a slot until the test lets go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}

Deno.test("limiter: waiters run in FIFO order, one slot at a time, counts exact", async () => {
  const limit = createLimiter(1);
  const hold = gate();
  const first = limit.run(() => hold.promise);
  const order: number[] = [];
  const n = 5000;
  const waiting = Array.from({ length: n }, (_, i) =>
    limit.run(() => {
      order.push(i);
      assert.equal(limit.active, 1);
      return Promise.resolve(i);
    }));
  assert.equal(limit.active, 1);
  assert.equal(limit.pending, n);
  hold.open();
  await first;
  assert.deepEqual(await Promise.all(waiting), order);
  assert.deepEqual(order, Array.from({ length: n }, (_, i) => i));
  assert.equal(limit.active, 0);
  assert.equal(limit.pending, 0);
});

Deno.test("limiter: waiters queued while the queue drains keep FIFO across compactions", async () => {
  const limit = createLimiter(2);
  const holds = [gate(), gate()];
  const held = holds.map((h) => limit.run(() => h.promise));
  const order: string[] = [];
  const runs: Promise<void>[] = [];
  const queue = (name: string, then?: () => void) =>
    runs.push(limit.run(() => {
      order.push(name);
      then?.();
      return Promise.resolve();
    }));
  // 3,000 first waiters; each of the first 2,500 queues one more when it runs, so entries
  // are added behind a head that has passed the compaction point several times.
  for (let i = 0; i < 3000; i++) {
    queue(`a${i}`, i < 2500 ? () => queue(`b${i}`) : undefined);
  }
  assert.equal(limit.pending, 3000);
  for (const h of holds) h.open();
  await Promise.all(held);
  while (runs.length > 0) await runs.shift();
  assert.equal(order.length, 5500);
  // a-waiters in order; each b after its a and the b's in order among themselves.
  const as = order.filter((x) => x.startsWith("a"));
  const bs = order.filter((x) => x.startsWith("b"));
  assert.deepEqual(as, Array.from({ length: 3000 }, (_, i) => `a${i}`));
  assert.deepEqual(bs, Array.from({ length: 2500 }, (_, i) => `b${i}`));
  for (let i = 0; i < 2500; i++) assert.ok(order.indexOf(`b${i}`) > order.indexOf(`a${i}`));
  // Every b was queued after all 3,000 a's, so it runs after every a.
  assert.equal(order.indexOf("b0"), 3000);
  assert.equal(limit.pending, 0);
  assert.equal(limit.active, 0);
});

Deno.test("limiter: a failure releases its slot and the queue goes on; reuse after draining", async () => {
  const limit = createLimiter(1);
  const hold = gate();
  const first = limit.run(() => hold.promise);
  const failing = limit.run(() => Promise.reject(new Error("boom")));
  const throwing = limit.run(() => {
    throw new Error("sync boom");
  });
  const after = limit.run(() => Promise.resolve("after"));
  assert.equal(limit.pending, 3);
  hold.open();
  await first;
  await assert.rejects(failing, /^Error: boom$/);
  await assert.rejects(throwing, /^Error: sync boom$/);
  assert.equal(await after, "after");
  assert.equal(limit.active, 0);
  // The drained queue is used again from the start.
  const again = gate();
  const holding = limit.run(() => again.promise);
  const next = limit.run(() => Promise.resolve(7));
  assert.equal(limit.pending, 1);
  again.open();
  await holding;
  assert.equal(await next, 7);
  assert.equal(limit.pending, 0);
});

Deno.test("limiter: at most `concurrency` in flight; bad concurrency is a RangeError", async () => {
  const limit = createLimiter(3);
  let inFlight = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 40 }, () =>
    limit.run(async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
    })));
  assert.equal(peak, 3);
  for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => createLimiter(bad), RangeError);
  assert.deepEqual(await mapConcurrent([3, 1, 2], 2, (x) => Promise.resolve(x * 10)), [30, 10, 20]);
  assert.deepEqual(await mapConcurrent([], 4, (x) => Promise.resolve(x)), []);
});
