/**
 * Benchmarks of the diagnostic function (prints figures; run with
 * `deno run -A bench/diagnose_bench_script.ts`):
 *
 * 1. `diagnose` on 300 examples through a local OpenAI-compatible server (`serveModels`)
 *    with 50 ms latency at concurrency 32, against the ideal ceil(300/32) x 0.05 s.
 * 2. ClusterFusion on 2,000 diagnoses: LLM calls made (aim <= 2 + ceil(2000/25)), and CPU
 *    time of the whole call with an instant in-process LLM (an upper bound on TF-IDF +
 *    k-means, which dominate it), plus the TF-IDF embedding time alone.
 */
import process from "node:process";
import { clusterFusion, type ClusterRecord } from "../lib/cluster.ts";
import { diagnose } from "../lib/diagnose.ts";
import type { Embedder } from "../lib/llm/model.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { createChatModel } from "../lib/llm/spec.ts";
import { TfidfEmbedder } from "../lib/llm/tfidf.ts";
import { wrapChatModel } from "../lib/llm/wrap.ts";
import type { Task } from "../lib/tasks/task.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";
import type { Example, ParseResult } from "../lib/tasks/schema.ts";
import { seededRandom } from "../lib/util/random.ts";

const task: Task = {
  name: "bench",
  reasoningField: "reasoning",
  seedPrompt: { system: "Answer.", instruction: "Reply in JSON." },
  outputSchema: {
    type: "object",
    properties: {
      reasoning: { type: "string" },
      answer: { type: "string" },
      confidence: { type: "number" },
    },
    required: ["reasoning", "answer", "confidence"],
    additionalProperties: false,
  },
  load: () => Promise.resolve([]),
  render: (p, ex) => [
    { role: "system", content: p.system },
    { role: "user", content: `${p.instruction}\nQuestion: ${ex.question}` },
  ],
  parse(raw): ParseResult {
    try {
      const v = JSON.parse(raw);
      return {
        ok: true,
        value: { reasoning: v.reasoning, answer: v.answer, confidence: v.confidence },
      };
    } catch {
      return { ok: false, error: "not JSON" };
    }
  },
  score: (ex, p) => {
    const full = p.ok && p.value.answer === ex.answer;
    return { score: full ? 1 : 0, full, impact: full ? 0 : 1, details: {} };
  },
  selectionScore: (i) => i.metrics.score,
};

function servedTarget(): ScriptedChatModel {
  return new ScriptedChatModel((request: ChatRequest) => {
    const n = Number(/What is (\d+)/.exec(request.messages.at(-1)?.content ?? "")?.[1]);
    const answer = n % 10 === 0 ? "wrong" : String(n + 1);
    return JSON.stringify({ reasoning: "adding", answer, confidence: 0.9 });
  });
}

/**
 * The model server runs in a child process (this script with `--serve`), as a real server
 * would: in-process, server and client would share one event loop and one core.
 */
async function startServerProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--serve"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server process exited before reporting its URL");
    buffered += value;
  }
  const url = buffered.trim();
  return {
    url,
    stop: async () => {
      await child.stdin.close();
      await reader.cancel();
      await child.status;
    },
  };
}

async function serveUntilStdinCloses(): Promise<void> {
  const server = serveModels({ models: { tiny: servedTarget() }, latencyMs: 50 });
  console.log(server.url);
  for await (const _ of Deno.stdin.readable) {
    // Nothing is sent; the loop ends when the parent closes stdin.
  }
  await server.close();
}

async function benchDiagnose(where: "child process" | "same process"): Promise<void> {
  const examples: Example[] = Array.from({ length: 300 }, (_, i) => ({
    id: `q${i}`,
    question: `What is ${i} + 1?`,
    answer: String(i + 1),
    row: {},
  }));
  let url: string;
  let stop: () => Promise<void>;
  if (where === "child process") {
    ({ url, stop } = await startServerProcess());
  } else {
    const server = serveModels({ models: { tiny: servedTarget() }, latencyMs: 50 });
    url = server.url;
    stop = () => server.close();
  }
  try {
    const raw = await createChatModel(`openai-compatible:tiny@${url}/v1`, { env: {} });
    const target = wrapChatModel(raw, { concurrency: 32 });
    const ideal = Math.ceil(300 / 32) * 0.05;
    const times: number[] = [];
    for (let run = 0; run < 4; run++) {
      const t0 = performance.now();
      const record = await diagnose(task.seedPrompt, "dev", {
        task,
        target,
        examples,
        concurrency: 32,
      });
      times.push((performance.now() - t0) / 1000);
      if (record.report.counts.errors !== 0 || record.traces.length !== 300) {
        throw new Error(`unexpected errors: ${JSON.stringify(record.report.counts)}`);
      }
      if (Math.abs(record.report.metrics.score - 0.9) > 1e-12) throw new Error("wrong score");
    }
    const warm = times.slice(1).sort((a, b) => a - b);
    const median = warm[Math.floor(warm.length / 2)] as number;
    console.log(
      `diagnose 300 examples, server in ${where}, 50 ms latency, concurrency 32: ` +
        `first ${times[0]?.toFixed(3)} s, warm median ${median.toFixed(3)} s ` +
        `(runs ${times.map((t) => t.toFixed(3)).join(", ")}); ideal ${ideal.toFixed(3)} s; ` +
        `ratio ${(median / ideal).toFixed(3)}x (first run ${
          ((times[0] as number) / ideal).toFixed(3)
        }x)`,
    );
  } finally {
    await stop();
  }
}

const BEHAVIOURS = [
  ["wrong unit conversion", "the answer is expressed in an unexpected measurement unit"],
  ["scale word ignored", "a magnitude word such as thousand or million was dropped"],
  ["rounding precision error", "the result was rounded to the wrong number of places"],
  ["bridge entity confusion", "the intermediate entity of a multi hop chain was misidentified"],
  ["comparison direction reversed", "the larger or earlier item was picked instead of the other"],
  ["overconfident wrong answer", "stated certainty is high although the prediction is wrong"],
  ["answer span too long", "extra words surround the expected short answer span"],
  ["yes no polarity flipped", "a polar question was answered with the opposite polarity"],
  ["arithmetic slip in steps", "an intermediate calculation step contains a computation slip"],
  ["answer format violated", "the requested final answer format was not followed"],
  ["missing context evidence", "the reasoning relies on facts absent from the passages"],
  ["percentage fraction mixup", "a percentage was given as a fraction or the reverse"],
];
const FILLERS = [
  "clearly",
  "again",
  "in the final step",
  "when summarising",
  "despite hints",
  "under time pressure",
  "for this item",
  "while reasoning",
  "at the end",
  "in the output",
  "after checking",
  "without verification",
];

function diagnoses(n: number): ClusterRecord[] {
  const random = seededRandom(11);
  return Array.from({ length: n }, (_, i) => {
    const [label, definition] = BEHAVIOURS[i % BEHAVIOURS.length] as [string, string];
    const a = FILLERS[Math.floor(random() * FILLERS.length)];
    const b = FILLERS[Math.floor(random() * FILLERS.length)];
    return {
      text: `${label}: ${definition} ${a} ${b}`,
      example: `example ${i} shows ${label}`,
      impact: random(),
    };
  });
}

async function benchCluster(): Promise<void> {
  const records = diagnoses(2000);
  let llmCalls = 0;
  const model = new ScriptedChatModel((request: ChatRequest) => {
    llmCalls++;
    const text = request.messages.at(-1)?.content ?? "";
    if (request.outputSchema?.name === "topic_extraction") {
      return {
        parsed: {
          topics: BEHAVIOURS.slice(0, 10).map(([label, definition]) => ({
            name: label,
            description: definition,
            examples: [],
          })),
        },
      };
    }
    const assignments = [...text.matchAll(/^\[(\d+)\] (.*)$/gm)].map((m) => ({
      id: Number(m[1]),
      topic: BEHAVIOURS.find(([label]) => (m[2] ?? "").startsWith(label as string))?.[0] ?? "?",
    }));
    return { parsed: { assignments } };
  });
  const tfidf = new TfidfEmbedder();
  let embedMs = 0;
  const timed: Embedder = {
    provider: tfidf.provider,
    model: tfidf.model,
    async embed(texts, options) {
      const t0 = performance.now();
      const out = await tfidf.embed(texts, options);
      embedMs += performance.now() - t0;
      return out;
    },
  };
  for (let run = 0; run < 2; run++) {
    llmCalls = 0;
    embedMs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await clusterFusion(records, {
      embedder: timed,
      model,
      k: 10,
      seed: 1,
      concurrency: 8,
    });
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `ClusterFusion 2000 diagnoses (run ${run + 1}): LLM calls ${llmCalls} ` +
        `(extraction ${result.calls.extraction}, assignment ${result.calls.assignment}; aim <= ${
          2 + Math.ceil(2000 / 25)
        }; reference 2001), fallbacks ${result.fallbacks.count} (the 2 extracted-away ` +
        `behaviours), groups ${result.groups}, sample ${result.sample.length}; ` +
        `CPU ${((cpu.user + cpu.system) / 1e6).toFixed(3)} s, wall ${
          (wall / 1000).toFixed(3)
        } s, ` +
        `of which TF-IDF embedding ${(embedMs / 1000).toFixed(3)} s`,
    );
  }
}

if (Deno.args.includes("--serve")) {
  await serveUntilStdinCloses();
} else {
  await benchDiagnose("child process");
  await benchDiagnose("same process");
  await benchCluster();
}
