/**
 * `rpt show RUN_DIR`: a readable summary of a run: the iterations table, the selected
 * prompt, the test result with its interval, and the cost. Works on unfinished runs too
 * (from their checkpoint).
 *
 * @module
 */
import { simulationBanner, specsAreSimulated } from "../llm/spec.ts";
import { loadRun, type RunRecord } from "../run/reader.ts";
import type { StepSummary } from "../run/schema.ts";
import { costText, fixed } from "../util/format.ts";
import { failedCallsText, incompleteText, runFailedCallsText } from "../incomplete.ts";
import { exactlyOneRunDir, flagHelp, parseCommandArgs } from "./args.ts";
import { settingsLines } from "./settings_text.ts";
import { hint } from "./hints.ts";
import { comparisonLine, iterationsTable, selectionNote } from "./iterations.ts";

const HELP = `usage: rpt show RUN_DIR [--json]

Prints the iterations table (what selection means for the task), the selected prompt, the
test result with its bootstrap interval against the seed, and the cost.

${flagHelp("json", ": summary.json and usage.json")}`;

/** A figure of the table: `-` when absent. */
const f = (x: number | null | undefined, digits = 3) => fixed(x, digits, "-");

/**
 * The text `rpt show` prints for a loaded run.
 *
 * @example
 * ```ts ignore
 * import { loadRun } from "../run/reader.ts";
 * import { formatRun } from "./show.ts";
 * console.log(formatRun(await loadRun("runs/my-run")));
 * ```
 */
export function formatRun(run: RunRecord): string {
  const steps: StepSummary[] = run.summary?.steps ?? run.state?.steps ?? [];
  const c = run.config;
  const lines: string[] = [];
  const simulated = run.summary?.simulated ?? specsAreSimulated(c);
  lines.push(
    `run ${run.dir}`,
    ...(simulated ? [simulationBanner(c) ?? "SIMULATED"] : []),
    ...settingsLines(c),
    "",
  );
  lines.push(iterationsTable(steps), "", selectionNote(steps, run.summary));
  const compacted = steps.filter((s) => s.memoryCompaction !== undefined);
  if (compacted.length > 0) {
    lines.push(
      `memory compacted to fit its budget at step(s) ${
        compacted.map((s) =>
          `${s.step} (${s.memoryCompaction?.compacted} compacted, ` +
          `${s.memoryCompaction?.omitted} left out)`
        ).join(", ")
      }`,
    );
  }
  for (const s of steps) {
    const failed = failedCallsText(s.failedCalls);
    if (failed) lines.push(`warning: step ${s.step}: ${failed}`);
  }
  const sum = run.summary;
  if (run.incomplete !== null) {
    const i = run.incomplete;
    lines.push("", hint(incompleteText({ ...i, step: i.step }, run.dir)));
  }
  if (sum === null) {
    const done = run.state?.completedSteps ?? 0;
    lines.push(
      "",
      hint(`not finished: ${done} complete step(s); continue with: rpt resume ${run.dir}`),
    );
  } else {
    const failed = runFailedCallsText(sum);
    if (failed) lines.push("", `warning: in all, ${failed} (--max-error-rate ${c.maxErrorRate})`);
    lines.push("", `stopped: ${sum.stop.kind}: ${sum.stop.reason}`);
    lines.push(
      `selected: step ${sum.selected.step}, dev ${f(sum.selected.dev.score, 4)}, ` +
        `test ${f(sum.selected.test?.score, 4)} (seed test ${f(sum.seed.test?.score, 4)})`,
    );
    if (sum.headline) {
      const h = sum.headline;
      lines.push(
        `${h.name}: selected dev ${f(h.selected.dev, 4)}, test ${f(h.selected.test, 4)}; ` +
          `seed dev ${f(h.seed.dev, 4)}, test ${f(h.seed.test, 4)}`,
      );
    }
    const comparison = comparisonLine(sum);
    if (comparison !== undefined) lines.push(comparison);
    lines.push("", "selected prompt:");
    for (const [field, value] of Object.entries(sum.selected.prompt)) {
      lines.push(`--- ${field} ---`, value);
    }
  }
  if (run.usage) {
    const t = run.usage.total;
    lines.push(
      "",
      `cost: ${costText(t.usd, t.unpriced)}; ${t.calls} paid calls, ${t.cacheHits} cache hits, ` +
        `${t.inputTokens} input / ${t.outputTokens} output tokens; ${run.usage.sessions.length} session(s)`,
    );
  }
  return lines.join("\n");
}

/** `rpt show`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  }, " (see 'rpt show --help')");
  if (parsed.values.help) {
    console.log(hint(HELP));
    return 0;
  }
  const dir = exactlyOneRunDir(parsed.positionals, "rpt show RUN_DIR");
  const record = await loadRun(dir);
  if (parsed.values.json) {
    console.log(JSON.stringify({ summary: record.summary, usage: record.usage }, null, 2));
  } else {
    console.log(formatRun(record));
  }
  return 0;
}
