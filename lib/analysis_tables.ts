/**
 * The pure tables of the trace analyses (paper section 4.3): alignment of patch topics with
 * failure topics, next-step deltas per topic, persistence of failure topics, and prompt
 * length against dev score. They take plain per-step data, so they are exact and testable
 * on hand-made records; `analysis.ts` builds that data from run records.
 *
 * @module
 */
import { z } from "zod";
import { type BootstrapInterval, bootstrapInterval } from "./metrics.ts";

/** One transition t -> t+1 of a run, reduced to topics and next-step deltas. */
export const Transition = z.object({
  /** Which run the transition belongs to (for pooled analyses). */
  run: z.string(),
  /** Step t. */
  step: z.number().int(),
  /** Failure topics present at step t. */
  failureTopics: z.array(z.string()),
  /** Patch topics present in the edit t -> t+1. */
  patchTopics: z.array(z.string()),
  /** Task score on the optimization split at t+1 minus at t. */
  deltaScore: z.number(),
  /** Brier on the optimization split at t+1 minus at t (null when either is undefined). */
  deltaBrier: z.number().nullable(),
});
/** One transition of the trace analyses. */
export type Transition = z.infer<typeof Transition>;

/** One cell of the alignment table: P(patch topic | failure topic) with counts and lift. */
export const AlignmentCell = z.object({
  failureTopic: z.string(),
  patchTopic: z.string(),
  /** Transitions with both topics. */
  both: z.number().int().min(0),
  /** Transitions with the failure topic. */
  failureCount: z.number().int().min(0),
  /** both / failureCount. */
  probability: z.number().min(0).max(1),
  /** Transitions with the patch topic (over all transitions). */
  patchCount: z.number().int().min(0),
  /** P(patch | failure) / P(patch): above 1 when the patch follows the failure more than usual. */
  lift: z.number().nullable(),
});
/** One cell of the alignment table. */
export type AlignmentCell = z.infer<typeof AlignmentCell>;

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

/** The mean next-step change for one topic, with its count and bootstrap intervals. */
export const TopicDelta = z.object({
  topic: z.string(),
  kind: z.enum(["failure", "patch"]),
  count: z.number().int().min(0),
  meanDeltaScore: z.number(),
  scoreInterval: z.tuple([z.number(), z.number()]),
  /** Null when no transition with the topic has a Brier delta. */
  meanDeltaBrier: z.number().nullable(),
  brierInterval: z.tuple([z.number(), z.number()]).nullable(),
  /** Transitions whose Brier delta counted. */
  brierCount: z.number().int().min(0),
});
/** The mean next-step change for one topic. */
export type TopicDelta = z.infer<typeof TopicDelta>;

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
export const Persistence = z.object({
  topic: z.string(),
  /** Lengths of the runs of consecutive steps in which the topic is present. */
  runs: z.array(z.number().int().min(1)),
  /** Steps in which the topic is present. */
  stepsPresent: z.number().int().min(0),
  meanRunLength: z.number(),
  longestRun: z.number().int().min(0),
  /** Runs that ended before the last step of their run (the topic went away). */
  resolved: z.number().int().min(0),
  /** Runs after the first one (the topic came back). */
  reappeared: z.number().int().min(0),
});
/** How long a failure topic persists. */
export type Persistence = z.infer<typeof Persistence>;

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

/** One prompt's length (estimated tokens) against its dev score. */
export const LengthPoint = z.object({
  run: z.string(),
  step: z.number().int(),
  promptTokens: z.number().int().min(0),
  devScore: z.number(),
});
/** One point of the prompt length vs dev score analysis. */
export type LengthPoint = z.infer<typeof LengthPoint>;

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

/** Failure topics kept, dropped and added between two consecutive diagnosed steps. */
export const TopicChange = z.object({
  run: z.string(),
  step: z.number().int(),
  next: z.number().int(),
  /** Present at both steps. */
  repeated: z.number().int().min(0),
  /** Present at the first only. */
  resolved: z.number().int().min(0),
  /** Present at the second only. */
  new: z.number().int().min(0),
});
/** Failure topics kept, dropped and added between two steps. */
export type TopicChange = z.infer<typeof TopicChange>;

/**
 * Repeated / resolved / new topics between consecutive steps of each run (the reference's
 * transition summary): |A n B|, |A - B| and |B - A| of the topics present.
 *
 * @example
 * ```ts
 * import { topicChangeTable } from "./analysis_tables.ts";
 * const [c] = topicChangeTable([{ run: "r", steps: [
 *   { step: 1, topics: ["a", "b"] }, { step: 2, topics: ["b", "c", "d"] },
 * ] }]);
 * if (c?.repeated !== 1 || c.resolved !== 1 || c.new !== 2) throw new Error(JSON.stringify(c));
 * ```
 */
export function topicChangeTable(
  runs: readonly { run: string; steps: readonly { step: number; topics: readonly string[] }[] }[],
): TopicChange[] {
  return runs.flatMap(({ run, steps }) =>
    steps.slice(0, -1).map((a, i) => {
      const b = steps[i + 1] as (typeof steps)[number];
      const before = new Set(a.topics);
      const after = new Set(b.topics);
      const repeated = [...before].filter((t) => after.has(t)).length;
      return {
        run,
        step: a.step,
        next: b.step,
        repeated,
        resolved: before.size - repeated,
        new: after.size - repeated,
      };
    })
  );
}

function uniqueSorted(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}
