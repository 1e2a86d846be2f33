/**
 * Prints SIMULATED figures per task: the seed prompt vs an "oracle" prompt that addresses
 * every trap of the task (plus JSON-only and calibrated confidence) on dev, then a
 * 10-iteration run of the real loop (`optimize`) on the simulated models, confidence-aware
 * and not: seed vs selected dev and test score and Brier, with wall time.
 *
 * Run: RPT_DATA_DIR=../shared/data deno run -A bench/sim_bench_script.ts [seed] [task...]
 *
 * @module
 */
import { evaluatePrompt } from "../lib/diagnose.ts";
import { createSimChatModel, createSimEmbedder } from "../lib/sim/mod.ts";
import { CALIBRATION, JSON_ONLY, TRAPS } from "../lib/sim/traps.ts";
import { getTask } from "../lib/tasks/registry.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import type { Task } from "../lib/tasks/task.ts";
import type { Metrics } from "../lib/tasks/schema.ts";
import type { PromptProgram } from "../lib/prompt.ts";
import { optimize } from "../lib/revise/optimize.ts";

const seed = Number(Deno.args[0] ?? 0);
const names = Deno.args.length > 1
  ? Deno.args.slice(1)
  : ["synthetic", "hotpotqa", "livebench_math", "formula"];
const target = createSimChatModel("target", { seed });

function oracle(task: Task): PromptProgram {
  const rules = TRAPS.filter((t) => t.tasks.includes(task.name))
    .map((t) => t.instructions[0] as string);
  rules.push(CALIBRATION.instructions[0] as string, JSON_ONLY.instructions[0] as string);
  return { ...task.seedPrompt, instruction: `${rules.join("\n")}\n${task.seedPrompt.instruction}` };
}

function fmt(m: Metrics): string {
  return `score ${m.score.toFixed(3)} full ${m.fullCredit.toFixed(3)} brier ${
    m.brier?.toFixed(3) ?? "n/a"
  } fmtErr ${m.formatErrorRate.toFixed(3)}`;
}

console.log(`SIMULATED figures (seed ${seed}); the simulator, not a real model, produced them`);
for (const name of names) {
  let task: Task;
  try {
    task = name === "synthetic" ? synthetic : await getTask(name);
    await task.load("dev");
  } catch (e) {
    console.log(`${name}: skipped (${(e as Error).message.split("\n")[0]})`);
    continue;
  }
  const dev = await task.load("dev");
  const test = await task.load("test");
  for (const [label, prompt] of [["seed", task.seedPrompt], ["oracle", oracle(task)]] as const) {
    const m = (await evaluatePrompt(prompt, dev, { task, target })).metrics;
    console.log(`${name.padEnd(15)} dev ${label.padEnd(6)} ${fmt(m)}`);
  }
  for (const confidenceAware of [true, false]) {
    const t0 = performance.now();
    const dir = await Deno.makeTempDir({ prefix: "rpt-sim-bench-" });
    const run =
      (await optimize({ iterations: 10, confidenceAware, seed, cache: `${dir}/c.sqlite` }, {
        runDir: `${dir}/run`,
        task,
        data: { train: await task.load("train"), dev, test },
        models: {
          target,
          optimizer: createSimChatModel("optimizer", { seed }),
          critic: createSimChatModel("critic", { seed }),
          embedder: createSimEmbedder({ seed }),
        },
      })).summary!;
    await Deno.remove(dir, { recursive: true });
    const ms = performance.now() - t0;
    const mode = confidenceAware ? "conf-aware" : "plain     ";
    console.log(
      `${name.padEnd(15)} loop ${mode} steps ${run.steps.length} (${ms.toFixed(0)} ms)\n` +
        `    dev  seed ${fmt(run.seed.dev)}  ->  selected ${fmt(run.selected.dev)}\n` +
        `    test seed ${fmt(run.seed.test!)}  ->  selected ${fmt(run.selected.test!)}`,
    );
  }
}
