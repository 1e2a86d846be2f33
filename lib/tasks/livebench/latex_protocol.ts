/**
 * What the LaTeX equivalence worker and its caller share: the request and verdict shapes,
 * and the numeric comparison, kept free of the compute engine so it can be tested alone.
 *
 * @module
 */

/** One request to the worker. */
export interface LatexCheckRequest {
  /** Shared buffer: Int32 state (0 queued, 1 started, 2 done), Int32 length, then JSON. */
  buffer: SharedArrayBuffer;
  gold: string;
  predicted: string;
}

/** How a comparison ended. */
export type LatexMethod =
  | "same" // structurally identical after the engine's canonical form
  | "numeric_constant" // the difference is a constant below 0.001 (upstream's tolerance)
  | "numeric_sampling" // equal at every sample point
  | "different"
  | "parse_error"
  | "not_comparable" // no finite value at enough points
  | "timeout"
  | "engine_error";

/** The verdict on one pair of expressions. */
export interface LatexVerdict {
  equivalent: boolean;
  method: LatexMethod;
  /** Which side failed to parse, the values compared, or the error. */
  detail?: string;
}

/** A complex number as `[re, im]`. */
export type ComplexValue = [number, number];

/** An expression the numeric comparison can evaluate. */
export interface Evaluable {
  /** Its free variables. */
  unknowns: string[];
  /** Its value with the variables bound, or undefined when not a finite number. */
  value(at: Record<string, number>): ComplexValue | undefined;
}

/** Upstream accepts `|simplify(gold - predicted)| < 0.001` for constant expressions. */
export const CONSTANT_TOLERANCE = 1e-3;
/** Relative tolerance at each sample point. */
export const SAMPLE_TOLERANCE = 1e-6;
/** Sample points need at least this many finite values on both sides. */
export const MIN_SAMPLES = 3;
// Fixed points (so scores are reproducible), mostly positive so roots and logarithms stay
// on their principal real branch, none at a simple rational where poles often sit.
const POINTS = [0.731, 1.318, 2.267, 1.873, 0.412, 2.941, 3.377, 1.049, 2.593, 0.618];

function distance(a: ComplexValue, b: ComplexValue): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function magnitude(a: ComplexValue): number {
  return Math.hypot(a[0], a[1]);
}

function closeRelative(a: ComplexValue, b: ComplexValue): boolean {
  return distance(a, b) <= SAMPLE_TOLERANCE * Math.max(1, magnitude(a), magnitude(b));
}

/**
 * Compares two expressions by value, standing in for upstream's sympy test (`simplify(gold -
 * predicted) == 0`, or a difference that is a constant of absolute value below
 * {@linkcode CONSTANT_TOLERANCE}): equal when equal at fixed sample points, each within a
 * relative {@linkcode SAMPLE_TOLERANCE} (needing {@linkcode MIN_SAMPLES} finite points), or
 * when the difference is the same constant at every point and below the tolerance. As
 * upstream, nothing else is lenient: a prediction with a variable the gold lacks (`+ K`, or
 * `t` for `x`) is different, an antiderivative off by a larger constant is different, and
 * so is a negated polynomial.
 *
 * @example
 * ```ts
 * import { compareNumerically } from "./latex_protocol.ts";
 * const half = { unknowns: ["x"], value: (at: Record<string, number>) => [at.x! / 2, 0] as [number, number] };
 * const alsoHalf = { unknowns: ["x"], value: (at: Record<string, number>) => [0.5 * at.x!, 0] as [number, number] };
 * if (compareNumerically(half, alsoHalf).method !== "numeric_sampling") throw new Error();
 * const shifted = { unknowns: ["x"], value: (at: Record<string, number>) => [at.x! / 2 + 1, 0] as [number, number] };
 * if (compareNumerically(half, shifted).equivalent) throw new Error("a constant offset is wrong");
 * ```
 */
export function compareNumerically(gold: Evaluable, predicted: Evaluable): LatexVerdict {
  const goldVars = [...gold.unknowns].sort();
  const extra = predicted.unknowns.filter((v) => !goldVars.includes(v)).sort();
  if (extra.length > 0) {
    return { equivalent: false, method: "different", detail: `unknowns ${extra.join(",")}` };
  }
  if (goldVars.length === 0) return compareConstants(gold, predicted);
  const diffs: ComplexValue[] = [];
  const scales: number[] = [];
  let allClose = true;
  for (let i = 0; i < POINTS.length; i++) {
    const at: Record<string, number> = {};
    goldVars.forEach((v, k) => at[v] = POINTS[(i + 3 * k) % POINTS.length] as number);
    const predAt: Record<string, number> = {};
    for (const v of predicted.unknowns) predAt[v] = at[v] ?? 0;
    const g = gold.value(at);
    const p = predicted.value(predAt);
    if (g === undefined || p === undefined) continue;
    if (!closeRelative(g, p)) allClose = false;
    diffs.push([g[0] - p[0], g[1] - p[1]]);
    scales.push(Math.max(1, magnitude(g), magnitude(p)));
  }
  if (diffs.length < MIN_SAMPLES) {
    return { equivalent: false, method: "not_comparable", detail: `${diffs.length} finite points` };
  }
  if (allClose) return { equivalent: true, method: "numeric_sampling" };
  // Cancellation leaves errors on the scale of the values, not of their difference.
  const within = (a: ComplexValue, b: ComplexValue, i: number) =>
    distance(a, b) <= SAMPLE_TOLERANCE * Math.max(scales[i] ?? 1, scales[0] ?? 1);
  const first = diffs[0] as ComplexValue;
  if (magnitude(first) < CONSTANT_TOLERANCE && diffs.every((d, i) => within(d, first, i))) {
    return { equivalent: true, method: "numeric_constant", detail: `offset ${first.join("+i*")}` };
  }
  return { equivalent: false, method: "different" };
}

function compareConstants(gold: Evaluable, predicted: Evaluable): LatexVerdict {
  const g = gold.value({});
  const p = predicted.value({});
  if (g === undefined || p === undefined) {
    return { equivalent: false, method: "not_comparable", detail: "no finite value" };
  }
  const detail = `${g.join("+i*")} vs ${p.join("+i*")}`;
  if (distance(g, p) < CONSTANT_TOLERANCE) {
    return { equivalent: true, method: "numeric_constant", detail };
  }
  return { equivalent: false, method: "different", detail };
}
