/**
 * How long the trace analyses take on large synthetic runs, with the simulated LLM and
 * embedder (so the figure is the analysis's own cost, not a provider's latency).
 *
 * deno run -A bench/analysis_bench_script.ts [steps=40] [runs=3]
 *
 * Each step's clustering holds all ten simulator topics (each with diagnoses), and each
 * transition appends one instruction, so every changed transition costs one `patch_edits`
 * call and both corpora are clustered with k = 10.
 *
 * @module
 */
import { analyzeTraces, type RunTrace } from "../lib/analysis.ts";
import { createSimChatModel, createSimEmbedder } from "../lib/sim/mod.ts";
import { BEHAVIOURS } from "../lib/sim/traps.ts";
import type { ClusterResult } from "../lib/cluster.ts";
import type { Metrics } from "../lib/tasks/schema.ts";
import { clusterResultFixture, metricsFixture } from "../tests/support/fixtures.ts";

const steps = Number(Deno.args[0] ?? 40);
const runs = Number(Deno.args[1] ?? 3);

function metrics(score: number): Metrics {
  return metricsFixture({
    n: 300,
    parsed: 300,
    score,
    fullCredit: score,
    avgConfidence: 0.9,
    brier: 0.3 - score / 4,
    ece: null,
  });
}

function clustering(step: number): ClusterResult {
  const topics = BEHAVIOURS.slice(0, 10).map((b, i) => ({
    name: b.topic,
    description: b.description,
    examples: [b.labels[0] ?? b.topic],
    count: 1 + ((i + step) % 7),
    impact: 1,
    prevalence: 0.1,
    retained: (i + step) % 3 === 0,
    source: "extracted" as const,
  }));
  return clusterResultFixture({
    k: 10,
    records: 40,
    groups: 20,
    topics,
    calls: { extraction: 1, assignment: 2, embedding: 1 },
  });
}

const rules = BEHAVIOURS.flatMap((b) => [...b.instructions, ...b.weakInstructions]);
const traces: RunTrace[] = Array.from({ length: runs }, (_, r) => ({
  name: `bench-${r}`,
  simulated: true,
  steps: Array.from({ length: steps }, (_, t) => ({
    step: t + 1,
    prompt: {
      system: "You answer questions.",
      instruction: ["Answer from the context.", ...rules.slice(0, (t + r) % rules.length)].join(
        "\n",
      ),
    },
    train: metrics(0.5 + 0.01 * ((t * 7 + r) % 13)),
    dev: metrics(0.5 + 0.01 * ((t * 5 + r) % 11)),
    clustering: clustering(t + r),
    rationale: "[simulated] bench",
  })),
}));

const model = createSimChatModel("critic", { seed: 0 });
const embedder = createSimEmbedder({ seed: 0 });
const t0 = performance.now();
const result = await analyzeTraces(traces, { model, embedder, k: 10, seed: 0 });
const ms = performance.now() - t0;
console.log(
  `SIMULATED analysis bench: ${runs} run(s) x ${steps} steps: ${result.transitions.length} transitions, ` +
    `${result.failureCorpus.records.length} failure records, ${result.patchCorpus.records.length} ` +
    `patch edits, ${result.patchCorpus.counts.calls} patch_edits calls: ${ms.toFixed(0)} ms ` +
    `(${(ms / Math.max(1, result.transitions.length)).toFixed(1)} ms per transition)`,
);
