import assert from "node:assert/strict";
import {
  analysisToMarkdown,
  analyzeRuns,
  analyzeTraces,
  checkPatchEdits,
  evidenceOccurs,
  type RunTrace,
  type TraceStep,
  writeAnalysis,
} from "../lib/analysis.ts";
import { run as runAnalyzeCli } from "../lib/cli/analyze.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { answerPatchEdits, patchEditsFor } from "../lib/sim/patch_edits.ts";
import { TfidfEmbedder } from "../lib/llm/tfidf.ts";
import { AnalysisResult } from "../lib/analysis_schema.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";
import type { ClusterResult, ClusterTopic } from "../lib/cluster.ts";
import type { Metrics } from "../lib/tasks/schema.ts";
import type { PromptProgram } from "../lib/prompt.ts";
import { estimateTokens } from "../lib/util/tokens.ts";
import { clusterResultFixture, metricsFixture } from "./support/fixtures.ts";

// ---------------------------------------------------------------------------------------------
// A hand-made run whose tables are known exactly.
//
// step  train score  Brier   failure topics       patch t -> t+1          dev score
//   1   0.5          0.25    units, overconfident  unit rule               0.5
//   2   0.625        0.1875  units                 unit + calibration rule 0.7
//   3   0.5625       0.25    overconfident         calibration rule        0.6
//   4   0.75         0.125   units                 -                       0.9

function metrics(score: number, brier: number): Metrics {
  return metricsFixture({
    n: 8,
    parsed: 8,
    score,
    fullCredit: score,
    avgConfidence: 0.9,
    brier,
    ece: null,
  });
}

function topic(name: string, description: string, count: number): ClusterTopic {
  return {
    name,
    description,
    examples: [`an example of ${name}`],
    count,
    impact: count,
    prevalence: 0.5,
    retained: true,
    source: "extracted",
  };
}

const UNITS = topic("Wrong unit", "The answer is in the wrong unit.", 3);
// Seen at step 1 below the retention threshold: present only when all topics count.
const MINOR_CONFIDENCE = {
  ...topic("Overconfident", "High confidence when wrong.", 1),
  retained: false,
};
const OVERCONFIDENT = topic("Overconfident", "High confidence when wrong.", 1);
const PADDING = topic("Other a", "Records no other topic covers.", 0);

function clustering(topics: ClusterTopic[]): ClusterResult {
  return clusterResultFixture({ k: 3, records: 4, topics });
}

const UNIT_RULE = "Convert every amount to the unit the question asks for.";
const CALIBRATION_RULE = "Lower your confidence when a step is a guess.";
// Instructions of 39, 79, 159 and 199 characters: with the empty system field and the
// newline joining the fields, 10, 20, 40 and 50 estimated tokens.
const PAD = "x".repeat(200);
const instruction = (rules: string[], chars: number) => {
  const text = ["Answer the question.", ...rules].join("\n");
  return `${text}\n${PAD}`.slice(0, chars);
};
const PROMPTS: PromptProgram[] = [
  { system: "", instruction: instruction([], 39) },
  { system: "", instruction: instruction([UNIT_RULE], 79) },
  { system: "", instruction: instruction([UNIT_RULE, CALIBRATION_RULE], 159) },
  { system: "", instruction: instruction([UNIT_RULE, CALIBRATION_RULE], 199) },
];

function handMadeRun(): RunTrace {
  const rows: [number, number, number, ClusterTopic[]][] = [
    [0.5, 0.25, 0.5, [UNITS, OVERCONFIDENT, PADDING]],
    [0.625, 0.1875, 0.7, [UNITS, MINOR_CONFIDENCE, PADDING]],
    [0.5625, 0.25, 0.6, [OVERCONFIDENT]],
    [0.75, 0.125, 0.9, [UNITS]],
  ];
  const steps: TraceStep[] = rows.map(([score, brier, dev, topics], i) => ({
    step: i + 1,
    prompt: PROMPTS[i] as PromptProgram,
    train: metrics(score, brier),
    dev: metrics(dev, 0.2),
    clustering: clustering(topics),
    rationale: `rationale ${i + 1}`,
  }));
  return { name: "hand", simulated: false, steps };
}

function userText(request: ChatRequest): string {
  return request.messages.filter((m) => m.role === "user").map((m) => m.content).join("\n");
}

/**
 * The scripted LLM of the analysis: edits quote the new prompt (plus one invented quote on
 * the second transition), and topics follow keywords, so the clustering is known exactly.
 */
function scriptedAnalyst(): ScriptedChatModel {
  return new ScriptedChatModel((request) => {
    const text = userText(request);
    const kind = request.outputSchema?.name;
    if (kind === "patch_edits") {
      const next = /<new_prompt>([\s\S]*?)<\/new_prompt>/.exec(text)?.[1] ?? "";
      const old = /<old_prompt>([\s\S]*?)<\/old_prompt>/.exec(text)?.[1] ?? "";
      const edits: unknown[] = [];
      if (next.includes(UNIT_RULE) && !old.includes(UNIT_RULE)) {
        edits.push({ change_type: "add", edit: "Add a unit rule.", evidence: UNIT_RULE });
      }
      if (next.includes(CALIBRATION_RULE) && !old.includes(CALIBRATION_RULE)) {
        edits.push({
          change_type: "add",
          edit: "Add a unit rule.",
          evidence: "Convert every amount",
        });
        edits.push({
          change_type: "add",
          edit: "Add a calibration rule.",
          evidence: CALIBRATION_RULE,
        });
        edits.push({
          change_type: "tighten",
          edit: "Add a calibration rule.",
          evidence: "Always state a low confidence.",
        });
      }
      if (edits.length === 0) {
        edits.push({
          change_type: "refactor",
          edit: "Add a calibration rule.",
          evidence: "a guess",
        });
      }
      return { parsed: { edits } };
    }
    if (kind === "topic_labels") {
      const topics = [...text.matchAll(/^- (.+?): /gm)].map((m) => m[1] as string);
      return { parsed: { labels: topics.map((t) => ({ topic: t, label: `label of ${t}` })) } };
    }
    const isPatch = /rule/.test(text);
    const names = isPatch ? ["Unit rules", "Calibration rules"] : ["Unit errors", "Confidence"];
    if (kind === "topic_extraction") {
      return {
        parsed: {
          topics: names.map((name) => ({ name, description: `About ${name}.`, examples: [] })),
        },
      };
    }
    if (kind === "topic_assignment") {
      const records = [...text.matchAll(/^\[(\d+)\] (.*)$/gm)];
      return {
        parsed: {
          assignments: records.map((m) => ({
            id: Number(m[1]),
            topic: /unit/.test(m[2] ?? "") ? names[0] : names[1],
          })),
        },
      };
    }
    return new Error(`unexpected request ${kind}`);
  });
}

Deno.test("analyzeTraces: alignment, deltas, persistence and correlations of a hand-made run", async () => {
  const model = scriptedAnalyst();
  const result = await analyzeTraces([handMadeRun()], {
    model,
    embedder: new TfidfEmbedder(),
    k: 2,
    seed: 3,
    bootstrapIterations: 200,
  });
  AnalysisResult.parse(JSON.parse(JSON.stringify(result)));

  // Failure corpus: every observed topic of every step (padding without records left out),
  // retained or not.
  assert.equal(result.failureCorpus.records.length, 6);
  assert.equal(result.settings.failurePresence, "retained");
  assert.equal(
    result.failureCorpus.records[0]?.text,
    "wrong unit: the answer is in the wrong unit.",
  );
  // Patch corpus: 1 + 2 + 1 edits kept; the invented quote is dropped and counted.
  assert.deepEqual(result.patchCorpus.counts, {
    calls: 3,
    returned: 5,
    kept: 4,
    inventedEvidence: 1,
    otherDropped: 0,
    truncated: 0,
    failedCalls: 0,
  });
  assert.equal(
    result.patchCorpus.transitions[1]?.dropped[0]?.reason,
    "evidence not in the new prompt",
  );
  assert.equal(model.requests.filter((r) => r.outputSchema?.name === "patch_edits").length, 3);
  const first = model.requests.find((r) => r.outputSchema?.name === "patch_edits");
  assert.match(userText(first as ChatRequest), /<rationale>\nrationale 1\n<\/rationale>/);
  assert.match(userText(first as ChatRequest), /^\+Convert every amount/m);

  assert.deepEqual(
    result.transitions.map((
      t,
    ) => [t.step, t.failureTopics, t.patchTopics, t.deltaScore, t.deltaBrier]),
    [
      [1, ["Confidence", "Unit errors"], ["Unit rules"], 0.125, -0.0625],
      [2, ["Unit errors"], ["Calibration rules", "Unit rules"], -0.0625, 0.0625],
      [3, ["Confidence"], ["Calibration rules"], 0.1875, -0.125],
    ],
  );
  assert.deepEqual(
    result.alignment.map((
      c,
    ) => [c.failureTopic, c.patchTopic, c.both, c.failureCount, c.probability]),
    [
      ["Confidence", "Calibration rules", 1, 2, 0.5],
      ["Confidence", "Unit rules", 1, 2, 0.5],
      ["Unit errors", "Calibration rules", 1, 2, 0.5],
      ["Unit errors", "Unit rules", 2, 2, 1],
    ],
  );
  // "Unit rules" follows 2 of the 3 transitions: P(patch) = 2/3, so the lift of 1 is 1.5.
  assert.deepEqual(
    result.alignment.map((c) => [c.patchCount, c.lift]),
    [[2, 0.75], [2, 0.75], [2, 0.75], [2, 1.5]],
  );
  const deltas = Object.fromEntries(
    [...result.deltas.failure, ...result.deltas.patch].map((d) => [
      d.topic,
      [d.count, d.meanDeltaScore, d.brierCount, d.meanDeltaBrier],
    ]),
  );
  assert.deepEqual(deltas, {
    "Confidence": [2, 0.15625, 2, -0.09375],
    "Unit errors": [2, 0.03125, 2, 0],
    "Unit rules": [2, 0.03125, 2, 0],
    "Calibration rules": [2, 0.0625, 2, -0.03125],
  });
  for (const d of [...result.deltas.failure, ...result.deltas.patch]) {
    assert.ok(d.scoreInterval[0] <= d.meanDeltaScore && d.meanDeltaScore <= d.scoreInterval[1]);
  }
  assert.deepEqual(
    result.persistence.map((p) => [p.topic, p.runs, p.resolved, p.reappeared]),
    [
      ["Confidence", [1, 1], 2, 1],
      ["Unit errors", [2, 1], 1, 1],
    ],
  );
  assert.deepEqual(
    result.lengthVsScore.points.map((p) => p.promptTokens),
    [10, 20, 40, 50],
  );
  assert.equal(estimateTokens(`\n${PROMPTS[3]?.instruction}`), 50);
  // sxy = 7, sxx = 1000, syy = 0.0875; ranks differ by one in two places: 1 - 6*2/60.
  assert.ok(Math.abs((result.lengthVsScore.pearson ?? 0) - 7 / Math.sqrt(1000 * 0.0875)) < 1e-12);
  assert.ok(Math.abs((result.lengthVsScore.spearman ?? 0) - 0.8) < 1e-12);
  assert.equal(result.simulated, false);
  assert.doesNotMatch(analysisToMarkdown(result), /SIMULATED/);
});

Deno.test("persistence: a topic present at the last diagnosed step is not resolved; stretches read as such", async () => {
  const run = handMadeRun();
  // The final, dev-only step: scored on dev, never diagnosed (no report, no clustering).
  const final: TraceStep = {
    step: 5,
    prompt: PROMPTS[3] as PromptProgram,
    train: null,
    dev: metrics(0.9, 0.2),
    clustering: null,
  };
  const opts = { embedder: new TfidfEmbedder(), k: 2, seed: 0, bootstrapIterations: 100 };
  const result = await analyzeTraces([{ ...run, steps: [...run.steps, final] }], {
    ...opts,
    model: scriptedAnalyst(),
  });
  // "Unit errors" is present at step 4, the last diagnosed step: resolved once (gone at 3).
  assert.deepEqual(
    result.persistence.map((p) => [p.topic, p.runs, p.resolved, p.reappeared]),
    [
      ["Confidence", [1, 1], 2, 1],
      ["Unit errors", [2, 1], 1, 1],
    ],
  );
  const md = analysisToMarkdown(result);
  assert.match(md, /\| topic \| steps present \| stretches \(steps in each\) \|/);
  assert.match(md, /\| Unit errors \| 3 \| 2 \(2 \+ 1 steps\) \| 1\.50 \| 2 \| 1 \| 1 \|/);
});

Deno.test("analyzeTraces: with all topics present, a topic below the threshold counts too", async () => {
  const result = await analyzeTraces([handMadeRun()], {
    model: scriptedAnalyst(),
    embedder: new TfidfEmbedder(),
    k: 2,
    bootstrapIterations: 20,
    failurePresence: "all",
  });
  assert.deepEqual(result.transitions.map((t) => t.failureTopics), [
    ["Confidence", "Unit errors"],
    ["Confidence", "Unit errors"],
    ["Confidence"],
  ]);
  assert.deepEqual(result.persistence.find((p) => p.topic === "Confidence")?.runs, [3]);
});

Deno.test("analyzeTraces with the reference's choices: every topic present, a headline delta, repeated/resolved/new, labels", async () => {
  const model = scriptedAnalyst();
  const result = await analyzeTraces([handMadeRun()], {
    model,
    embedder: new TfidfEmbedder(),
    k: 2,
    bootstrapIterations: 20,
    failurePresence: "every",
    deltaMetric: { name: "twice the score", of: (m) => 2 * m.score },
    labelTopics: true,
  });
  AnalysisResult.parse(JSON.parse(JSON.stringify(result)));
  // The padding topics without records are part of the corpus too (8 records, not 6).
  assert.equal(result.failureCorpus.records.length, 8);
  assert.ok(result.failureCorpus.records.some((r) => r.text.startsWith("other a:")));
  assert.deepEqual(result.settings.failurePresence, "every");
  assert.equal(result.settings.deltaMetric, "twice the score");
  assert.deepEqual(result.transitions.map((t) => t.deltaScore), [0.25, -0.125, 0.375]);
  assert.deepEqual(
    result.topicChanges.map((c) => [c.step, c.next, c.repeated, c.resolved, c.new]),
    [[1, 2, 2, 0, 0], [2, 3, 1, 1, 0], [3, 4, 0, 1, 1]],
  );
  assert.equal(model.requests.filter((r) => r.outputSchema?.name === "topic_labels").length, 2);
  assert.deepEqual(result.topicLabels?.failure, {
    "Unit errors": "label of Unit errors",
    "Confidence": "label of Confidence",
  });
  const md = analysisToMarkdown(result);
  assert.match(md, /\| label of Unit errors \(Unit errors\) \|/);
  assert.match(md, /mean d twice the score/);
  assert.match(md, /repeated, resolved and new/);
});

Deno.test("analyzeTraces: pooled runs keep their names and transitions apart", async () => {
  const run = handMadeRun();
  const result = await analyzeTraces([run, { ...run, simulated: true }], {
    model: scriptedAnalyst(),
    embedder: new TfidfEmbedder(),
    k: 2,
    bootstrapIterations: 50,
  });
  assert.deepEqual(result.runs.map((r) => [r.name, r.transitions]), [["hand", 3], ["hand#2", 3]]);
  const cell = result.alignment.find((c) =>
    c.failureTopic === "Unit errors" && c.patchTopic === "Unit rules"
  );
  assert.deepEqual([cell?.both, cell?.failureCount], [4, 4]);
  assert.deepEqual(result.persistence.find((p) => p.topic === "Unit errors")?.runs, [2, 1, 2, 1]);
  assert.equal(result.simulated, true);
  assert.match(analysisToMarkdown(result), /^# SIMULATED Trace analyses/);
});

Deno.test("analyzeTraces: an unchanged prompt makes no call and a failing call is recorded", async () => {
  const run = handMadeRun();
  const steps = run.steps.slice(0, 3);
  (steps[1] as TraceStep).prompt = steps[0]?.prompt as PromptProgram;
  const model = new ScriptedChatModel((request) =>
    request.outputSchema?.name === "patch_edits"
      ? new Error("provider down")
      : new Error("no clustering call expected")
  );
  const result = await analyzeTraces([{ ...run, steps }], {
    model,
    embedder: new TfidfEmbedder(),
    k: 10,
    bootstrapIterations: 10,
  });
  assert.deepEqual(
    result.patchCorpus.transitions.map((t) => [t.promptChanged, t.attempts, t.error]),
    [
      [false, 0, undefined],
      [true, 1, "provider down"],
    ],
  );
  assert.equal(result.patchCorpus.counts.failedCalls, 1);
  assert.deepEqual(result.transitions.map((t) => t.patchTopics), [[], []]);
  assert.ok(result.warnings.some((w) => w.includes("provider down")));
});

Deno.test("evidence check: a real quote passes, an invented one is rejected", () => {
  const prompt = "Answer from the context.\nRound the final answer to two decimal places.";
  assert.equal(evidenceOccurs("round the FINAL answer", prompt), true);
  assert.equal(evidenceOccurs("“Round the final answer”", prompt), true);
  assert.equal(evidenceOccurs("Answer from ... two decimal places", prompt), true);
  assert.equal(evidenceOccurs("two decimal places ... Answer from", prompt), false);
  assert.equal(evidenceOccurs("Always round the final answer", prompt), false);
  assert.equal(evidenceOccurs("the", prompt), false);
  const checked = checkPatchEdits({
    edits: [
      { change_type: "add", edit: "Add rounding.", evidence: "two decimal places" },
      { change_type: "add", edit: "Add units.", evidence: "Convert all units to metres" },
      { change_type: "rewrite", edit: "Reword.", evidence: "Answer from the context" },
      ...Array.from({ length: 12 }, () => ({ change_type: "add", edit: "x", evidence: "Answer" })),
    ],
  }, { system: "", instruction: prompt });
  assert.equal(checked.edits.length, 10);
  assert.deepEqual(checked.dropped.map((d) => d.reason), [
    "evidence not in the new prompt",
    'unknown change_type "rewrite"',
  ]);
  assert.equal(checked.truncated, 3);
});

Deno.test("sim patch_edits: names the trap each added line addresses and quotes the new prompt", () => {
  const oldPrompt = "[system]\nYou answer questions.\n\n[instruction]\nAnswer from the context.\n" +
    "Be careful with questions that compare two things.\nReply in JSON.";
  const rule =
    "When asked which of two things is older, larger or first, state both values and make sure you pick the side the question asks for.";
  const newPrompt = "[system]\nYou answer questions.\n\n[instruction]\nAnswer from the context.\n" +
    `${rule}\nReply in JSON.`;
  const edits = patchEditsFor(oldPrompt, newPrompt);
  assert.ok(edits.length >= 3 && edits.length <= 12);
  assert.equal(edits[0]?.change_type, "tighten");
  assert.match(edits[0]?.edit ?? "", /reverses the comparison direction/);
  for (const e of edits) assert.ok(evidenceOccurs(e.evidence, newPrompt), e.evidence);

  const response = answerPatchEdits({
    messages: [{
      role: "user",
      content:
        `<old_prompt>\n${oldPrompt}\n</old_prompt>\n<new_prompt>\n${newPrompt}\n</new_prompt>`,
    }],
  });
  assert.equal(response.provider, "sim");
  assert.ok((response.parsed as { edits: unknown[] }).edits.length >= 3);
});

Deno.test("writeAnalysis: every table lands in its own file, atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await analyzeTraces([handMadeRun()], {
      model: scriptedAnalyst(),
      embedder: new TfidfEmbedder(),
      k: 2,
      bootstrapIterations: 20,
    });
    const paths = await writeAnalysis(result, `${dir}/analysis`);
    assert.equal(paths.length, 7);
    const names = [...Deno.readDirSync(`${dir}/analysis`)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "alignment.json",
      "analysis.json",
      "deltas.json",
      "length_vs_score.json",
      "patch_edits.json",
      "persistence.json",
      "topics.json",
    ]);
    const back = AnalysisResult.parse(
      JSON.parse(await Deno.readTextFile(`${dir}/analysis/analysis.json`)),
    );
    assert.deepEqual(back.alignment, result.alignment);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The same hand-made run as a run directory on disk (the layout of lib/run/schema.ts).

async function writeRunDir(dir: string, trace: RunTrace, config: Record<string, unknown>) {
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  for (const s of trace.steps) {
    const folder = `${dir}/iter-${String(s.step).padStart(3, "0")}`;
    await Deno.mkdir(folder, { recursive: true });
    const write = (name: string, value: unknown) =>
      Deno.writeTextFile(`${folder}/${name}`, JSON.stringify(value));
    await write("prompt.json", s.prompt);
    await write("dev.json", { split: "dev", step: s.step, metrics: s.dev, items: [] });
    await write("report.json", {
      iteration: s.step,
      prompt: s.prompt,
      metrics: s.train,
      topics: [],
      counts: { examples: 8, failures: 4, diagnoses: 4, formatErrors: 0, errors: 0 },
      warnings: [],
    });
    await write("record.json", { traces: [], critiques: [], clustering: s.clustering });
    await write("decision.json", {
      decision: { action: "patch", patch: { rationale: s.rationale } },
      accepted: true,
      rejections: [],
      nextPrompt: null,
      stop: null,
      messages: [],
    });
  }
}

Deno.test("analyzeRuns: a run directory gives the same tables as its trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeRunDir(dir, handMadeRun(), {
      task: "hotpotqa",
      target: "scripted:t",
      optimizer: "scripted:o",
      embedder: "tfidf",
    });
    const opts = { embedder: new TfidfEmbedder(), k: 2, seed: 3, bootstrapIterations: 200 };
    const fromDir = await analyzeRuns([dir], { ...opts, model: scriptedAnalyst() });
    const fromTrace = await analyzeTraces([handMadeRun()], { ...opts, model: scriptedAnalyst() });
    assert.deepEqual(fromDir.alignment, fromTrace.alignment);
    assert.deepEqual(fromDir.deltas, fromTrace.deltas);
    assert.deepEqual(fromDir.persistence, fromTrace.persistence);
    assert.deepEqual(fromDir.lengthVsScore.spearman, fromTrace.lengthVsScore.spearman);
    assert.equal(fromDir.runs[0]?.task, "hotpotqa");
    assert.equal(fromDir.simulated, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rpt analyze: a simulated run is analysed by the simulator and labelled SIMULATED", async () => {
  const dir = await Deno.makeTempDir();
  const printed: string[] = [];
  const log = console.log;
  try {
    await writeRunDir(dir, handMadeRun(), {
      task: "hotpotqa",
      target: "sim:target",
      optimizer: "sim:optimizer",
      critic: "sim:critic",
      embedder: "sim:embed",
    });
    console.log = (...args: unknown[]) => printed.push(args.join(" "));
    const code = await runAnalyzeCli([dir, "--k", "3", "--bootstrap", "50"]);
    assert.equal(code, 0);
    const text = printed.join("\n");
    assert.match(text, /^# SIMULATED Trace analyses/);
    assert.match(text, /model sim:sim-critic, embedder sim:sim-embed/);
    const written = AnalysisResult.parse(
      JSON.parse(await Deno.readTextFile(`${dir}/analysis/analysis.json`)),
    );
    assert.equal(written.settings.k, 3);
    assert.equal(written.transitions.length, 3);
    await assert.rejects(() => runAnalyzeCli([dir, "--presence", "some"]), /--presence/);
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyzeTraces: malformed patch_edits output is asked again as a new sample", async () => {
  const steps = handMadeRun().steps.slice(0, 2);
  const model = new ScriptedChatModel((request) => {
    if (request.outputSchema?.name !== "patch_edits") return new Error("unexpected");
    return request.sampleIndex === undefined
      ? { text: "Here are the edits: none", parsed: "Here are the edits: none" }
      : {
        parsed: { edits: [{ change_type: "ADD", edit: "Add a unit rule.", evidence: UNIT_RULE }] },
      };
  });
  const result = await analyzeTraces([{ name: "r", simulated: false, steps }], {
    model,
    embedder: new TfidfEmbedder(),
    bootstrapIterations: 10,
  });
  const [t] = result.patchCorpus.transitions;
  assert.deepEqual([t?.attempts, t?.error, t?.edits.map((e) => e.change_type)], [2, undefined, [
    "add",
  ]]);
  assert.deepEqual(model.requests.map((r) => r.sampleIndex), [undefined, 1]);
  assert.ok(result.warnings.some((w) => w.includes("fewer than 3 edits")));
});
