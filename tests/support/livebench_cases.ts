/**
 * Hand-written LiveBench math scoring cases with the scores upstream's Python scorers give
 * them (LiveBench/LiveBench `process_results/math/`, run on these exact inputs to confirm
 * each expected value; olympiad's positional scores and AMPS_Hard also through the paper's
 * reference implementation's ports). Shared by `livebench_test.ts` and `livebench_bench.ts`.
 *
 * @module
 */

/** A multiple-choice question of our own, in LiveBench's option layout. */
export const MC_QUESTION = "What is $2+3$? $\\textbf{(A)}~4\\qquad\\textbf{(B)}~5\\qquad" +
  "\\textbf{(C) }6\\qquad\\textbf{(D) }\\frac{15}{2}\\qquad\\textbf{(E)}~8$ If you cannot " +
  "determine the correct multiple-choice answer, take your best guess. Once you have your " +
  "answer, please duplicate that letter five times in a single string. For example, if the " +
  "answer is F, then write FFFFF.";

/** `[gold, text, expected score, expected rule]` for AMC / SMC. */
export const MULTIPLE_CHOICE_CASES: [string, string, number, string][] = [
  ["B", "Thinking...\n\nBBBBB", 1, "repeated_letter"],
  ["B", "Thinking...\n\nBBBB", 1, "repeated_letter"], // four suffice upstream
  ["B", "Thinking...\n\nBBB", 0, "no_match"],
  ["B", "Thinking...\n\nbbbbb", 0, "no_match"], // the repeat check is case-sensitive
  ["B", "Not AAAAA; it is BBBB after all", 1, "repeated_letter"],
  ["B", "Final: AAAAA", 0, "no_match"],
  ["B", "So $\\boxed{B}$", 1, "boxed_letter"],
  ["B", "So $\\boxed{\\text{b}}$", 1, "boxed_letter"],
  ["B", "So \\fbox{B}", 1, "boxed_letter"],
  ["B", "So $\\boxed{\\textbf{(B)}}$", 1, "last_line"], // not a bare letter; `(B)` on the last line
  ["B", "So \\boxed{(B)} it is.\nDone", 0, "no_match"],
  ["B", "\\boxed{A} no wait\n\\boxed{B}", 1, "boxed_letter"],
  ["B", "\\boxed{B} no wait\n\\boxed{A}", 0, "no_match"],
  ["B", "\\boxedx{B}", 0, "eval_error"], // upstream's remove_boxed assertion
  ["B", "<solution>B</solution> and more text", 1, "solution_tag"],
  ["B", "<solution>bbbbb</solution>", 1, "solution_tag"],
  ["B", "<solution>AB</solution>", 0, "no_match"],
  ["B", "<solution>\nB</solution>", 0, "no_match"], // the tag must be on one line
  ["B", "Adding, the sum is 5.", 1, "option_value"],
  ["B", "The sum is 5, which we verify again carefully here.", 0, "no_match"],
  ["D", "Half of fifteen: \\frac{15}{2}", 1, "option_value"],
  ["B", "Reasoning\n**B**", 1, "last_line"],
  ["B", "Reasoning\n  b  ", 1, "last_line"],
  ["B", "Reasoning\nThe answer is (B) as shown", 1, "last_line"],
  ["B", "Reasoning\nAnswer: B", 0, "no_match"], // upstream gives no credit to this form
  ["B", "Reasoning\n(A) or (B)", 0, "no_match"], // only the first parenthesis counts
  ["F", "FFFFF", 0, "eval_error"], // gold must be A-E
];

/** `[gold, text, expected score]` for AIME. */
export const AIME_CASES: [string, string, number][] = [
  ["033", "so the answer is 033", 1],
  ["033", "so the answer is 33", 0],
  ["33", "so the answer is 033", 1], // substring
  ["480", "The answer is 480. " + "x".repeat(46), 0],
  ["480", "The answer is 480. " + "x".repeat(45), 1],
  ["480", "The answer is 480. " + "x".repeat(30), 1],
  ["480", "14801", 1],
  ["480", "480" + "😀".repeat(47), 1], // 50 code points: Python counts characters
  ["480", "480" + "😀".repeat(48), 0],
  ["480", "<solution>480</solution>" + "y".repeat(60), 0],
];

/**
 * `[gold, text, expected score, expected rule, expected positional score]` for olympiad
 * proof rearrangement: the score by edit distance (upstream's judge) and by the positional
 * rule (upstream's `edit_distance=False` path, which the reference implementation uses; its
 * port run on these inputs gives the same values).
 */
export const OLYMPIAD_CASES: [string, string, number, string, number][] = [
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 3,5,1,2,4", 1, "answer_line", 1],
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 5,3,1,2,4", 0.6, "answer_line", 0.6], // one swap = 2 edits
  // Positional: a short list is not penalised for what it leaves out.
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 3,5,1,2", 0.8, "answer_line", 1],
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 3,5,1,2,4,6", 1 - 1 / 6, "answer_line", 5 / 6],
  ["3,5,1,2,4", "Answer: 3, 5, x, 2, 4", 0.8, "answer_line", 0.8],
  ["3,5,1,2,4", "Reasoning\n**Answer:** 3, 5, 1, 2, 4.", 1, "answer_line", 1],
  ["3,5,1,2,4", "Reasoning\nAnswer:\n3,5,1,2,4", 1, "answer_line", 1],
  [
    "3,5,1,2,4",
    "Answer: <expression 3>, <expression 5>, <expression 1>, <expression 2>, <expression 4>",
    1,
    "answer_line",
    1,
  ],
  ["3,5,1,2,4", "answer: 1,2,3,4,5\nlater\nFinal answer: 3,5,1,2,4", 1, "answer_line", 1],
  ["3,5,1,2,4", "Answer: 3, 5, 1 and more\nDone.", 0.4, "answer_line", 2 / 3],
  ["3,5,1,2,4", "Thus $\\boxed{3,5,1,2,4}$", 1, "boxed", 1],
  ["3,5,1,2,4", "The order is\n3, 5, 1, 2, 4", 1, "last_line", 1],
  ["3,5,1,2,4", "I think 3, 5, 1 then 2\nthat's all", 0.6, "after_last_answer", 1],
  ["3,5,1,2,4", "x², y\nno digits here", 0, "eval_error", 0], // int('²') raises upstream
  ["3,5,1,2,4", "x₂, y\nno digits here", 0, "after_last_answer", 0],
  ["3,5,1,2,4", "Answer: none\n\\boxed{x}", 0, "after_last_answer", 0],
  ["1,2,3,4", "Answer: 4,3,2,1", 0, "answer_line", 0],
  ["1,2,3,4", "Answer: 2,1,4,3", 0.25, "answer_line", 0], // 3 edits; no position right
  ["1,2,3,4", "Answer: 1,3,2,4", 0.5, "answer_line", 0.5],
  ["1,2,3,4", "Answer: 2,3,4,1", 0.5, "answer_line", 0], // rotation: delete 1 + insert 1
  ["1,2,3,4", "Answer: ١,2,3,4", 1, "answer_line", 1], // int() reads other scripts' digits
];

/**
 * `[gold, text, subtask, expected score, basis]` for AMPS_Hard. The expected scores are the
 * pre-judge rule (upstream's `amps_hard_process_results` at 0bb20e3, before its LLM judge),
 * which the paper's reference implementation ports; `both` marks cases where that upstream
 * version and the reference's port (run with sympy 1.14 on these inputs) give this score,
 * `reference` cases where only the reference's port does (its explicit-multiplication
 * rewrite parses `2^{a} 5^{b}`, which that sympy's parser does not). An upstream exception
 * counts as 0, as its judge scores it. The subtask is informative only: no subtask is scored
 * leniently.
 */
export const AMPS_CASES: [string, string, string, number, "both" | "reference"][] = [
  ["\\frac{1}{2} x", "so $\\boxed{x/2}$", "amps_hard_derivatives", 1, "both"],
  ["\\frac{x}{2}", "$\\boxed{\\dfrac{1}{2}x}$", "amps_hard_derivatives", 1, "both"],
  ["\\frac{8599}{56}", "\\boxed{\\frac{8599}{56}}", "amps_hard_variance", 1, "both"],
  ["\\frac{8599}{56}", "\\boxed{153.5536}", "amps_hard_variance", 1, "both"], // |diff| < 0.001
  ["\\frac{8599}{56}", "\\boxed{153.56}", "amps_hard_variance", 0, "both"],
  ["\\frac{8599}{56}", "\\boxed{\\frac{8599}{57}}", "amps_hard_variance", 0, "both"],
  ["e^{2 x}", "$\\boxed{e^{2x} + C}$", "amps_hard_integral", 1, "both"], // `+ C` removed
  ["e^{2 x}", "$\\boxed{e^{2x}+c}$", "amps_hard_integral", 1, "both"],
  ["e^{2 x}", "$\\boxed{e^{2x} + 7}$", "amps_hard_integral", 0, "both"], // constant offset
  ["e^{2 x}", "$\\boxed{e^{2x} + 7}$", "amps_hard_derivatives", 0, "both"],
  ["e^{2 x}", "$\\boxed{e^{2x} + K}$", "amps_hard_integral", 0, "both"], // another constant name
  ["e^{2 x}", "$\\boxed{e^{2x} +\\, C}$", "amps_hard_integral", 0, "both"], // `\,` goes after `+C`
  ["\\frac{x^3}{3}", "$\\boxed{\\frac{x^3}{3} + C_1}$", "amps_hard_integral", 0, "both"],
  // Equal up to a constant (sin^2 = 1 - cos^2), which is not equal.
  [
    "-\\frac{1}{2} \\cos ^2(x)",
    "$\\boxed{\\frac{1}{2}\\sin^2(x)}$",
    "amps_hard_integral",
    0,
    "both",
  ],
  ["x^2", "$\\boxed{x^2 + 0.0005}$", "amps_hard_integral", 1, "both"], // a constant below 0.001
  ["x^2", "$\\boxed{x^2 + 0.002}$", "amps_hard_integral", 0, "both"],
  ["\\sin (x)", "$\\boxed{\\left(\\sin x\\right)}$", "amps_hard_integral", 1, "both"],
  [
    "13 \\left(x-\\frac{1}{2}\\right)^2-\\frac{37}{4}",
    "$\\boxed{13x^2 - 13x - 6}$",
    "amps_hard_complete_square",
    1,
    "both",
  ],
  ["-x^3+2 x+1", "$\\boxed{x^3-2x-1}$", "amps_hard_characteristic_polynomial", 0, "both"], // negated
  ["-x^3+2 x+1", "$\\boxed{x^3-2x-1}$", "amps_hard_derivatives", 0, "both"],
  ["-x^3+2 x+1", "$\\boxed{-x^3+2x+1}$", "amps_hard_characteristic_polynomial", 1, "both"],
  [
    "-x^3+2 x+1",
    "$\\boxed{-\\lambda^3+2\\lambda+1}$",
    "amps_hard_characteristic_polynomial",
    0, // another variable
    "both",
  ],
  [
    "16\\ 2^{2/3} 5^{5/6}",
    "$\\boxed{16 \\cdot 2^{2/3} \\cdot 5^{5/6}}$",
    "amps_hard_geometric_mean",
    1,
    "reference",
  ],
  ["\\log (x)", "$\\boxed{\\ln x}$", "amps_hard_integral", 1, "both"],
  [
    "\\cos (5) \\cos (x)-\\sin (5) \\sin (x)",
    "\\boxed{\\cos(x+5)}",
    "amps_hard_integral",
    1,
    "both",
  ],
  ["x^2", "$\\boxed{2x}$", "amps_hard_integral", 0, "both"],
  ["x^2", "The result is $f(x) = x^2$", "amps_hard_integral", 1, "both"], // last $...$, after `=`
  ["-5", "The determinant is -5.", "amps_hard_determinant", 1, "both"], // suffix rule
  ["-5", "The determinant is -5 indeed", "amps_hard_determinant", 0, "both"],
  ["112", "\\boxed{1,12}", "amps_hard_gcd", 1, "both"], // commas of a plain number dropped
  ["\\sqrt{7}", "\\boxed{\\sqrt7}", "amps_hard_std", 1, "both"], // `\sqrta` shorthand
  ["x", "\\boxedx{x}", "amps_hard_integral", 0, "both"], // remove_boxed assertion
  ["x", "\\boxed{}", "amps_hard_integral", 0, "both"],
];
