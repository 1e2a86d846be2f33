/**
 * The run-setting flags `rpt optimize` and `rpt evaluate` share: the preset and every setting
 * of the loop that is not a model or a path (ClusterFusion, memory, selection, guards, test
 * cadence, the task protocol, and per-role request settings). Each flag is a field of the
 * run config (`lib/run/config.ts`) of the same meaning; a config file may give any of them,
 * and a flag given on the command line overrides it. The preset (`lib/revise/presets.ts`)
 * fills what neither gives.
 *
 * Per-role settings take `ROLE=VALUE` pairs separated by commas (`target=0,optimizer=1`),
 * or one bare value for every role; roles are `target`, `optimizer`, `critic` and `cluster`.
 *
 * @module
 */
import { Preset, type Role, ROLES, SeedPromptValue } from "../run/config.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";
import { runConfigFlag } from "./args.ts";

/** The flags, as `node:util` `parseArgs` options. */
export const RUN_SETTING_FLAGS = {
  preset: { type: "string" },
  k: { type: "string" },
  "cluster-sample": { type: "string" },
  "cluster-model": { type: "string" },
  "topic-descriptions": { type: "string" },
  "memory-budget": { type: "string" },
  "last-k": { type: "string" },
  "memory-placement": { type: "string" },
  "memory-patches": { type: "boolean" },
  "no-memory-patches": { type: "boolean" },
  "brier-weight": { type: "string" },
  "length-penalty": { type: "string" },
  "no-confidence-aware": { type: "boolean" },
  "max-prompt-chars": { type: "string" },
  "max-patch-attempts": { type: "string" },
  "max-tool-attempts": { type: "string" },
  "meta-edit-guard": { type: "boolean" },
  "no-meta-edit-guard": { type: "boolean" },
  "copied-answer-guard": { type: "boolean" },
  "no-copied-answer-guard": { type: "boolean" },
  "format-collapse-warning": { type: "boolean" },
  "no-format-collapse-warning": { type: "boolean" },
  "critic-confidence": { type: "boolean" },
  "no-critic-confidence": { type: "boolean" },
  "test-every": { type: "string" },
  "task-protocol": { type: "string" },
  "seed-prompt": { type: "string" },
  olympiad: { type: "string" },
  temperature: { type: "string" },
  "max-output-tokens": { type: "string" },
  "reasoning-effort": { type: "string" },
  "thinking-level": { type: "string" },
  batch: { type: "boolean" },
  "no-batch": { type: "boolean" },
  "batch-poll": { type: "string" },
} as const;

/** The help text of the flags (appended to a command's usage). */
export const RUN_SETTING_HELP =
  `run settings (each a field of the config file; flags override the preset):
  --preset P            paper (the runs behind the paper's figures) | reference-cli (the
                        reference scripts' CLI defaults); see docs/reproducing.md
  --k N                 failure topics ClusterFusion extracts (default 10)
  --cluster-sample N    records shown to topic extraction (default 100)
  --cluster-model SPEC  ClusterFusion's LLM (default: the critic)
  --topic-descriptions sentence|comprehensive   topic descriptions asked for (default sentence)
  --memory-budget N     estimated tokens memory may take (default: the optimizer's context window)
  --last-k K            reports shown in last_k mode, the current one included (default 5)
  --memory-placement tool_result|user_message   where memory goes (default tool_result)
  --[no-]memory-patches memory shows the patch and rationale after each report (default on)
  --brier-weight W      Brier weight in selection (default 0.05 if --confidence-aware, else 0)
  --no-confidence-aware turn off a preset's confidence-aware setting
  --length-penalty P    selection penalty per 1,000 prompt characters (default 0.0025)
  --max-prompt-chars N  cap on a patched prompt's characters (default: no cap)
  --max-patch-attempts N, --max-tool-attempts N   decisions / tool requests per iteration (5 / 3)
  --[no-]meta-edit-guard, --[no-]copied-answer-guard, --[no-]format-collapse-warning  (on)
  --[no-]critic-confidence  the critic judges the stated confidence (default on)
  --test-every N        score test at step 1 and every N steps (default 5)
  --task-protocol project|reference   rpt's rendering and output contract, or the reference's
  --seed-prompt task|paper|FILE   the task's seed, the paper's (data dir), or a JSON file
  --olympiad edit_distance|positional   LiveBench's olympiad rule
  --temperature T | ROLE=T,...     sampling temperature (roles: target, optimizer, critic, cluster)
  --max-output-tokens N | ROLE=N,...   output-token limit
  --reasoning-effort E | ROLE=E,...    OpenAI reasoning effort (minimal, low, medium, high, ...)
  --thinking-level L | ROLE=L,...      Gemini thinking level (minimal, low, medium, high)
  --[no-]batch          send every full-split evaluation of the target and each round of
                        critiques as one provider batch job (OpenAI Batch API, Gemini batch
                        mode: half the price, answers within hours); the optimizer stays
                        interactive; sim: roles have no batch API and stay interactive
  --batch-poll SECONDS  wait between two polls of a batch job (default 30)`;

type Values = {
  [K in keyof typeof RUN_SETTING_FLAGS]?: (typeof RUN_SETTING_FLAGS)[K]["type"] extends "boolean"
    ? boolean
    : string;
};

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError(`--${flag}: expected an integer >= ${min}, got "${value}"`);
  }
  return n;
}

function nonNegative(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new ConfigError(`--${flag}: expected a number >= 0, got "${value}"`);
  }
  return n;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]) {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`--${flag}: expected one of ${allowed.join(", ")}, got "${value}"`);
  }
  return value as T;
}

/**
 * A per-role flag value: `ROLE=VALUE,...` or one bare value for every role.
 *
 * @example
 * ```ts
 * import { parsePerRole } from "./run_flags.ts";
 * const t = parsePerRole("temperature", "target=0,optimizer=1", Number);
 * if (t.target !== 0 || t.optimizer !== 1 || "critic" in t) throw new Error();
 * if (parsePerRole("temperature", "0.5", Number).cluster !== 0.5) throw new Error();
 * ```
 */
export function parsePerRole<T>(
  flag: string,
  value: string,
  convert: (text: string) => T,
): Partial<Record<Role, T>> {
  const out: Partial<Record<Role, T>> = {};
  if (!value.includes("=")) {
    for (const role of ROLES) out[role] = convert(value.trim());
    return out;
  }
  for (const part of value.split(",")) {
    const [role, text, ...rest] = part.split("=").map((x) => x.trim());
    if (rest.length > 0 || text === undefined || text === "") {
      throw new ConfigError(`--${flag}: expected ROLE=VALUE pairs, got "${part}"`);
    }
    if (!(ROLES as readonly string[]).includes(role ?? "")) {
      throw new ConfigError(`--${flag}: unknown role "${role}"; roles are ${ROLES.join(", ")}`);
    }
    out[role as Role] = convert(text);
  }
  return out;
}

function toggle(values: Values, on: keyof Values, off: keyof Values): boolean | undefined {
  if (values[on] === true && values[off] === true) {
    throw new ConfigError(`--${on} and --${off} contradict each other`);
  }
  return values[on] === true ? true : values[off] === true ? false : undefined;
}

async function seedPromptFlag(value: string | undefined): Promise<unknown> {
  if (value === undefined || value === "task" || value === "paper") return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(value));
  } catch (error) {
    throw new ConfigError(`--seed-prompt ${value}: cannot read: ${(error as Error).message}`);
  }
  const checked = SeedPromptValue.safeParse(parsed);
  if (!checked.success) {
    throw new ConfigError(
      `--seed-prompt ${value}: ${describeSchemaIssue(checked.error, "(file)")} ` +
        `(expected {"system": ..., "instruction": ...})`,
    );
  }
  return { ...checked.data, source: checked.data.source ?? value };
}

function perRoleNumber(flag: string, min: number, integerOnly: boolean) {
  return (text: string): number => {
    const n = Number(text);
    if (text === "" || !Number.isFinite(n) || n < min || (integerOnly && !Number.isInteger(n))) {
      throw new ConfigError(
        `--${flag}: expected ${integerOnly ? "an integer" : "a number"} >= ${min}, got "${text}"`,
      );
    }
    return n;
  };
}

function perRoleChoice(flag: string, allowed: readonly string[]) {
  return (text: string): string => oneOf(flag, text, allowed) as string;
}

/**
 * Writes the run-setting flags into `base` (a config input read from `--config` or empty),
 * over what it holds; per-role settings merge role by role.
 */
export async function applyRunSettingFlags(
  values: Values,
  base: Record<string, unknown>,
): Promise<void> {
  const set = (key: string, value: unknown) => {
    if (value !== undefined) base[key] = value;
  };
  set("preset", oneOf("preset", values.preset, Preset.options));
  set("k", integer("k", values.k, 1));
  set("clusterSample", integer("cluster-sample", values["cluster-sample"], 1));
  set("clusterModel", values["cluster-model"]);
  set(
    "topicDescriptions",
    oneOf("topic-descriptions", values["topic-descriptions"], ["sentence", "comprehensive"]),
  );
  set("memoryTokenBudget", integer("memory-budget", values["memory-budget"], 100));
  set("memoryK", integer("last-k", values["last-k"], 1));
  set(
    "memoryPlacement",
    oneOf("memory-placement", values["memory-placement"], ["tool_result", "user_message"]),
  );
  set("memoryPatches", toggle(values, "memory-patches", "no-memory-patches"));
  set("brierWeight", nonNegative("brier-weight", values["brier-weight"]));
  set("lengthPenalty", nonNegative("length-penalty", values["length-penalty"]));
  if (values["no-confidence-aware"] === true) base.confidenceAware = false;
  set("maxPromptChars", integer("max-prompt-chars", values["max-prompt-chars"], 100));
  set("maxPatchAttempts", integer("max-patch-attempts", values["max-patch-attempts"], 1));
  set("maxToolAttempts", integer("max-tool-attempts", values["max-tool-attempts"], 1));
  set("metaEditGuard", toggle(values, "meta-edit-guard", "no-meta-edit-guard"));
  set("copiedAnswerGuard", toggle(values, "copied-answer-guard", "no-copied-answer-guard"));
  set(
    "formatCollapseWarning",
    toggle(values, "format-collapse-warning", "no-format-collapse-warning"),
  );
  set("criticConfidence", toggle(values, "critic-confidence", "no-critic-confidence"));
  set("testEvery", integer("test-every", values["test-every"], 1));
  set("taskProtocol", oneOf("task-protocol", values["task-protocol"], ["project", "reference"]));
  set("seedPrompt", await seedPromptFlag(values["seed-prompt"]));
  set("olympiadScoring", oneOf("olympiad", values.olympiad, ["edit_distance", "positional"]));
  set("batch", toggle(values, "batch", "no-batch"));
  set("batchPollSeconds", runConfigFlag(values["batch-poll"], "batch-poll"));
  const perRole: [keyof Values, string, (text: string) => unknown][] = [
    ["temperature", "temperature", perRoleNumber("temperature", 0, false)],
    ["max-output-tokens", "maxOutputTokens", perRoleNumber("max-output-tokens", 1, true)],
    [
      "reasoning-effort",
      "reasoningEffort",
      perRoleChoice("reasoning-effort", [
        "none",
        "minimal",
        "low",
        "medium",
        "high",
        "xhigh",
        "max",
      ]),
    ],
    [
      "thinking-level",
      "thinkingLevel",
      perRoleChoice("thinking-level", ["minimal", "low", "medium", "high"]),
    ],
  ];
  for (const [flag, key, convert] of perRole) {
    const text = values[flag];
    if (typeof text !== "string") continue;
    base[key] = {
      ...(base[key] as Record<string, unknown> | undefined),
      ...parsePerRole(flag, text, convert),
    };
  }
}
