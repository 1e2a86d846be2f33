/**
 * LiveBench `AMPS_Hard` scoring, ported from upstream's `AMPS_Hard/utils.py`
 * (`amps_hard_process_results`, after Minerva's `normalize_final_answer`) as it was before
 * upstream added an LLM judge (2025-08-05): the version the paper's reference
 * implementation ports and scores with.
 *
 * Steps, as upstream:
 * 1. The answer text is cleaned: the literal spellings `+C` / `+ C` / `+c` / `+ c` removed
 *    (integration constants; the only `+ C` handling), `\dfrac` / `\tfrac` to `\frac`,
 *    `\left` `\right` `\bigl` `\bigr` `\Bigl` `\Bigr` `\,` `\;` and newlines removed,
 *    `\cdot` to `*`. The gold loses `\left` / `\right`, `" ^"` becomes `^` and `\ `
 *    becomes `*`.
 * 2. The answer is the last `\boxed{}` (rule `boxed`), else the last `$...$` (after its
 *    last `=`, rule `dollar`), normalized; with neither, the text must end with the gold
 *    string exactly (a final `.` ignored; rule `suffix`).
 * 3. Equivalence: upstream asks sympy whether `simplify(gold - answer) == 0`, or whether
 *    the difference is a constant below 0.001 in absolute value; nothing else. So, as
 *    upstream and the reference score it, an antiderivative that differs from the gold by a
 *    constant is wrong (the question's "can vary by a constant" notwithstanding), any other
 *    spelling of the constant (`+ K`, `+\, C`, whose `\,` is removed only after the `+C`
 *    removal ran) is a variable the gold lacks and makes the answer wrong, a negated
 *    characteristic polynomial is wrong, and so is a polynomial in `\lambda` for one in `x`.
 *
 * The comparison runs on the Cortex compute engine instead of sympy: identical strings;
 * else the engine's canonical forms; else values at fixed sample points (see
 * `latex_protocol.ts`), which accept what sympy's `simplify` would prove equal and, in rare
 * cases, identities it would not; when an expression does not parse at all, a textual
 * comparison (`\text{}`, `$`, braces, spaces and backslashes ignored) where upstream would
 * score 0. Each engine comparison is bounded in time; a timeout scores 0.
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";
import { lastBoxedOnlyString, removeBoxed } from "./boxed.ts";
import { type LatexChecker, sharedLatexChecker } from "./latex.ts";
import type { LatexMethod } from "./latex_protocol.ts";
import { codePointLength, isPyDigit, lastCodePoints, UpstreamEvalError } from "./py.ts";

/** An AMPS_Hard verdict (0 or 1) with how the answer was found and compared. */
export interface AmpsScore {
  score: number;
  /** How the answer was extracted: `boxed`, `dollar`, `suffix`; or `no_answer`, `eval_error`. */
  rule: "boxed" | "dollar" | "suffix" | "no_answer" | "eval_error";
  /** The normalized extracted answer. */
  extracted?: string;
  /** How the comparison decided. */
  method?: LatexMethod | "string_equal" | "text_equal";
  /** Detail from the comparison, or upstream's exception. */
  detail?: string;
}

/** Options for {@linkcode scoreAmpsHard}. */
export interface AmpsOptions {
  /** The checker to compare with (default: the shared one). */
  checker?: LatexChecker;
}

const TEXT_REPLACEMENTS: [string, string][] = [
  ["+C", ""],
  ["+ C", ""],
  ["+ c", ""],
  ["+c", ""],
  ["\\\\fbox{", "\\\\boxed{"],
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

/**
 * Upstream's clean-up of the whole answer text before extraction.
 *
 * @example
 * ```ts
 * import { cleanAmpsText } from "./amps_hard.ts";
 * if (cleanAmpsText("\\left(\\dfrac{x}{2}\\right) + C\n") !== "(\\frac{x}{2}) ") throw new Error();
 * ```
 */
export function cleanAmpsText(text: string): string {
  return TEXT_REPLACEMENTS.reduce((s, [from, to]) => s.replaceAll(from, to), text);
}

/**
 * Upstream's clean-up of the gold answer.
 *
 * @example
 * ```ts
 * import { cleanAmpsGold } from "./amps_hard.ts";
 * if (cleanAmpsGold("16\\ 2^{2/3} \\left(x\\right) ^2") !== "16*2^{2/3} (x)^2") throw new Error();
 * ```
 */
export function cleanAmpsGold(gold: string): string {
  return gold.replaceAll("\\left", "").replaceAll("\\right", "").replaceAll(" ^", "^")
    .replaceAll("\\ ", "*");
}

function isPyDigitString(s: string): boolean {
  return s !== "" && [...s].every(isPyDigit);
}

/**
 * Minerva's `normalize_final_answer` as upstream uses it: the part after the last `=`;
 * the first `$...$` span; `\text{}`, `\textbf{}`, `\overline{}`, `\boxed{}` unwrapped;
 * `\fracab` to `\frac{a}{b}` and `\sqrta` to `\sqrt{a}`; `$` dropped; `100,000` to `100000`.
 *
 * @example
 * ```ts
 * import { normalizeFinalAnswer } from "./amps_hard.ts";
 * if (normalizeFinalAnswer("y = \\frac12 + \\sqrt3") !== " \\frac{1}{2} + \\sqrt{3}") throw new Error();
 * if (normalizeFinalAnswer("\\text{1,000}") !== "1000") throw new Error();
 * ```
 */
export function normalizeFinalAnswer(answer: string): string {
  const parts = answer.split("=");
  let s = parts[parts.length - 1] ?? "";
  // Python's `.` does not match "\n"; `[^\n]` says the same in JavaScript.
  s = s.replace(/([^\n]*?)(\$)([^\n]*?)(\$)([^\n]*)/g, (_m, _a, _b, inner: string) => `$${inner}$`);
  s = s.replace(/(\\text\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\textbf\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\overline\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\boxed\{)([^\n]*)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(frac)([^{])([^\n])/g, (_m, _f, a: string, b: string) => `frac{${a}}{${b}}`);
  s = s.replace(/(sqrt)([^{[])/g, (_m, _f, a: string) => `sqrt{${a}}`);
  s = s.replaceAll("$", "");
  if (isPyDigitString(s.replaceAll(",", ""))) s = s.replaceAll(",", "");
  return s;
}

/** The extracted answer and the rule that found it. */
export interface AmpsExtraction {
  /** The normalized answer; undefined when neither a box nor a `$...$` span was found. */
  answer?: string;
  rule: "boxed" | "dollar" | "none";
}

/**
 * Upstream's extraction from the cleaned text (see {@linkcode cleanAmpsText}). Throws
 * {@linkcode UpstreamEvalError} where upstream's `remove_boxed` asserts.
 *
 * @example
 * ```ts
 * import { extractAmpsAnswer } from "./amps_hard.ts";
 * if (extractAmpsAnswer("so $\\boxed{x^2}$.").answer !== "x^2") throw new Error();
 * if (extractAmpsAnswer("so $f'(x) = 2x$").answer !== "2x") throw new Error();
 * ```
 */
export function extractAmpsAnswer(cleaned: string): AmpsExtraction {
  const lastBoxed = lastBoxedOnlyString(cleaned);
  if (lastBoxed !== undefined && lastBoxed !== "") {
    return { answer: normalizeFinalAnswer(removeBoxed(lastBoxed)), rule: "boxed" };
  }
  const lines = cleaned.split("\n");
  const lastLine = lines[lines.length - 1] ?? "";
  if ([...lastLine].filter((c) => c === "$").length < 2) return { rule: "none" };
  let close = lastLine.lastIndexOf("$");
  // `$$...$$` blocks: step inside the closing pair.
  if (lastLine.at(close - 1) === "$") close--;
  const open = close <= 0 ? -1 : lastLine.lastIndexOf("$", close - 1);
  let math = lastLine.slice(open + 1, close);
  const or = "\\quad \\text{or} \\quad";
  if (math.includes("=")) math = pyStripLast(math.split("="));
  else if (math.includes(or)) math = pyStripLast(math.split(or));
  return { answer: normalizeFinalAnswer(math), rule: "dollar" };
}

function pyStripLast(parts: string[]): string {
  return pyStrip(parts[parts.length - 1] ?? "");
}

// For expressions the engine cannot read at all: the text with wrappers and spacing gone.
function textual(s: string): string {
  return s.replace(/\\(?:text|mathrm|textbf|mbox)\{/g, "").replace(/[\s${}\\]/g, "");
}

/**
 * Scores an AMPS_Hard answer text against the gold LaTeX answer.
 *
 * @example
 * ```ts
 * import { scoreAmpsHard } from "./amps_hard.ts";
 * import { closeSharedLatexChecker } from "./latex.ts";
 * try {
 *   const r = scoreAmpsHard("\\frac{8599}{56}", "... $\\boxed{\\dfrac{8599}{56}}$");
 *   if (r.score !== 1 || r.rule !== "boxed") throw new Error(JSON.stringify(r));
 * } finally {
 *   await closeSharedLatexChecker();
 * }
 * ```
 */
export function scoreAmpsHard(gold: string, text: string, options: AmpsOptions = {}): AmpsScore {
  const cleanedGold = cleanAmpsGold(gold);
  const cleaned = cleanAmpsText(text);
  let extraction: AmpsExtraction;
  try {
    extraction = extractAmpsAnswer(cleaned);
  } catch (error) {
    if (error instanceof UpstreamEvalError) {
      return { score: 0, rule: "eval_error", detail: error.message };
    }
    throw error;
  }
  const answer = extraction.answer;
  if (answer === undefined || extraction.rule === "none") {
    const tail = cleaned.endsWith(".") ? cleaned.slice(0, -1) : cleaned;
    const suffix = lastCodePoints(tail, codePointLength(cleanedGold));
    return suffix === cleanedGold && cleanedGold !== ""
      ? { score: 1, rule: "suffix", extracted: suffix, method: "string_equal" }
      : { score: 0, rule: "no_answer" };
  }
  const rule = extraction.rule;
  if (answer === cleanedGold) return { score: 1, rule, extracted: answer, method: "string_equal" };
  const checker = options.checker ?? sharedLatexChecker();
  const verdict = checker.check(cleanedGold, answer);
  if (verdict.equivalent) {
    return { score: 1, rule, extracted: answer, method: verdict.method, detail: verdict.detail };
  }
  if (
    verdict.method === "parse_error" && textual(answer) !== "" &&
    textual(answer) === textual(cleanedGold)
  ) {
    return { score: 1, rule, extracted: answer, method: "text_equal" };
  }
  return {
    score: 0,
    rule,
    extracted: answer,
    method: verdict.method,
    ...(verdict.detail !== undefined ? { detail: verdict.detail } : {}),
  };
}
