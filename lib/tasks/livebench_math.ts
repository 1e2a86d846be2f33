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
 * credit at 1, impact `1 - score`. Selection: `score - w * Brier - P`.
 *
 * @module
 */
import { z } from "zod";
import type { Example, ParseResult, ScoreResult, Split } from "./schema.ts";
import type { PromptProgram } from "../prompt.ts";
import {
  type BuiltInTask,
  formatErrorScore,
  readSplitRows,
  renderChat,
  selectionPenalty,
  type SplitLoadOptions,
  targetOutputContract,
} from "./common.ts";
import { livebenchAnswerText, scoreLivebenchText } from "./livebench/score.ts";
import { LIVEBENCH_MATH_SEED } from "./seeds.ts";
import type { SelectionInput } from "./task.ts";

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

/** The LiveBench math task. */
export const livebenchMath: BuiltInTask = {
  name: "livebench_math",
  ...targetOutputContract(REASONING_FIELD),
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
  render(prompt: PromptProgram, example: Example) {
    const hint = example.row.answer_format_hint;
    const format = typeof hint === "string" && hint !== "" ? `\n\nAnswer format: ${hint}` : "";
    return renderChat(prompt, `Question: ${example.question}${format}`);
  },
  score(example: Example, parsed: ParseResult): ScoreResult {
    if (!parsed.ok) return formatErrorScore(parsed.error);
    const row = example.row as LivebenchRow;
    const item = {
      task: row.task,
      subtask: row.subtask,
      gold: row.ground_truth,
      questionText: row.turns[0] ?? "",
    };
    const text = livebenchAnswerText(parsed.value.reasoning, parsed.value.answer, row.task);
    return scoreLivebenchText(item, text);
  },
  selectionScore(input: SelectionInput): number {
    return input.metrics.score - selectionPenalty(input);
  },
};
