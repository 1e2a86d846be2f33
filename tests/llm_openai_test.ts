import assert from "node:assert/strict";
import { z } from "zod";
import { isStrictCompatible, OpenAIChatModel, OpenAIEmbedder } from "../lib/llm/openai.ts";
import { type ChatRequest, toJsonSchema } from "../lib/llm/schema.ts";
import { ask, startScriptedServer } from "./support/fake_server.ts";
import { failure, openAIFailureTests, transportFailureTests } from "./support/provider_contract.ts";

const KEY = "sk-test-SECRET-4242";

function client(url: string, model = "m") {
  return new OpenAIChatModel({ model, apiKey: KEY, baseURL: `${url}/v1` });
}

transportFailureTests("openai", (url) => client(url), KEY);
// The Responses path registers the same tests in llm_openai_responses_test.ts.
openAIFailureTests("openai", client, KEY);

Deno.test("openai: plain chat returns text, usage incl. cached tokens and the raw finish reason", async () => {
  await using server = startScriptedServer([
    { text: "4", usage: { inputTokens: 12, cachedTokens: 8, outputTokens: 1 } },
  ]);
  const res = await client(server.url).chat({ ...ask, temperature: 0.3, maxTokens: 20, seed: 7 });
  assert.deepEqual(res, {
    text: "4",
    toolCalls: [],
    usage: { inputTokens: 12, cachedTokens: 8, outputTokens: 1 },
    finishReason: "stop",
    provider: "openai",
    model: "m",
  });
  const body = server.requests[0]?.body as Record<string, unknown>;
  assert.equal(body.model, "m");
  assert.equal(body.temperature, 0.3);
  assert.equal(body.max_tokens, 20);
  assert.equal(body.seed, 7);
  assert.equal(body.max_completion_tokens, undefined);
  assert.deepEqual(server.model.requests[0], { ...ask, temperature: 0.3, maxTokens: 20, seed: 7 });
});

Deno.test("openai: reasoning models get no temperature and max_completion_tokens", async () => {
  await using server = startScriptedServer(["ok", "ok"], { names: ["gpt-5-mini", "o3"] });
  for (const name of ["gpt-5-mini", "o3"]) {
    await client(server.url, name).chat({ ...ask, temperature: 0.7, maxTokens: 99 });
  }
  for (const recorded of server.requests) {
    const body = recorded.body as Record<string, unknown>;
    assert.equal(body.temperature, undefined);
    assert.equal(body.max_tokens, undefined);
    assert.equal(body.max_completion_tokens, 99);
  }
});

Deno.test("openai: a tool-call round trip", async () => {
  await using server = startScriptedServer((req) => {
    const last = req.messages.at(-1);
    if (last?.role === "tool") return `The sum is ${last.content}.`;
    return { toolCalls: [{ id: "call_add", name: "add", arguments: { a: 2, b: 2 } }] };
  });
  const model = client(server.url);
  const tools = [{
    name: "add",
    description: "Adds two numbers",
    parameters: toJsonSchema(z.object({ a: z.number(), b: z.number() }).strict()),
  }];
  const first = await model.chat({ ...ask, tools, toolChoice: "required" });
  assert.equal(first.finishReason, "tool_calls");
  assert.deepEqual(first.toolCalls, [{ id: "call_add", name: "add", arguments: '{"a":2,"b":2}' }]);
  const call = first.toolCalls[0]!;
  const args = JSON.parse(call.arguments) as { a: number; b: number };
  const request: ChatRequest = {
    messages: [
      ...ask.messages,
      { role: "assistant", content: first.text, toolCalls: first.toolCalls },
      { role: "tool", content: String(args.a + args.b), toolCallId: call.id, name: call.name },
    ],
    tools,
  };
  const second = await model.chat(request);
  assert.equal(second.text, "The sum is 4.");
  assert.deepEqual(server.model.requests[1]?.messages.slice(1), [
    { role: "assistant", content: "", toolCalls: first.toolCalls },
    { role: "tool", content: "4", toolCallId: "call_add", name: "add" },
  ]);
  const wire = server.requests[0]?.body as { tools: unknown[]; tool_choice: string };
  assert.equal(wire.tool_choice, "required");
  assert.deepEqual(wire.tools[0], {
    type: "function",
    function: {
      name: "add",
      description: "Adds two numbers",
      parameters: tools[0]!.parameters,
      strict: true,
    },
  });
});

Deno.test("openai: structured output is parsed and validates into a zod type", async () => {
  const Answer = z.object({ answer: z.string(), confidence: z.number().min(0).max(1) }).strict();
  await using server = startScriptedServer(['{"answer": "4", "confidence": 0.9}']);
  const res = await client(server.url).chat({
    ...ask,
    outputSchema: { name: "answer", schema: toJsonSchema(Answer) },
  });
  const value: z.infer<typeof Answer> = Answer.parse(res.parsed);
  assert.deepEqual(value, { answer: "4", confidence: 0.9 });
  const body = server.requests[0]?.body as { response_format: unknown };
  assert.deepEqual(body.response_format, {
    type: "json_schema",
    json_schema: { name: "answer", schema: toJsonSchema(Answer), strict: true },
  });
  assert.equal(server.model.requests[0]?.outputSchema?.name, "answer");
});

Deno.test("openai: strict mode is asked only for schemas that meet its rules", () => {
  assert.equal(isStrictCompatible(toJsonSchema(z.object({ a: z.string() }).strict())), true);
  assert.equal(
    isStrictCompatible(toJsonSchema(z.object({ a: z.string().optional() }).strict())),
    false,
  );
  assert.equal(
    isStrictCompatible({ type: "object", properties: { a: { type: "string" } } }),
    false,
  );
  assert.equal(
    isStrictCompatible({
      type: "object",
      properties: { xs: { type: "array", items: { type: "object", properties: {} } } },
      required: ["xs"],
      additionalProperties: false,
    }),
    false,
  );
});

Deno.test("openai: embeddings come back in order, batched, with usage", async () => {
  await using server = startScriptedServer([]);
  const embedder = new OpenAIEmbedder({
    model: "e",
    apiKey: KEY,
    baseURL: `${server.url}/v1`,
    provider: "openai-compatible",
    batchSize: 2,
  });
  const res = await embedder.embed(["a", "bb", "ccc"]);
  assert.deepEqual(res.vectors, [[1, 1, 0], [2, 1, 0], [3, 1, 0]]);
  assert.equal(res.usage.inputTokens, 3);
  assert.deepEqual(server.embedder.requests, [["a", "bb"], ["ccc"]]);
  assert.equal((server.requests[0]?.body as { encoding_format: string }).encoding_format, "float");
  assert.equal(embedder.baseURL, `${server.url}/v1`);
  server.faults.queue = [{ kind: "status", status: 503 }];
  const error = await failure(embedder.embed(["x"]));
  assert.equal(error.status, 503);
  assert.match(error.message, /^openai-compatible:e/);
});
