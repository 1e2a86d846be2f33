import assert from "node:assert/strict";
import {
  alignmentTable,
  averageRanks,
  lengthVsScore,
  pearson,
  persistenceTable,
  spearman,
  topicDeltas,
  type Transition,
} from "../lib/analysis_tables.ts";

// A hand-made trace whose tables are worked out by hand below.
const transitions: Transition[] = [
  {
    run: "r",
    step: 1,
    failureTopics: ["A", "B"],
    patchTopics: ["x"],
    deltaScore: 0.1,
    deltaBrier: -0.02,
  },
  {
    run: "r",
    step: 2,
    failureTopics: ["A"],
    patchTopics: ["x", "y"],
    deltaScore: 0,
    deltaBrier: 0.01,
  },
  {
    run: "r",
    step: 3,
    failureTopics: ["B"],
    patchTopics: ["y"],
    deltaScore: -0.05,
    deltaBrier: null,
  },
];

const close = (a: number | null | undefined, b: number) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${a} != ${b}`);

Deno.test("alignment is P(patch topic | failure topic) with counts", () => {
  const cells = alignmentTable(transitions);
  const get = (f: string, p: string) =>
    cells.find((c) => c.failureTopic === f && c.patchTopic === p);
  assert.equal(cells.length, 4);
  // x is patched in 2 of the 3 transitions: lift = 1 / (2/3).
  assert.deepEqual(get("A", "x"), {
    failureTopic: "A",
    patchTopic: "x",
    both: 2,
    failureCount: 2,
    probability: 1,
    patchCount: 2,
    lift: 1.5,
  });
  assert.equal(get("A", "y")?.probability, 0.5);
  assert.equal(get("B", "x")?.probability, 0.5);
  assert.deepEqual(get("B", "y"), {
    failureTopic: "B",
    patchTopic: "y",
    both: 1,
    failureCount: 2,
    probability: 0.5,
    patchCount: 2,
    lift: 0.75,
  });
});

Deno.test("topic deltas average the next-step change where the topic is present", () => {
  const failure = topicDeltas(transitions, "failure", { iterations: 200, seed: 1 });
  const a = failure.find((d) => d.topic === "A")!;
  const b = failure.find((d) => d.topic === "B")!;
  assert.equal(a.count, 2);
  close(a.meanDeltaScore, 0.05);
  close(a.meanDeltaBrier, -0.005);
  assert.equal(a.brierCount, 2);
  close(b.meanDeltaScore, 0.025);
  close(b.meanDeltaBrier, -0.02);
  assert.equal(b.brierCount, 1);
  assert.ok(a.scoreInterval[0] <= a.meanDeltaScore && a.meanDeltaScore <= a.scoreInterval[1]);
  const patch = topicDeltas(transitions, "patch", { iterations: 200, seed: 1 });
  close(patch.find((d) => d.topic === "x")!.meanDeltaScore, 0.05);
  close(patch.find((d) => d.topic === "y")!.meanDeltaScore, -0.025);
});

Deno.test("persistence counts runs, resolutions and reappearances", () => {
  const table = persistenceTable({ r: [["A", "B"], ["A"], ["B"], []], s: [["A"], ["A"], ["A"]] });
  const a = table.find((p) => p.topic === "A")!;
  const b = table.find((p) => p.topic === "B")!;
  assert.deepEqual(a, {
    topic: "A",
    runs: [2, 3],
    stepsPresent: 5,
    meanRunLength: 2.5,
    longestRun: 3,
    resolved: 1,
    reappeared: 0,
  });
  assert.deepEqual(b, {
    topic: "B",
    runs: [1, 1],
    stepsPresent: 2,
    meanRunLength: 1,
    longestRun: 1,
    resolved: 2,
    reappeared: 1,
  });
});

Deno.test("Pearson and Spearman (with ties) on a worked example", () => {
  close(pearson([1, 2, 3, 4], [2, 4, 5, 4]), 3.5 / Math.sqrt(23.75));
  assert.deepEqual(averageRanks([2, 4, 5, 4]), [1, 2.5, 4, 2.5]);
  close(spearman([1, 2, 3, 4], [2, 4, 5, 4]), 3 / Math.sqrt(22.5));
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  const result = lengthVsScore([
    { run: "r", step: 0, promptTokens: 100, devScore: 0.5 },
    { run: "r", step: 1, promptTokens: 200, devScore: 0.6 },
    { run: "r", step: 2, promptTokens: 300, devScore: 0.55 },
  ]);
  close(result.spearman, 0.5);
});
