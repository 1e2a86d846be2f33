/**
 * Opening a session: a new run ({@linkcode openSession}: the config checked, the task, data
 * and models ready before any call, `config.json` and the first checkpoint written) or an
 * existing one ({@linkcode reopenSession}: from its directory's config and checkpoint, as
 * `rpt resume` does). Both take the run directory for the session's lifetime.
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import type { UsageLedger } from "../llm/accounting.ts";
import { defaultCachePath, SqliteResponseCache } from "../llm/cache.ts";
import { specsAreSimulated } from "../llm/spec.ts";
import { configForDisk, parseRunConfig, RunConfig } from "../run/config.ts";
import { parseEvents, readRunJson } from "../run/reader.ts";
import {
  RUN_FILES,
  RunState,
  STEP_FILES,
  stepDirName,
  totalUsage,
  type UsageSession,
} from "../run/schema.ts";
import { previousSessions, UsageLog } from "../run/usage.ts";
import { RunLock } from "../run/lock.ts";
import { RunWriter } from "../run/writer.ts";
import type { Task } from "../tasks/task.ts";
import { PromptProgram } from "../prompt.ts";
import { ConfigError } from "../util/errors.ts";
import { FileAccessError, fileAccessError } from "../util/fs_errors.ts";
import { defaultRunDir, resolveRunConfig, type SessionConfigInput } from "./config.ts";
import { releaseContext, type RunContext } from "./context.ts";
import { assertBudgetEnforceable, runLedger } from "./budget.ts";
import {
  givenData,
  loadConfiguredTask,
  loadSplits,
  resolveSeedPrompt,
  type RunData,
  type RunDataInput,
} from "./data.ts";
import { endpointsOf, type RunEndpoints } from "./endpoints.ts";
import { createRunModels, roleSettings, type RunModels, wrapRunModels } from "./models.ts";
import { type BatchClients, batchGates, createBatchClients, type RunBatching } from "./batch.ts";
import { emit, type LoopListeners, type LoopSpend, spendOf } from "./progress.ts";
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
  /**
   * Settings a resumed run changes from here on (`rpt resume --max-error-rate R`); they are
   * written into its `config.json`.
   */
  configOverrides?: Partial<
    Pick<
      RunConfig,
      | "maxErrorRate"
      | "timeoutSeconds"
      | "retries"
      | "backoffMaxSeconds"
      | "batch"
      | "batchPollSeconds"
    >
  >;
}

/** What a session needs before it takes the run directory: nothing here writes or calls. */
interface Prepared {
  task: Task;
  data: RunData;
  raw: RunModels;
  cache: SqliteResponseCache;
  /** Where each role's model goes (for a new run, to record; for a resumed one, as recorded). */
  endpoints: RunEndpoints;
  /** Batch mode's clients (none without `batch: true`). */
  batch: BatchClients;
}

/**
 * Loads the task and data, creates the models (a resumed run's go to their recorded
 * servers) and opens the cache: every problem with the configuration shows here, before the
 * run directory is touched and before any call.
 */
async function prepare(
  config: RunConfig,
  options: SessionOptions,
  recorded?: RunEndpoints,
): Promise<Prepared> {
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
    ...(recorded ? { endpoints: recorded } : {}),
  });
  const endpoints = recorded ?? endpointsOf(config, options.env, options.models ?? {});
  assertBudgetEnforceable(config, raw, runLedger(config, []));
  const batch = await createBatchClients(config, {
    env: options.env,
    ...(recorded ? { endpoints: recorded } : {}),
    given: options.models ?? {},
  });
  for (const note of batch.notes) console.warn(note);
  const cache = new SqliteResponseCache({ path: config.cache ?? defaultCachePath() });
  return { task, data, raw, cache, endpoints, batch };
}

/** The session's shared state, once the run directory is held: ledger, usage, wrapped models. */
function assemble(
  config: RunConfig,
  dir: string,
  p: Prepared,
  lock: RunLock,
  before: readonly UsageSession[],
  options: SessionOptions,
): RunContext {
  const writer = new RunWriter(dir);
  // The log appends what the ledger settles, and saves what the ledger totals.
  const holder: { ledger?: UsageLedger } = {};
  const usage = new UsageLog(
    writer,
    before,
    () => (holder.ledger as UsageLedger).snapshot(),
    () => p.cache.health(),
  );
  const ledger = holder.ledger = runLedger(config, before, (record) => usage.append(record));
  // Batch mode's gates reach the session's writer and listeners through the context.
  const session: { ctx?: RunContext; gates?: RunBatching } = {};
  const timeoutMs = options.timeoutMs ??
    (config.timeoutSeconds !== undefined ? config.timeoutSeconds * 1000 : undefined);
  const models = wrapRunModels(p.raw, {
    cache: p.cache,
    ledger,
    concurrency: config.concurrency,
    timeoutMs,
    maxRetries: options.maxRetries ?? config.retries,
    settings: roleSettings(config),
    around: gateFronts(p.batch, session),
    ...(config.backoffMaxSeconds !== undefined
      ? {
        backoff: {
          maxDelayMs: config.backoffMaxSeconds * 1000,
          baseDelayMs: Math.min(500, config.backoffMaxSeconds * 1000),
        },
      }
      : {}),
  });
  return session.ctx = {
    config,
    task: p.task,
    data: p.data,
    models,
    ...(session.gates && Object.keys(session.gates).length > 0 ? { batch: session.gates } : {}),
    writer,
    usage,
    ledger,
    cache: p.cache,
    endpoints: p.endpoints,
    lock,
    simulated: specsAreSimulated(config),
    trainAnswers: p.data.train.map((e) => e.answer),
    signal: options.signal,
    listeners: options,
  };
}

/** The gates of batch mode, put in front of the wrapped target and critic. */
function gateFronts(
  batch: BatchClients,
  session: { ctx?: RunContext; gates?: RunBatching },
): NonNullable<Parameters<typeof wrapRunModels>[1]["around"]> {
  const fronts: NonNullable<Parameters<typeof wrapRunModels>[1]["around"]> = {};
  for (const role of ["target", "critic"] as const) {
    if (batch.clients[role] === undefined) continue;
    fronts[role] = (wrapped) => {
      const { gates, models } = batchGates(
        { [role]: batch.clients[role] },
        { [role]: wrapped },
        () => session.ctx as RunContext,
      );
      session.gates = { ...session.gates, ...gates };
      return models[role] ?? wrapped;
    };
  }
  return fronts;
}

/**
 * The shared state of a session on `dir` (task, data, wrapped models, writer, usage log,
 * and the directory's lock), for a config already resolved; `before` are the usage sessions
 * of earlier processes. `evaluatePromptOnly` builds its own here; give it back with
 * `releaseContext`. Nothing is written yet.
 */
export async function openContext(
  config: RunConfig,
  dir: string,
  options: SessionOptions,
  before: readonly UsageSession[],
): Promise<RunContext> {
  const p = await prepare(config, options);
  return assemble(config, dir, p, await lockRun(dir, p), before, options);
}

/** Takes the run directory; a refusal closes what `prepare` opened. */
async function lockRun(dir: string, p: Prepared): Promise<RunLock> {
  try {
    return await RunLock.acquire(dir);
  } catch (error) {
    p.cache.close();
    throw error;
  }
}

async function assertNoRun(dir: string): Promise<void> {
  try {
    await Deno.stat(`${dir}/${RUN_FILES.config}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    // A run directory that is a file (or under one) is the user's to fix: one line.
    const isFile = await Deno.stat(dir).then((i) => !i.isDirectory, () => false);
    if (isFile) {
      throw new FileAccessError(dir, `${dir} is a file, not a directory: give a directory path`);
    }
    throw fileAccessError(error, dir, "create the run directory");
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
  const resolved = await resolveSeedPrompt(resolveRunConfig(input, options));
  const dir = resolvePath(options.runDir ?? defaultRunDir(resolved));
  await assertNoRun(dir);
  const p = await prepare(resolved, options);
  const { endpoints: _given, ...rest } = resolved;
  const config: RunConfig = Object.keys(p.endpoints).length > 0
    ? { ...rest, endpoints: p.endpoints }
    : rest;
  const existed = await exists(dir);
  const lock = await lockRun(dir, p);
  const ctx = assemble(config, dir, p, lock, [], options);
  let written = false;
  try {
    await assertNoRun(dir); // another process may have opened it before we held it
    options.onRunDir?.(dir);
    emit(options, { type: "open", dir, config, completedSteps: 0, simulated: ctx.simulated });
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
    // A directory holds a run once config.json is there, so the state goes first: a kill
    // between the two writes leaves no run (the next optimize starts it afresh), never a
    // run that resume cannot read.
    await ctx.writer.write(RUN_FILES.state, state);
    await ctx.writer.write(RUN_FILES.config, configForDisk(config));
    written = true;
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
    releaseContext(ctx);
    // A directory this call created and never wrote a run into is not left behind.
    if (!existed && !written) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
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
  const events = await parseEvents(text, `${dir}/${RUN_FILES.events}`);
  const start = events.find((e) => e.type === "run_start");
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

/** The elapsed time and spend of the sessions before this one, for the progress line. */
function earlierSessions(
  before: readonly UsageSession[],
): { elapsedMs: number; spend: LoopSpend } {
  const { unpriced, ...t } = totalUsage(before);
  return {
    elapsedMs: before.reduce((sum, s) => sum + s.elapsedMs, 0),
    spend: spendOf(t, unpriced),
  };
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
  const recorded = await readRunJson(`${dir}/${RUN_FILES.config}`, RunConfig);
  const overrides = options.configOverrides ?? {};
  const changed = Object.keys(overrides).length > 0;
  const config = changed ? parseRunConfig({ ...recorded, ...overrides }) : recorded;
  const state = await readRunJson(`${dir}/${RUN_FILES.state}`, RunState);
  const p = await prepare(config, options, config.endpoints);
  const lock = await lockRun(dir, p);
  let ctx: RunContext | undefined;
  try {
    const before = await previousSessions(dir, config.prices ? { prices: config.prices } : {});
    ctx = assemble(config, dir, p, lock, before, options);
    options.onRunDir?.(dir);
    await assertSameData(dir, ctx);
    emit(options, {
      type: "open",
      dir,
      config,
      completedSteps: state.completedSteps,
      simulated: ctx.simulated,
      earlier: earlierSessions(before),
    });
    await ctx.writer.clean();
    if (changed) await ctx.writer.write(RUN_FILES.config, configForDisk(config));
    await ctx.usage.save("running");
    await ctx.writer.event({ type: "resume", completedSteps: state.completedSteps });
    return new Session(ctx, state, await stepPrompts(dir, state));
  } catch (error) {
    if (ctx) releaseContext(ctx);
    else {
      lock.release();
      p.cache.close();
    }
    throw error;
  }
}
