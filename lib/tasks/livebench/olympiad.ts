/**
 * LiveBench `olympiad` scoring (IMO / USAMO proof rearrangement), ported from upstream's
 * `olympiad/utils.py`: the answer is a list of expression identifiers, read from the text
 * by four fallbacks in order, and scored by one of two rules ({@linkcode OlympiadScoring}):
 * - `edit_distance` (the default; upstream's judge calls it with `edit_distance=True`):
 *   `1 - levenshtein(predicted, gold) / max(len(predicted), len(gold))`, so a partly right
 *   order earns partial credit;
 * - `positional` (upstream's `edit_distance=False` path, which the paper's reference
 *   implementation uses): the share of extracted positions that hold the gold item at that
 *   position, over the number of items extracted (positions past the gold's end count as
 *   misses; a list shorter than the gold is not penalised for what it leaves out; nothing
 *   extracted scores 0).
 *
 * Extraction, in order (each runs only if the previous found nothing usable):
 * 1. `answer_line`: the last line containing `answer:` (any case): the text after it, or the
 *    next line when that is empty; `**` and `.` dropped; for each comma-separated part the
 *    last space-separated word, stripped of `$ { } \ boxed < >`, read as an integer.
 * 2. `boxed`: the last `\boxed{}` (when the text has `\boxed`), comma-separated integers.
 * 3. `last_line`: the last line, the first run of digits in each comma-separated part.
 * 4. `after_last_answer`: the text after the last `answer:` (or all of it), first run of
 *    digits per comma-separated part, stopping after the first part (beyond the first)
 *    that had anything besides its digits.
 * A part that is not an integer becomes a `NO ANSWER` placeholder, which matches nothing
 * but still counts in the length; a list of placeholders only counts as nothing found.
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";
import { lastBoxedOnlyString, removeBoxed } from "./boxed.ts";
import { isPyDigit, pyInt, UpstreamEvalError } from "./py.ts";

/** Upstream's placeholder for a list item that is not an integer. */
export const NO_ANSWER = "NO ANSWER";

/** One extracted item: an integer as canonical decimal text, or {@linkcode NO_ANSWER}. */
export type ExpressionId = string;

/** The extracted list and the fallback that produced it. */
export interface ExtractedIds {
  ids: ExpressionId[];
  rule: "answer_line" | "boxed" | "last_line" | "after_last_answer";
}

/** The olympiad scoring rules (see the module doc). */
export type OlympiadScoring = "edit_distance" | "positional";

/** The rules, for flags and config validation. */
export const OLYMPIAD_SCORINGS: readonly OlympiadScoring[] = ["edit_distance", "positional"];

/** An olympiad verdict: partial credit in [0, 1] with how the list was found. */
export interface OlympiadScore {
  score: number;
  rule: ExtractedIds["rule"] | "eval_error";
  /** The extracted list, comma-joined. */
  extracted?: string;
  /** Edit distance between the extracted and gold lists (`edit_distance` rule). */
  distance?: number;
  /** Positions holding the gold item (`positional` rule). */
  matches?: number;
  /** Upstream's exception, when it would raise (scores 0). */
  error?: string;
}

function allNoAnswer(ids: ExpressionId[]): boolean {
  return ids.length === 0 || ids.every((id) => id === NO_ANSWER);
}

// Upstream's `remove_nonnumeric_chars_at_ends`: the first run of `isdigit` characters and
// how many characters of `s` lie outside it.
function firstDigitRun(s: string): [string, number] {
  const chars = [...s];
  let start = 0;
  while (start < chars.length && !isPyDigit(chars[start] ?? "")) start++;
  let end = start;
  while (end < chars.length && isPyDigit(chars[end] ?? "")) end++;
  return [chars.slice(start, end).join(""), chars.length - (end - start)];
}

function lastIndexWhere<T>(items: T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i] as T)) return i;
  return -1;
}

function fromAnswerLine(generation: string): ExpressionId[] | undefined {
  if (!generation.toLowerCase().includes("answer:")) return undefined;
  const lines = pyStrip(generation.toLowerCase()).split("\n");
  const index = lastIndexWhere(lines, (line) => line.includes("answer:"));
  if (index < 0) return undefined; // unreachable: stripping cannot remove the marker
  const clean = (s: string) =>
    pyStrip(s.replaceAll("answer:", "").replaceAll("**", "").replaceAll(".", ""));
  let answer = clean((lines[index] ?? "").split("answer:")[1] ?? "");
  if (answer === "" && index < lines.length - 1) answer = clean(lines[index + 1] ?? "");
  const ids = answer.split(",").map((part) => {
    const words = pyStrip(part).split(" ");
    const word = ["$", "{", "}", "\\", "boxed", "<", ">"].reduce(
      (w, drop) => w.replaceAll(drop, ""),
      words[words.length - 1] ?? "",
    );
    return pyInt(word) ?? NO_ANSWER;
  });
  return allNoAnswer(ids) ? undefined : ids;
}

function fromBoxed(generation: string): ExpressionId[] | undefined {
  if (!generation.includes("\\boxed")) return undefined;
  const boxed = lastBoxedOnlyString(generation);
  const content = boxed === undefined ? generation : removeBoxed(boxed);
  const cleaned = content.replaceAll("\\text{", "").replaceAll("}", "").replaceAll("\\", "");
  const ids = pyStrip(cleaned).split(",").map((part) => pyInt(part) ?? NO_ANSWER);
  return allNoAnswer(ids) ? undefined : ids;
}

function fromLastLine(generation: string): ExpressionId[] | undefined {
  const lines = pyStrip(generation).toLowerCase().split("\n");
  const ids: ExpressionId[] = [];
  for (const part of pyStrip(lines[lines.length - 1] ?? "").split(",")) {
    const [digits] = firstDigitRun(part);
    if (pyStrip(digits) === "") continue;
    ids.push(pyInt(digits) ?? NO_ANSWER);
  }
  return allNoAnswer(ids) ? undefined : ids;
}

function fromAfterLastAnswer(generation: string): ExpressionId[] {
  const pieces = generation.toLowerCase().split("answer:");
  const parts = (pieces[pieces.length - 1] ?? "").split(",").map(pyStrip);
  const ids: ExpressionId[] = [];
  for (let i = 0; i < parts.length; i++) {
    const [digits, removed] = firstDigitRun(parts[i] ?? "");
    if (digits !== "" && digits !== "₂") {
      const id = pyInt(digits);
      // Here upstream calls int() outside any try: a superscript digit raises.
      if (id === undefined) throw new UpstreamEvalError(`ValueError: int('${digits}')`);
      ids.push(id);
    }
    if (i > 0 && removed > 0) break;
  }
  return ids;
}

/**
 * Upstream's `extract_expression_completions_from_generation`. Throws
 * {@linkcode UpstreamEvalError} where upstream raises.
 *
 * @example
 * ```ts
 * import { extractExpressionIds } from "./olympiad.ts";
 * const r = extractExpressionIds("reasoning...\n\nAnswer: 3, 1, 2");
 * if (r.rule !== "answer_line" || r.ids.join() !== "3,1,2") throw new Error();
 * ```
 */
export function extractExpressionIds(generation: string): ExtractedIds {
  const answerLine = fromAnswerLine(generation);
  if (answerLine !== undefined) return { ids: answerLine, rule: "answer_line" };
  const boxed = fromBoxed(generation);
  if (boxed !== undefined) return { ids: boxed, rule: "boxed" };
  const lastLine = fromLastLine(generation);
  if (lastLine !== undefined) return { ids: lastLine, rule: "last_line" };
  return { ids: fromAfterLastAnswer(generation), rule: "after_last_answer" };
}

/**
 * Edit distance (insertions, deletions, substitutions of whole items) between two lists.
 *
 * @example
 * ```ts
 * import { editDistance } from "./olympiad.ts";
 * if (editDistance(["1", "2", "3"], ["2", "1", "3"]) !== 2) throw new Error();
 * ```
 */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1]
        ? (previous[j - 1] ?? 0)
        : 1 + Math.min(previous[j] ?? 0, current[j - 1] ?? 0, previous[j - 1] ?? 0);
      current.push(cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Scores an olympiad answer text against the gold list (`"3,5,1,2,4"`) with `scoring`
 * (default `edit_distance`: `1 - distance / max(len(predicted), len(gold))`).
 *
 * @example
 * ```ts
 * import { scoreOlympiad } from "./olympiad.ts";
 * if (scoreOlympiad("1,2,3,4", "Answer: 1,2,3,4").score !== 1) throw new Error();
 * if (scoreOlympiad("1,2,3,4", "Answer: 2,1,3,4").score !== 0.5) throw new Error();
 * // Positional: positions 3 and 4 match, 2 of 4.
 * if (scoreOlympiad("1,2,3,4", "Answer: 2,1,3,4", "positional").score !== 0.5) throw new Error();
 * // Positional: both extracted positions match.
 * if (scoreOlympiad("1,2,3,4", "Answer: 1,2", "positional").score !== 1) throw new Error();
 * ```
 */
export function scoreOlympiad(
  gold: string,
  text: string,
  scoring: OlympiadScoring = "edit_distance",
): OlympiadScore {
  const goldIds = gold.split(",").map((n) => pyInt(n));
  if (goldIds.some((id) => id === undefined)) {
    return { score: 0, rule: "eval_error", error: `ValueError: gold '${gold}' is not integers` };
  }
  let extracted: ExtractedIds;
  try {
    extracted = extractExpressionIds(text);
  } catch (error) {
    if (error instanceof UpstreamEvalError) {
      return { score: 0, rule: "eval_error", error: error.message };
    }
    throw error;
  }
  const ids = extracted.ids;
  const base = { rule: extracted.rule, extracted: ids.join(",") };
  if (scoring === "positional") {
    const matches = ids.filter((id, i) => i < goldIds.length && id === goldIds[i]).length;
    return { ...base, score: ids.length === 0 ? 0 : matches / ids.length, matches };
  }
  const distance = editDistance(ids, goldIds as string[]);
  const denominator = Math.max(ids.length, goldIds.length);
  return { ...base, score: denominator === 0 ? 0 : 1 - distance / denominator, distance };
}
