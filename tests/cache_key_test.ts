/**
 * Cache keys must stay byte-identical across versions: users' caches hold them. These tests
 * pin three keys as the implementation before the one-pass hashing computed them, and
 * compare {@linkcode cacheKey} with the straightforward definition (sha256 of JSON.stringify
 * of a key-sorted deep copy) on generated requests, frozen shared parts included.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cacheKey, type CacheKeyParts } from "../lib/llm/cache.ts";
import { redactURL } from "../lib/util/redact.ts";
import { seededRandom } from "../lib/util/random.ts";
import { deepFreeze, randomText, reference } from "./support/stable_reference.ts";

function referenceKey(parts: CacheKeyParts): string {
  const baseURL = parts.baseURL === undefined ? undefined : redactURL(parts.baseURL);
  return createHash("sha256").update(reference({ ...parts, baseURL })).digest("hex");
}

const context = Array.from(
  { length: 40 },
  (_, i) => `Title ${i} – "quoted" \\ path\n\tline ${i} café 😀 ${"lorem ipsum ".repeat(i % 7)}`,
).join("\n\n");

const TARGET: CacheKeyParts = {
  kind: "chat",
  provider: "openai-compatible",
  model: "target-model",
  baseURL: "http://user:secret@127.0.0.1:8080/v1?key=abc",
  request: {
    messages: [
      { role: "system", content: "Answer the question." },
      { role: "user", content: `Context:\n${context}\n\nQuestion: Who?` },
    ],
    outputSchema: {
      name: "target_output",
      schema: {
        type: "object",
        properties: {
          reasoning: { type: "string", description: "step-by-step reasoning" },
          answer: { type: "string" },
          confidence: { type: "number", minimum: 0, maximum: 1 },
        },
        required: ["reasoning", "answer", "confidence"],
        additionalProperties: false,
      },
    },
    temperature: 0,
    sampleIndex: 2,
  },
};

const TOOLS: CacheKeyParts = {
  kind: "chat",
  provider: "gemini",
  model: "gemini-3.1-pro",
  request: {
    messages: [{ role: "user", content: "hi" }],
    tools: [{
      name: "t",
      description: "d",
      parameters: { b: 1, a: [1, 2, { "10": 1, "9": 2, z: null }] },
    }],
    toolChoice: "required",
    reasoningEffort: "low",
  },
};

const EMBED: CacheKeyParts = {
  kind: "embed",
  provider: "openai",
  model: "text-embedding-3-small",
  request: { texts: ["a", "b\u2028c", "é"] },
};

Deno.test("cacheKey gives the keys existing caches hold", () => {
  // Computed by the implementation at a1660f0 (stableStringify, then one sha256 update).
  const pinned: [CacheKeyParts, string][] = [
    [TARGET, "c729b694b30022b5c19d7c4ae3bc273caebce90d659c1ee21dbac0e1c0880137"],
    [TOOLS, "69e1ba303b983171d1df25f9647b50e6fe825d27389a01341faf51efc65e8d0f"],
    [EMBED, "270942536993f3fc9849112a33809feb90817a71d0952a94a1404ef67a8a3ab6"],
  ];
  for (const [parts, key] of pinned) {
    assert.equal(cacheKey(parts), key);
    assert.equal(referenceKey(parts), key);
  }
  // The same request with its schema deep-frozen (and so remembered) has the same key, the
  // first time and every time after.
  const request = TARGET.request as Record<string, unknown>;
  const outputSchema = request.outputSchema as { name: string; schema: object };
  const frozen = deepFreeze(structuredClone(outputSchema.schema));
  for (let i = 0; i < 3; i++) {
    const parts = {
      ...TARGET,
      request: { ...request, outputSchema: { ...outputSchema, schema: frozen } },
    };
    assert.equal(cacheKey(parts), pinned[0]?.[1]);
  }
});

Deno.test("cacheKey equals sha256 of the key-sorted JSON on 2,000 generated requests", () => {
  const random = seededRandom(16);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // Shared, deep-frozen parts, as a task's output schema is: remembered after first use.
  const schemas = Array.from({ length: 4 }, (_, i) =>
    deepFreeze({
      type: "object",
      properties: { [randomText(random, 8)]: { type: "string" }, answer: { type: "string" } },
      required: ["answer"],
      [`x${i}`]: [i, { "2": "b", "1": "a", z: i }],
    }));
  for (let i = 0; i < 2000; i++) {
    // Long contents (past the length the hash takes as its own piece) and short ones.
    const long = random() < 0.5;
    const content = randomText(random, long ? 400 + Math.floor(random() * 3000) : 20);
    const request: Record<string, unknown> = {
      messages: [
        { role: "system", content: randomText(random, 30) },
        { content, role: "user" },
      ],
      temperature: pick([0, 0.7, undefined, 1]),
      sampleIndex: pick([undefined, 0, 3]),
    };
    if (random() < 0.7) request.outputSchema = { name: "out", schema: pick(schemas) };
    const parts: CacheKeyParts = {
      kind: pick(["chat", "embed"] as const),
      provider: pick(["openai", "gemini", "sim"]),
      model: randomText(random, 6),
      baseURL: pick([undefined, "http://127.0.0.1:1/v1", "https://k:s@h.example/v1?t=1"]),
      request,
    };
    assert.equal(cacheKey(parts), referenceKey(parts));
  }
});
