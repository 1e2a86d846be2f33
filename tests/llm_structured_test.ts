import assert from "node:assert/strict";
import { z } from "zod";
import { BudgetExceededError, ProviderError } from "../lib/llm/model.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { callStructured, structuredValue } from "../lib/llm/structured.ts";

const Schema = z.object({ n: z.number() });
const judge = (v: unknown) => {
  const parsed = Schema.safeParse(v);
  return parsed.success
    ? { ok: true as const, value: parsed.data.n }
    : { ok: false as const, error: "n must be a number" };
};
const ask = [{ role: "user" as const, content: "a number" }];

Deno.test("callStructured: malformed answers are retried as new samples, then reported", async () => {
  const model = new ScriptedChatModel(["no JSON", '{"n": "x"}', "still none"]);
  const out = await callStructured(model, ask, {
    name: "number",
    schema: Schema,
    maxAttempts: 3,
    what: "number",
    temperature: 0.5,
  }, judge);
  assert.deepEqual(out, {
    attempts: 3,
    error: "malformed number (attempt 3): n must be a number",
  });
  assert.deepEqual(model.requests.map((r) => r.sampleIndex), [undefined, 1, 2]);
  assert.deepEqual(model.requests.map((r) => r.temperature), [0.5, 0.5, 0.5]);
  assert.equal(model.requests[0]?.outputSchema?.name, "number");
  assert.equal(model.requests[0]?.outputSchema?.schema.type, "object");
});

Deno.test("callStructured: a provider error ends the attempts without throwing", async () => {
  const failure = new ProviderError({
    provider: "p",
    model: "m",
    message: "boom",
    retryable: true,
  });
  const model = new ScriptedChatModel(['{"n": "x"}', failure]);
  const out = await callStructured(
    model,
    ask,
    { name: "number", schema: Schema, maxAttempts: 5 },
    judge,
  );
  assert.deepEqual(out, { attempts: 2, error: "p:m: boom", providerFailed: true });
});

Deno.test("callStructured: a spent budget stops the job", async () => {
  const model = new ScriptedChatModel([new BudgetExceededError("call budget of 1 reached")]);
  await assert.rejects(
    callStructured(model, ask, { name: "number", schema: Schema, maxAttempts: 3 }, judge),
    BudgetExceededError,
  );
});

Deno.test("structuredValue: parsed first, else the first JSON object in the text", () => {
  assert.deepEqual(structuredValue({ parsed: { n: 1 }, text: '{"n": 2}' }), { n: 1 });
  assert.deepEqual(structuredValue({ text: 'Here:\n```json\n{"n": 2}\n```' }), { n: 2 });
  assert.equal(structuredValue({ text: "none" }), undefined);
});
