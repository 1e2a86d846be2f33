import assert from "node:assert/strict";
import {
  brierWeight,
  compareWithSeed,
  selectBest,
  selectionValue,
  updateBest,
} from "../lib/revise/select.ts";
import { formula } from "../lib/tasks/formula.ts";
import { hotpotqa } from "../lib/tasks/hotpotqa.ts";
import type { ScoredItem } from "../lib/run/schema.ts";
import { metricsFixture } from "./support/fixtures.ts";

function metrics(fullCredit: number, brier: number | null, extra: Record<string, number> = {}) {
  return metricsFixture({
    n: 100,
    parsed: 100,
    score: fullCredit,
    fullCredit,
    avgConfidence: 0.9,
    brier,
    extra,
  });
}

const prompt = (chars: number) => ({ system: "", instruction: "x".repeat(chars) });

Deno.test("selection function: task metric, w * Brier, and one length penalty (not doubled)", () => {
  assert.equal(brierWeight(true), 0.05);
  assert.equal(brierWeight(false), 0);
  // Formula: 0.5 acc - w Brier - 0.0025 per 1,000 characters.
  const v = selectionValue(formula, metrics(0.6, 0.2), prompt(2000), true);
  assert.ok(Math.abs(v - (0.3 - 0.01 - 0.005)) < 1e-12);
  // HotPotQA: F1 + 0.5 EM - w Brier - P.
  const h = selectionValue(hotpotqa, metrics(0.5, 0.3, { f1: 0.7, em: 0.5 }), prompt(1000), false);
  assert.ok(Math.abs(h - (0.7 + 0.25 - 0.0025)) < 1e-12);
});

Deno.test("ties keep the earlier prompt; only a strictly higher value replaces", () => {
  const a = { step: 1, selection: 0.4 };
  assert.equal(updateBest(a, { step: 2, selection: 0.4 }).replaced, false);
  assert.equal(updateBest(a, { step: 2, selection: 0.4 + 1e-12 }).replaced, true);
  assert.equal(updateBest(a, { step: 2, selection: Number.NaN }).replaced, false);
  const best = selectBest([
    { step: 1, selection: 0.3 },
    { step: 2, selection: 0.5 },
    { step: 3, selection: 0.5 },
    { step: 4, selection: 0.45 },
  ]);
  assert.equal(best?.step, 2);
  assert.equal(selectBest([]), null);
});

Deno.test("confidence-aware and plain selection pick different prompts on a constructed case", () => {
  // B scores slightly higher but is badly calibrated; A is nearly as good and calibrated.
  const candidates = [
    { step: 1, metrics: metrics(0.60, 0.10), prompt: prompt(1000) },
    { step: 2, metrics: metrics(0.62, 0.40), prompt: prompt(1000) },
  ];
  const pick = (aware: boolean) =>
    selectBest(candidates.map((c) => ({
      step: c.step,
      selection: selectionValue(formula, c.metrics, c.prompt, aware),
    })))?.step;
  assert.equal(pick(false), 2);
  assert.equal(pick(true), 1);
});

Deno.test("the length penalty decides between equal scores", () => {
  const short = selectionValue(formula, metrics(0.6, 0.2), prompt(500), false);
  const long = selectionValue(formula, metrics(0.6, 0.2), prompt(4500), false);
  assert.ok(Math.abs(short - long - 0.01) < 1e-12);
});

Deno.test("paired bootstrap of final vs seed pairs items by example id", () => {
  const item = (exampleId: string, score: number): ScoredItem => ({
    exampleId,
    answer: "a",
    confidence: 0.5,
    score,
    full: score === 1,
  });
  const seed = ["a", "b", "c", "d"].map((id, i) => item(id, i < 1 ? 1 : 0));
  const final = ["d", "c", "b", "a", "extra"].map((id) => item(id, 1));
  const r = compareWithSeed(final, seed, { seed: 3, iterations: 200 });
  assert.equal(r.n, 4);
  assert.equal(r.final, 1);
  assert.equal(r.seed, 0.25);
  assert.equal(r.delta, 0.75);
  assert.ok(r.lo <= 0.75 && r.hi <= 1 && r.lo > 0);
  assert.deepEqual(compareWithSeed(final, seed, { seed: 3, iterations: 200 }), r);
});
