/**
 * Task lookup by name: the three benchmark tasks and `custom:<path-to-task.json>` for a
 * user's own task. Tasks load on demand, so LiveBench's LaTeX engine is only imported
 * when LiveBench is used.
 *
 * @module
 */
import { ConfigError } from "../util/errors.ts";
import type { Task } from "./task.ts";

/** A built-in task's name and one-line description. */
export interface TaskInfo {
  name: string;
  description: string;
}

const BUILT_IN: Record<string, { description: string; load: () => Promise<Task> }> = {
  hotpotqa: {
    description: "HotPotQA distractor: multi-hop QA, official EM / F1 (300 / 300 / 500)",
    load: async () => (await import("./hotpotqa.ts")).hotpotqa,
  },
  livebench_math: {
    description: "LiveBench math: math_comp, olympiad, AMPS_Hard (123 / 123 / 122)",
    load: async () => (await import("./livebench_math.ts")).livebenchMath,
  },
  formula: {
    description: "ACE finance formula: numeric answers, exact after commas (500 / 300 / 200)",
    load: async () => (await import("./formula.ts")).formula,
  },
  synthetic: {
    description: "bundled generated finance problems, no data directory needed (60 / 60 / 60)",
    load: async () => (await import("./synthetic.ts")).synthetic,
  },
};

/** Options for {@linkcode getTask}. */
export interface GetTaskOptions {
  /** Directory that relative `custom:` config paths resolve against (default: the cwd). */
  baseDir?: string;
}

/**
 * The task called `name`: `hotpotqa`, `livebench_math`, `formula`, `synthetic` (bundled,
 * offline), or `custom:<path-to-task.json>`. Unknown names throw a {@linkcode ConfigError}
 * listing the known ones.
 *
 * @example
 * ```ts
 * import { getTask } from "./registry.ts";
 * const task = await getTask("formula");
 * if (task.name !== "formula") throw new Error("unexpected");
 * ```
 */
export async function getTask(name: string, options: GetTaskOptions = {}): Promise<Task> {
  if (name.startsWith("custom:")) {
    const path = name.slice("custom:".length);
    if (path === "") throw new ConfigError(`task '${name}': expected custom:<path-to-task.json>`);
    const { loadCustomTask } = await import("./custom.ts");
    return await loadCustomTask(path, { baseDir: options.baseDir });
  }
  const entry = Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
  if (entry === undefined) {
    throw new ConfigError(
      `unknown task '${name}': expected one of ${Object.keys(BUILT_IN).join(", ")}, ` +
        `or custom:<path-to-task.json>`,
    );
  }
  return await entry.load();
}

/**
 * The built-in tasks, in a stable order.
 *
 * @example
 * ```ts
 * import { listTasks } from "./registry.ts";
 * const names = listTasks().map((t) => t.name).join();
 * if (names !== "hotpotqa,livebench_math,formula,synthetic") throw new Error(names);
 * ```
 */
export function listTasks(): TaskInfo[] {
  return Object.entries(BUILT_IN).map(([name, { description }]) => ({ name, description }));
}
