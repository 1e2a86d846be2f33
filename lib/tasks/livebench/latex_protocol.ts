/**
 * What the LaTeX equivalence worker and its caller share: the request and verdict shapes,
 * and the numeric comparison, kept free of the compute engine so it can be tested alone.
 *
 * @module
 */

/** How lenient a comparison is, per AMPS_Hard subtask. */
export interface LatexCheckMode {
  /** Accept a constant difference (antiderivatives "can vary by a constant"). */
  constantOffset?: boolean;
  /** Accept the negation (a characteristic polynomial's sign convention). */
  negation?: boolean;
}

/** One request to the worker. */
export interface LatexCheckRequest extends LatexCheckMode {
  /** Shared buffer: Int32 state (0 queued, 1 started, 2 done), Int32 length, then JSON. */
  buffer: SharedArrayBuffer;
  gold: string;
  predicted: string;
}

/** How a comparison ended. */
export type LatexMethod =
  | "same" // structurally identical after the engine's canonical form
  | "numeric_constant" // both constant and within 0.001 (upstream's tolerance)
  | "numeric_sampling" // equal at every sample point
  | "constant_offset" // differ by a constant (allowed for integrals)
  | "negation" // negatives of each other (allowed for characteristic polynomials)
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
 * Compares two expressions by value: constants within {@linkcode CONSTANT_TOLERANCE}
 * (absolute, as upstream); otherwise at fixed sample points, each within a relative
 * {@linkcode SAMPLE_TOLERANCE}, needing {@linkcode MIN_SAMPLES} finite points. When each
 * side has exactly one variable and their names differ (`x` vs `\lambda`), they are
 * identified. With `constantOffset`, variables only the prediction has (a leftover
 * integration constant) are set to 0.
 *
 * @example
 * ```ts
 * import { compareNumerically } from "./latex_protocol.ts";
 * const half = { unknowns: ["x"], value: (at: Record<string, number>) => [at.x! / 2, 0] as [number, number] };
 * const alsoHalf = { unknowns: ["t"], value: (at: Record<string, number>) => [0.5 * at.t!, 0] as [number, number] };
 * if (compareNumerically(half, alsoHalf, {}).method !== "numeric_sampling") throw new Error();
 * ```
 */
export function compareNumerically(
  gold: Evaluable,
  predicted: Evaluable,
  mode: LatexCheckMode,
): LatexVerdict {
  const goldVars = [...gold.unknowns].sort();
  let predVars = [...predicted.unknowns].sort();
  const rename = new Map<string, string>();
  if (goldVars.length === 1 && predVars.length === 1 && goldVars[0] !== predVars[0]) {
    rename.set(predVars[0] as string, goldVars[0] as string);
    predVars = [...goldVars];
  }
  const extra = predVars.filter((v) => !goldVars.includes(v));
  if (goldVars.length === 0 && extra.length === 0) return compareConstants(gold, predicted, mode);
  if (extra.length > 0 && !(mode.constantOffset && goldVars.length > 0)) {
    return { equivalent: false, method: "different", detail: `unknowns ${extra.join(",")}` };
  }
  const diffs: ComplexValue[] = [];
  const sums: ComplexValue[] = [];
  const scales: number[] = [];
  let allClose = true;
  for (let i = 0; i < POINTS.length; i++) {
    const at: Record<string, number> = {};
    goldVars.forEach((v, k) => at[v] = POINTS[(i + 3 * k) % POINTS.length] as number);
    const predAt: Record<string, number> = {};
    for (const v of predicted.unknowns) predAt[v] = at[rename.get(v) ?? v] ?? 0;
    const g = gold.value(at);
    const p = predicted.value(predAt);
    if (g === undefined || p === undefined) continue;
    if (!closeRelative(g, p)) allClose = false;
    diffs.push([g[0] - p[0], g[1] - p[1]]);
    sums.push([g[0] + p[0], g[1] + p[1]]);
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
  if (mode.constantOffset && diffs.every((d, i) => within(d, first, i))) {
    return { equivalent: true, method: "constant_offset", detail: `offset ${first.join("+i*")}` };
  }
  if (mode.negation && sums.every((s, i) => within(s, [0, 0], i))) {
    return { equivalent: true, method: "negation" };
  }
  return { equivalent: false, method: "different" };
}

function compareConstants(
  gold: Evaluable,
  predicted: Evaluable,
  mode: LatexCheckMode,
): LatexVerdict {
  const g = gold.value({});
  const p = predicted.value({});
  if (g === undefined || p === undefined) {
    return { equivalent: false, method: "not_comparable", detail: "no finite value" };
  }
  const detail = `${g.join("+i*")} vs ${p.join("+i*")}`;
  if (distance(g, p) < CONSTANT_TOLERANCE) {
    return { equivalent: true, method: "numeric_constant", detail };
  }
  if (mode.negation && magnitude([g[0] + p[0], g[1] + p[1]]) < CONSTANT_TOLERANCE) {
    return { equivalent: true, method: "negation", detail };
  }
  return { equivalent: false, method: "different", detail };
}
