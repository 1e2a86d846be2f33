/**
 * The client's own CPU per call around the model, piece by piece, without a network or a
 * server (issue 16): the wrapper with a ledger and a run's abort signal at concurrency 32
 * around a model that answers at once, the ledger's reserve and commit, and one line of
 * `usage.jsonl`. Process CPU (`process.cpuUsage`) over several rounds; the minimum is the
 * least disturbed by other work on the machine. Run: `deno run -A bench/call_overhead.ts`.
 *
 * @module
 */
import process from "node:process";
import { UsageLedger } from "../lib/llm/accounting.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { resetProviderLimiters, wrapChatModel } from "../lib/llm/wrap.ts";
import { UsageLog } from "../lib/run/usage.ts";
import { RunWriter } from "../lib/run/writer.ts";
import { mapConcurrent } from "../lib/util/limit.ts";

const instant: ChatModel = {
  provider: "bench",
  model: "instant",
  chat: () =>
    new Promise((resolve) =>
      queueMicrotask(() =>
        resolve({
          text: "answer",
          toolCalls: [],
          finishReason: "stop",
          provider: "bench",
          model: "instant",
          usage: { inputTokens: 20, cachedTokens: 0, outputTokens: 5 },
        })
      )
    ),
};

/** Microseconds of process CPU per unit of `work` (which does `units` units). */
async function cpuPer(units: number, work: () => Promise<void> | void): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / units;
}

const CALLS = 20_000;
const requests = Array.from({ length: CALLS }, (_, i) => ({
  messages: [{ role: "user" as const, content: `question ${i}` }],
}));
const signal = new AbortController().signal;
const dir = await Deno.makeTempDir({ prefix: "rpt-bench-overhead-" });
const figures = new Map<string, number[]>();
const record = (name: string, us: number) => figures.set(name, [...(figures.get(name) ?? []), us]);
try {
  for (let round = 0; round < 5; round++) {
    // Splits of 500, as the loop evaluates them.
    const run = (model: ChatModel) => async () => {
      for (let i = 0; i < CALLS; i += 500) {
        await mapConcurrent(requests.slice(i, i + 500), 32, (q) => model.chat(q, { signal }));
      }
    };
    record("model alone", await cpuPer(CALLS, run(instant)));
    resetProviderLimiters();
    const wrapped = wrapChatModel(instant, { concurrency: 32, ledger: new UsageLedger() });
    record("wrapped (ledger, signal, timeout)", await cpuPer(CALLS, run(wrapped)));
    const ledger = new UsageLedger();
    const usage = { inputTokens: 1500, cachedTokens: 0, outputTokens: 40 };
    record(
      "ledger reserve + commit",
      await cpuPer(CALLS, () => {
        for (let i = 0; i < CALLS; i++) {
          ledger.commit(ledger.reserve("bench", "instant", { inputTokens: 1500 }), usage);
        }
      }),
    );
    await Deno.mkdir(`${dir}/${round}`);
    const log = new UsageLog(new RunWriter(`${dir}/${round}`), [], () => ledger.snapshot());
    const line = { kind: "call" as const, provider: "bench", model: "instant", usage, usd: 0 };
    record(
      "usage.jsonl line (one write each)",
      await cpuPer(CALLS, () => {
        for (let i = 0; i < CALLS; i++) {
          log.append(line);
          log.flush();
        }
      }),
    );
    log.close();
    const lines = (await Deno.readTextFile(`${dir}/${round}/usage.jsonl`)).split("\n").length - 1;
    if (lines !== CALLS) throw new Error(`usage.jsonl has ${lines} lines, not ${CALLS}`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(
  `client CPU per call, ${CALLS} calls, ${navigator.hardwareConcurrency} cores (rounds; min):`,
);
for (const [name, values] of figures) {
  console.log(
    `  ${name.padEnd(36)} ${values.map((v) => v.toFixed(2)).join(" ").padEnd(32)} ` +
      `min ${Math.min(...values).toFixed(2)} us`,
  );
}
