/**
 * LiveBench math (math_comp, olympiad, AMPS_Hard), scored by ports of LiveBench's own
 * scorers (`lib/tasks/livebench/`, checked against upstream's Python on about 4,000
 * answer variants), routed by the row's upstream `subtask` as
 * `gen_ground_truth_judgment.py` routes it.
 *
 * Upstream scores a model's whole response. Here the response is the JSON output, so the
 * scorers see `livebenchAnswerText`: the reasoning, a blank line, then the answer (labelled
 * `Answer: ` for olympiad, whose questions ask for that line). The answer thus ends the
 * text, where AIME's 50-character window, the option-value window and the last-line rules
 * look. `<think>...</think>` blocks are removed, as upstream.
 *
 * Example ids are `question_id`s; `subtask` is the row's `task`. Score in [0, 1], full
 * credit at 1, impact `1 - score`. Selection: `score - w * Brier - P`. Olympiad answers are
 * scored by edit distance (upstream's judge) unless `olympiadScoring: "positional"` (the
 * reference's rule) is chosen.
 *
 * Protocols (see `task.ts`):
 * - `project`: the trimmed instruction, a blank line, `Question: q` and, when the row has
 *   one, `Answer format: <hint>`; strict structured output `{reasoning, answer,
 *   confidence}`; lenient parsing (a numeric answer accepted).
 * - `reference`: megagonlabs/RPT's `PromptProgram.render`: the system message always; the
 *   user text is the stripped instruction, then (when the row has an answer-format hint) a
 *   sentence saying the `answer` field must follow the format, a newline and the hint, then
 *   (when `enforceJsonOnly`, the seed's `enforce_json_only` knob, default true) a line asking
 *   for valid JSON only, these parts joined by single newlines and stripped; then a blank
 *   line, `Question:`, the question and a newline. Free text: no schema is sent
 *   (`outputMode: "text"`); the first JSON object is read (after a leading Markdown fence)
 *   and validated as pydantic does: `answer`, `confidence` in [0, 1] and `reasoning` all
 *   required, and the answer must be a JSON string. The scored text is the reference's
 *   (stripped reasoning and answer, `<think>` kept), the gold is the row's `answer`. An
 *   output that does not parse but is not empty is still scored on its stripped raw text
 *   and that score counts in the task score (`details.unparsed_credit`), while it stays a
 *   format error: no confidence, no Brier, not critiqued.
 *
 * Deviation from the reference, by necessity: the hint sentence and the JSON-only line are
 * the reference's own words, which are not in the data directory and are not copied here;
 * {@linkcode REFERENCE_HINT_SENTENCE} and {@linkcode REFERENCE_JSON_ONLY_LINE} say the same in
 * our words. The reference routes math_comp by its gold (a letter A-E: multiple choice, else
 * AIME) rather than by subtask; on the 368 rows both routes agree (a paper-data test checks).
 *
 * @module
 */
import { z } from "zod";
import { pyStrip } from "../data/python.ts";
import type { ChatMessage } from "../llm/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { Example, Metrics, ParseResult, ScoreResult, Split } from "./schema.ts";
import {
  type BuiltInTask,
  formatErrorScore,
  readSplitRows,
  renderChat,
  selectionPenalty,
  type SplitLoadOptions,
  targetOutputContract,
} from "./common.ts";
import type { OlympiadScoring } from "./livebench/olympiad.ts";
import {
  livebenchAnswerText,
  type LivebenchItem,
  referenceLivebenchAnswerText,
  scoreLivebenchText,
} from "./livebench/score.ts";
import { referenceMessages, referenceOutputContract } from "./reference.ts";
import { LIVEBENCH_MATH_SEED } from "./seeds.ts";
import type { Headline, SelectionInput, TaskProtocol } from "./task.ts";

/** One LiveBench math row: the upstream fields used here plus the derived ones. */
export const LivebenchRow = z.object({
  question_id: z.string().min(1),
  category: z.string(),
  task: z.enum(["math_comp", "olympiad", "AMPS_Hard"]),
  subtask: z.string().min(1),
  turns: z.array(z.string()).min(1),
  ground_truth: z.string().min(1),
  raw_question: z.string(),
  question: z.string(),
  answer_format_hint: z.string().nullable(),
  answer: z.string(),
});
/** One LiveBench math row. */
export type LivebenchRow = z.infer<typeof LivebenchRow>;

const REASONING_FIELD = "reasoning";

/**
 * Our wording of the reference's sentence before a question's answer-format hint (the
 * reference's own words are not copied; see the module doc).
 */
export const REFERENCE_HINT_SENTENCE =
  "Write the `answer` field in exactly the following format, and in no other:";

/** Our wording of the reference's JSON-only line, rendered when `enforceJsonOnly`. */
export const REFERENCE_JSON_ONLY_LINE =
  "Reply with valid JSON only, matching the required schema, and nothing else.";

/** Options of {@linkcode createLivebenchMath}. */
export interface LivebenchMathOptions {
  /** How the task talks to the target (default `project`; see `task.ts`). */
  protocol?: TaskProtocol;
  /** Olympiad rule: `edit_distance` (default, upstream's judge) or `positional` (reference). */
  olympiadScoring?: OlympiadScoring;
  /**
   * The reference rendering's JSON-only line (the seed knob `enforce_json_only`; default
   * true, the reference's default). The project protocol ignores it.
   */
  enforceJsonOnly?: boolean;
}

/**
 * The reference's user text for one question: the stripped instruction, the hint part,
 * the JSON-only line, joined by single newlines and stripped; then `Question:` and the
 * question.
 *
 * @example
 * ```ts
 * import { REFERENCE_JSON_ONLY_LINE, referenceLivebenchUserText } from "./livebench_math.ts";
 * const u = referenceLivebenchUserText(" Solve. \n", "What is 1+1?", null, true);
 * if (u !== `Solve.\n${REFERENCE_JSON_ONLY_LINE}\n\nQuestion:\nWhat is 1+1?\n`) throw new Error(u);
 * ```
 */
export function referenceLivebenchUserText(
  instruction: string,
  question: string,
  hint: string | null,
  enforceJsonOnly: boolean,
): string {
  const parts = [pyStrip(instruction)];
  if (hint !== null && hint !== "") parts.push(`${REFERENCE_HINT_SENTENCE}\n${hint}`);
  if (enforceJsonOnly) parts.push(REFERENCE_JSON_ONLY_LINE);
  const head = pyStrip(parts.filter((p) => p !== "").join("\n"));
  return `${head}\n\nQuestion:\n${question}\n`;
}

function renderProject(prompt: PromptProgram, example: Example): ChatMessage[] {
  const hint = example.row.answer_format_hint;
  const format = typeof hint === "string" && hint !== "" ? `\n\nAnswer format: ${hint}` : "";
  return renderChat(prompt, `Question: ${example.question}${format}`);
}

function item(row: LivebenchRow, gold: string): LivebenchItem {
  return { task: row.task, subtask: row.subtask, gold, questionText: row.turns[0] ?? "" };
}

/**
 * The LiveBench math task under a protocol, with an olympiad rule.
 *
 * @example
 * ```ts
 * import { createLivebenchMath } from "./livebench_math.ts";
 * const task = createLivebenchMath({ protocol: "reference", enforceJsonOnly: false });
 * if (task.outputMode !== "text") throw new Error("the reference sends no schema");
 * const [, user] = task.render({ system: "S", instruction: "I" }, {
 *   id: "1", question: "q", answer: "a", row: { answer_format_hint: null },
 * });
 * if (user?.content !== "I\n\nQuestion:\nq\n") throw new Error(JSON.stringify(user));
 * ```
 */
export function createLivebenchMath(options: LivebenchMathOptions = {}): BuiltInTask {
  const reference = options.protocol === "reference";
  const enforceJsonOnly = options.enforceJsonOnly ?? true;
  const scoreOptions = { olympiad: options.olympiadScoring ?? "edit_distance" } as const;
  return {
    name: "livebench_math",
    ...(reference
      ? referenceOutputContract({
        reasoningField: REASONING_FIELD,
        order: ["answer", "confidence", "reasoning"],
        reasoningOptional: false,
        extraction: "first_object",
      })
      : targetOutputContract(REASONING_FIELD)),
    seedPrompt: LIVEBENCH_MATH_SEED,
    async load(split: Split, options?: SplitLoadOptions): Promise<Example[]> {
      const rows = await readSplitRows("livebench_math", split, LivebenchRow, options);
      return rows.map(({ row }) => ({
        id: row.question_id,
        question: row.question,
        answer: row.answer,
        subtask: row.task,
        row: row as unknown as Record<string, unknown>,
      }));
    },
    render(prompt: PromptProgram, example: Example): ChatMessage[] {
      if (!reference) return renderProject(prompt, example);
      const hint = example.row.answer_format_hint;
      const user = referenceLivebenchUserText(
        prompt.instruction,
        example.question,
        typeof hint === "string" ? hint : null,
        enforceJsonOnly,
      );
      return referenceMessages(prompt.system, user);
    },
    score(example: Example, parsed: ParseResult, rawText: string): ScoreResult {
      const row = example.row as LivebenchRow;
      if (!reference) {
        if (!parsed.ok) return formatErrorScore(parsed.error);
        const text = livebenchAnswerText(parsed.value.reasoning, parsed.value.answer, row.task);
        return scoreLivebenchText(item(row, row.ground_truth), text, scoreOptions);
      }
      if (parsed.ok) {
        const { reasoning, answer } = parsed.value;
        const text = referenceLivebenchAnswerText(reasoning, answer, row.task, rawText);
        return scoreLivebenchText(item(row, row.answer), text, scoreOptions);
      }
      return scoreUnparsed(item(row, row.answer), parsed.error, rawText, scoreOptions);
    },
    selectionScore(input: SelectionInput): number {
      return input.metrics.score - selectionPenalty(input);
    },
    selectionTerm: "score",
    headline: (metrics: Metrics): Headline => ({ name: "task score", value: metrics.score }),
  };
}

// The reference scores an unparsed but non-empty output on its raw text; it stays a format
// error (the flag tells the metrics to count its score anyway).
function scoreUnparsed(
  it: LivebenchItem,
  error: string,
  rawText: string,
  options: { olympiad: OlympiadScoring },
): ScoreResult {
  const raw = pyStrip(rawText);
  if (raw === "") return formatErrorScore(error);
  const scored = scoreLivebenchText(it, raw, options);
  return {
    score: scored.score,
    full: scored.full,
    impact: 1,
    details: { ...scored.details, format_error: error, unparsed_credit: true },
  };
}

/** The LiveBench math task with the project protocol and upstream's olympiad rule. */
export const livebenchMath: BuiltInTask = createLivebenchMath();
