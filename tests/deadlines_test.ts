import assert from "node:assert/strict";
import { deadlineAfter } from "../lib/util/deadlines.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("deadlines fire once, in order, after their time; cancelled ones never", async () => {
  const fired: { name: string; after: number }[] = [];
  const t0 = performance.now();
  const cancels = ["a", "b", "c", "d"].map((name) =>
    deadlineAfter(40, () => fired.push({ name, after: performance.now() - t0 }))
  );
  cancels[1]?.();
  await sleep(10);
  const late = deadlineAfter(40, () => fired.push({ name: "e", after: performance.now() - t0 }));
  await sleep(75);
  assert.deepEqual(fired.map((f) => f.name), ["a", "c", "d", "e"]);
  for (const f of fired.slice(0, 3)) assert.ok(f.after >= 39, `fired after ${f.after} ms`);
  assert.ok((fired[3]?.after ?? 0) >= 49, `e fired after ${fired[3]?.after} ms`);
  // Cancelling after the fact does nothing.
  for (const cancel of cancels) cancel();
  late();
});

Deno.test("deadlines of different lengths keep their own times", async () => {
  const fired: string[] = [];
  deadlineAfter(60, () => fired.push("60"));
  deadlineAfter(15, () => fired.push("15"));
  const cancel = deadlineAfter(35, () => fired.push("35, cancelled"));
  deadlineAfter(35, () => fired.push("35"));
  cancel();
  await sleep(100);
  assert.deepEqual(fired, ["15", "35", "60"]);
});

Deno.test("a deadline whose head was cancelled still fires on time", async () => {
  const fired: number[] = [];
  const t0 = performance.now();
  const first = deadlineAfter(300, () => fired.push(-1));
  await sleep(20);
  deadlineAfter(300, () => fired.push(performance.now() - t0));
  // The timer was armed for the first deadline; the second is 20 ms later.
  first();
  await sleep(400);
  assert.equal(fired.length, 1);
  assert.ok((fired[0] ?? 0) >= 319, `fired after ${fired[0]} ms`);
});

Deno.test("once every deadline is settled no timer keeps the process alive", async () => {
  // Deadlines of 20 s, settled out of order as calls answer: the process must exit at once.
  const script = `
    import { deadlineAfter } from ${
    JSON.stringify(new URL("../lib/util/deadlines.ts", import.meta.url).href)
  };
    const cancels = Array.from({ length: 5000 }, () => deadlineAfter(20_000, () => {}));
    for (let i = 0; i < cancels.length; i += 2) cancels[i]();
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 1; i < cancels.length; i += 2) cancels[i]();
    let fired = false;
    deadlineAfter(20, () => (fired = true));
    globalThis.addEventListener("unload", () => console.log(fired ? "fired" : "not fired"));
  `;
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "fired");
  assert.ok(seconds < 10, `the process lived ${seconds.toFixed(1)} s`);
});

Deno.test("a deadline set while others fire is kept for its own time", async () => {
  const fired: string[] = [];
  deadlineAfter(10, () => {
    fired.push("first");
    deadlineAfter(10, () => fired.push("set by first"));
  });
  deadlineAfter(10, () => fired.push("second"));
  await sleep(60);
  assert.deepEqual(fired, ["first", "second", "set by first"]);
});
