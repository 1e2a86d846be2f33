import assert from "node:assert/strict";
import {
  checkDecision,
  findCopiedAnswers,
  findMetaEditText,
  formatCollapseWarning,
  isDistinctiveAnswer,
  readDecision,
} from "../lib/revise/guards.ts";
import type { Metrics } from "../lib/tasks/schema.ts";

const ctx = {
  current: { system: "You answer questions.", instruction: "Answer in JSON." },
  trainAnswers: ["Radiohead", "yes", "no", "2", "12.5", "1234.57", "Paris"],
  maxPromptChars: 300,
};

function reason(raw: unknown): string {
  const r = checkDecision(raw, ctx);
  assert.equal(r.ok, false);
  return r.ok ? "" : r.reason;
}

Deno.test("schema, empty and no-op patches are rejected with a reason", () => {
  assert.match(reason(undefined), /no JSON decision/);
  assert.match(reason({ action: "rewrite" }), /action: /);
  assert.match(reason({ action: "patch" }), /needs a patch object/);
  assert.match(reason({ action: "patch", patch: { rationale: "r" } }), /neither system nor/);
  assert.match(reason({ action: "patch", patch: { instruction: "  ", rationale: "r" } }), /empty/);
  assert.match(
    reason({ action: "patch", patch: { instruction: "New.", rationale: " " } }),
    /rationale/,
  );
  assert.match(
    reason({ action: "patch", patch: { instruction: "Answer in JSON.", rationale: "r" } }),
    /does not change/,
  );
  const stop = checkDecision({ action: "stop", stop_reason: "plateau" }, ctx);
  assert.deepEqual(stop, {
    ok: true,
    decision: { action: "stop", stop_reason: "plateau" },
    prompt: null,
  });
});

Deno.test("meta-edit text is rejected; ordinary instructions pass", () => {
  for (
    const text of [
      "Apply this patch: answer briefly.",
      "[Revised instruction] Answer briefly.",
      "[updated] Answer briefly.",
      "<previous instruction> plus: cite the context",
      "Answer briefly. The rest of the prompt is unchanged.",
      "Keep everything ... (unchanged)",
    ]
  ) {
    assert.notEqual(findMetaEditText(text), undefined, text);
    assert.match(
      reason({ action: "patch", patch: { instruction: text, rationale: "r" } }),
      /meta-edit/,
    );
  }
  for (
    const text of [
      "Answer briefly and cite the supporting sentence.",
      "Revise your answer if the context contradicts it.",
      "If the question asks for a patch of land, give its area.",
    ]
  ) assert.equal(findMetaEditText(text), undefined, text);
});

Deno.test("copied training answers are rejected; yes/no and short numbers never trigger", () => {
  assert.equal(isDistinctiveAnswer("yes"), false);
  assert.equal(isDistinctiveAnswer("2"), false);
  assert.equal(isDistinctiveAnswer("12.5"), false);
  assert.equal(isDistinctiveAnswer("1234.57"), true);
  assert.equal(isDistinctiveAnswer("Radiohead"), true);
  const r = reason({
    action: "patch",
    patch: {
      instruction: "For the band question say Radiohead; totals like 1234.57.",
      rationale: "r",
    },
  });
  assert.match(r, /gold answers of training examples \("Radiohead", "1234\.57"\)/);
  const fine = checkDecision({
    action: "patch",
    patch: {
      instruction: "Answer yes or no when asked; give 2 decimals, e.g. 12.5.",
      rationale: "r",
    },
  }, ctx);
  assert.equal(fine.ok, true);
  // Whole words only, and text the prompt already had is not blamed on the patch.
  assert.deepEqual(findCopiedAnswers("Comparisons: Parisian style", ["Paris"]), []);
  assert.deepEqual(findCopiedAnswers("Capital: Paris.", ["Paris"], "Capital: Paris."), []);
});

Deno.test("the prompt-length cap counts all fields", () => {
  const r = reason({ action: "patch", patch: { instruction: "x".repeat(290), rationale: "r" } });
  assert.match(r, /311 characters, over the cap of 300/);
  const ok = checkDecision({
    action: "patch",
    patch: { instruction: "y".repeat(279), rationale: "r" },
  }, ctx);
  assert.equal(ok.ok, true);
  assert.equal(ok.ok && ok.prompt?.system, "You answer questions.");
});

Deno.test("decisions are read from structured output or the first JSON object of text", () => {
  assert.deepEqual(readDecision({ action: "stop" }, "ignored"), { action: "stop" });
  assert.deepEqual(readDecision(undefined, 'Sure: {"action": "stop"} done'), { action: "stop" });
  assert.equal(readDecision(undefined, "no json"), undefined);
});

Deno.test("format-collapse warning: rate >= 0.5, or up by >= 0.25", () => {
  const m = (formatErrorRate: number): Metrics => ({
    n: 4,
    parsed: 4,
    score: 0,
    fullCredit: 0,
    avgConfidence: null,
    brier: null,
    ece: null,
    formatErrorRate,
    errorRate: 0,
    perSubtask: {},
    extra: {},
  });
  assert.equal(formatCollapseWarning(m(0.49)), undefined);
  assert.match(formatCollapseWarning(m(0.5))!, /^FORMAT COLLAPSE: 50%/);
  assert.match(formatCollapseWarning(m(0.3), m(0.05))!, /was 5% in the previous report/);
  assert.equal(formatCollapseWarning(m(0.3), m(0.06)), undefined);
  assert.equal(formatCollapseWarning(m(0.1), m(0.0)), undefined);
});
