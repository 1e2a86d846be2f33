/**
 * Screenshots for a person to look at (`deno task screenshots`): runs a small simulated RPT
 * run and its trace analyses in a temporary directory, then writes one PNG of each plot
 * type of lib/plot.ts and a screenshot of the HTML report under `.rpt/screenshots/`
 * (git-ignored), through headless Chromium.
 *
 *     deno run -A scripts/screenshots.ts [OUT_DIR]
 *
 * @module
 */
import { join, resolve } from "node:path";
import { run as analyzeCommand } from "../lib/cli/analyze.ts";
import { runReportHtml } from "../lib/cli/report.ts";
import { runCharts } from "../lib/run_charts.ts";
import {
  type Chart,
  deltaBars,
  lengthScoreScatter,
  persistenceBars,
  scoreVsCallsChart,
} from "../lib/plot.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { loadRun } from "../lib/run/reader.ts";
import { AnalysisResult } from "../lib/analysis_schema.ts";
import { CHROMIUM_MISSING, findChromium, screenshot } from "../tests/support/chromium.ts";

const REPO = new URL("../", import.meta.url).pathname;
const SHARED_DATA = new URL("../../shared/data", import.meta.url).pathname;

function hasHotpot(dir: string): boolean {
  try {
    return Deno.statSync(join(dir, "hotpotqa", "train.jsonl")).isFile;
  } catch {
    return false;
  }
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  const error = console.error;
  console.log = () => {};
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
    console.error = error;
  }
}

async function shoot(outDir: string, name: string, html: string, width: number, height: number) {
  const page = join(outDir, `${name}.html`);
  await Deno.writeTextFile(page, html);
  const png = join(outDir, `${name}.png`);
  const result = await screenshot(page, png, { width, height });
  if (result.code !== 0) throw new Error(`chromium failed on ${name}`);
  if (result.console.length > 0) console.warn(`${name}: console: ${result.console.join("; ")}`);
  console.log(`wrote ${png.startsWith(REPO) ? png.slice(REPO.length) : png}`);
}

function chartPage(chart: Chart): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:8px;` +
    `background:#fff}</style></head><body>${chart.svg}</body></html>`;
}

if (import.meta.main) {
  if (findChromium() === undefined) {
    console.error(CHROMIUM_MISSING);
    Deno.exit(1);
  }
  const outDir = resolve(Deno.args[0] ?? join(REPO, ".rpt", "screenshots"));
  await Deno.mkdir(outDir, { recursive: true });
  const tmp = await Deno.makeTempDir({ prefix: "rpt-screenshots-" });
  try {
    const dataDir = Deno.env.get("RPT_DATA_DIR") ??
      (hasHotpot(SHARED_DATA) ? SHARED_DATA : undefined);
    const runDir = join(tmp, "run");
    await optimize({
      task: dataDir !== undefined ? "hotpotqa" : "synthetic",
      target: "sim:target",
      optimizer: "sim:optimizer",
      critic: "sim:critic",
      embedder: "sim:embed",
      iterations: 8,
      confidenceAware: true,
      limits: { train: 100, dev: 100, test: 150 },
      cache: join(tmp, "cache.sqlite"),
      ...(dataDir !== undefined ? { dataDir } : {}),
    }, { runDir });
    await quietly(() => analyzeCommand([runDir, "--k", "6", "--bootstrap", "200"]));
    const run = await loadRun(runDir, { records: true });
    const analysis = AnalysisResult.parse(
      JSON.parse(await Deno.readTextFile(join(runDir, "analysis", "analysis.json"))),
    );

    const charts: [string, Chart][] = [];
    const fromRun = runCharts(run, { alignment: analysis.alignment });
    const names: [RegExp, string][] = [
      [/^Score and Brier/, "trajectory"],
      [/^Reliability/, "reliability"],
      [/^Failure topics/, "topic_prevalence"],
      [/calls per step/, "calls"],
      [/^Alignment/, "alignment"],
    ];
    fromRun.forEach((chart, i) =>
      charts.push([names.find(([re]) => re.test(chart.title))?.[1] ?? `chart_${i}`, chart])
    );
    const simulated = { simulated: true };
    charts.push(["deltas", deltaBars(analysis.deltas.failure, simulated)]);
    charts.push(["persistence", persistenceBars(analysis.persistence, simulated)]);
    charts.push([
      "length_vs_score",
      lengthScoreScatter(analysis.lengthVsScore.points, {
        ...simulated,
        ...(analysis.lengthVsScore.pearson !== null
          ? { pearson: analysis.lengthVsScore.pearson }
          : {}),
        ...(analysis.lengthVsScore.spearman !== null
          ? { spearman: analysis.lengthVsScore.spearman }
          : {}),
      }),
    ]);
    // Dev score against the calls spent so far, the shape of the method-comparison chart.
    let calls = 0;
    const curve = run.events.flatMap((e) => {
      if (e.type !== "usage" || typeof e.step !== "number") return [];
      calls = (e.total as { calls: number }).calls;
      const dev = run.summary?.steps.find((s) => s.step === e.step)?.dev.score;
      return dev === undefined ? [] : [{ method: "RPT", calls, score: dev }];
    });
    if (curve.length > 0) charts.push(["score_vs_calls", scoreVsCallsChart(curve, simulated)]);

    for (const [name, chart] of charts) {
      await shoot(outDir, name, chartPage(chart), chart.width + 16, chart.height + 16);
    }
    await shoot(
      outDir,
      "report",
      runReportHtml(run, { alignment: analysis.alignment }),
      1200,
      // Tall enough for the whole page (figures, iterations, warnings, prompts).
      7200,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
