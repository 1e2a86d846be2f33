/**
 * The `rpt` command line. Each subcommand lives in its own module under `cli/` and is
 * loaded on demand, so `rpt score` does not pay for the optimizer's imports.
 *
 * Run `deno task rpt help` for the list of commands.
 *
 * @module
 */
import { hint, invocation } from "./cli/hints.ts";
import type { IncompleteError } from "./incomplete.ts";
import { RPT_VERSION } from "./version.ts";

/** Exit code of work left incomplete by calls that failed after their retries. */
const EXIT_INCOMPLETE = 3;

/** A subcommand: runs with its arguments and returns the process exit code. */
export type Command = (args: string[]) => Promise<number>;

/** Subcommand name -> module path (relative to this file) and one-line help. */
const COMMANDS: Record<string, { module: string; help: string }> = {
  demo: { module: "./cli/demo.ts", help: "run a short offline RPT optimization on the simulator" },
  optimize: { module: "./cli/optimize.ts", help: "run RPT on a task" },
  resume: { module: "./cli/resume.ts", help: "resume an interrupted run: rpt resume RUN_DIR" },
  evaluate: {
    module: "./cli/evaluate.ts",
    help: "score a prompt on train, dev and test (the reference's --evaluate_only)",
  },
  show: { module: "./cli/show.ts", help: "summarise a run: rpt show RUN_DIR" },
  score: { module: "./cli/score.ts", help: "score a predictions file against a task split" },
  "data:fetch": { module: "./cli/data_fetch.ts", help: "rebuild the paper's splits from upstream" },
  "data:check": { module: "./cli/data_check.ts", help: "check a data directory's checksums" },
  "sim-server": { module: "./cli/sim_server.ts", help: "serve the simulated models over HTTP" },
  report: { module: "./cli/report.ts", help: "write a self-contained HTML report of a run" },
  analyze: { module: "./cli/analyze.ts", help: "trace analyses (paper section 4.3) of runs" },
  compare: { module: "./cli/compare.ts", help: "compare RPT with baselines under one budget" },
  experiment: {
    module: "./cli/experiment.ts",
    help: "run a grid of runs (tasks x methods x models x seeds): rpt experiment PLAN.json",
  },
  table: {
    module: "./cli/table.ts",
    help: "the paper's Tables 1 and 2 from an experiment: rpt table EXP_DIR",
  },
};

/** The subcommands' names, as `rpt help` lists them. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const rpt = invocation();
  const lines = Object.entries(COMMANDS).map(([name, c]) =>
    `  ${name.padEnd(width)}  ${hint(c.help, rpt)}`
  );
  return `usage: ${rpt} <command> [flags]\n\ncommands:\n${lines.join("\n")}\n\n` +
    `Run '${rpt} <command> --help' for a command's flags, '${rpt} --version' for the version.`;
}

/**
 * The one line of a command without a run to resume (`rpt evaluate`, `rpt compare`) whose
 * calls failed: nothing was written as a result, and what a rerun pays for again.
 */
function incompleteLine(name: string, args: readonly string[], error: IncompleteError): string {
  // `rpt compare` caches responses only in a --cache file; the others always have a cache.
  const cached = name !== "compare" ||
    args.some((a) => a === "--cache" || a.startsWith("--cache="));
  const rerun = cached
    ? "The answers that came back are cached: run the same command again once the endpoint answers"
    : "Run it again once the endpoint answers (with --cache FILE, a rerun pays for no answer twice)";
  // `rpt compare` scores no failed call: its methods are compared on complete data.
  const share = name === "compare"
    ? "."
    : ", or allow a share R of failed calls with --max-error-rate R.";
  return `rpt ${name}: incomplete: ${error.message}; no result was written. ${rerun}${share}`;
}

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    console.log(`rpt ${RPT_VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    console.error(`rpt: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await import(entry.module) as { run: Command };
  try {
    return await mod.run(rest);
  } catch (error) {
    // Loaded only here: `rpt --version` and `rpt help` need neither these nor zod.
    const [{ ConfigError }, { BudgetExceededError }, { IncompleteError }] = await Promise.all([
      import("./util/errors.ts"),
      import("./llm/model.ts"),
      import("./incomplete.ts"),
    ]);
    if (error instanceof ConfigError || error instanceof BudgetExceededError) {
      // Messages name commands ("rpt resume DIR"): written the way this CLI was started.
      console.error(`rpt ${name}: ${hint(error.message)}`);
      return 2;
    }
    if (error instanceof IncompleteError) {
      console.error(incompleteLine(name, rest, error));
      return EXIT_INCOMPLETE;
    }
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
