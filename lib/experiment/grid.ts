/**
 * Grid expansion: a plan becomes one cell per combination of task, method, model spec per
 * role, settings group and seed, in that order (task-major), each with a stable id that
 * names its run directory. Ids name the task, method and seed always, and a model or
 * settings group only when the plan lists more than one, so small grids have short names.
 *
 * @module
 */
import type { MethodName } from "./methods.ts";
import {
  type ExperimentPlan,
  methodLabel,
  type PlanMethod,
  type PlanSettings,
  planSettings,
} from "./plan.ts";

/** The model specs of one cell. */
export interface CellModels {
  target: string;
  optimizer: string;
  /** Absent: the optimizer's spec. */
  critic?: string;
  /** Absent: `tfidf`. */
  embedder?: string;
}

/** One run of the grid. */
export interface Cell {
  /** Stable, filesystem-safe, unique in the plan: the run directory's name. */
  id: string;
  task: string;
  method: MethodName;
  /** The method's row label. */
  label: string;
  /** The plan's method entry (label, budget). */
  entry: PlanMethod;
  models: CellModels;
  settings: PlanSettings;
  seed: number;
}

/**
 * A short, filesystem-safe name for a task or spec: `custom:` paths by their folder, base
 * URLs left out, other characters than letters, digits, `.`, `_` and `-` as `_`.
 *
 * @example
 * ```ts
 * import { slug } from "./grid.ts";
 * if (slug("openai-compatible:qwen3@http://127.0.0.1:8000/v1") !== "openai-compatible_qwen3") throw new Error();
 * if (slug("custom:examples/capitals/task.json") !== "capitals") throw new Error();
 * ```
 */
export function slug(text: string): string {
  let t = text.trim();
  if (t.startsWith("custom:")) {
    const parts = t.slice("custom:".length).split("/").filter((p) => p !== "");
    const file = parts.at(-1) ?? "custom";
    t = /^task\.json$/i.test(file) && parts.length > 1 ? parts.at(-2) as string : file;
    t = t.replace(/\.json$/i, "");
  } else {
    const colon = t.indexOf(":");
    const at = t.indexOf("@", colon + 1);
    if (at > 0) t = t.slice(0, at);
  }
  return t.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._-]+|_+$/g, "") || "x";
}

function product<T>(lists: readonly (readonly T[])[]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((a) => list.map((x) => [...a, x])), [[]]);
}

/**
 * The cells of a plan, task-major, then method, target, optimizer, critic, embedder,
 * settings group and seed.
 *
 * @example
 * ```ts
 * import { expandPlan } from "./grid.ts";
 * import { parsePlan } from "./plan.ts";
 * const cells = expandPlan(parsePlan({ tasks: ["synthetic"], methods: ["rpt", "gepa"],
 *   models: { target: "sim:target", optimizer: "sim:optimizer" }, seeds: [0, 1] }));
 * if (cells.map((c) => c.id).join() !== "synthetic.rpt.s0,synthetic.rpt.s1,synthetic.gepa.s0,synthetic.gepa.s1") {
 *   throw new Error(cells.map((c) => c.id).join());
 * }
 * ```
 */
export function expandPlan(plan: ExperimentPlan): Cell[] {
  const roles = {
    target: plan.models.target,
    optimizer: plan.models.optimizer,
    critic: plan.models.critic ?? [undefined],
    embedder: plan.models.embedder ?? [undefined],
  };
  const settings = planSettings(plan);
  const cells: Cell[] = [];
  const used = new Set<string>();
  for (const task of plan.tasks) {
    for (const entry of plan.methods) {
      const label = methodLabel(entry);
      const combos = product<string | undefined>([
        roles.target,
        roles.optimizer,
        roles.critic,
        roles.embedder,
      ]);
      for (const [target, optimizer, critic, embedder] of combos) {
        for (const group of settings) {
          for (const seed of plan.seeds) {
            const parts = [slug(task), entry.label ? slug(entry.label) : entry.method];
            const varied = (list: readonly unknown[], value: string | undefined, tag: string) => {
              if (list.length > 1 && value !== undefined) parts.push(`${tag}${slug(value)}`);
            };
            varied(roles.target, target, "t-");
            varied(roles.optimizer, optimizer, "o-");
            varied(roles.critic, critic, "c-");
            varied(roles.embedder, embedder, "e-");
            if (settings.length > 1) parts.push(slug(group.label));
            parts.push(`s${seed}`);
            let id = parts.join(".");
            for (let n = 2; used.has(id); n++) id = `${parts.join(".")}-${n}`;
            used.add(id);
            cells.push({
              id,
              task,
              method: entry.method,
              label,
              entry,
              models: {
                target: target as string,
                optimizer: optimizer as string,
                ...(critic !== undefined ? { critic } : {}),
                ...(embedder !== undefined ? { embedder } : {}),
              },
              settings: group,
              seed,
            });
          }
        }
      }
    }
  }
  return cells;
}
