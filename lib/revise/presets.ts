/**
 * Presets: named sets of run defaults, a pure function of (preset, task). A config names one
 * with `preset`; every field given beside it (a flag, a config-file field, an experiment
 * plan's setting) overrides the preset's value ({@linkcode applyPreset}).
 *
 * - `paper`: the runs behind the paper's figures as megagonlabs/RPT (commit 3158d7b) records
 *   them. Its task scripts' command-line defaults differ from those runs; the analysis
 *   scripts hard-code the three runs the figures come from, and their log names encode the
 *   settings they were made with (memory `history_summary`, 40 iterations, prompt-length
 *   weight 0.0025 per 1,000 characters, k = 20 for Formula). This is the default reading of
 *   "the reference's protocol": it is what the paper reports.
 * - `reference-cli`: the same protocol with the reference scripts' argparse defaults
 *   (`all_reports`, 20 iterations, length weight 0, k = 10).
 *
 * Each setting carries the reference `file:line` it comes from ({@linkcode PRESET_SOURCES});
 * `docs/reproducing.md` shows them as a table generated from the effective config
 * ({@linkcode presetTableMarkdown}), and a test checks the document against it.
 *
 * @module
 */
import type { Preset, Role, RunConfig, RunConfigInput } from "../run/config.ts";
import { ConfigError } from "../util/errors.ts";

/** The tasks a preset applies to: the paper's three. */
export const PRESET_TASKS = ["hotpotqa", "livebench_math", "formula"] as const;
/** A task a preset applies to. */
export type PresetTask = (typeof PRESET_TASKS)[number];

/** The presets, in the order the docs list them. */
export const PRESETS: readonly Preset[] = ["paper", "reference-cli"];

type Defaults = Partial<RunConfigInput>;
type PerRole<T> = Partial<Record<Role, T>>;

function isPresetTask(task: string): task is PresetTask {
  return (PRESET_TASKS as readonly string[]).includes(task);
}

/** What both presets share: the reference's protocol, models and loop, per task. */
function referenceProtocol(task: PresetTask): Defaults {
  const formula = task === "formula";
  const guarded = task !== "hotpotqa";
  const thinking: PerRole<"high" | "medium"> = formula
    ? { optimizer: "medium", critic: "medium" }
    : { optimizer: "high" };
  return {
    taskProtocol: "reference",
    seedPrompt: "paper",
    ...(task === "livebench_math" ? { olympiadScoring: "positional" as const } : {}),
    target: "openai:gpt-4.1",
    optimizer: "openai:gpt-5",
    embedder: "openai:text-embedding-3-large",
    clusterModel: "openai:gpt-4.1",
    temperature: { target: 0, optimizer: 0, critic: 0, cluster: 0 },
    thinkingLevel: thinking,
    memoryK: 5,
    memoryPatches: false,
    memoryPlacement: "user_message",
    clusterSample: 100,
    topicDescriptions: "comprehensive",
    criticConfidence: true,
    confidenceAware: true,
    brierWeight: 0.05,
    testEvery: 5,
    protocol: "paper",
    maxPatchAttempts: guarded ? 5 : 1,
    maxToolAttempts: 1,
    metaEditGuard: guarded,
    copiedAnswerGuard: false,
    formatCollapseWarning: guarded,
    concurrency: 20,
    showPrevalence: false,
    seed: 0,
  };
}

/**
 * The defaults a preset gives a task (pure: the same inputs give the same object). A task
 * outside the paper's three is a {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * import { presetDefaults } from "./presets.ts";
 * const f = presetDefaults("paper", "formula");
 * if (f.k !== 20 || f.iterations !== 40 || f.memory !== "history_summary") throw new Error();
 * if (presetDefaults("reference-cli", "formula").k !== 10) throw new Error();
 * ```
 */
export function presetDefaults(preset: Preset, task: string): Defaults {
  if (!isPresetTask(task)) {
    throw new ConfigError(
      `preset '${preset}': applies to ${PRESET_TASKS.join(", ")}, not task '${task}'`,
    );
  }
  const shared = referenceProtocol(task);
  if (preset === "paper") {
    return {
      ...shared,
      iterations: 40,
      memory: "history_summary",
      lengthPenalty: 0.0025,
      k: task === "formula" ? 20 : 10,
    };
  }
  return { ...shared, iterations: 20, memory: "all_reports", lengthPenalty: 0, k: 10 };
}

const NESTED = ["temperature", "maxOutputTokens", "reasoningEffort", "thinkingLevel", "limits"];

/**
 * A config input with its preset's defaults filled in: the preset's value for every field
 * the input leaves out (per-role settings and limits merged key by key). Without a preset
 * the input comes back unchanged; applying twice changes nothing.
 *
 * @example
 * ```ts
 * import { applyPreset } from "./presets.ts";
 * const c = applyPreset({ preset: "paper", task: "hotpotqa", iterations: 3,
 *   temperature: { target: 0.7 } });
 * if (c.iterations !== 3 || c.k !== 10 || c.temperature?.target !== 0.7) throw new Error();
 * if (c.temperature?.cluster !== 0) throw new Error("the preset's other roles stay");
 * ```
 */
export function applyPreset<T extends { preset?: Preset; task?: string }>(
  input: T,
): T & Defaults {
  if (input.preset === undefined) return input;
  if (input.task === undefined) {
    throw new ConfigError(`preset '${input.preset}': needs a task (--task)`);
  }
  const defaults = presetDefaults(input.preset, input.task) as Record<string, unknown>;
  const given = input as Record<string, unknown>;
  const out: Record<string, unknown> = { ...defaults, ...given };
  for (const key of NESTED) {
    const d = defaults[key];
    const g = given[key];
    if (d !== undefined && g !== undefined && typeof g === "object" && g !== null) {
      out[key] = { ...(d as object), ...(g as object) };
    }
  }
  return out as T & Defaults;
}

/**
 * Where each setting of the presets comes from in megagonlabs/RPT at commit 3158d7b (file
 * shorthand: H/L/F = `rpt/tasks/hotpotqa.py` / `livebench_math.py` / `xbrl_formula.py`, HG /
 * LG / FG their `_gemini` twins, CF `rpt/analysis/cluster_fusion.py`, HM
 * `rpt/analysis/interpret_data_using_heatmaps.py`, PSA
 * `rpt/analysis/performance_summarization_and_analysis.py`, README the repository's
 * README), with a note where the value is ours.
 */
export const PRESET_SOURCES: Readonly<Partial<Record<keyof RunConfig, string>>> = {
  taskProtocol:
    "rendering H:59-66, 300-333; L:94-112; F:31-37, 168-181; output contract H:46-49, 553-574; L:78-130, 1258-1283; F:19-22, 276-296",
  seedPrompt: "`make_seed_prompt` H:1340-1355, L:2161-2174, F:1037-1062",
  olympiadScoring: "L:977-984 (positional fraction)",
  target: "H:563 (hard-coded); L:2194; F:1088",
  optimizer: "H:1424; L:2191; F:1085 (Gemini: HG:825, LG:799, FG:909)",
  critic: "the optimizer: H:661-665, 1166",
  embedder: "CF:45",
  clusterModel: "CF:46, 270-282, 373-386",
  temperature:
    "target H:569, L:1274, F:292; cluster CF:270-282; Gemini optimizer/critic HG:217, 531, 568 (OpenAI reasoning models are sent none)",
  thinkingLevel: "optimizer HG:530, 567; LG:512, 549; FG:357, 404; critic FG:75",
  reasoningEffort: "not set: H:1134-1139, 1300-1305",
  maxOutputTokens: "not set anywhere",
  iterations: "README:189-199; HM:19-35 (paper runs `iters_40`); CLI default 20: H:1414",
  memory: "HM:19-35, PSA:23-39 (paper runs `log_history_summary`); CLI default all_reports: H:1415",
  memoryK: "`--k_reports` H:1417",
  memoryTokenBudget: "no limit in the reference (H:1233-1298): the optimizer's context window",
  memoryPatches: "reports only, no patches: H:1244-1270",
  memoryPlacement: "a user message after the tool output: H:1285-1298",
  k: "`--k_topics` H:1416; Formula paper run k_topics_20: HM:32-33",
  clusterSample: "`--clustering_sample_size` H:1418",
  topicDescriptions: 'topic_desc_mode "comprehensive": H:847; CF:263',
  criticConfidence:
    "ours (a kept improvement): the reference's critic does not judge it (H:405-427)",
  confidenceAware: "calibration is the controller's second goal: H:978-1001",
  brierWeight: "H:896, L:1668, F:559",
  lengthPenalty: "paper runs `pcw_0.0025_pcu_1000`: HM:19-35; CLI default 0: H:1427-1441",
  testEvery: "H:1099, L:1837, F:769 (plus step 1)",
  maxPromptChars: "no cap anywhere",
  maxPatchAttempts: "HotPotQA none (H:1309-1317); L:240, 2001-2074; F:145, 935-1003",
  maxToolAttempts: "a missing call ends the run: H:1226-1227",
  metaEditGuard: "L:221-238, 1634-1646; F:126-143, 614-627 (markers ours, see deviations)",
  copiedAnswerGuard: "no such check anywhere",
  formatCollapseWarning: "L:241-242, 1599-1631; F:146-147, 582-611",
  protocol: "one evaluation per iteration: H:1156-1158",
  concurrency: "`--eval_workers` 20: H:1420",
  showPrevalence: "prevalence removed from the report: H:858-860",
  seed: "`--seed` 0: H:1409-1443",
};

/** The fields the preset table shows, in order. */
export const PRESET_TABLE_FIELDS = Object.keys(PRESET_SOURCES) as (keyof RunConfig)[];

function cell(config: RunConfig, field: keyof RunConfig): string {
  const value = config[field];
  if (field === "critic" && value === undefined) return "= optimizer";
  if (field === "seedPrompt" && typeof value === "object") return "paper (seed_prompt.json)";
  if (value === undefined) return "-";
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? "-" : entries.map(([k, v]) => `${k} ${v}`).join(", ");
  }
  return String(value);
}

/**
 * The preset table of `docs/reproducing.md`: one row per setting, one column per task
 * (the value in the effective config), and the reference source.
 */
export function presetTableMarkdown(configs: Readonly<Record<PresetTask, RunConfig>>): string {
  const rows = PRESET_TABLE_FIELDS.map((field) => {
    const cells = PRESET_TASKS.map((t) => cell(configs[t], field).replaceAll("|", "\\|"));
    return `| \`${field}\` | ${cells.join(" | ")} | ${PRESET_SOURCES[field] ?? ""} |`;
  });
  return [
    `| setting | ${PRESET_TASKS.join(" | ")} | reference |`,
    `|---|${PRESET_TASKS.map(() => "---").join("|")}|---|`,
    ...rows,
  ].join("\n");
}
