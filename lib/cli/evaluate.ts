/**
 * `rpt evaluate`: scores a prompt on train, dev and test without optimizing, the reference's
 * `--evaluate_only`. The prompt is the task's seed (the paper's under `--preset paper`), or
 * `--prompt FILE` (JSON `{system, instruction}`); `--diagnose` adds the full diagnostic
 * report on train (critique and ClusterFusion). The run settings and the preset are
 * `rpt optimize`'s; the result is written to `--run-dir` (default `runs/evaluate-<task>-<time>`; the old
 * `--out` still works for a release, with a note).
 *
 * @module
 */
import { simulationBanner, specsAreSimulated } from "../llm/spec.ts";
import type { RunConfigInput } from "../run/config.ts";
import { applyPreset } from "../revise/presets.ts";
import { evaluatePromptOnly, type PromptEvaluation } from "../revise/evaluate_only.ts";
import { Split } from "../tasks/schema.ts";
import { ConfigError } from "../util/errors.ts";
import { fixed } from "../util/format.ts";
import { applyLimitFlags, flagHelp, parseCommandArgs, runConfigFlag } from "./args.ts";
import { hint } from "./hints.ts";
import { applyCallFlags, CALL_FLAGS, CALL_FLAGS_HELP } from "./call_flags.ts";
import { applyRunSettingFlags, RUN_SETTING_FLAGS, RUN_SETTING_HELP } from "./run_flags.ts";
import { settingsLines } from "./settings_text.ts";
import { readConfigFile } from "./config_file.ts";

const HELP = `usage: rpt evaluate --task T --target SPEC [flags]
       rpt evaluate --preset paper --task T [--diagnose] [flags]

Scores one prompt on train, dev and test (metrics and the task's headline per split).

  --task T              hotpotqa | livebench_math | formula | synthetic | custom:<task.json>
  --target SPEC         target model
  --prompt FILE         the prompt to score, JSON {system, instruction} (default: the seed)
  --diagnose            the full diagnostic call on train: critique, ClusterFusion, the report
  --optimizer SPEC, --critic SPEC, --embedder SPEC   the critic's model (default: the
                        optimizer, else the target) and the embedder, for --diagnose
  --splits S            comma-separated splits to score (default train,dev,test)
${
  flagHelp(
    "run-dir",
    "\n(default runs/evaluate-<task>-<time>; --out, its old name, works for one\nmore release)",
  )
}
${flagHelp("concurrency", " (default 16)")}
${flagHelp("seed", ": clustering, bootstrap, simulated models\n(default 0)")}
${flagHelp("data-dir", " (default RPT_DATA_DIR, then data/)")}
${flagHelp("cache", " (default RPT_CACHE, then .rpt/cache.sqlite)")}
${flagHelp("limits", "\n(default all)")}
${flagHelp("config")}
${flagHelp("json", ": evaluation.json")}
${flagHelp("quiet", " (and no settings)")}
${CALL_FLAGS_HELP}

${RUN_SETTING_HELP}`;

function defaultOut(task: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/Z$/, "");
  return `runs/evaluate-${task.replace(/^custom:/, "").replace(/[^A-Za-z0-9_.-]+/g, "_")}-${stamp}`;
}

function int(name: string, value: string | undefined): number | undefined {
  return runConfigFlag(value, name, { integer: true });
}

/** The parsed command line of `rpt evaluate`. */
export interface EvaluateCommand {
  config: RunConfigInput;
  /** The output directory (`--run-dir`). */
  runDir?: string;
  diagnose: boolean;
  splits: Split[];
  json: boolean;
  quiet: boolean;
  help: boolean;
}

/** Parses `rpt evaluate` arguments (a config input; the session code validates it). */
export async function parseEvaluateArgs(args: string[]): Promise<EvaluateCommand> {
  const { values } = parseCommandArgs(
    {
      args,
      strict: true,
      allowPositionals: false,
      options: {
        task: { type: "string" },
        target: { type: "string" },
        optimizer: { type: "string" },
        critic: { type: "string" },
        embedder: { type: "string" },
        prompt: { type: "string" },
        diagnose: { type: "boolean" },
        splits: { type: "string" },
        "run-dir": { type: "string" },
        concurrency: { type: "string" },
        seed: { type: "string" },
        "data-dir": { type: "string" },
        cache: { type: "string" },
        config: { type: "string" },
        "limit-train": { type: "string" },
        "limit-dev": { type: "string" },
        "limit-test": { type: "string" },
        json: { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        ...RUN_SETTING_FLAGS,
        ...CALL_FLAGS,
      },
    },
    " (see 'rpt evaluate --help')",
    { command: "evaluate" },
  );
  let base: Record<string, unknown> = {};
  if (values.config !== undefined) base = await readConfigFile(values.config);
  const set = (key: string, value: unknown) => {
    if (value !== undefined) base[key] = value;
  };
  for (const key of ["task", "target", "optimizer", "critic", "embedder", "cache"] as const) {
    set(key, values[key]);
  }
  set("dataDir", values["data-dir"]);
  set("concurrency", int("concurrency", values.concurrency));
  set("seed", int("seed", values.seed));
  applyLimitFlags(values, base);
  applyCallFlags(values, base);
  await applyRunSettingFlags(
    { ...values, "seed-prompt": values.prompt ?? values["seed-prompt"] },
    base,
  );
  if (!values.help) base = applyPreset(base);
  if (!values.help && base.task === undefined) {
    throw new ConfigError("--task is required (see 'rpt evaluate --help')");
  }
  if (!values.help && base.target === undefined) {
    throw new ConfigError("--target is required (see 'rpt evaluate --help')");
  }
  // No optimizer runs here; the critic (for --diagnose) defaults to it, else to the target.
  if (base.optimizer === undefined) base.optimizer = base.critic ?? base.target;
  const splits = (values.splits ?? "train,dev,test").split(",").map((s) => s.trim());
  for (const s of splits) {
    if (!Split.safeParse(s).success) {
      throw new ConfigError(`--splits: expected train, dev and/or test, got "${s}"`);
    }
  }
  return {
    config: base as RunConfigInput,
    ...(values["run-dir"] !== undefined ? { runDir: values["run-dir"] } : {}),
    diagnose: values.diagnose === true,
    splits: splits as Split[],
    json: values.json === true,
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

/** The result as a table: one row per split. */
export function formatEvaluation(e: PromptEvaluation): string {
  const name = e.splits[0]?.headline.name ?? "headline";
  const lines = [
    `split   n     score   ${name.padEnd(14)} brier   ece     format errors`,
    ...e.splits.map((s) =>
      `${s.split.padEnd(6)}  ${String(s.n).padEnd(4)}  ${fixed(s.metrics.score, 4)}  ` +
      `${fixed(s.headline.value, 4).padEnd(14)} ${fixed(s.metrics.brier, 4, "-  ")}  ` +
      `${fixed(s.metrics.ece, 4, "-  ")}  ${fixed(s.metrics.formatErrorRate, 3)}`
    ),
  ];
  if (e.report !== null) {
    lines.push("", `train failure topics (${e.report.counts.failures} failures diagnosed):`);
    for (const t of e.report.topics) {
      lines.push(`  - ${t.name} (prevalence ${fixed(t.prevalence ?? null, 2)}): ${t.description}`);
    }
  }
  return lines.join("\n");
}

/** `rpt evaluate`. */
export async function run(args: string[]): Promise<number> {
  const cmd = await parseEvaluateArgs(args);
  if (cmd.help) {
    console.log(hint(HELP));
    return 0;
  }
  const out = cmd.runDir ?? defaultOut(String(cmd.config.task));
  const { config, dir, evaluation } = await evaluatePromptOnly(cmd.config, {
    dir: out,
    diagnose: cmd.diagnose,
    splits: cmd.splits,
  });
  if (cmd.json) {
    console.log(JSON.stringify(evaluation, null, 2));
    return 0;
  }
  const simulated = specsAreSimulated(config);
  const banner = simulationBanner(config);
  if (banner !== undefined) console.log(banner);
  if (!cmd.quiet) { for (const line of settingsLines(config)) console.log(line); }
  console.log(formatEvaluation(evaluation));
  console.log(`written to ${dir}${simulated ? " (SIMULATED)" : ""}`);
  return 0;
}
