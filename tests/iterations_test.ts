/**
 * `rpt optimize`'s output reads like the demo's: one iterations table (demo, optimize, show),
 * selection explained once with the task's formula and the selected value taken apart, the
 * final step explained, the comparison named by the selected step, and one rounding rule for
 * "P(selected better)" in show, the HTML report, the demo and the notebooks.
 */
import assert from "node:assert/strict";
import { demoSummaryText } from "../lib/cli/demo.ts";
import { comparisonLine, iterationsTable, selectionNote } from "../lib/cli/iterations.ts";
import { runReportHtml } from "../lib/cli/report.ts";
import { formatRun } from "../lib/cli/show.ts";
import { renderRunHtml } from "../lib/notebook.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { loadRun } from "../lib/run/reader.ts";
import type { RunSummary } from "../lib/run/schema.ts";
import { tempDir } from "./support/toy_loop.ts";

async function simulatedRun(dir: string) {
  const result = await optimize({
    task: "synthetic",
    target: "sim:target",
    optimizer: "sim:optimizer",
    critic: "sim:critic",
    embedder: "sim:embed",
    iterations: 3,
    confidenceAware: true,
    limits: { train: 30, dev: 30, test: 30 },
    cache: `${dir}/cache.sqlite`,
    dataDir: "/nonexistent-rpt-data",
  }, { runDir: `${dir}/run` });
  return await loadRun(result.dir, { records: true });
}

Deno.test("the iterations table: one row per step, the final step starred, what came next", async () => {
  await using dir = await tempDir();
  const run = await simulatedRun(dir.path);
  const s = run.summary!;
  const table = iterationsTable(s.steps).split("\n");
  assert.match(
    table[0]!,
    /^step\s+train\s+dev\s+test\s+dev Brier\s+selection\s+best\s+failure topics\s+then \(patch -> next step\)$/,
  );
  assert.equal(table.length, 2 + s.steps.length);
  const first = s.steps[0]!;
  assert.ok(
    table[2]!.startsWith(`1     ${first.train!.score.toFixed(3)}  ${first.dev.score.toFixed(3)}`),
  );
  assert.ok(table[2]!.includes(first.selection.toFixed(4)));
  const final = s.steps.find((x) => x.kind === "final");
  if (final !== undefined) assert.ok(table.at(-1)!.startsWith(`${final.step}*`));
  // The demo, optimize and show print the same table.
  assert.ok(demoSummaryText(s, "runs/x").includes(iterationsTable(s.steps)));
  assert.ok(formatRun(run).includes(iterationsTable(s.steps)));
});

Deno.test("selection is explained once, with the task's formula and the selected value taken apart", async () => {
  await using dir = await tempDir();
  const run = await simulatedRun(dir.path);
  const s = run.summary!;
  assert.equal(s.selectionFormula, "accuracy - 0.05 Brier - 0.0025 per 1,000 prompt characters");
  const b = s.selected.breakdown!;
  assert.ok(Math.abs(b.task + b.brier + b.length - s.selected.selection) < 1e-12);
  assert.ok(Math.abs(b.brier + 0.05 * s.selected.dev.brier!) < 1e-12);
  const note = selectionNote(s.steps, s);
  assert.match(
    note,
    /^selection = accuracy - 0\.05 Brier - 0\.0025 per 1,000 prompt characters, on dev\n/,
  );
  assert.ok(
    note.includes(
      `selected step ${s.selected.step}: ${s.selected.selection.toFixed(4)} = ` +
        `${b.task.toFixed(4)} (task term) - ${(-b.brier).toFixed(4)} (Brier) - ` +
        `${(-b.length).toFixed(4)} (length).`,
    ),
    note,
  );
  const iterations = s.steps.filter((x) => x.kind === "iteration");
  assert.doesNotMatch(selectionNote(iterations, s), /final/);
  const withFinal = [...iterations, { ...iterations.at(-1)!, step: 9, kind: "final" as const }];
  assert.match(
    selectionNote(withFinal, s),
    /\* step 9 \(final\) is the last patch's prompt, scored on dev only \(it was not diagnosed\)\.$/,
  );
  // An unfinished run has no recorded formula: the note still says what selection is.
  assert.match(selectionNote(s.steps, null), /^selection = the task's selection function, on dev/);
});

Deno.test("the comparison names the selected step; P(selected better) is rounded one way everywhere", async () => {
  await using dir = await tempDir();
  const run = await simulatedRun(dir.path);
  const base = run.summary!;
  for (const [p, text] of [[0.998, "0.998"], [0.9996, "> 0.999"], [1, "1.000"]] as const) {
    const summary: RunSummary = {
      ...base,
      selected: { ...base.selected, step: 2 },
      comparison: { ...base.comparison!, probabilityFinalGreater: p },
    };
    const line = comparisonLine(summary)!;
    assert.ok(line.startsWith("selected (step 2) - seed on test: "), line);
    assert.ok(line.includes(`P(selected better) ${text} (paired bootstrap`), line);
    const shown = formatRun({ ...run, summary });
    assert.ok(shown.includes(line));
    assert.doesNotMatch(shown, /final - seed|P\(final/);
    const html = text.replace(">", "&gt;");
    assert.ok(runReportHtml({ ...run, summary }).includes(`P(selected better) ${html},`));
    assert.ok(renderRunHtml(summary).html.includes(`P(selected better) = ${html})`));
    assert.ok(demoSummaryText(summary, "runs/x").includes(`P(selected better) ${text})`));
  }
});
