/**
 * `rpt experiment PLAN.json`: runs a grid of runs (tasks x methods x model specs x settings x
 * seeds, see `lib/experiment/plan.ts`) into one experiment directory, `--parallel` runs at a
 * time, and shows every run's state. `--dry-run` prints the runs, calls, tokens and dollars
 * of the whole grid and needs no API key. A killed or interrupted experiment continues with
 * `--resume` (finished runs kept, interrupted ones resumed, no paid call repeated). Exit
 * code: 0 when every run finished, 1 when some failed (listed with their errors), 130 when
 * interrupted, 2 for a bad plan or directory.
 *
 * @module
 */
import { basename, extname, resolve as resolvePath } from "node:path";
import { gridBanner, prepareCells } from "../experiment/cells.ts";
import { estimateExperiment, type ExperimentEstimate } from "../experiment/estimate.ts";
import { expandPlan } from "../experiment/grid.ts";
import type { CellState } from "../experiment/index_file.ts";
import { absolutePlan, type ExperimentPlan, planSettings, readPlan } from "../experiment/plan.ts";
import {
  experimentCachePath,
  type ExperimentEvent,
  type ExperimentOutcome,
  runExperiment,
} from "../experiment/runner.ts";
import { ConfigError } from "../util/errors.ts";
import { flagHelp, parseCommandArgs, positiveIntFlag } from "./args.ts";
import { withInterrupt } from "./optimize.ts";
import { hint } from "./hints.ts";

const HELP = `usage: rpt experiment PLAN.json [--run-dir DIR] [--parallel N] [--dry-run] [--quiet]
       rpt experiment [PLAN.json] --run-dir DIR --resume

Runs every cell of the plan's grid (tasks x methods x model specs per role x settings x
seeds) into one experiment directory: plan.json, index.json (each cell's state: pending,
running, finished, failed), one run directory per cell under runs/, results/ for the
tables (rpt table DIR), and the one response cache every run shares (cache.sqlite).

${flagHelp("run-dir", ": the experiment\ndirectory (default runs/<plan file name>)")}
  --resume              continue the experiment in DIR: finished runs are kept, interrupted
                        ones resume from their last complete step, failed ones are tried
                        again; no paid call is repeated (the cache). Starts it when DIR
                        holds none.
  --parallel N          runs at a time (default 2); they share each provider's concurrency
                        limit
${
  flagHelp(
    "dry-run",
    "\n(the runs, calls, tokens and dollars of the whole grid, at batch prices\nwhen the plan says batch; no API key needed)",
  )
}
${flagHelp("quiet")}

Plan fields: tasks, methods (rpt, rpt-ca, gepa, gepa-ca, mipro, ace), models {target,
optimizer, critic, embedder: a spec or a list}, settings (run-config fields, or a list of
them with labels), seeds, preset, batch, budgetCalls (baselines; default RPT's most),
concurrency, cache, dataDir. Relative paths are read from the current directory.
Exit code: 0 every run finished, 1 some failed or did not finish, 130 interrupted.`;

/** The parsed command line of `rpt experiment`. */
export interface ExperimentCommand {
  plan?: string;
  runDir: string;
  resume: boolean;
  parallel: number;
  dryRun: boolean;
  quiet: boolean;
  help: boolean;
}

/**
 * Parses `rpt experiment` arguments.
 *
 * @example
 * ```ts
 * import { parseExperimentArgs } from "./experiment.ts";
 * const c = parseExperimentArgs(["examples/experiment_sim.json", "--parallel", "3"]);
 * if (c.runDir !== "runs/experiment_sim" || c.parallel !== 3 || c.resume) throw new Error();
 * ```
 */
export function parseExperimentArgs(args: string[]): ExperimentCommand {
  const { values, positionals } = parseCommandArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      "run-dir": { type: "string" },
      resume: { type: "boolean" },
      parallel: { type: "string" },
      "dry-run": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }, " (see 'rpt experiment --help')");
  const help = values.help === true;
  if (positionals.length > 1) {
    throw new ConfigError(
      `expected one plan file, got ${positionals.length} (see 'rpt experiment --help')`,
    );
  }
  const plan = positionals[0];
  const resume = values.resume === true;
  if (!help && plan === undefined && !(resume && values["run-dir"] !== undefined)) {
    throw new ConfigError(
      "expected a plan file: rpt experiment PLAN.json (or --resume --run-dir DIR)",
    );
  }
  const stem = plan === undefined ? "experiment" : basename(plan, extname(plan));
  return {
    ...(plan !== undefined ? { plan } : {}),
    runDir: values["run-dir"] ?? `runs/${stem}`,
    resume,
    parallel: positiveIntFlag(values.parallel, "parallel", 2),
    dryRun: values["dry-run"] === true,
    quiet: values.quiet === true,
    help,
  };
}

function gridShape(plan: ExperimentPlan): string {
  const n = (xs: readonly unknown[] | undefined) => xs?.length ?? 1;
  return [
    `${n(plan.tasks)} tasks`,
    `${n(plan.methods)} methods`,
    `${n(plan.models.target)} targets`,
    `${n(plan.models.optimizer)} optimizers`,
    ...(plan.models.critic ? [`${n(plan.models.critic)} critics`] : []),
    ...(plan.models.embedder ? [`${n(plan.models.embedder)} embedders`] : []),
    `${planSettings(plan).length} settings`,
    `${plan.seeds.length} seeds`,
  ].join(" x ");
}

function printEstimate(plan: ExperimentPlan, e: ExperimentEstimate): void {
  const money = (x: number) => `$${x.toFixed(2)}`;
  console.log(`dry run: ${plan.name ?? "experiment"}: ${e.runs} runs (${gridShape(plan)})`);
  const width = Math.max(4, ...e.cells.map((c) => c.id.length));
  console.log(
    `  ${"run".padEnd(width)} ${"calls".padStart(9)} ${"tokens".padStart(13)} ${
      "USD".padStart(10)
    }`,
  );
  for (const c of e.cells) {
    console.log(
      `  ${c.id.padEnd(width)} ${String(c.calls).padStart(9)} ${String(c.tokens).padStart(13)} ` +
        `${money(c.usd).padStart(10)}${c.interactive ? "  interactive" : ""}`,
    );
  }
  console.log(
    `  total: ${e.calls} calls, ${e.tokens} tokens, at most ${money(e.usd)}` +
      (e.unpriced.length ? ` (+ unpriced: ${e.unpriced.join(", ")})` : ""),
  );
  if (e.batch) {
    console.log(
      `  batch: ${money(e.usd)} at batch prices instead of ${money(e.interactiveUsd)} ` +
        `(saves ${money(e.interactiveUsd - e.usd)})`,
    );
  }
  if (e.baselineNote !== undefined) {
    const baselines = e.cells.filter((c) => c.interactive);
    const usd = baselines.reduce((n, c) => n + c.usd, 0);
    console.log(
      `  ${e.baselineNote} (${baselines.length} runs marked interactive: ${
        money(usd)
      } of the total)`,
    );
  }
  console.log(`  assumptions: ${e.assumptions.join("; ")}`);
}

/** Progress: a block with every run's state on a terminal, a line per change otherwise. */
function progressView(quiet: boolean) {
  const states = new Map<string, { state: CellState; text: string }>();
  let order: string[] = [];
  const ids = () => order;
  const start = (cells: readonly { id: string; state: CellState }[]) => {
    order = cells.map((c) => c.id);
    for (const c of cells) states.set(c.id, { state: c.state, text: "" });
  };
  if (quiet) return { start, onEvent: (_e: ExperimentEvent) => {}, done() {} };
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  let drawn = 0;
  let last = 0;
  const started = Date.now();
  const counts = () => {
    const c: Record<CellState, number> = { pending: 0, running: 0, finished: 0, failed: 0 };
    for (const id of ids()) c[states.get(id)?.state ?? "pending"]++;
    return c;
  };
  const summary = () => {
    const c = counts();
    const s = Math.round((Date.now() - started) / 1000);
    return `${c.finished} finished, ${c.running} running, ${c.failed} failed, ${c.pending} pending ` +
      `(${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s)`;
  };
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 150) return;
    last = now;
    const lines = ids().map((id) => {
      const s = states.get(id) ?? { state: "pending", text: "" };
      return `  ${`[${s.state}]`.padEnd(11)} ${id}  ${s.text}`.slice(0, 160);
    });
    if (drawn > 0) write(`\x1b[${drawn}A`);
    write([...lines, `  ${summary()}`].map((l) => `\r\x1b[2K${l}\n`).join(""));
    drawn = lines.length + 1;
  };
  const heartbeat = tty
    ? undefined
    : setInterval(() => write(`rpt experiment: ${summary()}\n`), 30_000);
  return {
    start(cells: readonly { id: string; state: CellState }[]) {
      start(cells);
      if (tty) draw(true);
    },
    onEvent(e: ExperimentEvent) {
      const s = states.get(e.id) ?? { state: "pending" as CellState, text: "" };
      if (e.type === "cell") {
        s.state = e.state;
        s.text = e.state === "failed" ? `error: ${e.error ?? ""}` : "";
        if (!tty) {
          write(
            `rpt experiment: ${e.id}: ${e.state}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}` +
              `${e.error ? `: ${e.error}` : ""}\n`,
          );
        }
      } else s.text = e.text;
      states.set(e.id, s);
      if (tty) draw(e.type === "cell");
    },
    done() {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      if (tty && drawn > 0) draw(true);
    },
  };
}

/**
 * The exit code of an experiment: 130 when interrupted, 0 when every run finished, 1 when
 * some failed or did not finish.
 *
 * @example
 * ```ts
 * import { experimentExitCode } from "./experiment.ts";
 * const counts = { pending: 0, running: 0, finished: 3, failed: 1 };
 * if (experimentExitCode(counts, false) !== 1 || experimentExitCode(counts, true) !== 130) throw new Error();
 * if (experimentExitCode({ ...counts, failed: 0 }, false) !== 0) throw new Error();
 * ```
 */
export function experimentExitCode(
  counts: Record<CellState, number>,
  interrupted: boolean,
): number {
  if (interrupted) return 130;
  return counts.failed + counts.pending + counts.running === 0 ? 0 : 1;
}

function report(outcome: ExperimentOutcome): number {
  const { counts } = outcome;
  for (const c of outcome.index.cells) {
    if (c.state === "failed") console.error(`rpt experiment: ${c.id} failed: ${c.error ?? "?"}`);
  }
  const total = outcome.index.cells.length;
  console.log(
    `experiment: ${counts.finished}/${total} runs finished, ${counts.failed} failed, ` +
      `${counts.pending + counts.running} not finished${
        outcome.index.simulated ? " [simulated]" : ""
      }`,
  );
  console.log(hint(`experiment directory: ${outcome.dir}  (tables: rpt table ${outcome.dir})`));
  const code = experimentExitCode(counts, outcome.interrupted);
  if (code === 130) {
    console.error(hint(
      `rpt experiment: interrupted; continue with: rpt experiment --resume --run-dir ${outcome.dir}`,
    ));
  } else if (code !== 0) {
    console.error(hint(
      `rpt experiment: not every run finished; after fixing the cause, continue with: ` +
        `rpt experiment --resume --run-dir ${outcome.dir}`,
    ));
  }
  return code;
}

/** `rpt experiment`. */
export async function run(args: string[]): Promise<number> {
  const cmd = parseExperimentArgs(args);
  if (cmd.help) {
    console.log(hint(HELP));
    return 0;
  }
  const plan = cmd.plan === undefined
    ? undefined
    : absolutePlan(await readPlan(cmd.plan), Deno.cwd());
  if (cmd.dryRun) {
    if (plan === undefined) throw new ConfigError("--dry-run needs the plan file");
    const cachePath = experimentCachePath(resolvePath(cmd.runDir), plan);
    const cells = await prepareCells(plan, expandPlan(plan), { cachePath, estimateOnly: true });
    printEstimate(plan, estimateExperiment(cells, plan.batch));
    const banner = gridBanner(cells);
    if (banner !== undefined) console.log(banner);
    return 0;
  }
  const view = progressView(cmd.quiet);
  try {
    const outcome = await withInterrupt((signal) =>
      runExperiment({
        dir: cmd.runDir,
        ...(plan !== undefined ? { plan } : {}),
        resume: cmd.resume,
        parallel: cmd.parallel,
        signal,
        onStart: (info) => {
          if (info.banner !== undefined) console.log(info.banner);
          if (info.baselineNote !== undefined) {
            console.error(`rpt experiment: ${info.baselineNote}`);
          }
          if (!cmd.quiet) {
            console.error(
              `rpt experiment: ${info.cells.length} runs, ${
                info.cells.length - info.todo
              } already finished; ${cmd.parallel} at a time into ${info.dir}`,
            );
          }
          view.start(info.cells);
        },
        onEvent: (e) => view.onEvent(e),
      })
    );
    view.done();
    return report(outcome);
  } catch (error) {
    view.done();
    throw error;
  }
}
