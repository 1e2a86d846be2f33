/**
 * An experiment plan (`rpt experiment PLAN.json`): the tasks, methods, model specs per role,
 * settings, preset and seeds of a grid of runs. {@linkcode ExperimentPlan} is the schema (the
 * source of truth for `plan.json`); {@linkcode parsePlan} validates a plan with an error that
 * names the file and the field.
 *
 * ```json
 * {
 *   "name": "table-1-sim",
 *   "tasks": ["synthetic", "custom:examples/capitals/task.json"],
 *   "methods": ["rpt", "gepa"],
 *   "models": { "target": "sim:target", "optimizer": ["sim:optimizer"] },
 *   "settings": { "iterations": 2, "limits": { "train": 12, "dev": 12, "test": 12 } },
 *   "seeds": [0, 1]
 * }
 * ```
 *
 * - `methods`: `rpt`, `rpt-ca` (confidence-aware RPT), `gepa`, `gepa-ca` (confidence-aware
 *   GEPA), `mipro`, `ace`, or `{ "method": "gepa", "label": "...", "budgetCalls": N }`.
 * - `models`: a spec or a list of specs per role (`target`, `optimizer`, optional `critic`,
 *   default the optimizer, and `embedder`, default `tfidf`); the grid takes every
 *   combination.
 * - `settings`: fields of a run config (`lib/run/config.ts`: `iterations`, `limits`, `k`,
 *   `memory`, ...) for every run, or a list of such objects each with a `label` (the grid
 *   takes each). Fields the plan sets elsewhere (`task`, model specs, `seed`, `cache`,
 *   `dataDir`, `confidenceAware`) are refused here.
 * - `preset`: a preset of the loop (`paper`, `reference-cli`: `lib/revise/presets.ts`), the
 *   defaults of each run; the plan's settings, models and methods go over it.
 * - `batch`: full-split evaluations through the providers' batch APIs.
 * - `budgetCalls`: target calls per baseline run (default: the most an RPT run with the
 *   same settings makes, so every method gets RPT's budget).
 *
 * @module
 */
import { isAbsolute, resolve as resolvePath } from "node:path";
import { z } from "zod";
import { parseModelSpec } from "../llm/spec.ts";
import { Preset, RunConfig } from "../run/config.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";
import { parseJsonAs } from "../util/json.ts";
import { METHOD_NAMES, methodInfo, type MethodName } from "./methods.ts";

/** Run-config fields a plan sets outside `settings`, and where. */
const RESERVED: Readonly<Record<string, string>> = {
  task: "tasks",
  target: "models.target",
  optimizer: "models.optimizer",
  critic: "models.critic",
  embedder: "models.embedder",
  seed: "seeds",
  cache: "cache",
  dataDir: "dataDir",
  confidenceAware: "methods (rpt-ca, gepa-ca)",
};

const MethodObject = z.object({
  method: z.enum(METHOD_NAMES),
  /** Row label in tables (default the method's own). */
  label: z.string().min(1).optional(),
  /** Target calls of a baseline run (default: the plan's `budgetCalls`). */
  budgetCalls: z.number().int().positive().optional(),
}).strict();

/** One method of a plan: a name, or an object with a label and budget. */
export const PlanMethod = z.preprocess(
  (value) => typeof value === "string" ? { method: value } : value,
  MethodObject,
);
/** One method of a plan, normalised. */
export type PlanMethod = z.infer<typeof MethodObject>;

const SpecList = z.preprocess(
  (value) => typeof value === "string" ? [value] : value,
  z.array(z.string().min(1)).min(1),
);

/** Settings of every run: run-config fields (validated field by field against RunConfig). */
const SettingsValues = z.record(z.string(), z.unknown()).superRefine((values, ctx) => {
  const fields = RunConfig.shape as Record<string, z.ZodType>;
  for (const [key, value] of Object.entries(values)) {
    if (key === "label") continue;
    if (Object.hasOwn(RESERVED, key)) {
      ctx.addIssue({ code: "custom", path: [key], message: `set by the plan's ${RESERVED[key]}` });
      continue;
    }
    const field = fields[key];
    if (field === undefined) {
      ctx.addIssue({ code: "custom", path: [key], message: "not a run-config field" });
      continue;
    }
    const parsed = field.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      ctx.addIssue({
        code: "custom",
        path: [key, ...(issue?.path ?? []) as (string | number)[]],
        message: issue?.message ?? "invalid",
      });
    }
  }
});

const LabelledSettings = SettingsValues.and(z.object({ label: z.string().min(1) }));

/** One settings object, or a list of labelled ones (checked by whichever it is). */
const Settings = z.unknown().superRefine((value, ctx) => {
  const schema = Array.isArray(value) ? z.array(LabelledSettings).min(1) : SettingsValues;
  const parsed = schema.safeParse(value);
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    ctx.addIssue({ code: "custom", path: issue.path as PropertyKey[], message: issue.message });
  }
}).transform((value) => value as Record<string, unknown> | Record<string, unknown>[]);

/** The schema of a plan (and of `plan.json` in an experiment directory). */
export const ExperimentPlan = z.object({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  tasks: z.array(z.string().min(1)).min(1),
  methods: z.array(PlanMethod).min(1),
  models: z.object({
    target: SpecList,
    optimizer: SpecList,
    critic: SpecList.optional(),
    embedder: SpecList.optional(),
  }).strict(),
  settings: Settings.optional(),
  seeds: z.array(z.number().int()).min(1).default([0]),
  /** A preset of the loop (`lib/revise/presets.ts`): its defaults first, the settings over them. */
  preset: Preset.optional(),
  batch: z.boolean().default(false),
  budgetCalls: z.number().int().positive().optional(),
  /** Model calls in flight per provider, shared by every run. */
  concurrency: z.number().int().min(1).default(16),
  /** The one response cache of every run (default `<experiment>/cache.sqlite`). */
  cache: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
}).strict();
/** A validated plan. */
export type ExperimentPlan = z.infer<typeof ExperimentPlan>;
/** A plan as a user writes it. */
export type ExperimentPlanInput = z.input<typeof ExperimentPlan>;

/** One labelled group of settings. */
export interface PlanSettings {
  label: string;
  values: Record<string, unknown>;
}

/** The plan's settings as labelled groups (one `default` group for a single object). */
export function planSettings(plan: ExperimentPlan): PlanSettings[] {
  const s = plan.settings;
  if (s === undefined) return [{ label: "default", values: {} }];
  if (!Array.isArray(s)) return [{ label: "default", values: withoutLabel(s) }];
  return s.map((v) => ({ label: String(v.label), values: withoutLabel(v) }));
}

function withoutLabel(values: Record<string, unknown>): Record<string, unknown> {
  const { label: _label, ...rest } = values;
  return rest;
}

/** The label of a plan method in tables. */
export function methodLabel(m: PlanMethod): string {
  return m.label ?? methodInfo(m.method as MethodName).label;
}

function duplicates(values: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}

/** Checks what the schema cannot: specs, and no two grid values alike. */
function checkPlan(plan: ExperimentPlan, source: string): void {
  const fail = (field: string, message: string) => {
    throw new ConfigError(`${source}: ${field}: ${message}`);
  };
  for (const role of ["target", "optimizer", "critic", "embedder"] as const) {
    (plan.models[role] ?? []).forEach((spec, i) => {
      try {
        parseModelSpec(spec);
      } catch (error) {
        fail(`models.${role}.${i}`, (error as Error).message);
      }
    });
    const dup = duplicates(plan.models[role] ?? []);
    if (dup !== undefined) fail(`models.${role}`, `"${dup}" is listed twice`);
  }
  const checks: [string, string[]][] = [
    ["tasks", plan.tasks],
    ["methods", plan.methods.map(methodLabel)],
    ["seeds", plan.seeds.map(String)],
    ["settings", planSettings(plan).map((s) => s.label)],
  ];
  for (const [field, values] of checks) {
    const dup = duplicates(values);
    if (dup !== undefined) fail(field, `"${dup}" is listed twice`);
  }
}

/**
 * Validates a plan; a problem is a {@linkcode ConfigError} naming `source` and the field.
 *
 * @example
 * ```ts
 * import { parsePlan } from "./plan.ts";
 * const plan = parsePlan({ tasks: ["synthetic"], methods: ["rpt", "gepa-ca"],
 *   models: { target: "sim:target", optimizer: "sim:optimizer" }, seeds: [0, 1] });
 * if (plan.models.target[0] !== "sim:target" || plan.methods[1]?.method !== "gepa-ca") throw new Error();
 * const message = (() => {
 *   try {
 *     parsePlan({ ...plan, settings: { iterations: 0 } }, "plan.json");
 *     return "";
 *   } catch (e) {
 *     return (e as Error).message;
 *   }
 * })();
 * if (!message.startsWith("plan.json: settings.iterations: ")) throw new Error(message);
 * ```
 */
export function parsePlan(input: unknown, source = "plan"): ExperimentPlan {
  const parsed = ExperimentPlan.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(`${source}: ${describeSchemaIssue(parsed.error, "(plan)")}`);
  }
  checkPlan(parsed.data, source);
  return parsed.data;
}

/** Reads and validates a plan file; a problem names the file and the field. */
export async function readPlan(path: string): Promise<ExperimentPlan> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
    throw new ConfigError(`${path}: cannot read the plan: ${reason}`, { cause: error });
  }
  const value = parseJsonAs(text, path, z.unknown(), "(plan)");
  return parsePlan(value, path);
}

/**
 * The plan with its paths made absolute against `baseDir` (the directory the command runs
 * in): `custom:` task files, `dataDir` and `cache`. The experiment directory keeps this form,
 * so a resumed experiment finds them from anywhere.
 *
 * @example
 * ```ts
 * import { absolutePlan, parsePlan } from "./plan.ts";
 * const plan = absolutePlan(parsePlan({ tasks: ["custom:t/task.json", "synthetic"], methods: ["rpt"],
 *   models: { target: "sim:target", optimizer: "sim:optimizer" }, dataDir: "data" }), "/w");
 * if (plan.tasks.join() !== "custom:/w/t/task.json,synthetic" || plan.dataDir !== "/w/data") throw new Error();
 * ```
 */
export function absolutePlan(plan: ExperimentPlan, baseDir: string): ExperimentPlan {
  const abs = (p: string) => isAbsolute(p) ? p : resolvePath(baseDir, p);
  return {
    ...plan,
    tasks: plan.tasks.map((t) => t.startsWith("custom:") ? `custom:${abs(t.slice(7))}` : t),
    ...(plan.dataDir !== undefined ? { dataDir: abs(plan.dataDir) } : {}),
    ...(plan.cache !== undefined ? { cache: abs(plan.cache) } : {}),
  };
}
