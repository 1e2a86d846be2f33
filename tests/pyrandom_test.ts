import assert from "node:assert/strict";
import { join } from "node:path";
import { PyRandom, shuffledRange } from "../lib/data/pyrandom.ts";
import { paperDataTest } from "./support/paper_data.ts";

const VECTORS = "upstream/python_shuffle_vectors.json";

paperDataTest("shuffle matches every CPython vector", async (dataDir) => {
  const vectors = JSON.parse(await Deno.readTextFile(join(dataDir, VECTORS))) as Record<
    string,
    number[]
  >;
  const keys = Object.keys(vectors);
  assert.ok(keys.length >= 12, "vector file unexpectedly small");
  for (const key of keys) {
    const [seed, n] = key.split(":").map(Number) as [number, number];
    assert.deepEqual(shuffledRange(n, seed).slice(0, 20), vectors[key], key);
  }
}, { needs: [VECTORS] });

Deno.test("random() and getrandbits follow CPython for seed 42", () => {
  // Python: r = random.Random(42); r.random() -> 0.6394267984578837, r.random() -> 0.025010755222666936
  const r = new PyRandom(42);
  assert.equal(r.random(), 0.6394267984578837);
  assert.equal(r.random(), 0.025010755222666936);
  // Python: random.Random(0).getrandbits(32) -> 3626764237; getrandbits(64) next -> spans 2 words
  const g = new PyRandom(0);
  assert.equal(g.getrandbits(32), 3626764237n);
  const h = new PyRandom(0);
  const lo = BigInt(h.nextUint32());
  const hi = BigInt(h.nextUint32());
  assert.equal(new PyRandom(0).getrandbits(64), (hi << 32n) | lo);
});

Deno.test("seeds: negative equals positive, large seeds use several words", () => {
  assert.deepEqual(shuffledRange(50, -7), shuffledRange(50, 7));
  // Python: random.Random(2**40 + 3).getrandbits(32) -> 943978446; Random(3) -> 1022050301
  assert.equal(new PyRandom(2n ** 40n + 3n).nextUint32(), 943978446);
  assert.equal(new PyRandom(3).nextUint32(), 1022050301);
  assert.throws(() => new PyRandom(1.5), RangeError);
  assert.throws(() => new PyRandom(0).randbelow(0), RangeError);
});

Deno.test("randbelow stays in range", () => {
  const r = new PyRandom(5);
  for (const n of [1, 2, 3, 7, 1000, 2 ** 33 + 1]) {
    for (let i = 0; i < 50; i++) {
      const x = r.randbelow(n);
      assert.ok(x >= 0 && x < n && Number.isInteger(x));
    }
  }
});
