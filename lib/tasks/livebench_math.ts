/**
 * LiveBench math (math_comp, olympiad, AMPS_Hard), scored by ports of LiveBench's own
 * scorers (`lib/tasks/livebench_scorers/`), routed by the row's upstream `subtask` as
 * `gen_ground_truth_judgment.py` routes it: `amc*` / `smc*` / `*_amc_*` -> multiple
 * choice, `aime*` -> AIME, `imo*` / `usamo*` -> proof rearrangement (partial credit),
 * `*amps_hard*` -> LaTeX equivalence.
 *
 * Upstream scores a model's whole response. Here the response is the JSON output, so the
 * scorers see {@linkcode answerText}: the reasoning, a blank line, then `Answer: ` and the
 * answer (the label is left out when the answer already starts with one). The answer thus
 * ends the text, where AIME's 50-character window, the option-value window and the
 * last-line rules look, and olympiad's `answer:` rule finds the answer field rather than a
 * stray `answer:` in the reasoning. `<think>...</think>` blocks are removed, as upstream.
 *
 * Example ids are `question_id`s; `subtask` is the row's `task`. Score in [0, 1], full
 * credit at 1, impact `1 - score`. Selection: `score - w * Brier - P`.
 *
 * @module
 */
import { z } from "zod";
import type { Example, ParseResult, PromptProgram, ScoreResult, Split } from "../types.ts";
import {
  type BuiltInTask,
  formatErrorScore,
  parseTargetOutput,
  readSplitRows,
  renderChat,
  selectionPenalty,
  type SplitLoadOptions,
  targetOutputSchema,
} from "./common.ts";
import { scoreAmpsHard } from "./livebench_scorers/amps_hard.ts";
import { scoreAime, scoreMathContest } from "./livebench_scorers/math_comp.ts";
import { scoreOlympiad } from "./livebench_scorers/olympiad.ts";
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

/** Which upstream scorer a row's `subtask` routes to. */
export type LivebenchScorer = "math_contest" | "aime" | "olympiad" | "amps_hard";

/**
 * The scorer upstream applies to a `subtask`, or undefined when it routes nowhere.
 *
 * @example
 * ```ts
 * import { scorerFor } from "./livebench_math.ts";
 * if (scorerFor("updated_amc_12a_2023") !== "math_contest") throw new Error();
 * if (scorerFor("usamo_2023") !== "olympiad") throw new Error();
 * ```
 */
export function scorerFor(subtask: string): LivebenchScorer | undefined {
  const parts = subtask.split("_");
  if (parts[0] === "amc" || parts[0] === "smc" || parts[1] === "amc") return "math_contest";
  if (parts[0] === "aime") return "aime";
  if (parts[0] === "imo" || parts[0] === "usamo") return "olympiad";
  if (subtask.includes("amps_hard")) return "amps_hard";
  return undefined;
}

/**
 * The text the upstream scorers are applied to: reasoning, a blank line, `Answer: ` and
 * the answer, with `<think>` blocks removed.
 *
 * @example
 * ```ts
 * import { answerText } from "./livebench_math.ts";
 * if (answerText("r", "033") !== "r\n\nAnswer: 033") throw new Error();
 * if (answerText("", "Answer: 1,2") !== "Answer: 1,2") throw new Error();
 * ```
 */
export function answerText(reasoning: string, answer: string): string {
  const labelled = /^\s*(\*\*)?answer\s*:/i.test(answer) ? answer : `Answer: ${answer}`;
  const text = reasoning.trim() === "" ? labelled : `${reasoning.trimEnd()}\n\n${labelled}`;
  return text.replace(/<think>[\s\S]*?<\/think>/g, "");
}

/**
 * Scores an answer text (see {@linkcode answerText}) for one example with the scorer its
 * subtask routes to. `details` carries `subtask`, `upstream_subtask`, `scorer`, `rule`
 * (the extraction or matching rule that fired, `none` when none did), `extracted` and
 * `gold`, plus the scorer's own facts (olympiad: `predicted` list and `distance`;
 * AMPS_Hard: `check` with the equivalence method, e.g. `timeout`). A scorer error (where
 * upstream would raise) scores 0 and is reported in `details.error`.
 */
export function scoreLivebenchText(example: Example, text: string): ScoreResult {
  const upstreamSubtask = String(example.row.subtask ?? "");
  const gold = typeof example.row.ground_truth === "string"
    ? example.row.ground_truth
    : example.answer;
  const scorer = scorerFor(upstreamSubtask);
  const base = { subtask: example.subtask, upstream_subtask: upstreamSubtask, scorer };
  let score = 0;
  let details: Record<string, unknown>;
  try {
    switch (scorer) {
      case "math_contest": {
        const questionText = Array.isArray(example.row.turns)
          ? String(example.row.turns[0] ?? "")
          : String(example.row.raw_question ?? example.question);
        const r = scoreMathContest(gold, text, questionText);
        score = r.score;
        details = { ...base, rule: r.rule, extracted: r.extracted ?? null, gold };
        break;
      }
      case "aime": {
        const r = scoreAime(gold, text);
        score = r.score;
        details = { ...base, rule: r.rule, extracted: r.extracted ?? null, gold };
        break;
      }
      case "olympiad": {
        const r = scoreOlympiad(gold, text);
        score = r.score;
        details = {
          ...base,
          rule: r.rule,
          extracted: r.predicted.join(","),
          gold,
          predicted: r.predicted,
          distance: r.distance,
        };
        break;
      }
      case "amps_hard": {
        const r = scoreAmpsHard(gold, text);
        score = r.score;
        details = {
          ...base,
          rule: r.rule,
          extracted: r.extracted ?? null,
          gold: r.gold,
          check: r.check ?? null,
        };
        break;
      }
      default:
        details = { ...base, rule: "none", extracted: null, gold, error: "unroutable subtask" };
    }
  } catch (error) {
    score = 0;
    details = { ...base, rule: "error", extracted: null, gold, error: (error as Error).message };
  }
  return { score, full: score === 1, impact: 1 - score, details };
}

const REASONING_FIELD = "reasoning";

/** The LiveBench math task. */
export const livebenchMath: BuiltInTask = {
  name: "livebench_math",
  reasoningField: REASONING_FIELD,
  seedPrompt: LIVEBENCH_MATH_SEED,
  outputSchema: targetOutputSchema(REASONING_FIELD),
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
  parse(rawText: string): ParseResult {
    return parseTargetOutput(rawText, REASONING_FIELD);
  },
  score(example: Example, parsed: ParseResult): ScoreResult {
    if (!parsed.ok) return formatErrorScore(parsed.error);
    return scoreLivebenchText(example, answerText(parsed.value.reasoning, parsed.value.answer));
  },
  selectionScore(input: SelectionInput): number {
    return input.metrics.score - selectionPenalty(input);
  },
};
