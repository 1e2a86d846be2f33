/**
 * A step's lines in `events.jsonl`: what a person scanning the log wants (counts, metrics,
 * topic names, the decision), each naming the step file that holds the bulk.
 *
 * @module
 */
import type { DiagnosticRecord } from "../diagnose.ts";
import { stepDirName } from "../run/schema.ts";
import { promptChars, type PromptProgram } from "../prompt.ts";
import type { RunContext } from "./context.ts";
import type { StepOutcome, StepScores } from "./outcome.ts";

/** The step's events: what a person scanning `events.jsonl` wants, files for the bulk. */
export async function logStepEvents(
  ctx: RunContext,
  step: number,
  prompt: PromptProgram,
  scores: StepScores,
  outcome: StepOutcome | null,
): Promise<void> {
  const dir = stepDirName(step);
  const w = ctx.writer;
  await w.event({ type: "prompt", step, chars: promptChars(prompt), file: `${dir}/prompt.json` });
  for (const ev of [scores.dev, scores.test]) {
    if (ev) {
      await w.event({
        type: "evaluation",
        step,
        split: ev.split,
        metrics: ev.metrics,
        file: `${dir}/${ev.split}.json`,
      });
    }
  }
  if (outcome?.record) await logRecordEvents(ctx, step, outcome.record);
  if (outcome) {
    await w.event({
      type: "decision",
      step,
      action: outcome.decision?.action ?? null,
      rationale: outcome.decision?.patch?.rationale ?? null,
      stopReason: outcome.decision?.stop_reason ?? outcome.stop?.reason ?? null,
      rejections: outcome.rejections,
      optimizerCalls: outcome.optimizerCalls,
      file: `${dir}/decision.json`,
      ...(outcome.by !== undefined ? { by: outcome.by } : {}),
    });
  }
  await w.event({
    type: "selection",
    step,
    selection: scores.selection,
    best: scores.best,
    replaced: scores.replaced,
  });
  await w.event({ type: "usage", step, total: ctx.ledger.snapshot().total });
}

/** The diagnosis's events: traces, critiques, clustering and report, by count. */
async function logRecordEvents(
  ctx: RunContext,
  step: number,
  record: DiagnosticRecord,
): Promise<void> {
  const w = ctx.writer;
  const file = `${stepDirName(step)}/record.json`;
  await w.event({ type: "traces", step, split: "train", n: record.traces.length, file });
  await w.event({
    type: "critiques",
    step,
    n: record.critiques.length,
    failed: record.critiques.filter((c) => c.error !== undefined).length,
    file,
  });
  await w.event({
    type: "clustering",
    step,
    records: record.clustering?.records ?? 0,
    topics: record.clustering?.topics.map((t) => ({
      name: t.name,
      prevalence: t.prevalence,
      retained: t.retained,
    })) ?? [],
    file,
  });
  await w.event({
    type: "report",
    step,
    metrics: record.report.metrics,
    topics: record.report.topics.map((t) => t.name),
    warnings: record.report.warnings,
    file: `${stepDirName(step)}/report.json`,
  });
}
