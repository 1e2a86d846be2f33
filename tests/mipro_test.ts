import assert from "node:assert/strict";
import {
  bootstrapDemoSets,
  mipro,
  proposeInstructions,
  TpeSampler,
  withDemos,
} from "../lib/baselines/mipro.ts";
import { CandidateTracker } from "../lib/baselines/optimizer.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { seededRandom } from "../lib/util/random.ts";
import { ruleContext, ruleExamples, ruleTarget, ruleTask } from "./support/rule_task.ts";

function proposer(): ScriptedChatModel {
  const proposals = ["Answer. RULE-B", "Answer. RULE-B", "Answer. RULE-A RULE-B"];
  return new ScriptedChatModel((request) => {
    if (request.outputSchema?.name === "mipro_dataset_summary") {
      return JSON.stringify({ summary: "S: questions about rules" });
    }
    assert.equal(request.outputSchema?.name, "mipro_instructions");
    return JSON.stringify({ instruction: proposals.shift() ?? "Answer." });
  });
}

Deno.test("TpeSampler explores at random first, then exploits the good categories", () => {
  const a = new TpeSampler([4, 3], { seed: 5, startupTrials: 3 });
  const b = new TpeSampler([4, 3], { seed: 5, startupTrials: 3 });
  const first = [a.suggest(), a.suggest(), a.suggest()];
  assert.deepEqual(first, [b.suggest(), b.suggest(), b.suggest()]);
  for (const p of first) assert.ok(p[0]! >= 0 && p[0]! < 4 && p[1]! >= 0 && p[1]! < 3);
  // Six trials: (3, 1) scores best twice; the sampler must pick it.
  const tpe = new TpeSampler([4, 3], { seed: 1, startupTrials: 2 });
  for (
    const [params, score] of [[[3, 1], 0.9], [[0, 0], 0.1], [[1, 2], 0.2], [[3, 1], 0.8], [
      [2, 0],
      0.1,
    ], [[0, 2], 0.3]] as const
  ) {
    tpe.tell(params, score);
  }
  assert.deepEqual(tpe.suggest(), [3, 1]);
});

Deno.test("bootstrapDemoSets keeps the correct traces as demos and builds the demo sets", async () => {
  const target = ruleTarget();
  const ctx = {
    ...ruleContext(target, proposer(), {
      data: { train: ruleExamples("ABABAB", "t"), dev: ruleExamples("AB", "d") },
      budgetCalls: 50,
    }),
    task: ruleTask({ system: "", instruction: "Answer. RULE-A" }),
  };
  const tracker = new CandidateTracker("mipro", ctx);
  const boot = await bootstrapDemoSets(tracker, {
    sets: 4,
    maxBootstrapped: 3,
    maxLabeled: 3,
    examples: 4,
    random: seededRandom(3),
  });
  assert.equal(boot.tried, 4);
  assert.equal(target.requests.length, 4);
  const triedA = target.requests.filter((r) => /Question: t-A-/.test(r.messages.at(-1)!.content));
  assert.equal(boot.successes.length, triedA.length);
  for (const d of boot.successes) {
    assert.match(d.exampleId, /^t-A-\d$/);
    assert.equal(d.answer, d.exampleId.replace(/^t/, "ans"));
    assert.equal(d.reasoning, "the rule says so");
  }
  assert.equal(boot.sets.length, 4);
  assert.deepEqual(boot.sets[0], []);
  // Labelled demos come from the examples not run: the remaining 2, with gold answers.
  assert.equal(boot.sets[1]!.length, 2);
  for (const d of boot.sets[1]!) {
    assert.equal(d.reasoning, undefined);
    assert.equal(d.answer, d.exampleId.replace(/^t/, "ans"));
  }
  const ids = new Set(boot.successes.map((d) => d.exampleId));
  for (const set of boot.sets.slice(2)) {
    assert.ok(set.length >= 1 && set.length <= 3);
    for (const d of set) assert.ok(ids.has(d.exampleId));
  }
  const p = withDemos({ system: "", instruction: "Answer." }, boot.sets[1]!, "reasoning");
  assert.match(p.instruction, /^Worked examples:\n#1 Question: t-\w-\d: /m);
});

Deno.test("proposeInstructions grounds each proposal in the summary and drops duplicates", async () => {
  const optimizer = proposer();
  const ctx = ruleContext(ruleTarget(), optimizer, {
    data: { train: ruleExamples("AB", "t"), dev: ruleExamples("AB", "d") },
    budgetCalls: 10,
  });
  const { instructions, summary } = await proposeInstructions(ctx, {
    n: 4,
    sets: [[], [{ exampleId: "t-A-0", question: "t-A-0: q", answer: "ans-A-0" }]],
    random: seededRandom(1),
  });
  assert.equal(summary, "S: questions about rules");
  assert.deepEqual(instructions, ["Answer.", "Answer. RULE-B", "Answer. RULE-A RULE-B"]);
  assert.deepEqual(optimizer.requests.map((r) => r.outputSchema?.name), [
    "mipro_dataset_summary",
    "mipro_instructions",
    "mipro_instructions",
    "mipro_instructions",
  ]);
  const first = optimizer.requests[1]!.messages.at(-1)!.content;
  assert.match(first, /^Dataset summary: S: questions about rules$/m);
  assert.match(first, /^Proposal: 1$/m);
  assert.match(first, /^Tip: .+/m);
  assert.match(first, /Answer: ans-A-0/);
});

Deno.test("MIPRO's search finds the best (instruction, demos) combination within the budget", async () => {
  const target = ruleTarget();
  const ctx = ruleContext(target, proposer(), {
    data: { train: ruleExamples("ABABAB", "t"), dev: ruleExamples("AB", "d") },
    budgetCalls: 60,
  });
  const result = await mipro({ numInstructions: 4, minibatchSize: 2, fullEvalEvery: 2 }).run(ctx);
  assert.ok(target.requests.length <= 60, `${target.requests.length} calls`);
  assert.equal(result.candidates[0]?.origin, "seed (zero-shot)");
  assert.equal(result.selected.dev.score, 1);
  assert.match(result.selected.prompt.instruction, /^Answer\. RULE-A RULE-B/);
  assert.ok(result.stats.trials! >= 2);
  assert.equal(result.stats.instructions, 3);
  assert.equal(result.curve.at(-1)?.bestDevScore, 1);
});
