/**
 * LiveBench `math_comp` scoring, as the current upstream `math_competitions/utils.py` behaves
 * (the version with the `<solution>` and last-line rules and AIME's 50-character window):
 * AMC / SMC multiple choice (`mathcontest_process_results`) and AIME
 * (`aime_process_results`). Each returns 0 or 1 and names the rule that fired.
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";
import { lastBoxedOnlyString, removeBoxed } from "./latex.ts";

/** A 0/1 score with the rule that decided it and the answer it extracted, if any. */
export interface RuleScore {
  score: number;
  rule: string;
  extracted?: string;
}

/**
 * Upstream's `extract_answer`: the text of option `letter` in a question's
 * `\textbf{(X)} value \qquad ...` list (the last listing of that letter wins), stripped
 * of whitespace, then `$`, then `~`; `FAILURE` when absent or empty.
 *
 * @example
 * ```ts
 * import { optionValue } from "./math_comp.ts";
 * const q = "$\\textbf{(A)}~45\\qquad\\textbf{(B)}~30$";
 * if (optionValue(q, "B") !== "30" || optionValue(q, "E") !== "FAILURE") throw new Error();
 * ```
 */
export function optionValue(questionText: string, letter: string): string {
  const answers = new Map<string, string>();
  for (const m of questionText.matchAll(/\\textbf\{\(([A-E])\)\s?\}([^\n]*?)(?:\\qquad|\$)/g)) {
    answers.set(m[1] ?? "", pyStrip(m[2] ?? ""));
  }
  const answer = answers.get(letter);
  if (answer === undefined || answer === "") return "FAILURE";
  return stripChars(stripChars(pyStrip(answer), "$"), "~");
}

function stripChars(text: string, ch: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === ch) start++;
  while (end > start && text[end - 1] === ch) end--;
  return text.slice(start, end);
}

/**
 * Scores an AMC / SMC answer text against the gold letter (`A`-`E`). Rules, in upstream's
 * order; the first that gives 1 is reported:
 * 1. `solution_tag`: the last `<solution>...</solution>` (on one line) holds one
 *    character repeated, equal to the gold letter ignoring case;
 * 2. `letter_x4`: the gold letter four times in a row anywhere (`AAAA`, so the requested
 *    `AAAAA` too; case-sensitive; another letter repeated does not count against it);
 * 3. `boxed`: the last `\boxed{}` without `\text{`, `}` and `\`, lower-cased, is the letter;
 * 4. `option_value`: the gold option's value occurs in the last 20 + its length characters;
 * 5. `last_line`: the last line without `*` and surrounding whitespace is the letter (any
 *    case), else `last_line_parenthetical`: the text between its first `(` and the next `)` is.
 * Throws, as upstream, when the gold is not one capital letter A-E, or when the last
 * `\boxed` is malformed (upstream's assertion).
 *
 * @example
 * ```ts
 * import { scoreMathContest } from "./math_comp.ts";
 * if (scoreMathContest("C", "so CCCC", "").score !== 1) throw new Error();
 * if (scoreMathContest("C", "\\boxed{\\text{(C)}} I pick\nDone", "").score !== 0) throw new Error();
 * ```
 */
export function scoreMathContest(gold: string, text: string, questionText: string): RuleScore {
  if (!/^[A-E]$/.test(gold)) {
    throw new Error(`math_comp: gold answer must be one capital letter A-E, got '${gold}'`);
  }
  const solutions = [...text.matchAll(/<solution>([^\n]*?)<\/solution>/g)];
  const lastSolution = solutions[solutions.length - 1]?.[1];
  if (lastSolution !== undefined) {
    const chars = new Set(lastSolution);
    const only = [...chars][0];
    if (chars.size === 1 && only?.toLowerCase() === gold.toLowerCase()) {
      return { score: 1, rule: "solution_tag", extracted: lastSolution };
    }
  }
  if (text.includes(gold.repeat(4))) return { score: 1, rule: "letter_x4", extracted: gold };
  // Upstream's literal: two backslashes before fbox (as in a JSON-escaped text). The later
  // rules see the replaced text, as upstream's do.
  text = text.replaceAll("\\\\fbox{", "\\\\boxed{");
  const boxed = lastBoxedOnlyString(text);
  let extracted: string | undefined;
  if (boxed !== undefined) {
    const inner = removeBoxed(boxed);
    if (inner === undefined) throw new Error("math_comp: malformed \\boxed (upstream asserts)");
    const letter = inner.replaceAll("\\text{", "").replaceAll("}", "").replaceAll("\\", "")
      .toLowerCase();
    if (/^[a-e]$/.test(letter)) extracted = letter;
    if (extracted === gold.toLowerCase()) return { score: 1, rule: "boxed", extracted };
  }
  const value = optionValue(questionText, gold);
  if (lastChars(text, 20 + [...value].length).includes(value)) {
    return { score: 1, rule: "option_value", extracted: value };
  }
  const lines = pyStrip(text).split("\n");
  const lastLine = lines[lines.length - 1] ?? "";
  const bare = pyStrip(lastLine).replaceAll("*", "").toLowerCase();
  if (bare === gold.toLowerCase()) return { score: 1, rule: "last_line", extracted: bare };
  if (lastLine.includes("(") && lastLine.includes(")")) {
    const inParens = (lastLine.split("(")[1] ?? "").split(")")[0] ?? "";
    if (inParens.toLowerCase() === gold.toLowerCase()) {
      return { score: 1, rule: "last_line_parenthetical", extracted: inParens };
    }
  }
  return { score: 0, rule: "none", extracted: extracted ?? lastLetterRun(text) };
}

// For details only (upstream's debug output): the last letter written four times.
function lastLetterRun(text: string): string | undefined {
  let found: string | undefined;
  for (const letter of "ABCDEF") if (text.includes(letter.repeat(4))) found = letter;
  return found;
}

/**
 * Scores an AIME answer: 1 when the gold string occurs in the last 50 characters. The gold
 * is compared as a string, so with gold `033` the answer `33` scores 0, while with gold
 * `33` the answer `033` scores 1 (it contains `33`).
 *
 * @example
 * ```ts
 * import { scoreAime } from "./math_comp.ts";
 * if (scoreAime("033", "The answer is 033").score !== 1) throw new Error();
 * if (scoreAime("033", "The answer is 33").score !== 0) throw new Error();
 * ```
 */
export function scoreAime(gold: string, text: string): RuleScore {
  const tail = lastChars(text, 50);
  return tail.includes(gold)
    ? { score: 1, rule: "aime_last_50", extracted: gold }
    : { score: 0, rule: "none", extracted: /(\d+)\D*$/.exec(tail)?.[1] };
}

/** Python's `text[-n:]`: the last `n` code points (a JS slice would count UTF-16 units). */
export function lastChars(text: string, n: number): string {
  const points = [...text];
  return points.length <= n ? text : points.slice(points.length - n).join("");
}
