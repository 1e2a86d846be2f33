/**
 * How a run's iterations read on the command line, the same after `rpt demo`, after
 * `rpt optimize` and `rpt resume`, and in `rpt show`: the iterations table, one paragraph
 * that explains the selection value (the task's formula, and the selected prompt's value
 * taken apart) and the extra `final` step, and the test comparison of the selected prompt
 * with the seed.
 *
 * @module
 */
import type { RunSummary, StepSummary } from "../run/schema.ts";
import { fixed, probability, signed } from "../util/format.ts";

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** What followed a step: the patch that made the next step's prompt, a stop, or nothing. */
function thenText(s: StepSummary): string {
  const by = s.by === "hand" ? "(by hand) " : "";
  const rejected = s.rejections.length > 0 ? ` (${s.rejections.length} rejected first)` : "";
  if (s.action === "patch") return `${by}${s.rationale ?? ""}${rejected}`;
  if (s.action === "stop") return `stop: ${s.stopReason ?? ""}`;
  return "–";
}

/**
 * The iterations table as fixed-width text: per step its train, dev and test scores, dev
 * Brier, selection value, whether it became the best (★), its failure topics, and what
 * came next, the patch that produced the next step's prompt (its rationale) or a stop.
 *
 * @example
 * ```ts ignore
 * import { iterationsTable } from "./iterations.ts";
 * console.log(iterationsTable(summary.steps));
 * ```
 */
export function iterationsTable(steps: readonly StepSummary[]): string {
  const head = [
    "step",
    "train",
    "dev",
    "test",
    "dev Brier",
    "selection",
    "best",
    "failure topics",
    "then (patch -> next step)",
  ];
  const rows = steps.map((s) => [
    s.kind === "final" ? `${s.step}*` : String(s.step),
    fixed(s.train?.score),
    fixed(s.dev.score),
    fixed(s.test?.score),
    fixed(s.dev.brier),
    fixed(s.selection, 4),
    s.selected ? "★" : "",
    cut(s.topics.join("; ") || "–", 44),
    cut(thenText(s), 64),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * The paragraph under the table: what "selection" is for this task (its formula, and why
 * it can exceed the dev score), the selected prompt's value taken apart when the run
 * recorded it, and what the starred `final` step is.
 */
export function selectionNote(
  steps: readonly StepSummary[],
  summary: Pick<RunSummary, "selectionFormula" | "selected"> | null,
): string {
  const formula = summary?.selectionFormula ?? "the task's selection function";
  const lines = [
    `selection = ${formula}, on dev`,
    "  (higher is better; a sum of terms, not a score). ★ marks each step that beat every",
    "  earlier one; the selected prompt is the last ★.",
  ];
  const b = summary?.selected.breakdown;
  if (summary && b) {
    lines.push(
      `  selected step ${summary.selected.step}: ${fixed(summary.selected.selection, 4)} = ` +
        `${fixed(b.task, 4)} (task term) - ${fixed(-b.brier, 4)} (Brier) - ` +
        `${fixed(-b.length, 4)} (length).`,
    );
  }
  const final = steps.find((s) => s.kind === "final");
  if (final !== undefined) {
    lines.push(
      `* step ${final.step} (final) is the last patch's prompt, scored on dev only (it was ` +
        "not diagnosed).",
    );
  }
  return lines.join("\n");
}

/**
 * The test comparison of the selected prompt with the seed, named by the selected step
 * (it is the final step only when the final step was the best), or undefined without one.
 */
export function comparisonLine(summary: RunSummary): string | undefined {
  const k = summary.comparison;
  if (k === null) return undefined;
  const which = `selected (step ${summary.selected.step}) - seed`;
  return `${which} on test: ${signed(k.delta, 4)}, 95% CI [${fixed(k.lo, 4)}, ` +
    `${fixed(k.hi, 4)}], P(selected better) ${probability(k.probabilityFinalGreater)} ` +
    `(paired bootstrap, n = ${k.n}, ${k.iterations} resamples)`;
}
