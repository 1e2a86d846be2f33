/**
 * Benchmark of the revision loop at HotPotQA scale: 40 iterations on scripted models over
 * 300 / 300 / 500 synthetic examples with ~1,000-token contexts (one example in seven
 * stays unfixable, so every iteration critiques and clusters failures). Prints wall time,
 * the run directory's size, peak memory and the optimizer's prompt tokens at iteration 40.
 *
 *   deno run -A bench/loop_bench_script.ts [iterations]
 */
import { optimize } from "../lib/revise/optimize.ts";
import { tempDir, toyModels, writeToyTask } from "../tests/support/toy_loop.ts";

async function sizeOf(path: string): Promise<number> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) return info.size;
  let total = 0;
  for await (const e of Deno.readDir(path)) total += await sizeOf(`${path}/${e.name}`);
  return total;
}

function peakRssMiB(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Deno.memoryUsage().rss / 2 ** 20;
  }
}

const iterations = Number(Deno.args[0] ?? 40);
await using dir = await tempDir();
const task = await writeToyTask(dir.path, { train: 300, dev: 300, test: 500 }, {
  context: 330,
  hard: true,
});
const models = toyModels({ endless: true });
const started = performance.now();
const result = await optimize({
  task,
  target: "scripted:t",
  optimizer: "scripted:o",
  iterations,
  cache: `${dir.path}/cache.sqlite`,
}, { runDir: `${dir.path}/run`, models });
const seconds = (performance.now() - started) / 1000;
const s = result.summary!;
const last = s.steps.filter((x) => x.kind === "iteration").at(-1)!;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const record = await sizeOf(`${dir.path}/run`);
console.log(`iterations run:           ${s.iterationsRun} (stop: ${s.stop.kind})`);
console.log(
  `wall time:                ${seconds.toFixed(1)} s (${
    (seconds / s.iterationsRun).toFixed(2)
  } s/iteration)`,
);
console.log(
  `model calls:              target ${models.target.requests.length}, critic ${models.critic.requests.length}, optimizer ${models.optimizer.requests.length}`,
);
console.log(
  `run directory:            ${mib(record)} MiB (${mib(record / s.steps.length)} MiB/step); cache ${
    mib(await sizeOf(`${dir.path}/cache.sqlite`))
  } MiB`,
);
console.log(`peak memory (RSS):        ${peakRssMiB().toFixed(0)} MiB`);
console.log(
  `optimizer prompt tokens:  iteration 1: ${
    s.steps[0]!.optimizerPromptTokens
  }, iteration ${last.step}: ${last.optimizerPromptTokens}`,
);
console.log(
  `memory payload tokens:    iteration ${last.step}: ${last.memoryTokens} (budget 12000)`,
);
console.log(
  `selected step ${s.selected.step}: dev ${s.selected.dev.score.toFixed(3)}, test ${
    s.selected.test?.score.toFixed(3)
  }`,
);
