/**
 * Selection (DESIGN section 1, "Selection"): every prompt, the seed included, is scored on
 * the dev split, and the final prompt maximises the task's selection function with the
 * run's weights ({@linkcode SelectionWeights}): a Brier term weighted w (the `brierWeight`
 * setting; absent, 0.05 in the confidence-aware setting and 0 otherwise) and a length
 * penalty P per 1,000 prompt characters (the `lengthPenalty` setting, 0.0025 by default, as
 * in the paper's runs; see `selectionPenalty` in `tasks/common.ts`). The best changes only
 * on a strictly higher value, so on a tie the earlier prompt stays. The selected prompt is
 * compared with the seed on test by a paired bootstrap.
 *
 * @module
 */
import { pairedBootstrap } from "../metrics.ts";
import { promptChars, type PromptProgram } from "../prompt.ts";
import type { RunConfig } from "../run/config.ts";
import type { FinalComparison, ScoredItem } from "../run/schema.ts";
import { PROMPT_PENALTY_PER_1000_CHARS } from "../tasks/common.ts";
import type { Metrics } from "../tasks/schema.ts";
import type { Task } from "../tasks/task.ts";

/** Weight of the Brier term in the confidence-aware setting. */
export const CONFIDENCE_AWARE_BRIER_WEIGHT = 0.05;

/** The Brier weight for a setting: 0.05 when confidence-aware, else 0. */
export function brierWeight(confidenceAware: boolean): number {
  return confidenceAware ? CONFIDENCE_AWARE_BRIER_WEIGHT : 0;
}

/** The weights of the selection function's two penalty terms. */
export interface SelectionWeights {
  /** Weight w of the Brier term. */
  brierWeight: number;
  /** Penalty P per 1,000 prompt characters. */
  lengthPenalty: number;
}

/**
 * A run's selection weights: its `brierWeight` (else 0.05 when confidence-aware, 0
 * otherwise) and its `lengthPenalty`.
 *
 * @example
 * ```ts
 * import { selectionWeights } from "./select.ts";
 * const w = selectionWeights({ confidenceAware: true, lengthPenalty: 0 });
 * if (w.brierWeight !== 0.05 || w.lengthPenalty !== 0) throw new Error();
 * if (selectionWeights({ confidenceAware: true, brierWeight: 0, lengthPenalty: 0 }).brierWeight !== 0) {
 *   throw new Error("an explicit weight wins");
 * }
 * ```
 */
export function selectionWeights(
  config: Pick<RunConfig, "confidenceAware" | "brierWeight" | "lengthPenalty">,
): SelectionWeights {
  return {
    brierWeight: config.brierWeight ?? brierWeight(config.confidenceAware),
    lengthPenalty: config.lengthPenalty,
  };
}

// A boolean is the confidence-aware switch with the default length penalty.
function weightsOf(setting: boolean | SelectionWeights): SelectionWeights {
  return typeof setting === "boolean"
    ? { brierWeight: brierWeight(setting), lengthPenalty: PROMPT_PENALTY_PER_1000_CHARS }
    : setting;
}

/**
 * The selection value of a prompt from its dev metrics (higher is better), with the run's
 * weights, or (a boolean) the confidence-aware switch and the default length penalty.
 *
 * @example
 * ```ts
 * import { selectionValue } from "./select.ts";
 * import { formula } from "../tasks/formula.ts";
 * const metrics = { n: 2, parsed: 2, score: 1, fullCredit: 1, avgConfidence: 1, brier: 0, ece: 0,
 *   formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {} };
 * // Formula: 0.5 * accuracy - w * Brier - 0.0025 per 1,000 characters.
 * const v = selectionValue(formula, metrics, { system: "", instruction: "x".repeat(1000) }, false);
 * if (Math.abs(v - (0.5 - 0.0025)) > 1e-12) throw new Error(String(v));
 * const none = selectionValue(formula, metrics, { system: "", instruction: "x".repeat(1000) },
 *   { brierWeight: 0, lengthPenalty: 0 });
 * if (none !== 0.5) throw new Error(String(none));
 * ```
 */
export function selectionValue(
  task: Pick<Task, "selectionScore">,
  metrics: Metrics,
  prompt: PromptProgram,
  setting: boolean | SelectionWeights,
): number {
  const w = weightsOf(setting);
  return task.selectionScore({
    metrics,
    promptChars: promptChars(prompt),
    brierWeight: w.brierWeight,
    lengthPenalty: w.lengthPenalty,
  });
}

/** A selection value taken apart into the terms of the task's selection function. */
export interface SelectionBreakdown {
  /** The task metric term (HotPotQA `F1 + 0.5 EM`, Formula `0.5 acc`, ...). */
  task: number;
  /** The Brier term, `-w * Brier` (0 unless confidence-aware). */
  brier: number;
  /** The length term, `-P`: the penalty for the prompt's characters. */
  length: number;
  /** The selection value: the sum of the three. */
  value: number;
}

/**
 * The selection value of a prompt and its terms, each read off the task's own selection
 * function (the task term with no Brier weight and no length, then what the Brier weight
 * and the length each take away), so a task's own function is never re-derived by hand.
 *
 * @example
 * ```ts
 * import { selectionBreakdown } from "./select.ts";
 * import { formula } from "../tasks/formula.ts";
 * const metrics = { n: 2, parsed: 2, score: 1, fullCredit: 1, avgConfidence: 1, brier: 0.2, ece: 0,
 *   formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {} };
 * const b = selectionBreakdown(formula, metrics, { system: "", instruction: "x".repeat(2000) }, true);
 * const near = (a: number, e: number) => Math.abs(a - e) < 1e-12;
 * if (!near(b.task, 0.5) || !near(b.brier, -0.01) || !near(b.length, -0.005)) throw new Error();
 * if (!near(b.value, 0.5 - 0.01 - 0.005)) throw new Error(String(b.value));
 * ```
 */
export function selectionBreakdown(
  task: Pick<Task, "selectionScore">,
  metrics: Metrics,
  prompt: PromptProgram,
  setting: boolean | SelectionWeights,
): SelectionBreakdown {
  const w = weightsOf(setting);
  const none = { promptChars: 0, lengthPenalty: 0 };
  const taskTerm = task.selectionScore({ metrics, ...none, brierWeight: 0 });
  const withBrier = task.selectionScore({ metrics, ...none, brierWeight: w.brierWeight });
  const value = selectionValue(task, metrics, prompt, w);
  return { task: taskTerm, brier: withBrier - taskTerm, length: value - withBrier, value };
}

/**
 * The train score memory ranks reports by: the task's selection function with the run's
 * Brier weight and no length term.
 */
export function trainScore(
  task: Pick<Task, "selectionScore">,
  weights: SelectionWeights,
): (metrics: Metrics) => number {
  return (metrics) =>
    task.selectionScore({
      metrics,
      promptChars: 0,
      brierWeight: weights.brierWeight,
      lengthPenalty: 0,
    });
}

/**
 * A task's selection function in words: its task term, the Brier term when its weight is
 * not 0, and the length penalty, with the run's weights (or, a boolean, the
 * confidence-aware switch and the default length penalty).
 *
 * @example
 * ```ts
 * import { selectionFormula } from "./select.ts";
 * const f = selectionFormula({ selectionTerm: "F1 + 0.5 EM" }, true);
 * if (f !== "F1 + 0.5 EM - 0.05 Brier - 0.0025 per 1,000 prompt characters") throw new Error(f);
 * if (selectionFormula({}, false) !== "score - 0.0025 per 1,000 prompt characters") throw new Error();
 * if (selectionFormula({}, { brierWeight: 0.1, lengthPenalty: 0 }) !== "score - 0.1 Brier") {
 *   throw new Error();
 * }
 * ```
 */
export function selectionFormula(
  task: Pick<Task, "selectionTerm">,
  setting: boolean | SelectionWeights,
): string {
  const w = weightsOf(setting);
  return `${task.selectionTerm ?? "score"}${w.brierWeight > 0 ? ` - ${w.brierWeight} Brier` : ""}` +
    `${w.lengthPenalty > 0 ? ` - ${w.lengthPenalty} per 1,000 prompt characters` : ""}`;
}

/** A scored candidate: the step that produced it and its selection value. */
export interface Candidate {
  step: number;
  selection: number;
}

/**
 * The best after seeing `candidate`: it replaces `best` only when strictly higher (a
 * non-finite value never wins).
 *
 * @example
 * ```ts
 * import { updateBest } from "./select.ts";
 * const a = updateBest(null, { step: 1, selection: 0.5 });
 * const b = updateBest(a.best, { step: 2, selection: 0.5 });
 * if (b.replaced || b.best.step !== 1) throw new Error("a tie must keep the earlier prompt");
 * ```
 */
export function updateBest<C extends Candidate>(
  best: C | null,
  candidate: C,
): { best: C; replaced: boolean } {
  if (best === null) return { best: candidate, replaced: true };
  if (Number.isFinite(candidate.selection) && candidate.selection > best.selection) {
    return { best: candidate, replaced: true };
  }
  return { best, replaced: false };
}

/** The candidate selection keeps after seeing all of them in order (first strictly-greater wins). */
export function selectBest<C extends Candidate>(candidates: readonly C[]): C | null {
  let best: C | null = null;
  for (const c of candidates) best = updateBest(best, c).best;
  return best;
}

/**
 * Paired bootstrap of the selected prompt's mean test score against the seed's, pairing
 * items by example id (ids missing on either side are left out).
 *
 * @example
 * ```ts
 * import { compareWithSeed } from "./select.ts";
 * const item = (exampleId: string, score: number) =>
 *   ({ exampleId, answer: "", confidence: 1, score, full: score === 1 });
 * const r = compareWithSeed([item("a", 1), item("b", 1)], [item("a", 0), item("b", 1)], { seed: 1 });
 * if (r.delta !== 0.5 || r.n !== 2) throw new Error(JSON.stringify(r));
 * ```
 */
export function compareWithSeed(
  finalItems: readonly ScoredItem[],
  seedItems: readonly ScoredItem[],
  opts: { seed?: number; iterations?: number } = {},
): FinalComparison {
  const seedById = new Map(seedItems.map((i) => [i.exampleId, i.score]));
  const a: number[] = [];
  const b: number[] = [];
  for (const item of finalItems) {
    const s = seedById.get(item.exampleId);
    if (s === undefined) continue;
    a.push(item.score);
    b.push(s);
  }
  const iterations = opts.iterations ?? 1000;
  const mean = (xs: number[]) => xs.length === 0 ? 0 : xs.reduce((x, y) => x + y, 0) / xs.length;
  const r = pairedBootstrap(a, b, mean, { iterations, seed: opts.seed ?? 0 });
  return {
    statistic: "score",
    n: a.length,
    final: r.a,
    seed: r.b,
    delta: r.estimate,
    lo: r.lo,
    hi: r.hi,
    probabilityFinalGreater: r.probabilityAGreater,
    iterations,
  };
}
