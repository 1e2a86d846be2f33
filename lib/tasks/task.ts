/**
 * The {@linkcode Task} interface: everything the method needs to know about a benchmark.
 * Each built-in task lives in its own file; a user's own task comes from `custom.ts`.
 *
 * ## Protocols of the built-in tasks
 *
 * How a built-in task talks to the target (the messages it renders, the output it asks for
 * and how it reads it) is one typed choice, {@linkcode TaskProtocol}, given to the task's
 * factory (`createHotpotqa`, `createLivebenchMath`, `createFormula`) or to `getTask(name,
 * { protocol })`:
 *
 * - `"project"` (the default): rpt's own layout (the instruction trimmed, then `Context:` and
 *   `Question: q`), strict structured output with the reasoning field first, and a lenient
 *   parser (numeric answers accepted).
 * - `"reference"`: the reference implementation's (megagonlabs/RPT) `PromptProgram.render`
 *   and output contract, per task: the system message always sent, the instruction as
 *   written, `Context:` / `Question:` on lines of their own, a trailing newline; HotPotQA's
 *   context as its `format_context` writes it; LiveBench's answer-format hint and JSON-only
 *   line; HotPotQA and Formula with strict structured output in the reference's field order,
 *   LiveBench with free text from which the first JSON object is read, and an unparsed
 *   output's raw text still scored. Each task file documents its part and its deviations.
 *
 * Scoring choices that are not part of the protocol are options of their own (LiveBench's
 * olympiad rule: `olympiadScoring`). `paper.ts` combines the reference protocol with the
 * paper's seed prompt from the data directory: the `paper` preset's entry point.
 *
 * Two optional members tell the loop and the reports what they cannot guess:
 * {@linkcode Task.outputMode} (whether a structured-output schema is sent; read it with
 * {@linkcode taskOutputMode}) and {@linkcode Task.headline} (the figure a person should read
 * first; read it with {@linkcode taskHeadline}).
 *
 * @module
 */
import type { ChatMessage, JsonSchema } from "../llm/schema.ts";
import type { Example, Metrics, ParseResult, ScoreResult, Split } from "./schema.ts";
import type { PromptProgram } from "../prompt.ts";

/** Which protocol a built-in task speaks with the target (see the module doc). */
export type TaskProtocol = "project" | "reference";

/** The protocols, for flags and config validation. */
export const TASK_PROTOCOLS: readonly TaskProtocol[] = ["project", "reference"];

/**
 * How the target's output is requested: `structured` sends {@linkcode Task.outputSchema} as
 * a strict structured-output schema; `text` sends no schema (free text; the task's parser
 * finds the JSON in it).
 */
export type OutputMode = "structured" | "text";

/** The figure a task reports first (summary, `rpt show`, reports), with its name. */
export interface Headline {
  /** What the figure is, e.g. `accuracy (EM)`. */
  name: string;
  /** Its value, from the split's metrics. */
  value: number;
}

/** Options for loading a split. */
export interface LoadOptions {
  /** Data directory; defaults to `--data-dir`, then `RPT_DATA_DIR`, then `data/`. */
  dataDir?: string;
}

/** Inputs of a task's selection function. */
export interface SelectionInput {
  /** Metrics on the dev split. */
  metrics: Metrics;
  /** Total characters of the prompt program's fields. */
  promptChars: number;
  /** Weight of the Brier term: 0.05 when confidence-aware, else 0 (a run setting). */
  brierWeight: number;
  /** Length penalty per 1,000 prompt characters (absent: 0.0025, the paper runs'). */
  lengthPenalty?: number;
}

/** A benchmark task: data, rendering, parsing, scoring and selection. */
export interface Task {
  /** Task name, as used on the command line (`hotpotqa`, `livebench_math`, `formula`, ...). */
  readonly name: string;
  /** The name of the reasoning field in the output contract (`reasoning` or `justification`). */
  readonly reasoningField: string;
  /** The paper's seed prompt. */
  readonly seedPrompt: PromptProgram;
  /** JSON Schema of the target's output contract (sent as structured output unless `outputMode` is `text`). */
  readonly outputSchema: JsonSchema;
  /** Whether the loop sends `outputSchema` to the target; `structured` when absent. */
  readonly outputMode?: OutputMode;
  /** Loads and validates a split. */
  load(split: Split, options?: LoadOptions): Promise<Example[]>;
  /** Renders the prompt program with one example into chat messages. */
  render(prompt: PromptProgram, example: Example): ChatMessage[];
  /** Parses a raw target output. */
  parse(rawText: string): ParseResult;
  /** Scores one output; `parsed` may be a format error, which scores 0. */
  score(example: Example, parsed: ParseResult, rawText: string): ScoreResult;
  /** The task's default selection function (higher is better). */
  selectionScore(input: SelectionInput): number;
  /**
   * The task term of `selectionScore` in words (`F1 + 0.5 EM`), for people reading a
   * selection value; `score` when absent. The Brier and length terms are the same for all.
   */
  readonly selectionTerm?: string;
  /** The headline figure of a split's metrics; the mean `score` when absent. */
  headline?(metrics: Metrics): Headline;
}

/**
 * Whether the loop should send the task's output schema: `structured` unless the task says
 * `text`.
 *
 * @example
 * ```ts
 * import { taskOutputMode } from "./task.ts";
 * if (taskOutputMode({}) !== "structured" || taskOutputMode({ outputMode: "text" }) !== "text") {
 *   throw new Error();
 * }
 * ```
 */
export function taskOutputMode(task: Pick<Task, "outputMode">): OutputMode {
  return task.outputMode ?? "structured";
}

/**
 * A split's headline figure for a task: the task's own, else `{ name: "score", value:
 * metrics.score }`.
 *
 * @example
 * ```ts
 * import { taskHeadline } from "./task.ts";
 * const metrics = { score: 0.5, fullCredit: 0.25 } as Parameters<typeof taskHeadline>[1];
 * if (taskHeadline({}, metrics).value !== 0.5) throw new Error();
 * const em = { headline: (m: typeof metrics) => ({ name: "accuracy (EM)", value: m.fullCredit }) };
 * if (taskHeadline(em, metrics).name !== "accuracy (EM)") throw new Error();
 * ```
 */
export function taskHeadline(task: Pick<Task, "headline">, metrics: Metrics): Headline {
  return task.headline?.(metrics) ?? { name: "score", value: metrics.score };
}
