/**
 * `rpt optimize`: runs RPT on a task and writes the run record.
 *
 * ```
 * rpt optimize --task T --target SPEC --optimizer SPEC [--critic SPEC] [--embedder SPEC]
 *              [--iterations N] [--confidence-aware] [--memory MODE] [--protocol paper|explore]
 *              [--concurrency C] [--budget-usd X] [--run-dir D] [--seed S] [--dry-run] ...
 * ```
 *
 * Bad configuration (unknown task, bad model spec, missing key, unreadable data) is one
 * clear line on stderr before any call. On a terminal a line redrawn in place shows the step,
 * phase, elapsed time, ETAs and spend; otherwise a heartbeat line every 30 s; and one line
 * per saved step (`progress.ts`). Ctrl-C stops after saving the last complete
 * step (exit 130); `rpt resume D` continues.
 *
 * @module
 */
import { loadRunData, resolveSeedPrompt } from "../revise/data.ts";
import { resolveRunConfig } from "../revise/config.ts";
import type { EstimateLine } from "../revise/estimate.ts";
import { createRunModels } from "../revise/models.ts";
import { optimize, type OptimizeOptions, type OptimizeResult } from "../revise/optimize.ts";
import { addSpend, type LoopEvent, type LoopSpend } from "../revise/progress.ts";
import { ProviderError } from "../llm/model.ts";
import { parseModelSpec, simulationBanner } from "../llm/spec.ts";
import { type RunConfig, type RunConfigInput } from "../run/config.ts";
import { ConfigError } from "../util/errors.ts";
import { costText, fixed, probability, signed, usd } from "../util/format.ts";
import { IncompleteError } from "../incomplete.ts";
import { EXIT_INCOMPLETE, incompleteParagraph, runFailedCallsText } from "./incomplete.ts";
import { applyLimitFlags, flagHelp, parseCommandArgs, runConfigFlag } from "./args.ts";
import { hint } from "./hints.ts";
import { applyCallFlags, CALL_FLAGS, CALL_FLAGS_HELP } from "./call_flags.ts";
import { iterationsTable, selectionNote } from "./iterations.ts";
import { progressReporter } from "./progress.ts";
import { applyRunSettingFlags, RUN_SETTING_FLAGS, RUN_SETTING_HELP } from "./run_flags.ts";
import { applyPreset } from "../revise/presets.ts";

const HELP = `usage: rpt optimize --task T --target SPEC --optimizer SPEC [flags]
       rpt optimize --preset paper --task T [flags]

  --task T              hotpotqa | livebench_math | formula | synthetic | custom:<task.json>
  --target SPEC         target model, e.g. openai:gpt-4.1-mini, gemini:gemini-2.5-flash, sim:target
  --optimizer SPEC      optimizer model, e.g. openai:gpt-4.1, sim:optimizer
  --critic SPEC         critic model (default: the optimizer)
  --embedder SPEC       embedder for clustering: tfidf (default), sim:embed, openai:text-embedding-3-small
  --iterations N        iterations T (default 10)
  --confidence-aware    select with the Brier term (w = 0.05) and name calibration as a goal
  --memory MODE         history_summary (default) | all_reports | last_k | last_report | none
  --memory-k K          reports shown in last_k mode, the current one included (default 5;
                        also --last-k)
  --protocol P          paper (default: one diagnose call per iteration) | explore
  --explore-calls N     diagnose calls per iteration in explore (default 4)
${flagHelp("concurrency", " (default 16)")}
  --budget-usd X        stop before spending more than X dollars (every model needs a price)
${CALL_FLAGS_HELP}
${flagHelp("run-dir", ": the run directory\n(default runs/<task>-<time>)")}
${flagHelp("seed", ": clustering, bootstrap, simulated models\n(default 0)")}
${flagHelp("data-dir", " (default RPT_DATA_DIR, then data/)")}
${flagHelp("cache", " (default RPT_CACHE, then .rpt/cache.sqlite)")}
${flagHelp("limits", "\n(default all)")}
${flagHelp("config")}
${
  flagHelp("dry-run", "\n(the settings, the expected calls, tokens and dollars; no API key needed)")
}
${flagHelp("quiet")}

${RUN_SETTING_HELP}

Your own task: --task custom:PATH/task.json, a file like
  {"name": "mine", "data": "DIR", "scorer": SCORER, "seedPromptFile": "seed.txt"}
  data      a directory with train.jsonl, dev.jsonl and test.jsonl, one example a line:
            {"input": "...", "answer": "...", "id": "...", "context": "...", "subtask": "..."}
            (input and answer required; id defaults to <split>-<line index>)
  scorer    "exact" | "f1" | {"numeric": {"tolerance": T, "relative": false}}
            | {"module": "./scorer.ts"}  (exports score(example, output, rawText))
  seedPromptFile  optional: the instruction as text, or a {system, instruction} .json
  It runs offline on the simulator, which answers from the gold answers:
    rpt optimize --task custom:examples/unit-conversions/task.json --target sim:target \\
      --optimizer sim:optimizer --critic sim:critic --embedder sim:embed
  README.md, "Your own task", has the details.

exit codes: 0 finished; 1 an unexpected error; 2 a problem with the command, its files or
its settings (nothing was spent, or the run can be resumed once it is fixed); 3 incomplete:
calls failed after their retries, everything else is saved, continue with
'rpt resume DIR'; 130 interrupted (Ctrl-C).`;

/** The parsed command line of `rpt optimize`. */
export interface OptimizeCommand {
  config: RunConfigInput;
  runDir?: string;
  dryRun: boolean;
  quiet: boolean;
  help: boolean;
}

function intFlag(name: string, value: string | undefined): number | undefined {
  return runConfigFlag(value, name, { integer: true });
}

function numFlag(name: string, value: string | undefined): number | undefined {
  return runConfigFlag(value, name);
}

/**
 * Parses `rpt optimize` arguments into a run config (not yet validated: {@linkcode optimize}
 * does that). Unknown flags are a {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * import { parseOptimizeArgs } from "./optimize.ts";
 * const c = await parseOptimizeArgs(["--task", "synthetic", "--target", "sim:target",
 *   "--optimizer", "sim:optimizer", "--iterations", "3", "--confidence-aware"]);
 * if (c.config.iterations !== 3 || c.config.confidenceAware !== true) throw new Error();
 * ```
 */
export async function parseOptimizeArgs(args: string[]): Promise<OptimizeCommand> {
  const { values } = parseCommandArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      task: { type: "string" },
      target: { type: "string" },
      optimizer: { type: "string" },
      critic: { type: "string" },
      embedder: { type: "string" },
      iterations: { type: "string" },
      "confidence-aware": { type: "boolean" },
      memory: { type: "string" },
      "memory-k": { type: "string" },
      protocol: { type: "string" },
      "explore-calls": { type: "string" },
      concurrency: { type: "string" },
      "budget-usd": { type: "string" },
      "run-dir": { type: "string" },
      seed: { type: "string" },
      "data-dir": { type: "string" },
      cache: { type: "string" },
      "limit-train": { type: "string" },
      "limit-dev": { type: "string" },
      "limit-test": { type: "string" },
      config: { type: "string" },
      "dry-run": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      ...RUN_SETTING_FLAGS,
      ...CALL_FLAGS,
    },
  }, " (see 'rpt optimize --help')");
  let base: Record<string, unknown> = {};
  if (values.config !== undefined) {
    // Loaded on demand, like the dry run's modules below: a run's start-up is CPU per call.
    const { readConfigFile } = await import("./config_file.ts");
    base = await readConfigFile(values.config);
  }
  const set = <T>(key: string, value: T | undefined) => {
    if (value !== undefined) base[key] = value;
  };
  set("task", values.task);
  set("target", values.target);
  set("optimizer", values.optimizer);
  set("critic", values.critic);
  set("embedder", values.embedder);
  set("iterations", intFlag("iterations", values.iterations));
  set("confidenceAware", values["confidence-aware"]);
  set("memory", values.memory);
  set("memoryK", intFlag("memory-k", values["memory-k"]));
  set("protocol", values.protocol);
  set("exploreCalls", intFlag("explore-calls", values["explore-calls"]));
  set("concurrency", intFlag("concurrency", values.concurrency));
  set("budgetUsd", numFlag("budget-usd", values["budget-usd"]));
  set("seed", intFlag("seed", values.seed));
  set("dataDir", values["data-dir"]);
  set("cache", values.cache);
  applyCallFlags(values, base);
  applyLimitFlags(values, base);
  await applyRunSettingFlags(values, base);
  // The preset fills what neither the config file nor a flag gives.
  if (!values.help) base = applyPreset(base);
  for (const required of ["task", "target", "optimizer"]) {
    if (!values.help && base[required] === undefined) {
      throw new ConfigError(`--${required} is required (see 'rpt optimize --help')`);
    }
  }
  return {
    config: base as RunConfigInput,
    ...(values["run-dir"] !== undefined ? { runDir: values["run-dir"] } : {}),
    dryRun: values["dry-run"] === true,
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

/** Runs `fn` with Ctrl-C turned into a clean stop (abort signal); a second Ctrl-C exits. */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) Deno.exit(130);
    console.error("\nrpt: stopping after saving the last complete step (Ctrl-C again to quit now)");
    controller.abort(new DOMException("interrupted by Ctrl-C", "AbortError"));
  };
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onSigint);
    listening = true;
  } catch {
    // No signal support (e.g. some Windows consoles): Ctrl-C then kills the process.
  }
  try {
    return await fn(controller.signal);
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSigint);
  }
}

/**
 * Runs a loop with Ctrl-C handling and progress output. Calls that failed after their
 * retries (an {@linkcode IncompleteError}, or a provider failure outside any evaluation)
 * stop the run incomplete: one paragraph pointing at `rpt resume`, exit code
 * {@linkcode EXIT_INCOMPLETE}; completed steps are saved and no summary is written.
 */
export async function runLoop(
  quiet: boolean,
  start: (options: OptimizeOptions) => Promise<OptimizeResult>,
): Promise<number> {
  const reporter = progressReporter({ quiet });
  let dir: string | undefined;
  let banner: string | undefined;
  const batches: BatchTally = { jobs: 0, lines: 0, fallbacks: 0 };
  let earlier: LoopSpend | undefined;
  const onEvent = (event: LoopEvent) => {
    if (event.type === "batch" && event.stage === "done") {
      if (event.batchId !== undefined) batches.jobs++;
      batches.lines += event.done;
      batches.fallbacks += event.fallbacks;
    }
    // The banner once the run is open: after any argument, key or data error, never before.
    if (event.type === "open") {
      banner = simulationBanner(event.config);
      earlier = event.earlier?.spend;
      if (banner !== undefined) console.log(banner);
    }
    reporter.onEvent(event);
  };
  try {
    const result = await withInterrupt((signal) =>
      start({ signal, onEvent, onRunDir: (d) => (dir = d) })
    );
    reporter.done();
    return reportResult(result, banner, batches, earlier);
  } catch (error) {
    reporter.done();
    if (dir === undefined) throw error;
    if (error instanceof IncompleteError) {
      console.error(incompleteParagraph({
        failures: error.failures,
        ...(error.step !== undefined ? { step: error.step } : {}),
        ...(error.endpoint !== undefined ? { endpoint: error.endpoint } : {}),
      }, dir));
      return EXIT_INCOMPLETE;
    }
    if (!(error instanceof ProviderError)) throw error;
    console.error(incompleteParagraph({
      failures: { phase: "optimizer", failed: 1, total: 1, lastError: error.message },
    }, dir));
    return EXIT_INCOMPLETE;
  }
}

/** What batch mode did in a session: jobs, lines they answered, lines that fell back. */
export interface BatchTally {
  jobs: number;
  lines: number;
  /** Lines failed in a batch or never answered, sent as ordinary calls instead. */
  fallbacks: number;
}

/**
 * The end-of-run line about batch mode, or undefined when no batch ran; the command it names
 * is written the way rpt was started.
 */
export function batchTallyText(t: BatchTally, dir: string): string | undefined {
  if (t.jobs === 0 && t.fallbacks === 0) return undefined;
  const head = `batch: ${t.jobs} job${t.jobs === 1 ? "" : "s"} answered ${t.lines} ` +
    `line${t.lines === 1 ? "" : "s"} at batch prices`;
  // The report to look at, written the way rpt was started.
  return t.fallbacks === 0 ? head : hint(
    `warning: ${head}; ${t.fallbacks} line${t.fallbacks === 1 ? "" : "s"} fell back to ` +
      `ordinary calls (failed in a batch or never answered; rpt report ${dir} lists them)`,
  );
}

/**
 * Prints the end of a run and returns the exit code; `batches` is what batch mode did, and
 * `earlier` what the sessions before this one spent (a resumed run), added to the cost line
 * as the run's total.
 */
export function reportResult(
  result: OptimizeResult,
  banner?: string,
  batches?: BatchTally,
  earlier?: LoopSpend,
): number {
  if (result.interrupted || result.summary === null) {
    console.error(hint(
      `rpt: interrupted after ${result.state.completedSteps} complete step(s); ` +
        `continue with: rpt resume ${result.dir}`,
    ));
    return 130;
  }
  const s = result.summary;
  const test = fixed(s.selected.test?.score, 4, "not scored");
  const cmp = s.comparison
    ? ` (vs seed ${signed(s.comparison.delta, 4)}, ` +
      `95% CI [${fixed(s.comparison.lo, 4)}, ${fixed(s.comparison.hi, 4)}], ` +
      `P(selected better) ${probability(s.comparison.probabilityFinalGreater)})`
    : "";
  if (banner !== undefined) console.log(banner);
  console.log(`\nIterations${s.simulated ? " [SIMULATED]" : ""}`);
  console.log(iterationsTable(s.steps));
  console.log(`${selectionNote(s.steps, s)}\n`);
  console.log(`stopped: ${s.stop.kind}: ${s.stop.reason}`);
  console.log(
    `selected step ${s.selected.step}: dev ${fixed(s.selected.dev.score, 4)}, test ${test}${cmp}`,
  );
  const failed = runFailedCallsText(s);
  if (failed) console.log(`warning: ${failed}`);
  const batched = batches && batchTallyText(batches, result.dir);
  if (batched) console.log(batched);
  const total = result.usage.total;
  const simulated = s.simulated ? " [simulated]" : "";
  const cost = (usd: number, unpriced: readonly string[], calls: number, hits: number) =>
    `${costText(usd, [...unpriced])} (${calls} calls, ${hits} cache hits)`;
  if (earlier === undefined || earlier.calls + earlier.cacheHits === 0) {
    console.log(
      `cost: ${cost(total.usd, result.usage.unpriced, total.calls, total.cacheHits)}${simulated}`,
    );
  } else {
    const run = addSpend(earlier, {
      ...total,
      unpriced: result.usage.unpriced,
    });
    console.log(
      `cost: ${cost(total.usd, result.usage.unpriced, total.calls, total.cacheHits)} this ` +
        `session; the run: ${cost(run.usd, run.unpriced, run.calls, run.cacheHits)}${simulated}`,
    );
  }
  console.log(
    hint(`run record: ${result.dir}  (rpt show ${result.dir}, rpt report ${result.dir})`),
  );
  return 0;
}

/**
 * The dry run's table: one row per role and model with its calls, input and output tokens
 * and dollars (at batch prices where it says so), every column as wide as its widest cell, so that long model specs (an
 * `openai-compatible:` URL) keep the columns aligned.
 *
 * @example
 * ```ts
 * import { estimateTable } from "./optimize.ts";
 * const rows = estimateTable([
 *   { role: "target", model: "openai-compatible:m@http://127.0.0.1:8080/v1", calls: 120,
 *     inputTokens: 48000, outputTokens: 3000, usd: 0, priced: false, batch: true,
 *     interactiveUsd: 0 },
 *   { role: "optimizer", model: "sim:optimizer", calls: 8, inputTokens: 900, outputTokens: 80,
 *     usd: 0.5, priced: true, batch: false, interactiveUsd: 0.5 },
 * ]);
 * const at = (row: string | undefined, word: string) => row?.indexOf(word);
 * for (const word of [" calls", " in", " out"]) {
 *   if (at(rows[0], word) !== at(rows[1], word)) throw new Error(rows.join("\n"));
 * }
 * ```
 */
export function estimateTable(lines: readonly EstimateLine[]): string[] {
  const cells = lines.map((l) => [
    l.role,
    l.model,
    `${l.calls} calls`,
    `${l.inputTokens} in`,
    `${l.outputTokens} out`,
    `${l.priced ? `$${l.usd.toFixed(2)}` : "unpriced"}${l.batch ? " (batch)" : ""}`,
  ]);
  const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.max(0, ...cells.map((c) => c[i]!.length)));
  return cells.map((c) =>
    c.map((text, i) => i < 2 || i === 5 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!))
      .join("  ").trimEnd()
  );
}

/**
 * What a real run of `config` would still need (an API key, say): the dry run calls nothing,
 * so it says so instead of failing. A bad spec is still an error.
 */
async function missingKeys(config: RunConfig): Promise<string[]> {
  for (const spec of [config.target, config.optimizer, config.critic, config.clusterModel]) {
    if (spec !== undefined) parseModelSpec(spec);
  }
  try {
    await createRunModels(config); // checks keys; creating a model calls nothing
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [`${error.message} (a real run needs it; the dry run calls nothing)`];
  }
}

/** `rpt optimize`. */
export async function run(args: string[]): Promise<number> {
  const cmd = await parseOptimizeArgs(args);
  if (cmd.help) {
    console.log(hint(HELP));
    return 0;
  }
  if (cmd.dryRun) {
    const [{ estimateRun }, { settingsLines }] = await Promise.all([
      import("../revise/estimate.ts"),
      import("./settings_text.ts"),
    ]);
    const config = await resolveSeedPrompt(resolveRunConfig(cmd.config));
    const { task, data } = await loadRunData(config);
    const notes = await missingKeys(config);
    const e = estimateRun(config, task, data);
    console.log(
      `dry run: ${task.name}, ${config.iterations} iterations, train/dev/test ` +
        `${data.train.length}/${data.dev.length}/${data.test.length}`,
    );
    for (const line of settingsLines(config)) console.log(`  ${line}`);

    for (const line of estimateTable(e.lines)) console.log(`  ${line}`);
    console.log(
      `  total: ${e.calls} calls, ${e.tokens} tokens, at most ` +
        costText(e.usd, e.unpriced, 2),
    );
    if (e.lines.some((l) => l.batch)) {
      console.log(
        `  batch: ${usd(e.usd, 2)} at batch prices instead of ${usd(e.interactiveUsd, 2)} ` +
          `(saves ${usd(e.interactiveUsd - e.usd, 2)})`,
      );
    } else if (config.batch === true) {
      console.log(`  batch: no role has a batch API (the simulator's calls stay interactive)`);
    }
    if (config.budgetUsd !== undefined && e.unpriced.length > 0) {
      console.log(`  note: a run with --budget-usd refuses to start while a model is unpriced`);
    }
    console.log(`  assumptions: ${e.assumptions.join("; ")}`);
    for (const note of notes) console.log(`  note: ${note}`);
    return 0;
  }
  return await runLoop(cmd.quiet, (options) =>
    optimize(cmd.config, {
      ...(cmd.runDir !== undefined ? { runDir: cmd.runDir } : {}),
      ...options,
    }));
}
