/**
 * A finished cell reduced to what the tables read (`results/<id>.json` of an experiment):
 * the headline figure of the task (`taskHeadline`: accuracy (EM) for HotPotQA, task score for
 * LiveBench, accuracy for Formula) and the Brier score of the seed ("initial") and of the
 * selected prompt ("optimized") on dev and test, the per-example test outcomes for paired
 * tests between methods, the trajectory over steps (RPT) or candidates (baselines), and the
 * overfitting checks. {@linkcode resultFromRun} reads an RPT run directory,
 * {@linkcode resultFromComparison} a baseline's comparison record.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import type { CompareResult } from "../baselines/compare.ts";
import { calibrationTarget, computeMetrics } from "../metrics.ts";
import { promptText } from "../prompt.ts";
import { findCopiedAnswers, isCopiedAnswersRejection } from "../revise/guards.ts";
import { readOptionalRunJson, readRunJson } from "../run/reader.ts";
import {
  Evaluation,
  RUN_FILES,
  RunSummary,
  RunUsage,
  ScoredItem,
  STEP_FILES,
  stepDirName,
} from "../run/schema.ts";
import { scoredItemsAsTraces } from "../run_charts.ts";
import { Metrics } from "../tasks/schema.ts";
import { type Task, taskHeadline } from "../tasks/task.ts";
import { METHOD_NAMES } from "./methods.ts";
import type { Cell } from "./grid.ts";

/** A split's figures for the tables. */
export const SplitFigures = z.object({
  n: z.number().int().min(0),
  /** The task's headline figure (see the module doc). */
  headline: z.number(),
  /** The mean task score (equal to the headline unless the task reports another figure). */
  score: z.number(),
  brier: z.number().nullable(),
});
/** A split's figures. */
export type SplitFigures = z.infer<typeof SplitFigures>;

/** One test example's outcome: its headline value and Brier term (null when unparsed). */
export const ItemOutcome = z.object({
  id: z.string(),
  headline: z.number(),
  brier: z.number().nullable(),
});
/** One test example's outcome. */
export type ItemOutcome = z.infer<typeof ItemOutcome>;

/** One prompt of a run's trajectory: an RPT step, or a baseline's dev-scored candidate. */
export const TrajectoryPoint = z.object({
  /** RPT: the step; baselines: the candidate's position, 1-based. */
  step: z.number().int().min(1),
  promptChars: z.number().int().min(0),
  train: z.number().nullable(),
  dev: z.number(),
  devBrier: z.number().nullable(),
  test: z.number().nullable(),
});
/** One prompt of a run's trajectory. */
export type TrajectoryPoint = z.infer<typeof TrajectoryPoint>;

/** Overfitting checks of one run (the tables' notes). */
export const OverfittingChecks = z.object({
  /** Dev headline minus test headline of the selected prompt (null without a test score). */
  devTestGap: z.number().nullable(),
  /** Prompt size in characters: the seed, the selected prompt, the largest and the last. */
  promptChars: z.object({
    initial: z.number().int(),
    selected: z.number().int(),
    max: z.number().int(),
    last: z.number().int(),
  }),
  /** Patches the guard rejected for quoting training answers (RPT; null where no guard runs). */
  copiedAnswerRejections: z.number().int().nullable(),
  /** Distinctive training answers found in the selected prompt that the seed did not hold. */
  copiedAnswersInSelected: z.number().int(),
});
/** Overfitting checks of one run. */
export type OverfittingChecks = z.infer<typeof OverfittingChecks>;

/** `results/<id>.json`: a finished cell, as the tables read it. */
export const CellResult = z.object({
  version: z.literal(1),
  id: z.string(),
  /** The plan's task entry, and the task's own name. */
  task: z.string(),
  taskName: z.string(),
  method: z.enum(METHOD_NAMES),
  label: z.string(),
  confidenceAware: z.boolean(),
  models: z.object({
    target: z.string(),
    optimizer: z.string(),
    critic: z.string(),
    embedder: z.string(),
  }),
  settings: z.string(),
  seed: z.number().int(),
  simulated: z.boolean(),
  /** The name of the headline figure, e.g. `accuracy (EM)`. */
  headline: z.string(),
  initial: z.object({ dev: SplitFigures, test: SplitFigures.nullable() }),
  optimized: z.object({
    dev: SplitFigures,
    test: SplitFigures.nullable(),
    /** Which prompt was selected (`step 3`, `candidate 5: mutation of 2`). */
    selected: z.string(),
  }),
  /** Per-example test outcomes of the seed and the selected prompt, in the same order. */
  testItems: z.object({ initial: z.array(ItemOutcome), optimized: z.array(ItemOutcome) })
    .nullable(),
  trajectory: z.array(TrajectoryPoint),
  checks: OverfittingChecks,
  /** Why the run stopped. */
  stop: z.string(),
  /** Calls that reached the providers for this cell (cache hits apart). */
  usage: z.object({
    calls: z.number().int(),
    cacheHits: z.number().int(),
    usd: z.number(),
  }).nullable(),
}).strict();
/** A finished cell. */
export type CellResult = z.infer<typeof CellResult>;

/**
 * The parts of a comparison record (`compare.json`, written by `lib/baselines/compare.ts`)
 * a finished baseline cell is read back from; the rest passes through unchecked.
 */
export const ComparisonRecord = z.object({
  version: z.literal(1),
  confidenceAware: z.boolean(),
  seedPrompt: z.record(z.string(), z.string()),
  rows: z.array(
    z.object({
      method: z.string(),
      initial: z.object({ dev: Metrics, test: Metrics }),
      final: z.object({ dev: Metrics, test: Metrics.nullable() }).passthrough(),
      testItems: z.object({ initial: z.array(ScoredItem), final: z.array(ScoredItem).nullable() }),
      scored: z.array(
        z.object({ index: z.number(), promptChars: z.number(), dev: Metrics }).passthrough(),
      ),
      selected: z.object({
        index: z.number(),
        origin: z.string(),
        prompt: z.record(z.string(), z.string()),
      })
        .passthrough(),
      stopReason: z.string(),
    }).passthrough(),
  ).length(1),
}).passthrough();

/** What reducing a cell needs beside its record. */
export interface ResultContext {
  cell: Cell;
  task: Task;
  /** Gold answers of the cell's training split (the copied-answer check). */
  trainAnswers: readonly string[];
  simulated: boolean;
}

/** The headline, score and Brier of a split's metrics. */
export function splitFigures(task: Task, metrics: Metrics): SplitFigures {
  return {
    n: metrics.n,
    headline: taskHeadline(task, metrics).value,
    score: metrics.score,
    brier: metrics.brier,
  };
}

/**
 * Per-example outcomes of an evaluation: each item's headline value (the task's headline
 * of that item alone) and its Brier term `(confidence - target)^2` (null when unparsed).
 */
export function itemOutcomes(task: Task, items: readonly ScoredItem[]): ItemOutcome[] {
  const traces = scoredItemsAsTraces(items);
  return items.map((item, i) => {
    const trace = traces[i] as (typeof traces)[number];
    const conf = trace.parsed?.confidence;
    return {
      id: item.exampleId,
      headline: taskHeadline(task, computeMetrics([trace])).value,
      brier: conf === undefined ? null : (conf - calibrationTarget(trace)) ** 2,
    };
  });
}

function cellIdentity(ctx: ResultContext) {
  const { cell } = ctx;
  return {
    version: 1 as const,
    id: cell.id,
    task: cell.task,
    taskName: ctx.task.name,
    method: cell.method,
    label: cell.label,
    models: {
      target: cell.models.target,
      optimizer: cell.models.optimizer,
      critic: cell.models.critic ?? cell.models.optimizer,
      embedder: cell.models.embedder ?? "tfidf",
    },
    settings: cell.settings.label,
    seed: cell.seed,
    simulated: ctx.simulated,
  };
}

function copiedInSelected(ctx: ResultContext, selected: string, seed: string): number {
  return findCopiedAnswers(selected, ctx.trainAnswers, seed).length;
}

/** The figures of a finished RPT run directory (`summary.json`, its evaluations, usage). */
export async function resultFromRun(
  dir: string,
  ctx: ResultContext,
  confidenceAware: boolean,
): Promise<CellResult> {
  const summary = await readRunJson(join(dir, RUN_FILES.summary), RunSummary);
  const seedTest = await readOptionalRunJson(
    join(dir, stepDirName(1), STEP_FILES.test),
    Evaluation,
  );
  const finalTest = await readOptionalRunJson(join(dir, RUN_FILES.finalTest), Evaluation);
  const usage = await readOptionalRunJson(join(dir, RUN_FILES.usage), RunUsage);
  const { task } = ctx;
  const h = (m: Metrics | null) => m === null ? null : taskHeadline(task, m).value;
  const steps = summary.steps;
  const chars = steps.map((s) => s.promptChars);
  const selectedStep = steps.find((s) => s.step === summary.selected.step);
  const optimizedTest = summary.selected.test === null
    ? null
    : splitFigures(task, summary.selected.test);
  const optimizedDev = splitFigures(task, summary.selected.dev);
  return CellResult.parse({
    ...cellIdentity(ctx),
    confidenceAware,
    headline: taskHeadline(task, summary.selected.dev).name,
    initial: {
      dev: splitFigures(task, summary.seed.dev),
      test: summary.seed.test === null ? null : splitFigures(task, summary.seed.test),
    },
    optimized: {
      dev: optimizedDev,
      test: optimizedTest,
      selected: `step ${summary.selected.step}`,
    },
    testItems: seedTest !== null && finalTest !== null
      ? {
        initial: itemOutcomes(task, seedTest.items),
        optimized: itemOutcomes(task, finalTest.items),
      }
      : null,
    trajectory: steps.map((s) => ({
      step: s.step,
      promptChars: s.promptChars,
      train: h(s.train),
      dev: h(s.dev) as number,
      devBrier: s.dev.brier,
      test: h(s.test),
    })),
    checks: {
      devTestGap: optimizedTest === null ? null : optimizedDev.headline - optimizedTest.headline,
      promptChars: {
        initial: chars[0] ?? 0,
        selected: selectedStep?.promptChars ?? chars[0] ?? 0,
        max: Math.max(0, ...chars),
        last: chars.at(-1) ?? 0,
      },
      copiedAnswerRejections: steps.reduce(
        (n, s) => n + s.rejections.filter(isCopiedAnswersRejection).length,
        0,
      ),
      copiedAnswersInSelected: copiedInSelected(
        ctx,
        promptText(summary.selected.prompt),
        promptText(task.seedPrompt),
      ),
    },
    stop: `${summary.stop.kind}: ${summary.stop.reason}`,
    usage: usage === null ? null : {
      calls: usage.total.calls,
      cacheHits: usage.total.cacheHits,
      usd: usage.total.usd,
    },
  });
}

/** The figures of a baseline's comparison record (one method, `compare.json`). */
export function resultFromComparison(compare: CompareResult, ctx: ResultContext): CellResult {
  const row = compare.rows[0];
  if (row === undefined) throw new Error(`${ctx.cell.id}: the comparison record holds no method`);
  const { task } = ctx;
  const chars = row.scored.map((c) => c.promptChars);
  const optimizedDev = splitFigures(task, row.final.dev);
  const optimizedTest = row.final.test === null ? null : splitFigures(task, row.final.test);
  const selectedChars = row.scored.find((c) => c.index === row.selected.index)?.promptChars ??
    chars[0] ?? 0;
  return CellResult.parse({
    ...cellIdentity(ctx),
    confidenceAware: compare.confidenceAware || row.method === "gepa-ca",
    headline: taskHeadline(task, row.final.dev).name,
    initial: {
      dev: splitFigures(task, row.initial.dev),
      test: splitFigures(task, row.initial.test),
    },
    optimized: {
      dev: optimizedDev,
      test: optimizedTest,
      selected: `candidate ${row.selected.index + 1}: ${row.selected.origin}`,
    },
    testItems: row.testItems.final === null ? null : {
      initial: itemOutcomes(task, row.testItems.initial),
      optimized: itemOutcomes(task, row.testItems.final),
    },
    trajectory: row.scored.map((c, i) => ({
      step: i + 1,
      promptChars: c.promptChars,
      train: null,
      dev: taskHeadline(task, c.dev).value,
      devBrier: c.dev.brier,
      test: null,
    })),
    checks: {
      devTestGap: optimizedTest === null ? null : optimizedDev.headline - optimizedTest.headline,
      promptChars: {
        initial: chars[0] ?? 0,
        selected: selectedChars,
        max: Math.max(0, ...chars),
        last: chars.at(-1) ?? 0,
      },
      copiedAnswerRejections: null,
      copiedAnswersInSelected: copiedInSelected(
        ctx,
        promptText(row.selected.prompt),
        promptText(compare.seedPrompt),
      ),
    },
    stop: row.stopReason,
    usage: compare.providerUsage === undefined ? null : {
      calls: compare.providerUsage.calls,
      cacheHits: compare.providerUsage.cacheHits,
      usd: compare.providerUsage.usd,
    },
  });
}
