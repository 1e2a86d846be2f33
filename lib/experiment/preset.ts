/**
 * A plan's `preset` and `batch`, passed to the loop's own settings. Both are hooks onto the
 * modules that own them: the preset module of `lib/revise/` (issue 15: a pure function from
 * preset name and task to config defaults) and the run config's batch field (issue 16).
 * Neither has landed in this build yet, so a plan that names one is refused with a clear
 * error before anything is spent, never run without it (a run that silently ignored
 * `preset: "paper"` would be reported beside the paper's figures).
 *
 * @module
 */
import { RunConfig, type RunConfigInput } from "../run/config.ts";
import type { Task } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import type { ExperimentPlan } from "./plan.ts";

/** What a preset gives one run: config defaults, and the task object when it has its own. */
export interface PresetDefaults {
  config: Partial<RunConfigInput>;
  task?: Task;
}

/**
 * The defaults preset `name` gives a run of `task`; flags (the plan's settings) go over them.
 * HOOK (issue 15): call the preset module here once it lands.
 */
export function presetDefaults(
  name: NonNullable<ExperimentPlan["preset"]>,
  task: string,
  _options: { dataDir?: string } = {},
): Promise<PresetDefaults> {
  return Promise.reject(
    new ConfigError(
      `plan preset '${name}' (task ${task}): this build has no preset module yet; ` +
        `remove "preset" from the plan or use a build with the paper preset`,
    ),
  );
}

/** Whether run configs of this build have a batch setting (issue 16). */
export function runsHaveBatchMode(): boolean {
  return Object.hasOwn(RunConfig.shape, "batch");
}

/**
 * The config fields that turn batch mode on for a run, or a {@linkcode ConfigError} when
 * runs have no batch mode in this build. HOOK (issue 16).
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
