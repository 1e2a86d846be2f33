import assert from "node:assert/strict";
import { clusterFusion, type ClusterRecord, ClusterResult } from "../lib/cluster.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { TfidfEmbedder } from "../lib/llm/tfidf.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";

/** Three failure themes with disjoint vocabularies. */
const THEMES = [
  {
    name: "Wrong unit",
    description: "The answer uses the wrong unit of measurement or scale.",
    label: "wrong unit conversion",
    definition: "answer expressed in the wrong measurement unit or scale",
    extra: ["kilometres", "metres", "grams", "kilograms", "litres", "millilitres", "miles", "feet"],
  },
  {
    name: "Overconfidence",
    description: "High stated confidence on a wrong answer.",
    label: "overconfident wrong answer",
    definition: "stated certainty is high although the prediction is incorrect",
    extra: ["certain", "sure", "definitely", "assured", "bold", "emphatic", "insistent", "firm"],
  },
  {
    name: "Bridge entity",
    description: "The wrong intermediate entity in a multi-hop chain.",
    label: "bridge entity confusion",
    definition: "the intermediate hop resolved to another person or place in the chain",
    extra: ["hop", "chain", "link", "intermediate", "relation", "passage", "paragraph", "bridge"],
  },
];

/** `perTheme` records of each theme, interleaved (record i has theme i % 3). */
function themedRecords(perTheme: number, unique = false): ClusterRecord[] {
  const out: ClusterRecord[] = [];
  for (let i = 0; i < perTheme; i++) {
    for (const theme of THEMES) {
      const a = theme.extra[i % theme.extra.length];
      const b = theme.extra[(i * 3 + 1) % theme.extra.length];
      out.push({
        text: `${theme.label}: ${theme.definition} ${a} ${b}${unique ? ` case${i}` : ""}`,
        example: `case ${i} of ${theme.label}`,
        impact: 1,
      });
    }
  }
  return out;
}

function themeOfText(text: string): number {
  return THEMES.findIndex((t) => text.includes(t.label));
}

/** Records listed as `[<id>] <text>` in a request's last user message. */
function listedRecords(request: ChatRequest): { id: number; text: string }[] {
  const content = request.messages.at(-1)?.content ?? "";
  return [...content.matchAll(/^\[(\d+)\] (.*)$/gm)].map((m) => ({
    id: Number(m[1]),
    text: m[2] ?? "",
  }));
}

const threeTopics = {
  topics: THEMES.map((t) => ({ name: t.name, description: t.description, examples: [t.label] })),
};

/** A model that extracts `extraction` and assigns each record by `assign` (text -> topic). */
function clusterModel(
  extraction: unknown,
  assign: (text: string, id: number) => string | undefined,
): ScriptedChatModel {
  return new ScriptedChatModel((request) => {
    const name = request.outputSchema?.name;
    if (name === "topic_extraction") return { parsed: extraction };
    if (name === "topic_assignment") {
      const assignments = listedRecords(request).flatMap(({ id, text }) => {
        const topic = assign(text, id);
        return topic === undefined ? [] : [{ id, topic }];
      });
      return { parsed: { assignments } };
    }
    return new Error(`unexpected request ${name}`);
  });
}

const byTheme = (text: string) => THEMES[themeOfText(text)]?.name;

Deno.test("clusterFusion recovers well-separated themes on a fixed seed", async () => {
  const records = themedRecords(20); // 60 records
  const model = clusterModel(threeTopics, byTheme);
  const result = await clusterFusion(records, {
    embedder: new TfidfEmbedder(),
    model,
    k: 3,
    seed: 7,
  });
  // k-means: min(2k, N) = 6 groups, each holding a single theme.
  assert.equal(result.groups, 6);
  const themesPerGroup = new Map<number, Set<number>>();
  result.groupOf.forEach((g, i) => {
    const set = themesPerGroup.get(g) ?? new Set();
    set.add(i % 3);
    themesPerGroup.set(g, set);
  });
  for (const set of themesPerGroup.values()) assert.equal(set.size, 1);
  // The balanced sample covers every group (and so every theme).
  assert.equal(new Set(result.sample.map((i) => result.groupOf[i])).size, 6);
  assert.deepEqual(result.assignments, records.map((_, i) => i % 3));
  assert.deepEqual(result.topics.map((t) => [t.name, t.count, t.source]), [
    ["Wrong unit", 20, "extracted"],
    ["Overconfidence", 20, "extracted"],
    ["Bridge entity", 20, "extracted"],
  ]);
  assert.deepEqual(result.calls, { extraction: 1, assignment: 3, embedding: 1 });
  assert.equal(result.fallbacks.count, 0);
  // The result is valid run-record data.
  assert.deepEqual(ClusterResult.parse(result), result);
  assert.deepEqual(result.padded, []);
  assert.deepEqual(result.trimmed, []);
  // Exactly one extraction call stating k, then ceil(60 / 25) = 3 assignment calls.
  const extraction = model.requests.filter((r) => r.outputSchema?.name === "topic_extraction");
  assert.equal(extraction.length, 1);
  assert.match(extraction[0]?.messages.at(-1)?.content ?? "", /exactly 3 topics/);
  const batches = model.requests.filter((r) => r.outputSchema?.name === "topic_assignment")
    .map((r) => listedRecords(r).length).sort((a, b) => a - b);
  assert.deepEqual(batches, [10, 25, 25]);
  // The same seed gives the same result.
  const again = await clusterFusion(records, {
    embedder: new TfidfEmbedder(),
    model: clusterModel(threeTopics, byTheme),
    k: 3,
    seed: 7,
  });
  assert.deepEqual(again.groupOf, result.groupOf);
  assert.deepEqual(again.sample, result.sample);
});

Deno.test("clusterFusion samples without duplicates, ordered by similarity to the first", async () => {
  // 90 records but only 9 distinct texts: the reference would repeat records in its sample.
  const distinct = themedRecords(3);
  const records = Array.from({ length: 90 }, (_, i) => distinct[i % 9] as ClusterRecord);
  const model = clusterModel(threeTopics, byTheme);
  const result = await clusterFusion(records, { embedder: new TfidfEmbedder(), model, k: 3 });
  assert.equal(result.sample.length, 9);
  assert.equal(new Set(result.sample).size, 9);
  assert.equal(new Set(result.sample.map((i) => records[i]?.text)).size, 9);
  const request = model.requests.find((r) => r.outputSchema?.name === "topic_extraction");
  const lines = listedRecords(request as ChatRequest);
  assert.deepEqual(lines.map((l) => l.id), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Records of the first record's theme come right after it (they are the most similar).
  const first = themeOfText(lines[0]?.text ?? "");
  assert.deepEqual(lines.slice(0, 3).map((l) => themeOfText(l.text)), [first, first, first]);

  // Many distinct records: the sample is capped at sampleSize, still without duplicates.
  const many = themedRecords(60, true); // 180 distinct texts
  const capped = await clusterFusion(many, {
    embedder: new TfidfEmbedder(),
    model: clusterModel(threeTopics, byTheme),
    k: 3,
    sampleSize: 50,
  });
  assert.equal(capped.sample.length, 50);
  assert.equal(new Set(capped.sample).size, 50);
});

Deno.test("an unknown or missing assignment falls back to the nearest topic and is counted", async () => {
  const records = themedRecords(10); // 30 records, batch of 25 then 5
  const model = clusterModel(threeTopics, (text, id) => {
    if (id === 2) return "No such topic";
    if (id === 4) return undefined; // left out by the model
    return byTheme(text);
  });
  const result = await clusterFusion(records, {
    embedder: new TfidfEmbedder(),
    model,
    k: 3,
    batchSize: 25,
  });
  // Batch-local ids 2 and 4 are records 1, 3 (first batch) and 26, 28 (second batch).
  assert.deepEqual(result.fallbacks, { count: 4, records: [1, 3, 26, 28] });
  assert.deepEqual(result.assignments, records.map((_, i) => i % 3));
  assert.deepEqual(result.calls, { extraction: 1, assignment: 2, embedding: 2 });
});

Deno.test("a failed assignment call falls back for its whole batch", async () => {
  const records = themedRecords(10);
  let assignmentCalls = 0;
  const model = new ScriptedChatModel((request) => {
    if (request.outputSchema?.name === "topic_extraction") return { parsed: threeTopics };
    assignmentCalls++;
    return "not json at all";
  });
  const result = await clusterFusion(records, { embedder: new TfidfEmbedder(), model, k: 3 });
  assert.equal(assignmentCalls, 4); // two batches, two attempts each
  assert.equal(result.fallbacks.count, 30);
  assert.deepEqual(result.assignments, records.map((_, i) => i % 3));
  assert.equal(result.errors.length, 2);
  assert.match(
    result.errors[0] ?? "",
    /^topic_assignment \[0\.\.24\]: malformed output \(attempt 2\)/,
  );
});

Deno.test("prevalence and retention match a hand-computed case", async () => {
  // 20 records: A has 14 (impact 1 each), B 5 (impact 0.2 each), C 1 (impact 0).
  const records: ClusterRecord[] = [
    ...Array.from(
      { length: 14 },
      (_, i) => ({ text: `alpha failure number ${"x".repeat(i)}`, impact: 1 }),
    ),
    ...Array.from(
      { length: 5 },
      (_, i) => ({ text: `beta failure kind ${"y".repeat(i)}`, impact: 0.2 }),
    ),
    { text: "gamma failure", impact: 0 },
  ];
  const extraction = {
    topics: [
      { name: "A", description: "alpha", examples: ["alpha"] },
      { name: "B", description: "beta", examples: ["beta"] },
      { name: "C", description: "gamma", examples: [] },
      { name: "a", description: "a duplicate name", examples: [] },
      { name: "D", description: "beyond k", examples: [] },
    ],
  };
  const model = clusterModel(
    extraction,
    (text) => text.startsWith("alpha") ? "A" : text.startsWith("beta") ? "b" : "C",
  );
  const result = await clusterFusion(records, { embedder: new TfidfEmbedder(), model, k: 3 });
  assert.deepEqual(result.trimmed, ["a", "D"]);
  assert.deepEqual(result.padded, []);
  const [a, b, c] = result.topics;
  // A: 0.5 * (14/20 + 14/15); B: 0.5 * (5/20 + 1/15); C: 0.5 * (1/20 + 0).
  assert.ok(Math.abs((a?.prevalence ?? 0) - 0.5 * (14 / 20 + 14 / 15)) < 1e-12);
  assert.ok(Math.abs((b?.prevalence ?? 0) - 0.5 * (5 / 20 + 1 / 15)) < 1e-12);
  assert.equal(c?.prevalence, 0.025);
  assert.deepEqual(result.topics.map((t) => [t.count, t.retained]), [[14, true], [5, true], [
    1,
    false,
  ]]);
  assert.ok(Math.abs((b?.impact ?? 0) - 1) < 1e-12);
  // A topic without examples from the extraction gets its records' examples (here the text).
  assert.deepEqual(c?.examples, ["gamma failure"]);
});

Deno.test("when no topic reaches 0.10 the top 3 are retained (N <= k path, no calls)", async () => {
  const forbidden: ChatModel = {
    provider: "none",
    model: "none",
    chat: () => Promise.reject(new Error("no LLM call expected")),
  };
  const impacts = [5, 1, 1, 1, 1, 1, 1, 1, 3, 2, 0];
  const records = impacts.map((impact, i) => ({
    text: `mode ${String.fromCharCode(97 + i)}: definition ${i}`,
    impact,
  }));
  const result = await clusterFusion(records, {
    embedder: new TfidfEmbedder(),
    model: forbidden,
    k: 20,
  });
  assert.deepEqual(result.calls, { extraction: 0, assignment: 0, embedding: 0 });
  assert.equal(result.topics.length, 11);
  assert.deepEqual(result.assignments, records.map((_, i) => i));
  assert.deepEqual(result.topics.map((t) => t.source), records.map(() => "record"));
  assert.equal(result.topics[0]?.name, "mode a");
  assert.equal(result.topics[0]?.description, "definition 0");
  // Record share 1/11 each; impact share impact/17: a 0.5*(1/11+5/17) = 0.1925,
  // i 0.5*(1/11+3/17) = 0.1337, j 0.5*(1/11+2/17) = 0.1043, the others below 0.10.
  assert.deepEqual(result.topics.filter((t) => t.retained).map((t) => t.name), [
    "mode a",
    "mode i",
    "mode j",
  ]);
  assert.ok(Math.abs((result.topics[9]?.prevalence ?? 0) - 0.5 * (1 / 11 + 2 / 17)) < 1e-12);
  assert.equal(result.topics[1]?.retained, false);

  // Equal weights: 11 topics at 1/11 < 0.10 each, so the top 3 (first 3 on ties) are kept.
  const flat = await clusterFusion(records.map((r) => ({ text: r.text })), {
    embedder: new TfidfEmbedder(),
    model: forbidden,
    k: 20,
  });
  assert.deepEqual(flat.topics.filter((t) => t.retained).map((t) => t.name), [
    "mode a",
    "mode b",
    "mode c",
  ]);
  assert.ok(Math.abs((flat.topics[0]?.prevalence ?? 0) - 1 / 11) < 1e-12);
});

Deno.test("N <= k: one topic per record, identical texts share a topic", async () => {
  const forbidden: ChatModel = {
    provider: "none",
    model: "none",
    chat: () => Promise.reject(new Error("no LLM call expected")),
  };
  const records = [
    { text: "wrong unit: unit mix-up", example: "km vs m" },
    { text: "overconfident: too sure" },
    { text: "wrong unit: unit mix-up", example: "g vs kg" },
  ];
  const result = await clusterFusion(records, {
    embedder: new TfidfEmbedder(),
    model: forbidden,
    k: 10,
  });
  assert.deepEqual(result.assignments, [0, 1, 0]);
  assert.deepEqual(result.topics.map((t) => [t.name, t.count, t.examples]), [
    ["wrong unit", 2, ["km vs m", "g vs kg"]],
    ["overconfident", 1, ["overconfident: too sure"]],
  ]);
  assert.deepEqual(result.topics.map((t) => t.retained), [true, true]);
  const empty = await clusterFusion([], { embedder: new TfidfEmbedder(), model: forbidden });
  assert.deepEqual(empty.topics, []);
});

Deno.test("too few extracted topics are padded from uncovered groups; a failed extraction pads all", async () => {
  const records = themedRecords(10);
  const one = { topics: [threeTopics.topics[0]] };
  const result = await clusterFusion(records, {
    embedder: new TfidfEmbedder(),
    model: clusterModel(one, byTheme),
    k: 3,
  });
  assert.equal(result.topics.length, 3);
  assert.equal(result.padded.length, 2);
  assert.deepEqual(result.topics.map((t) => t.source), ["extracted", "padded", "padded"]);
  // Padded topics are named after central records of other groups: the other two themes.
  assert.deepEqual(
    new Set(result.padded),
    new Set(["overconfident wrong answer", "bridge entity confusion"]),
  );

  let extractionCalls = 0;
  const broken = new ScriptedChatModel((request) => {
    if (request.outputSchema?.name === "topic_extraction") {
      extractionCalls++;
      return '{"topics": "oops"}';
    }
    return { parsed: { assignments: [] } };
  });
  const padded = await clusterFusion(records, {
    embedder: new TfidfEmbedder(),
    model: broken,
    k: 3,
  });
  assert.equal(extractionCalls, 2);
  assert.equal(padded.calls.extraction, 2);
  assert.equal(padded.topics.length, 3);
  assert.deepEqual(
    new Set(padded.padded),
    new Set(THEMES.map((t) => t.label)),
  );
  assert.match(padded.errors[0] ?? "", /^topic_extraction: malformed output \(attempt 2\)/);
  // Every record fell back to the nearest (padded) topic: its own theme.
  assert.equal(padded.fallbacks.count, 30);
  assert.deepEqual(
    padded.assignments.map((t) => padded.topics[t]?.name),
    records.map((_, i) => THEMES[i % 3]?.label),
  );
});
