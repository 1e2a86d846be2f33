/**
 * `rpt demo`: the README's first command. A short RPT optimization run entirely on the
 * offline simulator: HotPotQA from the data directory when one is found, else the bundled
 * synthetic task. It shows progress, writes a run directory and prints the iterations
 * table (score, Brier, failure topics, patch rationale), the selected prompt and the test
 * result, every figure labelled SIMULATED.
 *
 * ```
 * rpt demo [--data-dir D] [--iterations N] [--run-dir D] [--task T] [--seed S] [--plain]
 * ```
 *
 * The hints it prints (`rpt report DIR`) are written the way the CLI was started
 * (`hints.ts`).
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { promptText } from "../prompt.ts";
import { optimize } from "../revise/optimize.ts";
import type { LoopEvent } from "../revise/progress.ts";
import { ProgressMeter } from "../revise/progress_meter.ts";
import type { RunSummary } from "../run/schema.ts";
import type { Metrics } from "../tasks/schema.ts";
import { ConfigError } from "../util/errors.ts";
import { flagHelp, integerFlag, parseCommandArgs, positiveIntFlag } from "./args.ts";
import { hint } from "./hints.ts";
import { fixed, probability, signed } from "../util/format.ts";
import { iterationsTable, selectionNote } from "./iterations.ts";

export { iterationsTable } from "./iterations.ts";

const HELP =
  `usage: rpt demo [--data-dir DIR] [--iterations N] [--run-dir DIR] [--task T] [--seed S]
                [--plain]

A short RPT optimization on the offline simulator (no network, no API key).

${
    flagHelp(
      "data-dir",
      "\n(default RPT_DATA_DIR, then ../shared/data, then data/); without HotPotQA\ndata the bundled synthetic task runs",
    )
  }
  --iterations N        revision iterations (default 10)
${flagHelp("run-dir", ": the run directory\n(default runs/demo-<time>)")}
  --task T              task to optimize (default hotpotqa when its data is found, else
                        synthetic)
${flagHelp("seed", ": the simulator, clustering, bootstrap\n(default 0)")}
  --plain               no in-place progress line, one line per step only`;

const SIMULATED = "SIMULATED";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function envValue(name: string): string | undefined {
  try {
    const value = Deno.env.get(name)?.trim();
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * The data directory of the demo: the flag, then `RPT_DATA_DIR`, then the shared data next
 * to the repository, then the repository's `data/`; undefined when none holds HotPotQA.
 */
export function demoDataDir(explicit?: string): string | undefined {
  if (explicit !== undefined) return resolve(explicit);
  const candidates = [
    envValue("RPT_DATA_DIR"),
    decodeURIComponent(new URL("../../../shared/data", import.meta.url).pathname),
    decodeURIComponent(new URL("../../data", import.meta.url).pathname),
  ];
  for (const dir of candidates) {
    if (dir !== undefined && isFile(join(dir, "hotpotqa", "train.jsonl"))) return resolve(dir);
  }
  return undefined;
}

function metricLine(m: Metrics | null): string {
  if (m === null) return "not scored";
  return `score ${fixed(m.score)}, Brier ${fixed(m.brier)}, ECE ${fixed(m.ece)} (n=${m.n})`;
}

/** The printed summary of a finished demo run (everything but the progress lines). */
export function demoSummaryText(summary: RunSummary, runDir: string): string {
  const tag = summary.simulated ? ` [${SIMULATED}]` : "";
  const out: string[] = [];
  out.push(`Iterations${tag}`);
  out.push(iterationsTable(summary.steps));
  out.push(selectionNote(summary.steps, summary));
  out.push("");
  out.push(`Stopped (${summary.stop.kind}): ${summary.stop.reason}`);
  out.push("");
  out.push(
    `Selected prompt${tag}: step ${summary.selected.step}, dev ${metricLine(summary.selected.dev)}`,
  );
  out.push(promptText(summary.selected.prompt, { indent: "  ", separator: "\n" }));
  out.push("");
  out.push(`Test result${tag}`);
  out.push(`  seed prompt:     ${metricLine(summary.seed.test)}`);
  out.push(`  selected prompt: ${metricLine(summary.selected.test)}`);
  const c = summary.comparison;
  if (c !== null) {
    out.push(
      `  difference:      ${signed(c.delta)} (95% paired bootstrap ` +
        `${fixed(c.lo)} to ${fixed(c.hi)}; P(selected better) ${
          probability(c.probabilityFinalGreater)
        })`,
    );
  }
  out.push("");
  out.push(`Run directory: ${runDir}`);
  out.push(hint(`HTML report:   rpt report ${runDir}`));
  if (summary.simulated) {
    out.push("");
    out.push(
      `${SIMULATED}: these figures come from rpt's offline simulator, not from a real model. ` +
        hint(`Run 'rpt optimize --help' to use a real provider.`),
    );
  }
  return out.join("\n");
}

function progressWriter(plain: boolean): {
  onEvent: (e: LoopEvent) => void;
  done: () => void;
} {
  const live = !plain && Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const meter = new ProgressMeter();
  let dirty = false;
  const clear = () => {
    if (dirty) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    dirty = false;
  };
  return {
    onEvent(e) {
      meter.observe(e);
      if (e.type === "progress" && live) {
        let width = 120;
        try {
          width = Deno.consoleSize().columns;
        } catch {
          // Not a console after all: the default width.
        }
        const line = `  ${meter.line()}`;
        Deno.stderr.writeSync(
          encoder.encode(`\r\x1b[K${line.length >= width ? `${line.slice(0, width - 2)}…` : line}`),
        );
        dirty = true;
      }
      if (e.type !== "step") return;
      const s = e.summary;
      clear();
      console.log(
        `  step ${s.step}${s.kind === "final" ? " (final prompt)" : ""}: train ${
          fixed(s.train?.score)
        } · dev ${fixed(s.dev.score)} · dev Brier ${fixed(s.dev.brier)}${
          s.selected ? " · best so far" : ""
        }${s.action === "stop" ? " · optimizer stopped" : ""}`,
      );
    },
    done: clear,
  };
}

/** Runs `rpt demo`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      "data-dir": { type: "string" },
      iterations: { type: "string" },
      "run-dir": { type: "string" },
      task: { type: "string" },
      seed: { type: "string" },
      plain: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }, " (see 'rpt demo --help')");
  if (values.help) {
    console.log(hint(HELP));
    return 0;
  }
  if (positionals.length > 0) {
    throw new ConfigError(`unexpected argument '${positionals[0]}' (see 'rpt demo --help')`);
  }
  const iterations = positiveIntFlag(values.iterations, "iterations", 10);
  const seed = integerFlag(values.seed, "seed", 0);
  const dataDir = demoDataDir(values["data-dir"]);
  if (values["data-dir"] !== undefined && dataDir !== undefined && values.task === undefined) {
    if (!isFile(join(dataDir, "hotpotqa", "train.jsonl"))) {
      throw new ConfigError(`--data-dir ${values["data-dir"]}: no hotpotqa/train.jsonl in it`);
    }
  }
  const task = values.task ?? (dataDir !== undefined ? "hotpotqa" : "synthetic");
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  const runDir = resolve(values["run-dir"] ?? join("runs", `demo-${stamp}`));
  const shownDir = relative(Deno.cwd(), runDir).startsWith("..")
    ? runDir
    : relative(Deno.cwd(), runDir) || ".";

  const started = performance.now();
  const progress = progressWriter(values.plain === true);
  // The header once the run is open: an unknown task or bad data is reported without it.
  const onEvent = (e: LoopEvent) => {
    if (e.type === "open") {
      console.log(
        `rpt demo: [${SIMULATED}] RPT on ${task}${
          values.task === undefined && task === "synthetic"
            ? " (bundled; no data directory found)"
            : ""
        }, ${iterations} iterations, every model simulated offline.`,
      );
    }
    progress.onEvent(e);
  };
  let result;
  try {
    result = await optimize({
      task,
      target: "sim:target",
      optimizer: "sim:optimizer",
      critic: "sim:critic",
      embedder: "sim:embed",
      iterations,
      confidenceAware: true,
      seed,
      ...(dataDir !== undefined ? { dataDir } : {}),
    }, { runDir, onEvent });
  } finally {
    progress.done();
  }
  const seconds = (performance.now() - started) / 1000;
  if (result.summary === null) {
    console.error(
      hint(`rpt demo: the run was interrupted; resume it with 'rpt resume ${shownDir}'`),
    );
    return 1;
  }
  console.log(`Finished in ${fixed(seconds, 1)} s.\n`);
  console.log(demoSummaryText(result.summary, shownDir));
  return 0;
}
