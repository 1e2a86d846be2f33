/**
 * Reading a run directory into typed, validated objects: {@linkcode loadRun} for a whole
 * run (notebooks, `rpt show`, `rpt report`, the analyses) and {@linkcode readRunJson} for
 * one file. Every file is checked against its schema (`schema.ts`, `events.ts`); a bad file
 * is a `ConfigError` naming the file (and line) and the field.
 *
 * @module
 */
import { join, resolve as resolvePath } from "node:path";
import type { z } from "zod";
import { PromptProgram } from "../prompt.ts";
import { DiagnosticReport } from "../report.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";
import { parseJsonAs } from "../util/json.ts";
import { RunConfig } from "./config.ts";
import type { RunEvent } from "./events.ts";
import {
  Evaluation,
  IncompleteRecord,
  RUN_FILES,
  RunState,
  RunSummary,
  RunUsage,
  STEP_FILES,
  StepDecisionFile,
  stepDirName,
  StepRecordFile,
} from "./schema.ts";

/**
 * Reads and validates a JSON file of a run; a problem names the file and the field.
 *
 * @example
 * ```ts
 * import { readRunJson } from "./reader.ts";
 * import { RunState } from "./schema.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/state.json`, JSON.stringify({ version: 1 }));
 * const message = await readRunJson(`${dir}/state.json`, RunState).then(() => "", (e) => e.message);
 * if (!/state\.json: completedSteps: /.test(message)) throw new Error(message);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readRunJson<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<z.output<S>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
    throw new ConfigError(`${path}: cannot read: ${reason}`, { cause: error });
  }
  return parseJsonAs(text, path, schema, "(file)");
}

/** Like {@linkcode readRunJson}, but null when the file does not exist. */
export async function readOptionalRunJson<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<z.output<S> | null> {
  try {
    await Deno.stat(path);
  } catch {
    return null;
  }
  return await readRunJson(path, schema);
}

/**
 * Parses `events.jsonl` text. A line that is not JSON is skipped: only a kill in the middle
 * of an append makes one, and the events around it are intact. A JSON line that is not a
 * known event is a `ConfigError` naming the line and the field. The events' schema (a union
 * of some 250 zod schemas) is loaded on the first call: a fresh run never reads events, and
 * building it was a fifth of the zod work of `rpt optimize`'s start-up.
 *
 * @example
 * ```ts
 * import { parseEvents } from "./reader.ts";
 * const events = await parseEvents('{"time": "t", "type": "failed", "message": "m"}\n{"type": "ha', "events.jsonl");
 * if (events.length !== 1 || events[0]?.type !== "failed") throw new Error();
 * ```
 */
export async function parseEvents(text: string, source: string): Promise<RunEvent[]> {
  const { RunEvent } = await import("./events.ts");
  const events: RunEvent[] = [];
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // torn by a kill mid-append
    }
    const parsed = RunEvent.safeParse(value);
    if (!parsed.success) {
      throw new ConfigError(
        `${source}:${i + 1}: ${describeSchemaIssue(parsed.error, "(event)")}`,
      );
    }
    events.push(parsed.data);
  }
  return events;
}

/** One step folder, loaded. `record` (traces, critiques, clustering) only on request. */
export interface StepRecord {
  step: number;
  prompt: PromptProgram;
  dev: Evaluation | null;
  test: Evaluation | null;
  report: DiagnosticReport | null;
  decision: StepDecisionFile | null;
  /**
   * `record.json` when loaded with `records: true` (null for a step without one, such as
   * the final dev-only step); absent otherwise.
   */
  record?: StepRecordFile | null;
}

/** A whole run, typed, for notebooks. */
export interface RunRecord {
  dir: string;
  config: RunConfig;
  state: RunState | null;
  summary: RunSummary | null;
  usage: RunUsage | null;
  steps: StepRecord[];
  finalTest: Evaluation | null;
  events: RunEvent[];
  /** Why the run stopped incomplete (calls failed after their retries); null otherwise. */
  incomplete: IncompleteRecord | null;
}

async function stepNumbers(dir: string): Promise<number[]> {
  const numbers: number[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const m = /^iter-(\d+)$/.exec(entry.name);
    if (m && entry.isDirectory) numbers.push(Number(m[1]));
  }
  return numbers.sort((a, b) => a - b);
}

/** Loads one step folder of the run in `dir`. */
export async function loadStep(
  dir: string,
  step: number,
  opts: { records?: boolean } = {},
): Promise<StepRecord> {
  const folder = join(resolvePath(dir), stepDirName(step));
  const at = (name: string) => join(folder, name);
  const record: StepRecord = {
    step,
    prompt: await readRunJson(at(STEP_FILES.prompt), PromptProgram),
    dev: await readOptionalRunJson(at(STEP_FILES.dev), Evaluation),
    test: await readOptionalRunJson(at(STEP_FILES.test), Evaluation),
    report: await readOptionalRunJson(at(STEP_FILES.report), DiagnosticReport),
    decision: await readOptionalRunJson(at(STEP_FILES.decision), StepDecisionFile),
  };
  if (opts.records) {
    record.record = await readOptionalRunJson(at(STEP_FILES.record), StepRecordFile);
  }
  return record;
}

/**
 * Loads a run directory into typed objects (one call, for notebooks). Traces, critiques
 * and clusterings (`record.json`, the bulk of a run) are loaded only with
 * `records: true`. A torn last line of `events.jsonl` (a killed run) is skipped.
 *
 * @example
 * ```ts ignore
 * import { loadRun } from "./reader.ts";
 * const run = await loadRun("runs/hotpotqa-2025-01-01T00-00-00");
 * console.log(run.summary?.selected.dev.score, run.steps.length);
 * ```
 */
export async function loadRun(
  dir: string,
  opts: { records?: boolean } = {},
): Promise<RunRecord> {
  const abs = resolvePath(dir);
  const at = (name: string) => join(abs, name);
  const config = await readRunJson(at(RUN_FILES.config), RunConfig);
  const state = await readOptionalRunJson(at(RUN_FILES.state), RunState);
  const summary = await readOptionalRunJson(at(RUN_FILES.summary), RunSummary);
  const usage = await readOptionalRunJson(at(RUN_FILES.usage), RunUsage);
  const finalTest = await readOptionalRunJson(at(RUN_FILES.finalTest), Evaluation);
  const incomplete = await readOptionalRunJson(at(RUN_FILES.incomplete), IncompleteRecord);
  const steps: StepRecord[] = [];
  for (const step of await stepNumbers(abs)) steps.push(await loadStep(abs, step, opts));
  let events: RunEvent[] = [];
  try {
    events = await parseEvents(
      await Deno.readTextFile(at(RUN_FILES.events)),
      at(RUN_FILES.events),
    );
  } catch (error) {
    // A run that never got to its first event has no log; a bad line is the caller's to see.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return { dir: abs, config, state, summary, usage, steps, finalTest, events, incomplete };
}
