/**
 * `deno bench -A bench/cache_bench.ts`: what the response cache costs one HotPotQA-sized
 * target call (issue 16): the key (stable JSON and sha256 of a request with a ~6 KB
 * rendered context and the task's output schema), a lookup that misses, and a store
 * written in a transaction of 4 rows, as responses arriving together are. The requests are
 * generated (no paper data needed), with the few non-Latin-1 characters real contexts have.
 *
 * @module
 */
import { cacheKey, type CacheKeyParts, SqliteResponseCache } from "../lib/llm/cache.ts";
import type { ChatResponse } from "../lib/llm/schema.ts";
import { stableStringify } from "../lib/util/json.ts";
import { targetOutputSchema } from "../lib/tasks/common.ts";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** The task's own target output schema, as every target call sends it. */
const schema = () => targetOutputSchema("reasoning");
const frozenSchema = deepFreeze(schema());
const plainSchema = schema();

let seq = 0;
/** A fresh request each time (a rendered prompt is a new string every call). */
function request(outputSchema: object): CacheKeyParts {
  const n = seq++;
  const paragraphs = Array.from(
    { length: 10 },
    (_, i) =>
      `Title ${n}-${i}\n${
        `Sentence ${i} about the "subject" of paragraph ${i}, born 1901 – died 1980. `.repeat(8)
      }`,
  );
  return {
    kind: "chat",
    provider: "openai-compatible",
    model: "target",
    baseURL: "http://127.0.0.1:8080/v1",
    request: {
      messages: [
        { role: "system", content: "You answer questions about the context." },
        { role: "user", content: `Context:\n${paragraphs.join("\n\n")}\n\nQuestion: who ${n}?` },
      ],
      outputSchema: { name: "target_output", schema: outputSchema },
      temperature: 0,
    },
  };
}

Deno.bench("stableStringify, plain schema", { group: "key" }, (b) => {
  const parts = request(plainSchema);
  b.start();
  stableStringify(parts);
  b.end();
});
Deno.bench("cacheKey, plain schema", { group: "key", baseline: true }, (b) => {
  const parts = request(plainSchema);
  b.start();
  cacheKey(parts);
  b.end();
});
Deno.bench("cacheKey, deep-frozen schema", { group: "key" }, (b) => {
  const parts = request(frozenSchema);
  b.start();
  cacheKey(parts);
  b.end();
});

const dir = Deno.makeTempDirSync({ prefix: "rpt-cache-bench-" });
const cache = new SqliteResponseCache({ path: `${dir}/cache.sqlite` });
const answer = JSON.stringify({
  reasoning: "The second paragraph says so. ".repeat(4),
  answer: "x",
});
const response = (i: number): ChatResponse => ({
  text: answer,
  parsed: JSON.parse(answer),
  toolCalls: [],
  finishReason: "stop",
  provider: "openai-compatible",
  model: "target",
  usage: { inputTokens: 1500 + i, cachedTokens: 0, outputTokens: 60 },
});
const small = (i: number): CacheKeyParts => ({
  kind: "chat",
  provider: "openai-compatible",
  model: "target",
  request: { messages: [{ role: "user", content: `q${i}` }] },
});

const missing = Array.from({ length: 4096 }, (_, i) => cacheKey(small(-1 - i)));
let probe = 0;
Deno.bench("lookup that misses", { group: "store" }, () => {
  cache.getChat(missing[probe++ % missing.length] as string);
});
Deno.bench("4 stores, one transaction (per 4 rows)", { group: "store" }, (b) => {
  const rows = Array.from({ length: 4 }, () => {
    const parts = small(seq++);
    return { key: cacheKey(parts), parts, response: response(seq) };
  });
  b.start();
  for (const row of rows) cache.putChat(row.key, row.parts, row.response);
  cache.flush();
  b.end();
});

globalThis.addEventListener("unload", () => {
  cache.close();
  Deno.removeSync(dir, { recursive: true });
});
