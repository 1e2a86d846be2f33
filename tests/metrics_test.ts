import assert from "node:assert/strict";
import {
  bootstrapInterval,
  computeMetrics,
  pairedBootstrap,
  reliabilityBins,
  type TraceLike,
} from "../lib/metrics.ts";
import { scoredItemsAsTraces } from "../lib/run_charts.ts";

const close = (a: number | null | undefined, b: number, what: string) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${what}: ${a} != ${b}`);

function item(
  score: number,
  confidence: number,
  subtask: string,
  details: Record<string, unknown> = {},
): TraceLike {
  return {
    score,
    full: score === 1,
    subtask,
    details,
    parsed: { reasoning: "", answer: "", confidence },
  };
}

const ITEMS: TraceLike[] = [
  item(1, 0.95, "x", { em: 1, f1: 1, tokens: 50 }),
  item(0, 0.85, "x", { em: 0, f1: 0.5, tokens: 7 }),
  item(0, 0.15, "y"),
  item(1, 0.05, "y"),
  item(1, 0.9, "x"),
  { score: 0, full: false, subtask: "y", parsed: null, formatError: "no JSON", details: {} },
  { score: 0, full: false, subtask: "y", parsed: null, error: "HTTP 500", details: {} },
];

Deno.test("computeMetrics: exact values", () => {
  const m = computeMetrics(ITEMS);
  assert.equal(m.n, 7);
  assert.equal(m.parsed, 5);
  close(m.score, 3 / 7, "score");
  close(m.fullCredit, 3 / 7, "fullCredit");
  close(m.avgConfidence, 0.58, "avgConfidence");
  // (0.05^2 + 0.85^2 + 0.15^2 + 0.95^2 + 0.1^2) / 5
  close(m.brier, 1.66 / 5, "brier");
  // bins: [0.9,1] {0.95, 0.9} vs 1 -> 0.075 (weight 2/5); 0.85 vs 0; 0.15 vs 0; 0.05 vs 1
  close(m.ece, (2 / 5) * 0.075 + (0.85 + 0.15 + 0.95) / 5, "ece");
  close(m.formatErrorRate, 1 / 7, "formatErrorRate");
  close(m.errorRate, 1 / 7, "errorRate");
  assert.deepEqual(Object.keys(m.perSubtask), ["x", "y"]);
  assert.equal(m.perSubtask.x?.n, 3);
  close(m.perSubtask.x?.score, 2 / 3, "x");
  assert.equal(m.perSubtask.y?.n, 4);
  close(m.perSubtask.y?.score, 1 / 4, "y");
  // em / f1 averaged over all 7 items (missing = 0); 'tokens' is not a [0, 1] quantity
  assert.deepEqual(Object.keys(m.extra), ["em", "f1"]);
  close(m.extra.em, 1 / 7, "em");
  close(m.extra.f1, 1.5 / 7, "f1");
});

Deno.test("computeMetrics: a format error with a stale score still scores 0", () => {
  const m = computeMetrics([
    { score: 1, full: true, parsed: null, formatError: "x", details: {} },
  ]);
  assert.deepEqual([m.score, m.fullCredit, m.brier, m.ece, m.avgConfidence], [
    0,
    0,
    null,
    null,
    null,
  ]);
  assert.equal(computeMetrics([]).n, 0);
});

Deno.test("computeMetrics: an unparsed output the task credited counts in the score only", () => {
  const credited: TraceLike = {
    score: 1,
    full: true,
    subtask: "y",
    parsed: null,
    formatError: "no JSON object in the output",
    details: { unparsed_credit: true },
  };
  const m = computeMetrics([credited, item(0, 0.4, "y")]);
  assert.deepEqual([m.n, m.parsed, m.score, m.fullCredit], [2, 1, 0.5, 0.5]);
  assert.deepEqual([m.formatErrorRate, m.errorRate], [0.5, 0]);
  close(m.brier, 0.16, "brier over the parsed item only");
  assert.deepEqual(m.perSubtask, { y: { n: 2, score: 0.5 } });
  // A provider error is never credited, whatever it carries.
  const failed = { ...credited, formatError: undefined, error: "HTTP 500" };
  assert.equal(computeMetrics([failed]).score, 0);
});

Deno.test("computeMetrics: calibration against the item's calibration_target", () => {
  // Scores 0.5 / 1 / 0.4 but targets 0 / 1 / 0 (HotPotQA: F1 scored, EM calibrated).
  const items = [
    item(0.5, 0.8, "x", { calibration_target: 0 }),
    item(1, 0.9, "x", { calibration_target: 1 }),
    item(0.4, 0.3, "x", { calibration_target: 0 }),
  ];
  const m = computeMetrics(items);
  close(m.brier, (0.64 + 0.01 + 0.09) / 3, "brier");
  // bins: 0.3 vs 0 (0.3); 0.8 vs 0 (0.8); 0.9 vs 1 (0.1)
  close(m.ece, (0.3 + 0.8 + 0.1) / 3, "ece");
  close(m.score, 1.9 / 3, "score stays the mean score");
  assert.deepEqual(Object.keys(m.extra), []);
  assert.equal(reliabilityBins(items)[8]?.avgScore, 0);
  // Out of range or not a number: the score is the target.
  close(computeMetrics([item(0.5, 0.5, "x", { calibration_target: 2 })]).brier, 0, "fallback");
});

Deno.test("reliabilityBins: edges", () => {
  const bins = reliabilityBins([item(1, 0, "a"), item(1, 0.1, "a"), item(0, 1, "a")]);
  assert.equal(bins.length, 10);
  assert.deepEqual(bins.map((b) => b.n), [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(bins[9]?.avgScore, 0);
  assert.equal(bins[5]?.avgConfidence, null);
  close(bins[3]?.lo, 0.3, "lo");
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("bootstrapInterval: seeded, ordered, degenerate when constant", () => {
  const values = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const a = bootstrapInterval(values, mean, { iterations: 300, seed: 3 });
  const b = bootstrapInterval(values, mean, { iterations: 300, seed: 3 });
  const c = bootstrapInterval(values, mean, { iterations: 300, seed: 4 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  close(a.estimate, 14 / 40, "estimate");
  assert.ok(a.lo < a.estimate && a.estimate < a.hi);
  assert.ok(a.lo > 0.1 && a.hi < 0.6);
  const flat = bootstrapInterval([0.5, 0.5, 0.5], mean, { iterations: 50 });
  assert.deepEqual(flat, { estimate: 0.5, lo: 0.5, hi: 0.5 });
  assert.throws(() => bootstrapInterval(values, mean, { iterations: 0 }), RangeError);
  assert.throws(() => bootstrapInterval(values, mean, { alpha: 1 }), RangeError);
  // any metric works: bootstrap the Brier of trace items
  const brier = bootstrapInterval(ITEMS, (s) => computeMetrics(s).brier ?? 0, { iterations: 100 });
  close(brier.estimate, 1.66 / 5, "brier estimate");
});

Deno.test("pairedBootstrap: delta = stat(a) - stat(b) with shared indices", () => {
  const a = [1, 1, 0, 1, 1, 0, 1, 1];
  const same = pairedBootstrap(a, a, mean, { iterations: 200 });
  assert.deepEqual([same.estimate, same.lo, same.hi, same.probabilityAGreater], [0, 0, 0, 0]);
  const b = [0, 1, 0, 0, 1, 0, 0, 1];
  const r = pairedBootstrap(a, b, mean, { iterations: 500, seed: 9 });
  close(r.estimate, 0.375, "delta");
  assert.equal(r.a, 0.75);
  assert.equal(r.b, 0.375);
  // a >= b on every example, so no resample can have a negative delta
  assert.ok(r.lo >= 0 && r.hi <= 1 && r.probabilityAGreater > 0.9);
  assert.throws(() => pairedBootstrap([1], [1, 2], mean), RangeError);
});

Deno.test("run charts: stored dev/test items bin the confidence against their calibration target (HotPotQA EM)", () => {
  // F1 0.5 scored, EM 0 stated: the reliability bin must read 0, not 0.5.
  const items = scoredItemsAsTraces([
    {
      exampleId: "a",
      answer: "x",
      confidence: 0.85,
      score: 0.5,
      full: false,
      calibrationTarget: 0,
    },
    { exampleId: "b", answer: "y", confidence: 0.85, score: 1, full: true, calibrationTarget: 1 },
    { exampleId: "c", answer: "z", confidence: 0.15, score: 0.4, full: false },
  ]);
  const bins = reliabilityBins(items);
  close(bins[8]?.avgScore, 0.5, "EM 0 and 1 average 0.5 (F1 would give 0.75)");
  close(bins[1]?.avgScore, 0.4, "no target: the score");
});
