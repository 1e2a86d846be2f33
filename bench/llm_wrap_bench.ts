/**
 * `deno bench -A bench/llm_wrap_bench.ts`: the wrapper's overhead per call around a model
 * that answers at once (compare with "direct"). The full throughput benchmark against the
 * local OpenAI server is `bench/wrap_bench_script.ts`.
 */
import { SqliteResponseCache } from "../lib/llm/cache.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { wrapChatModel } from "../lib/llm/wrap.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";

const instant: ChatModel = {
  provider: "bench",
  model: "instant",
  chat: (request) =>
    Promise.resolve({
      text: `answer to ${request.messages[0]?.content}`,
      toolCalls: [],
      finishReason: "stop",
      provider: "bench",
      model: "instant",
      usage: { inputTokens: 20, cachedTokens: 0, outputTokens: 5 },
    }),
};

const dir = Deno.makeTempDirSync({ prefix: "rpt-wrap-bench-" });
const cache = new SqliteResponseCache({ path: `${dir}/cache.sqlite` });
const plain = wrapChatModel(instant, { concurrency: 50 });
const cached = wrapChatModel(instant, { concurrency: 50, cache });
const hitRequest: ChatRequest = { messages: [{ role: "user", content: "the same question" }] };
await cached.chat(hitRequest);
let missSeq = 0;

Deno.bench("direct call", { group: "wrapper", baseline: true }, async () => {
  await instant.chat(hitRequest);
});
Deno.bench("wrapped, no cache", { group: "wrapper" }, async () => {
  await plain.chat(hitRequest);
});
Deno.bench("wrapped, cache hit", { group: "wrapper" }, async () => {
  await cached.chat(hitRequest);
});
Deno.bench("wrapped, cache miss + store", { group: "wrapper" }, async () => {
  await cached.chat({ messages: [{ role: "user", content: `question ${missSeq++}` }] });
});

globalThis.addEventListener("unload", () => {
  cache.close();
  Deno.removeSync(dir, { recursive: true });
});
