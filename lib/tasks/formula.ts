/**
 * Formula (ACE finance): financial-formula word problems with a numeric answer.
 *
 * As the ACE reference does, only the question text is kept from each row's `context`
 * (the formula name and definition are dropped, which is what makes the task hard) and an
 * instruction to answer with a plain number rounded to hundredths is appended. An answer is
 * correct when, after removing commas, Python's `float()` of both sides is equal, or else
 * when the comma-free strings are equal. Selection: `0.5 acc - w * Brier - P`; headline:
 * accuracy.
 *
 * Protocols (see `task.ts`):
 * - `project`: the trimmed instruction, a blank line, `Question: q`; strict structured
 *   output `{reasoning, answer, confidence}`; lenient parsing (a numeric answer accepted).
 * - `reference`: megagonlabs/RPT's `PromptProgram.render` with an empty context: the system
 *   message always; the user text is the instruction as written, a blank line, `Question:`,
 *   the question (stripped) and a newline. Strict structured output `{reasoning, answer,
 *   confidence}` validated as pydantic does (the reasoning may be absent and is then `""`;
 *   answer a string); the answer and the gold are stripped before the check. The seed knob
 *   `enforce_json_only` is not rendered, as in the reference.
 *
 * @module
 */
import { z } from "zod";
import { pyFloat, pyStrip } from "../data/python.ts";
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
import { FORMULA_SEED } from "./seeds.ts";
import type { Headline, SelectionInput, TaskProtocol } from "./task.ts";

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

/** Formula's headline: accuracy, the figure the paper reports. */
export function formulaHeadline(metrics: Metrics): Headline {
  return { name: "accuracy", value: metrics.fullCredit };
}

/** The reference's messages: the instruction as written, then `Question:` and the question. */
export function renderFormulaReference(prompt: PromptProgram, example: Example): ChatMessage[] {
  const user = referenceUserText(prompt.instruction, [["Question", pyStrip(example.question)]]);
  return referenceMessages(prompt.system, user);
}

function scoreReference(example: Example, parsed: ParseResult): ScoreResult {
  if (!parsed.ok) return formatErrorScore(parsed.error);
  const stripped = { ...parsed.value, answer: pyStrip(parsed.value.answer) };
  return scoreFormulaAnswer({ ...example, answer: pyStrip(example.answer) }, {
    ok: true,
    value: stripped,
  });
}

/** Options of {@linkcode createFormula}. */
export interface FormulaOptions {
  /** How the task talks to the target (default `project`; see `task.ts`). */
  protocol?: TaskProtocol;
}

/**
 * The Formula task under a protocol. Example ids are `<split>-<0-based line index>`.
 *
 * @example
 * ```ts
 * import { createFormula } from "./formula.ts";
 * const task = createFormula({ protocol: "reference" });
 * const [, user] = task.render({ system: "S", instruction: "I\n" }, {
 *   id: "1", question: "q", answer: "1.0", row: {},
 * });
 * if (user?.content !== "I\n\n\nQuestion:\nq\n") throw new Error(JSON.stringify(user));
 * ```
 */
export function createFormula(options: FormulaOptions = {}): BuiltInTask {
  const reference = options.protocol === "reference";
  return {
    name: "formula",
    ...(reference
      ? referenceOutputContract({
        reasoningField: "reasoning",
        order: ["reasoning", "answer", "confidence"],
        reasoningOptional: true,
        extraction: "whole",
      })
      : targetOutputContract("reasoning")),
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
    render: reference ? renderFormulaReference : renderQuestion,
    score: reference ? scoreReference : scoreFormulaAnswer,
    selectionScore(input: SelectionInput): number {
      return 0.5 * input.metrics.fullCredit - selectionPenalty(input);
    },
    selectionTerm: "0.5 accuracy",
    headline: formulaHeadline,
  };
}

/** The Formula task with the project protocol. */
export const formula: BuiltInTask = createFormula();
