import assert from "node:assert/strict";
import { stableStringify } from "../lib/util/json.ts";
import { seededRandom } from "../lib/util/random.ts";
import { deepFreeze, randomText, reference } from "./support/stable_reference.ts";

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

Deno.test("stableStringify sorts keys as a key-sorted copy lists them", () => {
  const many = Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [`k${(i * 7) % 30}`, i]),
  );
  const mixed = { b: 1, "10": 2, "9": 3, a: 4, "01": 5, "4294967295": 6, "4294967294": 7 };
  const unicode = { "é": 1, z: 2, "\ud83d\ude00": 3, "\uff21": 4, A: 5, "": 6 };
  for (const value of [many, mixed, unicode, { ...mixed, ...many }]) {
    assert.equal(stableStringify(value), reference(value));
  }
});

Deno.test("stableStringify remembers only what cannot change", () => {
  // A deep-frozen object: the same text every time, also where it is shared.
  const schema = deepFreeze({ type: "object", properties: { b: { type: "string" } }, a: [1] });
  const text = reference(schema);
  for (let i = 0; i < 3; i++) {
    assert.equal(
      stableStringify({ s: schema, t: [schema, { schema }] }),
      reference({
        s: schema,
        t: [schema, { schema }],
      }),
    );
    assert.equal(stableStringify(schema), text);
  }
  // Frozen, but holding a mutable object: every change shows.
  const inner = { n: 1 };
  const shallow = Object.freeze({ inner, x: "y" });
  assert.equal(stableStringify(shallow), '{"inner":{"n":1},"x":"y"}');
  inner.n = 2;
  assert.equal(stableStringify(shallow), '{"inner":{"n":2},"x":"y"}');
  // The mutable object frozen later: the frozen parent still follows it.
  Object.freeze(inner);
  assert.equal(stableStringify(shallow), '{"inner":{"n":2},"x":"y"}');
  // Frozen with a getter: it can answer differently each time.
  let calls = 0;
  const getter = Object.freeze({
    get v() {
      return ++calls;
    },
  });
  assert.equal(stableStringify(getter), '{"v":1}');
  assert.equal(stableStringify(getter), '{"v":2}');
  // Frozen arrays, and a frozen empty object.
  const list = deepFreeze([1, { b: 2, a: 1 }, "x"]);
  assert.equal(stableStringify({ list }), '{"list":[1,{"a":1,"b":2},"x"]}');
  assert.equal(stableStringify({ list }), '{"list":[1,{"a":1,"b":2},"x"]}');
  assert.equal(stableStringify(Object.freeze({})), "{}");
  // A mutable object is never remembered.
  const plain: Record<string, unknown> = { a: 1 };
  assert.equal(stableStringify(plain), '{"a":1}');
  plain.b = [2];
  assert.equal(stableStringify(plain), '{"a":1,"b":[2]}');
});

Deno.test("stableStringify equals the reference on 3,000 values with frozen shared parts", () => {
  const random = seededRandom(23);
  // A pool of deep-frozen values, shared between the generated values and used many times.
  const pool = Array.from({ length: 8 }, () => deepFreeze(randomValue(random, 1)));
  const withShared = (depth: number): unknown => {
    if (random() < 0.25) return pool[Math.floor(random() * pool.length)];
    if (depth > 3) return randomText(random, Math.floor(random() * 40));
    const out: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 5); i > 0; i--) {
      out[randomText(random, 3)] = random() < 0.3 ? [withShared(depth + 1)] : withShared(depth + 1);
    }
    return random() < 0.2 ? Object.freeze(out) : out;
  };
  for (let i = 0; i < 3000; i++) {
    const value = withShared(0);
    assert.equal(stableStringify(value), reference(value));
  }
});

Deno.test("stableStringify escapes long texts exactly as JSON.stringify does", () => {
  const random = seededRandom(5);
  for (let i = 0; i < 300; i++) {
    const text = randomText(random, Math.floor(random() * 5000));
    assert.equal(stableStringify({ text, list: [text] }), reference({ text, list: [text] }));
  }
});
