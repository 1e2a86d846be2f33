import assert from "node:assert/strict";
import {
  buildReport,
  DiagnosticReport,
  reportForOptimizer,
  reportToMarkdown,
} from "../lib/report.ts";
import { ClusterResult } from "../lib/cluster.ts";
import type { Metrics } from "../lib/tasks/schema.ts";

const metrics: Metrics = {
  n: 10,
  parsed: 9,
  score: 0.123456,
  fullCredit: 0.1,
  avgConfidence: 0.87654,
  brier: 0.333333,
  ece: null,
  formatErrorRate: 0.1,
  errorRate: 0,
  perSubtask: { bridge: { n: 6, score: 1 / 6 } },
  extra: { f1: 0.456789 },
};

const topic = (name: string, prevalence: number, retained: boolean) => ({
  name,
  description: `${name} described`,
  examples: [`${name} example`],
  count: 1,
  impact: 1,
  prevalence,
  retained,
  source: "extracted" as const,
});

const clustering = ClusterResult.parse({
  k: 3,
  records: 3,
  groups: 3,
  groupOf: [0, 1, 2],
  sample: [0, 1, 2],
  topics: [topic("low", 0.05, false), topic("mid", 0.3, true), topic("high", 0.65, true)],
  assignments: [0, 1, 2],
  fallbacks: { count: 0, records: [] },
  padded: [],
  trimmed: [],
  calls: { extraction: 1, assignment: 1, embedding: 1 },
  errors: [],
});

const counts = { examples: 10, failures: 8, diagnoses: 3, formatErrors: 1, errors: 0 };

function sample() {
  return buildReport({
    iteration: 4,
    prompt: { system: "Sys", instruction: "Do it.\nCarefully." },
    metrics,
    clustering,
    counts,
    warnings: ["format errors rose"],
  });
}

Deno.test("buildReport keeps retained topics by decreasing prevalence and validates", () => {
  const report = sample();
  assert.deepEqual(report.topics.map((t) => [t.name, t.prevalence]), [["high", 0.65], [
    "mid",
    0.3,
  ]]);
  assert.deepEqual(report.counts, counts);
  assert.deepEqual(DiagnosticReport.parse(report), report);
  assert.deepEqual(buildReport({ ...sample(), clustering: null, counts }).topics, []);
});

Deno.test("reportForOptimizer hides prevalence by default, shows it on request, rounds", () => {
  const report = sample();
  const hidden = reportForOptimizer(report) as Record<string, unknown>;
  assert.deepEqual(hidden.failure_topics, [
    { name: "high", description: "high described", examples: ["high example"] },
    { name: "mid", description: "mid described", examples: ["mid example"] },
  ]);
  assert.equal(JSON.stringify(hidden).includes("prevalence"), false);
  const m = hidden.metrics as Record<string, unknown>;
  assert.equal(m.score, 0.1235);
  assert.equal(m.avgConfidence, 0.8765);
  assert.equal(m.ece, null);
  assert.deepEqual(m.perSubtask, { bridge: { n: 6, score: 0.1667 } });
  assert.deepEqual(m.extra, { f1: 0.4568 });
  assert.deepEqual(hidden.warnings, ["format errors rose"]);
  assert.deepEqual(hidden.counts, counts);
  assert.equal(hidden.iteration, 4);

  const shown = reportForOptimizer(report, { showPrevalence: true }) as {
    failure_topics: { prevalence?: number }[];
  };
  assert.deepEqual(shown.failure_topics.map((t) => t.prevalence), [0.65, 0.3]);
  // It is plain JSON: it survives a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(shown)), shown);
});

Deno.test("reportToMarkdown lists metrics, counts, warnings, topics and the prompt", () => {
  const md = reportToMarkdown(sample());
  for (
    const part of [
      "# Diagnostic report, iteration 4",
      "| score | 0.123 |",
      "| ECE | n/a |",
      "| f1 | 0.457 |",
      "| score on bridge (n=6) | 0.167 |",
      "Examples 10, failures 8, diagnoses 3, format errors 1, provider errors 0.",
      "## Warnings\n\n- format errors rose",
      "### high (prevalence 0.65)\n\nhigh described\n\n- high example",
      "### mid (prevalence 0.30)",
      "**instruction**\n\n```text\nDo it.\nCarefully.\n```",
    ]
  ) {
    assert.ok(md.includes(part), `missing: ${part}`);
  }
  assert.ok(md.indexOf("### high") < md.indexOf("### mid"));
  assert.equal(md.includes("### low"), false);
  assert.ok(md.endsWith("```\n"));
});
