/**
 * Hand-written LiveBench math scoring cases with the scores upstream's Python scorers give
 * them (LiveBench/LiveBench `process_results/math/`, run on these exact inputs to confirm
 * each expected value). Shared by `livebench_test.ts` and `livebench_bench.ts`.
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

/** `[gold, text, expected score, expected rule]` for olympiad proof rearrangement. */
export const OLYMPIAD_CASES: [string, string, number, string][] = [
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 3,5,1,2,4", 1, "answer_line"],
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 5,3,1,2,4", 0.6, "answer_line"], // one swap = 2 edits
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 3,5,1,2", 0.8, "answer_line"],
  ["3,5,1,2,4", "Reasoning\n\nAnswer: 3,5,1,2,4,6", 1 - 1 / 6, "answer_line"],
  ["3,5,1,2,4", "Answer: 3, 5, x, 2, 4", 0.8, "answer_line"],
  ["3,5,1,2,4", "Reasoning\n**Answer:** 3, 5, 1, 2, 4.", 1, "answer_line"],
  ["3,5,1,2,4", "Reasoning\nAnswer:\n3,5,1,2,4", 1, "answer_line"],
  [
    "3,5,1,2,4",
    "Answer: <expression 3>, <expression 5>, <expression 1>, <expression 2>, <expression 4>",
    1,
    "answer_line",
  ],
  ["3,5,1,2,4", "answer: 1,2,3,4,5\nlater\nFinal answer: 3,5,1,2,4", 1, "answer_line"],
  ["3,5,1,2,4", "Answer: 3, 5, 1 and more\nDone.", 0.4, "answer_line"],
  ["3,5,1,2,4", "Thus $\\boxed{3,5,1,2,4}$", 1, "boxed"],
  ["3,5,1,2,4", "The order is\n3, 5, 1, 2, 4", 1, "last_line"],
  ["3,5,1,2,4", "I think 3, 5, 1 then 2\nthat's all", 0.6, "after_last_answer"],
  ["3,5,1,2,4", "x², y\nno digits here", 0, "eval_error"], // int('²') raises upstream
  ["3,5,1,2,4", "x₂, y\nno digits here", 0, "after_last_answer"],
  ["3,5,1,2,4", "Answer: none\n\\boxed{x}", 0, "after_last_answer"],
  ["1,2,3,4", "Answer: 4,3,2,1", 0, "answer_line"],
  ["1,2,3,4", "Answer: 2,1,4,3", 0.25, "answer_line"], // 3 edits
  ["1,2,3,4", "Answer: 1,3,2,4", 0.5, "answer_line"],
  ["1,2,3,4", "Answer: 2,3,4,1", 0.5, "answer_line"], // rotation: delete 1 + insert 1
  ["1,2,3,4", "Answer: ١,2,3,4", 1, "answer_line"], // int() reads other scripts' digits
];

/**
 * `[gold, text, subtask, expected score, note]` for AMPS_Hard. `upstream` notes what
 * sympy decides; `llm` marks pairs where upstream's sympy is inconclusive and it would ask
 * an LLM, so the expected value is this project's documented deterministic choice.
 */
export const AMPS_CASES: [string, string, string, number, "upstream" | "llm"][] = [
  ["\\frac{1}{2} x", "so $\\boxed{x/2}$", "amps_hard_derivatives", 1, "upstream"],
  ["\\frac{x}{2}", "$\\boxed{\\dfrac{1}{2}x}$", "amps_hard_derivatives", 1, "upstream"],
  ["\\frac{8599}{56}", "\\boxed{\\frac{8599}{56}}", "amps_hard_variance", 1, "upstream"],
  ["\\frac{8599}{56}", "\\boxed{153.5536}", "amps_hard_variance", 1, "upstream"], // |diff| < 0.001
  ["\\frac{8599}{56}", "\\boxed{153.56}", "amps_hard_variance", 0, "llm"],
  ["\\frac{8599}{56}", "\\boxed{\\frac{8599}{57}}", "amps_hard_variance", 0, "llm"],
  ["e^{2 x}", "$\\boxed{e^{2x} + C}$", "amps_hard_integral", 1, "upstream"], // `+ C` removed
  ["e^{2 x}", "$\\boxed{e^{2x}+c}$", "amps_hard_integral", 1, "upstream"],
  ["e^{2 x}", "$\\boxed{e^{2x} + 7}$", "amps_hard_integral", 1, "llm"], // constant offset
  ["e^{2 x}", "$\\boxed{e^{2x} + 7}$", "amps_hard_derivatives", 0, "llm"],
  ["\\sin (x)", "$\\boxed{\\left(\\sin x\\right)}$", "amps_hard_integral", 1, "upstream"],
  [
    "13 \\left(x-\\frac{1}{2}\\right)^2-\\frac{37}{4}",
    "$\\boxed{13x^2 - 13x - 6}$",
    "amps_hard_complete_square",
    1,
    "upstream",
  ],
  ["-x^3+2 x+1", "$\\boxed{x^3-2x-1}$", "amps_hard_characteristic_polynomial", 1, "llm"],
  ["-x^3+2 x+1", "$\\boxed{x^3-2x-1}$", "amps_hard_derivatives", 0, "llm"],
  [
    "-x^3+2 x+1",
    "$\\boxed{-\\lambda^3+2\\lambda+1}$",
    "amps_hard_characteristic_polynomial",
    1,
    "llm",
  ],
  [
    "16\\ 2^{2/3} 5^{5/6}",
    "$\\boxed{16 \\cdot 2^{2/3} \\cdot 5^{5/6}}$",
    "amps_hard_geometric_mean",
    1,
    "llm",
  ],
  ["\\log (x)", "$\\boxed{\\ln x}$", "amps_hard_integral", 1, "upstream"],
  [
    "\\cos (5) \\cos (x)-\\sin (5) \\sin (x)",
    "\\boxed{\\cos(x+5)}",
    "amps_hard_integral",
    1,
    "upstream",
  ],
  ["x^2", "$\\boxed{2x}$", "amps_hard_integral", 0, "llm"],
  ["x^2", "The result is $f(x) = x^2$", "amps_hard_integral", 1, "upstream"], // last $...$, after `=`
  ["-5", "The determinant is -5.", "amps_hard_determinant", 1, "upstream"], // suffix rule
  ["-5", "The determinant is -5 indeed", "amps_hard_determinant", 0, "upstream"],
  ["112", "\\boxed{1,12}", "amps_hard_gcd", 1, "upstream"], // commas of a plain number dropped
  ["\\sqrt{7}", "\\boxed{\\sqrt7}", "amps_hard_std", 1, "upstream"], // `\sqrta` shorthand
  ["x", "\\boxedx{x}", "amps_hard_integral", 0, "upstream"], // remove_boxed assertion
  ["x", "\\boxed{}", "amps_hard_integral", 0, "llm"],
];
