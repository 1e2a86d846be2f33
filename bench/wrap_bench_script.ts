/**
 * Benchmark of the model wrapper (issue 2). Run: `deno run -A bench/wrap_bench_script.ts`.
 *
 * 1. Throughput: 1,000 chat calls through the real OpenAI SDK and the wrapper to the local
 *    OpenAI server (`serveModels`, 100 ms injected latency) at concurrency 50, without a
 *    cache; ideal wall time is ceil(1000 / 50) x 0.1 s = 2.0 s. Then the same 1,000 calls
 *    with a cache twice (misses that fill it, then hits).
 * 2. The wrapper's own CPU time per call, isolated with an in-process model that answers
 *    at once: CPU of wrapped calls minus CPU of the same calls made directly, / calls.
 * 3. The cache file's size on disk for 1,000 responses.
 *
 * Prints figures; asserts nothing (speed is not a test).
 */
import process from "node:process";
import { SqliteResponseCache } from "../lib/llm/cache.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { OpenAIChatModel } from "../lib/llm/openai.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { resetProviderLimiters, wrapChatModel } from "../lib/llm/wrap.ts";
import type { ChatRequest, ChatResponse } from "../lib/llm/schema.ts";
import { mapConcurrent } from "../lib/util/limit.ts";

const CALLS = 1000;
const CONCURRENCY = 50;
const LATENCY_MS = 100;
const IDEAL_S = Math.ceil(CALLS / CONCURRENCY) * LATENCY_MS / 1000;

/** Answers at once with a short text: isolates everything around the model. */
const instantModel: ChatModel = {
  provider: "bench",
  model: "instant",
  chat(request: ChatRequest): Promise<ChatResponse> {
    return Promise.resolve({
      text: `answer to ${request.messages.at(-1)?.content ?? ""}`,
      toolCalls: [],
      finishReason: "stop",
      provider: "bench",
      model: "instant",
      usage: { inputTokens: 20, cachedTokens: 0, outputTokens: 5 },
    });
  },
};

function requests(tag: string): ChatRequest[] {
  return Array.from({ length: CALLS }, (_, i) => ({
    messages: [
      { role: "system", content: "You answer questions briefly." },
      { role: "user", content: `Question ${tag} number ${i}: what is ${i} + ${i}?` },
    ],
    temperature: 0,
    sampleIndex: 0,
  }));
}

async function timed<T>(fn: () => Promise<T>): Promise<{ wallS: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wallS, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const fmt = (x: number, digits = 3) => x.toFixed(digits);
const dir = await Deno.makeTempDir({ prefix: "rpt-wrap-bench-" });
try {
  // 1. Throughput through the real SDK and the local server.
  const server = serveModels({ models: { trivial: instantModel }, latencyMs: LATENCY_MS, port: 0 });
  try {
    const direct = new OpenAIChatModel({
      model: "trivial",
      baseURL: `${server.url}/v1`,
      apiKey: "sk-local-placeholder",
      provider: "openai-compatible",
    });
    // Warm up the SDK and the connection pool so the first batch does not pay for it.
    await mapConcurrent(requests("warm").slice(0, CONCURRENCY), CONCURRENCY, (r) => direct.chat(r));

    const bareSdk = await timed(() =>
      mapConcurrent(requests("direct"), CONCURRENCY, (r) => direct.chat(r))
    );
    console.log(
      `server, SDK without the wrapper (same ${CALLS} calls at ${CONCURRENCY}): ` +
        `wall ${fmt(bareSdk.wallS)} s = ${fmt(bareSdk.wallS / IDEAL_S, 2)}x ideal`,
    );

    resetProviderLimiters();
    const noCache = wrapChatModel(direct, { concurrency: CONCURRENCY, maxRetries: 2 });
    const plain = await timed(() =>
      mapConcurrent(requests("plain"), CALLS, (r) => noCache.chat(r))
    );
    console.log(
      `server, no cache: ${CALLS} calls, concurrency ${CONCURRENCY}, latency ${LATENCY_MS} ms: ` +
        `wall ${fmt(plain.wallS)} s vs ideal ${fmt(IDEAL_S, 1)} s = ${
          fmt(plain.wallS / IDEAL_S, 2)
        }x (target <= 1.15x); process CPU ${fmt(plain.cpuMs, 0)} ms`,
    );

    const cache = new SqliteResponseCache({ path: `${dir}/server-cache.sqlite` });
    const cached = wrapChatModel(direct, { concurrency: CONCURRENCY, maxRetries: 2, cache });
    const fill = await timed(() => mapConcurrent(requests("cached"), CALLS, (r) => cached.chat(r)));
    const hits = await timed(() => mapConcurrent(requests("cached"), CALLS, (r) => cached.chat(r)));
    console.log(
      `server, with cache: misses ${fmt(fill.wallS)} s (${fmt(fill.wallS / IDEAL_S, 2)}x ideal), ` +
        `then hits ${fmt(hits.wallS)} s; stats ${JSON.stringify(cache.stats())}; ` +
        `requests seen by the server: ${server.requests.length}`,
    );
    const withWal = cache.sizeBytes();
    cache.checkpoint();
    console.log(
      `cache on disk after ${cache.count()} responses: ${withWal} bytes incl. write-ahead log, ` +
        `${cache.sizeBytes()} bytes after a checkpoint (${
          fmt(cache.sizeBytes() / cache.count(), 0)
        } bytes each)`,
    );
    cache.close();
  } finally {
    await server.close();
  }

  // 2. The wrapper's own CPU per call, with a model that answers at once.
  const N = 5000;
  const reqs = Array.from(
    { length: N },
    (_, i) => ({ messages: [{ role: "user", content: `q${i}` }] }) as ChatRequest,
  );
  const run = (m: ChatModel) => mapConcurrent(reqs, CONCURRENCY, (r) => m.chat(r));
  await run(instantModel); // warm-up (JIT)
  const bare = await timed(() => run(instantModel));
  resetProviderLimiters();
  const wrappedPlain = wrapChatModel(instantModel, { concurrency: CONCURRENCY });
  await run(wrapChatModel({ ...instantModel, provider: "warm" }, {})); // warm-up
  const plainCpu = await timed(() => run(wrappedPlain));
  const cache = new SqliteResponseCache({ path: `${dir}/overhead-cache.sqlite` });
  const withCache = wrapChatModel(instantModel, { concurrency: CONCURRENCY, cache });
  const miss = await timed(() => run(withCache));
  const hit = await timed(() => run(withCache));
  const perCall = (t: { cpuMs: number }) => fmt((t.cpuMs - bare.cpuMs) / N * 1000, 1);
  console.log(
    `wrapper CPU per call (instant model, ${N} calls, minus the bare model's ${
      fmt(bare.cpuMs / N * 1000, 1)
    } us): no cache ${perCall(plainCpu)} us; cache miss (lookup + store) ${perCall(miss)} us; ` +
      `cache hit ${perCall(hit)} us`,
  );
  cache.checkpoint();
  console.log(
    `cache on disk after ${cache.count()} short responses (checkpointed): ` +
      `${cache.sizeBytes()} bytes (${fmt(cache.sizeBytes() / cache.count(), 0)} bytes each)`,
  );
  cache.close();
} finally {
  await Deno.remove(dir, { recursive: true });
}
