/**
 * The {@linkcode Task} interface: everything the method needs to know about a benchmark.
 * Each built-in task lives in its own file; a user's own task comes from `custom.ts`.
 *
 * @module
 */
import type { ChatMessage, JsonSchema } from "../llm/schema.ts";
import type { Example, Metrics, ParseResult, ScoreResult, Split } from "./schema.ts";
import type { PromptProgram } from "../prompt.ts";

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
  /** Weight of the Brier term: 0.05 when confidence-aware, else 0. */
  brierWeight: number;
}

/** A benchmark task: data, rendering, parsing, scoring and selection. */
export interface Task {
  /** Task name, as used on the command line (`hotpotqa`, `livebench_math`, `formula`, ...). */
  readonly name: string;
  /** The name of the reasoning field in the output contract (`reasoning` or `justification`). */
  readonly reasoningField: string;
  /** The paper's seed prompt. */
  readonly seedPrompt: PromptProgram;
  /** JSON Schema of the target's output, for structured output. */
  readonly outputSchema: JsonSchema;
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
}
