/**
 * `rpt table` on a small fixed experiment directory written by hand (no optimization):
 * means, t-intervals over seeds, the bootstrap of a single run, the Aggregate, paired tests
 * and the paper's reported rows, checked against figures computed by hand; every format
 * written, simulated figures labelled.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXPERIMENT_FILES, type ExperimentIndex } from "../lib/experiment/index_file.ts";
import { loadExperiment, TABLE_FILES } from "../lib/experiment/load.ts";
import { parsePlan } from "../lib/experiment/plan.ts";
import { tablesCsv, tablesHtml, tablesLatex, tablesMarkdown } from "../lib/experiment/render.ts";
import type { CellResult, ItemOutcome } from "../lib/experiment/result.ts";
import { buildTables } from "../lib/experiment/table.ts";
import { meanInterval, tQuantile975 } from "../lib/experiment/stats.ts";
import { bootstrapInterval } from "../lib/metrics.ts";
import { tempDir } from "./support/toy_loop.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;

const PLAN = {
  name: "fixed",
  tasks: ["synthetic", "formula"],
  methods: ["rpt-ca", "gepa-ca"],
  models: { target: "openai:gpt-4.1", optimizer: "openai:gpt-5" },
  seeds: [0, 1, 2],
};

function items(values: readonly number[], briers: readonly (number | null)[]): ItemOutcome[] {
  return values.map((v, i) => ({ id: `ex-${i}`, headline: v, brier: briers[i] ?? null }));
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A result with the given optimized test headline and Brier, and test items. */
function result(
  method: "rpt-ca" | "gepa-ca",
  task: "synthetic" | "formula",
  seed: number,
  optimized: { headline: number; brier: number; items: ItemOutcome[] },
  simulated = false,
): CellResult {
  const split = (headline: number, brier: number) => ({ n: 10, headline, score: headline, brier });
  return {
    version: 1,
    id: `${task}.${method}.s${seed}`,
    task,
    taskName: task,
    method,
    label: method === "rpt-ca" ? "RPT (confidence-aware)" : "GEPA (confidence-aware)",
    confidenceAware: true,
    models: {
      target: "openai:gpt-4.1",
      optimizer: "openai:gpt-5",
      critic: "openai:gpt-5",
      embedder: "tfidf",
    },
    settings: "default",
    seed,
    simulated,
    headline: task === "formula" ? "accuracy" : "score",
    initial: { dev: split(0.4, 0.3), test: split(0.4, 0.3) },
    optimized: {
      dev: split(optimized.headline + 0.05, optimized.brier),
      test: split(optimized.headline, optimized.brier),
      selected: "step 2",
    },
    testItems: {
      initial: items(Array(10).fill(0.4), Array(10).fill(0.3)),
      optimized: optimized.items,
    },
    trajectory: [
      { step: 1, promptChars: 300, train: 0.4, dev: 0.4, devBrier: 0.3, test: 0.4 },
      { step: 2, promptChars: 450, train: 0.5, dev: 0.45, devBrier: 0.2, test: null },
    ],
    checks: {
      devTestGap: 0.05,
      promptChars: { initial: 300, selected: 450, max: 500, last: 450 },
      copiedAnswerRejections: method === "rpt-ca" ? 1 : null,
      copiedAnswersInSelected: 0,
    },
    stop: "iterations: all 2 iterations ran",
    usage: { calls: 100, cacheHits: 0, usd: 0.1 },
  };
}

const constant = (headline: number, brier: number) => ({
  headline,
  brier,
  items: items(Array(10).fill(headline), Array(10).fill(brier)),
});

/** Binary outcomes (for a bootstrap that is not degenerate), Brier 0.25 each. */
const BINARY = [1, 1, 1, 0, 1, 0, 1, 1, 0, 1];

function fixedResults(simulated = false): CellResult[] {
  return [
    // RPT (confidence-aware): three seeds per task.
    result("rpt-ca", "synthetic", 0, constant(0.5, 0.2), simulated),
    result("rpt-ca", "synthetic", 1, constant(0.7, 0.1), simulated),
    result("rpt-ca", "synthetic", 2, constant(0.6, 0.15), simulated),
    result("rpt-ca", "formula", 0, constant(0.8, 0.2), simulated),
    result("rpt-ca", "formula", 1, constant(0.8, 0.2), simulated),
    result("rpt-ca", "formula", 2, constant(0.9, 0.2), simulated),
    // GEPA (confidence-aware): one seed per task.
    result("gepa-ca", "synthetic", 0, constant(0.4, 0.3), simulated),
    result("gepa-ca", "formula", 0, {
      headline: 0.7,
      brier: 0.25,
      items: items(BINARY, Array(10).fill(0.25)),
    }, simulated),
  ];
}

Deno.test("t-interval quantiles and the interval of a mean over seeds, by hand", () => {
  assert.equal(tQuantile975(2), 4.303);
  const m = meanInterval([0.5, 0.7, 0.6]);
  // s = 0.1, half width = 4.303 * 0.1 / sqrt(3)
  const half = 4.303 * 0.1 / Math.sqrt(3);
  assert.ok(Math.abs(m.mean - 0.6) < 1e-12);
  assert.ok(Math.abs((m.lo as number) - (0.6 - half)) < 1e-12);
  assert.ok(Math.abs((m.hi as number) - (0.6 + half)) < 1e-12);
  assert.equal(m.method, "t");
  assert.equal(meanInterval([0.3]).method, "none");
  assert.throws(() => tQuantile975(0), RangeError);
});

Deno.test("Table 1 and Table 2 of a fixed experiment: means, intervals, Aggregate, by hand", () => {
  const plan = parsePlan(PLAN);
  const t = buildTables(plan, fixedResults(), []);
  assert.deepEqual(t.columns.map((c) => `${c.name}:${c.headline}`), [
    "synthetic:score",
    "formula:accuracy",
  ]);
  assert.deepEqual(t.table1.map((r) => r.label), [
    "RPT (confidence-aware) · openai:gpt-5",
    "GEPA (confidence-aware) · openai:gpt-5",
  ]);
  const [rpt, gepa] = t.table1;
  const close = (a: number | null | undefined, b: number, what: string) =>
    assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
  const t2 = 4.303 / Math.sqrt(3);
  // synthetic: 0.5, 0.7, 0.6 -> mean 0.6, s 0.1
  close(rpt!.cells[0]!.optimized.mean, 0.6, "synthetic mean");
  close(rpt!.cells[0]!.optimized.lo, 0.6 - 0.1 * t2, "synthetic lo");
  close(rpt!.cells[0]!.optimized.hi, 0.6 + 0.1 * t2, "synthetic hi");
  close(rpt!.cells[0]!.initial.mean, 0.4, "initial");
  // formula: 0.8, 0.8, 0.9 -> mean 0.8333, s = 0.057735
  const sF = Math.sqrt(((0.8 - 2.5 / 3) ** 2 * 2 + (0.9 - 2.5 / 3) ** 2) / 2);
  close(rpt!.cells[1]!.optimized.mean, 2.5 / 3, "formula mean");
  close(rpt!.cells[1]!.optimized.hi, 2.5 / 3 + sF * t2, "formula hi");
  // Aggregate per seed: 0.65, 0.75, 0.75
  close(rpt!.aggregate!.optimized.mean, (0.65 + 0.75 + 0.75) / 3, "aggregate mean");
  close(rpt!.aggregate!.optimized.lo, 2.15 / 3 - sF * t2, "aggregate lo");
  // One run: the bootstrap over its test examples (constant items: a point).
  assert.equal(gepa!.cells[0]!.optimized.method, "bootstrap");
  close(gepa!.cells[0]!.optimized.lo, 0.4, "constant bootstrap");
  const boot = bootstrapInterval(BINARY, mean, { seed: 0, iterations: 1000 });
  close(gepa!.cells[1]!.optimized.lo, boot.lo, "bootstrap lo");
  close(gepa!.cells[1]!.optimized.hi, boot.hi, "bootstrap hi");
  assert.ok(boot.lo < 0.7 && 0.7 < boot.hi);
  close(gepa!.aggregate!.optimized.mean, (0.4 + 0.7) / 2, "gepa aggregate");
  assert.equal(gepa!.aggregate!.optimized.lo, null);

  // Table 2: Brier 0.2, 0.1, 0.15 -> mean 0.15, s 0.05.
  assert.equal(t.table2.length, 2);
  const brier = t.table2[0]!.cells[0]!.brier;
  close(brier.optimized.mean, 0.15, "brier mean");
  close(brier.optimized.lo, 0.15 - 0.05 * t2, "brier lo");
  close(brier.initial.mean, 0.3, "initial brier");

  const md = tablesMarkdown(t);
  assert.ok(
    md.includes(
      "| RPT (confidence-aware) · openai:gpt-5 | 3 | 40.0 → 60.0 [35.2, 84.8] | " +
        "40.0 → 83.3 [69.0, 97.7] | 40.0 → 71.7 [57.3, 86.0] |",
    ),
    md,
  );
  assert.ok(
    md.includes("| GEPA (confidence-aware) · openai:gpt-5 | 1 | 40.0 → 40.0 [40.0, 40.0] |"),
  );
  assert.ok(md.includes("0.300 → 0.150 [0.026, 0.274]"), md);
  assert.match(md, /Student t-interval over seeds/);
  assert.match(md, /percentile bootstrap interval over its test examples/);
  assert.ok(!md.includes("SIMULATED"));
});

Deno.test("paired tests between methods on the same test examples", () => {
  const t = buildTables(parsePlan(PLAN), fixedResults(), []);
  const synth = t.paired.find((p) => p.task === "synthetic" && p.statistic === "headline")!;
  // Only seed 0 has both methods: 10 pairs, GEPA 0.4 - RPT 0.5 on every example.
  assert.equal(synth.a, "GEPA (confidence-aware)");
  assert.equal(synth.b, "RPT (confidence-aware)");
  assert.equal(synth.n, 10);
  assert.ok(Math.abs(synth.delta + 0.1) < 1e-12);
  assert.ok(Math.abs(synth.lo + 0.1) < 1e-12 && Math.abs(synth.hi + 0.1) < 1e-12);
  assert.equal(synth.probabilityAGreater, 0);
  // Brier: 0.3 - 0.2 on every example.
  const b = t.paired.find((p) => p.task === "synthetic" && p.statistic === "brier")!;
  assert.ok(Math.abs(b.delta - 0.1) < 1e-12);
  assert.equal(b.probabilityAGreater, 1);
  // formula: GEPA's binary items (mean 0.7) against RPT's 0.8: the mean difference exactly.
  const f = t.paired.find((p) => p.task === "formula" && p.statistic === "headline")!;
  assert.ok(Math.abs(f.delta - (0.7 - 0.8)) < 1e-12);
  assert.ok(f.lo <= f.delta && f.delta <= f.hi && f.lo < f.hi);
  const md = tablesMarkdown(t);
  assert.ok(
    md.includes(
      "| synthetic | openai:gpt-5 | GEPA (confidence-aware) vs RPT (confidence-aware) | " +
        "headline (points) | -10.0 | [-10.0, -10.0] | 0.000 | 10 |",
    ),
    md,
  );
});

Deno.test("the paper's reported figures appear with preset paper, labelled, with their source", () => {
  const t = buildTables(parsePlan({ ...PLAN, preset: "paper" }), fixedResults(), []);
  assert.deepEqual(t.reported.map((r) => r.label), [
    "paper (reported): RPT, largest gain over the initial prompt",
    "paper (reported): RPT · GPT-5",
  ]);
  // The fixed tasks are synthetic and formula: the paper gives Formula's gain only.
  assert.deepEqual(t.reported[0]!.cells, [null, 11.7]);
  assert.equal(t.reported[1]!.aggregate, 74.3);
  const md = tablesMarkdown(t);
  assert.ok(md.includes("| paper (reported): RPT · GPT-5 |  | – | – | 74.3 |"), md);
  assert.match(md, /Reflective Prompt Tuning through Language Model Function-Calling/);
  assert.match(md, /arxiv\.org\/abs\/2605\.21781/);
  // Without the preset, no reported row.
  assert.equal(buildTables(parsePlan(PLAN), fixedResults(), []).reported.length, 0);
  // With simulator optimizers (no paper model), every optimizer the paper reports is shown.
  const sim = buildTables(
    parsePlan({
      ...PLAN,
      preset: "paper",
      models: { target: "sim:target", optimizer: "sim:optimizer" },
    }),
    fixedResults(true),
    [],
  );
  assert.equal(sim.reported.filter((r) => r.kind === "aggregate").length, 4);
});

Deno.test("LaTeX (booktabs), CSV and HTML; SIMULATED in every table and chart", () => {
  const t = buildTables(parsePlan(PLAN), fixedResults(true), ["synthetic.gepa-ca.s1"]);
  assert.deepEqual(t.missing, ["synthetic.gepa-ca.s1"]);
  // Markdown: the banner, and every table's heading.
  const md = tablesMarkdown(t);
  assert.match(md, /^\*\*SIMULATED: /m);
  const headings = md.split("\n").filter((l) => l.startsWith("## "));
  assert.ok(headings.length >= 4, headings.join("\n"));
  for (const h of headings) assert.match(h, /\(SIMULATED\)$/);
  const tex = tablesLatex(t);
  for (const rule of ["\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}"]) {
    assert.ok(tex.includes(rule), rule);
  }
  assert.ok(tex.includes("40.0 $\\rightarrow$ 60.0 [35.2, 84.8]"));
  assert.equal((tex.match(/\(SIMULATED\)/g) ?? []).length, 4, "every table's caption");
  assert.ok(!/[^\\]%(?! )/.test(tex.replace(/^%.*$/gm, "")), "no unescaped %");

  const csv = tablesCsv(t).trim().split("\n");
  assert.equal(
    csv[0],
    "table,row,method,optimizer,group,task,figure,seeds,initial,optimized,optimized_lo,optimized_hi,interval,simulated",
  );
  assert.ok(
    csv.includes(
      "1,RPT (confidence-aware) · openai:gpt-5,RPT (confidence-aware),openai:gpt-5,,synthetic," +
        "score,3,0.4,0.6,0.351566,0.848434,t,SIMULATED",
    ),
    csv.join("\n"),
  );
  assert.ok(csv.slice(1).every((line) => line.endsWith(",SIMULATED")));

  const html = tablesHtml(t, fixedResults(true));
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  const urls = [...html.matchAll(/(?:https?:)?\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
  assert.deepEqual([...new Set(urls)], ["http://www.w3.org/2000/svg"], "no external resource");
  assert.ok(!/<script|<link|@import/.test(html));
  const charts = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  assert.equal(charts.length, 3, "Table 1, Table 2 and the trajectories");
  for (const svg of charts) assert.match(svg, /\(simulated\)/);
  for (const svg of charts) assert.match(svg, /SIMULATED/);
  assert.match(html, /class="banner">SIMULATED/);
  assert.match(html, /Not finished \(left out\): synthetic\.gepa-ca\.s1/);
});

Deno.test("rpt table EXP_DIR prints the Markdown and writes every format", async () => {
  await using dir = await tempDir();
  const plan = parsePlan(PLAN);
  const results = fixedResults();
  await Deno.mkdir(join(dir.path, EXPERIMENT_FILES.results), { recursive: true });
  await Deno.writeTextFile(join(dir.path, EXPERIMENT_FILES.plan), JSON.stringify(plan));
  const index: ExperimentIndex = {
    version: 1,
    simulated: false,
    cells: results.map((r) => ({
      id: r.id,
      task: r.task,
      method: r.method,
      label: r.label,
      models: { target: r.models.target, optimizer: r.models.optimizer },
      settings: "default",
      seed: r.seed,
      runDir: `runs/${r.id}`,
      state: "finished",
      attempts: 1,
    })),
  };
  // One more cell that failed: reported as missing, not tabulated.
  index.cells.push({
    ...index.cells[0]!,
    id: "synthetic.gepa-ca.s1",
    state: "failed",
    error: "boom",
  });
  await Deno.writeTextFile(join(dir.path, EXPERIMENT_FILES.index), JSON.stringify(index));
  for (const r of results) {
    await Deno.writeTextFile(
      join(dir.path, EXPERIMENT_FILES.results, `${r.id}.json`),
      JSON.stringify(r),
    );
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "table", dir.path],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const exp = await loadExperiment(dir.path);
  assert.equal(stdout, tablesMarkdown(exp.tables));
  assert.match(stdout, /Not finished \(left out\): synthetic\.gepa-ca\.s1/);
  for (const file of Object.values(TABLE_FILES)) {
    const text = await Deno.readTextFile(join(dir.path, EXPERIMENT_FILES.tables, file));
    assert.ok(text.length > 100, file);
  }
  const latex = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "table", dir.path, "--format", "latex", "--out", `${dir.path}/t2`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(latex.stdout), tablesLatex(exp.tables));
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "table", dir.path, "--format", "pdf"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
  assert.match(
    new TextDecoder().decode(bad.stderr),
    /--format: expected one of markdown, latex, csv, html/,
  );
});

Deno.test("two seeds: a t-interval past 0 and 100 is kept as computed, marked with its t quantile, clipped in the chart", () => {
  const plan = parsePlan({ ...PLAN, tasks: ["synthetic"], methods: ["rpt-ca"], seeds: [0, 1] });
  const results = [
    result("rpt-ca", "synthetic", 0, constant(0.5, 0.2)),
    result("rpt-ca", "synthetic", 1, constant(0.7, 0.1)),
  ];
  const t = buildTables(plan, results, []);
  // mean 0.6, s = 0.1414, s / sqrt(2) = 0.1: 0.6 ± 12.706 · 0.1 = [-0.6706, 1.8706].
  const optimized = t.table1[0]!.cells[0]!.optimized;
  assert.ok(Math.abs((optimized.lo as number) + 0.6706) < 1e-12);
  assert.ok(Math.abs((optimized.hi as number) - 1.8706) < 1e-12);
  const note = "† the interval, as computed, leaves the figure's range (0 to 100; Brier 0 to 1): " +
    "n = 2 seeds: t(0.975, 1) = 12.71; intervals wider than the range are clipped in the chart.";
  const md = tablesMarkdown(t);
  assert.ok(md.includes("| 40.0 → 60.0 [-67.1, 187.1]† |"), md);
  assert.ok(md.includes(`- ${note}`), md);
  // Table 2: the score's interval as Table 1's; Brier 0.15 ± 12.706 · 0.05 = [-0.4853, 0.7853].
  assert.ok(md.includes("| 40.0 → 60.0 [-67.1, 187.1]† | 0.300 → 0.150 [-0.485, 0.785]† |"), md);
  assert.equal(md.split(note).length - 1, 2, "one note under each table");
  // The machine-readable outputs keep the computed bounds.
  assert.ok(
    tablesCsv(t).includes(",synthetic,score,2,0.4,0.6,-0.6706,1.8706,t,"),
    tablesCsv(t),
  );
  assert.ok(tablesLatex(t).includes("[-67.1, 187.1]$^\\dagger$"));
  const html = tablesHtml(t, results);
  assert.ok(html.includes("<td>40.0 → 60.0 [-67.1, 187.1]†</td>"));
  assert.ok(html.includes(`<li>${note.replaceAll("'", "&#39;")}</li>`), html.slice(0, 4000));
  // The chart cuts the interval at 0 and 100 and marks both ends there.
  const table1Svg = html.match(/<svg[\s\S]*?<\/svg>/)?.[0] ?? "";
  assert.equal((table1Svg.match(/>◂</g) ?? []).length, 1);
  assert.equal((table1Svg.match(/>▸</g) ?? []).length, 1);
  assert.match(html, /◂ ▸ where it is clipped at 0 or 100/);
  // Three seeds whose interval stays inside: no mark, no note.
  const inside = tablesMarkdown(buildTables(parsePlan(PLAN), fixedResults(), []));
  assert.ok(!inside.includes("†"), inside);
});
