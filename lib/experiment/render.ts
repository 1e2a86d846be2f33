/**
 * The experiment's tables (`table.ts`) written out: Markdown, LaTeX (booktabs), CSV (one
 * tidy line per figure) and one self-contained HTML page with the charts (inline SVG and
 * CSS, no scripts, no external URL, like `rpt report`). Headline figures and scores are in
 * percent, as the paper prints them; Brier scores as they are. Figures of the simulator say
 * SIMULATED in every table, caption and chart.
 *
 * @module
 */
import { escapeHtml } from "../notebook.ts";
import { roundTo } from "../util/format.ts";
import {
  type Chart,
  CLIPPED_MARKS,
  initialOptimizedChart,
  type InitialOptimizedPoint,
  runTrajectoriesChart,
  type RunTrajectoryPoint,
} from "../plot.ts";
import { paperCitation } from "./paper.ts";
import type { CellResult } from "./result.ts";
import { type MeanInterval, tQuantile975 } from "./stats.ts";
import type { ExperimentTables, Figure, PairedTest, RunCheck } from "./table.ts";

/** The line every rendering of simulated figures starts with. */
export const SIMULATED_TABLE_NOTE =
  "SIMULATED: these runs used rpt's offline simulator; the figures test the machinery, not methods or models.";

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : (100 * x).toFixed(1);
const num = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
const signedPct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;

type Scale = "pct" | "brier";

function value(m: MeanInterval, scale: Scale): string {
  return scale === "pct" ? pct(m.mean) : num(m.mean);
}

/** The mark of an interval that leaves its figure's range (see {@linkcode rangeNote}). */
export const OUT_OF_RANGE_MARK = "†";

/**
 * Whether an interval reaches past the range of its figure, [0, 1] (headline figures and
 * Brier scores alike): a t-interval over two or three seeds often does, t(0.975, 1) being 12.71.
 *
 * @example
 * ```ts
 * import { leavesRange } from "./render.ts";
 * import { meanInterval } from "./stats.ts";
 * if (!leavesRange(meanInterval([0.5, 0.7])) || leavesRange(meanInterval([0.5, 0.5]))) throw new Error();
 * ```
 */
export function leavesRange(m: MeanInterval): boolean {
  return m.lo !== null && m.hi !== null && (m.lo < 0 || m.hi > 1);
}

function interval(m: MeanInterval, scale: Scale): string {
  if (m.lo === null || m.hi === null) return "";
  const f = scale === "pct" ? pct : num;
  return ` [${f(m.lo)}, ${f(m.hi)}]${leavesRange(m) ? OUT_OF_RANGE_MARK : ""}`;
}

/**
 * The footnote of the marked intervals among `figures` (undefined when none is marked): the
 * t quantile behind each seed count, and that the charts clip them. The bounds printed are
 * the computed ones (the CSV has them unrounded).
 */
export function rangeNote(
  figures: readonly (MeanInterval | null | undefined)[],
): string | undefined {
  const marked = figures.filter((m): m is MeanInterval => m != null && leavesRange(m));
  if (marked.length === 0) return undefined;
  const ns = [...new Set(marked.map((m) => m.n))].sort((a, b) => a - b);
  const quantiles = ns.map((n) =>
    n > 1 ? `n = ${n} seeds: t(0.975, ${n - 1}) = ${tQuantile975(n - 1).toFixed(2)}` : `n = ${n}`
  );
  return `${OUT_OF_RANGE_MARK} the interval, as computed, leaves the figure's range (0 to 100; ` +
    `Brier 0 to 1): ${
      quantiles.join("; ")
    }; intervals wider than the range are clipped in the chart.`;
}

/** The optimized figures of Table 1's rows, with their Aggregates. */
function table1Figures(t: ExperimentTables): (MeanInterval | undefined)[] {
  return t.table1.flatMap((r) => [...r.cells, r.aggregate].map((c) => c?.optimized));
}

/** `initial → optimized [lo, hi]` (the interval is the optimized figure's). */
export function figureText(f: Figure | null, scale: Scale = "pct", arrow = "→"): string {
  if (f === null) return "–";
  return `${value(f.initial, scale)} ${arrow} ${value(f.optimized, scale)}${
    interval(f.optimized, scale)
  }`;
}

/** A renderer-neutral table: caption, header, rows of text cells, notes. */
interface TextTable {
  caption: string;
  header: string[];
  rows: string[][];
  notes: string[];
}

function table1(t: ExperimentTables, arrow: string): TextTable {
  const header = [
    "method · optimizer",
    "seeds",
    ...t.columns.map((c) => `${c.name} ${c.headline}`),
    ...(t.columns.length > 1 ? ["Aggregate"] : []),
  ];
  const rows = t.table1.map((r) => [
    r.label,
    String(r.seeds.length),
    ...r.cells.map((c) => figureText(c, "pct", arrow)),
    ...(t.columns.length > 1 ? [figureText(r.aggregate, "pct", arrow)] : []),
  ]);
  for (const r of t.reported) {
    rows.push([
      r.label,
      "",
      ...r.cells.map((c) =>
        c === null ? "–" : r.kind === "gain" ? `+${c.toFixed(1)}` : c.toFixed(1)
      ),
      ...(t.columns.length > 1 ? [r.aggregate === null ? "–" : r.aggregate.toFixed(1)] : []),
    ]);
  }
  const notes = [
    `Test figures in percent: the seed prompt (initial) ${arrow} the prompt each run selected on dev (optimized); ` +
    `in brackets the optimized figure's 95% interval (${t.intervals}).`,
    ...(t.reported.length > 0
      ? [
        `paper (reported): figures the paper states (${paperCitation()}); its runs used other models than these where the optimizer differs.`,
      ]
      : []),
    ...optional(rangeNote(table1Figures(t))),
    ...optional(t.baselineNote ?? undefined),
  ];
  return { caption: `Table 1: initial ${arrow} optimized per task`, header, rows, notes };
}

function table2(t: ExperimentTables, arrow: string): TextTable | null {
  if (t.table2.length === 0) return null;
  const header = [
    "method · optimizer",
    "seeds",
    ...t.columns.flatMap((c) => [`${c.name} ${c.headline}`, `${c.name} Brier`]),
  ];
  const rows = t.table2.map((r) => [
    r.label,
    String(r.seeds.length),
    ...r.cells.flatMap((c) =>
      c === null
        ? ["–", "–"]
        : [figureText(c.score, "pct", arrow), figureText(c.brier, "brier", arrow)]
    ),
  ]);
  return {
    caption: `Table 2: confidence-aware methods, score and Brier (lower is better) per task`,
    header,
    rows,
    notes: [
      `Test figures, initial ${arrow} optimized, intervals as in Table 1.`,
      ...optional(rangeNote(
        t.table2.flatMap((r) => r.cells.flatMap((c) => [c?.score.optimized, c?.brier.optimized])),
      )),
    ],
  };
}

function optional(note: string | undefined): string[] {
  return note === undefined ? [] : [note];
}

function pairedTable(paired: readonly PairedTest[]): TextTable | null {
  if (paired.length === 0) return null;
  return {
    caption: "Paired tests between methods on the same test examples",
    header: [
      "task",
      "optimizer",
      "A vs B",
      "figure",
      "Δ (A − B)",
      "95% interval",
      "P(A > B)",
      "pairs",
    ],
    rows: paired.map((p) => {
      const f = p.statistic === "headline" ? (x: number) => signedPct(x) : (x: number) => num(x);
      return [
        p.task,
        p.group,
        `${p.a} vs ${p.b}`,
        p.statistic === "headline" ? "headline (points)" : "Brier",
        f(p.delta),
        `[${f(p.lo)}, ${f(p.hi)}]`,
        p.probabilityAGreater.toFixed(3),
        String(p.n),
      ];
    }),
    notes: [
      "Paired bootstrap (1,000 resamples, seed 0) of the difference of means over every (seed, test example) " +
      "pair of the two methods' selected prompts; for Brier only examples both answered in a parsable form.",
    ],
  };
}

function checksTable(checks: readonly RunCheck[]): TextTable | null {
  if (checks.length === 0) return null;
  return {
    caption: "Overfitting checks per run",
    header: [
      "run",
      "dev − test (points)",
      "prompt chars: seed → selected (largest)",
      "patches rejected for quoting training answers",
      "training answers in the selected prompt",
      "stop",
    ],
    rows: checks.map((c: RunCheck) => [
      c.id,
      c.devTestGap === null ? "–" : signedPct(c.devTestGap),
      `${c.initialChars} → ${c.selectedChars} (${c.maxChars})`,
      c.copiedAnswerRejections === null ? "n/a (no guard)" : String(c.copiedAnswerRejections),
      String(c.copiedAnswersInSelected),
      c.stop,
    ]),
    notes: [
      "dev − test: the selected prompt's headline on dev minus on test (a large positive gap: selection overfit dev). " +
      "Prompt chars: the seed's, the selected prompt's and the largest the run scored. " +
      "Rejected patches: the guard refuses patches that copy training answers (RPT only).",
    ],
  };
}

/** The parts of the tables, in the order they are written. */
export const TABLE_PARTS = ["table1", "table2", "paired", "checks"] as const;
/** A part of the tables. */
export type TablePart = (typeof TABLE_PARTS)[number];

function allTables(
  t: ExperimentTables,
  arrow: string,
  parts: readonly TablePart[] = TABLE_PARTS,
): TextTable[] {
  const made: Record<TablePart, () => TextTable | null> = {
    table1: () => table1(t, arrow),
    table2: () => table2(t, arrow),
    paired: () => pairedTable(t.paired),
    checks: () => checksTable(t.checks),
  };
  return parts.map((p) => made[p]()).filter((x): x is TextTable => x !== null);
}

// ---------------------------------------------------------------------------------------------
// Markdown

function mdCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * The tables as Markdown (a SIMULATED line first when the runs were simulated); `parts`
 * picks some of them (a notebook shows them one by one).
 */
export function tablesMarkdown(
  t: ExperimentTables,
  options: { parts?: readonly TablePart[] } = {},
): string {
  const whole = options.parts === undefined;
  const out: string[] = whole ? [`# ${t.name}`] : [];
  if (t.simulated) out.push("", `**${SIMULATED_TABLE_NOTE}**`);
  for (const tab of allTables(t, "→", options.parts)) {
    out.push("", `## ${tab.caption}${t.simulated ? " (SIMULATED)" : ""}`, "");
    out.push(`| ${tab.header.map(mdCell).join(" | ")} |`);
    out.push(`|${tab.header.map(() => "---").join("|")}|`);
    for (const r of tab.rows) out.push(`| ${r.map(mdCell).join(" | ")} |`);
    out.push("", ...tab.notes.map((n) => `- ${n}`));
  }
  if (whole && t.missing.length > 0) {
    out.push("", `Not finished (left out): ${t.missing.join(", ")}`);
  }
  return `${out.join("\n").trimStart()}\n`;
}

// ---------------------------------------------------------------------------------------------
// LaTeX

const LATEX: Readonly<Record<string, string>> = {
  "\\": "\\textbackslash{}",
  "&": "\\&",
  "%": "\\%",
  "$": "\\$",
  "#": "\\#",
  "_": "\\_",
  "{": "\\{",
  "}": "\\}",
  "~": "\\textasciitilde{}",
  "^": "\\textasciicircum{}",
  "<": "$<$",
  ">": "$>$",
  "→": "$\\rightarrow$",
  "±": "$\\pm$",
  "√": "$\\surd$",
  "–": "--",
  "−": "$-$",
  "Δ": "$\\Delta$",
  "·": "$\\cdot$",
  "†": "$^\\dagger$",
};

/**
 * Escapes LaTeX's special characters in text, and writes the few symbols the tables use in
 * math mode.
 *
 * @example
 * ```ts
 * import { latexEscape } from "./render.ts";
 * if (latexEscape("a_b 5% → {x}") !== "a\\_b 5\\% $\\rightarrow$ \\{x\\}") throw new Error(latexEscape("a_b 5% → {x}"));
 * ```
 */
export function latexEscape(text: string): string {
  return [...text].map((ch) => LATEX[ch] ?? ch).join("");
}

/** The tables as LaTeX with booktabs rules (`\usepackage{booktabs}`). */
export function tablesLatex(t: ExperimentTables): string {
  const out: string[] = [
    `% ${t.name}: generated by rpt table; needs \\usepackage{booktabs}`,
    ...(t.simulated ? [`% ${SIMULATED_TABLE_NOTE}`] : []),
  ];
  for (const tab of allTables(t, "→")) {
    out.push(
      "",
      "\\begin{table}[t]",
      "\\centering",
      "\\small",
      `\\begin{tabular}{l${"r".repeat(tab.header.length - 1)}}`,
      "\\toprule",
      `${tab.header.map(latexEscape).join(" & ")} \\\\`,
      "\\midrule",
      ...tab.rows.map((r) => `${r.map(latexEscape).join(" & ")} \\\\`),
      "\\bottomrule",
      "\\end{tabular}",
      `\\caption{${latexEscape(tab.caption)}${t.simulated ? " (SIMULATED)" : ""}. ${
        tab.notes.map(latexEscape).join(" ")
      }}`,
      "\\end{table}",
    );
  }
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// CSV

function csvCell(text: string | number | null): string {
  if (text === null) return "";
  // Six decimals: the figures' precision, without float noise such as 0.4000000000000001.
  const s = typeof text === "number" ? String(roundTo(text, 6)) : text;
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The figures as one CSV, a line per table, row and task: `table,row,method,optimizer,
 * group,task,figure,seeds,initial,optimized,optimized_lo,optimized_hi,interval,simulated`
 * (fractions to six decimals, not percent; `simulated` is `SIMULATED` for simulator runs).
 */
export function tablesCsv(t: ExperimentTables): string {
  const head = [
    "table",
    "row",
    "method",
    "optimizer",
    "group",
    "task",
    "figure",
    "seeds",
    "initial",
    "optimized",
    "optimized_lo",
    "optimized_hi",
    "interval",
    "simulated",
  ];
  const lines = [head.join(",")];
  const sim = t.simulated ? "SIMULATED" : "";
  const push = (
    table: string,
    r: { label: string; method: string; optimizer: string; group: string },
    task: string,
    figure: string,
    f: Figure | null,
  ) => {
    if (f === null) return;
    lines.push(
      [
        table,
        r.label,
        r.method,
        r.optimizer,
        r.group,
        task,
        figure,
        f.optimized.n,
        f.initial.mean,
        f.optimized.mean,
        f.optimized.lo,
        f.optimized.hi,
        f.optimized.method,
        sim,
      ].map(csvCell).join(","),
    );
  };
  for (const r of t.table1) {
    r.cells.forEach((c, i) => push("1", r, t.columns[i]!.name, t.columns[i]!.headline, c));
    push("1", r, "Aggregate", "mean headline", r.aggregate);
  }
  for (const r of t.reported) {
    const row = { label: r.label, method: "RPT", optimizer: "", group: "paper (reported)" };
    r.cells.forEach((c, i) => {
      if (c === null) return;
      lines.push(
        [
          "1",
          row.label,
          row.method,
          "",
          row.group,
          t.columns[i]!.name,
          "largest gain (points)",
          "",
          "",
          c,
          "",
          "",
          "reported",
          "",
        ].map(csvCell).join(","),
      );
    });
    if (r.aggregate !== null) {
      lines.push(
        [
          "1",
          row.label,
          row.method,
          "",
          row.group,
          "Aggregate",
          "percent",
          "",
          "",
          r.aggregate,
          "",
          "",
          "reported",
          "",
        ].map(csvCell).join(","),
      );
    }
  }
  for (const r of t.table2) {
    r.cells.forEach((c, i) => {
      const col = t.columns[i]!;
      push("2", r, col.name, col.headline, c?.score ?? null);
      push("2", r, col.name, "Brier", c?.brier ?? null);
    });
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
  max-width: 1150px; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; padding: 0.6rem 0.9rem;
  border-radius: 6px; font-weight: 600; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.88rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.55rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } tr.reported td { font-style: italic; background: #f6f8fa; }
ul.notes { font-size: 0.85rem; color: #59636e; } figure { margin: 1rem 0; }
`;

function htmlTable(tab: TextTable, reportedFrom = Infinity): string {
  const head = tab.header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const rows = tab.rows.map((r, i) =>
    `<tr${i >= reportedFrom ? ' class="reported"' : ""}>${
      r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")
    }</tr>`
  ).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>` +
    `<ul class="notes">${tab.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`;
}

/** The charts of the tables and of every run's trajectory. */
export function tableCharts(t: ExperimentTables, results: readonly CellResult[]): Chart[] {
  const charts: Chart[] = [];
  const caption = t.simulated ? SIMULATED_TABLE_NOTE : undefined;
  const points: InitialOptimizedPoint[] = t.table1.flatMap((r) =>
    [
      ...r.cells.map((c, i) => ({ c, panel: `${t.columns[i]!.name} (${t.columns[i]!.headline})` })),
      { c: r.aggregate, panel: "Aggregate" },
    ].flatMap(({ c, panel }) =>
      c === null ? [] : [{
        row: r.label,
        panel,
        initial: 100 * c.initial.mean,
        optimized: 100 * c.optimized.mean,
        lo: c.optimized.lo === null ? null : 100 * c.optimized.lo,
        hi: c.optimized.hi === null ? null : 100 * c.optimized.hi,
      }]
    )
  );
  if (points.length > 0) {
    charts.push(initialOptimizedChart(points, {
      title: "Table 1: initial → optimized on test",
      simulated: t.simulated,
      valueLabel: "test headline figure (%)",
      domain: [0, 100],
      caption: `${caption ? `${caption} ` : ""}Black lines: the optimized figure's 95% interval; ${
        CLIPPED_MARKS.join(" ")
      } where it is clipped at 0 or 100 (${OUT_OF_RANGE_MARK} in the table, which gives its computed bounds).`,
    }));
  }
  const brier: InitialOptimizedPoint[] = t.table2.flatMap((r) =>
    r.cells.flatMap((c, i) =>
      c === null ? [] : [{
        row: r.label,
        panel: t.columns[i]!.name,
        initial: c.brier.initial.mean,
        optimized: c.brier.optimized.mean,
        lo: c.brier.optimized.lo,
        hi: c.brier.optimized.hi,
      }]
    )
  );
  if (brier.length > 0) {
    charts.push(initialOptimizedChart(brier, {
      title: "Table 2: Brier, initial → optimized on test (lower is better)",
      simulated: t.simulated,
      valueLabel: "test Brier",
      higherIsBetter: false,
      domain: [0, 1],
      caption: `${caption ? `${caption} ` : ""}Black lines: the optimized figure's 95% interval; ${
        CLIPPED_MARKS.join(" ")
      } where it is clipped at 0 or 1 (${OUT_OF_RANGE_MARK} in the table, which gives its computed bounds).`,
    }));
  }
  const trajectories: RunTrajectoryPoint[] = results.flatMap((r) =>
    r.trajectory.map((p) => ({
      run: r.id,
      group: r.label,
      panel: `${r.taskName} (dev ${r.headline})`,
      step: p.step,
      value: 100 * p.dev,
    }))
  );
  if (trajectories.length > 0) {
    charts.push(runTrajectoriesChart(trajectories, {
      title: "Dev headline of every prompt each run scored",
      simulated: t.simulated,
      valueLabel: "dev headline figure (%)",
      caption,
    }));
  }
  return charts;
}

/** The tables and charts as one self-contained HTML page. */
export function tablesHtml(t: ExperimentTables, results: readonly CellResult[]): string {
  const tables = allTables(t, "→");
  const parts = tables.map((tab, i) =>
    `<h2>${escapeHtml(tab.caption)}${t.simulated ? " (SIMULATED)" : ""}</h2>\n${
      htmlTable(tab, i === 0 ? t.table1.length : Infinity)
    }`
  );
  const charts = tableCharts(t, results).map((c) => c.html).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(t.name)}${
    t.simulated ? " (SIMULATED)" : ""
  }</title>
<style>${CSS}</style></head>
<body>
<h1>${escapeHtml(t.name)}</h1>
${t.simulated ? `<p class="banner">${escapeHtml(SIMULATED_TABLE_NOTE)}</p>` : ""}
${parts.join("\n")}
<h2>Charts${t.simulated ? " (SIMULATED)" : ""}</h2>
${charts}
${
    t.missing.length > 0
      ? `<p class="notes">Not finished (left out): ${escapeHtml(t.missing.join(", "))}</p>`
      : ""
  }
</body></html>
`;
}
