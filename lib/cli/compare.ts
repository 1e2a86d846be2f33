/**
 * `rpt compare`: runs RPT and the baselines (GEPA, MIPRO-style, ACE) on one task under one
 * budget in target calls, and prints the comparison table (initial → final dev/test score
 * and Brier, calls, tokens and dollars per method). Simulator models are the default; the
 * table then says SIMULATED.
 *
 * ```
 * rpt compare --task T [--methods rpt,gepa,mipro,ace] [--budget-calls N] [--target SPEC]
 *             [--optimizer SPEC] [--critic SPEC] [--run-dir DIR] ...
 * ```
 *
 * @module
 */
import { compare, type CompareOptions, compareTable, METHODS } from "../baselines/compare.ts";
import { ConfigError } from "../util/errors.ts";
import {
  flagHelp,
  integerFlag,
  limitFlag,
  parseCommandArgs,
  positiveIntFlag,
  runConfigFlag,
} from "./args.ts";
import { callFlagsHelp } from "./call_flags.ts";
import { hint } from "./hints.ts";

/** The methods `rpt compare` runs without `--methods`: the paper's Table 1. */
const DEFAULT_METHODS = ["rpt", "gepa", "mipro", "ace"];

const HELP = `usage: rpt compare --task T [flags]

  --task T              hotpotqa | livebench_math | formula | synthetic | custom:<task.json>
  --methods LIST        comma-separated: ${Object.keys(METHODS).join(",")}
                        (default: ${DEFAULT_METHODS.join(",")}; gepa-ca is confidence-aware
                        GEPA: calibration in its feedback, selection with the Brier term)
  --budget-calls N      target (metric) calls per method, dev scoring included (default 400)
  --target SPEC         target model (default sim:target)
  --optimizer SPEC      optimizer model for every method (default sim:optimizer)
  --critic SPEC         critic model (default: the optimizer)
  --embedder SPEC       embedder for RPT's clustering (default tfidf)
  --confidence-aware    select with the Brier term (w = 0.05)
${flagHelp("limits", "\n(default 40, 30 and 100)")}
${flagHelp("concurrency", " (default 16)")}
${flagHelp("seed", ": every method, simulated models\n(default 0)")}
${flagHelp("data-dir", " (default RPT_DATA_DIR, then data/)")}
${
  flagHelp(
    "run-dir",
    ": compare.json, table.md,\ncurves.svg, events.jsonl and RPT's run (--out, its old name, works for one\nmore release)",
  )
}
${
  flagHelp(
    "cache",
    " under the budget meters: run the same\ncomparison again (after an interruption) and pay for no call twice",
  )
}
${callFlagsHelp(["timeout", "retries", "max-backoff"])}
${flagHelp("json", ": the result, not the table")}
${flagHelp("quiet")}`;

/** The parsed command line of `rpt compare`. */
export interface CompareCommand {
  options: CompareOptions;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

/**
 * Parses `rpt compare` arguments.
 *
 * @example
 * ```ts
 * import { parseCompareArgs } from "./compare.ts";
 * const c = parseCompareArgs(["--task", "synthetic", "--methods", "gepa,ace", "--budget-calls", "300"]);
 * if (c.options.budgetCalls !== 300 || c.options.methods.join() !== "gepa,ace") throw new Error();
 * ```
 */
export function parseCompareArgs(args: string[]): CompareCommand {
  const { values } = parseCommandArgs(
    {
      args,
      strict: true,
      allowPositionals: false,
      options: {
        task: { type: "string" },
        methods: { type: "string" },
        "budget-calls": { type: "string" },
        target: { type: "string" },
        optimizer: { type: "string" },
        critic: { type: "string" },
        embedder: { type: "string" },
        "confidence-aware": { type: "boolean" },
        "limit-train": { type: "string" },
        "limit-dev": { type: "string" },
        "limit-test": { type: "string" },
        concurrency: { type: "string" },
        seed: { type: "string" },
        "data-dir": { type: "string" },
        "run-dir": { type: "string" },
        cache: { type: "string" },
        timeout: { type: "string" },
        retries: { type: "string" },
        "max-backoff": { type: "string" },
        json: { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    },
    " (see 'rpt compare --help')",
    { command: "compare" },
  );
  const help = values.help === true;
  if (!help && values.task === undefined) {
    throw new ConfigError("--task is required (see 'rpt compare --help')");
  }
  const methods = (values.methods ?? DEFAULT_METHODS.join(","))
    .split(",").map((m) => m.trim()).filter((m) => m !== "");
  for (const m of methods) {
    if (!Object.hasOwn(METHODS, m)) {
      throw new ConfigError(
        `--methods: unknown method '${m}': expected some of ${Object.keys(METHODS).join(", ")}`,
      );
    }
  }
  const limits: CompareOptions["limits"] = {};
  const train = limitFlag(values["limit-train"], "limit-train", 40);
  const dev = limitFlag(values["limit-dev"], "limit-dev", 30);
  const test = limitFlag(values["limit-test"], "limit-test", 100);
  if (train !== undefined) limits.train = train;
  if (dev !== undefined) limits.dev = dev;
  if (test !== undefined) limits.test = test;
  const calls = compareCallOptions(values);
  const options: CompareOptions = {
    task: values.task ?? "",
    methods,
    budgetCalls: positiveIntFlag(values["budget-calls"], "budget-calls", 400),
    ...(values.target !== undefined ? { target: values.target } : {}),
    ...(values.optimizer !== undefined ? { optimizer: values.optimizer } : {}),
    ...(values.critic !== undefined ? { critic: values.critic } : {}),
    ...(values.embedder !== undefined ? { embedder: values.embedder } : {}),
    confidenceAware: values["confidence-aware"] === true,
    limits,
    concurrency: positiveIntFlag(values.concurrency, "concurrency", 16),
    seed: integerFlag(values.seed, "seed", 0),
    ...(values["data-dir"] !== undefined ? { dataDir: values["data-dir"] } : {}),
    ...(values["run-dir"] !== undefined ? { outDir: values["run-dir"] } : {}),
    ...(values.cache !== undefined ? { cache: values.cache } : {}),
    ...(calls !== undefined ? { calls } : {}),
  };
  return { options, json: values.json === true, quiet: values.quiet === true, help };
}

/** `--timeout`, `--retries` and `--max-backoff` as the harness's call options (a run's ranges). */
function compareCallOptions(
  values: { timeout?: string; retries?: string; "max-backoff"?: string },
): CompareOptions["calls"] {
  const timeout = runConfigFlag(values.timeout, "timeout");
  const retries = runConfigFlag(values.retries, "retries", { integer: true });
  const backoff = runConfigFlag(values["max-backoff"], "max-backoff");
  if (timeout === undefined && retries === undefined && backoff === undefined) return undefined;
  return {
    ...(retries !== undefined ? { maxRetries: retries } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
    ...(backoff !== undefined ? { maxBackoffMs: backoff * 1000 } : {}),
  };
}

/** Runs `rpt compare`; returns the exit code (130 when interrupted). */
export async function run(args: string[]): Promise<number> {
  const command = parseCompareArgs(args);
  if (command.help) {
    console.log(hint(HELP));
    return 0;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DOMException("interrupted", "AbortError"));
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onSignal);
    listening = true;
  } catch {
    // Not every platform or permission set allows signal listeners.
  }
  let lastMethod = "";
  try {
    const result = await compare({
      ...command.options,
      signal: controller.signal,
      onProgress: command.quiet ? undefined : (p) => {
        if (p.method !== lastMethod) {
          lastMethod = p.method;
          console.error(`rpt compare: ${p.method} (budget ${p.budget} target calls)`);
        }
      },
    });
    console.log(command.json ? JSON.stringify(result, null, 2) : compareTable(result));
    if (command.options.outDir !== undefined && !command.quiet) {
      console.error(`rpt compare: record written to ${command.options.outDir}`);
    }
    return 0;
  } catch (error) {
    if (controller.signal.aborted) {
      console.error("rpt compare: interrupted");
      return 130;
    }
    throw error;
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSignal);
  }
}
