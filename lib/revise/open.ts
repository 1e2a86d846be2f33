/**
 * Opening a session: a new run ({@linkcode openSession}: the config checked, the task, data
 * and models ready before any call, `config.json` and the first checkpoint written) or an
 * existing one ({@linkcode reopenSession}: from its directory's config and checkpoint, as
 * `rpt resume` does). Both take the run directory for the session's lifetime.
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import { UsageLedger } from "../llm/accounting.ts";
import { defaultCachePath, SqliteResponseCache } from "../llm/cache.ts";
import { specsAreSimulated } from "../llm/spec.ts";
import { configForDisk, RunConfig } from "../run/config.ts";
import { parseEvents, readRunJson } from "../run/reader.ts";
import { RUN_FILES, RunState, STEP_FILES, stepDirName, type UsageSession } from "../run/schema.ts";
import { previousSessions, UsageLog } from "../run/usage.ts";
import { RunWriter } from "../run/writer.ts";
import type { Task } from "../tasks/task.ts";
import { PromptProgram } from "../prompt.ts";
import { ConfigError } from "../util/errors.ts";
import { defaultRunDir, resolveRunConfig, type SessionConfigInput } from "./config.ts";
import type { RunContext } from "./context.ts";
import {
  givenData,
  loadConfiguredTask,
  loadSplits,
  resolveSeedPrompt,
  type RunDataInput,
} from "./data.ts";
import { createRunModels, roleSettings, type RunModels, wrapRunModels } from "./models.ts";
import { emit, type LoopListeners } from "./progress.ts";
import { Session } from "./session.ts";

/** Options of {@linkcode openSession} and {@linkcode reopenSession}. */
export interface SessionOptions extends LoopListeners {
  /** Run directory (default `runs/<task>-<time>`); a new session must not find a run there. */
  runDir?: string;
  /**
   * Models to use instead of creating them from the config's specs (tests, notebooks, the
   * harness). They are wrapped with the run's cache and ledger like created ones.
   */
  models?: Partial<RunModels>;
  /** The task, instead of loading it by the config's name. */
  task?: Task;
  /** The examples, instead of loading the task's splits; without `test` none is scored on test. */
  data?: RunDataInput;
  /** Stops the session's calls (Ctrl-C): completed steps stay, `reopenSession` continues. */
  signal?: AbortSignal;
  /** Called once the run directory is known (before any call). */
  onRunDir?: (dir: string) => void;
  /** Environment for API keys (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Per-attempt timeout of model calls in ms (wrapper default when absent). */
  timeoutMs?: number;
  /** Retries of failed model calls (wrapper default when absent). */
  maxRetries?: number;
}

/**
 * The shared state of a session on `dir` (task, data, wrapped models, writer, usage log),
 * for a config already resolved; `before` are the usage sessions of earlier processes.
 * Sessions and `evaluatePromptOnly` build theirs here; nothing is written yet.
 */
export async function openContext(
  config: RunConfig,
  dir: string,
  options: SessionOptions,
  before: readonly UsageSession[],
): Promise<RunContext> {
  const seed = config.seedPrompt;
  const task = options.task === undefined
    ? await loadConfiguredTask(config)
    : typeof seed === "object"
    ? { ...options.task, seedPrompt: { system: seed.system, instruction: seed.instruction } }
    : options.task;
  const data = options.data ? givenData(task, options.data) : await loadSplits(task, config);
  const raw = await createRunModels(config, {
    env: options.env,
    given: options.models,
    task: { task, data },
  });
  const writer = new RunWriter(dir);
  const spent = before.reduce((n, s) => n + s.usage.total.usd, 0);
  const ledger = new UsageLedger({
    budget: config.budgetUsd !== undefined ? { usd: Math.max(0, config.budgetUsd - spent) } : {},
  });
  const cache = new SqliteResponseCache({ path: config.cache ?? defaultCachePath() });
  const models = wrapRunModels(raw, {
    cache,
    ledger,
    concurrency: config.concurrency,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    settings: roleSettings(config),
  });
  return {
    config,
    task,
    data,
    models,
    writer,
    usage: new UsageLog(writer, before, () => ledger.snapshot(), () => cache.health()),
    ledger,
    cache,
    simulated: specsAreSimulated(config),
    trainAnswers: data.train.map((e) => e.answer),
    signal: options.signal,
    listeners: options,
  };
}

async function assertNoRun(dir: string): Promise<void> {
  try {
    await Deno.stat(`${dir}/${RUN_FILES.config}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  throw new ConfigError(`${dir} already holds a run: use 'rpt resume ${dir}' or another --run-dir`);
}

/**
 * Opens a new run: checks the config, loads the task and data, creates the models (a
 * problem is a {@linkcode ConfigError} before any call), and writes `config.json`, the
 * first checkpoint and `run_start`. A task object, data and models may be given instead of
 * names and specs.
 *
 * @example
 * ```ts ignore
 * import { openSession } from "./session.ts";
 * const s = await openSession({ task: "synthetic", target: "sim:target",
 *   optimizer: "sim:optimizer", iterations: 3 }, { runDir: "runs/by-hand" });
 * const first = await s.step();
 * console.log(first?.record?.report.topics.map((t) => t.name));
 * ```
 */
export async function openSession(
  input: SessionConfigInput,
  options: SessionOptions = {},
): Promise<Session> {
  const config = await resolveSeedPrompt(resolveRunConfig(input, options));
  const dir = resolvePath(options.runDir ?? defaultRunDir(config));
  await assertNoRun(dir);
  const ctx = await openContext(config, dir, options, []);
  options.onRunDir?.(dir);
  emit(options, { type: "open", dir, config, completedSteps: 0, simulated: ctx.simulated });
  try {
    await Deno.mkdir(dir, { recursive: true });
    await ctx.writer.write(RUN_FILES.config, configForDisk(config));
    const state: RunState = {
      version: 1,
      completedSteps: 0,
      prompt: ctx.task.seedPrompt,
      memory: [],
      steps: [],
      lastTrain: null,
      best: null,
      stop: null,
      finished: false,
    };
    await ctx.writer.write(RUN_FILES.state, state);
    // A session killed before its first step still shows in usage.json (as "running").
    await ctx.usage.save("running");
    await ctx.writer.event({
      type: "run_start",
      task: ctx.task.name,
      simulated: ctx.simulated,
      examples: {
        train: ctx.data.train.length,
        dev: ctx.data.dev.length,
        test: ctx.data.test.length,
      },
    });
    return new Session(ctx, state, new Map());
  } catch (error) {
    ctx.cache.close();
    throw error;
  }
}

async function stepPrompts(dir: string, state: RunState): Promise<Map<number, PromptProgram>> {
  const prompts = new Map<number, PromptProgram>();
  for (let step = 1; step <= state.completedSteps; step++) {
    const path = `${dir}/${stepDirName(step)}/${STEP_FILES.prompt}`;
    try {
      prompts.set(step, await readRunJson(path, PromptProgram));
    } catch {
      // A damaged prompt file: the step's prompt is unknown (selection falls back to the checkpoint's).
    }
  }
  return prompts;
}

/**
 * A run continues on the examples it started on: the split sizes `run_start` recorded must
 * be those of the data now at hand (a run opened on given data is reopened with it).
 */
async function assertSameData(dir: string, ctx: RunContext): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${RUN_FILES.events}`);
  } catch {
    return; // killed before its first event: nothing was scored yet
  }
  const start = parseEvents(text, `${dir}/${RUN_FILES.events}`).find((e) => e.type === "run_start");
  if (start?.type !== "run_start") return;
  const now = {
    train: ctx.data.train.length,
    dev: ctx.data.dev.length,
    test: ctx.data.test.length,
  };
  const was = start.examples;
  if (was.train !== now.train || was.dev !== now.dev || was.test !== now.test) {
    throw new ConfigError(
      `${dir}: the run started on ${was.train}/${was.dev}/${was.test} train/dev/test examples, ` +
        `the data now has ${now.train}/${now.dev}/${now.test}; reopen it with the data it was opened on`,
    );
  }
}

/**
 * Reopens a run from its last complete step with the config recorded in its directory
 * (whether it was stepped by hand or by `optimize`). Give the same task, data or models
 * objects the run was opened with, if any; calls made before come from the cache.
 */
export async function reopenSession(
  runDir: string,
  options: Omit<SessionOptions, "runDir"> = {},
): Promise<Session> {
  const dir = resolvePath(runDir);
  const config = await readRunJson(`${dir}/${RUN_FILES.config}`, RunConfig);
  const state = await readRunJson(`${dir}/${RUN_FILES.state}`, RunState);
  const ctx = await openContext(config, dir, options, await previousSessions(dir));
  options.onRunDir?.(dir);
  try {
    await assertSameData(dir, ctx);
    emit(options, {
      type: "open",
      dir,
      config,
      completedSteps: state.completedSteps,
      simulated: ctx.simulated,
    });
    await ctx.writer.clean();
    await ctx.usage.save("running");
    await ctx.writer.event({ type: "resume", completedSteps: state.completedSteps });
    return new Session(ctx, state, await stepPrompts(dir, state));
  } catch (error) {
    ctx.cache.close();
    throw error;
  }
}
