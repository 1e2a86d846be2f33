/**
 * A user's own task, described by a `task.json` (schema {@linkcode CustomTaskConfig}):
 *
 * ```json
 * {
 *   "name": "capitals",
 *   "data": "./data",
 *   "scorer": { "numeric": { "tolerance": 0.01 } },
 *   "seedPromptFile": "./seed.txt"
 * }
 * ```
 *
 * `data` is a directory holding `train.jsonl`, `dev.jsonl` and `test.jsonl`, or an object
 * with one path per split. Each row has `input`, `answer`, and optionally `id` (default
 * `<split>-<0-based line index>`), `context` and `subtask`. Scorers:
 * - `"exact"`: equal after trimming and lower-casing (`{"exact": {"caseSensitive": true}}`
 *   keeps case);
 * - `"f1"`: token F1 after SQuAD/HotPotQA normalization; full credit = exact match;
 * - `{"numeric": {"tolerance": t, "relative": false}}`: numbers (commas, `$`, `%` and
 *   spaces ignored) within `t` (absolute, or relative to |gold| when `relative`);
 * - `{"module": "./scorer.ts"}`: a module exporting
 *   `score(example, output, rawText)` returning a number in [0, 1], a boolean, or
 *   `{score, full?, details?}`.
 *
 * Relative paths resolve against the config file's directory. Selection: `score - w * Brier - P`.
 *
 * @module
 */
import { z } from "zod";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Example, ParseResult, ScoreResult, Split, TargetOutput } from "./schema.ts";
import { PromptProgram } from "../prompt.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";
import { parseJsonAs } from "../util/json.ts";
import {
  formatErrorScore,
  parseTargetOutput,
  readJsonl,
  renderChat,
  selectionPenalty,
  targetOutputSchema,
} from "./common.ts";
import { normalizeAnswer, sharedTokenCount } from "./hotpotqa.ts";
import { CUSTOM_DEFAULT_SEED, outputContract } from "./seeds.ts";
import type { SelectionInput, Task } from "./task.ts";
import { pySplit } from "../data/python.ts";

/** How a custom task scores an answer. */
export const CustomScorer = z.union([
  z.literal("exact"),
  z.literal("f1"),
  z.object({ exact: z.object({ caseSensitive: z.boolean().optional() }) }).strict(),
  z.object({
    numeric: z.object({
      tolerance: z.number().min(0).default(0),
      relative: z.boolean().optional(),
    }).strict(),
  }).strict(),
  z.object({ module: z.string().min(1) }).strict(),
]);
/** How a custom task scores an answer. */
export type CustomScorer = z.infer<typeof CustomScorer>;

/** A user's own task: a `task.json` next to its data. Relative paths resolve against it. */
export const CustomTaskConfig = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  description: z.string().optional(),
  /** A directory with train/dev/test.jsonl, or one path per split. */
  data: z.union([
    z.string().min(1),
    z.object({ train: z.string().min(1), dev: z.string().min(1), test: z.string().min(1) })
      .strict(),
  ]),
  scorer: CustomScorer,
  seedPrompt: PromptProgram.optional(),
  /** A JSON prompt program, or a text file used as the instruction. */
  seedPromptFile: z.string().min(1).optional(),
  /** Name of the reasoning field of the output contract (default `reasoning`). */
  reasoningField: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
}).strict().refine((c) => !(c.seedPrompt && c.seedPromptFile), {
  message: "give seedPrompt or seedPromptFile, not both",
});
/** A user's own task config. */
export type CustomTaskConfig = z.infer<typeof CustomTaskConfig>;

/** One row of a custom task's JSONL data. */
export const CustomTaskRow = z.object({
  input: z.string(),
  answer: z.union([z.string(), z.number()]).transform(String),
  id: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  context: z.string().optional(),
  subtask: z.string().optional(),
});
/** One row of a custom task's data. */
export type CustomTaskRow = z.infer<typeof CustomTaskRow>;

/** What a scorer module's `score` may return. */
export type CustomScoreValue =
  | number
  | boolean
  | { score: number; full?: boolean; details?: Record<string, unknown> };

/** The signature a scorer module exports as `score`. */
export type CustomScoreFn = (
  example: Example,
  output: TargetOutput,
  rawText: string,
) => CustomScoreValue;

type SyncScoreFn = (example: Example, output: TargetOutput, rawText: string) => ScoreResult;

/** Options for {@linkcode loadCustomTask}. */
export interface CustomTaskOptions {
  /** Directory a relative config path resolves against (default: the cwd). */
  baseDir?: string;
}

/**
 * Reads a task config and builds the task. Errors name the config file and field.
 *
 * @example
 * ```ts
 * import { loadCustomTask } from "./custom.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   for (const split of ["train", "dev", "test"]) {
 *     await Deno.writeTextFile(`${dir}/${split}.jsonl`, '{"input": "2+2?", "answer": 4}\n');
 *   }
 *   await Deno.writeTextFile(`${dir}/task.json`, JSON.stringify({ name: "sums", data: ".", scorer: "exact" }));
 *   const task = await loadCustomTask(`${dir}/task.json`);
 *   const [ex] = await task.load("dev");
 *   const r = task.score(ex!, task.parse('{"reasoning": "", "answer": "4", "confidence": 1}'), "");
 *   if (ex?.id !== "dev-0" || r.score !== 1) throw new Error("unexpected");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function loadCustomTask(
  configPath: string,
  options: CustomTaskOptions = {},
): Promise<Task> {
  const path = resolve(options.baseDir ?? Deno.cwd(), configPath);
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "file not found"
      : (error as Error).message;
    throw new ConfigError(`${path}: cannot read task config: ${reason}`, { cause: error });
  }
  const parsed = CustomTaskConfig.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `${path}: ${describeSchemaIssue(parsed.error, "(config)", "invalid task config")}`,
    );
  }
  const config = parsed.data;
  const base = dirname(path);
  const at = (p: string) => (isAbsolute(p) ? p : join(base, p));
  const reasoningField = config.reasoningField ?? "reasoning";
  const seedPrompt = await loadSeed(config, at, path, reasoningField);
  const scoreFn = await buildScorer(config.scorer, at, path);
  const splitPath = (split: Split) =>
    typeof config.data === "string"
      ? join(at(config.data), `${split}.jsonl`)
      : at(config.data[split]);

  return {
    name: `custom:${config.name}`,
    reasoningField,
    seedPrompt,
    outputSchema: targetOutputSchema(reasoningField),
    async load(split: Split): Promise<Example[]> {
      const file = splitPath(split);
      const rows = await readJsonl(file, CustomTaskRow);
      const seen = new Map<string, number>();
      return rows.map(({ row, line }) => {
        const id = row.id ?? `${split}-${line - 1}`;
        const first = seen.get(id);
        if (first !== undefined) {
          throw new ConfigError(
            `${file}:${line}: id: duplicate id '${id}' (first on line ${first})`,
          );
        }
        seen.set(id, line);
        return {
          id,
          question: row.input,
          context: row.context,
          answer: row.answer,
          subtask: row.subtask,
          row: row as unknown as Record<string, unknown>,
        };
      });
    },
    render(prompt, example) {
      const body = example.context === undefined
        ? `Question: ${example.question}`
        : `Context:\n${example.context}\n\nQuestion: ${example.question}`;
      return renderChat(prompt, body);
    },
    parse(rawText: string): ParseResult {
      return parseTargetOutput(rawText, reasoningField);
    },
    score(example: Example, parsedOutput: ParseResult, rawText: string): ScoreResult {
      if (!parsedOutput.ok) return formatErrorScore(parsedOutput.error);
      return scoreFn(example, parsedOutput.value, rawText);
    },
    selectionScore(input: SelectionInput): number {
      return input.metrics.score - selectionPenalty(input);
    },
    selectionTerm: "score",
  };
}

async function loadSeed(
  config: CustomTaskConfig,
  at: (p: string) => string,
  configPath: string,
  reasoningField: string,
): Promise<PromptProgram> {
  if (config.seedPrompt) return config.seedPrompt;
  if (config.seedPromptFile === undefined) {
    if (reasoningField === "reasoning") return CUSTOM_DEFAULT_SEED;
    return {
      ...CUSTOM_DEFAULT_SEED,
      instruction: `Answer the question. Think step by step.\n${outputContract(reasoningField)}`,
    };
  }
  const file = at(config.seedPromptFile);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(`${configPath}: seedPromptFile: cannot read ${file}`, { cause: error });
  }
  if (!file.endsWith(".json")) return { system: CUSTOM_DEFAULT_SEED.system, instruction: text };
  return parseJsonAs(text, file, PromptProgram, "(prompt)");
}

/**
 * Token F1 of two answers after HotPotQA/SQuAD normalization (without HotPotQA's yes/no rule).
 *
 * @example
 * ```ts
 * import { tokenF1 } from "./custom.ts";
 * if (tokenF1("the cat sat", "a cat") !== 2 / 3) throw new Error();
 * ```
 */
export function tokenF1(prediction: string, gold: string): number {
  const p = pySplit(normalizeAnswer(prediction));
  const g = pySplit(normalizeAnswer(gold));
  if (p.length === 0 && g.length === 0) return 1;
  const same = sharedTokenCount(p, g);
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** A number written with optional `$`, `%`, commas and spaces; undefined otherwise. */
export function parseLooseNumber(text: string): number | undefined {
  const cleaned = text.trim().replace(/[$,%\s]/g, "");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

function result(score: number, full: boolean, details: Record<string, unknown>): ScoreResult {
  return { score, full, impact: 1 - score, details };
}

async function buildScorer(
  scorer: CustomScorer,
  at: (p: string) => string,
  configPath: string,
): Promise<SyncScoreFn> {
  if (scorer === "exact" || (typeof scorer === "object" && "exact" in scorer)) {
    const caseSensitive = typeof scorer === "object" && scorer.exact.caseSensitive === true;
    const norm = (s: string) => (caseSensitive ? s.trim() : s.trim().toLowerCase());
    return (example, output) => {
      const ok = norm(output.answer) === norm(example.answer);
      return result(ok ? 1 : 0, ok, { correct: ok });
    };
  }
  if (scorer === "f1") {
    return (example, output) => {
      const f1 = tokenF1(output.answer, example.answer);
      const em = normalizeAnswer(output.answer) === normalizeAnswer(example.answer) ? 1 : 0;
      return result(f1, em === 1, { em, f1 });
    };
  }
  if ("numeric" in scorer) {
    const { tolerance, relative } = scorer.numeric;
    return (example, output) => {
      const gold = parseLooseNumber(example.answer);
      const pred = parseLooseNumber(output.answer);
      const allowed = relative && gold !== undefined ? tolerance * Math.abs(gold) : tolerance;
      const ok = gold !== undefined && pred !== undefined && Math.abs(pred - gold) <= allowed;
      return result(ok ? 1 : 0, ok, { correct: ok, predicted: pred ?? null });
    };
  }
  const file = at(scorer.module);
  let mod: { score?: unknown };
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    throw new ConfigError(
      `${configPath}: scorer.module: cannot import ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (typeof mod.score !== "function") {
    throw new ConfigError(`${file}: expected an exported function 'score'`);
  }
  const fn = mod.score as CustomScoreFn;
  return (example, output, rawText) => {
    const value: unknown = fn(example, output, rawText);
    if (value instanceof Promise) {
      throw new ConfigError(`${file}: score() must be synchronous`);
    }
    return fromModuleValue(value as CustomScoreValue, file);
  };
}

function fromModuleValue(value: CustomScoreValue, file: string): ScoreResult {
  if (typeof value === "boolean") return result(value ? 1 : 0, value, {});
  const score = typeof value === "number" ? value : value?.score;
  if (typeof score !== "number" || !(score >= 0 && score <= 1)) {
    throw new ConfigError(
      `${file}: score() must return a number in [0, 1], got ${JSON.stringify(value)}`,
    );
  }
  if (typeof value === "number") return result(score, score === 1, {});
  return result(score, value.full ?? score === 1, value.details ?? {});
}
