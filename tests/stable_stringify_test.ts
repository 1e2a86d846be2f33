import assert from "node:assert/strict";
import { stableStringify } from "../lib/util/json.ts";
import { seededRandom } from "../lib/util/random.ts";

/** The definition the one-pass writer must match: JSON.stringify of a key-sorted copy. */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const item = (v as Record<string, unknown>)[key];
        if (item !== undefined) out[key] = sortKeys(item);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

function randomValue(random: () => number, depth: number): unknown {
  const pick = Math.floor(random() * (depth > 3 ? 7 : 9));
  const text = () =>
    [
      "",
      "a",
      "Zed",
      'é\u2028\n"q"\\',
      "\ud83d\ude00",
      "10",
      "__x",
      "b c",
    ][Math.floor(random() * 8)];
  switch (pick) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return [0, -0, 1.5, -3e21, 1e-7, NaN, Infinity, 42][Math.floor(random() * 8)];
    case 3:
      return text();
    case 4:
      return undefined;
    case 5:
      return () => 1;
    case 6:
      return `${text()}${Math.floor(random() * 100)}`;
    case 7:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) {
        out[`${text()}${i}`] = randomValue(random, depth + 1);
      }
      return out;
    }
  }
}

Deno.test("stableStringify equals JSON.stringify of a key-sorted copy on 5,000 random values", () => {
  const random = seededRandom(11);
  for (let i = 0; i < 5000; i++) {
    const value = randomValue(random, 0);
    assert.equal(stableStringify(value), reference(value), JSON.stringify(value));
  }
  assert.equal(stableStringify(undefined), undefined);
  assert.equal(stableStringify([1, , 3]), "[1,null,3]");
  assert.equal(
    stableStringify({ b: [undefined], a: { d: 1, c: undefined } }),
    '{"a":{"d":1},"b":[null]}',
  );
  assert.throws(() => stableStringify({ n: 1n }), TypeError);
});
