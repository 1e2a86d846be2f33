/**
 * Client CPU per call, layer by layer (issue 16, section 1), so that a change to one layer
 * can be measured without the noise of a whole run. Run with `deno task bench:cpu` (or
 * `deno run -A bench/client_cpu.ts [calls] [server latency ms]`); needs the paper's data (`RPT_DATA_DIR`,
 * default `/work/shared/data`) for HotPotQA-sized prompts.
 *
 * A server in a child process answers every chat call at once with a fixed valid answer
 * (`serveModels` with a scripted model), so the figures are the client's alone. For each
 * layer, the process CPU (`process.cpuUsage`) of N calls at concurrency 32 / N, over
 * several rounds (the minimum is the least disturbed by other work on the machine):
 *
 * 1. `fetch` of the same JSON body, plain headers;
 * 2. the OpenAI SDK (`chat.completions.create`);
 * 3. `OpenAIChatModel.chat` (request building, reply parsing);
 * 4. the wrapper without a cache (limiter, timeout, retries, accounting);
 * 5. the wrapper with the SQLite cache, all misses (key, lookup, store);
 * 6. `evaluatePrompt` of HotPotQA's train split through 5 (render, parse, score);
 * 7. the same evaluation again, all cache hits.
 *
 * @module
 */
import process from "node:process";
import OpenAI from "openai";
import { evaluatePrompt } from "../lib/diagnose.ts";
import { SqliteResponseCache } from "../lib/llm/cache.ts";
import { UsageLedger } from "../lib/llm/accounting.ts";
import { OpenAIChatModel } from "../lib/llm/openai.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { resetProviderLimiters, wrapChatModel } from "../lib/llm/wrap.ts";
import { getTask } from "../lib/tasks/registry.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";
import type { Example } from "../lib/tasks/schema.ts";
import { mapConcurrent } from "../lib/util/limit.ts";

const ANSWER = JSON.stringify({
  justification: "The second paragraph names the person the question describes.",
  answer: "the answer",
  confidence: 0.8,
});

async function serveUntilStdinCloses(latencyMs: number): Promise<void> {
  const server = serveModels({
    models: { instant: new ScriptedChatModel(() => ANSWER) },
    latencyMs,
  });
  console.log(server.url);
  for await (const _ of Deno.stdin.readable) {
    // Runs until the parent closes stdin.
  }
  await server.close();
}

/** Starts this file's fixed-answer server in a child process; `stop` ends it. */
export async function startServer(
  latencyMs: number,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--serve", String(latencyMs)],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited before printing its URL");
    line += value;
  }
  return {
    url: line.trim(),
    stop: async () => {
      await child.stdin.close();
      await reader.cancel();
      await child.status;
    },
  };
}

async function cpuPerCall<T>(
  items: readonly T[],
  fn: (item: T) => Promise<unknown>,
): Promise<number> {
  const before = process.cpuUsage();
  await mapConcurrent(items, 32, fn);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / items.length;
}

async function main(): Promise<void> {
  const calls = Number(Deno.args[0] ?? 600);
  const latencyMs = Number(Deno.args[1] ?? 0);
  const dataDir = Deno.env.get("RPT_DATA_DIR") ?? "/work/shared/data";
  const task = await getTask("hotpotqa");
  const train = await task.load("train", { dataDir });
  // Distinct questions, so that no call repeats another (a repeat would be a cache hit).
  const examples: Example[] = Array.from({ length: calls }, (_, i) => {
    const e = train[i % train.length] as Example;
    return { ...e, id: `${e.id}-${i}`, question: `${e.question} [${i}]` };
  });
  const server = await startServer(latencyMs);
  const baseURL = `${server.url}/v1`;
  const outputSchema = { name: "answer", schema: task.outputSchema };
  let round = 0;
  // A distinct request per call and round, so that nothing is served from a cache by accident.
  const requests = (): ChatRequest[] => {
    round++;
    return examples.map((e) => ({
      messages: task.render(task.seedPrompt, { ...e, question: `${e.question} (${round})` }),
      outputSchema,
      temperature: 0,
    }));
  };
  const sdk = new OpenAI({ apiKey: "x", baseURL, maxRetries: 0, timeout: 86_400_000 });
  const model = new OpenAIChatModel({
    model: "instant",
    apiKey: "x",
    baseURL,
    provider: "openai-compatible",
  });
  const dir = await Deno.makeTempDir({ prefix: "rpt-bench-cpu-" });
  const figures = new Map<string, number[]>();
  const record = (name: string, value: number) => {
    figures.set(name, [...(figures.get(name) ?? []), value]);
  };
  try {
    for (let r = 0; r < 4; r++) {
      const plain = requests().map((q) => ({
        model: "instant",
        messages: q.messages,
        response_format: { type: "json_schema", json_schema: { ...outputSchema, strict: true } },
        temperature: 0,
      }));
      record(
        "1 fetch",
        await cpuPerCall(plain, async (body) => {
          const res = await fetch(`${baseURL}/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: "Bearer x" },
            body: JSON.stringify(body),
          });
          return await res.json();
        }),
      );
      record(
        "2 OpenAI SDK",
        await cpuPerCall(
          requests().map((q) => model.toParams(q)),
          (params) => sdk.chat.completions.create(params),
        ),
      );
      record("3 OpenAIChatModel", await cpuPerCall(requests(), (q) => model.chat(q)));
      resetProviderLimiters();
      const ledger = new UsageLedger();
      const bare = wrapChatModel(model, { concurrency: 32, ledger });
      record("4 wrapper, no cache", await cpuPerCall(requests(), (q) => bare.chat(q)));
      const cache = new SqliteResponseCache({ path: `${dir}/cache-${r}.sqlite` });
      const cached = wrapChatModel(model, { concurrency: 32, ledger, cache });
      record("5 wrapper + cache, misses", await cpuPerCall(requests(), (q) => cached.chat(q)));
      const prompt = { ...task.seedPrompt, instruction: `${task.seedPrompt.instruction} ${r}` };
      const evaluate = async () => {
        const before = process.cpuUsage();
        await evaluatePrompt(prompt, examples, { task, target: cached, concurrency: 32 });
        const used = process.cpuUsage(before);
        return (used.user + used.system) / 1000 / examples.length;
      };
      record("6 evaluatePrompt, misses", await evaluate());
      record("7 evaluatePrompt, hits", await evaluate());
      cache.close();
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
  console.log(
    `client CPU per call, ${calls} HotPotQA-sized calls at concurrency 32, server latency ` +
      `${latencyMs} ms, ` +
      `${navigator.hardwareConcurrency} cores (rounds; min):`,
  );
  for (const [name, values] of figures) {
    console.log(
      `  ${name.padEnd(28)} ${values.map((v) => (v * 1000).toFixed(0)).join(" ").padEnd(20)} ` +
        `min ${(Math.min(...values) * 1000).toFixed(0)} us`,
    );
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--serve") await serveUntilStdinCloses(Number(Deno.args[1] ?? 0));
  else await main();
}
