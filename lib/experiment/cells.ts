/**
 * Each cell of the grid made ready to run: its run config (the plan's preset, then its
 * settings, then the cell's task, models, seed, method and the experiment's one cache), its
 * task object (configured as the config says: protocol, seed prompt) and data, and for a
 * baseline its budget. Everything that can be wrong with a plan (a task that does not load,
 * data or a seed prompt missing, a setting out of range) is found here, for every cell,
 * before any call is made.
 *
 * @module
 */
import { isSimulatedModel, simulationBanner, specsAreSimulated } from "../llm/spec.ts";
import { resolveRunConfig, type SessionConfigInput } from "../revise/config.ts";
import { loadConfiguredTask, loadSplits, resolveSeedPrompt, type RunData } from "../revise/data.ts";
import { RunConfig } from "../run/config.ts";
import type { Task } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import type { Cell } from "./grid.ts";
import { type MethodInfo, methodInfo } from "./methods.ts";
import type { ExperimentPlan } from "./plan.ts";

/** Whether run configs of this build have a batch setting (issue 16). */
export function runsHaveBatchMode(): boolean {
  return Object.hasOwn(RunConfig.shape, "batch");
}

/**
 * The config fields that turn batch mode on for a run, or a {@linkcode ConfigError} when
 * runs have no batch mode in this build (a run that silently ignored `batch` would be
 * priced and reported as a batch run). RPT cells then send their full-split evaluations
 * and critiques as batch jobs (`lib/revise/batch.ts`); baseline cells run interactive.
 */
export function batchFields(batch: boolean): Record<string, unknown> {
  if (!batch) return {};
  if (!runsHaveBatchMode()) {
    throw new ConfigError(
      `plan batch: true: runs of this build have no batch mode yet; remove "batch" from the ` +
        `plan (the dry run still prices it)`,
    );
  }
  return { batch: true };
}

/** A cell ready to run. */
export interface CellPlan {
  cell: Cell;
  info: MethodInfo;
  /** The task the cell runs on, as its config sets it up (protocol, seed prompt). */
  task: Task;
  /** The run config (for a baseline: the settings it shares with RPT: limits, seed, ...). */
  config: RunConfig;
  /** Selection with the Brier term: the method's, or the preset's. */
  confidenceAware: boolean;
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
  const input: SessionConfigInput = {
    ...(plan.preset !== undefined ? { preset: plan.preset } : {}),
    concurrency: plan.concurrency,
    ...cell.settings.values,
    task: cell.task,
    target: cell.models.target,
    optimizer: cell.models.optimizer,
    ...(cell.models.critic !== undefined ? { critic: cell.models.critic } : {}),
    ...(cell.models.embedder !== undefined ? { embedder: cell.models.embedder } : {}),
    seed: cell.seed,
    // `rpt` leaves it to the preset (the reference's protocol is confidence-aware).
    ...(info.confidenceAware ? { confidenceAware: true } : {}),
    cache: options.cachePath,
    ...(plan.dataDir !== undefined ? { dataDir: plan.dataDir } : {}),
    ...(options.estimateOnly ? {} : batchFields(plan.batch)),
  };
  const config = await resolveSeedPrompt(resolveRunConfig(input));
  const taskKey = JSON.stringify([
    config.task,
    config.taskProtocol,
    config.seedPrompt,
    config.olympiadScoring ?? null,
  ]);
  const known = tasks.get(taskKey) ?? loadConfiguredTask(config);
  tasks.set(taskKey, known);
  const task = await known;
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
    config,
    confidenceAware: info.confidenceAware || config.confidenceAware ||
      (config.brierWeight ?? 0) > 0,
    data: loaded,
    ...(budgetCalls !== undefined ? { budgetCalls } : {}),
    simulated: specsAreSimulated(config),
  };
}

/**
 * The SIMULATED banner of a grid, naming the roles the simulator plays in any of its cells
 * (undefined when none): each role stands for its first simulated spec, else its first.
 *
 * @example
 * ```ts ignore
 * import { gridBanner } from "./cells.ts";
 * console.log(gridBanner(plans)); // SIMULATED: target, optimizer and critic simulated; embedder tfidf (...)
 * ```
 */
export function gridBanner(
  plans: readonly { config: Pick<RunConfig, "target" | "optimizer" | "critic" | "embedder"> }[],
): string | undefined {
  type Roles = Pick<RunConfig, "target" | "optimizer" | "critic" | "embedder">;
  const picks: [string, (c: Roles) => string][] = [
    ["target", (c) => c.target],
    ["optimizer", (c) => c.optimizer],
    ["critic", (c) => c.critic ?? c.optimizer],
    ["embedder", (c) => c.embedder],
  ];
  const role = (pick: (c: Roles) => string) => {
    const specs = plans.map((p) => pick(p.config));
    return specs.find((s) => isSimulatedModel(s)) ?? specs[0];
  };
  const banner = simulationBanner({
    target: role(picks[0]![1]),
    optimizer: role(picks[1]![1]),
    critic: role(picks[2]![1]),
    embedder: role(picks[3]![1]),
  });
  // A grid that mixes simulated and real cells must not read as if every cell were simulated.
  const partly = picks.map(([name, pick]) => {
    const n = plans.filter((p) => isSimulatedModel(pick(p.config))).length;
    return n > 0 && n < plans.length ? `${name} in ${n} of ${plans.length} cells` : undefined;
  }).filter((x) => x !== undefined);
  return banner && partly.length > 0
    ? `${banner}; simulated only in part: ${partly.join(", ")}`
    : banner;
}
