/**
 * Prints SIMULATED figures per task: the seed prompt vs an "oracle" prompt that addresses
 * every trap of the task (plus JSON-only and calibrated confidence) on dev, then a
 * 10-iteration simulated loop (tests/sim_loop_helper.ts), confidence-aware and not: seed
 * vs selected dev and test score and Brier, with wall time.
 *
 * Run: RPT_DATA_DIR=../shared/data deno run -A bench/sim_bench_script.ts [seed] [task...]
 *
 * @module
 */
import { evaluatePrompt } from "../lib/diagnose.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { CALIBRATION, JSON_ONLY, TRAPS } from "../lib/sim/traps.ts";
import { getTask } from "../lib/tasks/registry.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import type { Task } from "../lib/tasks/task.ts";
import type { Metrics } from "../lib/tasks/schema.ts";
import type { PromptProgram } from "../lib/prompt.ts";
import { runMiniLoop } from "../tests/sim_loop_helper.ts";

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
    const run = await runMiniLoop(task, { seed, iterations: 10, confidenceAware });
    const ms = performance.now() - t0;
    const seedTest = (await evaluatePrompt(task.seedPrompt, test, { task, target })).metrics;
    const bestTest = (await evaluatePrompt(run.bestPrompt, test, { task, target })).metrics;
    const mode = confidenceAware ? "conf-aware" : "plain     ";
    console.log(
      `${name.padEnd(15)} loop ${mode} steps ${run.steps.length} (${ms.toFixed(0)} ms)\n` +
        `    dev  seed ${fmt(run.seedDev)}  ->  selected ${fmt(run.bestDev)}\n` +
        `    test seed ${fmt(seedTest)}  ->  selected ${fmt(bestTest)}`,
    );
  }
}
