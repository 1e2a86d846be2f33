/**
 * The target's runs over a split, the two kinds a session makes: {@linkcode evaluateSplit}
 * scores a prompt on dev or test (metrics and per-example outcomes, no critique), and
 * {@linkcode diagnoseTrain} is the diagnostic call on the optimization split. Every
 * full-split evaluation of the loop goes through these two functions.
 *
 * @module
 */
import { diagnose, type DiagnosticRecord, evaluatePrompt } from "../diagnose.ts";
import { CALIBRATION_TARGET_KEY, UNPARSED_CREDIT_KEY } from "../metrics.ts";
import type { Evaluation, ScoredItem } from "../run/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { Split } from "../tasks/schema.ts";
import type { TraceItem } from "../trace.ts";
import { assertComplete, failuresOf, IncompleteError, PHASE_ROLE } from "../incomplete.ts";
import { progress, type RunContext } from "./context.ts";
import { batched, batchesRole } from "./batch.ts";

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
    ...(t.details[UNPARSED_CREDIT_KEY] === true ? { unparsedCredit: true as const } : {}),
  }));
}

/**
 * Scores `prompt` on a split for `step` (train only for `rpt evaluate`: the loop diagnoses
 * it). Examples whose call failed after its retries are unscored: beyond the run's
 * `maxErrorRate` the evaluation is an {@linkcode IncompleteError} (with the step, the
 * endpoint and the traces), within it they score as failures and stay marked in the items.
 */
export async function evaluateSplit(
  ctx: RunContext,
  prompt: PromptProgram,
  split: Split,
  step: number,
): Promise<Evaluation> {
  const examples = ctx.data[split];
  const phase = split === "train" ? "target" : split;
  const batching = batchesRole(ctx, "target");
  const { traces, metrics } = await batched(
    ctx,
    "target",
    { step, phase },
    examples.length,
    () =>
      evaluatePrompt(prompt, examples, {
        task: ctx.task,
        target: ctx.models.target,
        // A batch gathers every call of the pass: all of them are made at once.
        concurrency: batching ? Math.max(1, examples.length) : ctx.config.concurrency,
        signal: ctx.signal,
        onProgress: (p) => progress(ctx, step, phase, p.done, p.total),
      }),
  );
  try {
    assertComplete(failuresOf(split, traces), ctx.config.maxErrorRate, traces);
  } catch (error) {
    throw stamped(ctx, step, error);
  }
  return { split, step, metrics, items: scoredItems(traces) };
}

/**
 * The diagnostic call on the optimization split: traces, critiques, clustering, report.
 * Failed calls beyond the run's `maxErrorRate` (target, critic or clustering) make it an
 * {@linkcode IncompleteError}.
 */
export function diagnoseTrain(
  ctx: RunContext,
  prompt: PromptProgram,
  step: number,
): Promise<DiagnosticRecord> {
  return atStep(ctx, step, () => diagnoseOnTrain(ctx, prompt, step));
}

/**
 * Runs `work`; an {@linkcode IncompleteError} it throws gets the step and the endpoint the
 * failed calls went to (see {@linkcode stamped}).
 */
export async function atStep<T>(ctx: RunContext, step: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw stamped(ctx, step, error);
  }
}

/**
 * `error`, with the step and the endpoint of its failed calls filled in when it is an
 * {@linkcode IncompleteError}, so the session can record it and a person can act on it.
 */
export function stamped(ctx: RunContext, step: number, error: unknown): unknown {
  if (error instanceof IncompleteError) {
    error.step ??= step;
    error.sentTo(ctx.endpoints[PHASE_ROLE[error.failures.phase]]);
  }
  return error;
}

function diagnoseOnTrain(
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
    maxErrorRate: config.maxErrorRate,
    signal: ctx.signal,
    onProgress: (p) => progress(ctx, step, p.phase, p.done, p.total),
    ...(ctx.batch
      ? {
        batch: {
          target: (calls, work) => batched(ctx, "target", { step, phase: "target" }, calls, work),
          critique: (calls, work) =>
            batched(ctx, "critic", { step, phase: "critique" }, calls, work),
        },
      }
      : {}),
  });
}
