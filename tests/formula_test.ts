import assert from "node:assert/strict";
import {
  extractFormulaQuestion,
  formula,
  FORMULA_ANSWER_INSTRUCTION,
  formulaCorrect,
  formulaName,
} from "../lib/tasks/formula.ts";
import { paperDataTest } from "./support/paper_data.ts";

// [predicted, gold, correct]: worked out with ACE's _formula_answer_is_correct (commas removed,
// Python float() equality, else string equality of the comma-free strings).
const CASES: [string, string, boolean][] = [
  ["5,000,000.0", "5000000", true],
  ["15.0", "15", true],
  ["$15.00", "15.0", false], // float('$15.00') raises: string comparison
  ["15%", "15.0", false],
  ["1_000", "1000.0", true], // Python float accepts '_' between digits
  [" 2.5 ", "2.5", true],
  ["2.51", "2.5", false],
  ["abc", "abc", true],
  ["nan", "nan", false], // nan != nan
  ["inf", "Infinity", true],
  ["1e3", "1000", true],
  ["-0", "0", true],
  ["", "0", false],
  ["2.5 million", "2500000", false],
  ["1,2,3", "123", true],
  ["1__0", "10", false],
  ["_10", "10", false],
  ["10.", "10", true],
  [".5", "0.5", true],
  ["1e", "1", false],
  ["+3", "3", true],
  ["0x10", "16", false],
  ["1 000", "1000", false],
  ["\u00a012\u2003", "12", true],
  ["15,0", "150", true],
];

Deno.test("formulaCorrect matches ACE's check", () => {
  for (const [p, g, want] of CASES) {
    assert.equal(formulaCorrect(p, g), want, `${JSON.stringify(p)} vs ${JSON.stringify(g)}`);
  }
});

Deno.test("question extraction as ACE does it", () => {
  const ctx = "Use formula Current Ratio to answer the question. Formula: A / B. Question: " +
    '"A firm has assets of $1,000,000. Find the ratio.". Answer:';
  assert.equal(
    extractFormulaQuestion(ctx),
    `A firm has assets of $1,000,000. Find the ratio. ${FORMULA_ANSWER_INSTRUCTION}`,
  );
  assert.equal(formulaName(ctx), "Current Ratio");
  // Curly closing quote: the ASCII quote pair rule does not apply, both quotes stay.
  const curly = 'X. Question:  "What is it?\u201d. Answer:';
  assert.equal(extractFormulaQuestion(curly), `"What is it?\u201d ${FORMULA_ANSWER_INSTRUCTION}`);
  // Only the first ". Answer:" ends the question.
  assert.equal(
    extractFormulaQuestion("Question: a. Answer: b. Answer:"),
    `a ${FORMULA_ANSWER_INSTRUCTION}`,
  );
  assert.equal(extractFormulaQuestion("no markers here"), "no markers here");
});

paperDataTest(
  "load: 500 / 300 / 200 with split-line ids and formula subtasks",
  async (DATA_DIR) => {
    const sizes: number[] = [];
    for (const split of ["train", "dev", "test"] as const) {
      const examples = await formula.load(split, { dataDir: DATA_DIR });
      sizes.push(examples.length);
      assert.equal(examples[0]?.id, `${split}-0`);
      assert.equal(examples.at(-1)?.id, `${split}-${examples.length - 1}`);
      for (const e of examples) {
        assert.ok(e.question.endsWith(FORMULA_ANSWER_INSTRUCTION));
        assert.ok(!e.question.includes("Use formula"));
        assert.equal(e.context, undefined);
        assert.ok(e.subtask);
      }
    }
    assert.deepEqual(sizes, [500, 300, 200]);
    const [first] = await formula.load("test", { dataDir: DATA_DIR });
    assert.ok(first);
    assert.equal(first.subtask, "Operating Margin");
    assert.equal(first.answer, "15.0");
    const user = formula.render(formula.seedPrompt, first).at(-1)?.content ?? "";
    assert.ok(user.includes(`\nQuestion: ${first.question}`));
  },
);

Deno.test("score: 1 or 0, impact 1 when wrong", () => {
  const ex = { id: "t", question: "q", answer: "5000000.0", row: {} };
  const right = formula.score(
    ex,
    formula.parse('{"reasoning": "r", "answer": "5,000,000", "confidence": 0.9}'),
    "",
  );
  assert.deepEqual([right.score, right.full, right.impact], [1, true, 0]);
  const numeric = formula.score(
    ex,
    formula.parse('{"reasoning": "r", "answer": 5000000, "confidence": 0.9}'),
    "",
  );
  assert.equal(numeric.score, 1);
  const wrong = formula.score(
    ex,
    formula.parse('{"reasoning": "r", "answer": "5 million", "confidence": 0.9}'),
    "",
  );
  assert.deepEqual([wrong.score, wrong.full, wrong.impact], [0, false, 1]);
  const metrics = {
    n: 1,
    parsed: 1,
    score: 0.5,
    fullCredit: 0.5,
    avgConfidence: 0.5,
    brier: 0.1,
    ece: 0.1,
    formatErrorRate: 0,
    errorRate: 0,
    perSubtask: {},
    extra: {},
  };
  const sel = formula.selectionScore({ metrics, promptChars: 1000, brierWeight: 0.05 });
  assert.ok(Math.abs(sel - (0.25 - 0.005 - 0.0025)) < 1e-12);
});
