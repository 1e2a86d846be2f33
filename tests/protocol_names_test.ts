/**
 * The product and the simulator share the loop's names through `lib/protocol_names.ts`.
 * These tests fail if the messages the loop sends and the ones the simulator recognises
 * drift apart: unit checks on each message, and a real run in which the simulated
 * optimizer must recognise a rejection to recover from it.
 */
import assert from "node:assert/strict";
import {
  iterationMessage,
  missingToolMessage,
  patchRejectedMessage,
} from "../lib/revise/controller.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { currentPrompt, rejections } from "../lib/sim/optimizer.ts";
import {
  DECISION_SCHEMA_NAME,
  DIAGNOSE_TOOL,
  ITERATION_PREFIX,
  MISSING_TOOL_PREFIX,
  PATCH_REJECTED_PREFIX,
} from "../lib/protocol_names.ts";
import { optimize } from "../lib/revise/optimize.ts";
import type { ChatMessage } from "../lib/llm/schema.ts";
import type { Decision } from "../lib/run/schema.ts";
import { tempDir } from "./support/toy_loop.ts";

const PROMPT = { system: "You answer.", instruction: "Answer the question.\nGive JSON." };

Deno.test("the loop's messages begin with the shared names", () => {
  assert.ok(iterationMessage(2, 5, PROMPT).startsWith(`${ITERATION_PREFIX} 2 of 5`));
  assert.ok(missingToolMessage("no call").startsWith(MISSING_TOOL_PREFIX));
  assert.ok(patchRejectedMessage("too long").startsWith(`${PATCH_REJECTED_PREFIX} too long`));
  assert.ok(MISSING_TOOL_PREFIX.includes(DIAGNOSE_TOOL));
});

Deno.test("the simulated optimizer reads the prompt and the rejections the loop writes", () => {
  const messages: ChatMessage[] = [
    { role: "system", content: "controller" },
    { role: "user", content: iterationMessage(1, 3, PROMPT) },
    { role: "user", content: patchRejectedMessage("a reason") },
    { role: "user", content: patchRejectedMessage("another reason") },
  ];
  assert.deepEqual(currentPrompt(messages, undefined), PROMPT);
  const seen = rejections(messages);
  assert.equal(seen.count, 2);
  assert.ok(seen.last?.includes("another reason"));
});

Deno.test("the simulated optimizer calls the tool again when told it must", async () => {
  const optimizer = createSimChatModel("optimizer", { dataDir: "/nonexistent" });
  const tools = [{ name: DIAGNOSE_TOOL, description: "d", parameters: { type: "object" } }];
  const messages: ChatMessage[] = [
    { role: "user", content: iterationMessage(1, 3, PROMPT) },
    {
      role: "assistant",
      content: "",
      toolCalls: [{ id: "c1", name: DIAGNOSE_TOOL, arguments: "{" }],
    },
    { role: "tool", toolCallId: "c1", name: DIAGNOSE_TOOL, content: "error: not valid JSON" },
    { role: "user", content: missingToolMessage("the arguments were not valid JSON") },
  ];
  // With a tool result in the conversation, only the re-ask makes the optimizer call again.
  const res = await optimizer.chat({ messages, tools, toolChoice: "auto" });
  assert.equal(res.toolCalls[0]?.name, DIAGNOSE_TOOL);
  const decided = await optimizer.chat({
    messages: messages.slice(0, 3),
    tools,
    toolChoice: "auto",
  });
  assert.equal(decided.toolCalls.length, 0);
});

/** The simulated optimizer, except that its first patch carries meta-edit text. */
function optimizerWithBadFirstPatch(): ChatModel & { rejectedRationale?: string } {
  const sim = createSimChatModel("optimizer", { seed: 0 });
  const wrapper: ChatModel & { rejectedRationale?: string } = {
    provider: sim.provider,
    model: sim.model,
    async chat(request, options) {
      const res = await sim.chat(request, options);
      const decision = res.parsed as Decision | undefined;
      if (
        wrapper.rejectedRationale !== undefined ||
        request.outputSchema?.name !== DECISION_SCHEMA_NAME || decision?.action !== "patch" ||
        decision.patch?.instruction === undefined
      ) {
        return res;
      }
      wrapper.rejectedRationale = decision.patch.rationale;
      const bad = {
        ...decision,
        patch: { ...decision.patch, instruction: `[Revised] ${decision.patch.instruction}` },
      };
      return { ...res, parsed: bad, text: JSON.stringify(bad) };
    },
  };
  return wrapper;
}

const TAG = /\[sim-edit ([\w.]+)#\d+\]/;

Deno.test("a real run: the simulated optimizer recognises a rejected patch and recovers", async () => {
  await using dir = await tempDir();
  const optimizer = optimizerWithBadFirstPatch();
  const result = await optimize({
    task: "synthetic",
    target: "sim:target",
    optimizer: "sim:optimizer",
    critic: "sim:critic",
    embedder: "sim:embed",
    iterations: 2,
    // Calibration is a goal, so a second behaviour is left to patch after the skipped one.
    confidenceAware: true,
    k: 6,
    limits: { train: 60, dev: 20, test: 20 },
    cache: `${dir.path}/cache.sqlite`,
  }, { runDir: `${dir.path}/run`, models: { optimizer } });
  const first = result.summary!.steps[0]!;
  assert.equal(first.decisionAttempts, 2);
  assert.equal(first.rejections.length, 1);
  assert.match(first.rejections[0]!, /meta-edit text/);
  assert.equal(first.action, "patch", String(first.stopReason));
  // After "Patch rejected:", the simulator skips the behaviour of the rejected edit; had it
  // not recognised the message, it would have proposed the same edit again.
  const rejected = TAG.exec(optimizer.rejectedRationale ?? "")?.[1];
  const accepted = TAG.exec(first.rationale ?? "")?.[1];
  assert.ok(rejected !== undefined && accepted !== undefined, String(first.rationale));
  assert.notEqual(accepted, rejected);
  assert.ok(!result.summary!.selected.prompt.instruction.includes("[Revised]"));
  // The run goes on: the second iteration is diagnosed and decided without rejections.
  assert.equal(result.summary!.steps[1]?.kind, "iteration");
  assert.deepEqual(result.summary!.steps[1]?.rejections, []);
});

Deno.test("confidence-aware GEPA's lines begin with the shared names the simulator reads", async () => {
  const { calibrationLine, confidenceFeedback, reflectionMessages } = await import(
    "../lib/baselines/gepa.ts"
  );
  const { answerBaselineRequest } = await import("../lib/sim/baselines.ts");
  const { GEPA_CALIBRATION_PREFIX, GEPA_CONFIDENCE_PREFIX, GEPA_REFLECTION_SCHEMA, OVERCONFIDENT } =
    await import("../lib/protocol_names.ts");
  const line = confidenceFeedback({
    score: 0,
    details: {},
    parsed: { reasoning: "", answer: "x", confidence: 0.95 },
  });
  assert.ok(line?.startsWith(`${GEPA_CONFIDENCE_PREFIX} `) && line.endsWith(OVERCONFIDENT));
  const calibration = { brier: 0.9, avgConfidence: 0.95, score: 0, n: 2 };
  assert.ok(calibrationLine(calibration).startsWith(GEPA_CALIBRATION_PREFIX));
  const feedback = `Score: 0.00 (not full credit)\nGold answer: 4\n${line}`;
  const records = [1, 2].map(() => ({ input: "Question: q", output: "{}", feedback }));
  const ask = (calibrated: boolean) =>
    answerBaselineRequest({
      messages: reflectionMessages(
        "synthetic",
        "instruction",
        "Answer the question.",
        records,
        calibrated ? calibration : undefined,
      ),
      outputSchema: { name: GEPA_REFLECTION_SCHEMA, schema: {} },
    })?.parsed as { new_text: string };
  // Only the confidence-aware request makes the simulated reflection address calibration.
  assert.equal(ask(false).new_text, "Answer the question.");
  assert.notEqual(ask(true).new_text, "Answer the question.");
  assert.match(ask(true).new_text, /confiden|probabilit|sure|certain/i);
});
