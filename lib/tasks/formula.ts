/**
 * Formula (ACE finance): financial-formula word problems with a numeric answer.
 *
 * As the ACE reference does, only the question text is kept from each row's `context`
 * (the formula name and definition are dropped, which is what makes the task hard) and an
 * instruction to answer with a plain number rounded to hundredths is appended. An answer is
 * correct when, after removing commas, Python's `float()` of both sides is equal, or else
 * when the comma-free strings are equal. Selection: `0.5 acc - w * Brier - P`.
 *
 * @module
 */
import { z } from "zod";
import { pyFloat, pyStrip } from "../data/python.ts";
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
import { FORMULA_SEED } from "./seeds.ts";
import type { SelectionInput } from "./task.ts";

/** One Formula row as the ACE files hold it. */
export const FormulaRow = z.object({ context: z.string(), target: z.string() });
/** One Formula row. */
export type FormulaRow = z.infer<typeof FormulaRow>;

/** The instruction ACE appends to every question. */
export const FORMULA_ANSWER_INSTRUCTION =
  "Your answer should be a plain floating point number, round to the nearest hundredth if " +
  "necessary. Do the necessary conversions, for example 5 million should be 5000000.0.";

/**
 * The question as ACE builds it: the text after the first `Question: ` up to the first
 * `. Answer:`, stripped, with one pair of surrounding ASCII double quotes removed, then
 * the answer instruction. A context without those markers is kept whole, as upstream.
 * (Upstream also leaves a trailing space after the instruction; it is dropped here.)
 *
 * @example
 * ```ts
 * import { extractFormulaQuestion } from "./formula.ts";
 * const q = extractFormulaQuestion('Use formula X. Question: "What is 2+2?". Answer:');
 * if (!q.startsWith("What is 2+2? Your answer should be")) throw new Error(q);
 * ```
 */
export function extractFormulaQuestion(context: string): string {
  if (!context.includes("Question: ") || !context.includes(". Answer:")) return context;
  const afterQuestion = context.slice(context.indexOf("Question: ") + "Question: ".length);
  let question = pyStrip(afterQuestion.split(". Answer:")[0] ?? "");
  if (question.startsWith('"') && question.endsWith('"')) question = question.slice(1, -1);
  return `${question} ${FORMULA_ANSWER_INSTRUCTION}`;
}

/** The formula name from `Use formula <name> to answer the question`, if present. */
export function formulaName(context: string): string | undefined {
  return /^Use formula (.+?) to answer the question/.exec(context)?.[1];
}

/**
 * ACE's correctness check: commas removed from both sides; equal as Python floats when
 * both parse, else equal as strings.
 *
 * @example
 * ```ts
 * import { formulaCorrect } from "./formula.ts";
 * if (!formulaCorrect("5,000,000.0", "5000000")) throw new Error("numeric");
 * if (formulaCorrect("$5.00", "5.0")) throw new Error("'$' makes float() fail upstream");
 * ```
 */
export function formulaCorrect(predicted: string, gold: string): boolean {
  const p = predicted.replaceAll(",", "");
  const g = gold.replaceAll(",", "");
  const pn = pyFloat(p);
  const gn = pyFloat(g);
  if (pn !== undefined && gn !== undefined) return pn === gn;
  return p === g;
}

/**
 * Formula's scoring, shared with the synthetic task: full credit when
 * {@linkcode formulaCorrect}, nothing otherwise.
 */
export function scoreFormulaAnswer(example: Example, parsed: ParseResult): ScoreResult {
  if (!parsed.ok) return formatErrorScore(parsed.error);
  const correct = formulaCorrect(parsed.value.answer, example.answer);
  return {
    score: correct ? 1 : 0,
    full: correct,
    impact: correct ? 0 : 1,
    details: { correct, predicted: parsed.value.answer, gold: example.answer },
  };
}

/** The Formula task. Example ids are `<split>-<0-based line index>`. */
export const formula: BuiltInTask = {
  name: "formula",
  ...targetOutputContract("reasoning"),
  seedPrompt: FORMULA_SEED,
  async load(split: Split, options?: SplitLoadOptions): Promise<Example[]> {
    const rows = await readSplitRows("formula", split, FormulaRow, options);
    return rows.map(({ row, line }) => ({
      id: `${split}-${line - 1}`,
      question: extractFormulaQuestion(row.context),
      answer: row.target,
      subtask: formulaName(row.context),
      row: row as unknown as Record<string, unknown>,
    }));
  },
  render: renderQuestion,
  score: scoreFormulaAnswer,
  selectionScore(input: SelectionInput): number {
    return 0.5 * input.metrics.fullCredit - selectionPenalty(input);
  },
};
