/**
 * One step of a run, the unit the checkpoint moves by. Step s works on the prompt p(s-1)
 * (p0 is the task's seed): it scores it on dev (every prompt, for selection) and on test
 * at step 1 and every `testEvery` steps (curves only); an iteration then decides the next
 * prompt (the optimizer's conversation, or a person's hand edit), and the step is saved:
 * its folder, its events, the memory entry of its report, the new checkpoint.
 *
 * @module
 */
import { reportToMarkdown } from "../report.ts";
import { BudgetExceededError } from "../llm/model.ts";
import {
  type CandidateRecord,
  RUN_FILES,
  type RunState,
  stepDirName,
  type StepSummary,
  type StoredTrace,
} from "../run/schema.ts";
import type { StepFiles } from "../run/writer.ts";
import { promptChars, type PromptProgram } from "../prompt.ts";
import type { TraceItem } from "../trace.ts";
import type { RunContext } from "./context.ts";
import type { StepOutcome, StepScores } from "./outcome.ts";
import { evaluateSplit } from "./evaluate.ts";
import { memoryEntry } from "./memory.ts";
import { emit } from "./progress.ts";
import { logStepEvents } from "./step_log.ts";
import { clearIncomplete, recordIncomplete, stepFailedCalls } from "./failed_calls.ts";
import { IncompleteError } from "../incomplete.ts";
import { selectionValue, selectionWeights, updateBest } from "./select.ts";

/** Whether step `step` scores its prompt on test (step 1 and every `testEvery`, when held). */
export function testsAt(ctx: RunContext, step: number): boolean {
  return ctx.data.test.length > 0 && (step === 1 || step % ctx.config.testEvery === 0);
}

/** Scores the step's prompt on dev (and test when scheduled) and updates the best. */
export async function scoreStep(
  ctx: RunContext,
  state: RunState,
  step: number,
  prompt: PromptProgram,
): Promise<StepScores> {
  const dev = await evaluateSplit(ctx, prompt, "dev", step);
  emit(ctx.listeners, { type: "evaluated", step, split: "dev", prompt, metrics: dev.metrics });
  const selection = selectionValue(ctx.task, dev.metrics, prompt, selectionWeights(ctx.config));
  const { best, replaced } = updateBest(state.best, { step, selection });
  const test = testsAt(ctx, step) ? await evaluateSplit(ctx, prompt, "test", step) : null;
  if (test) {
    emit(ctx.listeners, { type: "evaluated", step, split: "test", prompt, metrics: test.metrics });
  }
  return { dev, test, selection, best, replaced };
}

function storedTrace({ messages: _messages, ...rest }: TraceItem): StoredTrace {
  return rest;
}

/** The files of a step folder. */
export function stepFiles(
  prompt: PromptProgram,
  scores: StepScores,
  outcome: StepOutcome | null,
): StepFiles {
  const files: StepFiles = { prompt, dev: scores.dev };
  if (scores.test) files.test = scores.test;
  if (outcome === null) return files;
  const record = outcome.record;
  if (record) {
    files.report = record.report;
    files.reportMarkdown = reportToMarkdown(record.report);
    files.record = {
      traces: record.traces.map(storedTrace),
      critiques: record.critiques,
      clustering: record.clustering,
      candidates: outcome.candidates,
    };
  }
  files.decision = {
    decision: outcome.decision,
    accepted: outcome.decision !== null,
    rejections: outcome.rejections,
    nextPrompt: outcome.nextPrompt,
    stop: outcome.stop,
    messages: outcome.messages,
    ...(outcome.by !== undefined ? { by: outcome.by } : {}),
  };
  return files;
}

/** The step's line in `state.json` and `summary.json`. */
export function stepSummary(
  step: number,
  kind: StepSummary["kind"],
  prompt: PromptProgram,
  scores: StepScores,
  outcome: StepOutcome | null,
): StepSummary {
  const decision = outcome?.decision ?? null;
  return {
    step,
    kind,
    promptChars: promptChars(prompt),
    train: outcome?.record?.report.metrics ?? null,
    dev: scores.dev.metrics,
    test: scores.test?.metrics ?? null,
    selection: scores.selection,
    selected: scores.replaced,
    topics: outcome?.record?.report.topics.map((t) => t.name) ?? [],
    action: decision?.action ?? "none",
    ...(decision?.patch?.rationale !== undefined ? { rationale: decision.patch.rationale } : {}),
    ...(outcome?.stop ? { stopReason: outcome.stop.reason } : {}),
    decisionAttempts: outcome?.decisionAttempts ?? 0,
    rejections: outcome?.rejections ?? [],
    diagnoseCalls: outcome?.diagnoseCalls ?? 0,
    optimizerCalls: outcome?.optimizerCalls ?? 0,
    optimizerPromptTokens: outcome?.optimizerPromptTokens ?? 0,
    memoryTokens: outcome?.memoryTokens ?? 0,
    ...(outcome?.memory && (outcome.memory.compacted > 0 || outcome.memory.omitted > 0)
      ? {
        memoryCompaction: { compacted: outcome.memory.compacted, omitted: outcome.memory.omitted },
      }
      : {}),
    warnings: outcome?.warnings ?? [],
    ...(outcome?.by !== undefined ? { by: outcome.by } : {}),
    ...withFailedCalls(stepFailedCalls(scores, outcome)),
  };
}

function withFailedCalls(counts: StepSummary["failedCalls"]): Pick<StepSummary, "failedCalls"> {
  return counts === undefined ? {} : { failedCalls: counts };
}

/** The checkpoint after the step: the next prompt, memory with the step's report, the stop. */
export function nextState(
  ctx: RunContext,
  state: RunState,
  summary: StepSummary,
  scores: StepScores,
  outcome: StepOutcome | null,
): RunState {
  const decision = outcome?.decision ?? null;
  const memory = outcome?.record
    ? [
      ...state.memory,
      memoryEntry(outcome.record.report, {
        action: summary.action,
        patch: decision?.patch ?? null,
        ...(decision?.stop_reason !== undefined ? { stopReason: decision.stop_reason } : {}),
      }),
    ]
    : state.memory;
  let stop = outcome?.stop ?? null;
  if (stop === null && summary.kind === "final") {
    stop = { kind: "iterations", reason: `all ${ctx.config.iterations} iterations ran` };
  }
  return {
    version: 1,
    completedSteps: summary.step,
    prompt: outcome?.nextPrompt ?? state.prompt,
    memory,
    steps: [...state.steps, summary],
    lastTrain: outcome?.record?.report.metrics ?? state.lastTrain,
    best: scores.best,
    stop,
    finished: stop !== null,
  };
}

/** Saves a step: its folder, its events, the checkpoint; returns the new checkpoint. */
export async function commitStep(
  ctx: RunContext,
  state: RunState,
  s: {
    step: number;
    kind: StepSummary["kind"];
    scores: StepScores;
    outcome: StepOutcome | null;
    /** Why the run ends here, over what the step says (a session finished by hand). */
    stop?: RunState["stop"];
  },
): Promise<RunState> {
  const { step, kind, scores, outcome } = s;
  const prompt = state.prompt;
  const summary = stepSummary(step, kind, prompt, scores, outcome);
  await ctx.writer.writeStepFiles(step, stepFiles(prompt, scores, outcome));
  await logStepEvents(ctx, step, prompt, scores, outcome);
  let next = nextState(ctx, state, summary, scores, outcome);
  if (s.stop) next = { ...next, stop: s.stop, finished: true };
  await ctx.writer.write(RUN_FILES.state, next);
  await ctx.writer.event({
    type: "step_end",
    step,
    kind,
    dir: stepDirName(step),
    devScore: scores.dev.metrics.score,
    selection: scores.selection,
    selected: scores.replaced,
    trainScore: summary.train?.score ?? null,
    testScore: scores.test?.metrics.score ?? null,
    action: summary.action,
    rejections: summary.rejections.length,
    ...(next.stop ? { stop: next.stop } : {}),
  });
  await ctx.usage.save("running");
  emit(ctx.listeners, { type: "step", summary });
  return next;
}

/**
 * Runs one step: `step_start`, the scores, the decision `decide` makes (null for a
 * dev-only step), then saves it, with the candidates tried by hand before it. A budget
 * stop drops the partial step and ends the run: the outcome is then undefined.
 */
export async function runStep(
  ctx: RunContext,
  state: RunState,
  s: {
    step: number;
    kind: StepSummary["kind"];
    decide: () => Promise<StepOutcome | null>;
    tried: readonly CandidateRecord[];
    stop?: RunState["stop"];
  },
): Promise<{ state: RunState; outcome?: StepOutcome | null }> {
  const { step, kind } = s;
  try {
    await ctx.writer.event({ type: "step_start", step, kind });
    const scores = await scoreStep(ctx, state, step, state.prompt);
    const outcome = await s.decide();
    if (outcome !== null && s.tried.length > 0) {
      outcome.candidates = [...s.tried, ...outcome.candidates];
    }
    const next = await commitStep(ctx, state, { step, kind, scores, outcome, stop: s.stop });
    await clearIncomplete(ctx);
    return { state: next, outcome };
  } catch (error) {
    if (error instanceof IncompleteError) {
      // Nothing of the step is kept but the cache's answers; the checkpoint stays before it.
      await recordIncomplete(ctx, error, "step", step);
      throw error;
    }
    if (!(error instanceof BudgetExceededError)) throw error;
    // The partial step is dropped; completed steps and selection stand.
    const stopped: RunState = {
      ...state,
      stop: { kind: "budget", reason: error.message },
      finished: true,
    };
    await ctx.writer.write(RUN_FILES.state, stopped);
    await ctx.writer.event({ type: "budget_exceeded", step, message: error.message });
    return { state: stopped };
  }
}
