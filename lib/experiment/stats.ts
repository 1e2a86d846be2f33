/**
 * Statistics of the experiment tables: the mean over seeds with a 95% Student t-interval
 * (the runs of different seeds are the replicates; a bootstrap over two or three seeds
 * would be degenerate), and for a single run the percentile bootstrap over its test
 * examples (`lib/metrics.ts`).
 *
 * @module
 */
import { bootstrapInterval } from "../metrics.ts";

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/**
 * The 0.975 quantile of Student's t with `df` degrees of freedom (a table to 30, then
 * 2.000 to 60, 1.980 to 120 and 1.960 beyond).
 *
 * @example
 * ```ts
 * import { tQuantile975 } from "./stats.ts";
 * if (tQuantile975(1) !== 12.706 || tQuantile975(4) !== 2.776 || tQuantile975(1000) !== 1.96) throw new Error();
 * ```
 */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) {
    throw new RangeError(`df must be a positive integer, got ${df}`);
  }
  return T975[df - 1] ?? (df <= 60 ? 2.0 : df <= 120 ? 1.98 : 1.96);
}

/** A mean with its 95% interval and how it was made. */
export interface MeanInterval {
  mean: number;
  /** Null when no interval can be given (one value and no examples to resample). */
  lo: number | null;
  hi: number | null;
  /** Values averaged (seeds). */
  n: number;
  /** `t` (over seeds), `bootstrap` (over the test examples of one run), or `none`. */
  method: "t" | "bootstrap" | "none";
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Mean of `values` (one per seed) with the 95% t-interval `mean ± t(0.975, n-1) * s / sqrt(n)`
 * (s the sample standard deviation). With one value, the percentile bootstrap over
 * `examples` (the run's per-example values) when given, else no interval.
 *
 * @example
 * ```ts
 * import { meanInterval } from "./stats.ts";
 * const m = meanInterval([0.5, 0.7]);
 * // mean 0.6, s = 0.1414..., t(1) = 12.706: 0.6 ± 12.706 * 0.1
 * if (Math.abs(m.mean - 0.6) > 1e-12 || Math.abs((m.hi ?? 0) - 1.8706) > 1e-9) throw new Error();
 * ```
 */
export function meanInterval(
  values: readonly number[],
  examples?: readonly number[],
  options: { seed?: number; iterations?: number } = {},
): MeanInterval {
  if (values.length === 0) throw new RangeError("meanInterval: no values");
  const m = mean(values);
  if (values.length === 1) {
    if (examples === undefined || examples.length === 0) {
      return { mean: m, lo: null, hi: null, n: 1, method: "none" };
    }
    const ci = bootstrapInterval(examples, mean, {
      seed: options.seed ?? 0,
      iterations: options.iterations ?? 1000,
    });
    return { mean: m, lo: ci.lo, hi: ci.hi, n: 1, method: "bootstrap" };
  }
  const n = values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1));
  const half = tQuantile975(n - 1) * sd / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, n, method: "t" };
}
