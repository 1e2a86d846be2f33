/**
 * LiveBench `olympiad` scoring (proof rearrangement), as upstream's `olympiad/utils.py`
 * behaves with `edit_distance=True`: the expression identifiers are extracted from the
 * answer text and the score is `1 - levenshtein(predicted, gold) / max(len(predicted),
 * len(gold))` over the two integer lists, so a partly right order earns partial credit.
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";
import { lastBoxedOnlyString, removeBoxed } from "./latex.ts";

/** What upstream appends for an item it cannot read as an integer (it never matches). */
export const NO_ANSWER = "NO ANSWER";

/** One extracted identifier: an integer, or {@linkcode NO_ANSWER}. */
export type Completion = number | typeof NO_ANSWER;

/** The extracted identifiers and the extraction rule that produced them. */
export interface Extraction {
  completions: Completion[];
  rule: "answer_line" | "boxed" | "last_line" | "after_answer";
}

// Python's int(): whitespace, a sign, `_` between digits. Only ASCII digits are read here
// (Python also reads other Unicode decimal digits; none occur in practice).
function pyInt(text: string): number | undefined {
  const s = pyStrip(text);
  if (!/^[+-]?\d(?:_?\d)*$/.test(s)) return undefined;
  return Number(s.replaceAll("_", ""));
}

// Python's str.isdigit(): decimal digits plus digit-like marks such as superscripts.
const IS_DIGIT = /^[\p{Nd}\u00B2\u00B3\u00B9\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468]$/u;

/** Upstream's `remove_nonnumeric_chars_at_ends`: the first digit run, and how many chars were dropped. */
function firstDigitRun(s: string): [string, number] {
  const chars = [...s];
  let start = 0;
  while (start < chars.length && !IS_DIGIT.test(chars[start] ?? "")) start++;
  let end = start;
  while (end < chars.length && IS_DIGIT.test(chars[end] ?? "")) end++;
  return [chars.slice(start, end).join(""), chars.length - (end - start)];
}

const toCompletion = (text: string): Completion => pyInt(text) ?? NO_ANSWER;
const useless = (list: Completion[]) => list.length === 0 || list.every((n) => n === NO_ANSWER);

/**
 * Upstream's `extract_expression_completions_from_generation`, rule by rule: the last
 * line containing `answer:` (or the line after it when empty); else the last `\boxed{}`;
 * else the last line; else whatever follows the last `answer:`. Throws where upstream
 * would raise (a digit-like character `int()` cannot read in the last rule).
 *
 * @example
 * ```ts
 * import { extractCompletions } from "./olympiad.ts";
 * const e = extractCompletions("reasoning...\n**Answer:** 3, 1, 2.");
 * if (e.completions.join() !== "3,1,2" || e.rule !== "answer_line") throw new Error();
 * ```
 */
export function extractCompletions(generation: string): Extraction {
  const lower = generation.toLowerCase();
  if (lower.includes("answer:")) {
    const lines = pyStrip(lower).split("\n");
    let index = -1;
    lines.forEach((line, i) => {
      if (line.includes("answer:")) index = i;
    });
    const clean = (s: string) =>
      pyStrip(s.replaceAll("answer:", "").replaceAll("**", "").replaceAll(".", ""));
    let answer = clean((lines[index] ?? "").split("answer:")[1] ?? "");
    if (answer === "" && index < lines.length - 1) answer = clean(lines[index + 1] ?? "");
    const completions = answer.split(",").map((item) => {
      const words = pyStrip(item).split(" ");
      const last = (words[words.length - 1] ?? "").replaceAll("$", "").replaceAll("{", "")
        .replaceAll("}", "").replaceAll("\\", "").replaceAll("boxed", "").replaceAll("<", "")
        .replaceAll(">", "");
      return toCompletion(last);
    });
    if (!useless(completions)) return { completions, rule: "answer_line" };
  }
  if (generation.includes("\\boxed")) {
    const boxed = lastBoxedOnlyString(generation);
    const inner = boxed === undefined ? generation : removeBoxed(boxed);
    if (inner === undefined) throw new Error("olympiad: malformed \\boxed (upstream asserts)");
    const text = inner.replaceAll("\\text{", "").replaceAll("}", "").replaceAll("\\", "");
    const completions = pyStrip(text).split(",").map(toCompletion);
    if (!useless(completions)) return { completions, rule: "boxed" };
  }
  const lines = pyStrip(lower).split("\n");
  const lastLine = pyStrip(lines[lines.length - 1] ?? "");
  const fromLastLine: Completion[] = [];
  for (const item of lastLine.split(",")) {
    const [digits] = firstDigitRun(item);
    if (pyStrip(digits).length === 0) continue;
    fromLastLine.push(toCompletion(digits));
  }
  if (!useless(fromLastLine)) return { completions: fromLastLine, rule: "last_line" };
  const parts = lower.split("answer:");
  const items = (parts[parts.length - 1] ?? "").split(",").map(pyStrip);
  const completions: Completion[] = [];
  for (let i = 0; i < items.length; i++) {
    const [digits, removed] = firstDigitRun(items[i] ?? "");
    if (digits !== "" && digits !== "\u2082") {
      const n = pyInt(digits);
      if (n === undefined) throw new Error(`olympiad: int('${digits}') fails (upstream raises)`);
      completions.push(n);
    }
    if (i > 0 && removed > 0) break;
  }
  return { completions, rule: "after_answer" };
}

/** Edit distance between two sequences, elements compared with `===`. */
export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** An olympiad score: the fraction in [0, 1] and what was compared. */
export interface OlympiadScore {
  score: number;
  rule: Extraction["rule"];
  predicted: Completion[];
  gold: number[];
  distance: number;
}

/**
 * Scores an answer text against the gold identifier list (`"3,1,2"`).
 *
 * @example
 * ```ts
 * import { scoreOlympiad } from "./olympiad.ts";
 * // one substitution in four: 1 - 1/4
 * if (scoreOlympiad("1,2,3,4", "Answer: 1, 2, 4, 4").score !== 0.75) throw new Error();
 * ```
 */
export function scoreOlympiad(gold: string, text: string): OlympiadScore {
  const goldList = gold.split(",").map((n) => {
    const v = pyInt(n);
    if (v === undefined) throw new Error(`olympiad: gold '${gold}' is not a list of integers`);
    return v;
  });
  const { completions, rule } = extractCompletions(text);
  const distance = levenshtein<Completion>(completions, goldList);
  const score = 1 - distance / Math.max(completions.length, goldList.length);
  return { score, rule, predicted: completions, gold: goldList, distance };
}
