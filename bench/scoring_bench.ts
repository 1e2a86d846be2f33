/**
 * Scoring speed: 10,000 HotPotQA answer pairs (the LiveBench helper adds its own bench).
 * Run: deno bench -A bench/scoring_bench.ts
 */
import { hotpotqa, hotpotScores } from "../lib/tasks/hotpotqa.ts";
import { formula } from "../lib/tasks/formula.ts";
import { computeMetrics } from "../lib/metrics.ts";
import type { Example } from "../lib/tasks/schema.ts";

const DATA_DIR = new URL("../../shared/data", import.meta.url).pathname;
const examples: Example[] = [];
for (const split of ["train", "dev", "test"] as const) {
  examples.push(...await hotpotqa.load(split, { dataDir: DATA_DIR }));
}

// Deterministic predictions of varied difficulty: exact, articles / punctuation added,
// partial, reordered, wrong.
const variants = [
  (g: string) => g,
  (g: string) => `The ${g}.`,
  (g: string) => `${g} (according to the context)`,
  (g: string) => g.split(" ").reverse().join(" "),
  (_g: string) => "yes",
];
const pairs: { example: Example; raw: string; prediction: string }[] = [];
for (let i = 0; i < 10_000; i++) {
  const example = examples[i % examples.length] as Example;
  const prediction = (variants[i % variants.length] as (g: string) => string)(example.answer);
  const raw = JSON.stringify({
    justification: "step by step",
    answer: prediction,
    confidence: 0.7,
  });
  pairs.push({ example, raw, prediction });
}

Deno.bench("hotpotqa: EM + F1 of 10,000 answer pairs", () => {
  for (const p of pairs) hotpotScores(p.prediction, p.example.answer);
});

Deno.bench("hotpotqa: parse + score + metrics of 10,000 raw outputs", () => {
  const traces = pairs.map((p) => {
    const parsed = hotpotqa.parse(p.raw);
    const r = hotpotqa.score(p.example, parsed, p.raw);
    return { ...r, parsed: parsed.ok ? parsed.value : null, subtask: p.example.subtask };
  });
  computeMetrics(traces);
});

const formulaExamples = await formula.load("train", { dataDir: DATA_DIR });
Deno.bench("formula: parse + score of 10,000 raw outputs", () => {
  for (let i = 0; i < 10_000; i++) {
    const e = formulaExamples[i % formulaExamples.length] as Example;
    const raw = `{"reasoning": "r", "answer": "${
      i % 2 ? e.answer : "1,234.5"
    }", "confidence": 0.5}`;
    formula.score(e, formula.parse(raw), raw);
  }
});
