import assert from "node:assert/strict";
import { diagnose } from "../lib/diagnose.ts";
import { createSimChatModel, createSimEmbedder } from "../lib/sim/mod.ts";
import type { SimExample } from "../lib/sim/examples.ts";
import { decideAnswer, promptTextOf } from "../lib/sim/target.ts";
import { addresses, classifyText, TRAPS, trapsFor } from "../lib/sim/traps.ts";
import { decide, WEAK_EDIT_RATE } from "../lib/sim/optimizer.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import { type ChatMessage, ChatRequest, toJsonSchema, ToolSpec } from "../lib/llm/schema.ts";
import { Decision, DiagnoseArgs, type RunSummary } from "../lib/run/schema.ts";
import { hashUnit } from "../lib/util/random.ts";
import { optimize } from "../lib/revise/optimize.ts";
import type { MemoryMode } from "../lib/run/config.ts";

// The synthetic task needs no data directory; pointing the simulator at an empty one keeps
// these tests independent of ../shared/data.
const NO_DATA = "/nonexistent-rpt-data";
const sim = (seed: number) => ({ seed, dataDir: NO_DATA });
const scaleTrap = TRAPS.find((t) => t.id === "numeric.scale_words")!;
const comparisonTrap = TRAPS.find((t) => t.id === "hotpotqa.comparison_direction")!;

async function targetTexts(seed: number, instruction?: string): Promise<string[]> {
  const target = createSimChatModel("target", sim(seed));
  const prompt = instruction === undefined
    ? synthetic.seedPrompt
    : { ...synthetic.seedPrompt, instruction };
  const out: string[] = [];
  for (const ex of await synthetic.load("dev")) {
    const res = await target.chat({
      messages: synthetic.render(prompt, ex),
      outputSchema: { name: "answer", schema: synthetic.outputSchema },
    });
    out.push(res.text);
  }
  return out;
}

Deno.test("sim target: same seed gives byte-identical outputs, another seed differs", async () => {
  const a = await targetTexts(3);
  const b = await targetTexts(3);
  const c = await targetTexts(4);
  assert.equal(a.join("\n"), b.join("\n"));
  assert.notEqual(a.join("\n"), c.join("\n"));
  const parsed = a.map((t) => synthetic.parse(t)).filter((p) => p.ok);
  assert.ok(parsed.length >= 50, `${parsed.length} of 60 parsed`);
  for (const p of parsed) assert.match(p.value.reasoning, /^\[simulated\] /);
});

Deno.test("sim target: reports provider sim and model sim-target, usage estimated", async () => {
  const target = createSimChatModel("target", sim(0));
  const ex = (await synthetic.load("dev"))[0]!;
  const res = await target.chat({ messages: synthetic.render(synthetic.seedPrompt, ex) });
  assert.equal(res.provider, "sim");
  assert.equal(res.model, "sim-target");
  assert.equal(res.finishReason, "stop");
  assert.ok(res.usage.inputTokens > 20 && res.usage.outputTokens > 5);
});

Deno.test("sim target: an unknown conversation gets an honest 'unknown' answer", async () => {
  const target = createSimChatModel("target", sim(0));
  const res = await target.chat({
    messages: [{ role: "user", content: "Question: what is the airspeed of a swallow?" }],
  });
  assert.equal(JSON.parse(res.text).answer, "unknown");
});

Deno.test("sim target: a trap addressed in other words than its name is avoided", async () => {
  const examples = (await synthetic.load("dev")).map((e) => ({
    ...e,
    task: "synthetic",
    split: "dev" as const,
  }));
  const seedPrompt = synthetic.seedPrompt;
  const base = `${seedPrompt.system}\n${seedPrompt.instruction}`;
  // No word of the trap's topic ("Scale words not converted") is needed to address it.
  const rephrased = `${base}\nState money amounts in full units: 2.5 million becomes 2500000.`;
  const weak = `${base}\nBe careful with units.`;
  assert.ok(!/scale|convert/i.test(rephrased.slice(base.length)));
  const trapped = examples.filter((ex) =>
    decideAnswer(ex, base, { seed: 0 }).trap?.id === scaleTrap.id
  );
  assert.ok(trapped.length >= 5, `${trapped.length} examples fall into the scale trap`);
  for (const ex of trapped) {
    assert.equal(decideAnswer(ex, weak, { seed: 0 }).trap?.id, scaleTrap.id);
    const fixed = decideAnswer(ex, rephrased, { seed: 0 });
    assert.notEqual(fixed.trap?.id, scaleTrap.id);
    if (fixed.outcome === "correct") assert.equal(fixed.answer, ex.answer);
  }
  assert.ok(trapped.some((ex) => decideAnswer(ex, rephrased, { seed: 0 }).outcome === "correct"));
});

Deno.test("sim target: comparison trap answers the other entity unless the direction is checked", () => {
  const ex: SimExample = {
    id: "made-up-comparison",
    task: "hotpotqa",
    split: "dev",
    question: "Which band formed first, Alpha Lights or Beta Rivers?",
    answer: "Alpha Lights",
    subtask: "comparison",
    row: { supporting_facts: { title: ["Alpha Lights", "Beta Rivers"] } },
  };
  const wrong = trapsFor(ex).find((t) => t.trap === comparisonTrap)?.wrong;
  assert.equal(wrong?.answer, "Beta Rivers");
  const seed = [...Array(50).keys()].find((s) =>
    hashUnit(s, "susceptible", comparisonTrap.id, ex.id) < comparisonTrap.rate
  )!;
  const plain = "Answer from the context.";
  assert.equal(decideAnswer(ex, plain, { seed }).answer, "Beta Rivers");
  const fixed =
    `${plain}\nWhen two entities are compared, double-check which one the criterion favours.`;
  assert.notEqual(decideAnswer(ex, fixed, { seed }).answer, "Beta Rivers");
});

Deno.test("sim target: the question's own format text does not count as addressing a trap", () => {
  const ex: SimExample = {
    id: "q",
    task: "synthetic",
    split: "dev",
    question: "Revenue was $2.0 million. Convert millions to full units. What is it?",
    answer: "2000000",
    row: {},
  };
  const messages: ChatMessage[] = [
    { role: "system", content: "S" },
    { role: "user", content: `Solve it.\n\nQuestion: ${ex.question}` },
  ];
  const text = promptTextOf(messages, ex);
  assert.ok(!text.includes("Convert"));
  assert.equal(addresses(text, scaleTrap), false);
});

Deno.test("sim critic: diagnoses of one trap land in one ClusterFusion topic", async () => {
  const seed = 2;
  const target = createSimChatModel("target", sim(seed));
  const critic = createSimChatModel("critic", sim(seed));
  const examples = await synthetic.load("train");
  const record = await diagnose(synthetic.seedPrompt, "train", {
    task: synthetic,
    target,
    critic,
    embedder: createSimEmbedder(sim(seed)),
    examples,
    seed,
  });
  assert.ok(record.clustering !== null);
  const clustering = record.clustering!;
  // The record order of diagnose: critiques in order, modes in order; the first mode of a
  // critique names the trap (or slip) that caused the failure.
  const byTrap = new Map<string, Set<number>>();
  let r = 0;
  for (const c of record.critiques) {
    const ex = examples.find((e) => e.id === c.exampleId)!;
    const sx = { ...ex, task: "synthetic", split: "train" as const };
    const trace = record.traces.find((t) => t.exampleId === c.exampleId)!;
    const decision = decideAnswer(sx, promptTextOf(trace.messages, sx), { seed, structured: true });
    const key = decision.trap?.id ?? "slip";
    const topics = byTrap.get(key) ?? new Set<number>();
    topics.add(clustering.assignments[r]!);
    byTrap.set(key, topics);
    r += c.modes.length;
  }
  const trapKeys = [...byTrap.keys()].filter((k) => k !== "slip");
  assert.ok(trapKeys.length >= 2, `traps seen: ${trapKeys.join(", ")}`);
  for (const key of trapKeys) assert.equal(byTrap.get(key)!.size, 1, `${key} split over topics`);
  const topicOfTrap = trapKeys.map((k) => [...byTrap.get(k)!][0]);
  assert.equal(new Set(topicOfTrap).size, trapKeys.length, "two traps share a topic");
  assert.equal(clustering.fallbacks.count, 0);
});

Deno.test("sim critic: labels vary in wording but classify to their trap", () => {
  for (const trap of TRAPS) {
    for (const label of trap.labels) {
      for (const definition of trap.definitions) {
        assert.equal(classifyText(`${label}: ${definition}`), trap, `${trap.id}: ${label}`);
      }
    }
    assert.equal(classifyText(`${trap.topic}: ${trap.description}`), trap);
    for (const instruction of trap.instructions) {
      assert.ok(addresses(instruction, trap), instruction);
    }
    for (const instruction of trap.weakInstructions) {
      assert.ok(!TRAPS.some((t) => addresses(instruction, t)), instruction);
    }
  }
});

const diagnoseTool: ToolSpec = {
  name: "diagnose",
  description: "Diagnose a prompt.",
  parameters: toJsonSchema(DiagnoseArgs),
};
const decisionSchema = { name: "decision", schema: toJsonSchema(Decision) };

function toolResult(memory: unknown, topicNames: string[]): ChatMessage[] {
  const prompt = synthetic.seedPrompt;
  return [
    { role: "system", content: "controller" },
    {
      role: "user",
      content: `Iteration 2 of 10\n\n\`\`\`json\n${JSON.stringify(prompt)}\n\`\`\``,
    },
    {
      role: "assistant",
      content: "",
      toolCalls: [{ id: "c1", name: "diagnose", arguments: "{}" }],
    },
    {
      role: "tool",
      name: "diagnose",
      toolCallId: "c1",
      content: JSON.stringify({
        report: {
          iteration: 2,
          prompt,
          metrics: { score: 0.5, avgConfidence: 0.6, formatErrorRate: 0 },
          failure_topics: topicNames.map((name) => ({ name, description: "", examples: [] })),
        },
        memory,
        warnings: [],
      }),
    },
  ];
}

Deno.test("sim optimizer: calls diagnose through a valid tool call, then decides", async () => {
  const optimizer = createSimChatModel("optimizer", sim(0));
  const first = await optimizer.chat(ChatRequest.parse({
    messages: toolResult({}, []).slice(0, 2),
    tools: [diagnoseTool],
    toolChoice: "required",
  }));
  assert.equal(first.finishReason, "tool_calls");
  assert.equal(first.toolCalls.length, 1);
  assert.equal(first.toolCalls[0]!.name, "diagnose");
  assert.deepEqual(DiagnoseArgs.parse(JSON.parse(first.toolCalls[0]!.arguments)), {});

  const nudge = await optimizer.chat({
    messages: [...toolResult({}, []).slice(0, 2), {
      role: "user",
      content: "You must call the diagnose tool before deciding.",
    }],
    tools: [diagnoseTool],
    toolChoice: "required",
  });
  assert.equal(nudge.toolCalls[0]?.name, "diagnose");

  const second = await optimizer.chat({
    messages: toolResult({}, ["Not rounded to hundredths", "Scale words not converted"]),
    tools: [diagnoseTool],
    toolChoice: "auto",
    outputSchema: decisionSchema,
  });
  const decision = Decision.parse(second.parsed);
  assert.deepEqual(Decision.parse(JSON.parse(second.text)), decision);
  assert.equal(decision.action, "patch");
  assert.match(decision.patch!.rationale, /^\[simulated\] Topic "Not rounded to hundredths"/);
  // The output contract stays the last line.
  assert.match(decision.patch!.instruction!.split("\n").at(-1)!, /^Respond with a single JSON/);
});

Deno.test("sim optimizer: a weak first edit is replaced once memory shows it was tried", () => {
  const seed = [...Array(200).keys()].find((s) =>
    hashUnit(s, "weak-edit", scaleTrap.id) < WEAK_EDIT_RATE
  )!;
  const topics = ["Scale words not converted"];
  const first = decide(toolResult({}, topics), { seed });
  const rule1 = first.patch!.instruction!.split("\n").find((l) =>
    !synthetic.seedPrompt.instruction.includes(l)
  )!;
  assert.ok(scaleTrap.weakInstructions.includes(rule1), rule1);
  assert.equal(addresses(first.patch!.instruction!, scaleTrap), false);
  const memory = { reports: [{ metrics: { score: 0.5 }, patch: first.patch }] };
  const second = decide(toolResult(memory, topics), { seed });
  assert.ok(addresses(second.patch!.instruction!, scaleTrap));
  assert.match(second.patch!.rationale, /did not remove it/);
  assert.match(second.patch!.rationale, /\[sim-edit numeric\.scale_words#2\]/);
});

Deno.test("sim optimizer: stops on a plateau and after repeated rejections", async () => {
  const optimizer = createSimChatModel("optimizer", sim(0));
  const plateau = await optimizer.chat({
    messages: toolResult({ non_improving_streak: 3 }, ["Scale words not converted"]),
    outputSchema: decisionSchema,
  });
  const stop = Decision.parse(plateau.parsed);
  assert.equal(stop.action, "stop");
  assert.match(stop.stop_reason!, /^\[simulated\] Plateau/);

  const history = toolResult({}, ["Scale words not converted", "Not rounded to hundredths"]);
  const d1 = Decision.parse(
    (await optimizer.chat({ messages: history, outputSchema: decisionSchema })).parsed,
  );
  history.push({ role: "assistant", content: JSON.stringify(d1) });
  history.push({
    role: "user",
    content: "Patch rejected: it repeats an earlier rule. Send a corrected decision.",
  });
  const d2 = Decision.parse(
    (await optimizer.chat({ messages: history, outputSchema: decisionSchema })).parsed,
  );
  assert.equal(d2.action, "patch");
  assert.notEqual(d2.patch!.instruction, d1.patch!.instruction);
  for (let i = 0; i < 2; i++) {
    history.push({ role: "assistant", content: "{}" });
    history.push({ role: "user", content: "Patch rejected: no." });
  }
  const d3 = Decision.parse(
    (await optimizer.chat({ messages: history, outputSchema: decisionSchema })).parsed,
  );
  assert.equal(d3.action, "stop");
  assert.match(d3.stop_reason!, /rejected 3 times/);
});

Deno.test("sim embedder: deterministic, and shared words make texts closer", async () => {
  const e = createSimEmbedder({ seed: 1 });
  const [a, b, c] = (await e.embed([
    "Scale words not converted: answer in millions",
    "Answer in millions not units: scale words dropped",
    "Reversed comparison direction: picks the other entity",
  ])).vectors as [number[], number[], number[]];
  const again = (await e.embed(["Scale words not converted: answer in millions"])).vectors[0];
  assert.deepEqual(again, a);
  const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * (y[i] ?? 0), 0);
  assert.ok(dot(a, b) > dot(a, c) + 0.2);
});

/**
 * The real revision loop (a session of lib/revise/) on the simulated models: the synthetic
 * task's whole train and dev splits, confidence-aware, 10 iterations.
 */
async function simulatedRun(seed: number, memory?: MemoryMode): Promise<RunSummary> {
  const dir = await Deno.makeTempDir({ prefix: "rpt-sim-loop-" });
  try {
    const result = await optimize({
      iterations: 10,
      confidenceAware: true,
      seed,
      cache: `${dir}/cache.sqlite`,
      ...(memory !== undefined ? { memory } : {}),
    }, {
      runDir: `${dir}/run`,
      task: synthetic,
      models: {
        target: createSimChatModel("target", { seed }),
        optimizer: createSimChatModel("optimizer", { seed }),
        critic: createSimChatModel("critic", { seed }),
        embedder: createSimEmbedder({ seed }),
      },
    });
    return result.summary!;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sim loop: a 10-iteration run lifts the synthetic dev score and lowers Brier, deterministically", async () => {
  const run1 = await simulatedRun(0);
  const run2 = await simulatedRun(0);
  assert.equal(JSON.stringify(run1), JSON.stringify(run2));
  assert.ok(run1.seed.dev.score <= 0.5, `seed dev ${run1.seed.dev.score}`);
  assert.ok(run1.selected.dev.score >= 0.7, `best dev ${run1.selected.dev.score}`);
  assert.ok(run1.selected.dev.brier! < run1.seed.dev.brier! - 0.2);
  const decided = run1.steps.filter((s) => s.action !== "none");
  assert.ok(decided.length >= 2, `${decided.length} decisions`);
  for (const step of decided) {
    const text = step.rationale ?? step.stopReason ?? "";
    assert.match(text, /^\[simulated\]/);
  }
});

Deno.test("sim loop: without memory a weak edit is never repaired, so the run ends lower", async () => {
  const withMemory = await simulatedRun(0);
  const without = await simulatedRun(0, "none");
  const weakEdits = withMemory.steps.filter((s) =>
    TRAPS.some((t) => t.weakInstructions.some((w) => s.rationale?.includes(w)))
  );
  assert.ok(weakEdits.length >= 1, "seed 0 should make at least one weak edit");
  assert.ok(
    without.selected.dev.score < withMemory.selected.dev.score - 0.05,
    `without memory ${without.selected.dev.score} vs with ${withMemory.selected.dev.score}`,
  );
});

Deno.test("sim: findIn over a conversation's messages finds what find finds in their joined text, and again from memory", async () => {
  const { loadExampleIndex } = await import("../lib/sim/examples.ts");
  const index = await loadExampleIndex(undefined);
  const task = synthetic;
  // A system prompt whose lines look like questions must not confuse the search.
  const prompt = {
    ...task.seedPrompt,
    system: `${task.seedPrompt.system}\nQuestion: a line that is not a question`,
  };
  let found = 0;
  for (const ex of index.examples.slice(0, 120)) {
    const example = { id: ex.id, question: ex.question, answer: ex.answer, row: ex.row };
    const messages = task.render(prompt, example);
    const texts = messages.map((m) => m.content);
    const expected = index.find(texts.join("\n"));
    assert.equal(index.findIn(texts), expected);
    assert.equal(index.findIn(texts), expected, "remembered answers must be the same");
    if (expected?.id === ex.id) found++;
  }
  assert.equal(found, 120);
});
