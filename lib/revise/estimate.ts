/**
 * The dry run: what a run is expected to cost at most, before anything is spent (`rpt
 * optimize --dry-run`).
 *
 * @module
 */
import { UsageLedger } from "../llm/accounting.ts";
import { parseModelSpec } from "../llm/spec.ts";
import type { RunConfig } from "../run/config.ts";
import type { Task } from "../tasks/task.ts";
import type { Example } from "../tasks/schema.ts";
import { estimateTokens } from "../util/tokens.ts";
import type { RunData } from "./data.ts";

/** One line of a dry-run estimate. */
export interface EstimateLine {
  role: "target" | "critic" | "optimizer";
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  priced: boolean;
}

/** What a run is expected to cost at most (all T iterations, nothing cached). */
export interface RunEstimate {
  lines: EstimateLine[];
  calls: number;
  tokens: number;
  usd: number;
  /** Models without a known price (their cost is counted as 0). */
  unpriced: string[];
  assumptions: string[];
}

/**
 * Estimates the calls, tokens and dollars of a run before anything is spent: target calls
 * on train (T iterations), dev (T + 1 prompts) and test (scheduled steps and the final
 * score); critic calls for half the train examples failing; clustering calls; two
 * optimizer calls per iteration with a report and a full memory payload. Token sizes
 * come from the rendered seed prompt (about 4 characters a token).
 */
export function estimateRun(config: RunConfig, task: Task, data: RunData): RunEstimate {
  const T = config.iterations;
  const avgTokens = (examples: Example[]) =>
    examples.length === 0 ? 0 : Math.ceil(
      examples.reduce(
        (n, e) =>
          n + task.render(task.seedPrompt, e).reduce((m, x) => m + estimateTokens(x.content), 0),
        0,
      ) / examples.length,
    );
  const outTarget = 250;
  const testSteps = 1 + Math.floor((T + 1) / config.testEvery) + 1;
  const targetCalls = T * data.train.length + (T + 1) * data.dev.length +
    testSteps * data.test.length;
  const targetIn = T * data.train.length * avgTokens(data.train) +
    (T + 1) * data.dev.length * avgTokens(data.dev) +
    testSteps * data.test.length * avgTokens(data.test);
  const failures = Math.ceil(data.train.length * 0.5);
  const clusterCalls = 1 + Math.ceil(failures * 1.5 / 25);
  const criticCalls = T * (failures + clusterCalls);
  const criticIn = T * (failures * (avgTokens(data.train) + 600) + clusterCalls * 3000);
  const optimizerCalls = 2 * T;
  const optimizerIn = T * (2 * 1500 + 2 * (2500 + config.memoryTokenBudget / 2));
  const ledger = new UsageLedger();
  const line = (
    role: EstimateLine["role"],
    spec: string,
    calls: number,
    inputTokens: number,
    outputTokens: number,
  ): EstimateLine => {
    const parsed = parseModelSpec(spec);
    const e = ledger.estimate({
      provider: parsed.provider,
      model: parsed.model,
      calls: 1,
      inputTokens,
      outputTokens,
    });
    return { role, model: spec, calls, inputTokens, outputTokens, usd: e.usd, priced: e.priced };
  };
  const lines = [
    line("target", config.target, targetCalls, targetIn, targetCalls * outTarget),
    line(
      "critic",
      config.critic ?? config.optimizer,
      criticCalls,
      criticIn,
      T * (failures * 250 + clusterCalls * 800),
    ),
    line("optimizer", config.optimizer, optimizerCalls, optimizerIn, T * 1200),
  ];
  return {
    lines,
    calls: lines.reduce((n, l) => n + l.calls, 0),
    tokens: lines.reduce((n, l) => n + l.inputTokens + l.outputTokens, 0),
    usd: lines.reduce((n, l) => n + l.usd, 0),
    unpriced: lines.filter((l) => !l.priced).map((l) => l.model),
    assumptions: [
      `${T} iterations, none stopping early, no cache hits`,
      "half of the train examples fail and are critiqued",
      `${outTarget} output tokens per target answer`,
      `optimizer context up to the memory budget (${config.memoryTokenBudget} tokens)`,
    ],
  };
}
