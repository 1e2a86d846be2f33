import assert from "node:assert/strict";
import {
  buildMemoryPayload,
  type CompactMemoryItem,
  type FullMemoryItem,
  memoryEntry,
  nonImprovingStreak,
  payloadTokens,
} from "../lib/revise/memory.ts";
import { defaultMemoryBudget } from "../lib/llm/context_windows.ts";
import { applyPreset } from "../lib/revise/presets.ts";
import { resolveRunConfig } from "../lib/revise/config.ts";
import { trainScore } from "../lib/revise/select.ts";
import { createHotpotqa } from "../lib/tasks/hotpotqa.ts";
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
      {
        name: `topic ${iteration}a`,
        description: "a long description ".repeat(10),
        examples: [`example ${iteration}`],
      },
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

Deno.test("history_summary: every past report (whole: topic examples kept), and the current summary", () => {
  const past = history([0.5, 0.6, 0.55]);
  const p = buildMemoryPayload(past, report(4, 0.58, 0.1), { mode: "history_summary" });
  assert.deepEqual(p.history.map((r) => r.iteration), [1, 2, 3]);
  assert.equal(p.omitted, 0);
  assert.equal(p.compacted, 0);
  const first = p.history[0] as FullMemoryItem;
  assert.deepEqual(first.followed_by, {
    action: "patch",
    patch: { instruction: "patched 1" },
    rationale: "because 1",
  });
  assert.deepEqual(first.failure_topics[0]?.examples, ["example 1"]);
  const s = p.current_summary;
  assert.ok(s !== undefined);
  assert.equal(s.iteration, 4);
  assert.equal(s.score, 0.58);
  assert.deepEqual(s.failure_topics.map((t) => t.name), ["topic 4a", "topic 4b"]);
  assert.equal(s.best_so_far.iteration, 2);
  assert.equal(s.best_so_far.score, 0.6);
  assert.equal(s.delta_vs_previous?.score, 0.03);
  assert.equal(s.delta_vs_previous?.brier, -0.1);
  assert.equal(s.delta_vs_previous?.full_credit, 0.03);
  assert.equal(s.delta_vs_best.train_score, -0.02);
  assert.equal(s.non_improving_streak, 2);
  assert.equal(s.did_last_patch_improve_train, true);
});

Deno.test("modes as the reference means them: all_reports and last_k include the current report; last_report is the summary only", () => {
  const past = history([0.1, 0.2, 0.3, 0.4]);
  const current = report(5, 0.5);
  const iterations = (mode: "last_report" | "last_k" | "all_reports" | "none") =>
    buildMemoryPayload(past, current, { mode, k: 2 }).history.map((r) => r.iteration);
  assert.deepEqual(iterations("all_reports"), [1, 2, 3, 4, 5]);
  assert.deepEqual(iterations("last_k"), [4, 5]);
  assert.deepEqual(iterations("last_report"), []);
  assert.deepEqual(iterations("none"), []);
  const k5 = buildMemoryPayload(history([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), report(7, 0.7), {
    mode: "last_k",
  });
  assert.deepEqual(k5.history.map((r) => r.iteration), [3, 4, 5, 6, 7], "k defaults to 5");
  const all = buildMemoryPayload(past, current, { mode: "all_reports" });
  assert.equal(all.current_summary, undefined);
  // The current report is the one being decided on: nothing followed it yet.
  assert.equal((all.history.at(-1) as FullMemoryItem).followed_by, undefined);
  const last = buildMemoryPayload(past, current, { mode: "last_report" });
  assert.equal(last.current_summary?.iteration, 5);
  assert.equal(last.current_summary?.best_so_far.iteration, 5);
  assert.equal(buildMemoryPayload(past, current, { mode: "none" }).current_summary, undefined);
});

Deno.test("without patches, memory holds reports only (the reference)", () => {
  const p = buildMemoryPayload(history([0.1, 0.2]), report(3, 0.3), {
    mode: "all_reports",
    patches: false,
  });
  assert.ok(p.history.every((r) => !("followed_by" in r)));
  assert.ok(!JSON.stringify(p).includes("because"));
});

Deno.test("the summary ranks by the given train score, strictly higher wins, and reports the first report's null deltas", () => {
  const hot = createHotpotqa();
  const m = (f1: number, em: number) => metricsFixture({ score: f1, extra: { f1, em }, brier: 0 });
  const entries = [m(0.6, 0.2), m(0.5, 0.5), m(0.55, 0.4)].map((metrics, i) =>
    memoryEntry({ ...report(i + 1, 0), metrics }, { action: "patch", patch: null })
  );
  const score = trainScore(hot, { brierWeight: 0.05, lengthPenalty: 0 });
  // F1 + 0.5 EM: 0.7, 0.75, 0.75 (a tie keeps the earlier), then the current 0.8.
  const p = buildMemoryPayload(entries, { ...report(4, 0), metrics: m(0.6, 0.4) }, {
    mode: "history_summary",
    score,
  });
  assert.equal(p.current_summary?.best_so_far.iteration, 4);
  assert.equal(p.current_summary?.non_improving_streak, 0);
  const q = buildMemoryPayload(entries.slice(0, 2), { ...report(3, 0), metrics: m(0.55, 0.4) }, {
    mode: "history_summary",
    score,
  });
  assert.equal(q.current_summary?.best_so_far.iteration, 2);
  assert.equal(q.current_summary?.non_improving_streak, 1);
  assert.equal(q.current_summary?.did_last_patch_improve_train, false);
  const first = buildMemoryPayload([], report(1, 0.5), { mode: "history_summary" });
  assert.equal(first.current_summary?.delta_vs_previous, null);
  assert.equal(first.current_summary?.did_last_patch_improve_train, null);
});

Deno.test("compaction under a small token budget: oldest first, then dropping, and counted", () => {
  const past = history([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  const current = report(7, 0.7);
  const unlimited = buildMemoryPayload(past, current, { mode: "history_summary" });
  const full = payloadTokens(unlimited);
  assert.ok(unlimited.history.every((r) => !("compacted" in r)));

  const budget = Math.floor(full / 2);
  const p = buildMemoryPayload(past, current, { mode: "history_summary", tokenBudget: budget });
  assert.ok(payloadTokens(p) <= budget);
  assert.equal(p.omitted, 0);
  const flags = p.history.map((r) => "compacted" in r);
  // Compacted entries are a prefix: the oldest go first, the newest stay in full.
  const firstFull = flags.indexOf(false);
  assert.ok(firstFull > 0 && flags.slice(firstFull).every((f) => !f));
  assert.ok(flags.slice(0, firstFull).every((f) => f));
  assert.equal(p.compacted, firstFull);
  const compact = p.history[0] as CompactMemoryItem;
  assert.deepEqual(compact, {
    iteration: 1,
    compacted: true,
    metrics: { score: 0.1, brier: 0.2, format_error_rate: 0 },
    topic_names: ["topic 1a", "topic 1b"],
    action: "patch",
  });

  // A budget below even the compacted history drops the oldest entries and counts them.
  // Room for the summary and about two compacted reports.
  const bare = payloadTokens({ ...unlimited, history: [], compacted: 6, omitted: 6 });
  const one = payloadTokens({ ...unlimited, history: [compact] }) -
    payloadTokens({ ...unlimited, history: [] });
  const room = bare + 2 * one;
  const tiny = buildMemoryPayload(past, current, { mode: "history_summary", tokenBudget: room });
  assert.ok(payloadTokens(tiny) <= room, `${payloadTokens(tiny)} > ${room}`);
  assert.ok(tiny.omitted > 0);
  assert.equal(tiny.omitted + tiny.history.length, 6);
  assert.deepEqual(tiny.history.at(-1)?.iteration, 6);
  assert.ok(tiny.current_summary !== undefined);
});

Deno.test("non-improving streak counts reports after the best one", () => {
  assert.equal(nonImprovingStreak([]), 0);
  assert.equal(nonImprovingStreak([0.3]), 0);
  assert.equal(nonImprovingStreak([0.3, 0.3]), 1);
  assert.equal(nonImprovingStreak([0.3, 0.5, 0.4, 0.5, 0.2]), 3);
  assert.equal(nonImprovingStreak([0.3, 0.5, 0.4, 0.6]), 0);
});

// Paper scale: 40 iterations of HotPotQA with 2,000-character prompts and full reports (the
// reference's retained topics, each with a comprehensive description and 8 examples).
function paperScaleReport(iteration: number): DiagnosticReport {
  const text = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => `${tag} ${iteration}.${i} `).join("").padEnd(n, "x")
      .slice(0, n);
  return {
    iteration,
    prompt: { system: text(150, "system"), instruction: text(1850, "instruction") },
    metrics: metricsFixture({ score: 0.6, fullCredit: 0.5, extra: { em: 0.5, f1: 0.6 } }),
    topics: Array.from({ length: 5 }, (_, t) => ({
      name: `failure topic ${t}`,
      description: text(600, `description ${t}`),
      examples: Array.from({ length: 8 }, (_, e) => text(160, `example ${t}.${e}`)),
    })),
    counts: { examples: 300, failures: 120, diagnoses: 180, formatErrors: 0, errors: 0 },
    warnings: [],
  };
}

Deno.test("memory at paper scale: 40 iterations, 2,000-character prompts, nothing compacted under the paper preset", () => {
  const config = resolveRunConfig(applyPreset({ preset: "paper", task: "hotpotqa" }));
  assert.equal(config.memoryTokenBudget, defaultMemoryBudget("openai:gpt-5"));
  const entries: MemoryEntry[] = [];
  let largest = 0;
  for (let t = 1; t <= 40; t++) {
    const current = paperScaleReport(t);
    for (const mode of ["history_summary", "all_reports"] as const) {
      const p = buildMemoryPayload(entries, current, {
        mode,
        k: config.memoryK,
        tokenBudget: config.memoryTokenBudget,
        patches: config.memoryPatches,
      });
      assert.equal(p.compacted, 0, `${mode} at iteration ${t}`);
      assert.equal(p.omitted, 0, `${mode} at iteration ${t}`);
      assert.equal(p.history.length, mode === "all_reports" ? t : t - 1);
      largest = Math.max(largest, payloadTokens(p));
    }
    entries.push(memoryEntry(current, { action: "patch", patch: null }));
  }
  // The payload is large (every whole report), yet within gpt-5's window less the reserve.
  assert.ok(largest > 100_000, String(largest));
  assert.ok(largest <= (config.memoryTokenBudget ?? 0), String(largest));
  // The old fixed 12,000-token budget would have compacted most of it.
  const old = buildMemoryPayload(entries.slice(0, 39), paperScaleReport(40), {
    mode: "history_summary",
    tokenBudget: 12_000,
  });
  assert.ok(old.compacted + old.omitted > 30, `${old.compacted} + ${old.omitted}`);
});
