/**
 * Scoring speed of LiveBench math: every one of the 368 items (train + dev + test) scored
 * once with its gold answer written the way its subtask asks (AMC/SMC: the letter five
 * times; AIME: the three digits; olympiad: the identifier list; AMPS_Hard: `$\boxed{}$`),
 * then once more with a wrong answer. Prints how many score 1, the engine's start-up time
 * and the scoring time. Run: `deno run -A tests/livebench_bench_script.ts`.
 */
import { livebenchMath, scorerFor } from "../lib/tasks/livebench_math.ts";
import { closeLatexEngine, latexEquivalent } from "../lib/tasks/livebench_scorers/latex.ts";
import type { Example } from "../lib/types.ts";

const DATA_DIR = new URL("../../shared/data", import.meta.url).pathname;

/** The answer field a perfect model would give for an example. */
export function perfectAnswer(example: Example): string {
  const gold = String(example.row.ground_truth);
  switch (scorerFor(String(example.row.subtask))) {
    case "math_contest":
      return gold.repeat(5);
    case "amps_hard":
      return `$\\boxed{${gold}}$`;
    default:
      return gold;
  }
}

/** All 368 examples, train + dev + test. */
export async function allExamples(): Promise<Example[]> {
  const splits = ["train", "dev", "test"] as const;
  const parts = await Promise.all(
    splits.map((split) => livebenchMath.load(split, { dataDir: DATA_DIR })),
  );
  return parts.flat();
}

const output = (answer: string) =>
  JSON.stringify({ reasoning: "Working it out step by step.", answer, confidence: 0.9 });

if (import.meta.main) {
  const examples = await allExamples();
  let t = performance.now();
  latexEquivalent("x", "x");
  const startup = performance.now() - t;
  t = performance.now();
  const misses: string[] = [];
  let full = 0;
  for (const example of examples) {
    const raw = output(perfectAnswer(example));
    const r = livebenchMath.score(example, livebenchMath.parse(raw), raw);
    if (r.score === 1) full++;
    else misses.push(`${example.subtask} ${example.id.slice(0, 8)} ${JSON.stringify(r.details)}`);
  }
  const goldMs = performance.now() - t;
  t = performance.now();
  let wrongFull = 0;
  for (const example of examples) {
    const raw = output(
      scorerFor(String(example.row.subtask)) === "amps_hard" ? "$\\boxed{x+1}$" : "0",
    );
    if (livebenchMath.score(example, livebenchMath.parse(raw), raw).score === 1) wrongFull++;
  }
  const wrongMs = performance.now() - t;
  closeLatexEngine();
  console.log(`machine: ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`);
  console.log(`engine start-up (worker + compute engine load): ${startup.toFixed(0)} ms`);
  console.log(`gold answers: ${full} / ${examples.length} score 1, in ${goldMs.toFixed(0)} ms`);
  console.log(
    `wrong answers: ${wrongFull} / ${examples.length} score 1, in ${wrongMs.toFixed(0)} ms`,
  );
  for (const miss of misses) console.log(`  miss: ${miss}`);
}
