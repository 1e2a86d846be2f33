/**
 * Charts of RPT runs drawn with Observable Plot on a server-side DOM (linkedom), so they work
 * the same in Deno's Jupyter kernel, in scripts and in tests. Every helper takes plain typed
 * rows and returns a {@linkcode Chart}: a standalone SVG (`xmlns` set, white background,
 * title, legend and caption inside the SVG) that displays itself in the kernel, embeds in
 * HTML and saves to a file.
 *
 * Charts of simulator output take `simulated: true`, which puts "(simulated)" in the title.
 *
 * @example
 * ```ts
 * import { trajectoryChart } from "./plot.ts";
 * const chart = trajectoryChart([
 *   { step: 1, split: "train", score: 0.4, brier: 0.3 },
 *   { step: 1, split: "dev", score: 0.35, brier: 0.32 },
 *   { step: 2, split: "dev", score: 0.5, brier: 0.25 },
 * ], { selectedStep: 2, simulated: true });
 * if (!chart.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')) throw new Error();
 * if (!chart.title.endsWith("(simulated)")) throw new Error(chart.title);
 * ```
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import { placeLabels } from "./plot_labels.ts";
import type { AlignmentCell, LengthPoint, Persistence, TopicDelta } from "./analysis_tables.ts";
import { ConfigError } from "./util/errors.ts";
import { fixed, simulatedSuffix } from "./util/format.ts";

// ---------------------------------------------------------------------------------------------
// Inputs

/** One metric value of one prompt on one split. */
export interface TrajectoryPoint {
  step: number;
  split: "train" | "dev" | "test";
  score: number;
  /** Null when no item was parsed (Brier undefined). */
  brier: number | null;
  /** Expected calibration error; optional, drawn when the `ece` panel is asked for. */
  ece?: number | null;
}

/** The metrics a trajectory panel can show. */
export type TrajectoryMetric = "score" | "brier" | "ece";

const TRAJECTORY_AXIS: Record<TrajectoryMetric, string> = {
  score: "score ↑",
  brier: "Brier ↓",
  ece: "ECE ↓",
};
const TRAJECTORY_NAME: Record<TrajectoryMetric, string> = {
  score: "Score",
  brier: "Brier",
  ece: "ECE",
};

/** One confidence bin (the shape `reliabilityBins` in lib/metrics.ts returns). */
export interface ReliabilityBinInput {
  lo: number;
  hi: number;
  /** Items in the bin. */
  n: number;
  avgConfidence: number | null;
  avgScore: number | null;
}

/** The bins of one prompt, labelled (e.g. "seed", "selected"). */
export interface ReliabilitySeries {
  label: string;
  bins: readonly ReliabilityBinInput[];
}

/** Prevalence of one failure topic at one step (absent topics have no row). */
export interface TopicPrevalencePoint {
  step: number;
  topic: string;
  /** Prevalence in [0, 1]. */
  prevalence: number;
  /** True when the topic made it into the report (prevalence >= 0.10 or top 3). */
  retained?: boolean;
}

/** The fields of an alignment cell (`AlignmentCell`, lib/analysis_tables.ts) the heatmap draws. */
export type AlignmentInput = Pick<
  AlignmentCell,
  "failureTopic" | "patchTopic" | "both" | "failureCount" | "probability"
>;

/** Calls, tokens or dollars of one group (model or phase) at one step. */
export interface CostPoint {
  step: number;
  /** A model (`provider:model`) or a phase (`target`, `critique`, `optimizer` ...). */
  group: string;
  calls?: number;
  tokens?: number;
  usd?: number;
}

/** The fields of a topic delta (`TopicDelta`, lib/analysis_tables.ts) the bars draw. */
export type TopicDeltaInput =
  & Pick<
    TopicDelta,
    "topic" | "count" | "meanDeltaScore" | "scoreInterval" | "meanDeltaBrier" | "brierInterval"
  >
  & Partial<Pick<TopicDelta, "brierCount">>;

/** The fields of a topic's persistence (`Persistence`, lib/analysis_tables.ts) the chart draws. */
export type PersistenceInput = Omit<Persistence, "runs">;

/** Prompt length against dev score at one step (`LengthPoint`, lib/analysis_tables.ts). */
export type LengthScorePoint = LengthPoint;

/** One point of a method's score-vs-calls curve (baselines comparison). */
export interface MethodCurvePoint {
  method: string;
  calls: number;
  score: number;
}

/** Options every chart accepts. */
export interface ChartOptions {
  /** Replaces the default title. */
  title?: string;
  /** A line of text under the chart. */
  caption?: string;
  /** Adds "(simulated)" to the title: the figures come from the offline simulator. */
  simulated?: boolean;
  /** Total width in pixels (default 640). */
  width?: number;
}

// ---------------------------------------------------------------------------------------------
// The chart object

const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;
const SVG_NS = "http://www.w3.org/2000/svg";

/** A rendered chart: standalone SVG, displayable in Deno's Jupyter kernel. */
export class Chart {
  /** Wraps a standalone SVG document string. */
  constructor(
    readonly svg: string,
    readonly title: string,
    readonly width: number,
    readonly height: number,
  ) {}

  /** The SVG inside a `<figure>`, for embedding in an HTML page. */
  get html(): string {
    return `<figure class="rpt-chart" style="margin:0 0 1em 0">${this.svg}</figure>`;
  }

  /** The SVG. */
  toString(): string {
    return this.svg;
  }

  /**
   * Writes the chart: `.svg` as SVG, `.html` as a small standalone page. Other extensions
   * throw a `ConfigError` (PNG export is the job of `rsvg-convert`, see scripts/plots_png.ts).
   */
  async save(path: string): Promise<void> {
    const lower = path.toLowerCase();
    if (lower.endsWith(".svg")) return await Deno.writeTextFile(path, this.svg);
    if (lower.endsWith(".html") || lower.endsWith(".htm")) {
      return await Deno.writeTextFile(
        path,
        `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${
          escapeXml(this.title)
        }</title></head>\n<body>${this.html}</body></html>\n`,
      );
    }
    throw new ConfigError(`Chart.save: ${path}: expected a .svg or .html path`);
  }

  /** Deno's kernel calls this to display the chart. */
  [JUPYTER_DISPLAY](): Record<string, string> {
    return { "image/svg+xml": this.svg, "text/plain": `[chart] ${this.title}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Shared layout

/** Observable's categorical palette, assigned in domain order so legends match marks. */
export const PALETTE = [
  "#4269d0",
  "#efb118",
  "#ff725c",
  "#6cc5b0",
  "#3ca951",
  "#ff8ab7",
  "#a463f2",
  "#97bbf5",
  "#9c6b4e",
  "#9498a0",
] as const;

const SPLIT_COLORS = { train: "#4269d0", dev: "#efb118", test: "#3ca951" } as const;
const GOOD = "#3ca951";
const BAD = "#ff725c";
/** Rough width of one character of Plot's 10px system-ui text, for margins. */
const CHAR_PX = 6;
const DEFAULT_WIDTH = 640;
const MAX_LABEL_CHARS = 36;

let cachedDocument: Document | undefined;

function plotDocument(): Document {
  cachedDocument ??= parseHTML("<!DOCTYPE html><html><body></body></html>")
    .document as unknown as Document;
  return cachedDocument;
}

/** Escapes text for XML/HTML content and attributes. */
function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** A legend entry drawn by the chart frame. */
interface LegendItem {
  label: string;
  color: string;
  shape: "line" | "dot" | "square" | "diamond" | "dash";
}

function colorsFor(domain: readonly string[]): string[] {
  return domain.map((_, i) => PALETTE[i % PALETTE.length]!);
}

/**
 * Unique display labels for names: long names are cut with an ellipsis, and names whose cut
 * forms collide get a numeric suffix so band scales do not merge two topics.
 */
export function shortLabels(names: readonly string[], max = MAX_LABEL_CHARS): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const name of names) {
    if (out.has(name)) continue;
    let label = cut(name, max);
    for (let k = 2; used.has(label); k++) label = `${cut(name, max - 3)}#${k}`;
    used.add(label);
    out.set(name, label);
  }
  return out;
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}

function wrapWords(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function labelMargin(labels: Iterable<string>, min = 40): number {
  let longest = 0;
  for (const label of labels) longest = Math.max(longest, [...label].length);
  return Math.max(min, Math.ceil(longest * CHAR_PX) + 16);
}

function titleOf(base: string, options: ChartOptions): string {
  const title = options.title ?? base;
  return `${title}${simulatedSuffix(options.simulated)}`;
}

function render(plotOptions: Plot.PlotOptions): Element {
  const el = Plot.plot({ ...plotOptions, document: plotDocument() }) as unknown as Element;
  return el.tagName.toLowerCase() === "svg" ? el : el.querySelector("svg")!;
}

/**
 * Frames Plot panels into one standalone SVG: a white background, the title, legend swatches,
 * the panels stacked vertically, and the caption.
 */
function frame(
  title: string,
  panels: readonly Element[],
  options: { width: number; caption?: string; legend?: readonly LegendItem[]; ramp?: Ramp },
): Chart {
  const width = options.width;
  const parts: string[] = [];
  let y = 8;
  for (const line of wrapWords(title, Math.floor((width - 24) / 8.5))) {
    y += 18;
    parts.push(
      `<text x="12" y="${y}" font-size="15" font-weight="bold" text-anchor="start">${
        escapeXml(line)
      }</text>`,
    );
  }
  y += 6;
  if (options.legend?.length) {
    let x = 12;
    y += 14;
    const items: string[] = [];
    for (const item of options.legend) {
      const itemWidth = 22 + [...item.label].length * 6.5 + 14;
      if (x + itemWidth > width - 12 && x > 12) {
        x = 12;
        y += 18;
      }
      items.push(
        swatch(item, x, y),
        `<text x="${x + 20}" y="${y + 4}">${escapeXml(item.label)}</text>`,
      );
      x += itemWidth;
    }
    parts.push(
      `<g font-size="11" text-anchor="start" aria-label="legend">${items.join("")}</g>`,
    );
    y += 14;
  }
  if (options.ramp) {
    y += 18;
    parts.push(rampSvg(options.ramp, 12, y, `rpt-ramp-${++rampCounter}`));
    y += 32;
  }
  for (const panel of panels) {
    const w = Number(panel.getAttribute("width") ?? width);
    const h = Number(panel.getAttribute("height") ?? 0);
    const attrs = ["class", "fill", "font-family", "font-size", "text-anchor"]
      .map((a) => {
        const v = panel.getAttribute(a);
        return v === null ? "" : ` ${a}="${escapeXml(v)}"`;
      }).join("");
    parts.push(
      `<g transform="translate(${
        Math.max(0, (width - w) / 2)
      },${y})"${attrs}>${panel.innerHTML}</g>`,
    );
    y += h + 6;
  }
  if (options.caption) {
    for (const line of wrapWords(options.caption, Math.floor((width - 24) / 6))) {
      y += 14;
      parts.push(
        `<text x="12" y="${y}" font-size="11" fill="#555" text-anchor="start">${
          escapeXml(line)
        }</text>`,
      );
    }
  }
  const height = Math.ceil(y + 10);
  const body = roundCoordinates(parts.join(""));
  const xlink = body.includes("xlink:") ? ' xmlns:xlink="http://www.w3.org/1999/xlink"' : "";
  const svg = `<svg xmlns="${SVG_NS}"${xlink} width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="10" ` +
    `fill="currentColor" style="color:#222;background:white">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="white"/>${body}</svg>`;
  return new Chart(svg, title, width, height);
}

let rampCounter = 0;

/**
 * Rounds long decimals in attribute values (coordinates such as `57.599999999999994`) to two
 * places: a third smaller SVG, so notebooks committed with outputs stay small. Text content
 * (labels, captions) is left alone.
 */
function roundCoordinates(svg: string): string {
  return svg.replace(
    /="([^"]*)"/g,
    (_, value: string) =>
      `="${value.replace(/-?\d+\.\d{3,}/g, (n) => String(Number(Number(n).toFixed(2))))}"`,
  );
}

function swatch(item: LegendItem, x: number, y: number): string {
  const c = escapeXml(item.color);
  switch (item.shape) {
    case "line":
      return `<line x1="${x}" x2="${x + 16}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="2"/>`;
    case "dash":
      return `<line x1="${x}" x2="${
        x + 16
      }" y1="${y}" y2="${y}" stroke="${c}" stroke-width="1.5" stroke-dasharray="4,3"/>`;
    case "dot":
      return `<circle cx="${x + 8}" cy="${y}" r="4" fill="${c}"/>`;
    case "diamond":
      return `<path d="M${x + 8},${y - 5}L${x + 13},${y}L${x + 8},${y + 5}L${
        x + 3
      },${y}Z" fill="${c}"/>`;
    case "square":
      return `<rect x="${x + 2}" y="${y - 6}" width="12" height="12" fill="${c}"/>`;
  }
}

/** A continuous colour legend: a gradient bar with its label and three tick values. */
interface Ramp {
  label: string;
  domain: [number, number];
}

function rampSvg(ramp: Ramp, x: number, y: number, id: string): string {
  const scale = Plot.scale({ color: { type: "linear", scheme: "blues", domain: ramp.domain } });
  const stops = Array.from({ length: 11 }, (_, i) => {
    const v = ramp.domain[0] + (ramp.domain[1] - ramp.domain[0]) * (i / 10);
    return `<stop offset="${i * 10}%" stop-color="${escapeXml(String(scale.apply(v)))}"/>`;
  }).join("");
  const w = 200;
  const ticks = [0, 0.5, 1].map((f) => {
    const v = ramp.domain[0] + (ramp.domain[1] - ramp.domain[0]) * f;
    return `<text x="${x + w * f}" y="${y + 24}" text-anchor="middle">${
      Number(v.toFixed(2))
    }</text>`;
  }).join("");
  return `<g font-size="10" aria-label="color legend"><defs><linearGradient id="${id}">${stops}</linearGradient></defs>` +
    `<text x="${x}" y="${y - 4}" text-anchor="start" font-weight="bold">${
      escapeXml(ramp.label)
    }</text><rect x="${x}" y="${y}" width="${w}" height="10" fill="url(#${id})" stroke="#999" stroke-width="0.5"/>${ticks}</g>`;
}

function integerTicks(values: readonly number[]): number[] | undefined {
  const unique = [...new Set(values)].sort((a, b) => a - b);
  return unique.length <= 16 ? unique : undefined;
}

function requireRows(name: string, rows: readonly unknown[]): void {
  if (rows.length === 0) throw new ConfigError(`${name}: no data to plot (got an empty list)`);
}

// ---------------------------------------------------------------------------------------------
// Charts

/** Options of {@linkcode trajectoryChart}. */
export interface TrajectoryOptions extends ChartOptions {
  /** The step whose prompt was selected (marked with a dashed rule and a ring). */
  selectedStep?: number;
  /** Which panels to draw (default: score, and Brier when any point has one). */
  metrics?: readonly TrajectoryMetric[];
}

/**
 * Score and Brier (and ECE on request) over iterations: train and dev as lines with points, test as diamonds, the
 * selected step as a dashed rule with a ring on its dev point. One panel per metric.
 */
export function trajectoryChart(
  points: readonly TrajectoryPoint[],
  options: TrajectoryOptions = {},
): Chart {
  requireRows("trajectoryChart", points);
  const width = options.width ?? DEFAULT_WIDTH;
  const metrics: readonly TrajectoryMetric[] = options.metrics ??
    (points.some((p) => p.brier !== null) ? ["score", "brier"] : ["score"]);
  const sorted = [...points].sort((a, b) => a.step - b.step);
  const ticks = integerTicks(sorted.map((p) => p.step));
  const steps = sorted.map((p) => p.step);
  const xDomain = [Math.min(...steps) - 0.3, Math.max(...steps) + 0.3];
  const panels = metrics.map((metric) => {
    const value = (p: TrajectoryPoint) => p[metric] ?? null;
    const rows = sorted.filter((p) => value(p) !== null);
    const lines = rows.filter((p) => p.split !== "test");
    const test = rows.filter((p) => p.split === "test");
    const selected = lines.filter((p) => p.split === "dev" && p.step === options.selectedStep);
    const marks: Plot.Markish[] = [Plot.ruleY([0], { stroke: "#ccc" })];
    if (options.selectedStep !== undefined) {
      marks.push(
        Plot.ruleX([options.selectedStep], { stroke: "#777", strokeDasharray: "4,3" }),
        Plot.text([options.selectedStep], {
          x: (d: number) => d,
          frameAnchor: "top",
          dy: -2,
          text: () => "selected",
          fill: "#555",
        }),
      );
    }
    marks.push(
      Plot.line(lines, { x: "step", y: value, stroke: "split", strokeWidth: 2 }),
      Plot.dot(lines, { x: "step", y: value, fill: "split", r: 3 }),
      Plot.dot(test, {
        x: "step",
        y: value,
        fill: "split",
        symbol: "diamond",
        r: 5,
        stroke: "white",
      }),
      Plot.dot(selected, { x: "step", y: value, r: 7, stroke: "#222", strokeWidth: 1.5 }),
    );
    return render({
      width,
      height: 230,
      marginLeft: 50,
      marginTop: 22,
      x: { label: "step", domain: xDomain, ticks, tickFormat: "d" },
      y: { label: TRAJECTORY_AXIS[metric], grid: true, nice: true },
      color: { domain: ["train", "dev", "test"], range: Object.values(SPLIT_COLORS) },
      symbol: { legend: false },
      marks,
    });
  });
  const splits = new Set(points.map((p) => p.split));
  const legend: LegendItem[] = [];
  if (splits.has("train")) {
    legend.push({ label: "train", color: SPLIT_COLORS.train, shape: "line" });
  }
  if (splits.has("dev")) legend.push({ label: "dev", color: SPLIT_COLORS.dev, shape: "line" });
  if (splits.has("test")) {
    legend.push({ label: "test", color: SPLIT_COLORS.test, shape: "diamond" });
  }
  if (options.selectedStep !== undefined) {
    legend.push({ label: `selected (step ${options.selectedStep})`, color: "#777", shape: "dash" });
  }
  const names = metrics.map((m) => TRAJECTORY_NAME[m]);
  const base = `${
    names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0]
  } over iterations`;
  return frame(titleOf(base, options), panels, { width, caption: options.caption, legend });
}

/** Options of {@linkcode reliabilityDiagram}. */
export interface ReliabilityOptions extends ChartOptions {
  /** Label of a single unlabelled series (default "prompt"). */
  label?: string;
}

/**
 * A reliability diagram: per confidence bin, mean confidence against accuracy (mean score),
 * dot area by count with the count printed, and the diagonal of perfect calibration. Pass
 * several labelled series (e.g. seed and selected prompt) to compare them.
 */
export function reliabilityDiagram(
  input: readonly ReliabilityBinInput[] | readonly ReliabilitySeries[],
  options: ReliabilityOptions = {},
): Chart {
  requireRows("reliabilityDiagram", input);
  const series: readonly ReliabilitySeries[] = "bins" in input[0]!
    ? input as readonly ReliabilitySeries[]
    : [{ label: options.label ?? "prompt", bins: input as readonly ReliabilityBinInput[] }];
  const rows = series.flatMap((s) =>
    s.bins.filter((b) => b.n > 0 && b.avgConfidence !== null && b.avgScore !== null)
      .map((b) => ({ series: s.label, conf: b.avgConfidence!, acc: b.avgScore!, n: b.n }))
  );
  const width = Math.min(options.width ?? 480, 640);
  const labels = series.map((s) => s.label);
  const colors = colorsFor(labels);
  const maxN = Math.max(1, ...rows.map((r) => r.n));
  const height = Math.min(width, 440);
  const panel = render({
    width,
    height,
    ...RELIABILITY_MARGINS,
    x: { label: "mean confidence →", domain: [0, 1] },
    y: { label: "↑ accuracy (mean score)", domain: [0, 1], grid: true },
    color: { domain: labels, range: colors },
    r: { domain: [0, maxN], range: [0, RELIABILITY_MAX_RADIUS] },
    marks: [
      Plot.line([[0, 0], [1, 1]], { stroke: "#999", strokeDasharray: "4,3" }),
      Plot.line(rows, { x: "conf", y: "acc", stroke: "series", strokeWidth: 1.5 }),
      Plot.dot(rows, { x: "conf", y: "acc", r: "n", fill: "series", fillOpacity: 0.75 }),
      ...binLabels(rows, maxN, width, height),
    ],
  });
  const legend: LegendItem[] = series.length > 1
    ? labels.map((label, i) => ({ label, color: colors[i]!, shape: "dot" }))
    : [];
  legend.push({ label: "perfect calibration", color: "#999", shape: "dash" });
  return frame(titleOf("Reliability diagram", options), [panel], {
    width,
    caption: options.caption ??
      "Dot area = items in the bin; bins are 10 equal-width confidence bins.",
    legend,
  });
}

/** Largest dot radius of the reliability diagram, in pixels. */
const RELIABILITY_MAX_RADIUS = 14;

/** Margins of the reliability diagram's panel, given to Plot and used to place labels. */
const RELIABILITY_MARGINS = { marginLeft: 50, marginRight: 20, marginTop: 20, marginBottom: 40 };

/**
 * The `n=` labels of the reliability diagram, each placed next to its own dot where it
 * covers no dot, no line and no other label ({@linkcode placeLabels}).
 */
function binLabels(
  rows: readonly { series: string; conf: number; acc: number; n: number }[],
  maxN: number,
  width: number,
  height: number,
) {
  const m = RELIABILITY_MARGINS;
  const dots = rows.map((row) => ({
    x: m.marginLeft + row.conf * (width - m.marginLeft - m.marginRight),
    y: height - m.marginBottom - row.acc * (height - m.marginBottom - m.marginTop),
    r: RELIABILITY_MAX_RADIUS * Math.sqrt(row.n / maxN),
    label: `n=${row.n}`,
    series: row.series,
  }));
  const area = {
    left: m.marginLeft,
    right: width - m.marginRight,
    top: m.marginTop,
    bottom: height - m.marginBottom,
  };
  const placements = placeLabels(dots, area);
  return rows.map((row, i) =>
    Plot.text([row], {
      x: "conf",
      y: "acc",
      text: (d: { n: number }) => `n=${d.n}`,
      dx: placements[i]!.dx,
      dy: placements[i]!.dy,
      fill: "series",
    })
  );
}

/**
 * Failure-topic prevalence per iteration as a grid (topic x step): shade = prevalence, an
 * outline = retained in the report, blank = the topic was absent. Topics are ordered by first
 * appearance, so a row that stops shows a failure that went away after a patch.
 */
export function topicPrevalenceChart(
  points: readonly TopicPrevalencePoint[],
  options: ChartOptions = {},
): Chart {
  requireRows("topicPrevalenceChart", points);
  const firstSeen = new Map<string, number>();
  const total = new Map<string, number>();
  for (const p of points) {
    firstSeen.set(p.topic, Math.min(firstSeen.get(p.topic) ?? Infinity, p.step));
    total.set(p.topic, (total.get(p.topic) ?? 0) + p.prevalence);
  }
  const topics = [...firstSeen.keys()].sort((a, b) =>
    firstSeen.get(a)! - firstSeen.get(b)! || total.get(b)! - total.get(a)! || a.localeCompare(b)
  );
  const short = shortLabels(topics);
  const steps = [...new Set(points.map((p) => p.step))].sort((a, b) => a - b);
  const allSteps = steps.length
    ? Array.from({ length: steps.at(-1)! - steps[0]! + 1 }, (_, i) => steps[0]! + i)
    : [];
  const rows = points.map((p) => ({ ...p, label: short.get(p.topic)! }));
  const background = topics.flatMap((t) =>
    allSteps.map((step) => ({ step, label: short.get(t)! }))
  );
  // Prevalence rarely nears 1, so the shade saturates at the largest value seen (at least 0.5).
  const top = Math.max(0.5, Math.ceil(Math.max(...points.map((p) => p.prevalence)) * 10) / 10);
  const marginLeft = labelMargin(short.values());
  const width = Math.max(
    options.width ?? DEFAULT_WIDTH,
    Math.min(1400, marginLeft + 20 + allSteps.length * 34),
  );
  const panel = render({
    width,
    height: 50 + topics.length * 26,
    marginLeft,
    marginTop: 10,
    marginBottom: 36,
    x: { label: "step", type: "band", domain: allSteps, padding: 0.06 },
    y: { label: null, domain: topics.map((t) => short.get(t)!), padding: 0.08 },
    color: { type: "linear", scheme: "blues", domain: [0, top] },
    marks: [
      Plot.cell(background, { x: "step", y: "label", fill: "#f2f2f2" }),
      Plot.cell(rows, {
        x: "step",
        y: "label",
        fill: "prevalence",
        stroke: (d: TopicPrevalencePoint) => d.retained ? "#222" : "none",
        strokeWidth: 1.5,
        title: (d: TopicPrevalencePoint) =>
          `${d.topic}\nstep ${d.step}: prevalence ${fixed(d.prevalence, 2)}`,
      }),
      Plot.text(rows, {
        x: "step",
        y: "label",
        text: (d: TopicPrevalencePoint) => `${Math.round(d.prevalence * 100)}`,
        fill: (d: TopicPrevalencePoint) => d.prevalence > top * 0.55 ? "white" : "#222",
        fontSize: 9,
      }),
    ],
  });
  return frame(titleOf("Failure topics per iteration", options), [panel], {
    width,
    ramp: { label: "prevalence", domain: [0, top] },
    caption: options.caption ??
      "Cell = topic present at that step (number = prevalence in %); outlined = retained in the report; blank = absent.",
  });
}

/**
 * The alignment heatmap: failure topics (rows) by patch topics (columns), shade =
 * P(patch topic | failure topic), each cell printing P and `both/failureCount`.
 */
export function alignmentHeatmap(
  cells: readonly AlignmentInput[],
  options: ChartOptions = {},
): Chart {
  requireRows("alignmentHeatmap", cells);
  const failures = [...new Set(cells.map((c) => c.failureTopic))];
  const patches = [...new Set(cells.map((c) => c.patchTopic))];
  const rowLabels = shortLabels(failures);
  const colLabels = shortLabels(patches, 28);
  const rows = cells.map((c) => ({
    ...c,
    row: rowLabels.get(c.failureTopic)!,
    col: colLabels.get(c.patchTopic)!,
  }));
  const marginLeft = labelMargin(rowLabels.values());
  const marginBottom = Math.min(
    200,
    // Labels are rotated 40°: their vertical extent is about sin(40°) of their length.
    Math.ceil(labelMargin(colLabels.values(), 30) * 0.65) + 30,
  );
  const width = Math.max(options.width ?? DEFAULT_WIDTH, marginLeft + 20 + patches.length * 58);
  const panel = render({
    width,
    height: 20 + marginBottom + failures.length * 34,
    marginLeft,
    marginTop: 10,
    marginBottom,
    x: {
      label: "patch topic",
      domain: patches.map((p) => colLabels.get(p)!),
      tickRotate: -40,
      padding: 0.04,
    },
    y: { label: "failure topic", domain: failures.map((f) => rowLabels.get(f)!), padding: 0.04 },
    color: { type: "linear", scheme: "blues", domain: [0, 1] },
    marks: [
      Plot.cell(rows, {
        x: "col",
        y: "row",
        fill: "probability",
        title: (d: AlignmentInput) =>
          `${d.failureTopic} → ${d.patchTopic}\nP = ${
            fixed(d.probability, 2)
          } (${d.both}/${d.failureCount})`,
      }),
      Plot.text(rows, {
        x: "col",
        y: "row",
        text: (d: AlignmentInput) => `${fixed(d.probability, 2)}\n${d.both}/${d.failureCount}`,
        fill: (d: AlignmentInput) => d.probability > 0.55 ? "white" : "#222",
        fontSize: 9,
        lineHeight: 1.1,
      }),
    ],
  });
  return frame(
    titleOf("Alignment: P(patch topic | failure topic)", options),
    [panel],
    {
      width,
      ramp: { label: "P(patch topic | failure topic)", domain: [0, 1] },
      caption: options.caption ??
        "Each cell: P over transitions with the failure topic, and (transitions with both)/(transitions with the failure topic).",
    },
  );
}

/** Options of {@linkcode costChart}. */
export interface CostOptions extends ChartOptions {
  /** What to stack (default `calls`). */
  measure?: "calls" | "tokens" | "usd";
}

/** Calls, tokens or dollars per step as bars stacked by model or phase. */
export function costChart(points: readonly CostPoint[], options: CostOptions = {}): Chart {
  requireRows("costChart", points);
  const measure = options.measure ?? "calls";
  const groups = [...new Set(points.map((p) => p.group))];
  const colors = colorsFor(groups);
  const width = options.width ?? DEFAULT_WIDTH;
  const steps = [...new Set(points.map((p) => p.step))].sort((a, b) => a - b);
  const label = { calls: "calls", tokens: "tokens", usd: "US$" }[measure];
  const panel = render({
    width,
    height: 260,
    marginLeft: 56,
    x: { label: "step", type: "band", domain: steps, padding: 0.2 },
    y: { label: `↑ ${label}`, grid: true },
    color: { domain: groups, range: colors },
    marks: [
      Plot.barY(points, {
        x: "step",
        y: (d: CostPoint) => d[measure] ?? 0,
        fill: "group",
        title: (d: CostPoint) => `${d.group} · step ${d.step}: ${d[measure] ?? 0} ${label}`,
      }),
      Plot.ruleY([0]),
    ],
  });
  return frame(
    titleOf(
      `${measure === "usd" ? "Cost" : label[0]!.toUpperCase() + label.slice(1)} per step`,
      options,
    ),
    [panel],
    {
      width,
      caption: options.caption,
      legend: groups.map((g, i) => ({ label: g, color: colors[i]!, shape: "square" })),
    },
  );
}

/** Options of {@linkcode deltaBars}. */
export interface DeltaOptions extends ChartOptions {
  /** Which changes to draw (default: score, and Brier when any topic has one). */
  metrics?: readonly ("score" | "brier")[];
}

/**
 * Mean next-step change per topic as horizontal bars with their bootstrap interval and the
 * number of transitions; green = improvement (score up, Brier down), red = worse.
 */
export function deltaBars(rows: readonly TopicDeltaInput[], options: DeltaOptions = {}): Chart {
  requireRows("deltaBars", rows);
  const metrics = options.metrics ??
    (rows.some((r) => r.meanDeltaBrier !== null)
      ? ["score", "brier"] as const
      : ["score"] as const);
  const ordered = [...rows].sort((a, b) => b.meanDeltaScore - a.meanDeltaScore);
  const short = shortLabels(ordered.map((r) => r.topic));
  const marginLeft = labelMargin(short.values());
  const width = Math.max(options.width ?? DEFAULT_WIDTH, marginLeft + 260);
  const panels = metrics.map((metric) => {
    const data = ordered.flatMap((r) => {
      const mean = metric === "score" ? r.meanDeltaScore : r.meanDeltaBrier;
      const interval = metric === "score" ? r.scoreInterval : r.brierInterval;
      if (mean === null || interval === null) return [];
      const n = metric === "score" ? r.count : r.brierCount ?? r.count;
      const better = metric === "score" ? mean > 0 : mean < 0;
      return [{
        label: short.get(r.topic)!,
        topic: r.topic,
        mean,
        lo: interval[0],
        hi: interval[1],
        n,
        better,
      }];
    });
    const extent = Math.max(1e-3, ...data.flatMap((d) => [Math.abs(d.lo), Math.abs(d.hi)]));
    return render({
      width,
      height: 44 + ordered.length * 24,
      marginLeft,
      marginRight: 48,
      x: {
        label: metric === "score"
          ? "mean next-step Δ score →"
          : "mean next-step Δ Brier (lower is better) →",
        domain: [-extent * 1.05, extent * 1.05],
        grid: true,
      },
      y: { label: null, domain: ordered.map((r) => short.get(r.topic)!), padding: 0.25 },
      marks: [
        Plot.barX(data, {
          x: "mean",
          y: "label",
          fill: (d: { better: boolean }) => d.better ? GOOD : BAD,
          fillOpacity: 0.8,
          title: (d: { topic: string; mean: number; lo: number; hi: number; n: number }) =>
            `${d.topic}: ${fixed(d.mean, 3)} [${fixed(d.lo, 3)}, ${fixed(d.hi, 3)}], n=${d.n}`,
        }),
        Plot.ruleY(data, { y: "label", x1: "lo", x2: "hi", stroke: "#222" }),
        Plot.dot(data, { x: "mean", y: "label", r: 2.5, fill: "#222" }),
        Plot.ruleX([0], { stroke: "#222" }),
        Plot.text(data, {
          y: "label",
          frameAnchor: "right",
          dx: 44,
          text: (d: { n: number }) => `n=${d.n}`,
          textAnchor: "end",
          fill: "#555",
        }),
      ],
    });
  });
  return frame(titleOf("Mean next-step change per topic", options), panels, {
    width,
    caption: options.caption ??
      "Bars: mean change over transitions with the topic; black line: bootstrap interval.",
    legend: [
      { label: "improvement", color: GOOD, shape: "square" },
      { label: "worse", color: BAD, shape: "square" },
    ],
  });
}

/**
 * How long failure topics persist: bars = mean run length in consecutive steps, a tick = the
 * longest run, and per topic how often it was resolved and how often it came back.
 */
export function persistenceBars(
  rows: readonly PersistenceInput[],
  options: ChartOptions = {},
): Chart {
  requireRows("persistenceBars", rows);
  const ordered = [...rows].sort((a, b) =>
    b.meanRunLength - a.meanRunLength || b.stepsPresent - a.stepsPresent ||
    a.topic.localeCompare(b.topic)
  );
  const short = shortLabels(ordered.map((r) => r.topic));
  const data = ordered.map((r) => ({ ...r, label: short.get(r.topic)! }));
  const marginLeft = labelMargin(short.values());
  const width = Math.max(options.width ?? DEFAULT_WIDTH, marginLeft + 320);
  const maxRun = Math.max(1, ...rows.map((r) => r.longestRun));
  const panel = render({
    width,
    height: 44 + ordered.length * 24,
    marginLeft,
    marginRight: 150,
    x: {
      label: "steps →",
      domain: [0, maxRun],
      grid: true,
      ticks: maxRun <= 12 ? Array.from({ length: maxRun + 1 }, (_, i) => i) : undefined,
      tickFormat: "d",
    },
    y: { label: null, domain: data.map((d) => d.label), padding: 0.25 },
    marks: [
      Plot.barX(data, {
        x: "meanRunLength",
        y: "label",
        fill: PALETTE[0],
        title: (d: PersistenceInput) =>
          `${d.topic}: mean run ${
            fixed(d.meanRunLength, 2)
          }, longest ${d.longestRun}, present in ${d.stepsPresent} steps`,
      }),
      Plot.tickX(data, { x: "longestRun", y: "label", stroke: "#222", strokeWidth: 2 }),
      Plot.ruleX([0]),
      Plot.text(data, {
        y: "label",
        frameAnchor: "right",
        dx: 8,
        textAnchor: "start",
        text: (d: PersistenceInput) => `resolved ${d.resolved} · back ${d.reappeared}`,
        fill: "#555",
      }),
    ],
  });
  return frame(titleOf("Persistence of failure topics", options), [panel], {
    width,
    caption: options.caption ??
      "Bar: mean length of runs of consecutive steps with the topic; tick: longest run; resolved = runs that ended, back = runs after the first.",
    legend: [
      { label: "mean run length", color: PALETTE[0], shape: "square" },
      { label: "longest run", color: "#222", shape: "line" },
    ],
  });
}

/** Options of {@linkcode lengthScoreScatter}. */
export interface LengthScoreOptions extends ChartOptions {
  pearson?: number;
  spearman?: number;
}

/**
 * Prompt length in tokens against dev score: one dot per step labelled with the step, colour
 * by run, and a least-squares line; correlations go in the caption when given.
 */
export function lengthScoreScatter(
  points: readonly LengthScorePoint[],
  options: LengthScoreOptions = {},
): Chart {
  requireRows("lengthScoreScatter", points);
  const runs = [...new Set(points.map((p) => p.run))];
  const colors = colorsFor(runs);
  const width = options.width ?? DEFAULT_WIDTH;
  const marks: Plot.Markish[] = [];
  if (points.length >= 2) {
    marks.push(
      Plot.linearRegressionY(points, {
        x: "promptTokens",
        y: "devScore",
        stroke: "#999",
        strokeDasharray: "4,3",
        ci: 0,
      }),
    );
  }
  marks.push(
    Plot.dot(points, { x: "promptTokens", y: "devScore", fill: "run", r: 4 }),
    Plot.text(points, {
      x: "promptTokens",
      y: "devScore",
      text: (d: LengthScorePoint) => String(d.step),
      dx: 7,
      textAnchor: "start",
      fill: "#555",
      fontSize: 9,
    }),
  );
  const panel = render({
    width,
    height: 320,
    marginLeft: 50,
    marginBottom: 40,
    inset: 10,
    x: { label: "prompt length (tokens) →", grid: true, nice: true },
    y: { label: "↑ dev score", grid: true, nice: true },
    color: { domain: runs, range: colors },
    marks,
  });
  const stats = [
    options.pearson === undefined ? "" : `Pearson r = ${fixed(options.pearson, 2)}`,
    options.spearman === undefined ? "" : `Spearman ρ = ${fixed(options.spearman, 2)}`,
  ].filter(Boolean).join(" · ");
  const caption = [options.caption ?? "Labels are step numbers; dashed: least-squares line.", stats]
    .filter(Boolean).join(" ");
  return frame(titleOf("Prompt length vs dev score", options), [panel], {
    width,
    caption,
    legend: runs.length > 1
      ? runs.map((r, i) => ({ label: r, color: colors[i]!, shape: "dot" as const }))
      : [],
  });
}

/** Score against cumulative calls, one line per optimization method (baselines comparison). */
export function scoreVsCallsChart(
  points: readonly MethodCurvePoint[],
  options: ChartOptions & { scoreLabel?: string } = {},
): Chart {
  requireRows("scoreVsCallsChart", points);
  const methods = [...new Set(points.map((p) => p.method))];
  const colors = colorsFor(methods);
  const sorted = [...points].sort((a, b) => a.method.localeCompare(b.method) || a.calls - b.calls);
  const width = options.width ?? DEFAULT_WIDTH;
  const panel = render({
    width,
    height: 320,
    marginLeft: 50,
    marginBottom: 40,
    x: { label: "LLM calls →", grid: true, nice: true },
    y: { label: `↑ ${options.scoreLabel ?? "dev score"}`, grid: true, nice: true },
    color: { domain: methods, range: colors },
    marks: [
      Plot.line(sorted, { x: "calls", y: "score", stroke: "method", strokeWidth: 2 }),
      Plot.dot(sorted, { x: "calls", y: "score", fill: "method", r: 3 }),
    ],
  });
  return frame(titleOf("Score vs calls by method", options), [panel], {
    width,
    caption: options.caption,
    legend: methods.map((m, i) => ({ label: m, color: colors[i]!, shape: "line" })),
  });
}

/** One row of a table cell as {@linkcode initialOptimizedChart} draws it. */
export interface InitialOptimizedPoint {
  /** The table row (`RPT · openai:gpt-5`). */
  row: string;
  /** The panel (a task, or `Aggregate`). */
  panel: string;
  initial: number;
  optimized: number;
  /** The optimized figure's interval, when there is one. */
  lo?: number | null;
  hi?: number | null;
}

/** The marks at an interval's end clipped at the low and the high end of a chart's domain. */
export const CLIPPED_MARKS = ["◂", "▸"] as const;

/** The ends of intervals that reach past `domain`, as text marks at the domain's edge. */
function clippedEnds(
  data: readonly (InitialOptimizedPoint & { label: string })[],
  domain: readonly [number, number],
) {
  const ends = data.flatMap((d) => [
    ...(d.lo != null && d.lo < domain[0] ? [{ ...d, x: domain[0], mark: CLIPPED_MARKS[0] }] : []),
    ...(d.hi != null && d.hi > domain[1] ? [{ ...d, x: domain[1], mark: CLIPPED_MARKS[1] }] : []),
  ]);
  return Plot.text(ends, {
    x: "x",
    y: "label",
    text: "mark",
    fill: "#222",
    fontSize: 13,
    title: (d: InitialOptimizedPoint) =>
      `${d.row} · ${d.panel}: interval [${fixed(d.lo as number, 3)}, ${
        fixed(d.hi as number, 3)
      }], clipped at the chart's range`,
  });
}

/**
 * Initial → optimized per table row, one panel per task: a grey dot at the seed prompt's
 * figure, an arrow to the optimized figure (green up, red down when `higherIsBetter`), and
 * the optimized figure's interval as a black line; an interval reaching past `domain` is
 * cut at its edge, marked there ◂ or ▸ ({@linkcode CLIPPED_MARKS}).
 */
export function initialOptimizedChart(
  points: readonly InitialOptimizedPoint[],
  options: ChartOptions & {
    valueLabel?: string;
    higherIsBetter?: boolean;
    /** The x domain (default: the values' range); intervals reaching past it are cut. */
    domain?: [number, number];
  } = {},
): Chart {
  requireRows("initialOptimizedChart", points);
  const higherIsBetter = options.higherIsBetter ?? true;
  const rows = [...new Set(points.map((p) => p.row))];
  const short = shortLabels(rows, 44);
  const marginLeft = labelMargin(short.values());
  const width = Math.max(options.width ?? DEFAULT_WIDTH, marginLeft + 260);
  const values = points.flatMap((
    p,
  ) => [p.initial, p.optimized, p.lo ?? p.optimized, p.hi ?? p.optimized]);
  const pad = Math.max(0.01, (Math.max(...values) - Math.min(...values)) * 0.08);
  const domain = options.domain ?? [Math.min(...values) - pad, Math.max(...values) + pad];
  const panels = [...new Set(points.map((p) => p.panel))].map((panel) => {
    const data = points.filter((p) => p.panel === panel).map((p) => ({
      ...p,
      label: short.get(p.row)!,
      better: higherIsBetter ? p.optimized >= p.initial : p.optimized <= p.initial,
    }));
    const intervals = data.filter((d) => d.lo != null && d.hi != null);
    return render({
      width,
      height: 52 + rows.length * 26,
      marginLeft,
      marginTop: 24,
      x: { label: `${options.valueLabel ?? "value"} →`, domain, grid: true },
      y: { label: null, domain: rows.map((r) => short.get(r)!), padding: 0.3 },
      marks: [
        Plot.text([panel], { frameAnchor: "top", dy: -16, fontWeight: "bold", text: (d) => d }),
        Plot.ruleY(intervals, {
          y: "label",
          x1: (d: InitialOptimizedPoint) => Math.max(domain[0]!, d.lo as number),
          x2: (d: InitialOptimizedPoint) => Math.min(domain[1]!, d.hi as number),
          stroke: "#222",
          strokeWidth: 1,
        }),
        clippedEnds(intervals, domain),
        Plot.arrow(data, {
          x1: "initial",
          x2: "optimized",
          y1: "label",
          y2: "label",
          stroke: (d: { better: boolean }) => d.better ? GOOD : BAD,
          strokeWidth: 2,
          headLength: 6,
        }),
        Plot.dot(data, { x: "initial", y: "label", r: 3.5, fill: "#9498a0" }),
        Plot.dot(data, {
          x: "optimized",
          y: "label",
          r: 3.5,
          fill: (d: { better: boolean }) => d.better ? GOOD : BAD,
          title: (d: InitialOptimizedPoint) =>
            `${d.row} · ${d.panel}: ${fixed(d.initial, 3)} → ${fixed(d.optimized, 3)}`,
        }),
      ],
    });
  });
  return frame(titleOf("Initial → optimized", options), panels, {
    width,
    caption: options.caption,
    legend: [
      { label: "initial (seed prompt)", color: "#9498a0", shape: "dot" },
      { label: "optimized: better", color: GOOD, shape: "line" },
      { label: "optimized: worse", color: BAD, shape: "line" },
      { label: "95% interval", color: "#222", shape: "line" },
    ],
  });
}

/** One prompt of one run, as {@linkcode runTrajectoriesChart} draws it. */
export interface RunTrajectoryPoint {
  /** The run (an experiment cell id). */
  run: string;
  /** What colours the line (the method). */
  group: string;
  /** The panel (a task). */
  panel: string;
  /** Step (RPT) or candidate (baselines), 1-based. */
  step: number;
  value: number;
}

/** Every run's trajectory, one panel per task, one line per run coloured by its group. */
export function runTrajectoriesChart(
  points: readonly RunTrajectoryPoint[],
  options: ChartOptions & { valueLabel?: string } = {},
): Chart {
  requireRows("runTrajectoriesChart", points);
  const groups = [...new Set(points.map((p) => p.group))];
  const colors = colorsFor(groups);
  const width = options.width ?? DEFAULT_WIDTH;
  const panels = [...new Set(points.map((p) => p.panel))].map((panel) => {
    const data = points.filter((p) => p.panel === panel)
      .sort((a, b) => a.run.localeCompare(b.run) || a.step - b.step);
    return render({
      width,
      height: 240,
      marginLeft: 50,
      marginTop: 26,
      x: {
        label: "step (RPT) / dev-scored candidate (baselines) →",
        ticks: integerTicks(data.map((d) => d.step)),
        tickFormat: "d",
      },
      y: { label: `↑ ${options.valueLabel ?? "dev"}`, grid: true, nice: true },
      color: { domain: groups, range: colors },
      marks: [
        Plot.text([panel], { frameAnchor: "top", dy: -18, fontWeight: "bold", text: (d) => d }),
        Plot.line(data, { x: "step", y: "value", z: "run", stroke: "group", strokeWidth: 1.5 }),
        Plot.dot(data, {
          x: "step",
          y: "value",
          fill: "group",
          r: 2.5,
          title: (d: RunTrajectoryPoint) => `${d.run} step ${d.step}: ${fixed(d.value, 3)}`,
        }),
      ],
    });
  });
  return frame(titleOf("Trajectories of every run", options), panels, {
    width,
    caption: options.caption,
    legend: groups.map((g, i) => ({ label: g, color: colors[i]!, shape: "line" })),
  });
}
