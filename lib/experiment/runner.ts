/**
 * Running an experiment: every cell of the plan's grid through the one real code of its
 * method (RPT: `optimize` / `continueRun` of `lib/revise/`; GEPA, MIPRO, ACE: `compare` of
 * `lib/baselines/`), `parallel` cells at a time. Concurrent cells share the per-provider
 * limits (`lib/llm/wrap.ts`) and one response cache, in which a request already in flight for
 * another cell is awaited rather than sent twice.
 *
 * Resuming: finished cells are kept (their results are read, not recomputed); an RPT cell
 * that was under way continues from its last complete step (`continueRun`); a baseline cell
 * under way is run again from its start, its earlier calls answered by the cache below its
 * budget meter, so it spends and selects exactly as before and pays for nothing twice. A
 * failed cell is recorded with its error and does not stop the others; a resume tries it
 * again.
 *
 * @module
 */
import { join, resolve as resolvePath } from "node:path";
import { compare, type CompareResult } from "../baselines/compare.ts";
import { createChatModel, createEmbedder } from "../llm/spec.ts";
import { continueRun, optimize, type OptimizeOptions } from "../revise/optimize.ts";
import { RUN_FILES } from "../run/schema.ts";
import { ConfigError } from "../util/errors.ts";
import { writeJsonAtomic } from "../util/fs.ts";
import { stableStringify } from "../util/json.ts";
import { mapConcurrent } from "../util/limit.ts";
import { type CellPlan, gridBanner, prepareCells } from "./cells.ts";
import { expandPlan } from "./grid.ts";
import {
  cellRunDir,
  type CellState,
  EXPERIMENT_FILES,
  type ExperimentIndex,
  IndexWriter,
  newIndex,
  readIndex,
} from "./index_file.ts";
import { batchBaselineNote } from "./methods.ts";
import { ExperimentPlan, parsePlan } from "./plan.ts";
import type { CellResult } from "./result.ts";
import { ComparisonRecord, resultFromComparison, resultFromRun } from "./result.ts";
import { readRunJson } from "../run/reader.ts";

/** What an experiment reports while it runs. */
export type ExperimentEvent =
  | { type: "cell"; id: string; state: CellState; attempt: number; error?: string }
  | { type: "progress"; id: string; text: string };

/** Options of {@linkcode runExperiment}. */
export interface ExperimentOptions {
  /** The experiment directory. */
  dir: string;
  /** The plan (paths absolute, see `absolutePlan`); optional when resuming. */
  plan?: ExperimentPlan;
  /**
   * Continue the experiment in `dir` (or start it when `dir` holds none). Without it a
   * directory that holds an experiment is refused.
   */
  resume?: boolean;
  /** Cells run at a time (default 2). */
  parallel?: number;
  /** Stops every cell after its last complete step; a resume continues. */
  signal?: AbortSignal;
  onEvent?: (event: ExperimentEvent) => void;
  /** Called once every cell is checked, before the first call (the SIMULATED note goes here). */
  onStart?: (info: {
    dir: string;
    /** Every cell with its state when the experiment starts (or resumes). */
    cells: { id: string; state: CellState }[];
    /** Cells to run now. */
    todo: number;
    simulated: boolean;
    /** The SIMULATED banner naming the simulated roles, when any is. */
    banner?: string;
    /** With batch on: that the baseline cells run interactive (`batchBaselineNote`). */
    baselineNote?: string;
  }) => void;
  /** Environment for API keys (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Per-attempt timeout of model calls in ms (wrapper default when absent). */
  timeoutMs?: number;
  /** Retries of failed model calls (wrapper default when absent). */
  maxRetries?: number;
}

/** What an experiment ended with. */
export interface ExperimentOutcome {
  dir: string;
  index: ExperimentIndex;
  counts: Record<CellState, number>;
  /** True when the signal stopped it (cells under way went back to `pending`). */
  interrupted: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The experiment's response cache file. */
export function experimentCachePath(dir: string, plan: ExperimentPlan): string {
  return resolvePath(plan.cache ?? join(dir, EXPERIMENT_FILES.cache));
}

/** Opens the experiment: its plan, cells and index, new or found in `dir`. */
async function openExperiment(dir: string, options: ExperimentOptions) {
  const found = await exists(join(dir, EXPERIMENT_FILES.index));
  if (found && !options.resume) {
    throw new ConfigError(
      `${dir} already holds an experiment: add --resume to continue it, or give another --run-dir`,
    );
  }
  let plan: ExperimentPlan;
  if (found) {
    plan = parsePlan(
      JSON.parse(await Deno.readTextFile(join(dir, EXPERIMENT_FILES.plan))),
      join(dir, EXPERIMENT_FILES.plan),
    );
    if (options.plan !== undefined && stableStringify(options.plan) !== stableStringify(plan)) {
      throw new ConfigError(
        `${dir} holds an experiment of another plan (${join(dir, EXPERIMENT_FILES.plan)}): ` +
          `resume it without a plan, or give another --run-dir`,
      );
    }
  } else {
    if (options.plan === undefined) {
      throw new ConfigError(`${dir} holds no experiment to resume: give the plan`);
    }
    plan = options.plan;
  }
  const cells = expandPlan(plan);
  return { plan, cells, found };
}

/** Checks every model spec and API key once, before any call (creating a model calls nothing). */
async function checkModels(plans: readonly CellPlan[], env?: Record<string, string | undefined>) {
  const chat = new Set<string>();
  const embed = new Set<string>();
  for (const { config } of plans) {
    chat.add(config.target).add(config.optimizer).add(config.critic ?? config.optimizer);
    if (config.clusterModel !== undefined) chat.add(config.clusterModel);
    embed.add(config.embedder);
  }
  for (const spec of chat) await createChatModel(spec, { env });
  for (const spec of embed) await createEmbedder(spec, { env });
}

/**
 * Runs (or resumes) the experiment in `options.dir`. Problems with the plan or the
 * directory are a `ConfigError` before any call; a cell's own failure is recorded in the
 * index and the others go on.
 *
 * @example
 * ```ts ignore
 * import { runExperiment } from "./runner.ts";
 * import { readPlan } from "./plan.ts";
 * const outcome = await runExperiment({ dir: "runs/exp", plan: await readPlan("plan.json") });
 * console.log(outcome.counts);
 * ```
 */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentOutcome> {
  const dir = resolvePath(options.dir);
  const { plan, cells, found } = await openExperiment(dir, options);
  const cachePath = experimentCachePath(dir, plan);
  const plans = await prepareCells(plan, cells, { cachePath });
  await checkModels(plans, options.env);
  const simulated = plans.some((p) => p.simulated);
  let writer: IndexWriter;
  if (found) {
    const index = await readIndex(dir);
    const ids = index.cells.map((c) => c.id).join("\n");
    if (ids !== cells.map((c) => c.id).join("\n")) {
      throw new ConfigError(`${join(dir, EXPERIMENT_FILES.index)}: its cells are not the plan's`);
    }
    writer = new IndexWriter(dir, index);
  } else {
    await Deno.mkdir(dir, { recursive: true });
    await writeJsonAtomic(join(dir, EXPERIMENT_FILES.plan), plan);
    writer = new IndexWriter(dir, newIndex(cells, simulated));
    await writer.save();
  }
  await Deno.mkdir(join(dir, EXPERIMENT_FILES.results), { recursive: true });
  const todo: CellPlan[] = [];
  for (const p of plans) {
    const done = writer.cell(p.cell.id).state === "finished" &&
      await exists(resultPath(dir, p.cell.id));
    if (!done) todo.push(p);
  }
  options.onStart?.({
    dir,
    cells: writer.index.cells.map((c) => ({ id: c.id, state: c.state })),
    todo: todo.length,
    simulated,
    ...(simulated ? { banner: gridBanner(plans) } : {}),
    ...noteOf(plan),
  });
  await mapConcurrent(todo, options.parallel ?? 2, (p) => runOne(dir, p, writer, options));
  const counts = { pending: 0, running: 0, finished: 0, failed: 0 };
  for (const c of writer.index.cells) counts[c.state]++;
  return { dir, index: writer.index, counts, interrupted: options.signal?.aborted === true };
}

function noteOf(plan: ExperimentPlan): { baselineNote?: string } {
  const note = batchBaselineNote(plan.batch, plan.methods.map((m) => m.method));
  return note === undefined ? {} : { baselineNote: note };
}

/** `<exp>/results/<id>.json`. */
export function resultPath(dir: string, id: string): string {
  return join(dir, EXPERIMENT_FILES.results, `${id}.json`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runOne(
  dir: string,
  p: CellPlan,
  writer: IndexWriter,
  options: ExperimentOptions,
): Promise<void> {
  const { id } = p.cell;
  const emit = (state: CellState, error?: string) =>
    options.onEvent?.({
      type: "cell",
      id,
      state,
      attempt: writer.cell(id).attempts,
      ...(error ? { error } : {}),
    });
  if (options.signal?.aborted) return;
  await writer.update(id, {
    state: "running",
    attempts: writer.cell(id).attempts + 1,
    started: new Date().toISOString(),
    ended: undefined,
  });
  emit("running");
  try {
    const result = p.info.runner === "rpt"
      ? await runRptCell(dir, p, options)
      : await runBaselineCell(dir, p, options);
    if (result === null) {
      await writer.update(id, { state: "pending" });
      emit("pending");
      return;
    }
    await writeJsonAtomic(resultPath(dir, id), result);
    await writer.update(id, {
      state: "finished",
      ended: new Date().toISOString(),
      error: undefined,
    });
    emit("finished");
  } catch (error) {
    if (options.signal?.aborted) {
      await writer.update(id, { state: "pending" });
      emit("pending");
      return;
    }
    const text = message(error);
    await writer.update(id, { state: "failed", error: text, ended: new Date().toISOString() });
    emit("failed", text);
  }
}

function resultContext(p: CellPlan) {
  return {
    cell: p.cell,
    task: p.task,
    trainAnswers: p.data.train.map((e) => e.answer),
    simulated: p.simulated,
  };
}

async function runRptCell(
  dir: string,
  p: CellPlan,
  options: ExperimentOptions,
): Promise<CellResult | null> {
  const runDir = join(dir, cellRunDir(p.cell.id));
  const ctx = resultContext(p);
  if (await exists(join(runDir, RUN_FILES.summary))) {
    return await resultFromRun(runDir, ctx, p.confidenceAware);
  }
  const session: Omit<OptimizeOptions, "runDir"> = {
    task: p.task,
    data: p.data,
    signal: options.signal,
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    onProgress: (e) =>
      options.onEvent?.({
        type: "progress",
        id: p.cell.id,
        text: `step ${e.step}/${e.iterations} ${e.phase} ${e.done}/${e.total}`,
      }),
  };
  const outcome = await exists(join(runDir, RUN_FILES.config))
    ? await continueRun(runDir, session)
    : await optimize(p.config, { ...session, runDir });
  if (outcome.interrupted) return null;
  return await resultFromRun(runDir, ctx, p.confidenceAware);
}

async function runBaselineCell(
  dir: string,
  p: CellPlan,
  options: ExperimentOptions,
): Promise<CellResult | null> {
  const runDir = join(dir, cellRunDir(p.cell.id));
  const recordPath = join(runDir, "compare.json");
  if (await exists(recordPath)) {
    const record = await readRunJson(recordPath, ComparisonRecord) as unknown as CompareResult;
    return resultFromComparison(record, resultContext(p));
  }
  // A baseline under way starts again; the cache below its meter answers what it asked.
  await Deno.remove(runDir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  const { config } = p;
  const record = await compare({
    task: p.task,
    methods: [p.cell.method],
    budgetCalls: p.budgetCalls as number,
    target: config.target,
    optimizer: config.optimizer,
    critic: config.critic ?? config.optimizer,
    embedder: config.embedder,
    seed: config.seed,
    confidenceAware: p.confidenceAware,
    concurrency: config.concurrency,
    ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}),
    // The keys and servers the RPT cells and the start-up check read (options.env).
    ...(options.env !== undefined ? { env: options.env } : {}),
    limits: config.limits,
    // The plan's call settings, as the RPT cells get them (options first, as there).
    calls: {
      maxRetries: options.maxRetries ?? config.retries,
      timeoutMs: options.timeoutMs ??
        (config.timeoutSeconds !== undefined ? config.timeoutSeconds * 1000 : undefined),
      maxBackoffMs: config.backoffMaxSeconds !== undefined
        ? config.backoffMaxSeconds * 1000
        : undefined,
    },
    outDir: runDir,
    cache: config.cache as string,
    signal: options.signal,
    onProgress: (e) =>
      options.onEvent?.({
        type: "progress",
        id: p.cell.id,
        text: `${e.phase} ${e.calls}/${e.budget} target calls`,
      }),
  });
  return resultFromComparison(record, resultContext(p));
}
