/**
 * The examples of a run: the task's three splits, loaded (and cut to the config's limits)
 * or given directly. The comparison harness gives train and dev only: without a test split
 * nothing is scored on test (no curve points, no final score).
 *
 * @module
 */
import type { RunConfig } from "../run/config.ts";
import { getTask } from "../tasks/registry.ts";
import type { Task } from "../tasks/task.ts";
import type { Example, Split } from "../tasks/schema.ts";
import { ConfigError } from "../util/errors.ts";

/** The examples of a run's three splits (`test` empty when the caller holds test out). */
export interface RunData {
  train: Example[];
  dev: Example[];
  test: Example[];
}

/** Examples given to a session: train and dev, test optional. */
export interface RunDataInput {
  train: Example[];
  dev: Example[];
  test?: Example[];
}

/** Loads the task and its three splits (cut to `limits`). */
export async function loadRunData(config: RunConfig): Promise<{ task: Task; data: RunData }> {
  const task = await getTask(config.task);
  return { task, data: await loadSplits(task, config) };
}

/** Loads the three splits of `task` (cut to the config's `limits`). */
export async function loadSplits(task: Task, config: RunConfig): Promise<RunData> {
  const load = async (split: Split) => {
    const all = await task.load(split, { dataDir: config.dataDir });
    const limit = config.limits[split];
    if (all.length === 0) throw new ConfigError(`task '${task.name}': the ${split} split is empty`);
    return limit === undefined ? all : all.slice(0, limit);
  };
  return { train: await load("train"), dev: await load("dev"), test: await load("test") };
}

/** Checks given examples: train and dev must hold some. */
export function givenData(task: Task, data: RunDataInput): RunData {
  for (const split of ["train", "dev"] as const) {
    if (data[split].length === 0) {
      throw new ConfigError(`task '${task.name}': the given ${split} split is empty`);
    }
  }
  return { train: data.train, dev: data.dev, test: data.test ?? [] };
}
