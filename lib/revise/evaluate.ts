/**
 * The target's runs over a split, the two kinds a session makes: {@linkcode evaluateSplit}
 * scores a prompt on dev or test (metrics and per-example outcomes, no critique), and
 * {@linkcode diagnoseTrain} is the diagnostic call on the optimization split. Every
 * full-split evaluation of the loop goes through these two functions.
 *
 * @module
 */
import { diagnose, type DiagnosticRecord, evaluatePrompt } from "../diagnose.ts";
import { CALIBRATION_TARGET_KEY } from "../metrics.ts";
import type { Evaluation, ScoredItem } from "../run/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { Split } from "../tasks/schema.ts";
import type { TraceItem } from "../trace.ts";
import { progress, type RunContext } from "./context.ts";

/** The per-example outcomes kept for a dev or test evaluation (traces without messages). */
export function scoredItems(traces: readonly TraceItem[]): ScoredItem[] {
  return traces.map((t) => ({
    exampleId: t.exampleId,
    ...(t.subtask !== undefined ? { subtask: t.subtask } : {}),
    answer: t.parsed?.answer ?? null,
    confidence: t.parsed?.confidence ?? null,
    score: t.score,
    full: t.full,
    ...(typeof t.details[CALIBRATION_TARGET_KEY] === "number"
      ? { calibrationTarget: t.details[CALIBRATION_TARGET_KEY] as number }
      : {}),
    ...(t.formatError !== undefined ? { formatError: t.formatError } : {}),
    ...(t.error !== undefined ? { error: t.error } : {}),
  }));
}

/** Scores `prompt` on a split for `step` (train only for `rpt evaluate`: the loop diagnoses it). */
export async function evaluateSplit(
  ctx: RunContext,
  prompt: PromptProgram,
  split: Split,
  step: number,
): Promise<Evaluation> {
  const { traces, metrics } = await evaluatePrompt(prompt, ctx.data[split], {
    task: ctx.task,
    target: ctx.models.target,
    concurrency: ctx.config.concurrency,
    signal: ctx.signal,
    onProgress: (p) => progress(ctx, step, split === "train" ? "target" : split, p.done, p.total),
  });
  return { split, step, metrics, items: scoredItems(traces) };
}

/** The diagnostic call on the optimization split: traces, critiques, clustering, report. */
export function diagnoseTrain(
  ctx: RunContext,
  prompt: PromptProgram,
  step: number,
): Promise<DiagnosticRecord> {
  const { config, models } = ctx;
  return diagnose(prompt, "train", {
    task: ctx.task,
    target: models.target,
    critic: models.critic,
    embedder: models.embedder,
    examples: ctx.data.train,
    iteration: step,
    clusterModel: models.cluster ?? models.critic,
    k: config.k,
    clusterSample: config.clusterSample,
    topicDescriptions: config.topicDescriptions,
    criticConfidence: config.criticConfidence,
    seed: config.seed,
    concurrency: config.concurrency,
    showPrevalence: config.showPrevalence,
    signal: ctx.signal,
    onProgress: (p) => progress(ctx, step, p.phase, p.done, p.total),
  });
}
