import assert from "node:assert/strict";
import { getTask } from "../lib/tasks/registry.ts";
import {
  answerText,
  livebenchMath,
  scoreLivebenchText,
  scorerFor,
} from "../lib/tasks/livebench_math.ts";
import {
  cleanGold,
  extractAmpsAnswer,
  normalizeFinalAnswer,
  scoreAmpsHard,
} from "../lib/tasks/livebench_scorers/amps_hard.ts";
import {
  closeLatexEngine,
  lastBoxedOnlyString,
  latexEquivalent,
  removeBoxed,
} from "../lib/tasks/livebench_scorers/latex.ts";
import {
  lastChars,
  optionValue,
  scoreAime,
  scoreMathContest,
} from "../lib/tasks/livebench_scorers/math_comp.ts";
import {
  extractCompletions,
  levenshtein,
  NO_ANSWER,
  scoreOlympiad,
} from "../lib/tasks/livebench_scorers/olympiad.ts";
import type { Example } from "../lib/types.ts";
import { allExamples, perfectAnswer } from "./livebench_bench_script.ts";

const DATA_DIR = new URL("../../shared/data", import.meta.url).pathname;

// A made-up AMC question (not a data row): gold B, whose option value is 5.
const Q = "What is 2+3? $\\textbf{(A) }4\\qquad\\textbf{(B) }5\\qquad\\textbf{(C) }6\\qquad" +
  "\\textbf{(D) }7\\qquad\\textbf{(E) }8$ Once you have your answer, please duplicate that " +
  "letter five times in a single string.";

Deno.test("math_comp: option values as upstream's extract_answer", () => {
  assert.equal(optionValue(Q, "B"), "5");
  assert.equal(optionValue(Q, "E"), "8");
  assert.equal(optionValue("no options here", "B"), "FAILURE");
  // whitespace, then `$`, then `~` stripped
  assert.equal(optionValue("$\\textbf{(C)}~52.5\\qquad\\textbf{(D)}~60$", "C"), "52.5");
  // an option whose text is only `~` strips to "" (not FAILURE: the check comes first)
  assert.equal(optionValue("\\textbf{(A)}~$", "A"), "");
  assert.equal(optionValue("\\textbf{(A)} $$\\qquad", "A"), "FAILURE");
});

Deno.test("math_comp: AMC/SMC letter rules, in upstream order", () => {
  const cases: [string, number, string][] = [
    ["Reasoning.\nBBBBB", 1, "letter_x4"],
    ["so BBBB", 1, "letter_x4"], // four repeats are enough (upstream tests gold * 4)
    ["I think BBB", 0, "none"], // three are not
    ["so bbbbb", 0, "none"], // the repeat rule is case-sensitive
    ["AAAAA", 0, "none"], // another letter repeated
    ["AAAAA but wait, BBBBB", 1, "letter_x4"],
    ["BBBBB\\boxed{A}", 1, "letter_x4"], // a repeat anywhere beats a wrong box
    ["<solution>B</solution> I am done", 1, "solution_tag"],
    ["<solution>bbbbb</solution> I am done", 1, "solution_tag"], // case-insensitive here
    ["<solution>BC</solution> I am done", 0, "none"], // more than one distinct character
    ["<solution>A</solution> no, <solution>B</solution>!", 1, "solution_tag"], // last tag wins
    ["<solution>B</solution> no, <solution>A</solution>!", 0, "none"],
    ["<solution>\nB\n</solution> ok", 0, "none"], // the tag must sit on one line
    ["So \\boxed{B}.", 1, "boxed"],
    ["So \\boxed{\\text{B}}.", 1, "boxed"],
    ["\\boxed{B} then \\boxed{A}\nfinal", 0, "none"], // the last box decides
    ["\\boxed{A} then \\boxed{B}\nfinal", 1, "boxed"],
    ["\\boxed{(B)}\nThat is my final choice", 0, "none"], // parentheses stay in the box
    ["my pick: \\boxed{(B)}", 1, "last_line_parenthetical"], // ... but the last line has them
    ["\\fbox{B}\nok", 1, "boxed"],
    ["\\\\fbox{B}\nok", 1, "boxed"], // JSON-escaped form, replaced as upstream
    ["the letter is \\boxed B$ indeed\nok", 1, "boxed"], // `\boxed ` with a space
    ["Adding, the sum is 5", 1, "option_value"],
    ["The sum is 5, which I double checked very carefully.", 0, "none"], // 5 too far back
    ["Lots of work.\n**B**", 1, "last_line"],
    ["Lots of work.\n  b  ", 1, "last_line"],
    ["Lots of work.\nThe answer is (B) for sure", 1, "last_line_parenthetical"],
    ["Lots of work.\nThe answer is (A) for sure", 0, "none"],
  ];
  for (const [text, score, rule] of cases) {
    const r = scoreMathContest("B", text, Q);
    assert.deepEqual([r.score, r.rule], [score, rule], text);
  }
  // A question without options: upstream compares the literal FAILURE.
  assert.equal(scoreMathContest("B", "total FAILURE", "no options").score, 1);
  assert.throws(() => scoreMathContest("F", "FFFFF", Q), /one capital letter A-E/);
  assert.throws(() => scoreMathContest("B", "\\boxedB{x}", Q), /malformed/);
  // what a wrong answer extracted, for the critic
  assert.equal(scoreMathContest("B", "\\boxed{A}\nhmm", Q).extracted, "a");
  assert.equal(scoreMathContest("B", "AAAAA", Q).extracted, "A");
});

Deno.test("math_comp: AIME looks for the gold string in the last 50 characters", () => {
  assert.equal(scoreAime("033", "So the answer is 033").score, 1);
  assert.equal(scoreAime("033", "So the answer is 33").score, 0); // leading zero needed
  assert.equal(scoreAime("33", "So the answer is 033").score, 1); // "033" contains "33"
  assert.equal(scoreAime("127", "Answer: 127. Done.").score, 1);
  assert.equal(scoreAime("127", "127" + "x".repeat(47)).score, 1); // exactly 50 characters
  assert.equal(scoreAime("127", "127" + "x".repeat(48)).score, 0); // one too many
  assert.equal(scoreAime("127", "x1127x").score, 1); // a substring match, as upstream
  assert.equal(scoreAime("127", "So it is 126").extracted, "126");
  // code points, not UTF-16 units, as Python slices
  assert.equal(scoreAime("127", "127" + "😀".repeat(47)).score, 1);
  assert.equal(lastChars("a😀b", 2), "😀b");
});

Deno.test("olympiad: extraction rules as upstream", () => {
  const cases: [string, (number | string)[], string][] = [
    ["Answer: 1, 3, 4, 2", [1, 3, 4, 2], "answer_line"],
    ["**Answer:** 1,3,4,2.", [1, 3, 4, 2], "answer_line"],
    ["Answer: <expression 1>, <expression 3>, <expression 2>", [1, 3, 2], "answer_line"],
    ["Answer: $\\boxed{1}$, 2", [1, 2], "answer_line"],
    ["reasoning\nAnswer:\n1, 3, 4, 2", [1, 3, 4, 2], "answer_line"], // empty: next line
    ["Answer: 9\nmore\nAnswer: 2, 1", [2, 1], "answer_line"], // the last answer line
    ["Answer: 1, 3, x, 2", [1, 3, NO_ANSWER, 2], "answer_line"],
    ["Final: \\boxed{3, 1, 2}", [3, 1, 2], "boxed"],
    ["no label\nthe order is 1, 3, 4 and 2", [1, 3, 4], "last_line"],
    ["Answer: none", [], "after_answer"],
  ];
  for (const [text, expected, rule] of cases) {
    const e = extractCompletions(text);
    assert.deepEqual([e.completions, e.rule], [expected, rule], text);
  }
  // A superscript is a digit to Python's isdigit() but int() rejects it: upstream raises.
  assert.throws(() => extractCompletions("x²"), /int\('²'\) fails/);
});

Deno.test("olympiad: partial credit is 1 - edit distance / longer length", () => {
  const gold = "1,3,4,2";
  const cases: [string, number][] = [
    ["Answer: 1, 3, 4, 2", 1],
    ["Answer: 1, 3, 2, 4", 0.5], // a swap costs two substitutions
    ["Answer: 3, 4, 2", 0.75], // one missing
    ["Answer: 1, 3, 4, 2, 5", 0.8], // one extra, over the longer length 5
    ["Answer: 2, 4, 3, 1", 0], // reversed: four substitutions
    ["Answer: 1, 3, x, 2", 0.75], // an unreadable item never matches
    ["Answer: none", 0], // nothing extracted: distance 4 over 4
    ["Answer: 4, 2", 0.5],
  ];
  for (const [text, score] of cases) assert.equal(scoreOlympiad(gold, text).score, score, text);
  assert.equal(scoreOlympiad("7", "Answer: 7").score, 1);
  assert.equal(scoreOlympiad(gold, "Answer: 1, 3, 2, 4").distance, 2);
  assert.equal(levenshtein([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(levenshtein([], [1, 2]), 2);
  assert.equal(levenshtein([1, 2, 3, 4], [2, 1, 3, 4]), 2);
  assert.throws(() => scoreOlympiad("1,a", "Answer: 1"), /not a list of integers/);
});

Deno.test("boxed helpers as upstream", () => {
  assert.equal(
    lastBoxedOnlyString("\\boxed{1} and $\\boxed{\\frac{1}{2}}$"),
    "\\boxed{\\frac{1}{2}}",
  );
  assert.equal(lastBoxedOnlyString("\\boxed{\\frac{1}{2}"), undefined); // never closes
  assert.equal(lastBoxedOnlyString("nothing"), undefined);
  assert.equal(lastBoxedOnlyString("\\fbox{x}"), "\\boxed{x}");
  assert.equal(lastBoxedOnlyString("\\boxed{y} \\boxed x+1$ z"), "\\boxed x+1");
  assert.equal(removeBoxed("\\boxed{x}"), "x");
  assert.equal(removeBoxed("\\boxedx}"), undefined);
});

Deno.test("AMPS_Hard: normalisation and extraction as upstream", () => {
  assert.equal(normalizeFinalAnswer("y = \\frac12"), " \\frac{1}{2}");
  assert.equal(normalizeFinalAnswer("\\sqrt2"), "\\sqrt{2}");
  assert.equal(normalizeFinalAnswer("\\text{ 5 }"), " 5 ");
  assert.equal(normalizeFinalAnswer("1,234"), "1234");
  assert.equal(normalizeFinalAnswer("1,2,x"), "1,2,x");
  assert.equal(normalizeFinalAnswer("a $b$ c"), "b");
  assert.equal(cleanGold("16\\ 2^{2/3} \\left(x\\right) ^2"), "16*2^{2/3} (x)^2");
  assert.deepEqual(extractAmpsAnswer("so $x = \\frac{1}{7}$"), {
    rule: "dollar_block",
    answer: "\\frac{1}{7}",
  });
  assert.deepEqual(extractAmpsAnswer("so $$\\frac{1}{7}$$"), {
    rule: "dollar_block",
    answer: "\\frac{1}{7}",
  });
  assert.deepEqual(extractAmpsAnswer("$a$ or $b \\quad \\text{or} \\quad c$"), {
    rule: "dollar_block",
    answer: "c",
  });
  assert.deepEqual(extractAmpsAnswer("$$"), { rule: "dollar_block", answer: "" });
  assert.equal(extractAmpsAnswer("just 5"), undefined);
});

Deno.test("AMPS_Hard: equivalence of LaTeX forms", () => {
  const cases: [string, string, number][] = [
    ["\\frac{x}{2}", "$\\boxed{\\frac{1}{2}x}$", 1],
    ["\\frac{x}{2}", "$\\boxed{x/2}$", 1],
    ["\\frac{x}{2}", "$\\boxed{\\dfrac{1}{2}x + C}$", 1], // +C dropped, \dfrac read as \frac
    ["\\frac{x}{2}", "$\\boxed{\\tfrac{x}{2}+c}$", 1],
    ["\\frac{x}{2}", "$\\boxed{\\frac{x}{3}}$", 0],
    [
      "13 \\left(x-\\frac{1}{2}\\right)^2-\\frac{37}{4}",
      "\\boxed{13\\left(x - \\frac{1}{2}\\right)^{2} - \\frac{37}{4}}",
      1,
    ],
    ["13 \\left(x-\\frac{1}{2}\\right)^2-\\frac{37}{4}", "\\boxed{13x^2-13x-6}", 1], // expanded
    ["13 \\left(x-\\frac{1}{2}\\right)^2-\\frac{37}{4}", "\\boxed{13x^2-13x+6}", 0],
    ["-5 (-x-26) (x-8)", "\\boxed{5(x+26)(x-8)}", 1],
    [
      "-\\lambda ^3+8 \\lambda ^2+4 \\lambda +3037",
      "\\boxed{-\\lambda^3+8\\lambda^2+4\\lambda+3037}",
      1,
    ],
    [
      "-\\lambda ^3+8 \\lambda ^2+4 \\lambda +3037",
      "\\boxed{\\lambda^3-8\\lambda^2-4\\lambda-3037}",
      0,
    ],
    ["\\frac{8599}{56}", "The variance is $\\frac{8599}{56}$", 1], // last $...$ block
    ["\\frac{8599}{56}", "\\boxed{153.5536}", 1], // within upstream's 0.001
    ["\\frac{8599}{56}", "\\boxed{153.55}", 0],
    ["\\frac{\\sqrt{7045}}{6}", "\\boxed{\\sqrt{\\frac{7045}{36}}}", 1],
    ["16\\ 2^{2/3} 5^{5/6}", "\\boxed{16 \\cdot 2^{2/3} \\cdot 5^{5/6}}", 1],
    ["16\\ 2^{2/3} 5^{5/6}", "\\boxed{16\\ 2^{2/3} 5^{5/6}}", 1], // TeX space = product
    ["4 i \\sqrt{5}", "\\boxed{4\\sqrt{5}i}", 1],
    ["\\frac{2}{2 x+1}", "\\boxed{\\frac{2}{1+2x}}", 1],
    ["\\log (5 x)", "\\boxed{\\ln(5x)}", 1], // \log is natural, as in sympy
    ["\\cos (5) \\cos (x)-\\sin (5) \\sin (x)", "\\boxed{\\cos(x+5)}", 1],
    ["100000", "\\boxed{100,000}", 1],
    ["3 x", "\\boxed{y = 3x}", 1], // the part after the last `=`
    ["-5", "The determinant is -5", 1], // nothing extracted: the text ends with the gold
    ["-5", "The determinant is -5.", 1],
    ["-5", "The determinant is -5 indeed", 0],
    ["x", "\\boxed{}", 0], // nothing to parse
    ["x", "\\boxed{\\frac{1}{", 0],
  ];
  for (const [gold, text, score] of cases) {
    const r = scoreAmpsHard(gold, text);
    assert.equal(r.score, score, `${gold} vs ${text}: ${JSON.stringify(r)}`);
  }
  assert.equal(scoreAmpsHard("-5", "is -5").rule, "suffix");
  assert.equal(scoreAmpsHard("x", "\\boxed{}").check?.method, "parse_error");
});

Deno.test("latex: checks are bounded in time and the engine recovers", () => {
  const hung = latexEquivalent("x", "x", { timeoutMs: 200, simulateHang: true });
  assert.deepEqual([hung.equivalent, hung.method], [false, "timeout"]);
  assert.equal(hung.detail, "no verdict within 200 ms");
  const r = scoreAmpsHard("x", "\\boxed{x}", { timeoutMs: 200, simulateHang: true });
  assert.equal(r.score, 0);
  assert.equal(r.check?.method, "timeout");
  assert.equal(latexEquivalent("x", "x").equivalent, true); // a fresh worker answers
  // a running engine is reused: its start-up limit does not apply
  assert.equal(latexEquivalent("x", "x", { startupTimeoutMs: 0 }).equivalent, true);
  closeLatexEngine();
  const noEngine = latexEquivalent("x", "x", { startupTimeoutMs: 0 });
  assert.deepEqual([noEngine.equivalent, noEngine.method], [false, "engine_unavailable"]);
  assert.match(noEngine.detail ?? "", /did not load within 0 ms/);
  closeLatexEngine();
});

function example(task: string, subtask: string, groundTruth: string, turn = Q): Example {
  return {
    id: "q1",
    question: turn,
    answer: groundTruth,
    subtask: task,
    row: { subtask, ground_truth: groundTruth, turns: [turn], raw_question: turn },
  };
}

Deno.test("task: routing, answer text and details", () => {
  assert.equal(scorerFor("amc_12b_2023"), "math_contest");
  assert.equal(scorerFor("updated_amc_12a_2023"), "math_contest");
  assert.equal(scorerFor("smc_2023"), "math_contest");
  assert.equal(scorerFor("aime_2024_I"), "aime");
  assert.equal(scorerFor("imo_2023"), "olympiad");
  assert.equal(scorerFor("usamo_2023"), "olympiad");
  assert.equal(scorerFor("amps_hard_integral"), "amps_hard");
  assert.equal(scorerFor("spatial"), undefined);

  assert.equal(answerText("r", "1,2"), "r\n\nAnswer: 1,2");
  assert.equal(answerText("r  \n", "**Answer:** 1,2"), "r\n\n**Answer:** 1,2");
  assert.equal(answerText("<think>BBBBB</think>r", "A"), "r\n\nAnswer: A");

  const parse = (answer: string, reasoning = "work") =>
    livebenchMath.parse(JSON.stringify({ reasoning, answer, confidence: 0.5 }));
  const amc = example("math_comp", "amc_12a_2023", "B");
  const r = livebenchMath.score(amc, parse("BBBBB"), "");
  assert.deepEqual([r.score, r.full, r.impact], [1, true, 0]);
  assert.equal(r.details.subtask, "math_comp");
  assert.equal(r.details.rule, "letter_x4");
  assert.equal(r.details.extracted, "B");
  // the reasoning counts too (the concatenation): a repeat there scores
  assert.equal(livebenchMath.score(amc, parse("?", "BBBBB"), "").score, 1);

  const aime = example("math_comp", "aime_2024_I", "033");
  assert.equal(livebenchMath.score(aime, parse("033"), "").score, 1);
  assert.equal(livebenchMath.score(aime, parse("33"), "").score, 0);
  // the answer ends the text: a long reasoning cannot push it out of the window
  assert.equal(livebenchMath.score(aime, parse("033", "x".repeat(500)), "").score, 1);

  const oly = example("olympiad", "usamo_2023", "1,3,4,2");
  // an `answer:` in the reasoning does not hide the answer field
  const o = livebenchMath.score(oly, parse("1,3,4,2", "Draft answer: 2,1"), "");
  assert.deepEqual([o.score, o.details.rule, o.details.extracted], [1, "answer_line", "1,3,4,2"]);
  const half = livebenchMath.score(oly, parse("1,3,2,4"), "");
  assert.deepEqual([half.score, half.full, half.impact, half.details.distance], [
    0.5,
    false,
    0.5,
    2,
  ]);
  // where upstream raises, 0 with the reason
  const err = scoreLivebenchText(oly, "x²");
  assert.deepEqual([err.score, err.details.rule], [0, "error"]);
  assert.match(String(err.details.error), /int\('²'\)/);

  const amps = example("AMPS_Hard", "amps_hard_integral", "\\frac{x}{2}");
  const a = livebenchMath.score(amps, parse("$\\boxed{\\frac{1}{2}x+C}$"), "");
  assert.equal(a.score, 1);
  assert.equal((a.details.check as { method: string }).method, "canonical");

  const bad = livebenchMath.score(amc, livebenchMath.parse("not json"), "not json");
  assert.deepEqual([bad.score, bad.full, bad.impact], [0, false, 1]);
  assert.ok(bad.details.format_error);
  const unroutable = scoreLivebenchText(example("x", "spatial", "B"), "BBBBB");
  assert.equal(unroutable.details.error, "unroutable subtask");
  closeLatexEngine();
});

Deno.test("task: loads, renders the question verbatim with its format hint", async () => {
  const task = await getTask("livebench_math");
  assert.equal(task, livebenchMath);
  assert.equal(task.reasoningField, "reasoning");
  const train = await livebenchMath.load("train", { dataDir: DATA_DIR });
  assert.equal(train.length, 123);
  const first = train[0]!;
  assert.equal(first.id, first.row.question_id);
  assert.ok(train.every((e) => ["math_comp", "olympiad", "AMPS_Hard"].includes(e.subtask!)));
  for (const e of train.slice(0, 40)) {
    const user = livebenchMath.render(livebenchMath.seedPrompt, e).at(-1)!.content;
    // verbatim, at a line start (after the `Question: ` label)
    assert.ok(user.includes(`\nQuestion: ${e.question}`));
    const hint = e.row.answer_format_hint;
    if (typeof hint === "string") assert.ok(user.endsWith(`Answer format: ${hint}`));
    else assert.ok(!user.includes("Answer format:"));
  }
  assert.ok(train.some((e) => typeof e.row.answer_format_hint === "string"));
  const metrics = { score: 0.6, brier: 0.2 } as Parameters<
    typeof task.selectionScore
  >[0]["metrics"];
  assert.equal(
    task.selectionScore({ metrics, promptChars: 2000, brierWeight: 0.05 }),
    0.6 - 0.05 * 0.2 - 0.0025 * 2,
  );
});

Deno.test("task: each of the 368 gold answers, formatted as asked, scores 1 (one exception)", async () => {
  const examples = await allExamples();
  assert.equal(examples.length, 368);
  const misses: Example[] = [];
  for (const e of examples) {
    const raw = JSON.stringify({
      reasoning: "Step by step.",
      answer: perfectAnswer(e),
      confidence: 1,
    });
    if (livebenchMath.score(e, livebenchMath.parse(raw), raw).score !== 1) misses.push(e);
  }
  closeLatexEngine();
  // 367 / 368: the one gold that is not math (`\text{$\$$Aborted}`, an upstream generation
  // failure) cannot be parsed, by sympy upstream or here.
  assert.deepEqual(misses.map((e) => e.answer), ["\\text{$\\$$Aborted}"]);
});
