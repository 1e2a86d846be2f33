/**
 * A session's config: the {@linkcode RunConfig} (its schema is `config.json`'s, in
 * `lib/run/config.ts`) completed from what the caller gave as objects. A task object
 * stands for `task`, given models for their specs, so a notebook or the comparison harness
 * need no spec strings; the config written to the run directory then names them
 * (`sim:sim-target`, `scripted:toy-target`), and resuming such a run takes the same
 * objects again.
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import { defaultCachePath } from "../llm/cache.ts";
import { defaultMemoryBudget } from "../llm/context_windows.ts";
import { parseRunConfig, type RunConfig, type RunConfigInput } from "../run/config.ts";
import type { Task } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import type { RunModels } from "./models.ts";
import { applyPreset } from "./presets.ts";

/** A run config in which `task`, `target` and `optimizer` may come from objects instead. */
export type SessionConfigInput =
  & Omit<RunConfigInput, "task" | "target" | "optimizer">
  & Partial<Pick<RunConfigInput, "task" | "target" | "optimizer">>;

/** The spec-like name of a given model: `provider:model`. */
function nameOf(model: { provider: string; model: string }): string {
  return `${model.provider}:${model.model}`;
}

/**
 * The full config of a session: the input, with `task` and model specs filled in from
 * the given objects when absent, its preset's defaults filled in (`presets.ts`), validated
 * (a {@linkcode ConfigError} names the field), the memory budget sized to the optimizer's
 * context window when not given, and the response cache resolved to an absolute path
 * (`resume` must find it again).
 *
 * @example
 * ```ts
 * import { resolveRunConfig } from "./config.ts";
 * import { synthetic } from "../tasks/synthetic.ts";
 * import { ScriptedChatModel } from "../llm/scripted.ts";
 * const m = new ScriptedChatModel(["x"], { model: "toy" });
 * const c = resolveRunConfig({ iterations: 2 }, { task: synthetic, models: { target: m, optimizer: m } });
 * if (c.task !== "synthetic" || c.target !== "scripted:toy" || !c.cache?.startsWith("/")) throw new Error();
 * ```
 */
export function resolveRunConfig(
  input: SessionConfigInput,
  given: {
    task?: Task;
    models?: Partial<RunModels>;
    env?: Record<string, string | undefined>;
  } = {},
): RunConfig {
  const models = given.models ?? {};
  const filled: Record<string, unknown> = { ...applyPreset(input) };
  if (filled.task === undefined && given.task) filled.task = given.task.name;
  if (filled.target === undefined && models.target) filled.target = nameOf(models.target);
  if (filled.optimizer === undefined && models.optimizer) {
    // A session on model objects alone: the critic and embedder are named after theirs too
    // (given specs keep their defaults, as `config.json` has always recorded them).
    filled.optimizer = nameOf(models.optimizer);
    if (filled.critic === undefined && models.critic && models.critic !== models.optimizer) {
      filled.critic = nameOf(models.critic);
    }
    if (filled.embedder === undefined && models.embedder) {
      filled.embedder = nameOf(models.embedder);
    }
  }
  for (const field of ["task", "target", "optimizer"]) {
    if (filled[field] === undefined) {
      throw new ConfigError(
        `config: ${field}: required (give a spec${
          field === "task" ? " or a task object" : " or the model itself"
        })`,
      );
    }
  }
  const parsed = parseRunConfig(filled);
  return {
    ...parsed,
    // The budget `config.json` records: the optimizer's context window when not given.
    memoryTokenBudget: parsed.memoryTokenBudget ?? defaultMemoryBudget(parsed.optimizer),
    cache: resolvePath(parsed.cache ?? defaultCachePath(given.env)),
  };
}

/** The default run directory of a config: `runs/<task>-<time>`. */
export function defaultRunDir(config: RunConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/Z$/, "");
  const task = config.task.replace(/^custom:/, "").replace(/[^A-Za-z0-9_.-]+/g, "_").slice(-40);
  return `runs/${task}-${stamp}`;
}
