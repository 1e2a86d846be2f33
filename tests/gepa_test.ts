import assert from "node:assert/strict";
import { compare, type RawModels } from "../lib/baselines/compare.ts";
import {
  acceptChild,
  confidenceFeedback,
  gepa,
  mergePrompts,
  mergeSample,
  ParetoFront,
  reflectionMessages,
  traceFeedback,
} from "../lib/baselines/gepa.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { ruleContext, ruleExamples, ruleTarget, ruleTask } from "./support/rule_task.ts";

Deno.test("ParetoFront keeps per-example bests and drops dominated candidates", () => {
  const front = new ParetoFront(3);
  front.add(0, [1, 0, 0]);
  front.add(1, [0, 1, 0]);
  assert.deepEqual(front.best, [1, 1, 0]);
  assert.deepEqual(front.nonDominated(), [0, 1]);
  assert.deepEqual([...front.frequencies()], [[0, 2], [1, 2]]);
  // Frequency-proportional sampling: 0 takes the first half of the mass, 1 the second.
  assert.equal(front.sample(() => 0.2), 0);
  assert.equal(front.sample(() => 0.7), 1);

  front.add(2, [1, 1, 0]);
  assert.deepEqual(front.members.map((m) => [...m].sort()), [[0, 2], [1, 2], [0, 1, 2]]);
  // 2 sits on every front 0 and 1 sit on, so they are dominated.
  assert.deepEqual(front.nonDominated(), [2]);
  assert.deepEqual([...front.frequencies()], [[2, 3]]);
  assert.equal(front.sample(() => 0.99), 2);

  front.add(3, [0, 0, 1]);
  assert.deepEqual(front.best, [1, 1, 1]);
  assert.deepEqual([...front.members[2] as Set<number>], [3]);
  assert.deepEqual(front.nonDominated(), [2, 3]);
  assert.throws(() => front.add(4, [1]), /1 scores for 3 instances/);
});

Deno.test("acceptChild needs a strictly higher minibatch sum; mergePrompts takes changed sides", () => {
  assert.equal(acceptChild([0, 1, 0], [0, 1, 0]), false);
  assert.equal(acceptChild([0, 1, 0], [1, 1, 0]), true);
  // Merge subsamples cover where each parent wins and where they tie.
  assert.deepEqual(mergeSample([1, 0, 0], [0, 1, 0], 5, () => 0.5), [0, 1, 2]);
  assert.deepEqual(mergeSample([1, 1, 0, 0, 1, 1], [0, 0, 1, 1, 1, 1], 3, () => 0).length, 3);
  const base = { system: "S", instruction: "I" };
  assert.equal(mergePrompts(base, { system: "S2", instruction: "I" }, base, true), null);
  assert.deepEqual(
    // Both changed the system: the better parent's (a) wins; only b changed the instruction.
    mergePrompts(
      base,
      { system: "S2", instruction: "I" },
      { system: "S3", instruction: "I2" },
      true,
    ),
    { system: "S2", instruction: "I2" },
  );
});

Deno.test("GEPA rejects a child that does not improve its minibatch and accepts one that does", async () => {
  const target = ruleTarget();
  const replies = ["Answer. Think harder.", "Answer. RULE-A"];
  const optimizer = new ScriptedChatModel((request) => {
    assert.equal(request.outputSchema?.name, "gepa_reflection");
    return JSON.stringify({ new_text: replies.shift() ?? "Answer." });
  });
  const events: string[] = [];
  const ctx = ruleContext(target, optimizer, {
    data: { train: ruleExamples("AAA", "t"), dev: ruleExamples("AB", "d") },
    budgetCalls: 100,
    record: (kind, data) => events.push(`${kind}:${data.outcome ?? ""}`),
  });
  const result = await gepa({ maxIterations: 2, critique: false, useMerge: false }).run(ctx);

  assert.equal(result.stats.accepted, 1);
  assert.equal(result.stats.rejected, 1);
  assert.deepEqual(events.filter((e) => e.startsWith("gepa_child")), [
    "gepa_child:rejected",
    "gepa_child:accepted",
  ]);
  // seed on dev (2) + two iterations of parent and child minibatches (2 x 6) + dev of the
  // accepted child (2); the rejected child is never scored on dev.
  assert.equal(target.requests.length, 16);
  assert.equal(result.candidates.length, 2);
  assert.equal(result.selected.prompt.instruction, "Answer. RULE-A");
  assert.equal(result.selected.dev.score, 0.5);
  assert.deepEqual(result.curve.map((p) => [p.calls, p.bestDevScore]), [[2, 0], [16, 0.5]]);

  const first = optimizer.requests[0]?.messages.at(-1)?.content ?? "";
  assert.match(first, /^Prompt component: instruction$/m);
  assert.match(first, /Current text:\n```\nAnswer\.\n```/);
  assert.match(first, /^Gold answer: ans-A-\d$/m);
  assert.match(first, /^Score: 0\.00 \(not full credit\)$/m);
});

Deno.test("GEPA stops at the budget without overspending", async () => {
  const target = ruleTarget();
  const optimizer = new ScriptedChatModel(() => JSON.stringify({ new_text: "Answer. RULE-A" }));
  const ctx = ruleContext(target, optimizer, {
    data: { train: ruleExamples("AAA", "t"), dev: ruleExamples("AB", "d") },
    budgetCalls: 9,
  });
  const result = await gepa({ critique: false }).run(ctx);
  // The seed costs 2; a mutation needs 2 x 3 + 2 = 8 more, which 7 left cannot pay.
  assert.equal(target.requests.length, 2);
  assert.match(result.stopReason, /^budget: /);
  assert.equal(optimizer.requests.length, 0);
});

Deno.test("GEPA merges two sibling branches that improved different components", async () => {
  const target = ruleTarget();
  const optimizer = new ScriptedChatModel((request) => {
    const text = request.messages.at(-1)!.content;
    const component = /^Prompt component: (\w+)$/m.exec(text)?.[1];
    // The instruction fix is found only from the seed's traces (nothing right yet), so the
    // two fixes end up on sibling branches.
    const fromSeed = !/\(full credit\)/.test(text);
    const instruction = fromSeed
      ? "Answer. RULE-A"
      : /Current text:\n```\n(.*)\n```/.exec(text)![1];
    return JSON.stringify({
      new_text: component === "system" ? "Be brief. RULE-B" : instruction,
    });
  });
  const events: Record<string, unknown>[] = [];
  const ctx = {
    ...ruleContext(target, optimizer, {
      // Kind N is right only without rules, so the seed stays on the front and can be a
      // parent twice: one child fixes B through the system, the other A through the
      // instruction, and only their merge fixes both.
      data: { train: ruleExamples("AB", "t"), dev: ruleExamples("ABN", "d") },
      budgetCalls: 200,
      record: (kind: string, data: Record<string, unknown>) => {
        if (kind === "gepa_merge" || kind === "gepa_program") events.push({ kind, ...data });
      },
    }),
    task: ruleTask({ system: "Be brief.", instruction: "Answer." }),
  };
  const result = await gepa({ critique: false, maxIterations: 12 }).run(ctx);
  const merge = events.find((e) => e.kind === "gepa_merge");
  assert.ok(merge, JSON.stringify(events));
  assert.equal(merge.kept, true);
  assert.equal(result.stats.mergesAccepted, 1);
  assert.deepEqual(result.selected.prompt, {
    system: "Be brief. RULE-B",
    instruction: "Answer. RULE-A",
  });
  assert.match(result.selected.origin, /^merge of \d and \d$/);
  assert.equal(result.selected.dev.score, 2 / 3);
  assert.equal(target.requests.length, ctx.callsUsed());
});

Deno.test("confidence-aware GEPA: calibration in the feedback and the reflection request", async () => {
  const example = ruleExamples("A")[0]!;
  const trace = {
    exampleId: example.id,
    messages: [],
    rawText: "",
    parsed: { reasoning: "", answer: "wrong", confidence: 0.9 },
    score: 0,
    full: false,
    impact: 1,
    details: {},
    usage: { inputTokens: 0, cachedTokens: 0, outputTokens: 0 },
    latencyMs: 0,
  };
  const ctx = { task: ruleTask() };
  const plain = await traceFeedback(null, ctx, example, trace);
  assert.ok(!plain.includes("Confidence:"));
  const aware = await traceFeedback(null, ctx, example, trace, { calibration: true });
  assert.match(
    aware,
    /^Confidence: 0\.90 stated, outcome 0\.00: squared error 0\.81, overconfident$/m,
  );
  // HotPotQA-style calibration target: EM (details.calibration_target), not the score.
  const f1 = {
    ...trace,
    score: 0.5,
    details: { calibration_target: 1 },
    parsed: { ...trace.parsed, confidence: 0.95 },
  };
  assert.match(
    confidenceFeedback(f1) ?? "",
    /outcome 1\.00: squared error 0\.00, well calibrated$/,
  );
  assert.equal(confidenceFeedback({ ...trace, parsed: null }), null);
  const [system, user] = reflectionMessages("rules", "instruction", "Answer.", [
    { input: "Q", output: "O", feedback: aware },
  ], { brier: 0.81, avgConfidence: 0.9, score: 0, n: 1 });
  assert.match(system!.content, /stated confidence should match how likely its answer/);
  assert.match(
    user!.content,
    /^Calibration on these examples: Brier 0\.810 over 1 answers \(mean stated confidence 0\.90, mean score 0\.00; lower Brier is better\)$/m,
  );
  const [plainSystem, plainUser] = reflectionMessages("rules", "instruction", "Answer.", []);
  assert.ok(
    !plainSystem!.content.includes("confidence") && !plainUser!.content.includes("Calibration"),
  );
});

Deno.test("confidence-aware GEPA keeps a child that only improves calibration; plain GEPA does not", async () => {
  // Always wrong; confident unless the prompt says CALIBRATE.
  const target = new ScriptedChatModel((request) => {
    const text = request.messages.map((m) => m.content).join("\n");
    return JSON.stringify({
      reasoning: "",
      answer: "wrong",
      confidence: text.includes("CALIBRATE") ? 0.1 : 0.9,
    });
  }, { provider: "scripted", model: "calibration-target" });
  const run = async (confidenceAware: boolean) => {
    const t = new ScriptedChatModel((r) => target.chat(r).then((x) => x.text), {
      provider: "scripted",
      model: `calibration-${confidenceAware}`,
    });
    const optimizer = new ScriptedChatModel(() =>
      JSON.stringify({ new_text: "Answer. CALIBRATE" })
    );
    const ctx = ruleContext(t, optimizer, {
      data: { train: ruleExamples("AAA", "t"), dev: ruleExamples("AA", "d") },
      budgetCalls: 40,
    });
    return await gepa({ critique: false, useMerge: false, maxIterations: 1, confidenceAware }).run(
      ctx,
    );
  };
  const plain = await run(false);
  assert.equal(plain.stats.accepted, 0);
  assert.equal(plain.stats.rejected, 1);
  const aware = await run(true);
  assert.equal(aware.method, "gepa-ca");
  assert.equal(aware.stats.accepted, 1);
  assert.equal(aware.selected.prompt.instruction, "Answer. CALIBRATE");
  // Selection with the Brier term prefers the calibrated prompt at equal score.
  assert.ok((aware.selected.dev.brier as number) < 0.1, String(aware.selected.dev.brier));
});

Deno.test("gepa-ca optimizes calibration on the simulator, from the calibration text it is given", async () => {
  const requests: string[] = [];
  const models = (): RawModels => {
    const optimizer = createSimChatModel("optimizer", { seed: 0 });
    return {
      target: createSimChatModel("target", { seed: 0 }),
      optimizer: {
        provider: optimizer.provider,
        model: optimizer.model,
        chat(request, options) {
          requests.push(request.messages.map((m) => m.content).join("\n"));
          return optimizer.chat(request, options);
        },
      },
    };
  };
  const result = await compare({
    task: "synthetic",
    methods: ["gepa-ca"],
    budgetCalls: 300,
    limits: { train: 20, dev: 20, test: 20 },
    models,
  });
  const row = result.rows[0]!;
  assert.equal(row.method, "gepa-ca");
  const reflections = requests.filter((r) => r.includes("Examples with feedback:"));
  assert.ok(reflections.length > 0);
  assert.ok(reflections.every((r) => /^Calibration on these examples: Brier /m.test(r)));
  assert.ok(reflections.some((r) => /^Confidence: .*overconfident$/m.test(r)));
  // The seed's dev Brier drops: the simulated target states calibrated confidence once a
  // prompt asks for it, and the variant keeps such children.
  assert.ok(
    (row.final.dev.brier as number) < (row.initial.dev.brier as number) - 0.1,
    `${row.initial.dev.brier} -> ${row.final.dev.brier}`,
  );
  assert.ok((row.final.test?.brier as number) < (row.initial.test.brier as number));
});
