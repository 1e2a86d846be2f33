/**
 * Task lookup by name: the three benchmark tasks and `custom:<path-to-task.json>` for a
 * user's own task. Tasks load on demand, so LiveBench's LaTeX engine is only imported
 * when LiveBench is used.
 *
 * @module
 */
import { ConfigError } from "../util/errors.ts";
import type { OlympiadScoring } from "./livebench/olympiad.ts";
import type { Task, TaskProtocol } from "./task.ts";

/** A built-in task's name and one-line description. */
export interface TaskInfo {
  name: string;
  description: string;
}

/** How a built-in task is configured: its protocol and scoring options. */
export interface BuiltInTaskOptions {
  /** How the task talks to the target (default `project`; see `task.ts`). */
  protocol?: TaskProtocol;
  /** LiveBench only: the olympiad rule (default `edit_distance`). */
  olympiadScoring?: OlympiadScoring;
  /** LiveBench reference protocol only: render the JSON-only line (default true). */
  enforceJsonOnly?: boolean;
}

type Loader = (options: BuiltInTaskOptions) => Promise<Task>;

const BUILT_IN: Record<string, { description: string; load: Loader }> = {
  hotpotqa: {
    description: "HotPotQA distractor: multi-hop QA, official EM / F1 (300 / 300 / 500)",
    load: async (o) => (await import("./hotpotqa.ts")).createHotpotqa({ protocol: o.protocol }),
  },
  livebench_math: {
    description: "LiveBench math: math_comp, olympiad, AMPS_Hard (123 / 123 / 122)",
    load: async (o) => (await import("./livebench_math.ts")).createLivebenchMath(o),
  },
  formula: {
    description: "ACE finance formula: numeric answers, exact after commas (500 / 300 / 200)",
    load: async (o) => (await import("./formula.ts")).createFormula({ protocol: o.protocol }),
  },
  synthetic: {
    description: "bundled generated finance problems, no data directory needed (60 / 60 / 60)",
    load: async () => (await import("./synthetic.ts")).synthetic,
  },
};

/** Options for {@linkcode getTask}. */
export interface GetTaskOptions extends BuiltInTaskOptions {
  /** Directory that relative `custom:` config paths resolve against (default: the cwd). */
  baseDir?: string;
}

// Options a task cannot honour are refused rather than ignored.
function checkOptions(name: string, options: BuiltInTaskOptions): void {
  const reference = ["hotpotqa", "livebench_math", "formula"];
  if (options.protocol === "reference" && !reference.includes(name)) {
    throw new ConfigError(
      `task '${name}': the reference protocol exists only for ${reference.join(", ")}`,
    );
  }
  if (name !== "livebench_math") {
    for (const key of ["olympiadScoring", "enforceJsonOnly"] as const) {
      if (options[key] !== undefined) {
        throw new ConfigError(`task '${name}': ${key} applies to livebench_math only`);
      }
    }
  }
}

/**
 * The task called `name`: `hotpotqa`, `livebench_math`, `formula`, `synthetic` (bundled,
 * offline), or `custom:<path-to-task.json>`, configured by `options` (protocol, olympiad
 * rule; see {@linkcode BuiltInTaskOptions}). Unknown names, and options a task cannot
 * honour, throw a {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * import { getTask } from "./registry.ts";
 * const task = await getTask("formula");
 * if (task.name !== "formula") throw new Error("unexpected");
 * const reference = await getTask("livebench_math", { protocol: "reference" });
 * if (reference.outputMode !== "text") throw new Error("unexpected");
 * ```
 */
export async function getTask(name: string, options: GetTaskOptions = {}): Promise<Task> {
  const { baseDir, ...builtIn } = options;
  if (name.startsWith("custom:")) {
    checkOptions(name, builtIn);
    const path = name.slice("custom:".length);
    if (path === "") throw new ConfigError(`task '${name}': expected custom:<path-to-task.json>`);
    const { loadCustomTask } = await import("./custom.ts");
    return await loadCustomTask(path, { baseDir });
  }
  const entry = Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
  if (entry === undefined) {
    throw new ConfigError(
      `unknown task '${name}': expected one of ${Object.keys(BUILT_IN).join(", ")}, ` +
        `or custom:<path-to-task.json>`,
    );
  }
  checkOptions(name, builtIn);
  return await entry.load(builtIn);
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
