/**
 * The end of a run (DESIGN section 1, "Selection"): the selected prompt (the step with the
 * highest selection value on dev, the earliest on a tie) is scored once on test and
 * compared with the seed's test score by a paired bootstrap; `summary.json` records it.
 * Scoring the selected prompt is skipped when `final/test.json` already holds it (a
 * resumed run), and when the session holds no test split.
 *
 * @module
 */
import { join } from "node:path";
import { BudgetExceededError } from "../llm/model.ts";
import { readOptionalRunJson } from "../run/reader.ts";
import {
  Evaluation,
  RUN_FILES,
  type RunState,
  type RunSummary,
  STEP_FILES,
  stepDirName,
} from "../run/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { Metrics } from "../tasks/schema.ts";
import { type Task, taskHeadline } from "../tasks/task.ts";
import type { RunContext } from "./context.ts";
import { evaluateSplit } from "./evaluate.ts";
import { emit } from "./progress.ts";
import {
  compareWithSeed,
  selectionBreakdown,
  selectionFormula,
  selectionWeights,
} from "./select.ts";

import {
  clearIncomplete,
  recordIncomplete,
  stepFailedCalls,
  sumFailedCalls,
} from "./failed_calls.ts";
import { IncompleteError } from "../incomplete.ts";

function breakdownOf(ctx: RunContext, dev: Metrics, prompt: PromptProgram) {
  const b = selectionBreakdown(ctx.task, dev, prompt, selectionWeights(ctx.config));
  return { task: b.task, brier: b.brier, length: b.length };
}

async function readEvaluation(ctx: RunContext, relative: string): Promise<Evaluation | null> {
  try {
    return await readOptionalRunJson(join(ctx.writer.dir, relative), Evaluation);
  } catch {
    return null;
  }
}

/** The selected prompt on test: from `final/test.json` when it holds it, else scored now. */
async function finalTest(
  ctx: RunContext,
  step: number,
  prompt: PromptProgram,
): Promise<Evaluation | null> {
  if (ctx.data.test.length === 0) return null;
  const known = await readEvaluation(ctx, RUN_FILES.finalTest);
  if (known !== null && known.step === step) return known;
  try {
    const scored = { ...await evaluateSplit(ctx, prompt, "test", step), step };
    emit(ctx.listeners, {
      type: "evaluated",
      step,
      split: "test",
      prompt,
      metrics: scored.metrics,
    });
    await ctx.writer.write(RUN_FILES.finalTest, scored);
    return scored;
  } catch (error) {
    if (error instanceof IncompleteError) {
      // No summary claims a result the test split did not give; resume scores it again.
      await recordIncomplete(ctx, error, "final test", step);
      throw error;
    }
    if (!(error instanceof BudgetExceededError)) throw error;
    await ctx.writer.event({
      type: "budget_exceeded",
      phase: "final test",
      message: error.message,
    });
    return null;
  }
}

/** The task's headline figure of the seed and the selected prompt. */
function headlineOf(
  task: Task,
  seedDev: Metrics,
  seedTest: Metrics | null,
  selectedDev: Metrics,
  selectedTest: Evaluation | null,
): NonNullable<RunSummary["headline"]> {
  const value = (m: Metrics | null) => m === null ? null : taskHeadline(task, m).value;
  return {
    name: taskHeadline(task, seedDev).name,
    seed: { dev: taskHeadline(task, seedDev).value, test: value(seedTest) },
    selected: {
      dev: taskHeadline(task, selectedDev).value,
      test: value(selectedTest?.metrics ?? null),
    },
  };
}

/**
 * Selects, scores on test, compares with the seed and writes `summary.json`. `prompts`
 * holds the prompt of every step (the selected one is read from it).
 */
export async function finalize(
  ctx: RunContext,
  state: RunState,
  promptOf: (step: number) => PromptProgram | undefined,
): Promise<RunSummary> {
  const first = state.steps[0];
  const bestStep = state.best?.step ?? 1;
  const selected = state.steps.find((s) => s.step === bestStep) ?? first;
  if (first === undefined || selected === undefined) {
    throw new Error("finalize: the run has no complete step");
  }
  const selectedPrompt = promptOf(selected.step) ?? state.prompt;
  const test = await finalTest(ctx, selected.step, selectedPrompt);
  const seedTest = await readEvaluation(ctx, `${stepDirName(1)}/${STEP_FILES.test}`);
  const comparison = test && seedTest
    ? compareWithSeed(test.items, seedTest.items, { seed: ctx.config.seed })
    : null;
  const summary: RunSummary = {
    version: 1,
    task: ctx.task.name,
    simulated: ctx.simulated,
    iterationsRun: state.steps.filter((s) => s.kind === "iteration").length,
    stop: state.stop ?? { kind: "iterations", reason: "finished" },
    steps: state.steps,
    selectionFormula: selectionFormula(ctx.task, selectionWeights(ctx.config)),
    selected: {
      step: selected.step,
      prompt: selectedPrompt,
      selection: selected.selection,
      breakdown: breakdownOf(ctx, selected.dev, selectedPrompt),
      dev: selected.dev,
      test: test?.metrics ?? null,
    },
    seed: { dev: first.dev, test: seedTest?.metrics ?? null },
    comparison,
    testCurve: state.steps.flatMap((s) => s.test ? [{ step: s.step, test: s.test }] : []),
    headline: headlineOf(ctx.task, first.dev, seedTest?.metrics ?? null, selected.dev, test),
    failedCalls: sumFailedCalls([
      ...state.steps.map((s) => s.failedCalls),
      test ? stepFailedCalls({ dev: { ...test, items: [] }, test }, null) : undefined,
    ]),
  };
  await ctx.writer.write(RUN_FILES.summary, summary);
  await clearIncomplete(ctx);
  await ctx.writer.event({
    type: "run_end",
    selectedStep: selected.step,
    stop: summary.stop,
    testScore: test?.metrics.score ?? null,
  });
  return summary;
}
