/**
 * Pieces every task shares: parsing the target's JSON output, the output JSON Schema,
 * locating the data directory, reading JSON Lines with precise errors (checked against
 * the data manifest), rendering chat messages, and the selection penalty.
 *
 * @module
 */
import type { z } from "zod";
import { verifyAgainstManifest } from "../data/manifest.ts";
import type { ChatMessage, JsonSchema } from "../llm/schema.ts";
import type { Example, ParseResult, ScoreResult, Split, TargetOutput } from "./schema.ts";
import type { PromptProgram } from "../prompt.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";
import { parseStructuredText } from "../llm/structured.ts";
import type { LoadOptions, SelectionInput, Task } from "./task.ts";

// ---------------------------------------------------------------------------------------------
// Output contract

/**
 * JSON Schema of the target's output: `{<reasoningField>, answer, confidence}`, in that
 * order (reasoning first so the model reasons before it commits to an answer), all
 * required and nothing else allowed, as OpenAI's strict structured output demands.
 *
 * @example
 * ```ts
 * import { targetOutputSchema } from "./common.ts";
 * const s = targetOutputSchema("justification") as { required: string[] };
 * if (s.required.join() !== "justification,answer,confidence") throw new Error("unexpected");
 * ```
 */
export function targetOutputSchema(reasoningField: string): JsonSchema {
  return {
    type: "object",
    properties: {
      [reasoningField]: { type: "string", description: "step-by-step reasoning" },
      answer: { type: "string", description: "the final answer only" },
      confidence: {
        type: "number",
        minimum: 0,
        maximum: 1,
        description: "probability in [0, 1] that the answer is correct",
      },
    },
    required: [reasoningField, "answer", "confidence"],
    additionalProperties: false,
  };
}

/**
 * Parses a raw target output into `{reasoning, answer, confidence}`.
 *
 * The text may be the JSON object itself or contain one (Markdown fences and prose around
 * it are skipped; the first balanced object that parses is used). Rules, chosen so that a
 * format error always means the output contract was broken:
 * - reasoning: `reasoningField`, else `reasoning`, else `justification`; a string when
 *   present; an absent reasoning is accepted as `""` (no task scores reasoning alone).
 * - answer: required; a string, or a finite number (turned into its decimal text, since
 *   models often answer numeric questions with a JSON number).
 * - confidence: required; a number in [0, 1], or a string holding one (`"0.8"`).
 *   Percentages (`85`, `"85%"`) are rejected, not rescaled: guessing the scale would hide
 *   a broken contract from the optimizer, and calibration metrics would be wrong silently.
 *
 * @example
 * ```ts
 * import { parseTargetOutput } from "./common.ts";
 * const r = parseTargetOutput('Here: {"justification": "j", "answer": 42, "confidence": 0.9}', "justification");
 * if (!r.ok || r.value.answer !== "42" || r.value.reasoning !== "j") throw new Error("unexpected");
 * const bad = parseTargetOutput('{"answer": "x", "confidence": 85}', "reasoning");
 * if (bad.ok) throw new Error("percent accepted");
 * ```
 */
export function parseTargetOutput(rawText: string, reasoningField: string): ParseResult {
  const value = parseJsonObject(rawText);
  if (value === undefined) return { ok: false, error: "no JSON object in the output" };
  const reasoningKey = [reasoningField, "reasoning", "justification"].find((k) =>
    Object.hasOwn(value, k)
  );
  const reasoning = reasoningKey === undefined ? "" : value[reasoningKey];
  if (typeof reasoning !== "string") {
    return { ok: false, error: `field '${reasoningKey}' must be a string` };
  }
  if (!Object.hasOwn(value, "answer")) return { ok: false, error: "missing field 'answer'" };
  const rawAnswer = value.answer;
  let answer: string;
  if (typeof rawAnswer === "string") answer = rawAnswer;
  else if (typeof rawAnswer === "number" && Number.isFinite(rawAnswer)) answer = String(rawAnswer);
  else return { ok: false, error: `field 'answer' must be a string, got ${describe(rawAnswer)}` };
  if (!Object.hasOwn(value, "confidence")) {
    return { ok: false, error: "missing field 'confidence'" };
  }
  const confidence = parseConfidence(value.confidence);
  if (confidence === undefined) {
    return {
      ok: false,
      error: `field 'confidence' must be a number in [0, 1], got ${describe(value.confidence)}`,
    };
  }
  const parsed: TargetOutput = { reasoning, answer, confidence };
  return { ok: true, value: parsed };
}

function parseJsonObject(rawText: string): Record<string, unknown> | undefined {
  const value = parseStructuredText(rawText);
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

function parseConfidence(raw: unknown): number | undefined {
  let n: number | undefined;
  if (typeof raw === "number") n = raw;
  else if (typeof raw === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw)) {
    n = Number(raw);
  }
  return n !== undefined && Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}

function describe(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * The output-contract part of a task built on {@linkcode targetOutputSchema} and
 * {@linkcode parseTargetOutput}: its reasoning field, the schema and the parser, to spread
 * into the task object.
 *
 * @example
 * ```ts
 * import { targetOutputContract } from "./common.ts";
 * const c = targetOutputContract("reasoning");
 * const r = c.parse('{"reasoning": "r", "answer": "a", "confidence": 0.5}');
 * if (!r.ok || c.reasoningField !== "reasoning") throw new Error("unexpected");
 * ```
 */
export function targetOutputContract(
  reasoningField: string,
): Pick<Task, "reasoningField" | "outputSchema" | "parse"> {
  return {
    reasoningField,
    outputSchema: targetOutputSchema(reasoningField),
    parse: (rawText: string): ParseResult => parseTargetOutput(rawText, reasoningField),
  };
}

/**
 * The score of an output that broke the output contract: 0, no credit, full impact, and
 * the reason in `details.format_error`.
 */
export function formatErrorScore(error: string): ScoreResult {
  return { score: 0, full: false, impact: 1, details: { format_error: error } };
}

// ---------------------------------------------------------------------------------------------
// Data files

/**
 * The data directory the user chose: `explicit` (from `--data-dir`) when non-empty, else
 * `RPT_DATA_DIR` when set and non-empty; undefined when neither is, for the caller's default.
 */
export function chosenDataDir(explicit?: string): string | undefined {
  if (explicit !== undefined && explicit !== "") return explicit;
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("RPT_DATA_DIR");
  } catch {
    // Without --allow-env, fall through to the default rather than fail.
  }
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
}

/**
 * The data directory: `explicit` (from `--data-dir`), else `RPT_DATA_DIR`, else the
 * repository's `data/` folder. Returned as given (relative paths resolve against the
 * working directory when read).
 *
 * @example
 * ```ts
 * import { resolveDataDir } from "./common.ts";
 * if (resolveDataDir("/tmp/d") !== "/tmp/d") throw new Error("unexpected");
 * ```
 */
export function resolveDataDir(explicit?: string): string {
  const chosen = chosenDataDir(explicit);
  if (chosen !== undefined) return chosen;
  const url = new URL("../../data", import.meta.url);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : "data";
}

/** One validated JSONL row with its 1-based line number in the file. */
export interface JsonlRow<T> {
  /** The row, as the schema output it. */
  row: T;
  /** 1-based line number. */
  line: number;
}

/** Options for {@linkcode readJsonl}. */
export interface ReadJsonlOptions {
  /**
   * Path relative to the data directory (`hotpotqa/train.jsonl`) used to look the file up
   * in the manifest; when given, the bytes must match the manifest's sha256.
   */
  manifestPath?: string;
  /** A cheap exact check tried before the schema on every row (see {@linkcode RowCheck}). */
  accepts?: RowCheck;
}

/**
 * A cheap exact check of one parsed row, tried before the schema: it returns true only for
 * a value the schema accepts and would return as it is (every key known and in the schema's
 * order, nothing to strip, default or transform), so that row is taken without the schema's
 * parse. Any other value goes through the schema, which rejects it with the field named or
 * returns its own output. zod's parse per row was a sixth of loading HotPotQA's 6.8 MB.
 */
export type RowCheck = (value: unknown) => boolean;

/**
 * Reads a JSON Lines file and validates every non-blank line with `schema`. Any problem
 * throws a {@linkcode ConfigError} of the form `file:line: field: problem`, so a user can
 * jump to the bad row.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { readJsonl } from "./common.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"a": 1}\n{"a": "x"}\n');
 * try {
 *   await readJsonl(path, z.object({ a: z.number() }));
 *   throw new Error("no error");
 * } catch (e) {
 *   if (!(e as Error).message.startsWith(`${path}:2: a: `)) throw e;
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function readJsonl<S extends z.ZodType>(
  path: string,
  schema: S,
  options: ReadJsonlOptions = {},
): Promise<JsonlRow<z.output<S>>[]> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
    throw new ConfigError(`${path}: cannot read: ${reason}`, { cause: error });
  }
  if (options.manifestPath !== undefined) {
    await verifyAgainstManifest(options.manifestPath, path, bytes);
  }
  return parseJsonlLines(byteLines(bytes), path, schema, options.accepts);
}

/**
 * The lines of UTF-8 bytes, decoded one at a time, as `decode(bytes).split("\n")` would
 * give them: a newline byte is never part of a multi-byte character, and only the file's
 * first line loses a byte order mark. Decoding line by line leaves short strings behind for
 * the young generation instead of one 13 MB string (HotPotQA's test split) for a full GC.
 */
function* byteLines(bytes: Uint8Array): Generator<string> {
  const first = new TextDecoder();
  const rest = new TextDecoder("utf-8", { ignoreBOM: true });
  for (let start = 0; start <= bytes.length;) {
    const newline = bytes.indexOf(10, start);
    const end = newline < 0 ? bytes.length : newline;
    yield (start === 0 ? first : rest).decode(bytes.subarray(start, end));
    start = end + 1;
  }
}

/**
 * Validates JSON Lines text already in memory; `source` names it in errors. Blank lines
 * are skipped but still counted, so line numbers match an editor's.
 */
export function parseJsonlText<S extends z.ZodType>(
  text: string,
  source: string,
  schema: S,
  accepts?: RowCheck,
): JsonlRow<z.output<S>>[] {
  return parseJsonlLines(text.split("\n"), source, schema, accepts);
}

function parseJsonlLines<S extends z.ZodType>(
  lines: Iterable<string>,
  source: string,
  schema: S,
  accepts?: RowCheck,
): JsonlRow<z.output<S>>[] {
  const rows: JsonlRow<z.output<S>>[] = [];
  let line = 0;
  for (const raw of lines) {
    line++;
    const lineText = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (lineText.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (error) {
      throw new ConfigError(`${source}:${line}: invalid JSON: ${(error as Error).message}`);
    }
    if (accepts?.(value) === true) {
      rows.push({ row: value as z.output<S>, line });
      continue;
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new ConfigError(
        `${source}:${line}: ${describeSchemaIssue(result.error, "(row)", "invalid row")}`,
      );
    }
    rows.push({ row: result.data, line });
  }
  return rows;
}

/** Options for loading a built-in task's split. */
export interface SplitLoadOptions extends LoadOptions {
  /** Check the file against the manifest's sha256 (default true). */
  verify?: boolean;
}

/** A built-in task: its `load` also takes `verify` (checksum check against the manifest). */
export interface BuiltInTask extends Task {
  /** Loads and validates a split, checking the file's sha256 unless `verify` is false. */
  load(split: Split, options?: SplitLoadOptions): Promise<Example[]>;
}

/**
 * Reads `<dataDir>/<task>/<split>.jsonl` with `schema` (and the optional exact check
 * `accepts` before it), checking its sha256 against the manifest unless `verify` is false.
 */
export async function readSplitRows<S extends z.ZodType>(
  task: string,
  split: Split,
  schema: S,
  options: SplitLoadOptions = {},
  accepts?: RowCheck,
): Promise<JsonlRow<z.output<S>>[]> {
  const dataDir = resolveDataDir(options.dataDir);
  const relative = `${task}/${split}.jsonl`;
  const path = `${dataDir.replace(/\/+$/, "")}/${relative}`;
  try {
    return await readJsonl(path, schema, {
      manifestPath: options.verify === false ? undefined : relative,
      ...(accepts !== undefined ? { accepts } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError && error.message.endsWith("file not found")) {
      throw new ConfigError(
        `${error.message} (get the data with 'rpt data:fetch', or point --data-dir or ` +
          `RPT_DATA_DIR at a directory holding ${relative})`,
        { cause: error },
      );
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering and selection

/**
 * Renders a prompt program around a task body: the `system` field as the system message
 * (left out when empty), then one user message with the `instruction` followed by the body
 * (context and question). Extra prompt fields a task adds are ignored here.
 *
 * @example
 * ```ts
 * import { renderChat } from "./common.ts";
 * const m = renderChat({ system: "S", instruction: "I" }, "Question: q");
 * if (m.length !== 2 || m[1]?.content !== "I\n\nQuestion: q") throw new Error("unexpected");
 * ```
 */
export function renderChat(prompt: PromptProgram, body: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (prompt.system.trim() !== "") messages.push({ role: "system", content: prompt.system });
  const instruction = prompt.instruction.trim();
  messages.push({ role: "user", content: instruction === "" ? body : `${instruction}\n\n${body}` });
  return messages;
}

/**
 * Renders a question-answering example: the question, after its context when it has one.
 *
 * @example
 * ```ts
 * import { renderQuestion } from "./common.ts";
 * const m = renderQuestion({ system: "", instruction: "" }, {
 *   id: "1", question: "q", context: "c", answer: "a", row: {},
 * });
 * if (m[0]?.content !== "Context:\nc\n\nQuestion: q") throw new Error("unexpected");
 * ```
 */
export function renderQuestion(prompt: PromptProgram, example: Example): ChatMessage[] {
  const body = example.context === undefined
    ? `Question: ${example.question}`
    : `Context:\n${example.context}\n\nQuestion: ${example.question}`;
  return renderChat(prompt, body);
}

/** Prompt-length penalty of the selection function: 0.0025 per 1,000 characters. */
export const PROMPT_PENALTY_PER_1000_CHARS = 0.0025;

/**
 * The part of every default selection function after the task metric:
 * `w * Brier + lengthPenalty * chars / 1000` (the length penalty 0.0025 unless the input
 * gives one). A split with no parsed item has no Brier; it counts as the worst Brier (1) so
 * that format collapse is never rewarded.
 *
 * @example
 * ```ts
 * import { selectionPenalty } from "./common.ts";
 * const metrics = { brier: 0.2 } as Parameters<typeof selectionPenalty>[0]["metrics"];
 * const p = selectionPenalty({ metrics, promptChars: 2000, brierWeight: 0.05, lengthPenalty: 0 });
 * if (Math.abs(p - 0.01) > 1e-12) throw new Error(String(p));
 * ```
 */
export function selectionPenalty(input: SelectionInput): number {
  const brier = input.metrics.brier ?? 1;
  const perThousand = input.lengthPenalty ?? PROMPT_PENALTY_PER_1000_CHARS;
  return input.brierWeight * brier + perThousand * input.promptChars / 1000;
}

/**
 * Re-exported for `lib/revise.ts`, which imports it from here until it imports
 * `../prompt.ts` itself; new code imports `lib/prompt.ts`.
 */
export { promptChars } from "../prompt.ts";
