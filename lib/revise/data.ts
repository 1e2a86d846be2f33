/**
 * The examples of a run: the task's three splits, loaded (and cut to the config's limits)
 * or given directly. The comparison harness gives train and dev only: without a test split
 * nothing is scored on test (no curve points, no final score).
 *
 * @module
 */
import type { RunConfig, SeedPromptValue } from "../run/config.ts";
import { getTask, type GetTaskOptions } from "../tasks/registry.ts";
import type { PaperSeedTask } from "../tasks/paper_seed.ts";
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

/**
 * The config with `seedPrompt: "paper"` resolved into the prompt itself, read from the data
 * directory's `<task>/seed_prompt.json` (checked against the manifest; a missing file is a
 * `ConfigError` naming it and `data:fetch`), so `config.json` holds the exact text the run
 * starts from. Other configs come back unchanged.
 */
export async function resolveSeedPrompt(config: RunConfig): Promise<RunConfig> {
  if (config.seedPrompt !== "paper") return config;
  // Loaded only for the paper's seed: the module (and its schemas) is start-up CPU otherwise.
  const { PAPER_SEED_TASKS, paperSeedPrompt } = await import("../tasks/paper_seed.ts");
  if (!(PAPER_SEED_TASKS as readonly string[]).includes(config.task)) {
    throw new ConfigError(
      `seedPrompt "paper": task '${config.task}' has no paper seed prompt ` +
        `(${PAPER_SEED_TASKS.join(", ")} have)`,
    );
  }
  const seed = await paperSeedPrompt(config.task as PaperSeedTask, { dataDir: config.dataDir });
  const s = seed.source;
  const value: SeedPromptValue = {
    system: seed.prompt.system,
    instruction: seed.prompt.instruction,
    knobs: { ...seed.knobs },
    source: `${seed.path}: ${s.repository}@${s.commit} ${s.file} ${s.function} (${s.license})`,
  };
  return { ...config, seedPrompt: value };
}

/**
 * The task a config names, configured as it says: its protocol, LiveBench's olympiad rule
 * and, under the reference protocol, the JSON-only knob of a given seed; with the seed
 * prompt replaced when the config gives one. `seedPrompt: "paper"` must be resolved first
 * ({@linkcode resolveSeedPrompt}).
 */
export async function loadConfiguredTask(
  config: RunConfig,
  options: Pick<GetTaskOptions, "baseDir"> = {},
): Promise<Task> {
  const seed = config.seedPrompt;
  if (seed === "paper") {
    throw new Error("loadConfiguredTask: resolve seedPrompt 'paper' first (resolveSeedPrompt)");
  }
  const opts: GetTaskOptions = { ...options };
  if (config.taskProtocol !== "project") opts.protocol = config.taskProtocol;
  if (config.task === "livebench_math") {
    if (config.olympiadScoring !== undefined) opts.olympiadScoring = config.olympiadScoring;
    const jsonOnly = typeof seed === "object" ? seed.knobs?.enforce_json_only : undefined;
    if (config.taskProtocol === "reference" && jsonOnly !== undefined) {
      opts.enforceJsonOnly = jsonOnly;
    }
  }
  const task = await getTask(config.task, opts);
  if (typeof seed !== "object") return task;
  return { ...task, seedPrompt: { system: seed.system, instruction: seed.instruction } };
}

/** Loads the task and its three splits (cut to `limits`). */
export async function loadRunData(config: RunConfig): Promise<{ task: Task; data: RunData }> {
  const task = await loadConfiguredTask(await resolveSeedPrompt(config));
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
