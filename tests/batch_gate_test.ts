/**
 * {@linkcode BatchGate}: the calls a piece of work announces are gathered into one flush, in
 * order; calls beyond them, calls outside the work and calls of other work through the same
 * model go to the inner model; a failed line is the call's failure; work that fails before
 * making its calls leaves none hanging.
 */
import assert from "node:assert/strict";
import { BatchGate } from "../lib/llm/batch/gate.ts";
import type { BatchItem } from "../lib/llm/batch/run_batch.ts";
import { ProviderError } from "../lib/llm/model.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import type { ChatRequest, ChatResponse } from "../lib/llm/schema.ts";

const ask = (content: string): ChatRequest => ({ messages: [{ role: "user", content }] });

function answer(text: string): ChatResponse {
  return {
    text,
    toolCalls: [],
    finishReason: "stop",
    provider: "scripted",
    model: "scripted",
    usage: { inputTokens: 1, cachedTokens: 0, outputTokens: 1 },
  };
}

function gateOver(inner: ScriptedChatModel) {
  const flushes: { label: string; texts: string[] }[] = [];
  const gate = new BatchGate<string>(inner, (label, requests) => {
    flushes.push({ label, texts: requests.map((r) => r.messages[0]!.content) });
    return Promise.resolve(requests.map((r): BatchItem => {
      const text = r.messages[0]!.content;
      return text === "bad"
        ? {
          ok: false,
          source: "ordinary",
          error: new ProviderError({
            provider: "scripted",
            model: "scripted",
            retryable: false,
            message: "line failed",
          }),
        }
        : { ok: true, source: "batch", response: answer(`batch:${text}`) };
    }));
  });
  return { gate, flushes };
}

Deno.test("the announced calls go as one flush in order; later and outside calls go to the model", async () => {
  const inner = new ScriptedChatModel(["inner-1", "inner-2", "inner-3"]);
  const { gate, flushes } = gateOver(inner);
  const out = await gate.gather("dev", 3, async () => {
    const first = await Promise.all(["a", "b", "c"].map((t) => gate.model.chat(ask(t))));
    // A follow-up call (a critic's retry) once the batch answered: an ordinary call.
    const again = await gate.model.chat(ask("retry"));
    return [...first, again].map((r) => r.text);
  });
  assert.deepEqual(out, ["batch:a", "batch:b", "batch:c", "inner-1"]);
  assert.deepEqual(flushes, [{ label: "dev", texts: ["a", "b", "c"] }]);
  assert.equal((await gate.model.chat(ask("outside"))).text, "inner-2");
  assert.deepEqual(inner.requests.map((r) => r.messages[0]!.content), ["retry", "outside"]);
});

Deno.test("other work through the same model meanwhile is not gathered", async () => {
  const inner = new ScriptedChatModel(["inner"]);
  const { gate, flushes } = gateOver(inner);
  let release: () => void = () => {};
  const started = new Promise<void>((r) => (release = r));
  const gathered = gate.gather("dev", 2, async () => {
    const a = gate.model.chat(ask("a"));
    await started; // the other work calls while this one has made only one call
    return await Promise.all([a, gate.model.chat(ask("b"))]);
  });
  const other = gate.model.chat(ask("other"));
  release();
  assert.equal((await other).text, "inner");
  assert.deepEqual((await gathered).map((r) => r.text), ["batch:a", "batch:b"]);
  assert.deepEqual(flushes.map((f) => f.texts), [["a", "b"]]);
});

Deno.test("a line the batch could not answer is that call's failure; failed work leaves nothing hanging", async () => {
  const { gate } = gateOver(new ScriptedChatModel([]));
  const settled = await gate.gather(
    "dev",
    2,
    () => Promise.allSettled([gate.model.chat(ask("ok")), gate.model.chat(ask("bad"))]),
  );
  assert.equal(settled[0]?.status, "fulfilled");
  assert.equal(settled[1]?.status, "rejected");
  assert.match(String((settled[1] as PromiseRejectedResult).reason), /line failed/);

  let held: Promise<ChatResponse> | undefined;
  await assert.rejects(
    gate.gather("dev", 3, () => {
      held = gate.model.chat(ask("a"));
      return Promise.reject(new Error("render failed"));
    }),
    /render failed/,
  );
  await assert.rejects(held!, /ended before its calls were all made/);
});
