/**
 * Renders one example of every chart type on fixed data to PNG (and SVG) files under
 * `.rpt/plots/` (git-ignored), so a person can look at them:
 *
 *     deno run -A scripts/plots_png.ts [OUT_DIR]
 *
 * PNG conversion uses `rsvg-convert` (Debian package `librsvg2-bin`); without it only the SVG
 * files are written and the script says how to install it.
 *
 * @module
 */
import { join } from "node:path";
import {
  alignmentHeatmap,
  type Chart,
  costChart,
  deltaBars,
  lengthScoreScatter,
  persistenceBars,
  reliabilityDiagram,
  scoreVsCallsChart,
  topicPrevalenceChart,
  trajectoryChart,
  type TrajectoryPoint,
} from "../lib/plot.ts";

const TOPICS = [
  "Answer format & units not followed",
  "Overconfident on wrong <bridge> entity",
  "Comparison direction reversed",
  "Rounding to the wrong number of decimal places in the final numeric answer",
  "Unsupported claims",
];

/** One example chart of each type on fixed data, keyed by a file-friendly name. */
export function exampleCharts(): Record<string, Chart> {
  const trajectory: TrajectoryPoint[] = [];
  const train = [0.42, 0.5, 0.58, 0.61, 0.6, 0.66, 0.65];
  const dev = [0.4, 0.47, 0.55, 0.56, 0.59, 0.58, 0.57];
  train.forEach((score, i) => {
    trajectory.push({ step: i + 1, split: "train", score, brier: 0.3 - i * 0.025 });
    trajectory.push({ step: i + 1, split: "dev", score: dev[i]!, brier: 0.31 - i * 0.02 });
  });
  trajectory.push({ step: 1, split: "test", score: 0.41, brier: 0.3 });
  trajectory.push({ step: 5, split: "test", score: 0.57, brier: 0.23 });

  const bins = (shift: number) =>
    Array.from({ length: 10 }, (_, i) => {
      const conf = i / 10 + 0.05;
      const n = i < 4 ? 0 : (i - 3) * 6;
      return {
        lo: i / 10,
        hi: (i + 1) / 10,
        n,
        avgConfidence: n ? conf : null,
        avgScore: n ? Math.max(0, conf - shift * (i / 10)) : null,
      };
    });

  const prevalence = [];
  for (let step = 1; step <= 7; step++) {
    for (const [t, topic] of TOPICS.entries()) {
      const present = (t === 0 && step <= 2) || (t === 1 && step <= 5) || (t === 2 && step >= 2) ||
        (t === 3 && step % 3 !== 0) || (t === 4 && step >= 5);
      if (!present) continue;
      const value = Math.round(((t + 1) * 0.07 + (step % 3) * 0.05) * 100) / 100;
      prevalence.push({ step, topic, prevalence: value, retained: value >= 0.1 });
    }
  }

  const patchTopics = ["Add units rule", "Tighten confidence guidance", "Refactor output section"];
  const alignment = TOPICS.flatMap((failureTopic, f) =>
    patchTopics.map((patchTopic, p) => {
      const failureCount = 3 + f;
      const both = (f + p) % 4 === 0 ? failureCount : (f + 2 * p) % 3;
      return { failureTopic, patchTopic, both, failureCount, probability: both / failureCount };
    })
  );

  const cost = [1, 2, 3, 4, 5].flatMap((step) => [
    { step, group: "target", calls: 60, tokens: 60_000, usd: 0.06 },
    { step, group: "critique", calls: 25 - step * 3, tokens: 20_000, usd: 0.05 },
    { step, group: "cluster", calls: 4, tokens: 8_000, usd: 0.01 },
    { step, group: "optimizer", calls: 2 + (step % 2), tokens: 12_000, usd: 0.04 },
  ]);

  const deltas = TOPICS.map((topic, i) => ({
    topic,
    count: 2 + i,
    meanDeltaScore: 0.04 - i * 0.02,
    scoreInterval: [0.01 - i * 0.03, 0.07 - i * 0.01] as [number, number],
    meanDeltaBrier: i === 4 ? null : -0.02 + i * 0.012,
    brierInterval: i === 4 ? null : [-0.05 + i * 0.01, 0.01 + i * 0.015] as [number, number],
    brierCount: i === 4 ? 0 : 2 + i,
  }));

  const persistence = TOPICS.map((topic, i) => ({
    topic,
    meanRunLength: 1 + ((i * 7) % 5) / 2,
    longestRun: 1 + ((i * 7) % 5),
    stepsPresent: 2 + i,
    resolved: i % 3,
    reappeared: i % 2,
  }));

  const lengths = [
    120,
    160,
    210,
    240,
    300,
    310,
    360,
  ].flatMap((tokens, i) => [
    { run: "seed-0", step: i + 1, promptTokens: tokens, devScore: dev[i]! },
    {
      run: "seed-1",
      step: i + 1,
      promptTokens: tokens + 25,
      devScore: Math.max(0, dev[i]! - 0.04 + (i % 2) * 0.03),
    },
  ]);

  const curves = ["rpt", "opro", "random-edits"].flatMap((method, m) =>
    [0, 100, 200, 300, 400, 500].map((calls, i) => ({
      method,
      calls,
      score: 0.4 + (0.2 - m * 0.06) * (1 - Math.exp(-i / 2)),
    }))
  );

  return {
    trajectory: trajectoryChart(trajectory, { selectedStep: 5, simulated: true }),
    reliability: reliabilityDiagram([
      { label: "seed", bins: bins(0.5) },
      { label: "selected", bins: bins(0.15) },
    ], { simulated: true }),
    topic_prevalence: topicPrevalenceChart(prevalence, { simulated: true }),
    alignment: alignmentHeatmap(alignment, { simulated: true }),
    cost: costChart(cost, { simulated: true }),
    delta_bars: deltaBars(deltas, { simulated: true }),
    persistence: persistenceBars(persistence, { simulated: true }),
    length_vs_score: lengthScoreScatter(lengths, {
      simulated: true,
      pearson: 0.83,
      spearman: 0.79,
    }),
    score_vs_calls: scoreVsCallsChart(curves, { simulated: true }),
  };
}

async function hasCommand(name: string): Promise<boolean> {
  const out = await new Deno.Command("which", { args: [name], stdout: "null", stderr: "null" })
    .output();
  return out.success;
}

async function main(): Promise<void> {
  const outDir = Deno.args[0] ?? ".rpt/plots";
  await Deno.mkdir(outDir, { recursive: true });
  const png = await hasCommand("rsvg-convert");
  if (!png) {
    console.error(
      "rsvg-convert not found: writing SVG only (apt-get install -y librsvg2-bin for PNG)",
    );
  }
  for (const [name, chart] of Object.entries(exampleCharts())) {
    const svgPath = join(outDir, `${name}.svg`);
    await chart.save(svgPath);
    if (!png) {
      console.log(svgPath);
      continue;
    }
    const pngPath = join(outDir, `${name}.png`);
    const out = await new Deno.Command("rsvg-convert", {
      args: ["--zoom", "2", "--background-color", "white", "-o", pngPath, svgPath],
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`rsvg-convert ${svgPath}: ${new TextDecoder().decode(out.stderr)}`);
    }
    console.log(`${pngPath} (${chart.width}x${chart.height})`);
  }
}

if (import.meta.main) await main();
