/**
 * How figures are written for people: fixed decimals, signed deltas, dollars, percents,
 * rounding for JSON payloads, and the "(simulated)" label. The command line, the HTML
 * report, the Markdown tables, the plots and the notebooks all format through here, so one
 * figure reads the same everywhere.
 *
 * @module
 */

/** What a missing (null, undefined or non-finite) figure prints as by default. */
export const MISSING = "–";

/**
 * A number with `digits` decimals; `missing` for null, undefined, NaN or an infinity.
 *
 * @example
 * ```ts
 * import { fixed } from "./format.ts";
 * if (fixed(0.12345) !== "0.123" || fixed(2, 1) !== "2.0") throw new Error();
 * if (fixed(null) !== "–" || fixed(undefined, 3, "n/a") !== "n/a" || fixed(NaN) !== "–") {
 *   throw new Error();
 * }
 * ```
 */
export function fixed(x: number | null | undefined, digits = 3, missing = MISSING): string {
  return x === null || x === undefined || !Number.isFinite(x) ? missing : x.toFixed(digits);
}

/**
 * A change with its sign: `+` before zero and gains, `-` before losses.
 *
 * @example
 * ```ts
 * import { signed } from "./format.ts";
 * if (signed(0.21) !== "+0.210" || signed(-0.05, 2) !== "-0.05" || signed(0) !== "+0.000") {
 *   throw new Error();
 * }
 * if (signed(null, 3, "n/a") !== "n/a") throw new Error();
 * ```
 */
export function signed(x: number | null | undefined, digits = 3, missing = MISSING): string {
  const text = fixed(x, digits, missing);
  return x !== null && x !== undefined && Number.isFinite(x) && x >= 0 ? `+${text}` : text;
}

/**
 * Dollars with `digits` decimals (4 by default: single calls cost fractions of a cent).
 *
 * @example
 * ```ts
 * import { usd } from "./format.ts";
 * if (usd(0.00123) !== "$0.0012" || usd(3.5, 2) !== "$3.50") throw new Error();
 * ```
 */
export function usd(x: number, digits = 4): string {
  return `$${x.toFixed(digits)}`;
}

/**
 * The cost of a usage total whose models may not all have a known price: never `$0.0000` for
 * calls nobody priced. `unpriced` lists those models (`provider:model`).
 *
 * @example
 * ```ts
 * import { costText } from "./format.ts";
 * if (costText(0.5, []) !== "$0.5000") throw new Error();
 * if (costText(0, ["openai-compatible:q"]) !== "unpriced (openai-compatible:q)") throw new Error();
 * if (costText(0.5, ["x:y"]) !== "$0.5000 + unpriced (x:y)") throw new Error();
 * ```
 */
export function costText(x: number, unpriced: readonly string[], digits = 4): string {
  if (unpriced.length === 0) return usd(x, digits);
  const names = `unpriced (${unpriced.join(", ")})`;
  return x > 0 ? `${usd(x, digits)} + ${names}` : names;
}

/**
 * A share in [0, 1] as a whole percent.
 *
 * @example
 * ```ts
 * import { percent } from "./format.ts";
 * if (percent(0.456) !== "46%" || percent(1) !== "100%") throw new Error();
 * ```
 */
export function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/**
 * `x` rounded to `digits` decimals, as a number (for JSON a model or a person reads).
 *
 * @example
 * ```ts
 * import { roundTo } from "./format.ts";
 * if (roundTo(0.123456, 4) !== 0.1235 || roundTo(2.5, 0) !== 3) throw new Error();
 * ```
 */
export function roundTo(x: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(x * scale) / scale;
}

/**
 * The label a title or caption carries when its figures come from the offline simulator:
 * `" (simulated)"`, or nothing.
 *
 * @example
 * ```ts
 * import { simulatedSuffix } from "./format.ts";
 * if (`Metrics${simulatedSuffix(true)}` !== "Metrics (simulated)") throw new Error();
 * if (simulatedSuffix(false) !== "") throw new Error();
 * ```
 */
export function simulatedSuffix(simulated: boolean | undefined): string {
  return simulated ? " (simulated)" : "";
}

/**
 * A duration for people: `45s`, `1m12s`, `1h05m` (seconds dropped from an hour on); a
 * negative or non-finite one is `0s`.
 *
 * @example
 * ```ts
 * import { duration } from "./format.ts";
 * if (duration(45_400) !== "45s" || duration(72_000) !== "1m12s" || duration(3_900_000) !== "1h05m") {
 *   throw new Error();
 * }
 * if (duration(-5) !== "0s") throw new Error();
 * ```
 */
export function duration(ms: number): string {
  const s = Number.isFinite(ms) && ms > 0 ? Math.round(ms / 1000) : 0;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * A count in a few characters: `950`, `12.3k`, `1.2M`.
 *
 * @example
 * ```ts
 * import { compactCount } from "./format.ts";
 * if (compactCount(950) !== "950" || compactCount(12_345) !== "12.3k" || compactCount(1_234_567) !== "1.2M") {
 *   throw new Error();
 * }
 * ```
 */
export function compactCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/**
 * A probability estimated from resamples (a bootstrap's "P(selected better)"), with three
 * decimals everywhere it is shown; a value that is not exactly 0 or 1 never rounds to
 * them (`> 0.999`, `< 0.001`).
 *
 * @example
 * ```ts
 * import { probability } from "./format.ts";
 * if (probability(0.998) !== "0.998" || probability(1) !== "1.000") throw new Error();
 * if (probability(0.9996) !== "> 0.999" || probability(0.0004) !== "< 0.001") throw new Error();
 * ```
 */
export function probability(p: number | null | undefined, missing = MISSING): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return missing;
  if (p > 0.999 && p < 1) return "> 0.999";
  if (p > 0 && p < 0.001) return "< 0.001";
  return p.toFixed(3);
}
