/**
 * HotPotQA (distractor setting): multi-hop questions over ten Wikipedia paragraphs.
 * Scored with the official answer metrics of `hotpot_evaluate_v1.py`: EM and token F1
 * after its answer normalization, including the rule that `yes`, `no` and `noanswer` get no
 * partial credit.
 *
 * The per-item `score` is the F1 (the task metric the paper optimizes); full credit is EM;
 * `details` carries `em` and `f1`, and {@linkcode computeMetrics} reports their means in
 * `metrics.extra`. The confidence is calibrated against EM (`details.calibration_target`),
 * so Brier = mean((confidence - EM)^2), as the reference computes it; the headline figure
 * is accuracy (EM), as the paper reports it. Selection: `F1 + 0.5 EM - w * Brier - P`.
 *
 * Protocols (see `task.ts`):
 * - `project`: the system message (left out when empty), then one user message with the
 *   trimmed instruction, `Context:` and the paragraphs (sentences joined as upstream spaces
 *   them), `Question: q`; strict structured output `{justification, answer, confidence}`.
 * - `reference`: megagonlabs/RPT's `PromptProgram.render` and `format_context`: the system
 *   message always; the user text is the instruction as written, a blank line, `Context:`,
 *   the context, a blank line, `Question:`, the question and a newline. The context is one
 *   `### title` line per paragraph followed by its sentences joined with one space, not
 *   stripped (upstream sentences after the first already start with a space, so they end up
 *   two spaces apart), paragraphs separated by a blank line, cut at 90,000 characters with a
 *   blank line and `[TRUNCATED]` after the cut (the cap every reference caller passes; no
 *   HotPotQA context comes near it). Output: strict structured output in the reference's
 *   field order `{answer, confidence, justification}`, validated as pydantic does (all three
 *   required, strings for answer and justification). The knob `max_justification_sentences`
 *   is never rendered, as in the reference.
 *
 * @module
 */
import { z } from "zod";
import { pySplit } from "../data/python.ts";
import type { ChatMessage } from "../llm/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { Example, Metrics, ParseResult, ScoreResult, Split } from "./schema.ts";
import {
  type BuiltInTask,
  formatErrorScore,
  readSplitRows,
  renderQuestion,
  selectionPenalty,
  type SplitLoadOptions,
  targetOutputContract,
} from "./common.ts";
import { referenceMessages, referenceOutputContract, referenceUserText } from "./reference.ts";
import { HOTPOTQA_SEED } from "./seeds.ts";
import type { Headline, SelectionInput, TaskProtocol } from "./task.ts";

/** One HotPotQA row as the data files hold it. */
export const HotpotRow = z.object({
  id: z.string().min(1),
  question: z.string(),
  answer: z.string(),
  type: z.string(),
  level: z.string(),
  supporting_facts: z.object({ title: z.array(z.string()), sent_id: z.array(z.number().int()) }),
  context: z.object({ title: z.array(z.string()), sentences: z.array(z.array(z.string())) })
    .refine((c) => c.title.length === c.sentences.length, {
      message: "context.title and context.sentences must have the same length",
    }),
});
/** One HotPotQA row. */
export type HotpotRow = z.infer<typeof HotpotRow>;

const ROW_KEYS = ["id", "question", "answer", "type", "level", "supporting_facts", "context"];

/**
 * True when `value` is a {@linkcode HotpotRow} exactly as the schema would return it (its
 * keys and only those, in the schema's order), so loading can skip the schema's parse; any
 * other value, valid or not, is left to the schema (and its error naming the field).
 *
 * @example
 * ```ts
 * import { isExactHotpotRow } from "./hotpotqa.ts";
 * const row = {
 *   id: "1", question: "q", answer: "a", type: "bridge", level: "easy",
 *   supporting_facts: { title: ["A"], sent_id: [0] },
 *   context: { title: ["A"], sentences: [["One."]] },
 * };
 * if (!isExactHotpotRow(row)) throw new Error("a valid row is exact");
 * if (isExactHotpotRow({ ...row, extra: 1 })) throw new Error("the schema strips extra keys");
 * ```
 */
export function isExactHotpotRow(value: unknown): boolean {
  if (!hasExactKeys(value, ROW_KEYS)) return false;
  const row = value as Record<string, unknown>;
  if (typeof row.id !== "string" || row.id.length === 0) return false;
  for (const key of ["question", "answer", "type", "level"]) {
    if (typeof row[key] !== "string") return false;
  }
  const facts = row.supporting_facts;
  if (!hasExactKeys(facts, ["title", "sent_id"])) return false;
  const { title, sent_id } = facts as Record<string, unknown>;
  if (!isStringArray(title) || !Array.isArray(sent_id)) return false;
  for (const id of sent_id) if (!Number.isSafeInteger(id)) return false;
  const context = row.context;
  if (!hasExactKeys(context, ["title", "sentences"])) return false;
  const c = context as Record<string, unknown>;
  if (!isStringArray(c.title) || !Array.isArray(c.sentences)) return false;
  if (c.title.length !== c.sentences.length) return false;
  for (const paragraph of c.sentences) if (!isStringArray(paragraph)) return false;
  return true;
}

function hasExactKeys(value: unknown, keys: readonly string[]): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const own = Object.keys(value);
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== "string") return false;
  return true;
}

// string.punctuation in Python: ASCII only. Every character of it is one UTF-16 unit that
// never occurs inside a surrogate pair, so deleting the units deletes the code points.
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python 3's `\b` is Unicode-aware (letters, digits, underscore), JS's is ASCII-only.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * The tokens of the official normalization (see {@linkcode normalizeAnswer}): the answer
 * is their join with single spaces, so its `split()` gives them back without a second pass.
 */
function normalizedTokens(text: string): string[] {
  return pySplit(text.toLowerCase().replace(PUNCTUATION, "").replace(ARTICLES, " "));
}

/**
 * The official answer normalization: lower-case, drop ASCII punctuation, replace the
 * articles a / an / the with a space, collapse whitespace.
 *
 * @example
 * ```ts
 * import { normalizeAnswer } from "./hotpotqa.ts";
 * if (normalizeAnswer("The  U.S.A.!") !== "usa") throw new Error("unexpected");
 * ```
 */
export function normalizeAnswer(text: string): string {
  return normalizedTokens(text).join(" ");
}

/** EM, F1, precision and recall of one answer, as `hotpot_evaluate_v1.py` computes them. */
export interface AnswerScores {
  em: number;
  f1: number;
  precision: number;
  recall: number;
}

const SPECIAL = new Set(["yes", "no", "noanswer"]);

/**
 * The normalized tokens of gold answers: each example's gold is scored again at every
 * evaluation of every prompt. Cleared when full, so it never holds more than a split's worth
 * many times over. The arrays are shared: nothing may change them.
 */
const goldTokens = new Map<string, readonly string[]>();
const GOLD_TOKENS_MAX = 8192;

function tokensOfGold(gold: string): readonly string[] {
  let tokens = goldTokens.get(gold);
  if (tokens === undefined) {
    if (goldTokens.size >= GOLD_TOKENS_MAX) goldTokens.clear();
    goldTokens.set(gold, tokens = normalizedTokens(gold));
  }
  return tokens;
}

/**
 * Scores a predicted answer against the gold one with the official metrics.
 *
 * @example
 * ```ts
 * import { hotpotScores } from "./hotpotqa.ts";
 * const s = hotpotScores("the Eiffel Tower, Paris", "Eiffel Tower");
 * if (s.em !== 0 || Math.abs(s.f1 - 0.8) > 1e-12) throw new Error(JSON.stringify(s));
 * if (hotpotScores("yes indeed", "yes").f1 !== 0) throw new Error("yes rule");
 * ```
 */
export function hotpotScores(prediction: string, gold: string): AnswerScores {
  const predTokens = normalizedTokens(prediction);
  const truthTokens = tokensOfGold(gold);
  const pred = predTokens.join(" ");
  const truth = truthTokens.join(" ");
  const em = pred === truth ? 1 : 0;
  const zero = { em, f1: 0, precision: 0, recall: 0 };
  if ((SPECIAL.has(pred) || SPECIAL.has(truth)) && pred !== truth) return zero;
  const same = sharedTokenCount(predTokens, truthTokens);
  if (same === 0) return zero;
  const precision = same / predTokens.length;
  const recall = same / truthTokens.length;
  return { em, f1: (2 * precision * recall) / (precision + recall), precision, recall };
}

/**
 * How many tokens two token lists have in common, counting repeats (the size of their
 * multiset intersection), as the F1 of SQuAD and HotPotQA counts them.
 *
 * @example
 * ```ts
 * import { sharedTokenCount } from "./hotpotqa.ts";
 * if (sharedTokenCount(["a", "a", "b"], ["a", "b", "b", "c"]) !== 2) throw new Error();
 * ```
 */
export function sharedTokenCount(prediction: readonly string[], gold: readonly string[]): number {
  // Answers are a few tokens: pairing each predicted token with an unused equal gold token is
  // the same count as the multiset intersection, without building a map.
  if (gold.length <= 32) return pairedCount(prediction, gold);
  const counts = new Map<string, number>();
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of prediction) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      same++;
      counts.set(t, left - 1);
    }
  }
  return same;
}

function pairedCount(prediction: readonly string[], gold: readonly string[]): number {
  let used = 0; // bit i: gold[i] is paired already
  let same = 0;
  for (const t of prediction) {
    for (let i = 0; i < gold.length; i++) {
      if ((used & (1 << i)) === 0 && gold[i] === t) {
        used |= 1 << i;
        same++;
        break;
      }
    }
  }
  return same;
}

/**
 * The context as the project protocol shows it: one `### title` heading per paragraph
 * followed by its sentences joined (the sentences carry their own leading spaces upstream).
 */
export function renderHotpotContext(context: HotpotRow["context"]): string {
  return context.title.map((title, i) =>
    `### ${title}\n${(context.sentences[i] ?? []).join("").trim()}`
  ).join("\n\n");
}

/** The context cap every caller of the reference's `format_context` passes. */
export const REFERENCE_CONTEXT_MAX_CHARS = 90_000;

/** What the reference appends to a context it cut. */
export const REFERENCE_TRUNCATION_MARKER = "\n\n[TRUNCATED]";

/**
 * The context as the reference's `format_context` writes it: per paragraph `### title`, a
 * newline and the sentences joined with one space (not stripped), paragraphs separated by a
 * blank line; longer than `maxChars` characters (code points, as Python counts), it is cut
 * there and {@linkcode REFERENCE_TRUNCATION_MARKER} appended.
 *
 * @example
 * ```ts
 * import { referenceHotpotContext } from "./hotpotqa.ts";
 * const c = { title: ["A", "B"], sentences: [["One.", " Two."], ["Three."]] };
 * if (referenceHotpotContext(c) !== "### A\nOne.  Two.\n\n### B\nThree.") throw new Error();
 * if (referenceHotpotContext(c, 5) !== "### A\n\n[TRUNCATED]") throw new Error();
 * ```
 */
export function referenceHotpotContext(
  context: HotpotRow["context"],
  maxChars = REFERENCE_CONTEXT_MAX_CHARS,
): string {
  // Python's zip stops at the shorter list; the row schema makes them equal anyway.
  const n = Math.min(context.title.length, context.sentences.length);
  const chunks: string[] = [];
  for (let i = 0; i < n; i++) {
    chunks.push(`### ${context.title[i]}\n${(context.sentences[i] ?? []).join(" ")}`);
  }
  const text = chunks.join("\n\n");
  // No more code points than UTF-16 units: a text that short needs no count (spreading every
  // context into code points was most of loading HotPotQA under the reference protocol).
  if (text.length <= maxChars) return text;
  const points = [...text];
  return points.length > maxChars
    ? `${points.slice(0, maxChars).join("")}${REFERENCE_TRUNCATION_MARKER}`
    : text;
}

/**
 * The reference's messages for one example: the system text, then the instruction as
 * written, `Context:`, the context, `Question:`, the question, each block after a blank line.
 */
export function renderHotpotReference(prompt: PromptProgram, example: Example): ChatMessage[] {
  const user = referenceUserText(prompt.instruction, [
    ["Context", example.context ?? ""],
    ["Question", example.question],
  ]);
  return referenceMessages(prompt.system, user);
}

/** Options of {@linkcode createHotpotqa}. */
export interface HotpotqaOptions {
  /** How the task talks to the target (default `project`; see `task.ts`). */
  protocol?: TaskProtocol;
  /** The reference protocol's context cap in characters (default 90,000, as the reference). */
  maxContextChars?: number;
}

function toExample(row: HotpotRow, context: string): Example {
  return {
    id: row.id,
    question: row.question,
    context,
    answer: row.answer,
    subtask: row.type,
    row: row as unknown as Record<string, unknown>,
  };
}

function scoreHotpot(example: Example, parsed: ParseResult): ScoreResult {
  if (!parsed.ok) return formatErrorScore(parsed.error);
  const s = hotpotScores(parsed.value.answer, example.answer);
  return {
    score: s.f1,
    full: s.em === 1,
    impact: 1 - s.f1,
    details: {
      em: s.em,
      f1: s.f1,
      precision: s.precision,
      recall: s.recall,
      calibration_target: s.em,
    },
  };
}

/** HotPotQA's headline: accuracy (EM), the figure the paper reports. */
export function hotpotHeadline(metrics: Metrics): Headline {
  return { name: "accuracy (EM)", value: metrics.extra.em ?? metrics.fullCredit };
}

/**
 * The HotPotQA task under a protocol.
 *
 * @example
 * ```ts
 * import { createHotpotqa } from "./hotpotqa.ts";
 * const task = createHotpotqa({ protocol: "reference" });
 * const [system, user] = task.render({ system: "", instruction: "I" }, {
 *   id: "1", question: "q", context: "c", answer: "a", row: {},
 * });
 * if (system?.content !== "" || user?.content !== "I\n\nContext:\nc\n\nQuestion:\nq\n") {
 *   throw new Error(JSON.stringify(user));
 * }
 * ```
 */
export function createHotpotqa(options: HotpotqaOptions = {}): BuiltInTask {
  const reference = options.protocol === "reference";
  const maxChars = options.maxContextChars ?? REFERENCE_CONTEXT_MAX_CHARS;
  const context = reference
    ? (row: HotpotRow) => referenceHotpotContext(row.context, maxChars)
    : (row: HotpotRow) => renderHotpotContext(row.context);
  return {
    name: "hotpotqa",
    ...(reference
      ? referenceOutputContract({
        reasoningField: "justification",
        order: ["answer", "confidence", "justification"],
        reasoningOptional: false,
        extraction: "whole",
      })
      : targetOutputContract("justification")),
    seedPrompt: HOTPOTQA_SEED,
    async load(split: Split, options?: SplitLoadOptions): Promise<Example[]> {
      const rows = await readSplitRows("hotpotqa", split, HotpotRow, options, isExactHotpotRow);
      return rows.map(({ row }) => toExample(row, context(row)));
    },
    render: reference ? renderHotpotReference : renderQuestion,
    score: scoreHotpot,
    selectionScore(input: SelectionInput): number {
      const f1 = input.metrics.extra.f1 ?? input.metrics.score;
      const em = input.metrics.extra.em ?? input.metrics.fullCredit;
      return f1 + 0.5 * em - selectionPenalty(input);
    },
    selectionTerm: "F1 + 0.5 EM",
    headline: hotpotHeadline,
  };
}

/** The HotPotQA task with the project protocol. */
export const hotpotqa: BuiltInTask = createHotpotqa();
