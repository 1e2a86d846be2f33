/**
 * LiveBench `AMPS_Hard` scoring, as upstream's `AMPS_Hard/utils.py` behaves: clean the
 * answer text (drop `+C`, `\left`, `\right`, `\dfrac` -> `\frac`, newlines, ...), take the
 * last `\boxed{}` or else the last `$...$` block, normalise it the Minerva way, and decide
 * equivalence with the gold expression; with nothing extracted, the text must end with
 * the gold string. Equivalence uses the Compute Engine in a time-bounded worker
 * ({@linkcode latexEquivalent}) where upstream uses sympy in a time-bounded process.
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";
import {
  lastBoxedOnlyString,
  type LatexCheck,
  type LatexCheckOptions,
  latexEquivalent,
  removeBoxed,
} from "./latex.ts";

/** An AMPS_Hard score with the rule that decided it, the extracted answer and the check. */
export interface AmpsScore {
  score: number;
  rule: "boxed" | "dollar_block" | "suffix" | "none";
  extracted?: string;
  gold: string;
  check?: LatexCheck;
}

/**
 * Normalises a final answer as upstream's `normalize_final_answer` (Lewkowycz et al.
 * 2022, appendix D): the part after the last `=`, the first `$...$` span, `\text{}`,
 * `\textbf{}`, `\overline{}`, `\boxed{}` unwrapped, `\fracab` -> `\frac{a}{b}`, `\sqrta` ->
 * `\sqrt{a}`, `$` removed, and commas dropped from a plain number.
 *
 * @example
 * ```ts
 * import { normalizeFinalAnswer } from "./amps_hard.ts";
 * if (normalizeFinalAnswer("y = \\frac12") !== " \\frac{1}{2}") throw new Error();
 * if (normalizeFinalAnswer("100,000") !== "100000") throw new Error();
 * ```
 */
export function normalizeFinalAnswer(finalAnswer: string): string {
  const parts = finalAnswer.split("=");
  let s = parts[parts.length - 1] ?? "";
  s = s.replace(/(.*?)(\$)(.*?)(\$)(.*)/g, "$$$3$$");
  s = s.replace(/(\\text\{)(.*?)(\})/g, "$2");
  s = s.replace(/(\\textbf\{)(.*?)(\})/g, "$2");
  s = s.replace(/(\\overline\{)(.*?)(\})/g, "$2");
  s = s.replace(/(\\boxed\{)(.*)(\})/g, "$2");
  s = s.replace(/(frac)([^{])(.)/g, "frac{$2}{$3}");
  s = s.replace(/(sqrt)([^{[])/g, "sqrt{$2}");
  s = s.replaceAll("$", "");
  const noCommas = s.replaceAll(",", "");
  // Python's isdigit() on a non-empty string of decimal digits.
  if (/^\p{Nd}+$/u.test(noCommas)) s = noCommas;
  return s;
}

const ANSWER_CLEANUPS: [string, string][] = [
  ["+C", ""],
  ["+ C", ""],
  ["+ c", ""],
  ["+c", ""],
  ["\\\\fbox{", "\\\\boxed{"], // upstream's literal: two backslashes
  ["\\dfrac", "\\frac"],
  ["\\tfrac", "\\frac"],
  ["\\left", ""],
  ["\\right", ""],
  ["\\bigl", ""],
  ["\\bigr", ""],
  ["\\Bigl", ""],
  ["\\Bigr", ""],
  ["\\,", ""],
  ["\\;", ""],
  ["\n", ""],
  ["\\cdot", "*"],
];

/** Upstream's clean-up of the gold answer before the comparison. */
export function cleanGold(gold: string): string {
  return gold.replaceAll("\\left", "").replaceAll("\\right", "").replaceAll(" ^", "^")
    .replaceAll("\\ ", "*");
}

/** Upstream's clean-up of the answer text before extraction. */
export function cleanAnswerText(text: string): string {
  return ANSWER_CLEANUPS.reduce((s, [from, to]) => s.replaceAll(from, to), text);
}

/**
 * The expression upstream compares: the last `\boxed{}`, else the last `$...$` (or
 * `$$...$$`) block, the part after its last `=`, normalised. Undefined when neither exists.
 * `text` must already be cleaned ({@linkcode cleanAnswerText}).
 */
export function extractAmpsAnswer(
  text: string,
): { rule: "boxed" | "dollar_block"; answer: string } | undefined {
  const boxed = lastBoxedOnlyString(text);
  if (boxed !== undefined) {
    const inner = removeBoxed(boxed);
    if (inner === undefined) throw new Error("AMPS_Hard: malformed \\boxed (upstream asserts)");
    return { rule: "boxed", answer: normalizeFinalAnswer(inner) };
  }
  const lines = text.split("\n");
  const lastLine = lines[lines.length - 1] ?? "";
  if (lastLine.split("$").length - 1 < 2) return undefined;
  let close = lastLine.lastIndexOf("$");
  if (lastLine[close - 1] === "$") close -= 1; // `$$...$$`
  const open = close === 0 ? -1 : lastLine.lastIndexOf("$", close - 1);
  let math = lastLine.slice(open + 1, close);
  if (math.includes("=")) {
    const parts = math.split("=");
    math = pyStrip(parts[parts.length - 1] ?? "");
  } else if (math.includes("\\quad \\text{or} \\quad")) {
    const parts = math.split("\\quad \\text{or} \\quad");
    math = pyStrip(parts[parts.length - 1] ?? "");
  }
  return { rule: "dollar_block", answer: normalizeFinalAnswer(math) };
}

/**
 * Scores an answer text against an AMPS_Hard gold expression.
 *
 * @example
 * ```ts
 * import { scoreAmpsHard } from "./amps_hard.ts";
 * import { closeLatexEngine } from "./latex.ts";
 * if (scoreAmpsHard("\\frac{x}{2}", "so $\\boxed{\\dfrac{1}{2}x + C}$").score !== 1) throw new Error();
 * closeLatexEngine();
 * ```
 */
export function scoreAmpsHard(
  gold: string,
  text: string,
  options: LatexCheckOptions = {},
): AmpsScore {
  const cleanedGold = cleanGold(gold);
  let cleaned = cleanAnswerText(text);
  const extracted = extractAmpsAnswer(cleaned);
  if (extracted !== undefined) {
    const check = latexEquivalent(cleanedGold, extracted.answer, options);
    return {
      score: check.equivalent ? 1 : 0,
      rule: extracted.rule,
      extracted: extracted.answer,
      gold: cleanedGold,
      check,
    };
  }
  if (cleaned.endsWith(".")) cleaned = cleaned.slice(0, -1);
  if (cleaned.endsWith(cleanedGold)) {
    return { score: 1, rule: "suffix", extracted: cleanedGold, gold: cleanedGold };
  }
  return { score: 0, rule: "none", gold: cleanedGold };
}
