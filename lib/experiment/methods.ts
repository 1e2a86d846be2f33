/**
 * The methods an experiment plan can name, and how each runs: RPT through the real session
 * (`optimize` / `continueRun` of `lib/revise/`), the baselines through the comparison
 * harness (`compare` of `lib/baselines/`). Confidence awareness is part of the method
 * (`rpt-ca`, `gepa-ca`: the paper's Table 2), not a loose setting, so a table row names
 * exactly what ran.
 *
 * @module
 */

/** A method's name in plans (and its harness name for the baselines). */
export const METHOD_NAMES = ["rpt", "rpt-ca", "gepa", "gepa-ca", "mipro", "ace"] as const;
/** A method's name in plans. */
export type MethodName = (typeof METHOD_NAMES)[number];

/** How a method runs and what its table rows say. */
export interface MethodInfo {
  /** `rpt`: the revision loop's session; `baseline`: one method of the comparison harness. */
  runner: "rpt" | "baseline";
  /** Selection (and, for GEPA, feedback) with calibration: the paper's Table 2 methods. */
  confidenceAware: boolean;
  /** The row label in tables. */
  label: string;
}

/** Every method of {@linkcode METHOD_NAMES}. */
export const METHODS: Readonly<Record<MethodName, MethodInfo>> = {
  rpt: { runner: "rpt", confidenceAware: false, label: "RPT" },
  "rpt-ca": { runner: "rpt", confidenceAware: true, label: "RPT (confidence-aware)" },
  gepa: { runner: "baseline", confidenceAware: false, label: "GEPA" },
  "gepa-ca": { runner: "baseline", confidenceAware: true, label: "GEPA (confidence-aware)" },
  mipro: { runner: "baseline", confidenceAware: false, label: "MIPRO" },
  ace: { runner: "baseline", confidenceAware: false, label: "ACE" },
};

/**
 * The information of method `name`.
 *
 * @example
 * ```ts
 * import { methodInfo } from "./methods.ts";
 * if (methodInfo("gepa-ca").runner !== "baseline" || !methodInfo("rpt-ca").confidenceAware) {
 *   throw new Error();
 * }
 * ```
 */
export function methodInfo(name: MethodName): MethodInfo {
  return METHODS[name];
}

/** What batch mode leaves interactive, in the words every surface of an experiment uses. */
export const BASELINES_INTERACTIVE = "baseline cells run interactive calls under --batch";

/**
 * The note of a batch plan (`batch: true`) with baseline methods, undefined otherwise: only
 * RPT cells send their full-split evaluations and critiques as batch jobs, so every call of
 * a baseline cell is interactive and priced at interactive rates.
 *
 * @example
 * ```ts
 * import { batchBaselineNote } from "./methods.ts";
 * if (batchBaselineNote(false, ["gepa"]) !== undefined) throw new Error();
 * if (batchBaselineNote(true, ["rpt", "rpt-ca"]) !== undefined) throw new Error();
 * if (!batchBaselineNote(true, ["rpt", "gepa", "mipro"])?.includes("(GEPA, MIPRO)")) throw new Error();
 * ```
 */
export function batchBaselineNote(
  batch: boolean,
  methods: readonly MethodName[],
): string | undefined {
  if (!batch) return undefined;
  const labels = [
    ...new Set(
      methods.filter((m) => METHODS[m].runner === "baseline").map((m) => METHODS[m].label),
    ),
  ];
  if (labels.length === 0) return undefined;
  return `batch: ${BASELINES_INTERACTIVE} (${labels.join(", ")}): all their calls are ` +
    `interactive, at interactive prices; only RPT cells send their full-split evaluations ` +
    `and critiques as batch jobs`;
}
