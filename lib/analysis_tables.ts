/**
 * The pure tables of the trace analyses (paper section 4.3): alignment of patch topics with
 * failure topics, next-step deltas per topic, persistence of failure topics, and prompt
 * length against dev score. They take plain per-step data, so they are exact and testable
 * on hand-made records; `analysis.ts` builds that data from run records.
 *
 * @module
 */
import { type BootstrapInterval, bootstrapInterval } from "./metrics.ts";

/** One transition t -> t+1 of a run, reduced to what the tables need. */
export interface Transition {
  /** Which run the transition belongs to (for pooled analyses). */
  run: string;
  /** Step t. */
  step: number;
  /** Failure topics present at step t. */
  failureTopics: string[];
  /** Patch topics present in the edit t -> t+1. */
  patchTopics: string[];
  /** Task score on the optimization split at t+1 minus at t. */
  deltaScore: number;
  /** Brier on the optimization split at t+1 minus at t (null when either is undefined). */
  deltaBrier: number | null;
}

/** One cell of the alignment table: P(patch topic | failure topic) with counts and lift. */
export interface AlignmentCell {
  failureTopic: string;
  patchTopic: string;
  /** Transitions with both topics. */
  both: number;
  /** Transitions with the failure topic. */
  failureCount: number;
  /** both / failureCount. */
  probability: number;
  /** Transitions with the patch topic (over all transitions). */
  patchCount: number;
  /** P(patch | failure) / P(patch): above 1 when the patch follows the failure more than usual. */
  lift: number | null;
}

/**
 * Alignment P(patch topic | failure topic) over transitions, for every pair of topics seen.
 *
 * @example
 * ```ts
 * import { alignmentTable } from "./analysis_tables.ts";
 * const cells = alignmentTable([
 *   { run: "r", step: 1, failureTopics: ["F"], patchTopics: ["P"], deltaScore: 0, deltaBrier: 0 },
 *   { run: "r", step: 2, failureTopics: ["F"], patchTopics: [], deltaScore: 0, deltaBrier: 0 },
 * ]);
 * if (cells[0]?.probability !== 0.5) throw new Error("unexpected");
 * ```
 */
export function alignmentTable(transitions: readonly Transition[]): AlignmentCell[] {
  const failureTopics = uniqueSorted(transitions.flatMap((t) => t.failureTopics));
  const patchTopics = uniqueSorted(transitions.flatMap((t) => t.patchTopics));
  const cells: AlignmentCell[] = [];
  for (const f of failureTopics) {
    const withF = transitions.filter((t) => t.failureTopics.includes(f));
    for (const p of patchTopics) {
      const both = withF.filter((t) => t.patchTopics.includes(p)).length;
      const probability = withF.length === 0 ? 0 : both / withF.length;
      const patchCount = transitions.filter((t) => t.patchTopics.includes(p)).length;
      cells.push({
        failureTopic: f,
        patchTopic: p,
        both,
        failureCount: withF.length,
        probability,
        patchCount,
        lift: patchCount === 0 ? null : probability / (patchCount / transitions.length),
      });
    }
  }
  return cells;
}

/** The mean next-step change for one topic, with its count and a bootstrap interval. */
export interface TopicDelta {
  topic: string;
  kind: "failure" | "patch";
  count: number;
  meanDeltaScore: number;
  scoreInterval: [number, number];
  /** Null when no transition with the topic has a Brier delta. */
  meanDeltaBrier: number | null;
  brierInterval: [number, number] | null;
  /** Transitions whose Brier delta counted. */
  brierCount: number;
}

/**
 * For each topic, the mean next-step change in task score and Brier over the transitions in
 * which it is present, with percentile bootstrap intervals (seeded).
 */
export function topicDeltas(
  transitions: readonly Transition[],
  kind: "failure" | "patch",
  options: { iterations?: number; seed?: number; alpha?: number } = {},
): TopicDelta[] {
  const topicsOf = (t: Transition) => kind === "failure" ? t.failureTopics : t.patchTopics;
  const topics = uniqueSorted(transitions.flatMap(topicsOf));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return topics.map((topic) => {
    const rows = transitions.filter((t) => topicsOf(t).includes(topic));
    const scores = rows.map((t) => t.deltaScore);
    const briers = rows.map((t) => t.deltaBrier).filter((b): b is number => b !== null);
    return {
      topic,
      kind,
      count: rows.length,
      meanDeltaScore: mean(scores),
      scoreInterval: intervalOf(bootstrapInterval(scores, mean, options)),
      meanDeltaBrier: briers.length ? mean(briers) : null,
      brierInterval: briers.length ? intervalOf(bootstrapInterval(briers, mean, options)) : null,
      brierCount: briers.length,
    };
  });
}

function intervalOf(ci: BootstrapInterval): [number, number] {
  return [ci.lo, ci.hi];
}

/** How long a failure topic persists across consecutive steps of a run. */
export interface Persistence {
  topic: string;
  /** Lengths of the runs of consecutive steps in which the topic is present. */
  runs: number[];
  /** Steps in which the topic is present. */
  stepsPresent: number;
  meanRunLength: number;
  longestRun: number;
  /** Runs that ended before the last step of their run (the topic went away). */
  resolved: number;
  /** Runs after the first one (the topic came back). */
  reappeared: number;
}

/**
 * Persistence of failure topics. `steps` maps each run to the topics present at each of its
 * steps, in step order; runs of several runs are pooled.
 *
 * @example
 * ```ts
 * import { persistenceTable } from "./analysis_tables.ts";
 * const [p] = persistenceTable({ r: [["A"], ["A"], [], ["A"]] });
 * if (p?.runs.join() !== "2,1" || p.resolved !== 1 || p.reappeared !== 1) throw new Error();
 * ```
 */
export function persistenceTable(steps: Record<string, string[][]>): Persistence[] {
  const topics = uniqueSorted(Object.values(steps).flat(2));
  return topics.map((topic) => {
    const runs: number[] = [];
    let resolved = 0;
    let reappeared = 0;
    for (const perStep of Object.values(steps)) {
      let current = 0;
      let runsHere = 0;
      for (const present of perStep) {
        if (present.includes(topic)) {
          current++;
        } else if (current > 0) {
          // The topic was present and is gone at this step: the run ended, resolved.
          runs.push(current);
          runsHere++;
          resolved++;
          current = 0;
        }
      }
      if (current > 0) {
        runs.push(current);
        runsHere++;
      }
      reappeared += Math.max(0, runsHere - 1);
    }
    const stepsPresent = runs.reduce((a, b) => a + b, 0);
    return {
      topic,
      runs,
      stepsPresent,
      meanRunLength: runs.length ? stepsPresent / runs.length : 0,
      longestRun: runs.length ? Math.max(...runs) : 0,
      resolved,
      reappeared,
    };
  });
}

/**
 * Pearson's correlation coefficient; NaN when either series is constant or shorter than 2.
 *
 * @example
 * ```ts
 * import { pearson } from "./analysis_tables.ts";
 * if (pearson([1, 2, 3], [2, 4, 6]) !== 1) throw new Error();
 * ```
 */
export function pearson(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new RangeError("pearson: series differ in length");
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Ranks with ties given their average rank (1-based), as Spearman's rho needs. */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const ranks = new Array<number>(xs.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.x === order[start]!.x) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = rank;
    start = end + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation (Pearson on average ranks, so ties are handled).
 *
 * @example
 * ```ts
 * import { spearman } from "./analysis_tables.ts";
 * if (spearman([1, 2, 3, 4], [1, 8, 27, 64]) !== 1) throw new Error();
 * ```
 */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  return pearson(averageRanks(xs), averageRanks(ys));
}

/** One point of the prompt length vs dev score analysis. */
export interface LengthPoint {
  run: string;
  step: number;
  promptTokens: number;
  devScore: number;
}

/** Prompt length against dev score with both correlations. */
export function lengthVsScore(points: readonly LengthPoint[]): {
  points: LengthPoint[];
  pearson: number;
  spearman: number;
} {
  const xs = points.map((p) => p.promptTokens);
  const ys = points.map((p) => p.devScore);
  return { points: [...points], pearson: pearson(xs, ys), spearman: spearman(xs, ys) };
}

function uniqueSorted(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}
