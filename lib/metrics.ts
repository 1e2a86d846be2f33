/**
 * Aggregate metrics over scored items: task score, full credit, calibration (average
 * confidence, Brier, ECE with 10 equal-width bins, reliability bins), format-error and
 * provider-error rates, per-subtask scores, and seeded bootstrap intervals.
 *
 * Conventions: format errors and provider errors score 0 and count in `n`; calibration
 * figures use parsed items only (an unparsed output has no confidence).
 *
 * Two per-item facts a task may state in an item's `details`, so that metrics recomputed
 * from a trace file agree with the live run without knowing the task:
 * - `calibration_target` ({@linkcode CALIBRATION_TARGET_KEY}): what the confidence is
 *   calibrated against when it is not the score. HotPotQA scores F1 but states EM here, so
 *   its Brier, ECE and reliability bins are (confidence - EM)^2 and friends, as the paper's
 *   reference computes them.
 * - `unparsed_credit: true` ({@linkcode UNPARSED_CREDIT_KEY}): an unparsed output whose raw
 *   text the task scored anyway (LiveBench under the reference protocol). Its score then
 *   counts in `score`, `fullCredit` and `perSubtask`; it stays a format error (in
 *   `formatErrorRate`, without confidence, outside calibration). Without the flag a format
 *   error scores 0 whatever score it carries.
 *
 * @module
 */
import type { Metrics } from "./tasks/schema.ts";
import type { TraceItem } from "./trace.ts";
import { seededRandom } from "./util/random.ts";

/** The fields of a trace item that metrics read. */
export type TraceLike = Pick<
  TraceItem,
  "score" | "full" | "parsed" | "formatError" | "error" | "subtask" | "details"
>;

const BINS = 10;

/** The `details` key of an item's calibration target, when it is not the score. */
export const CALIBRATION_TARGET_KEY = "calibration_target";
/** The `details` key that marks an unparsed output whose raw text the task scored. */
export const UNPARSED_CREDIT_KEY = "unparsed_credit";

function creditedUnparsed(item: TraceLike): boolean {
  return item.error === undefined && item.details[UNPARSED_CREDIT_KEY] === true;
}

function effectiveScore(item: TraceLike): number {
  if (creditedUnparsed(item)) return item.score;
  return item.error !== undefined || item.formatError !== undefined || item.parsed === null
    ? 0
    : item.score;
}

/**
 * What an item's confidence is calibrated against: its `calibration_target` detail when it
 * is a number in [0, 1], else its score.
 *
 * @example
 * ```ts
 * import { calibrationTarget } from "./metrics.ts";
 * if (calibrationTarget({ score: 0.5, details: { calibration_target: 0 } }) !== 0) throw new Error();
 * if (calibrationTarget({ score: 0.5, details: {} }) !== 0.5) throw new Error();
 * ```
 */
export function calibrationTarget(item: Pick<TraceLike, "score" | "details">): number {
  const target = item.details[CALIBRATION_TARGET_KEY];
  return typeof target === "number" && target >= 0 && target <= 1 ? target : item.score;
}

function isParsed(
  item: TraceLike,
): item is TraceLike & { parsed: NonNullable<TraceLike["parsed"]> } {
  return item.parsed !== null && item.error === undefined && item.formatError === undefined;
}

function mean(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return xs.length === 0 ? 0 : sum / xs.length;
}

/**
 * Computes {@linkcode Metrics} over scored items.
 *
 * `extra` holds the mean of every `details` key whose values are numbers in [0, 1]
 * (for HotPotQA: `em`, `f1`, `precision`, `recall`), over all items, an item without the
 * key counting 0 (a format error has no F1, so it adds 0 to the mean as it does to `score`).
 *
 * @example
 * ```ts
 * import { computeMetrics } from "./metrics.ts";
 * const ok = (score: number, confidence: number) => ({
 *   score, full: score === 1, details: {}, parsed: { reasoning: "", answer: "", confidence },
 * });
 * const m = computeMetrics([ok(1, 0.8), ok(0, 0.6), { score: 0, full: false, parsed: null, formatError: "x", details: {} }]);
 * // Brier over the two parsed items: ((0.8-1)^2 + (0.6-0)^2) / 2 = 0.2
 * if (Math.abs(m.brier! - 0.2) > 1e-12 || Math.abs(m.formatErrorRate - 1 / 3) > 1e-12) throw new Error();
 * ```
 */
export function computeMetrics(items: readonly TraceLike[]): Metrics {
  const n = items.length;
  const parsedItems = items.filter(isParsed);
  const confidences = parsedItems.map((i) => i.parsed.confidence);
  const perSubtask: Metrics["perSubtask"] = {};
  const groups = new Map<string, number[]>();
  for (const item of items) {
    if (item.subtask === undefined) continue;
    const list = groups.get(item.subtask) ?? [];
    list.push(effectiveScore(item));
    groups.set(item.subtask, list);
  }
  for (const key of [...groups.keys()].sort()) {
    const scores = groups.get(key) as number[];
    perSubtask[key] = { n: scores.length, score: mean(scores) };
  }
  return {
    n,
    parsed: parsedItems.length,
    score: mean(items.map(effectiveScore)),
    fullCredit: mean(items.map((i) => (isParsed(i) || creditedUnparsed(i)) && i.full ? 1 : 0)),
    avgConfidence: parsedItems.length === 0 ? null : mean(confidences),
    brier: parsedItems.length === 0
      ? null
      : mean(parsedItems.map((i) => (i.parsed.confidence - calibrationTarget(i)) ** 2)),
    ece: parsedItems.length === 0 ? null : expectedCalibrationError(items),
    formatErrorRate: n === 0
      ? 0
      : items.filter((i) => i.error === undefined && !isParsed(i)).length / n,
    errorRate: n === 0 ? 0 : items.filter((i) => i.error !== undefined).length / n,
    perSubtask,
    extra: detailMeans(items),
  };
}

function detailMeans(items: readonly TraceLike[]): Record<string, number> {
  const eligible = new Map<string, boolean>();
  for (const item of items) {
    for (const [key, value] of Object.entries(item.details)) {
      if (key === CALIBRATION_TARGET_KEY) continue; // a copy of another detail (HotPotQA: em)
      const ok = typeof value === "number" && value >= 0 && value <= 1;
      eligible.set(key, (eligible.get(key) ?? true) && ok);
    }
  }
  const out: Record<string, number> = {};
  for (const [key, ok] of [...eligible].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    if (!ok) continue;
    out[key] = mean(items.map((i) => {
      const v = i.details[key];
      return typeof v === "number" && i.error === undefined ? v : 0;
    }));
  }
  return out;
}

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  /** Lower edge (inclusive). */
  lo: number;
  /** Upper edge (exclusive, except 1 for the last bin). */
  hi: number;
  /** Parsed items in the bin. */
  n: number;
  /** Mean confidence in the bin, or null when empty. */
  avgConfidence: number | null;
  /** Mean calibration target (the score unless the task states another) in the bin, or null. */
  avgScore: number | null;
}

/**
 * The 10 equal-width confidence bins of parsed items: [0, 0.1), ..., [0.9, 1.0].
 *
 * @example
 * ```ts
 * import { reliabilityBins } from "./metrics.ts";
 * const bins = reliabilityBins([{ score: 1, full: true, details: {}, parsed: { reasoning: "", answer: "", confidence: 1 } }]);
 * if (bins.length !== 10 || bins[9]?.n !== 1) throw new Error("1.0 belongs to the last bin");
 * ```
 */
export function reliabilityBins(items: readonly TraceLike[]): ReliabilityBin[] {
  const sums = Array.from({ length: BINS }, () => ({ n: 0, conf: 0, score: 0 }));
  for (const item of items) {
    if (!isParsed(item)) continue;
    const c = item.parsed.confidence;
    const bin = sums[Math.min(BINS - 1, Math.floor(c * BINS))] as (typeof sums)[number];
    bin.n++;
    bin.conf += c;
    bin.score += calibrationTarget(item);
  }
  return sums.map((s, i) => ({
    lo: i / BINS,
    hi: (i + 1) / BINS,
    n: s.n,
    avgConfidence: s.n === 0 ? null : s.conf / s.n,
    avgScore: s.n === 0 ? null : s.score / s.n,
  }));
}

/**
 * Expected calibration error over parsed items: `sum_b (n_b / N) * |conf_b - target_b|`
 * with 10 equal-width bins; null when nothing parsed.
 */
export function expectedCalibrationError(items: readonly TraceLike[]): number | null {
  const bins = reliabilityBins(items);
  const total = bins.reduce((n, b) => n + b.n, 0);
  if (total === 0) return null;
  let ece = 0;
  for (const b of bins) {
    if (b.n === 0) continue;
    ece += (b.n / total) * Math.abs((b.avgConfidence as number) - (b.avgScore as number));
  }
  return ece;
}

/** Options of the bootstrap functions. */
export interface BootstrapOptions {
  /** Resamples (default 1000). */
  iterations?: number;
  /** Seed of the resampling (default 0): the same seed gives the same interval. */
  seed?: number;
  /** Two-sided level: the interval covers 1 - alpha (default 0.05). */
  alpha?: number;
}

/** A point estimate with its percentile bootstrap interval. */
export interface BootstrapInterval {
  estimate: number;
  lo: number;
  hi: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lower = Math.floor(pos);
  const upper = Math.ceil(pos);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * (pos - lower);
}

function resolve(options: BootstrapOptions): Required<BootstrapOptions> {
  const iterations = options.iterations ?? 1000;
  const alpha = options.alpha ?? 0.05;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`iterations must be a positive integer, got ${iterations}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  return { iterations, alpha, seed: options.seed ?? 0 };
}

/**
 * Percentile bootstrap interval of `statFn` over `values` (resampled with replacement,
 * seeded). Works for any metric: pass trace items and `(s) => computeMetrics(s).brier ?? 0`.
 *
 * @example
 * ```ts
 * import { bootstrapInterval } from "./metrics.ts";
 * const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
 * const ci = bootstrapInterval([0, 1, 1, 0, 1, 1, 1, 0], mean, { iterations: 200, seed: 1 });
 * if (!(ci.lo <= ci.estimate && ci.estimate <= ci.hi) || ci.estimate !== 0.625) throw new Error();
 * ```
 */
export function bootstrapInterval<T>(
  values: readonly T[],
  statFn: (sample: T[]) => number,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const { iterations, seed, alpha } = resolve(options);
  const estimate = statFn([...values]);
  if (values.length === 0) return { estimate, lo: estimate, hi: estimate };
  const random = seededRandom(seed);
  const stats: number[] = [];
  for (let b = 0; b < iterations; b++) {
    const sample: T[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      sample[i] = values[Math.floor(random() * values.length)] as T;
    }
    stats.push(statFn(sample));
  }
  stats.sort((x, y) => x - y);
  return { estimate, lo: quantile(stats, alpha / 2), hi: quantile(stats, 1 - alpha / 2) };
}

/** A paired comparison: `delta = stat(a) - stat(b)` with its interval. */
export interface PairedBootstrapResult extends BootstrapInterval {
  /** stat(a) on the full data. */
  a: number;
  /** stat(b) on the full data. */
  b: number;
  /** Share of resamples in which stat(a) > stat(b). */
  probabilityAGreater: number;
}

/**
 * Paired bootstrap of `stat(a) - stat(b)` where `a[i]` and `b[i]` are the same example
 * under two systems (both resampled with the same indices).
 *
 * @example
 * ```ts
 * import { pairedBootstrap } from "./metrics.ts";
 * const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
 * const r = pairedBootstrap([1, 1, 1, 0], [0, 1, 0, 0], mean, { iterations: 100 });
 * if (r.estimate !== 0.5 || r.probabilityAGreater < 0.5) throw new Error();
 * ```
 */
export function pairedBootstrap<T>(
  a: readonly T[],
  b: readonly T[],
  statFn: (sample: T[]) => number,
  options: BootstrapOptions = {},
): PairedBootstrapResult {
  if (a.length !== b.length) {
    throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  }
  const { iterations, seed, alpha } = resolve(options);
  const statA = statFn([...a]);
  const statB = statFn([...b]);
  const estimate = statA - statB;
  if (a.length === 0) {
    return { estimate, lo: estimate, hi: estimate, a: statA, b: statB, probabilityAGreater: 0 };
  }
  const random = seededRandom(seed);
  const deltas: number[] = [];
  let greater = 0;
  for (let r = 0; r < iterations; r++) {
    const sa: T[] = new Array(a.length);
    const sb: T[] = new Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const k = Math.floor(random() * a.length);
      sa[i] = a[k] as T;
      sb[i] = b[k] as T;
    }
    const d = statFn(sa) - statFn(sb);
    if (d > 0) greater++;
    deltas.push(d);
  }
  deltas.sort((x, y) => x - y);
  return {
    estimate,
    lo: quantile(deltas, alpha / 2),
    hi: quantile(deltas, 1 - alpha / 2),
    a: statA,
    b: statB,
    probabilityAGreater: greater / iterations,
  };
}
