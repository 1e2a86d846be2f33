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
