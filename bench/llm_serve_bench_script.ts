/**
 * Throughput of the local model server driven by the real OpenAI SDK, without the wrapper:
 * 1,000 chat calls at concurrency 50 with 100 ms injected latency. The ideal wall time is
 * ceil(1000 / 50) x 0.1 s = 2.0 s; the server must not be what stands between the wrapper
 * benchmark and that ideal.
 *
 * Run: deno run -A bench/llm_serve_bench_script.ts [calls] [concurrency] [latencyMs]
 */
import { OpenAIChatModel } from "../lib/llm/openai.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { mapConcurrent } from "../lib/util/limit.ts";

const [calls = 1000, concurrency = 50, latencyMs = 100] = Deno.args.map(Number);
const server = serveModels({ models: { m: new ScriptedChatModel(() => "ok") }, latencyMs });
const model = new OpenAIChatModel({ model: "m", apiKey: "x", baseURL: `${server.url}/v1` });
try {
  const ids = Array.from({ length: calls }, (_, i) => i);
  const start = performance.now();
  await mapConcurrent(
    ids,
    concurrency,
    (i) => model.chat({ messages: [{ role: "user", content: `question ${i}` }] }),
  );
  const wall = (performance.now() - start) / 1000;
  const ideal = Math.ceil(calls / concurrency) * latencyMs / 1000;
  console.log(
    `serve+openai SDK: ${calls} calls, concurrency ${concurrency}, latency ${latencyMs} ms: ` +
      `wall ${wall.toFixed(2)} s vs ideal ${ideal.toFixed(2)} s (${(wall / ideal).toFixed(3)}x)`,
  );
} finally {
  await server.close();
}
