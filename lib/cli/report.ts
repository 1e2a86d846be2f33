/**
 * `rpt report RUN_DIR [--out FILE]`: one self-contained HTML file with the plots and tables
 * of a run (inline SVG and CSS, no scripts, no external assets), for people who do not open
 * notebooks. The default output is `RUN_DIR/report.html`.
 *
 * @module
 */
import { join, resolve } from "node:path";
import type { AlignmentInput } from "../plot.ts";
import { simulationBanner, specsAreSimulated } from "../llm/spec.ts";
import { runCharts } from "../run_charts.ts";
import { runWarnings } from "../run_warnings.ts";
import { hint } from "./hints.ts";
import { escapeHtml } from "../notebook.ts";
import { promptDiff, type PromptProgram, promptText } from "../prompt.ts";
import { loadRun, type RunRecord } from "../run/reader.ts";
import type { StepSummary } from "../run/schema.ts";
import type { Metrics } from "../tasks/schema.ts";
import { ConfigError } from "../util/errors.ts";
import { writeTextAtomic } from "../util/fs.ts";
import { settingsLines } from "./settings_text.ts";
import { costText, fixed, probability, simulatedSuffix } from "../util/format.ts";
import { parseCommandArgs } from "./args.ts";

const USAGE = "usage: rpt report RUN_DIR [--out FILE]";

/** Chart width: the page's text column (max-width 1100px less padding). */
const CHART_WIDTH = 1060;

function table(head: string[], rows: string[][], cls = ""): string {
  const th = head.map((h) => `<th>${h}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n");
  return `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${th}</tr></thead>` +
    `<tbody>\n${tr}\n</tbody></table>`;
}

function promptBlock(prompt: PromptProgram): string {
  return `<pre class="prompt">${escapeHtml(promptText(prompt))}</pre>`;
}

function diffBlock(diff: string): string {
  const lines = diff.split("\n").map((line) => {
    const cls = line.startsWith("+") && !line.startsWith("+++")
      ? "add"
      : line.startsWith("-") && !line.startsWith("---")
      ? "del"
      : line.startsWith("@@")
      ? "hunk"
      : "";
    return cls ? `<span class="${cls}">${escapeHtml(line)}</span>` : escapeHtml(line);
  });
  return `<pre class="diff">${lines.join("\n")}</pre>`;
}

function metricsRow(name: string, m: Metrics | null | undefined): string[] {
  return [
    escapeHtml(name),
    fixed(m?.score),
    fixed(m?.fullCredit),
    fixed(m?.brier),
    fixed(m?.ece),
    fixed(m?.avgConfidence),
    fixed(m?.formatErrorRate),
    m ? String(m.n) : "–",
  ];
}

const METRIC_HEAD = [
  "",
  "score",
  "full credit",
  "Brier",
  "ECE",
  "confidence",
  "format errors",
  "n",
];

async function readAlignment(runDir: string): Promise<AlignmentInput[] | undefined> {
  try {
    const json = JSON.parse(await Deno.readTextFile(join(runDir, "analysis", "alignment.json")));
    return Array.isArray(json?.alignment) ? json.alignment as AlignmentInput[] : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The HTML page

const STEP_HEAD = [
  "step",
  "train score",
  "dev score",
  "dev Brier",
  "test score",
  "selection",
  "prompt chars",
  "failure topics (of this step's prompt)",
];

/**
 * What came after a step, on a row of its own between that step and the next, so that a
 * patch's rationale is never read as the rationale of the step above it: the patch that
 * produced step N+1's prompt, or the stop.
 */
function transitionRow(s: StepSummary, next: StepSummary | undefined): string | undefined {
  const by = s.by === "hand" ? " (by hand)" : "";
  const rejected = s.rejections.length > 0
    ? ` <span class="muted">after ${s.rejections.length} rejected patch(es)</span>`
    : "";
  let body: string;
  if (s.action === "patch") {
    const to = next !== undefined ? `step ${next.step}` : "the next step";
    body = `<span class="arrow">patch${by}, step ${s.step} → ${to}:</span> ${
      escapeHtml(s.rationale ?? "")
    }${rejected}`;
  } else if (s.action === "stop") {
    body = `<span class="arrow">the optimizer stopped after step ${s.step}:</span> ${
      escapeHtml(s.stopReason ?? "")
    }`;
  } else return undefined;
  return `<tr class="transition"><td>${s.action === "patch" ? "↓" : "■"}</td>` +
    `<td colspan="${STEP_HEAD.length - 1}">${body}</td></tr>`;
}

function stepsTable(steps: readonly StepSummary[]): string {
  const rows = steps.flatMap((s, i) => {
    const cells = [
      `${s.step}${s.kind === "final" ? " (final)" : ""}${s.selected ? " ★" : ""}`,
      fixed(s.train?.score),
      fixed(s.dev.score),
      fixed(s.dev.brier),
      fixed(s.test?.score),
      fixed(s.selection, 4),
      String(s.promptChars),
      escapeHtml(s.topics.join("; ") || "–"),
    ];
    const row = `<tr class="step">${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
    const after = transitionRow(s, steps[i + 1]);
    return after === undefined ? [row] : [row, after];
  });
  const th = STEP_HEAD.map((h) => `<th>${h}</th>`).join("");
  return `<table class="steps"><thead><tr>${th}</tr></thead><tbody>\n${rows.join("\n")}\n` +
    `</tbody></table>`;
}

/** The warnings section: every warning of the run, or a line saying what was checked. */
function warningsSection(run: RunRecord): string {
  const warnings = runWarnings(run);
  if (warnings.length === 0) {
    return `<p class="muted">None: no failed model calls, cache trouble, memory compaction, ` +
      `clustering, critique or batch fallbacks, loop warnings or budget stops are recorded.</p>`;
  }
  return table(
    ["kind", "step", "what happened"],
    warnings.map((w) => [
      escapeHtml(w.kind),
      w.step === undefined ? "–" : String(w.step),
      escapeHtml(w.text),
    ]),
    "warnings",
  );
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
  max-width: 1100px; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; padding: 0.6rem 0.9rem;
  border-radius: 6px; font-weight: 600; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.55rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
table.steps td:nth-child(8) { max-width: 26rem; }
table.steps tr.transition td { background: #f6f8fa; color: #3d444d; font-size: 0.85rem; }
table.steps tr.transition td:first-child { text-align: center; color: #59636e; }
table.steps .arrow { color: #59636e; font-weight: 600; }
table.warnings td:nth-child(3) { max-width: 48rem; }
figure svg { max-width: 100%; height: auto; }
pre { background: #f6f8fa; padding: 0.7rem; border-radius: 6px; overflow-x: auto;
  white-space: pre-wrap; font-size: 0.85rem; }
.diff .add { color: #116329; background: #dafbe1; } .diff .del { color: #82071e; background: #ffebe9; }
.diff .hunk { color: #8250df; }
figure { margin: 1rem 0; } figcaption { font-size: 0.85rem; color: #59636e; }
.muted { color: #59636e; font-size: 0.9rem; }
`;

/**
 * The HTML report of a loaded run: summary, figures (inline SVG), the iterations table, the
 * prompts and their diffs, configuration and usage. Runs on the simulator are labelled
 * SIMULATED at the top and in every figure.
 */
export function runReportHtml(
  run: RunRecord,
  options: { alignment?: readonly AlignmentInput[] } = {},
): string {
  const simulated = specsAreSimulated(run.config);
  const tag = simulatedSuffix(simulated);
  const summary = run.summary;
  const c = run.config;
  const title = `rpt run: ${c.task}${tag}`;
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(title)}</h1>`);
  parts.push(
    `<p class="muted">target <code>${escapeHtml(c.target)}</code> · optimizer <code>${
      escapeHtml(c.optimizer)
    }</code> · ${c.confidenceAware ? "confidence-aware" : "plain"} selection · memory ${
      escapeHtml(c.memory)
    } · seed ${c.seed}</p>`,
  );
  const banner = simulationBanner(c);
  if (banner !== undefined) parts.push(`<p class="banner">${escapeHtml(banner)}.</p>`);
  parts.push(
    `<details><summary>Settings</summary><ul>${
      settingsLines(c).map((l) => `<li>${escapeHtml(l)}</li>`).join("")
    }</ul></details>`,
  );

  parts.push(`<h2>Outcome</h2>`);
  if (summary === null) {
    parts.push(
      `<p>This run has no <code>summary.json</code> yet (it is running or was ` +
        `interrupted); the steps recorded so far are shown below.</p>`,
    );
  } else {
    parts.push(
      `<p>${summary.iterationsRun} iteration(s); stopped (${escapeHtml(summary.stop.kind)}): ${
        escapeHtml(summary.stop.reason.replace(/\.\s*$/, ""))
      }. Selected prompt: step ${summary.selected.step} (selection value ${
        fixed(summary.selected.selection, 4)
      }).</p>`,
    );
    parts.push(table(METRIC_HEAD, [
      metricsRow(`seed, dev${tag}`, summary.seed.dev),
      metricsRow(`selected, dev${tag}`, summary.selected.dev),
      metricsRow(`seed, test${tag}`, summary.seed.test),
      metricsRow(`selected, test${tag}`, summary.selected.test),
    ]));
    const h = summary.headline;
    if (h !== undefined) {
      parts.push(
        `<p>Headline, ${escapeHtml(h.name)}${tag}: selected ${fixed(h.selected.dev)} on dev, ` +
          `${fixed(h.selected.test)} on test; seed ${fixed(h.seed.dev)} on dev, ` +
          `${fixed(h.seed.test)} on test.</p>`,
      );
    }
    const cmp = summary.comparison;
    if (cmp !== null) {
      parts.push(
        `<p>Selected vs seed on test${tag}: Δ score ${fixed(cmp.delta)} (95% paired bootstrap ` +
          `interval ${fixed(cmp.lo)} to ${fixed(cmp.hi)}, P(selected better) ${
            escapeHtml(probability(cmp.probabilityFinalGreater))
          }, n = ${cmp.n}).</p>`,
      );
    }
  }

  const charts = runCharts(run, {
    simulated,
    width: CHART_WIDTH,
    ...(options.alignment ? { alignment: options.alignment } : {}),
  });
  if (charts.length > 0) {
    parts.push(`<h2>Figures</h2>`);
    for (const chart of charts) parts.push(chart.html);
  }

  const steps = summary?.steps ?? run.state?.steps ?? [];
  parts.push(`<h2>Iterations</h2>`);
  parts.push(
    steps.length > 0 ? stepsTable(steps) : `<p>No step has completed yet.</p>`,
  );
  parts.push(
    `<p class="muted">Each step's row is its prompt; the row under it is what the optimizer ` +
      `did next (the patch that produced the following step's prompt, with its rationale, ` +
      `or the stop). ★ the prompt became the best so far on dev (selection value${
        summary?.selectionFormula ? ` = ${escapeHtml(summary.selectionFormula)}` : ""
      }). Test is scored at step 1 and every ${c.testEvery} steps for the curves only; ` +
      `the final step is the last patch's prompt, scored on dev only.</p>`,
  );
  // Memory compaction, like every other warning, is listed under Warnings.
  parts.push(`<h2>Warnings</h2>`);
  parts.push(warningsSection(run));

  parts.push(`<h2>Prompts</h2>`);
  const first = run.steps[0];
  if (first !== undefined) {
    parts.push(`<h3>Seed prompt (step ${first.step})</h3>${promptBlock(first.prompt)}`);
  }
  if (summary !== null) {
    parts.push(
      `<h3>Selected prompt (step ${summary.selected.step})</h3>${
        promptBlock(summary.selected.prompt)
      }`,
    );
  }
  for (let i = 1; i < run.steps.length; i++) {
    const before = run.steps[i - 1];
    const after = run.steps[i];
    if (before === undefined || after === undefined) continue;
    const diff = promptDiff(before.prompt, after.prompt, {
      from: `step ${before.step}`,
      to: `step ${after.step}`,
    });
    parts.push(
      `<details><summary>Prompt diff, step ${before.step} → ${after.step}${
        diff === "" ? " (unchanged)" : ""
      }</summary>${diff === "" ? "" : diffBlock(diff)}</details>`,
    );
  }

  parts.push(`<h2>Configuration and usage</h2>`);
  // The cache path is machine-specific and says nothing about the run.
  const { cache: _cache, ...shown } = c;
  parts.push(`<pre>${escapeHtml(JSON.stringify(shown, null, 2))}</pre>`);
  const usage = run.usage?.total;
  if (usage !== undefined) {
    parts.push(table(
      ["calls", "cache hits", "input tokens", "output tokens", "dollars"],
      [[
        String(usage.calls),
        String(usage.cacheHits),
        String(usage.inputTokens),
        String(usage.outputTokens),
        escapeHtml(costText(usage.usd, usage.unpriced)),
      ]],
    ));
  }

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${parts.join("\n")}
</body>
</html>
`;
}

/** Runs `rpt report`. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  }, ` (${USAGE})`);
  if (values.help) {
    console.log(hint(USAGE));
    return 0;
  }
  const [runDir, ...extra] = positionals;
  if (runDir === undefined || extra.length > 0) {
    throw new ConfigError(`expected one run directory. ${USAGE}`);
  }
  let isDir = false;
  try {
    isDir = (await Deno.stat(runDir)).isDirectory;
  } catch {
    // Reported below.
  }
  if (!isDir) throw new ConfigError(`run directory '${runDir}' does not exist. ${USAGE}`);
  const run = await loadRun(runDir, { records: true });
  const alignment = await readAlignment(run.dir);
  const out = resolve(values.out ?? join(runDir, "report.html"));
  await writeTextAtomic(out, runReportHtml(run, alignment ? { alignment } : {}));
  console.log(`wrote ${values.out ?? join(runDir, "report.html")}`);
  return 0;
}
