/**
 * The run record on disk (DESIGN section 4): a directory a person can read and a notebook
 * can load.
 *
 * ```text
 * <run>/config.json       the RunConfig (no secrets: credentials are stripped from URLs)
 * <run>/events.jsonl      one JSON line per event (steps, evaluations, reports, tool calls,
 *                         decisions, rejections, selections, usage, interruptions)
 * <run>/iter-001/         one folder per step: prompt.json, dev.json, test.json (steps 1 and
 *                         every 5), and for iterations report.json, report.md, record.json
 *                         (traces without messages, critiques, full clustering, candidate
 *                         diagnoses) and decision.json (the optimizer conversation, the
 *                         decision, rejections, the next prompt)
 * <run>/final/test.json   the selected prompt scored on test
 * <run>/state.json        the checkpoint after the last complete step (resume starts here)
 * <run>/summary.json      the result (deterministic: no times, no usage)
 * <run>/usage.json        calls, tokens and dollars per session
 * ```
 *
 * Every file is written atomically (temporary file, then rename); a step folder is built
 * under `iter-NNN.tmp/` and renamed into place before the checkpoint moves past it, so a
 * run killed at any point resumes from its last complete step. {@linkcode resume}
 * continues such a run; the response cache recorded in `config.json` answers every call
 * that completed before the interruption, so none is paid twice.
 *
 * @module
 */
import { dirname, join, resolve as resolvePath } from "node:path";
import { redactURL } from "./llm/cache.ts";
import type { OptimizeOptions, OptimizeResult } from "./revise.ts";
import {
  DiagnosticReport,
  Evaluation,
  PromptProgram,
  RunConfig,
  RunState,
  RunSummary,
  UsageSnapshot,
} from "./types.ts";
import { ConfigError } from "./util/errors.ts";
import { parseJsonAs } from "./util/json.ts";
import { z } from "zod";

/** File names of a run directory. */
export const RUN_FILES = {
  config: "config.json",
  events: "events.jsonl",
  state: "state.json",
  summary: "summary.json",
  usage: "usage.json",
  finalTest: "final/test.json",
} as const;

/** The folder name of step `n`: `iter-001`. */
export function stepDirName(step: number): string {
  return `iter-${String(step).padStart(3, "0")}`;
}

let tmpCounter = 0;

/**
 * Writes a text file atomically: a temporary file in the same directory, then a rename,
 * so a reader (or a resumed run) never sees half a file.
 *
 * @example
 * ```ts
 * import { writeTextAtomic } from "./run.ts";
 * const dir = await Deno.makeTempDir();
 * await writeTextAtomic(`${dir}/a/b.txt`, "hello");
 * if (await Deno.readTextFile(`${dir}/a/b.txt`) !== "hello") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}-${tmpCounter++}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Writes JSON (2-space indented) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * A model spec with credentials removed from its base URL (`scheme://user:key@host` and
 * query strings), as written to `config.json`.
 *
 * @example
 * ```ts
 * import { redactSpec } from "./run.ts";
 * const s = redactSpec("openai-compatible:q@http://u:sk-1@127.0.0.1:8000/v1?key=sk-2");
 * if (s !== "openai-compatible:q@http://127.0.0.1:8000/v1") throw new Error(s);
 * ```
 */
export function redactSpec(spec: string): string {
  const colon = spec.indexOf(":");
  const at = spec.indexOf("@", colon + 1);
  if (colon < 0 || at < 0) return spec;
  // The last '@' that starts a URL: user info inside the URL has its own '@'.
  const urlStart = spec.slice(at + 1).search(/https?:\/\//);
  if (urlStart < 0) return spec;
  return `${spec.slice(0, at + 1)}${redactURL(spec.slice(at + 1 + urlStart))}`;
}

/** The config as written to disk: spec strings without credentials. */
export function configForDisk(config: RunConfig): RunConfig {
  return {
    ...config,
    target: redactSpec(config.target),
    optimizer: redactSpec(config.optimizer),
    ...(config.critic !== undefined ? { critic: redactSpec(config.critic) } : {}),
    embedder: redactSpec(config.embedder),
  };
}

/** One line of `events.jsonl`. */
export interface RunEvent {
  /** ISO time. */
  time: string;
  type: string;
  step?: number;
  [key: string]: unknown;
}

/**
 * Writes one run directory. Events are appended line by line; everything else is written
 * atomically.
 */
export class RunWriter {
  /** The run directory (absolute). */
  readonly dir: string;

  /** A writer for `dir` (created when missing). */
  constructor(dir: string) {
    this.dir = resolvePath(dir);
  }

  /** Appends one event line. */
  async event(type: string, data: Record<string, unknown> = {}): Promise<void> {
    const line = JSON.stringify({ time: new Date().toISOString(), type, ...data });
    await Deno.mkdir(this.dir, { recursive: true });
    await Deno.writeTextFile(join(this.dir, RUN_FILES.events), line + "\n", { append: true });
  }

  /** Writes any file of the run atomically (JSON unless `text` is a string). */
  async write(relative: string, value: unknown): Promise<void> {
    const path = join(this.dir, relative);
    if (typeof value === "string") await writeTextAtomic(path, value);
    else await writeJsonAtomic(path, value);
  }

  /**
   * Writes a step folder: every file into `iter-NNN.tmp/`, then one rename, replacing a
   * folder left by an earlier, interrupted attempt at the same step.
   */
  async writeStep(step: number, files: Record<string, unknown>): Promise<void> {
    const final = join(this.dir, stepDirName(step));
    const tmp = `${final}.tmp`;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.mkdir(tmp, { recursive: true });
    for (const [name, value] of Object.entries(files)) {
      const text = typeof value === "string" ? value : JSON.stringify(value, null, 2) + "\n";
      await Deno.writeTextFile(join(tmp, name), text);
    }
    await Deno.remove(final, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, final);
  }

  /** Removes leftovers of an interrupted write (`*.tmp` folders and files). */
  async clean(): Promise<void> {
    for await (const entry of Deno.readDir(this.dir)) {
      if (/\.tmp(-\d+-\d+)?$/.test(entry.name)) {
        await Deno.remove(join(this.dir, entry.name), { recursive: true }).catch(() => {});
      }
    }
  }
}

/** Reads and validates a JSON file of a run; a problem names the file and the field. */
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

async function readOptional<S extends z.ZodType>(
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

/** `usage.json`: usage per session of a run (a resumed run has several). */
export const RunUsage = z.object({
  sessions: z.array(z.object({
    started: z.string(),
    ended: z.string().nullable(),
    status: z.enum(["running", "finished", "interrupted", "failed"]),
    elapsedMs: z.number(),
    usage: UsageSnapshot,
  })),
  total: z.object({
    calls: z.number().int(),
    cacheHits: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    usd: z.number(),
  }),
});
/** `usage.json`. */
export type RunUsage = z.infer<typeof RunUsage>;

/** Sums the sessions' usage into `total`. */
export function totalUsage(sessions: RunUsage["sessions"]): RunUsage["total"] {
  const t = { calls: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, usd: 0 };
  for (const s of sessions) {
    t.calls += s.usage.total.calls;
    t.cacheHits += s.usage.total.cacheHits;
    t.inputTokens += s.usage.total.inputTokens;
    t.outputTokens += s.usage.total.outputTokens;
    t.usd += s.usage.total.usd;
  }
  return t;
}

/** `decision.json` of an iteration. */
export const StepDecisionFile = z.object({
  decision: z.unknown(),
  accepted: z.boolean(),
  rejections: z.array(z.string()),
  nextPrompt: PromptProgram.nullable(),
  stop: z.object({ kind: z.string(), reason: z.string() }).nullable(),
  messages: z.array(z.unknown()),
});

/** One step folder, loaded. `record` (traces, critiques, clustering) only on request. */
export interface StepRecord {
  step: number;
  prompt: PromptProgram;
  dev: Evaluation | null;
  test: Evaluation | null;
  report: DiagnosticReport | null;
  decision: z.infer<typeof StepDecisionFile> | null;
  /** `record.json`: present when loaded with `records: true`. */
  record?: unknown;
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
}

/**
 * Loads a run directory into typed objects (one call, for notebooks). Traces, critiques
 * and clusterings (`record.json`, the bulk of a run) are loaded only with
 * `records: true`. A torn last line of `events.jsonl` (a killed run) is skipped.
 *
 * @example
 * ```ts ignore
 * import { loadRun } from "./run.ts";
 * const run = await loadRun("runs/hotpotqa-2025-01-01T00-00-00");
 * console.log(run.summary?.selected.dev.score, run.steps.length);
 * ```
 */
export async function loadRun(
  dir: string,
  opts: { records?: boolean } = {},
): Promise<RunRecord> {
  const abs = resolvePath(dir);
  const config = await readRunJson(join(abs, RUN_FILES.config), RunConfig);
  const state = await readOptional(join(abs, RUN_FILES.state), RunState);
  const summary = await readOptional(join(abs, RUN_FILES.summary), RunSummary);
  const usage = await readOptional(join(abs, RUN_FILES.usage), RunUsage);
  const finalTest = await readOptional(join(abs, RUN_FILES.finalTest), Evaluation);
  const stepNumbers: number[] = [];
  for await (const entry of Deno.readDir(abs)) {
    const m = /^iter-(\d+)$/.exec(entry.name);
    if (m && entry.isDirectory) stepNumbers.push(Number(m[1]));
  }
  stepNumbers.sort((a, b) => a - b);
  const steps: StepRecord[] = [];
  for (const step of stepNumbers) {
    const folder = join(abs, stepDirName(step));
    const record: StepRecord = {
      step,
      prompt: await readRunJson(join(folder, "prompt.json"), PromptProgram),
      dev: await readOptional(join(folder, "dev.json"), Evaluation),
      test: await readOptional(join(folder, "test.json"), Evaluation),
      report: await readOptional(join(folder, "report.json"), DiagnosticReport),
      decision: await readOptional(join(folder, "decision.json"), StepDecisionFile),
    };
    if (opts.records) record.record = await readOptional(join(folder, "record.json"), z.unknown());
    steps.push(record);
  }
  const events: RunEvent[] = [];
  try {
    const text = await Deno.readTextFile(join(abs, RUN_FILES.events));
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        events.push(JSON.parse(line) as RunEvent);
      } catch {
        // A line torn by a kill mid-append; the events before it are intact.
      }
    }
  } catch {
    // A run that never got to its first event.
  }
  return { dir: abs, config, state, summary, usage, steps, finalTest, events };
}

/**
 * Resumes an interrupted run from its last complete step, with the config recorded in its
 * directory. Calls that completed before the interruption are answered by the response
 * cache, so a resumed run ends with the same `summary.json` as an uninterrupted one and
 * pays for no call twice. A finished run is left as it is (its summary is returned).
 */
export async function resume(
  runDir: string,
  options: Omit<OptimizeOptions, "runDir"> = {},
): Promise<OptimizeResult> {
  const { continueRun } = await import("./revise.ts");
  return await continueRun(runDir, options);
}
