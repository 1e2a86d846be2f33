/**
 * The dry run: what a run is expected to cost at most, before anything is spent (`rpt
 * optimize --dry-run`). It needs no API key: nothing is called, only specs are read.
 *
 * @module
 */
import { UsageLedger } from "../llm/accounting.ts";
import { defaultMemoryBudget } from "../llm/context_windows.ts";
import { isSimulatedModel, parseModelSpec } from "../llm/spec.ts";
import { promptTokens } from "../prompt.ts";
import type { RunConfig } from "../run/config.ts";
import type { Task } from "../tasks/task.ts";
import type { Example } from "../tasks/schema.ts";
import { estimateTokens } from "../util/tokens.ts";
import type { RunData } from "./data.ts";

/** One line of a dry-run estimate. */
export interface EstimateLine {
  role: "target" | "critic" | "cluster" | "embedder" | "optimizer";
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  priced: boolean;
  /** Batch mode: the line goes as batch jobs and `usd` is at the batch price. */
  batch: boolean;
  /** Dollars at the interactive (list) price. */
  interactiveUsd: number;
}

/** What a run is expected to cost at most (all T iterations, nothing cached). */
export interface RunEstimate {
  lines: EstimateLine[];
  calls: number;
  tokens: number;
  usd: number;
  /** Dollars with every call interactive: more than `usd` by batch mode's saving. */
  interactiveUsd: number;
  /** Models without a known price (their cost is counted as 0). */
  unpriced: string[];
  assumptions: string[];
}

/** Assumed sizes, in tokens unless named otherwise. */
const ASSUME = {
  failureRate: 0.5,
  modesPerFailure: 1.5,
  targetOut: 250,
  criticIn: 600,
  criticOut: 300,
  recordTokens: 40,
  topicTokens: { sentence: 60, comprehensive: 150 },
  exampleTokens: 40,
  retainedTopics: 5,
  controller: 1_000,
  toolCallOut: 500,
  decisionOut: 3_000,
  assignBatch: 25,
};

/** Steps 1..T+1 that score test (step 1 and every `testEvery`), plus the selected prompt. */
function testEvaluations(config: RunConfig): number {
  let n = 1;
  for (let s = 1; s <= config.iterations + 1; s++) {
    if (s === 1 || s % config.testEvery === 0) n++;
  }
  return n;
}

/** Memory tokens the optimizer reads at iteration t (1-based), within the budget. */
function memoryTokensAt(config: RunConfig, t: number, report: number, budget: number): number {
  const reports = {
    all_reports: t,
    history_summary: t - 1 + 1,
    last_k: Math.min(config.memoryK, t),
    last_report: 1,
    none: 0,
  }[config.memory];
  return Math.min(budget, reports * report);
}

/**
 * Estimates the calls, tokens and dollars of a run before anything is spent: target calls
 * on train (T iterations), dev (T + 1 prompts) and test (scheduled steps and the final
 * score); critic calls for half the train examples failing; ClusterFusion's extraction and
 * assignment calls and embeddings; two optimizer calls per iteration, the decision with the
 * memory the mode shows (growing with the run, within the budget). Token sizes come from
 * the rendered seed prompt (about 4 characters a token).
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
  const trainIn = avgTokens(data.train);
  const tests = testEvaluations(config);
  const targetCalls = T * data.train.length + (T + 1) * data.dev.length + tests * data.test.length;
  const targetIn = T * data.train.length * trainIn + (T + 1) * data.dev.length *
      avgTokens(data.dev) +
    tests * data.test.length * avgTokens(data.test);

  const failures = Math.ceil(data.train.length * ASSUME.failureRate);
  const records = Math.ceil(failures * ASSUME.modesPerFailure);
  const topic = ASSUME.topicTokens[config.topicDescriptions] + 8 * ASSUME.exampleTokens;
  const sample = Math.min(config.clusterSample, records);
  const batches = Math.ceil(records / ASSUME.assignBatch);
  const clusterIn = T *
    (600 + sample * 2 * ASSUME.recordTokens +
      batches *
        (config.k * ASSUME.topicTokens.sentence + ASSUME.assignBatch * ASSUME.recordTokens));
  const clusterOut = T * (config.k * topic + batches * ASSUME.assignBatch * 15);

  const prompt = promptTokens(task.seedPrompt);
  const report = prompt + 250 + ASSUME.retainedTopics * topic;
  const budget = config.memoryTokenBudget ?? defaultMemoryBudget(config.optimizer);
  let optimizerIn = 0;
  for (let t = 1; t <= T; t++) {
    const base = ASSUME.controller + prompt;
    optimizerIn += base + (base + report + memoryTokensAt(config, t, report, budget));
  }

  const ledger = new UsageLedger(config.prices ? { prices: config.prices } : {});
  const line = (
    role: EstimateLine["role"],
    spec: string,
    calls: number,
    inputTokens: number,
    outputTokens: number,
  ): EstimateLine => {
    const parsed = parseModelSpec(spec);
    // Batch mode sends the target's passes and the critiques as batch jobs (not the simulator's).
    const batch = config.batch === true && (role === "target" || role === "critic") &&
      !isSimulatedModel(spec);
    const plan = {
      provider: parsed.provider,
      model: parsed.model,
      calls: 1,
      inputTokens,
      outputTokens,
    };
    const e = ledger.estimate({ ...plan, batch });
    const interactiveUsd = batch ? ledger.estimate(plan).usd : e.usd;
    return {
      role,
      model: spec,
      calls,
      inputTokens,
      outputTokens,
      usd: e.usd,
      priced: e.priced,
      batch,
      interactiveUsd,
    };
  };
  const critic = config.critic ?? config.optimizer;
  const lines = [
    line("target", config.target, targetCalls, targetIn, targetCalls * ASSUME.targetOut),
    line(
      "critic",
      critic,
      T * failures,
      T * failures * (trainIn + ASSUME.criticIn),
      T * failures * ASSUME.criticOut,
    ),
    line("cluster", config.clusterModel ?? critic, T * (1 + batches), clusterIn, clusterOut),
    line("embedder", config.embedder, T, T * records * ASSUME.recordTokens, 0),
    line(
      "optimizer",
      config.optimizer,
      2 * T,
      optimizerIn,
      T * (ASSUME.toolCallOut + ASSUME.decisionOut),
    ),
  ];
  return {
    lines,
    calls: lines.reduce((n, l) => n + l.calls, 0),
    tokens: lines.reduce((n, l) => n + l.inputTokens + l.outputTokens, 0),
    usd: lines.reduce((n, l) => n + l.usd, 0),
    interactiveUsd: lines.reduce((n, l) => n + l.interactiveUsd, 0),
    unpriced: lines.filter((l) => !l.priced).map((l) => l.model),
    assumptions: [
      `${T} iterations, none stopping early, no cache hits, no retries`,
      `${ASSUME.failureRate * 100}% of the train examples fail and are critiqued ` +
      `(${ASSUME.modesPerFailure} modes each)`,
      `${ASSUME.targetOut} output tokens per target answer, ${ASSUME.decisionOut} per decision ` +
      `(reasoning included)`,
      `memory as the ${config.memory} mode shows it, within ${budget} tokens`,
      ...(lines.some((l) => l.batch)
        ? ["batch: target and critic calls at batch prices, optimizer and clustering interactive"]
        : []),
    ],
  };
}
