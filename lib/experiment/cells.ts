/**
 * Each cell of the grid made ready to run: its run config (the plan's preset, then its
 * settings, then the cell's task, models, seed, method and the experiment's one cache), its
 * task object and data, and for a baseline its budget. Everything that can be wrong with a
 * plan (a task that does not load, data missing, a setting out of range) is found here,
 * for every cell, before any call is made.
 *
 * @module
 */
import { specsAreSimulated } from "../llm/spec.ts";
import { resolveRunConfig } from "../revise/config.ts";
import { loadSplits, type RunData } from "../revise/data.ts";
import type { RunConfig } from "../run/config.ts";
import { getTask } from "../tasks/registry.ts";
import type { Task } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import type { Cell } from "./grid.ts";
import { type MethodInfo, methodInfo } from "./methods.ts";
import type { ExperimentPlan } from "./plan.ts";
import { batchFields, presetDefaults } from "./preset.ts";

/** A cell ready to run. */
export interface CellPlan {
  cell: Cell;
  info: MethodInfo;
  /** The task the cell runs on. */
  task: Task;
  /** True when the task object must be given to the session (a preset's own task). */
  givenTask: boolean;
  /** The run config (for a baseline: the settings it shares with RPT: limits, seed, ...). */
  config: RunConfig;
  data: RunData;
  /** Target calls of a baseline run. */
  budgetCalls?: number;
  simulated: boolean;
}

/**
 * The most target calls an RPT run makes before its final test: every iteration scores
 * train and dev, and the last patch is scored on dev. A baseline's default budget, so that
 * every method of a plan gets what RPT may spend (test scoring is outside every budget).
 *
 * @example
 * ```ts
 * import { rptTargetCalls } from "./cells.ts";
 * if (rptTargetCalls(3, { train: 10, dev: 8 }) !== 3 * 10 + 4 * 8) throw new Error();
 * ```
 */
export function rptTargetCalls(iterations: number, splits: { train: number; dev: number }): number {
  return iterations * splits.train + (iterations + 1) * splits.dev;
}

/** Options of {@linkcode prepareCells}. */
export interface PrepareOptions {
  /** The experiment's response cache file (absolute). */
  cachePath: string;
  /** Price batch mode only (the dry run): a build without batch runs is not refused. */
  estimateOnly?: boolean;
}

/** Builds every cell's run config, loads its task and data; problems name the cell. */
export async function prepareCells(
  plan: ExperimentPlan,
  cells: readonly Cell[],
  options: PrepareOptions,
): Promise<CellPlan[]> {
  const tasks = new Map<string, Promise<Task>>();
  const datasets = new Map<string, Promise<RunData>>();
  const out: CellPlan[] = [];
  for (const cell of cells) {
    try {
      out.push(await prepareCell(plan, cell, options, tasks, datasets));
    } catch (error) {
      if (error instanceof ConfigError) {
        error.message = `plan cell ${cell.id}: ${error.message}`;
      }
      throw error;
    }
  }
  return out;
}

async function prepareCell(
  plan: ExperimentPlan,
  cell: Cell,
  options: PrepareOptions,
  tasks: Map<string, Promise<Task>>,
  datasets: Map<string, Promise<RunData>>,
): Promise<CellPlan> {
  const info = methodInfo(cell.method);
  const preset = plan.preset === undefined
    ? { config: {} }
    : await presetDefaults(plan.preset, cell.task, { dataDir: plan.dataDir });
  const config = resolveRunConfig({
    ...preset.config,
    concurrency: plan.concurrency,
    ...cell.settings.values,
    task: cell.task,
    target: cell.models.target,
    optimizer: cell.models.optimizer,
    ...(cell.models.critic !== undefined ? { critic: cell.models.critic } : {}),
    ...(cell.models.embedder !== undefined ? { embedder: cell.models.embedder } : {}),
    seed: cell.seed,
    confidenceAware: info.confidenceAware,
    cache: options.cachePath,
    ...(plan.dataDir !== undefined ? { dataDir: plan.dataDir } : {}),
    ...(options.estimateOnly ? {} : batchFields(plan.batch)),
  });
  let task = preset.task;
  if (task === undefined) {
    const known = tasks.get(cell.task) ?? getTask(cell.task);
    tasks.set(cell.task, known);
    task = await known;
  }
  const dataKey = JSON.stringify([cell.task, config.dataDir ?? null, config.limits]);
  const data = datasets.get(dataKey) ?? loadSplits(task, config);
  datasets.set(dataKey, data);
  const loaded = await data;
  const budgetCalls = info.runner === "baseline"
    ? cell.entry.budgetCalls ?? plan.budgetCalls ??
      rptTargetCalls(config.iterations, { train: loaded.train.length, dev: loaded.dev.length })
    : undefined;
  if (budgetCalls !== undefined && budgetCalls < loaded.dev.length) {
    throw new ConfigError(
      `budgetCalls ${budgetCalls} cannot pay for scoring the seed prompt on dev ` +
        `(${loaded.dev.length} examples): raise it or lower limits.dev`,
    );
  }
  return {
    cell,
    info,
    task,
    givenTask: preset.task !== undefined,
    config,
    data: loaded,
    ...(budgetCalls !== undefined ? { budgetCalls } : {}),
    simulated: specsAreSimulated(config),
  };
}
