/**
 * LiveBench `math_comp` scoring, ported from upstream's `math_competitions/utils.py`:
 * AMC / SMC multiple choice (`mathcontest_process_results`) and AIME
 * (`aime_process_results`). Scores are 0 or 1; the result names the rule that fired first,
 * in upstream's order, and the answer it extracted when there is one.
 *
 * Multiple choice, in order (later rules run only while the score is 0):
 * 1. `solution_tag`: the last `<solution>...</solution>` on one line holds one character,
 *    repeated or not, equal to the gold letter (any case).
 * 2. `repeated_letter`: the gold letter four times in a row anywhere (`AAAA`; the prompt
 *    asks for five, upstream checks four, so `AAAAA` and `AAAA` both count).
 * 3. `boxed_letter`: the last `\boxed{}` holds the letter (`\text{}` and backslashes
 *    dropped, any case).
 * 4. `option_value`: the gold option's value from the question text appears in the last
 *    `20 + len(value)` characters.
 * 5. `last_line`: the last line is the letter (asterisks dropped), or its first `(...)` is.
 *
 * AIME: `solution_tag` (same rule; it can only match one-character answers), then
 * `last_50_chars`: the gold string anywhere in the last 50 characters, as a substring. So
 * gold `033` is found in `... 033` but not in `... 33`, while a gold `33` would be found in
 * both.
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";
import { lastBoxedOnlyString, removeBoxed } from "./boxed.ts";
import { lastCodePoints, UpstreamEvalError } from "./py.ts";

/** A 0/1 verdict with the rule that decided it and the answer it extracted, if any. */
export interface MathCompScore {
  /** 1 or 0. */
  score: number;
  /** The rule that gave the point, or why none did (`no_match`, `eval_error`). */
  rule: string;
  /** The extracted answer, when a rule extracts one. */
  extracted?: string;
  /** Upstream's exception, when it would raise (the answer then scores 0). */
  error?: string;
}

/** Which scorer upstream picks for a `math_comp` subtask name. */
export type MathCompKind = "multiple_choice" | "aime";

/**
 * Upstream's choice of scorer from the subtask name: `amc_*`, `smc*`, `*_amc_*` are
 * multiple choice; `aime*` is AIME; anything else is not a `math_comp` subtask.
 *
 * @example
 * ```ts
 * import { mathCompKind } from "./math_comp.ts";
 * if (mathCompKind("updated_amc_12a_2023") !== "multiple_choice") throw new Error();
 * if (mathCompKind("aime_ii_2024") !== "aime" || mathCompKind("imo") !== undefined) throw new Error();
 * ```
 */
export function mathCompKind(subtask: string): MathCompKind | undefined {
  const parts = subtask.split("_");
  if (parts[0] === "amc" || parts[0] === "smc" || parts[1] === "amc") return "multiple_choice";
  if (parts[0] === "aime") return "aime";
  return undefined;
}

// Python's `.` in `re` matches anything but "\n" (JavaScript's also refuses "\r", U+2028/9).
const SOLUTION_TAG = /<solution>([^\n]*?)<\/solution>/g;
const OPTION = /\\textbf\{\(([A-E])\)\s?\}([^\n]*?)(?:\\qquad|\$)/g;

function solutionTagMatches(text: string, gold: string): boolean {
  const matches = [...text.matchAll(SOLUTION_TAG)];
  const last = matches[matches.length - 1];
  if (last === undefined) return false;
  const chars = new Set(last[1] ?? "");
  if (chars.size !== 1) return false;
  const [only] = chars;
  return only?.toLowerCase() === gold.toLowerCase();
}

/**
 * Upstream's `extract_answer`: the value of option `letter` in the question's
 * `\textbf{(X)} value \qquad` list (a later listing of the same letter wins), stripped of
 * whitespace, then `$`, then `~`; `FAILURE` when the letter is not listed.
 *
 * @example
 * ```ts
 * import { optionValue } from "./math_comp.ts";
 * const q = "$\\textbf{(A)}~45\\qquad\\textbf{(B) }30$";
 * if (optionValue(q, "A") !== "45" || optionValue(q, "B") !== "30") throw new Error();
 * if (optionValue(q, "E") !== "FAILURE") throw new Error();
 * ```
 */
export function optionValue(questionText: string, letter: string): string {
  const answers = new Map<string, string>();
  for (const m of questionText.matchAll(OPTION)) answers.set(m[1] ?? "", pyStrip(m[2] ?? ""));
  const answer = answers.get(letter);
  const value = answer === undefined || answer === "" ? "FAILURE" : answer;
  return stripAll(stripAll(pyStrip(value), "$"), "~");
}

function stripAll(text: string, ch: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === ch) start++;
  while (end > start && text[end - 1] === ch) end--;
  return text.slice(start, end);
}

/**
 * Scores an AMC / SMC answer text against the gold letter. `questionText` is the question
 * as upstream sees it (`turns[0]`, with its options), used by the `option_value` rule.
 * A gold that is not one letter A-E scores 0 with rule `eval_error`, as upstream raises.
 *
 * @example
 * ```ts
 * import { scoreMultipleChoice } from "./math_comp.ts";
 * if (scoreMultipleChoice("B", "so the answer is BBBB", "").rule !== "repeated_letter") throw new Error();
 * if (scoreMultipleChoice("B", "Answer: $\\boxed{\\text{B}}$", "").rule !== "boxed_letter") throw new Error();
 * if (scoreMultipleChoice("B", "I pick AAAAA", "").score !== 0) throw new Error();
 * ```
 */
export function scoreMultipleChoice(
  gold: string,
  text: string,
  questionText: string,
): MathCompScore {
  if (!/^[A-E]$/.test(gold)) {
    return {
      score: 0,
      rule: "eval_error",
      error: "ValueError: amc_answer must be a single capital letter between A and E.",
    };
  }
  if (solutionTagMatches(text, gold)) return { score: 1, rule: "solution_tag", extracted: gold };
  if (text.includes(gold.repeat(4))) {
    return { score: 1, rule: "repeated_letter", extracted: gold.repeat(4) };
  }
  // Upstream rewrites a doubly escaped `\\fbox{` (two backslashes) only, and keeps the
  // rewritten text for the later rules.
  const answer = text.replaceAll("\\\\fbox{", "\\\\boxed{");
  let boxedLetter: string | undefined;
  const lastBoxed = lastBoxedOnlyString(answer);
  if (lastBoxed !== undefined) {
    let content: string;
    try {
      content = removeBoxed(lastBoxed);
    } catch (error) {
      if (error instanceof UpstreamEvalError) {
        return { score: 0, rule: "eval_error", error: error.message };
      }
      throw error;
    }
    const letter = content.replaceAll("\\text{", "").replaceAll("}", "").replaceAll("\\", "")
      .toLowerCase();
    if (["a", "b", "c", "d", "e"].includes(letter)) boxedLetter = letter;
    if (boxedLetter === gold.toLowerCase()) {
      return { score: 1, rule: "boxed_letter", extracted: boxedLetter.toUpperCase() };
    }
  }
  const value = optionValue(questionText, gold);
  if (lastCodePoints(answer, 20 + [...value].length).includes(value)) {
    return { score: 1, rule: "option_value", extracted: value };
  }
  const lines = pyStrip(answer).split("\n");
  const lastLine = lines[lines.length - 1] ?? "";
  const bare = pyStrip(lastLine).replaceAll("*", "").toLowerCase();
  if (bare === gold.toLowerCase()) return { score: 1, rule: "last_line", extracted: bare };
  if (lastLine.includes("(") && lastLine.includes(")")) {
    const inParens = (lastLine.split("(")[1] ?? "").split(")")[0] ?? "";
    if (inParens.toLowerCase() === gold.toLowerCase()) {
      return { score: 1, rule: "last_line", extracted: inParens };
    }
  }
  return {
    score: 0,
    rule: "no_match",
    ...(boxedLetter !== undefined ? { extracted: boxedLetter.toUpperCase() } : {}),
  };
}

/**
 * Scores an AIME answer text: the gold string (three digits in LiveBench, e.g. `033`)
 * must occur in the last 50 characters.
 *
 * @example
 * ```ts
 * import { scoreAime } from "./math_comp.ts";
 * if (scoreAime("033", "The answer is 033").score !== 1) throw new Error();
 * if (scoreAime("033", "The answer is 33").score !== 0) throw new Error();
 * ```
 */
export function scoreAime(gold: string, text: string): MathCompScore {
  if (solutionTagMatches(text, gold)) return { score: 1, rule: "solution_tag", extracted: gold };
  const tail = lastCodePoints(text, 50);
  if (tail.includes(gold)) return { score: 1, rule: "last_50_chars", extracted: gold };
  return { score: 0, rule: "no_match" };
}

/**
 * Scores a `math_comp` answer text with the scorer upstream picks for `subtask`.
 * An unknown subtask scores 0 with rule `eval_error` (upstream raises).
 *
 * @example
 * ```ts
 * import { scoreMathComp } from "./math_comp.ts";
 * if (scoreMathComp("480", "... so 480", "aime_i_2024", "").score !== 1) throw new Error();
 * ```
 */
export function scoreMathComp(
  gold: string,
  text: string,
  subtask: string,
  questionText: string,
): MathCompScore {
  const kind = mathCompKind(subtask);
  if (kind === "multiple_choice") return scoreMultipleChoice(gold, text, questionText);
  if (kind === "aime") return scoreAime(gold, text);
  return { score: 0, rule: "eval_error", error: `unknown math_comp subtask '${subtask}'` };
}
