/**
 * The diagnostic report in its three forms: the {@linkcode DiagnosticReport} value (run
 * record), the JSON the optimizer receives as the `diagnose` tool result, and Markdown
 * for people.
 *
 * @module
 */
import { z } from "zod";
import type { ClusterResult } from "./cluster.ts";
import { PromptProgram } from "./prompt.ts";
import { Metrics } from "./tasks/schema.ts";
import { fixed, roundTo } from "./util/format.ts";

/** A topic found by ClusterFusion. */
export const Topic = z.object({
  name: z.string(),
  description: z.string(),
  examples: z.array(z.string()).max(8),
  prevalence: z.number().optional(),
});
/** A topic found by ClusterFusion. */
export type Topic = z.infer<typeof Topic>;

/** The diagnostic report the optimizer receives. */
export const DiagnosticReport = z.object({
  iteration: z.number().int().min(0),
  prompt: PromptProgram,
  metrics: Metrics,
  topics: z.array(Topic),
  counts: z.object({
    examples: z.number().int(),
    failures: z.number().int(),
    diagnoses: z.number().int(),
    formatErrors: z.number().int(),
    errors: z.number().int(),
  }),
  /** Notes for the optimizer, such as a format-collapse warning. */
  warnings: z.array(z.string()).default([]),
});
/** The diagnostic report. */
export type DiagnosticReport = z.infer<typeof DiagnosticReport>;

/** What {@linkcode buildReport} needs. */
export interface ReportInput {
  iteration: number;
  prompt: PromptProgram;
  metrics: Metrics;
  /** The full clustering, or null when failures were not critiqued. */
  clustering: ClusterResult | null;
  counts: DiagnosticReport["counts"];
  warnings?: string[];
}

/**
 * The report: metrics, counts, and the retained failure topics by decreasing prevalence.
 *
 * @example
 * ```ts
 * import { buildReport } from "./report.ts";
 * const metrics = {
 *   n: 0, parsed: 0, score: 0, fullCredit: 0, avgConfidence: null, brier: null, ece: null,
 *   formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {},
 * };
 * const report = buildReport({
 *   iteration: 1, prompt: { system: "s", instruction: "i" }, metrics, clustering: null,
 *   counts: { examples: 0, failures: 0, diagnoses: 0, formatErrors: 0, errors: 0 },
 * });
 * if (report.topics.length !== 0) throw new Error("unexpected");
 * ```
 */
export function buildReport(input: ReportInput): DiagnosticReport {
  const topics = (input.clustering?.topics ?? [])
    .filter((t) => t.retained)
    .sort((a, b) => b.prevalence - a.prevalence)
    .map((t) => ({
      name: t.name,
      description: t.description,
      examples: t.examples,
      prevalence: t.prevalence,
    }));
  return {
    iteration: input.iteration,
    prompt: input.prompt,
    metrics: input.metrics,
    topics,
    counts: input.counts,
    warnings: input.warnings ?? [],
  };
}

const round = (x: number) => roundTo(x, 4);

function roundMetrics(m: Metrics): Record<string, unknown> {
  const r = (x: number | null) => x === null ? null : round(x);
  return {
    n: m.n,
    parsed: m.parsed,
    score: r(m.score),
    fullCredit: r(m.fullCredit),
    avgConfidence: r(m.avgConfidence),
    brier: r(m.brier),
    ece: r(m.ece),
    formatErrorRate: r(m.formatErrorRate),
    errorRate: r(m.errorRate),
    perSubtask: Object.fromEntries(
      Object.entries(m.perSubtask).map(([k, v]) => [k, { n: v.n, score: round(v.score) }]),
    ),
    ...(Object.keys(m.extra).length > 0
      ? { extra: Object.fromEntries(Object.entries(m.extra).map(([k, v]) => [k, round(v)])) }
      : {}),
  };
}

/**
 * The report as the optimizer's tool result: numbers rounded to 4 decimals, failure topics
 * without prevalence unless `showPrevalence` (the paper hides it, so the optimizer weighs
 * topics by their content).
 *
 * @example
 * ```ts
 * import { reportForOptimizer } from "./report.ts";
 * const metrics = {
 *   n: 3, parsed: 3, score: 2 / 3, fullCredit: 2 / 3, avgConfidence: 0.9, brier: 0.3, ece: 0.2,
 *   formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {},
 * };
 * const out = reportForOptimizer({
 *   iteration: 1, prompt: { system: "s", instruction: "i" }, metrics, warnings: [],
 *   topics: [{ name: "wrong unit", description: "d", examples: [], prevalence: 1 }],
 *   counts: { examples: 3, failures: 1, diagnoses: 1, formatErrors: 0, errors: 0 },
 * }) as { metrics: { score: number }; failure_topics: Record<string, unknown>[] };
 * if (out.metrics.score !== 0.6667 || "prevalence" in out.failure_topics[0]!) throw new Error();
 * ```
 */
export function reportForOptimizer(
  report: DiagnosticReport,
  opts: { showPrevalence?: boolean } = {},
): unknown {
  return {
    iteration: report.iteration,
    prompt: report.prompt,
    metrics: roundMetrics(report.metrics),
    counts: report.counts,
    failure_topics: report.topics.map((t) => ({
      name: t.name,
      description: t.description,
      examples: t.examples,
      ...(opts.showPrevalence && t.prevalence !== undefined
        ? { prevalence: round(t.prevalence) }
        : {}),
    })),
    ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}),
  };
}

// The Markdown report writes a missing figure as "n/a".
const fmt = (x: number | null, digits = 3) => fixed(x, digits, "n/a");

function quote(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * The report as Markdown: metrics, counts, warnings, failure topics (with prevalence) and
 * the prompt.
 *
 * @example
 * ```ts
 * import { reportToMarkdown } from "./report.ts";
 * const metrics = {
 *   n: 1, parsed: 1, score: 1, fullCredit: 1, avgConfidence: 0.9, brier: 0.01, ece: 0.1,
 *   formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {},
 * };
 * const md = reportToMarkdown({
 *   iteration: 2, prompt: { system: "s", instruction: "i" }, metrics, topics: [], warnings: [],
 *   counts: { examples: 1, failures: 0, diagnoses: 0, formatErrors: 0, errors: 0 },
 * });
 * if (!md.startsWith("# Diagnostic report, iteration 2")) throw new Error(md);
 * ```
 */
export function reportToMarkdown(report: DiagnosticReport): string {
  const m = report.metrics;
  const c = report.counts;
  const lines = [
    `# Diagnostic report, iteration ${report.iteration}`,
    "",
    "| metric | value |",
    "|---|---|",
    `| score | ${fmt(m.score)} |`,
    `| full credit | ${fmt(m.fullCredit)} |`,
    `| avg confidence | ${fmt(m.avgConfidence)} |`,
    `| Brier | ${fmt(m.brier)} |`,
    `| ECE | ${fmt(m.ece)} |`,
    `| format-error rate | ${fmt(m.formatErrorRate)} |`,
    `| error rate | ${fmt(m.errorRate)} |`,
    ...Object.entries(m.extra).map(([k, v]) => `| ${k} | ${fmt(v)} |`),
    ...Object.entries(m.perSubtask).map(([k, v]) =>
      `| score on ${k} (n=${v.n}) | ${fmt(v.score)} |`
    ),
    "",
    `Examples ${c.examples}, failures ${c.failures}, diagnoses ${c.diagnoses}, ` +
    `format errors ${c.formatErrors}, provider errors ${c.errors}.`,
  ];
  if (report.warnings.length > 0) {
    lines.push("", "## Warnings", "", ...report.warnings.map((w) => `- ${quote(w)}`));
  }
  lines.push("", "## Failure topics", "");
  if (report.topics.length === 0) lines.push("None.");
  for (const t of report.topics) {
    const prevalence = t.prevalence === undefined ? "" : ` (prevalence ${fmt(t.prevalence, 2)})`;
    lines.push(`### ${quote(t.name)}${prevalence}`, "", quote(t.description), "");
    for (const e of t.examples) lines.push(`- ${quote(e)}`);
    if (t.examples.length > 0) lines.push("");
  }
  lines.push("## Prompt", "");
  for (const [field, value] of Object.entries(report.prompt)) {
    lines.push(`**${field}**`, "", "```text", value, "```", "");
  }
  return lines.join("\n").trimEnd() + "\n";
}
