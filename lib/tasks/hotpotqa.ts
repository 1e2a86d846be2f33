/**
 * HotPotQA (distractor setting): multi-hop questions over ten Wikipedia paragraphs.
 * Scored with the official answer metrics of `hotpot_evaluate_v1.py`: EM and token F1
 * after its answer normalization, including the rule that `yes`, `no` and `noanswer` get no
 * partial credit.
 *
 * The per-item `score` is the F1 (the task metric the paper optimizes); full credit is EM;
 * `details` carries `em` and `f1`, and {@linkcode computeMetrics} reports their means in
 * `metrics.extra`. Selection: `F1 + 0.5 EM - w * Brier - P`.
 *
 * @module
 */
import { z } from "zod";
import { pySplit } from "../data/python.ts";
import type { Example, ParseResult, ScoreResult, Split } from "./schema.ts";
import {
  type BuiltInTask,
  formatErrorScore,
  readSplitRows,
  renderQuestion,
  selectionPenalty,
  type SplitLoadOptions,
  targetOutputContract,
} from "./common.ts";
import { HOTPOTQA_SEED } from "./seeds.ts";
import type { SelectionInput } from "./task.ts";

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

// string.punctuation in Python: ASCII only.
const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
// Python 3's `\b` is Unicode-aware (letters, digits, underscore), JS's is ASCII-only.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

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
  let noPunct = "";
  for (const ch of text.toLowerCase()) if (!PUNCTUATION.has(ch)) noPunct += ch;
  return pySplit(noPunct.replace(ARTICLES, " ")).join(" ");
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
  const pred = normalizeAnswer(prediction);
  const truth = normalizeAnswer(gold);
  const em = pred === truth ? 1 : 0;
  const zero = { em, f1: 0, precision: 0, recall: 0 };
  if ((SPECIAL.has(pred) || SPECIAL.has(truth)) && pred !== truth) return zero;
  const predTokens = pySplit(pred);
  const truthTokens = pySplit(truth);
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

/**
 * The context as the target sees it: one `### title` heading per paragraph followed by its
 * sentences joined (the sentences carry their own leading spaces upstream).
 */
export function renderHotpotContext(context: HotpotRow["context"]): string {
  return context.title.map((title, i) =>
    `### ${title}\n${(context.sentences[i] ?? []).join("").trim()}`
  ).join("\n\n");
}

function toExample(row: HotpotRow): Example {
  return {
    id: row.id,
    question: row.question,
    context: renderHotpotContext(row.context),
    answer: row.answer,
    subtask: row.type,
    row: row as unknown as Record<string, unknown>,
  };
}

/** The HotPotQA task. */
export const hotpotqa: BuiltInTask = {
  name: "hotpotqa",
  ...targetOutputContract("justification"),
  seedPrompt: HOTPOTQA_SEED,
  async load(split: Split, options?: SplitLoadOptions): Promise<Example[]> {
    const rows = await readSplitRows("hotpotqa", split, HotpotRow, options);
    return rows.map(({ row }) => toExample(row));
  },
  render: renderQuestion,
  score(example: Example, parsed: ParseResult): ScoreResult {
    if (!parsed.ok) return formatErrorScore(parsed.error);
    const s = hotpotScores(parsed.value.answer, example.answer);
    return {
      score: s.f1,
      full: s.em === 1,
      impact: 1 - s.f1,
      details: { em: s.em, f1: s.f1, precision: s.precision, recall: s.recall },
    };
  },
  selectionScore(input: SelectionInput): number {
    const f1 = input.metrics.extra.f1 ?? input.metrics.score;
    const em = input.metrics.extra.em ?? input.metrics.fullCredit;
    return f1 + 0.5 * em - selectionPenalty(input);
  },
};
