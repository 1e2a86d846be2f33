import assert from "node:assert/strict";
import { z } from "zod";
import { GeminiChatModel, GeminiEmbedder } from "../lib/llm/gemini.ts";
import { type ChatRequest, toJsonSchema } from "../lib/llm/schema.ts";
import { ask, startScriptedServer } from "./support/fake_server.ts";
import { failure, transportFailureTests } from "./support/provider_contract.ts";

const KEY = "AIza-test-SECRET-4242";

function client(url: string, model = "m") {
  return new GeminiChatModel({ model, apiKey: KEY, baseURL: url });
}

transportFailureTests("gemini", (url) => client(url), KEY);

type Body = {
  contents: unknown[];
  systemInstruction?: unknown;
  tools?: unknown[];
  toolConfig?: unknown;
  generationConfig?: Record<string, unknown>;
};

Deno.test("gemini: plain chat returns text, usage incl. cached tokens and the raw finish reason", async () => {
  await using server = startScriptedServer([
    { text: "4", usage: { inputTokens: 12, cachedTokens: 8, outputTokens: 1 } },
  ]);
  const res = await client(server.url).chat({
    messages: [{ role: "system", content: "Be brief." }, ...ask.messages],
    temperature: 0.3,
    maxTokens: 20,
    seed: 7,
  });
  assert.deepEqual(res, {
    text: "4",
    toolCalls: [],
    usage: { inputTokens: 12, cachedTokens: 8, outputTokens: 1 },
    finishReason: "STOP",
    provider: "gemini",
    model: "m",
  });
  assert.equal(server.requests[0]?.path, "/v1/models/m:generateContent");
  const body = server.requests[0]?.body as Body;
  assert.deepEqual(body.contents, [{ role: "user", parts: [{ text: "What is 2+2?" }] }]);
  assert.deepEqual(body.systemInstruction, { role: "user", parts: [{ text: "Be brief." }] });
  assert.deepEqual(body.generationConfig, { temperature: 0.3, maxOutputTokens: 20, seed: 7 });
  assert.deepEqual(server.model.requests[0], {
    messages: [{ role: "system", content: "Be brief." }, ...ask.messages],
    temperature: 0.3,
    maxTokens: 20,
    seed: 7,
  });
});

Deno.test("gemini: a tool-call round trip, with call ids synthesised when Gemini sends none", async () => {
  await using server = startScriptedServer((req) => {
    const last = req.messages.at(-1);
    if (last?.role === "tool") return `The sum is ${last.content}.`;
    return { toolCalls: [{ name: "add", arguments: { a: 2, b: 2 } }] };
  });
  const model = client(server.url);
  const tools = [{
    name: "add",
    description: "Adds two numbers",
    parameters: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      ...toJsonSchema(z.object({ a: z.number(), b: z.number() })),
    },
  }];
  const first = await model.chat({ ...ask, tools, toolChoice: "required" });
  assert.equal(first.finishReason, "STOP");
  assert.equal(first.toolCalls.length, 1);
  const call = first.toolCalls[0]!;
  assert.equal(call.name, "add");
  assert.deepEqual(JSON.parse(call.arguments), { a: 2, b: 2 });
  assert.match(call.id, /^synth_/);
  // The same call gets the same id (responses stay cacheable).
  assert.equal((await client(server.url).chat({ ...ask, tools })).toolCalls[0]?.id, call.id);

  const request: ChatRequest = {
    messages: [
      ...ask.messages,
      { role: "assistant", content: first.text, toolCalls: first.toolCalls },
      { role: "tool", content: "4", toolCallId: call.id },
    ],
    tools,
  };
  const second = await model.chat(request);
  assert.equal(second.text, "The sum is 4.");

  const wire = server.requests[0]?.body as Body;
  assert.deepEqual(wire.tools, [{
    functionDeclarations: [{
      name: "add",
      description: "Adds two numbers",
      parametersJsonSchema: toJsonSchema(z.object({ a: z.number(), b: z.number() })),
    }],
  }]);
  assert.deepEqual(wire.toolConfig, { functionCallingConfig: { mode: "ANY" } });
  const replay = server.requests[2]?.body as Body;
  assert.deepEqual(replay.contents.slice(1), [
    { role: "model", parts: [{ functionCall: { name: "add", args: { a: 2, b: 2 } } }] },
    { role: "user", parts: [{ functionResponse: { name: "add", response: { output: "4" } } }] },
  ]);
  const seen = server.model.requests[2]?.messages.slice(1);
  assert.equal(seen?.[1]?.role, "tool");
  assert.equal(seen?.[1]?.content, "4");
  assert.equal(seen?.[1]?.toolCallId, seen?.[0]?.toolCalls?.[0]?.id);
});

Deno.test("gemini: structured output is parsed and validates into a zod type", async () => {
  const Answer = z.object({ answer: z.string(), confidence: z.number().min(0).max(1) });
  await using server = startScriptedServer(['{"answer": "4", "confidence": 0.9}']);
  const res = await client(server.url).chat({
    ...ask,
    outputSchema: { name: "answer", schema: toJsonSchema(Answer) },
  });
  const value: z.infer<typeof Answer> = Answer.parse(res.parsed);
  assert.deepEqual(value, { answer: "4", confidence: 0.9 });
  const config = (server.requests[0]?.body as Body).generationConfig;
  assert.equal(config?.responseMimeType, "application/json");
  assert.deepEqual(config?.responseJsonSchema, { title: "answer", ...toJsonSchema(Answer) });
  // The schema's name survives the wire (the simulator recognises requests by it).
  assert.equal(server.model.requests[0]?.outputSchema?.name, "answer");
});

Deno.test("gemini: tool choice auto and none map to AUTO and NONE", async () => {
  await using server = startScriptedServer(["a", "b"]);
  const tools = [{ name: "f", description: "", parameters: { type: "object" } }];
  await client(server.url).chat({ ...ask, tools, toolChoice: "auto" });
  await client(server.url).chat({ ...ask, tools, toolChoice: "none" });
  assert.deepEqual(server.requests.map((r) => (r.body as Body).toolConfig), [
    { functionCallingConfig: { mode: "AUTO" } },
    { functionCallingConfig: { mode: "NONE" } },
  ]);
  assert.deepEqual(server.model.requests.map((r) => r.toolChoice), ["auto", "none"]);
});

Deno.test("gemini: the thinking level reaches generationConfig.thinkingConfig; absent, none is sent", async () => {
  await using server = startScriptedServer(["a", "b", "c"]);
  await client(server.url).chat({ ...ask, thinkingLevel: "high" });
  await client(server.url).chat({ ...ask, thinkingLevel: "medium" });
  await client(server.url).chat(ask);
  assert.deepEqual(
    server.requests.map((r) => (r.body as Body).generationConfig?.thinkingConfig),
    [{ thinkingLevel: "HIGH" }, { thinkingLevel: "MEDIUM" }, undefined],
  );
});

Deno.test("gemini: 429 with Retry-After is retryable with the delay; 500/503 retryable; 400/404 not", async () => {
  await using server = startScriptedServer([]);
  server.faults.queue = [
    { kind: "status", status: 429, retryAfter: "3" },
    { kind: "status", status: 500 },
    { kind: "status", status: 503 },
    { kind: "status", status: 400 },
  ];
  const model = client(server.url);
  const limited = await failure(model.chat(ask));
  assert.equal(limited.status, 429);
  assert.equal(limited.retryable, true);
  assert.equal(limited.retryAfterMs, 3000);
  assert.match(limited.message, /^gemini:m \(HTTP 429\): RESOURCE_EXHAUSTED: injected fault$/);
  for (const [status, retryable] of [[500, true], [503, true], [400, false]] as const) {
    const error = await failure(model.chat(ask));
    assert.equal(error.status, status);
    assert.equal(error.retryable, retryable);
    assert.equal(error.retryAfterMs, undefined);
  }
  const missing = await failure(client(server.url, "unknown-model").chat(ask));
  assert.equal(missing.status, 404);
  assert.equal(missing.retryable, false);
  assert.match(missing.message, /NOT_FOUND: model unknown-model not found/);
  assert.equal(server.requests.length, 5, "the SDK must not retry on its own");
});

Deno.test("gemini: a truncated tool call is Gemini's MALFORMED_FUNCTION_CALL with no calls", async () => {
  await using server = startScriptedServer([
    { toolCalls: [{ name: "add", arguments: { a: 2, b: 2 } }] },
  ]);
  server.faults.queue = [{ kind: "truncated_tool_call" }];
  const res = await client(server.url).chat(ask);
  assert.equal(res.finishReason, "MALFORMED_FUNCTION_CALL");
  assert.deepEqual(res.toolCalls, []);
  assert.equal(res.text, "");
});

Deno.test("gemini: the API key reaches neither the recorded requests nor error messages", async () => {
  await using server = startScriptedServer(["ok"]);
  server.faults.queue = [{
    kind: "status",
    status: 403,
    body: JSON.stringify({
      error: { code: 403, message: `API key ${KEY} is invalid`, status: "PERMISSION_DENIED" },
    }),
  }];
  const model = client(server.url);
  const error = await failure(model.chat(ask));
  assert.equal(error.status, 403);
  assert.ok(!error.message.includes(KEY), error.message);
  assert.ok(!String(error.stack).includes(KEY));
  await model.chat(ask);
  assert.equal(server.requests[1]?.headers["x-goog-api-key"], "[redacted]");
  assert.ok(!JSON.stringify(server.requests).includes(KEY));
});

Deno.test("gemini: embeddings come back in order, batched", async () => {
  await using server = startScriptedServer([]);
  const embedder = new GeminiEmbedder({
    model: "e",
    apiKey: KEY,
    baseURL: server.url,
    batchSize: 2,
  });
  const res = await embedder.embed(["a", "bb", "ccc"]);
  assert.deepEqual(res.vectors, [[1, 1, 0], [2, 1, 0], [3, 1, 0]]);
  assert.deepEqual(server.embedder.requests, [["a", "bb"], ["ccc"]]);
  assert.equal(server.requests[0]?.path, "/v1/models/e:batchEmbedContents");
  server.faults.queue = [{ kind: "status", status: 429, retryAfter: "1" }];
  const error = await failure(embedder.embed(["x"]));
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterMs, 1000);
});

Deno.test("gemini: a function call's thought signature goes back with the replayed call", async () => {
  const bodies: Body[] = [];
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push(await req.json());
    return Response.json({
      candidates: [{
        content: {
          role: "model",
          parts: [{ functionCall: { name: "add", args: { a: 1 } }, thoughtSignature: "sig-1" }],
        },
        finishReason: "STOP",
      }],
    });
  });
  try {
    const model = client(`http://127.0.0.1:${http.addr.port}`);
    const first = await model.chat(ask);
    const call = first.toolCalls[0]!;
    await model.chat({
      messages: [
        ...ask.messages,
        { role: "assistant", content: "", toolCalls: [call] },
        { role: "tool", content: '{"sum": 1}', toolCallId: call.id, name: "add" },
      ],
    });
    assert.deepEqual(bodies[1]?.contents.slice(1), [
      {
        role: "model",
        parts: [{ functionCall: { name: "add", args: { a: 1 } }, thoughtSignature: "sig-1" }],
      },
      { role: "user", parts: [{ functionResponse: { name: "add", response: { sum: 1 } } }] },
    ]);
  } finally {
    await http.shutdown();
  }
});
