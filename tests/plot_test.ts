import assert from "node:assert/strict";
import { join } from "node:path";
import { parseHTML } from "linkedom";
import {
  alignmentHeatmap,
  type Chart,
  costChart,
  deltaBars,
  lengthScoreScatter,
  persistenceBars,
  reliabilityDiagram,
  scoreVsCallsChart,
  shortLabels,
  topicPrevalenceChart,
  trajectoryChart,
  type TrajectoryPoint,
} from "../lib/plot.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { exampleCharts } from "../scripts/plots_png.ts";

/** The chart's SVG as a DOM, to count marks. */
function dom(chart: Chart) {
  const { document } = parseHTML(`<!DOCTYPE html><html><body>${chart.svg}</body></html>`);
  return {
    all: (selector: string) => [...document.querySelectorAll(selector)] as Element[],
    texts: (selector = "text") =>
      ([...document.querySelectorAll(selector)] as Element[]).map((e) => e.textContent ?? ""),
  };
}

/**
 * A strict enough XML well-formedness check for our SVG: tags balance, no raw `<` or bare `&`
 * in text or attribute values (rsvg-convert and image viewers reject both).
 */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (const m of svg.matchAll(tag)) {
    const between = svg.slice(last, m.index);
    assert.doesNotMatch(between, /<|&(?!(amp|lt|gt|quot|#\d+);)/, `bad text: ${between}`);
    assert.doesNotMatch(m[3] ?? "", /&(?!(amp|lt|gt|quot|#\d+);)/, `bad attribute: ${m[0]}`);
    const [, close, name, , selfClose] = m;
    if (selfClose) {
      // empty element
    } else if (close) {
      assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    } else {
      stack.push(name!);
    }
    last = m.index! + m[0].length;
  }
  assert.equal(svg.slice(last), "", "text after the root element");
  assert.deepEqual(stack, []);
}

Deno.test("the well-formedness check itself rejects broken SVG", () => {
  for (
    const bad of [
      "<svg><text>a & b</text></svg>",
      "<svg><g></svg>",
      "<svg><text>a < b</text></svg>",
      '<svg><g a="x & y"></g></svg>',
    ]
  ) {
    assert.throws(() => assertWellFormed(bad), assert.AssertionError, bad);
  }
  assertWellFormed('<svg><g a="x &amp; y"><path/></g><text>a &lt; b</text></svg>');
});

function assertStandalone(chart: Chart): void {
  assert.ok(
    chart.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'),
    chart.svg.slice(0, 80),
  );
  assert.ok(chart.svg.endsWith("</svg>"));
  assertWellFormed(chart.svg);
  assert.match(chart.svg, new RegExp(`width="${chart.width}" height="${chart.height}"`));
}

const TRAJECTORY: TrajectoryPoint[] = [
  { step: 1, split: "train", score: 0.4, brier: 0.3 },
  { step: 2, split: "train", score: 0.5, brier: 0.25 },
  { step: 3, split: "train", score: 0.55, brier: null },
  { step: 1, split: "dev", score: 0.38, brier: 0.31 },
  { step: 2, split: "dev", score: 0.52, brier: 0.24 },
  { step: 3, split: "dev", score: 0.5, brier: 0.26 },
  { step: 1, split: "test", score: 0.37, brier: 0.32 },
];

Deno.test("trajectoryChart: train/dev lines with points, test diamonds, the selected step", () => {
  const chart = trajectoryChart(TRAJECTORY, { selectedStep: 2, metrics: ["score"] });
  assertStandalone(chart);
  const d = dom(chart);
  assert.equal(chart.title, "Score over iterations");
  assert.deepEqual(d.texts("svg > text").slice(0, 1), ["Score over iterations"]);
  // One path per split line, 6 train/dev points + 1 ring on the selected dev point.
  assert.equal(d.all('g[aria-label="line"] path').length, 2);
  assert.equal(d.all('g[aria-label="dot"] circle').length, 7);
  assert.equal(d.all('g[aria-label="dot"] path').length, 1, "one test diamond");
  assert.ok(d.texts().includes("score ↑"));
  assert.ok(d.texts().includes("selected"));
  assert.deepEqual(d.texts('g[aria-label="legend"] text'), [
    "train",
    "dev",
    "test",
    "selected (step 2)",
  ]);
  assert.deepEqual(d.texts('g[aria-label="x-axis tick label"] text'), ["1", "2", "3"]);
  // Coordinates are rounded so committed notebook outputs stay small.
  assert.doesNotMatch(chart.svg, /="[^"]*\d\.\d{3,}/);
});

Deno.test("trajectoryChart: a Brier panel skips null values; simulated goes in the title", () => {
  const chart = trajectoryChart(TRAJECTORY, { simulated: true });
  const d = dom(chart);
  assert.equal(chart.title, "Score and Brier over iterations (simulated)");
  assert.ok(chart.svg.includes("<title>Score and Brier over iterations (simulated)</title>"));
  assert.equal(d.all('g[aria-label="y-axis label"]').length, 2);
  assert.ok(d.texts().includes("Brier ↓"));
  // Score: 6 points; Brier: 5 (train step 3 has none); no selected ring.
  assert.equal(d.all('g[aria-label="dot"] circle').length, 11);
  assert.ok(!d.texts().includes("selected"));
});

Deno.test("trajectoryChart: Brier and ECE panels; points without an ECE are skipped", () => {
  const points = [
    { step: 1, split: "dev" as const, score: 0.5, brier: 0.3, ece: 0.2 },
    { step: 2, split: "dev" as const, score: 0.6, brier: 0.2, ece: 0.1 },
    { step: 3, split: "dev" as const, score: 0.7, brier: 0.1 },
  ];
  const chart = trajectoryChart(points, { metrics: ["brier", "ece"] });
  const d = dom(chart);
  assert.equal(chart.title, "Brier and ECE over iterations");
  assert.ok(d.texts().includes("ECE ↓"));
  // Brier: 3 points; ECE: 2 (step 3 has none).
  assert.equal(d.all('g[aria-label="dot"] circle').length, 5);
});

Deno.test("reliabilityDiagram: one dot and count label per non-empty bin, and the diagonal", () => {
  const bins = [
    { lo: 0, hi: 0.5, n: 0, avgConfidence: null, avgScore: null },
    { lo: 0.5, hi: 0.8, n: 4, avgConfidence: 0.7, avgScore: 0.5 },
    { lo: 0.8, hi: 1, n: 10, avgConfidence: 0.9, avgScore: 0.6 },
  ];
  const single = dom(reliabilityDiagram(bins));
  assert.equal(single.all('g[aria-label="dot"] circle').length, 2);
  assert.deepEqual(single.texts('g[aria-label="text"] text'), ["n=4", "n=10"]);
  // The diagonal and the series line.
  assert.equal(single.all('g[aria-label="line"]').length, 2);
  assert.ok(single.texts().includes("mean confidence →"));

  const chart = reliabilityDiagram([
    { label: "seed", bins },
    { label: "selected", bins: bins.slice(2) },
  ], { simulated: true });
  const d = dom(chart);
  assert.equal(d.all('g[aria-label="dot"] circle').length, 3);
  assert.deepEqual(d.texts('g[aria-label="legend"] text'), [
    "seed",
    "selected",
    "perfect calibration",
  ]);
  assert.equal(chart.title, "Reliability diagram (simulated)");
});

Deno.test("topicPrevalenceChart: a cell per present topic-step over a grey grid", () => {
  const chart = topicPrevalenceChart([
    { step: 1, topic: "Units ignored", prevalence: 0.4, retained: true },
    { step: 2, topic: "Units ignored", prevalence: 0.2, retained: true },
    { step: 2, topic: "Overconfidence", prevalence: 0.05, retained: false },
    { step: 4, topic: "Overconfidence", prevalence: 0.3, retained: true },
  ]);
  assertStandalone(chart);
  const d = dom(chart);
  const [background, present] = d.all('g[aria-label="cell"]');
  // Steps 1..4 (3 included though absent) x 2 topics.
  assert.equal(background!.querySelectorAll("rect").length, 8);
  assert.equal(present!.querySelectorAll("rect").length, 4);
  assert.deepEqual(d.texts('g[aria-label="text"] text'), ["40", "20", "5", "30"]);
  // Ordered by first appearance.
  assert.deepEqual(d.texts('g[aria-label="y-axis tick label"] text'), [
    "Units ignored",
    "Overconfidence",
  ]);
  assert.deepEqual(d.texts('g[aria-label="x-axis tick label"] text'), ["1", "2", "3", "4"]);
  assert.ok(d.texts().includes("prevalence"));
});

Deno.test("alignmentHeatmap: cells with P and counts; long and special names are safe", () => {
  const long = "A very long failure topic name that would push the heatmap off the page";
  const chart = alignmentHeatmap([
    {
      failureTopic: long,
      patchTopic: "Add units & scale rule",
      both: 1,
      failureCount: 2,
      probability: 0.5,
    },
    {
      failureTopic: long,
      patchTopic: "<tighten> confidence",
      both: 2,
      failureCount: 2,
      probability: 1,
    },
    {
      failureTopic: "Short",
      patchTopic: "Add units & scale rule",
      both: 0,
      failureCount: 3,
      probability: 0,
    },
    {
      failureTopic: "Short",
      patchTopic: "<tighten> confidence",
      both: 1,
      failureCount: 3,
      probability: 1 / 3,
    },
  ], { simulated: true });
  assertStandalone(chart);
  const d = dom(chart);
  assert.equal(d.all('g[aria-label="cell"] rect').length, 4);
  assert.deepEqual(
    d.all('g[aria-label="text"] text').map((t) =>
      [...t.querySelectorAll("tspan")].map((s) => s.textContent).join("|")
    ),
    ["0.50|1/2", "1.00|2/2", "0.00|0/3", "0.33|1/3"],
  );
  const rows = d.texts('g[aria-label="y-axis tick label"] text');
  assert.deepEqual(rows, ["A very long failure topic name that…", "Short"]);
  assert.ok(chart.svg.includes("Add units &amp; scale rule"));
  assert.ok(chart.svg.includes("&lt;tighten&gt; confidence"));
  // The full name survives in the tooltip.
  assert.ok(chart.svg.includes(`${long} → Add units &amp; scale rule`));
  assert.ok(d.texts().includes("Alignment: P(patch topic | failure topic) (simulated)"));
});

Deno.test("shortLabels cuts with an ellipsis and keeps colliding names apart", () => {
  const a = "Rounding to the wrong number of decimal places (final answer)";
  const b = "Rounding to the wrong number of decimal places (intermediate)";
  const labels = shortLabels([a, b, "Short", a], 20);
  assert.deepEqual([...labels.entries()], [
    [a, "Rounding to the wro…"],
    [b, "Rounding to the…#2"],
    ["Short", "Short"],
  ]);
});

Deno.test("costChart: one bar per step and group, legend per group, chosen measure", () => {
  const points = [1, 2, 3].flatMap((step) => [
    { step, group: "target", calls: 10, usd: 0.1 },
    { step, group: "optimizer", calls: 2, usd: 0.3 },
  ]);
  const calls = dom(costChart(points));
  assert.equal(calls.all('g[aria-label="bar"] rect').length, 6);
  assert.deepEqual(calls.texts('g[aria-label="legend"] text'), ["target", "optimizer"]);
  assert.ok(calls.texts().includes("↑ calls"));
  const usd = costChart(points, { measure: "usd", simulated: true });
  assert.equal(usd.title, "Cost per step (simulated)");
  assert.ok(dom(usd).texts().includes("↑ US$"));
});

Deno.test("deltaBars: bars, intervals and counts per topic; null Brier left out", () => {
  const chart = deltaBars([
    {
      topic: "Units",
      count: 3,
      meanDeltaScore: 0.1,
      scoreInterval: [0.02, 0.2],
      meanDeltaBrier: -0.05,
      brierInterval: [-0.1, 0],
      brierCount: 3,
    },
    {
      topic: "Hedging",
      count: 2,
      meanDeltaScore: -0.05,
      scoreInterval: [-0.1, 0.01],
      meanDeltaBrier: null,
      brierInterval: null,
      brierCount: 0,
    },
  ]);
  assertStandalone(chart);
  const d = dom(chart);
  const [scoreBars, brierBars] = d.all('g[aria-label="bar"]');
  assert.equal(scoreBars!.querySelectorAll("rect").length, 2);
  assert.equal(brierBars!.querySelectorAll("rect").length, 1);
  // Better is green: score up for Units, Brier down for Units; Hedging's score fell.
  assert.deepEqual(
    [...scoreBars!.querySelectorAll("rect")].map((r) => r.getAttribute("fill")),
    ["#3ca951", "#ff725c"],
  );
  assert.equal(brierBars!.querySelector("rect")!.getAttribute("fill"), "#3ca951");
  assert.deepEqual(d.texts('g[aria-label="text"] text'), ["n=3", "n=2", "n=3"]);
  assert.ok(d.texts().includes("mean next-step Δ score →"));
});

Deno.test("persistenceBars: a bar and a longest-run tick per topic with resolved counts", () => {
  const chart = persistenceBars([
    { topic: "A", meanRunLength: 1.5, longestRun: 2, stepsPresent: 3, resolved: 1, reappeared: 1 },
    { topic: "B", meanRunLength: 3, longestRun: 3, stepsPresent: 3, resolved: 0, reappeared: 0 },
  ]);
  const d = dom(chart);
  assert.equal(d.all('g[aria-label="bar"] rect').length, 2);
  assert.equal(d.all('g[aria-label="tick"] line').length, 2);
  assert.deepEqual(d.texts('g[aria-label="y-axis tick label"] text'), ["B", "A"]);
  assert.deepEqual(d.texts('g[aria-label="text"] text'), [
    "resolved 0 · back 0",
    "resolved 1 · back 1",
  ]);
});

Deno.test("lengthScoreScatter: a dot and step label per point, regression line, correlations", () => {
  const chart = lengthScoreScatter([
    { run: "r", step: 1, promptTokens: 100, devScore: 0.4 },
    { run: "r", step: 2, promptTokens: 150, devScore: 0.5 },
    { run: "r", step: 3, promptTokens: 200, devScore: 0.55 },
  ], { pearson: 0.987, spearman: 1 });
  const d = dom(chart);
  assert.equal(d.all('g[aria-label="dot"] circle').length, 3);
  assert.deepEqual(d.texts('g[aria-label="text"] text'), ["1", "2", "3"]);
  assert.equal(d.all('g[aria-label="linear-regression"] path').length, 1);
  assert.ok(chart.svg.includes("Pearson r = 0.99 · Spearman ρ = 1.00"));
  assert.equal(d.all('g[aria-label="legend"]').length, 0, "no legend for a single run");
});

Deno.test("scoreVsCallsChart: one line per method", () => {
  const chart = scoreVsCallsChart([
    { method: "rpt", calls: 0, score: 0.4 },
    { method: "rpt", calls: 50, score: 0.5 },
    { method: "opro", calls: 0, score: 0.4 },
    { method: "opro", calls: 50, score: 0.45 },
    { method: "opro", calls: 100, score: 0.47 },
  ]);
  const d = dom(chart);
  assert.equal(d.all('g[aria-label="line"] path').length, 2);
  assert.equal(d.all('g[aria-label="dot"] circle').length, 5);
  assert.deepEqual(d.texts('g[aria-label="legend"] text'), ["rpt", "opro"]);
});

Deno.test("Chart displays in Jupyter as SVG, embeds in HTML and saves .svg/.html only", async () => {
  const chart = scoreVsCallsChart([{ method: "m", calls: 1, score: 0.5 }]);
  const bundle = (chart as unknown as Record<symbol, () => Record<string, string>>)[
    Symbol.for("Jupyter.display")
  ]!();
  assert.equal(bundle["image/svg+xml"], chart.svg);
  assert.equal(bundle["text/plain"], "[chart] Score vs calls by method");
  assert.equal(
    chart.html,
    `<figure class="rpt-chart" style="margin:0 0 1em 0">${chart.svg}</figure>`,
  );
  const dir = await Deno.makeTempDir();
  try {
    await chart.save(join(dir, "c.svg"));
    assert.equal(await Deno.readTextFile(join(dir, "c.svg")), chart.svg);
    await chart.save(join(dir, "c.html"));
    const page = await Deno.readTextFile(join(dir, "c.html"));
    assert.ok(page.startsWith("<!DOCTYPE html>") && page.includes(chart.svg));
    await assert.rejects(() => chart.save(join(dir, "c.png")), ConfigError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("empty input is a ConfigError naming the chart", () => {
  assert.throws(
    () => trajectoryChart([]),
    (e) => e instanceof ConfigError && /trajectoryChart/.test(e.message),
  );
  assert.throws(() => alignmentHeatmap([]), ConfigError);
});

Deno.test("every example chart of the PNG script is standalone, well-formed SVG", () => {
  const charts = exampleCharts();
  assert.equal(Object.keys(charts).length, 9);
  for (const [name, chart] of Object.entries(charts)) {
    assertStandalone(chart);
    assert.ok(chart.title.endsWith("(simulated)"), name);
  }
});
