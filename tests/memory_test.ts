import assert from "node:assert/strict";
import {
  buildMemoryPayload,
  type CompactMemoryItem,
  type FullMemoryItem,
  memoryEntry,
  nonImprovingStreak,
  payloadTokens,
} from "../lib/revise/memory.ts";
import type { DiagnosticReport } from "../lib/report.ts";
import type { MemoryEntry } from "../lib/run/schema.ts";
import type { Metrics } from "../lib/tasks/schema.ts";
import { metricsFixture } from "./support/fixtures.ts";

function metrics(score: number, brier: number | null = 0.2): Metrics {
  return metricsFixture({ score, fullCredit: score, brier });
}

function report(iteration: number, score: number, brier = 0.2): DiagnosticReport {
  return {
    iteration,
    prompt: { system: "S".repeat(200), instruction: `instruction ${iteration} `.repeat(40) },
    metrics: metrics(score, brier),
    topics: [
      { name: `topic ${iteration}a`, description: "a long description ".repeat(10), examples: [] },
      { name: `topic ${iteration}b`, description: "another description", examples: [] },
    ],
    counts: { examples: 10, failures: 3, diagnoses: 3, formatErrors: 0, errors: 0 },
    warnings: [],
  };
}

function history(scores: number[]): MemoryEntry[] {
  return scores.map((s, i) =>
    memoryEntry(report(i + 1, s), {
      action: "patch",
      patch: { instruction: `patched ${i + 1}`, rationale: `because ${i + 1}` },
    })
  );
}

Deno.test("history_summary: all past reports with their patches, and the current summary", () => {
  const past = history([0.5, 0.6, 0.55]);
  const p = buildMemoryPayload(past, report(4, 0.58, 0.1), { mode: "history_summary" });
  assert.equal(p.past_reports.length, 3);
  assert.equal(p.omitted, 0);
  const first = p.past_reports[0] as FullMemoryItem;
  assert.deepEqual(first.followed_by, {
    action: "patch",
    patch: { instruction: "patched 1" },
    rationale: "because 1",
  });
  assert.deepEqual(first.failure_topics.map((t) => t.name), ["topic 1a", "topic 1b"]);
  assert.deepEqual(p.current, {
    iteration: 4,
    score: 0.58,
    brier: 0.1,
    best_so_far: { iteration: 2, score: 0.6, brier: 0.2 },
    delta_vs_previous: { score: 0.03, brier: -0.1 },
    delta_vs_best: { score: -0.02, brier: -0.1 },
    non_improving_streak: 2,
  });
});

Deno.test("modes: last_report, last_k and all_reports select past entries; no summary", () => {
  const past = history([0.1, 0.2, 0.3, 0.4]);
  const current = report(5, 0.5);
  const iterations = (mode: "last_report" | "last_k" | "all_reports") =>
    buildMemoryPayload(past, current, { mode, k: 2 }).past_reports.map((r) => r.iteration);
  assert.deepEqual(iterations("last_report"), [4]);
  assert.deepEqual(iterations("last_k"), [3, 4]);
  assert.deepEqual(iterations("all_reports"), [1, 2, 3, 4]);
  assert.equal(buildMemoryPayload(past, current, { mode: "all_reports" }).current, undefined);
  assert.equal(buildMemoryPayload([], current, { mode: "last_report" }).past_reports.length, 0);
});

Deno.test("compaction under a small token budget: oldest first, then dropping", () => {
  const past = history([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  const current = report(7, 0.7);
  const unlimited = buildMemoryPayload(past, current, {
    mode: "history_summary",
    tokenBudget: 1e9,
  });
  const full = payloadTokens(unlimited);
  assert.ok(unlimited.past_reports.every((r) => !("compacted" in r)));

  const budget = Math.floor(full / 2);
  const p = buildMemoryPayload(past, current, { mode: "history_summary", tokenBudget: budget });
  assert.ok(payloadTokens(p) <= budget);
  assert.equal(p.omitted, 0);
  const flags = p.past_reports.map((r) => "compacted" in r);
  // Compacted entries are a prefix: the oldest go first, the newest stay in full.
  const firstFull = flags.indexOf(false);
  assert.ok(firstFull > 0 && flags.slice(firstFull).every((f) => !f));
  assert.ok(flags.slice(0, firstFull).every((f) => f));
  const compact = p.past_reports[0] as CompactMemoryItem;
  assert.deepEqual(compact, {
    iteration: 1,
    compacted: true,
    metrics: { score: 0.1, brier: 0.2, format_error_rate: 0 },
    topic_names: ["topic 1a", "topic 1b"],
    action: "patch",
  });

  // A budget below even the compacted history drops the oldest entries and counts them.
  const tiny = buildMemoryPayload(past, current, { mode: "history_summary", tokenBudget: 200 });
  assert.ok(payloadTokens(tiny) <= 200);
  assert.ok(tiny.omitted > 0);
  assert.equal(tiny.omitted + tiny.past_reports.length, 6);
  assert.deepEqual(tiny.past_reports.at(-1)?.iteration, 6);
  assert.ok(tiny.current !== undefined);
});

Deno.test("non-improving streak counts reports that did not beat the best before them", () => {
  assert.equal(nonImprovingStreak([]), 0);
  assert.equal(nonImprovingStreak([0.3]), 0);
  assert.equal(nonImprovingStreak([0.3, 0.3]), 1);
  assert.equal(nonImprovingStreak([0.3, 0.5, 0.4, 0.5, 0.2]), 3);
  assert.equal(nonImprovingStreak([0.3, 0.5, 0.4, 0.6]), 0);
});
