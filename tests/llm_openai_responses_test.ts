import assert from "node:assert/strict";
import { z } from "zod";
import { run as runSimServer, startSimServer } from "../lib/cli/sim_server.ts";
import { UsageLedger } from "../lib/llm/accounting.ts";
import { SqliteResponseCache } from "../lib/llm/cache.ts";
import { GeminiChatModel } from "../lib/llm/gemini.ts";
import { OpenAIChatModel } from "../lib/llm/openai.ts";
import { OpenAIResponsesModel } from "../lib/llm/openai_responses.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { createChatModel, createEmbedder } from "../lib/llm/spec.ts";
import { wrapChatModel } from "../lib/llm/wrap.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import {
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  toJsonSchema,
} from "../lib/llm/schema.ts";
import { Decision, DiagnoseArgs } from "../lib/run/schema.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { ask, startScriptedServer } from "./support/fake_server.ts";
import { failure, openAIFailureTests, transportFailureTests } from "./support/provider_contract.ts";

const KEY = "sk-test-RESPONSES-4242";

function client(url: string, model = "m") {
  return new OpenAIResponsesModel({ model, apiKey: KEY, baseURL: `${url}/v1` });
}

type Body = Record<string, unknown> & { input: Record<string, unknown>[] };

function body(server: { requests: { path: string; body: unknown }[] }, index: number): Body {
  const recorded = server.requests[index];
  assert.equal(recorded?.path, "/v1/responses");
  return recorded.body as Body;
}

// The same contract as the Chat Completions path (tests/llm_openai_test.ts).
transportFailureTests("openai responses", (url) => client(url), KEY);
openAIFailureTests("openai responses", client, KEY);

const add = {
  name: "add",
  description: "Adds two numbers",
  parameters: toJsonSchema(z.object({ a: z.number(), b: z.number() }).strict()),
};
const note = {
  name: "note",
  description: "Takes an optional note",
  parameters: toJsonSchema(z.object({ text: z.string().optional() })),
};

/** Calls `add` first, then answers with the sum the tool returned. */
function adder(req: ChatRequest) {
  const last = req.messages.at(-1);
  if (last?.role === "tool") return `The sum is ${last.content}.`;
  return {
    toolCalls: [{ id: "call_add", name: "add", arguments: { a: 2, b: 2 } }],
    usage: { inputTokens: 40, outputTokens: 30, reasoningTokens: 24 },
  };
}

/** Runs the tool the model asked for and returns the next request of the loop. */
function withToolResult(request: ChatRequest, res: ChatResponse): ChatRequest {
  const call = res.toolCalls[0]!;
  const args = JSON.parse(call.arguments) as { a: number; b: number };
  const assistant: ChatMessage = {
    role: "assistant",
    content: res.text,
    toolCalls: res.toolCalls,
    ...(res.providerState ? { providerState: res.providerState } : {}),
  };
  return {
    ...request,
    messages: [
      ...request.messages,
      assistant,
      { role: "tool", content: String(args.a + args.b), toolCallId: call.id, name: call.name },
    ],
  };
}

Deno.test("openai responses: plain text, usage incl. cached tokens, instructions, no seed", async () => {
  await using server = startScriptedServer([
    { text: "4", usage: { inputTokens: 12, cachedTokens: 8, outputTokens: 1 } },
  ]);
  const request: ChatRequest = {
    messages: [
      { role: "system", content: "Be brief." },
      { role: "system", content: "Digits only." },
      ...ask.messages,
    ],
    temperature: 0.3,
    maxTokens: 20,
    seed: 7,
  };
  const res = await client(server.url).chat(request);
  assert.deepEqual(res, {
    text: "4",
    toolCalls: [],
    usage: { inputTokens: 12, cachedTokens: 8, outputTokens: 1 },
    finishReason: "completed",
    provider: "openai",
    model: "m",
  });
  assert.deepEqual(body(server, 0), {
    model: "m",
    instructions: "Be brief.\n\nDigits only.",
    input: [{ role: "user", content: "What is 2+2?" }],
    store: false,
    temperature: 0.3,
    max_output_tokens: 20,
  });
  // The served model sees the same conversation; the Responses API has no seed.
  const { seed: _seed, ...sent } = request;
  assert.deepEqual(server.model.requests[0], {
    ...sent,
    messages: [{ role: "system", content: "Be brief.\n\nDigits only." }, ...ask.messages],
  });
});

Deno.test("openai responses: a later system message stays an input item in its place", async () => {
  await using server = startScriptedServer(["a", "b"]);
  const model = client(server.url);
  const messages: ChatMessage[] = [
    { role: "system", content: "S1" },
    { role: "user", content: "U1" },
    { role: "assistant", content: "A1" },
    { role: "system", content: "S2" },
    { role: "user", content: "U2" },
  ];
  await model.chat({ messages });
  assert.equal(body(server, 0).instructions, "S1");
  assert.deepEqual(body(server, 0).input, [
    { role: "user", content: "U1" },
    { role: "assistant", content: "A1" },
    { role: "system", content: "S2" },
    { role: "user", content: "U2" },
  ]);
  assert.deepEqual(server.model.requests[0]?.messages, messages);
  // Only system messages: they are the input, never an empty one.
  await model.chat({ messages: [{ role: "system", content: "alone" }] });
  assert.equal(body(server, 1).instructions, undefined);
  assert.deepEqual(body(server, 1).input, [{ role: "system", content: "alone" }]);
});

Deno.test("openai responses: a tool round trip (function_call out, function_call_output back)", async () => {
  await using server = startScriptedServer(adder);
  const model = client(server.url);
  const request: ChatRequest = { ...ask, tools: [add, note], toolChoice: "required" };
  const first = await model.chat(request);
  assert.deepEqual(first.toolCalls, [{ id: "call_add", name: "add", arguments: '{"a":2,"b":2}' }]);
  assert.equal(first.text, "");
  // Not a reasoning model: no encrypted reasoning was asked for, so the reply carries no state.
  assert.equal(first.providerState, undefined);
  const second = await model.chat(withToolResult(request, first));
  assert.equal(second.text, "The sum is 4.");
  const wire = body(server, 0);
  assert.equal(wire.tool_choice, "required");
  assert.deepEqual(wire.tools, [
    { type: "function", ...add, strict: true },
    { type: "function", ...note, strict: false },
  ]);
  assert.deepEqual(body(server, 1).input, [
    { role: "user", content: "What is 2+2?" },
    { type: "function_call", call_id: "call_add", name: "add", arguments: '{"a":2,"b":2}' },
    { type: "function_call_output", call_id: "call_add", output: "4" },
  ]);
  assert.deepEqual(server.model.requests[1]?.messages.slice(1), [
    { role: "assistant", content: "", toolCalls: first.toolCalls },
    { role: "tool", content: "4", toolCallId: "call_add", name: "add" },
  ]);
});

Deno.test("openai responses: a tool message without toolCallId is refused before sending", async () => {
  await using server = startScriptedServer(["unused"]);
  const error = await failure(
    client(server.url).chat({
      messages: [...ask.messages, { role: "tool", content: "4" }],
    }),
  );
  assert.equal(error.retryable, false);
  assert.match(error.message, /needs toolCallId/);
  assert.equal(server.requests.length, 0);
});

Deno.test("openai responses: structured output via text.format is parsed; strict only when it can be", async () => {
  const Answer = z.object({ answer: z.string(), confidence: z.number().min(0).max(1) }).strict();
  const Loose = z.object({ answer: z.string(), note: z.string().optional() });
  await using server = startScriptedServer([
    '{"answer": "4", "confidence": 0.9}',
    "not json at all",
  ]);
  const model = client(server.url);
  const res = await model.chat({
    ...ask,
    outputSchema: { name: "answer", schema: toJsonSchema(Answer) },
  });
  assert.deepEqual(Answer.parse(res.parsed), { answer: "4", confidence: 0.9 });
  assert.deepEqual(body(server, 0).text, {
    format: { type: "json_schema", name: "answer", schema: toJsonSchema(Answer), strict: true },
  });
  assert.deepEqual(server.model.requests[0]?.outputSchema, {
    name: "answer",
    schema: toJsonSchema(Answer),
  });
  // A reply that is not JSON is a missing parse for the caller to count, not an exception.
  const bad = await model.chat({
    ...ask,
    outputSchema: { name: "loose", schema: toJsonSchema(Loose) },
  });
  assert.equal(bad.text, "not json at all");
  assert.equal(bad.parsed, undefined);
  assert.equal((body(server, 1).text as { format: { strict: boolean } }).format.strict, false);
});

Deno.test("openai responses: reasoning models get no temperature, the effort, and encrypted reasoning", async () => {
  await using server = startScriptedServer(["ok", "ok"], { names: ["gpt-5-mini", "o3"] });
  for (const name of ["gpt-5-mini", "o3"]) {
    const res = await client(server.url, name).chat({
      ...ask,
      temperature: 0.7,
      maxTokens: 99,
      reasoningEffort: "high",
    });
    assert.equal(res.text, "ok");
    assert.equal(res.providerState?.origin, `responses:openai:${name}`);
  }
  for (const index of [0, 1]) {
    const wire = body(server, index);
    assert.equal(wire.temperature, undefined);
    assert.equal(wire.max_output_tokens, 99);
    assert.deepEqual(wire.reasoning, { effort: "high" });
    assert.deepEqual(wire.include, ["reasoning.encrypted_content"]);
    assert.equal(wire.store, false);
  }
  // The effort reaches the served model as part of the neutral request.
  assert.equal(server.model.requests[1]?.reasoningEffort, "high");
  // A model that is not a reasoning model is sent no effort and no include.
  await using plain = startScriptedServer(["ok"], { names: ["gpt-4.1"] });
  await client(plain.url, "gpt-4.1").chat({ ...ask, temperature: 0.7, reasoningEffort: "high" });
  const wire = body(plain, 0);
  assert.equal(wire.temperature, 0.7);
  assert.equal(wire.reasoning, undefined);
  assert.equal(wire.include, undefined);
  assert.equal(plain.model.requests[0]?.reasoningEffort, undefined);
});

Deno.test("openai responses: a reasoning model's tool loop echoes its reasoning items, statelessly", async () => {
  await using server = startScriptedServer(adder, { names: ["gpt-5"] });
  const model = client(server.url, "gpt-5");
  const request: ChatRequest = { ...ask, tools: [add], reasoningEffort: "low" };
  const first = await model.chat(request);
  assert.deepEqual(first.usage, {
    inputTokens: 40,
    cachedTokens: 0,
    outputTokens: 30,
    reasoningTokens: 24,
  });
  const items = first.providerState?.items ?? [];
  assert.deepEqual(items.map((item) => item.type), ["reasoning", "function_call"]);
  assert.equal(typeof items[0]?.encrypted_content, "string");

  const second = await model.chat(withToolResult(request, first));
  assert.equal(second.text, "The sum is 4.");
  // The reply's own output items, verbatim, then the tool result; the server verified them.
  assert.deepEqual(body(server, 1).input, [
    { role: "user", content: "What is 2+2?" },
    ...items,
    { type: "function_call_output", call_id: "call_add", output: "4" },
  ]);
  // The served model sees the neutral conversation, reasoning stripped.
  assert.deepEqual(server.model.requests[1]?.messages[1], {
    role: "assistant",
    content: "",
    toolCalls: first.toolCalls,
  });

  // An edited message no longer matches its items: it is sent from its neutral fields.
  const edited = withToolResult(request, first);
  const turn = edited.messages[1]!;
  edited.messages[1] = { ...turn, toolCalls: [{ ...turn.toolCalls![0]!, arguments: '{"a":3}' }] };
  await model.chat(edited);
  assert.deepEqual(body(server, 2).input[1], {
    type: "function_call",
    call_id: "call_add",
    name: "add",
    arguments: '{"a":3}',
  });
  assert.ok(!body(server, 2).input.some((item) => item.type === "reasoning"));

  // Another model never receives this model's state.
  await using other = startScriptedServer(adder, { names: ["gpt-5-mini"] });
  await client(other.url, "gpt-5-mini").chat(withToolResult(request, first));
  assert.ok(!body(other, 0).input.some((item) => item.type === "reasoning"));
});

Deno.test("openai responses: other providers ignore the state on a message", () => {
  const state = {
    origin: "responses:openai:gpt-5",
    items: [{ type: "reasoning", id: "rs_1", encrypted_content: "opaque" }],
  };
  const plain: ChatRequest = {
    messages: [
      ...ask.messages,
      { role: "assistant", content: "", toolCalls: [{ id: "c", name: "add", arguments: "{}" }] },
      { role: "tool", content: "4", toolCallId: "c", name: "add" },
    ],
  };
  const stateful: ChatRequest = {
    messages: plain.messages.map((m) =>
      m.role === "assistant" ? { ...m, providerState: state } : m
    ),
  };
  const chat = new OpenAIChatModel({ model: "gpt-5", apiKey: KEY });
  const gemini = new GeminiChatModel({ model: "gemini-2.5-pro", apiKey: KEY });
  assert.deepEqual(chat.toParams(stateful), chat.toParams(plain));
  assert.deepEqual(gemini.toParams(stateful), gemini.toParams(plain));
  assert.ok(!JSON.stringify(chat.toParams(stateful)).includes("opaque"));
});

Deno.test("openai responses: the server refuses what would need stored state", async () => {
  await using server = startScriptedServer(["unused", "unused", "unused"], { names: ["gpt-5"] });
  const send = (payload: unknown) =>
    fetch(`${server.url}/v1/responses`, { method: "POST", body: JSON.stringify(payload) });
  const cases: [unknown, RegExp][] = [
    [{ model: "gpt-5", input: "hi", previous_response_id: "resp_1" }, /stores no responses/],
    [
      { model: "gpt-5", input: [{ type: "reasoning", id: "rs_1", summary: [] }] },
      /no encrypted_content/,
    ],
    [
      { model: "gpt-5", input: [{ type: "reasoning", id: "rs_1", encrypted_content: "eA==" }] },
      /could not be verified/,
    ],
    [{ model: "gpt-5", input: "hi", tools: [{ type: "web_search" }] }, /bad responses body/],
  ];
  for (const [payload, message] of cases) {
    const res = await send(payload);
    assert.equal(res.status, 400);
    const error = (await res.json()) as { error: { message: string; type: string } };
    assert.match(error.error.message, message);
    assert.equal(error.error.type, "invalid_request_error");
  }
  assert.equal(server.model.requests.length, 0);
});

Deno.test("openai responses: usage, reasoning tokens and cost through the wrapper's ledger and cache", async () => {
  await using server = startScriptedServer([
    {
      text: "4",
      usage: { inputTokens: 1000, cachedTokens: 200, outputTokens: 500, reasoningTokens: 400 },
    },
  ], { names: ["gpt-5"] });
  const ledger = new UsageLedger();
  const cache = new SqliteResponseCache({ path: ":memory:" });
  try {
    const model = wrapChatModel(client(server.url, "gpt-5"), { ledger, cache, maxRetries: 0 });
    const first = await model.chat(ask);
    const again = await model.chat(ask);
    assert.equal(again.cached, true);
    // The state comes back from the cache too, so a resumed loop sends the same next request.
    assert.deepEqual(again.providerState, first.providerState);
    assert.equal(server.requests.length, 1);
    const usage = ledger.snapshot().models["openai:gpt-5"];
    assert.deepEqual(usage, {
      calls: 1,
      cacheHits: 1,
      failures: 0,
      inputTokens: 1000,
      cachedTokens: 200,
      outputTokens: 500,
      reasoningTokens: 400,
      // gpt-5: $1.25 input, $0.125 cached input, $10 output (reasoning included) per MTok.
      usd: (800 * 1.25 + 200 * 0.125 + 500 * 10) / 1e6,
      priced: true,
    });
    assert.equal(ledger.snapshot().total.reasoningTokens, 400);
  } finally {
    cache.close();
  }
});

Deno.test("openai responses: the wrapper honours Retry-After, retries a 500, a hang and a malformed body", async () => {
  await using server = startScriptedServer(() => "4");
  server.faults.queue = [
    { kind: "status", status: 429, retryAfter: "2" },
    { kind: "status", status: 500 },
    { kind: "hang" },
    { kind: "malformed" },
  ];
  const slept: number[] = [];
  const ledger = new UsageLedger();
  const model = wrapChatModel(client(server.url), {
    ledger,
    maxRetries: 4,
    timeoutMs: 300,
    random: () => 0,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  });
  const res = await model.chat(ask);
  assert.equal(res.text, "4");
  assert.equal(server.requests.length, 5);
  // Jitter drawn as 0: the 429's Retry-After (2 s) is the only wait above zero.
  assert.deepEqual(slept, [2000, 0, 0, 0]);
  const usage = ledger.snapshot().models["openai:m"]!;
  assert.equal(usage.failures, 4);
  assert.equal(usage.calls, 1);
});

Deno.test("openai responses: a hang past the wrapper's timeout fails as a timeout, not retried forever", async () => {
  await using server = startScriptedServer(["never"]);
  server.faults.queue = [{ kind: "hang" }, { kind: "hang" }];
  const model = wrapChatModel(client(server.url), {
    maxRetries: 1,
    timeoutMs: 100,
    sleep: () => Promise.resolve(),
  });
  await assert.rejects(
    model.chat(ask),
    (e: Error) => /^openai:m: gave up after 2 attempts: no answer within 100 ms/.test(e.message),
  );
  assert.equal(server.requests.length, 2);
});

Deno.test("openai responses: a 200 body without output is a retryable malformed response", async () => {
  await using server = startScriptedServer([]);
  server.faults.queue = [{ kind: "status", status: 200, body: JSON.stringify({ id: "resp_x" }) }];
  const error = await failure(client(server.url).chat(ask));
  assert.equal(error.retryable, true);
  assert.match(error.message, /malformed response: no output array/);
});

Deno.test("openai responses: the spec picks the API; openai-compatible stays on Chat Completions", async () => {
  await using server = startScriptedServer(() => "hi", { names: ["gpt-5", "qwen3"] });
  const env = { OPENAI_API_KEY: KEY };
  const url = `${server.url}/v1`;
  const responses = await createChatModel(`openai:gpt-5@${url}`, { env });
  const chat = await createChatModel(`openai-chat:gpt-5@${url}`, { env });
  const compatible = await createChatModel(`openai-compatible:qwen3@${url}`, { env: {} });
  assert.ok(responses instanceof OpenAIResponsesModel);
  assert.ok(chat instanceof OpenAIChatModel);
  assert.ok(compatible instanceof OpenAIChatModel);
  for (const model of [responses, chat, compatible]) {
    assert.equal((await model.chat(ask)).text, "hi");
  }
  assert.deepEqual(server.requests.map((r) => r.path), [
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/chat/completions",
  ]);
  assert.equal(chat.provider, "openai-chat");
  // The chat path sends reasoning models their effort too, as reasoning_effort.
  await chat.chat({ ...ask, reasoningEffort: "minimal", temperature: 1 });
  const chatBody = server.requests[3]?.body as Record<string, unknown>;
  assert.equal(chatBody.reasoning_effort, "minimal");
  assert.equal(chatBody.temperature, undefined);
  assert.equal(server.model.requests[3]?.reasoningEffort, "minimal");
  await assert.rejects(
    createChatModel("openai-chat:gpt-4.1", { env: {} }),
    (e) => e instanceof ConfigError && /set OPENAI_API_KEY/.test(e.message),
  );
  await assert.rejects(
    createEmbedder("openai-chat:text-embedding-3-small", { env }),
    (e) => e instanceof ConfigError && /openai:text-embedding-3-small/.test(e.message),
  );
});

Deno.test("openai responses: rpt sim-server serves openai: specs, a gpt-5 alias included", async () => {
  const NO_DATA = "/nonexistent-rpt-data";
  await using server = startSimServer({
    seed: 5,
    dataDir: NO_DATA,
    aliases: { "gpt-5": "optimizer" },
  });
  const env = { OPENAI_API_KEY: KEY };
  const url = `${server.url}/v1`;
  const ex = (await synthetic.load("dev"))[4]!;
  const request: ChatRequest = {
    messages: synthetic.render(synthetic.seedPrompt, ex),
    outputSchema: { name: "answer", schema: synthetic.outputSchema },
  };
  const local = await createSimChatModel("target", { seed: 5, dataDir: NO_DATA }).chat(request);
  const target = await createChatModel(`openai:sim-target@${url}`, { env });
  assert.equal((await target.chat(request)).text, local.text);

  const optimizer = await createChatModel(`openai:gpt-5@${url}`, { env });
  const tools = [{
    name: "diagnose",
    description: "Diagnose a prompt.",
    parameters: toJsonSchema(DiagnoseArgs),
  }];
  const start: ChatRequest = {
    messages: [
      { role: "system", content: "controller" },
      {
        role: "user",
        content: 'Iteration 1 of 3\n\n```json\n{"system":"s","instruction":"i"}\n```',
      },
    ],
    tools,
    toolChoice: "required",
    reasoningEffort: "high",
  };
  const call = await optimizer.chat(start);
  assert.equal(call.toolCalls[0]?.name, "diagnose");
  DiagnoseArgs.parse(JSON.parse(call.toolCalls[0]!.arguments));
  assert.equal(call.providerState?.origin, "responses:openai:gpt-5");
  const report = {
    report: {
      metrics: { score: 0.4, avgConfidence: 0.9, formatErrorRate: 0 },
      failure_topics: [{ name: "Scale words not converted", description: "", examples: [] }],
    },
    memory: {},
    warnings: [],
  };
  const decided = await optimizer.chat({
    ...start,
    messages: [
      ...start.messages,
      {
        role: "assistant",
        content: call.text,
        toolCalls: call.toolCalls,
        providerState: call.providerState,
      },
      {
        role: "tool",
        name: "diagnose",
        toolCallId: call.toolCalls[0]!.id,
        content: JSON.stringify(report),
      },
    ],
    toolChoice: "auto",
    outputSchema: { name: "decision", schema: toJsonSchema(Decision) },
  });
  assert.equal(Decision.parse(decided.parsed).action, "patch");
  const last = server.requests.at(-1)?.body as Body;
  assert.ok(last.input.some((item) => item.type === "reasoning"), "reasoning not echoed");
  assert.equal(last.temperature, undefined);
  assert.deepEqual(last.reasoning, { effort: "high" });
  assert.ok(!JSON.stringify(server.requests).includes(KEY), "key leaked into the record");
});

Deno.test("openai responses: sim-server --model takes NAME=ROLE only", async () => {
  for (const bad of ["gpt-5", "gpt-5=oracle", "=optimizer", "optimizer"]) {
    await assert.rejects(
      runSimServer(["--model", bad]),
      (e) => e instanceof ConfigError && /^--model: expected NAME=ROLE/.test(e.message),
    );
  }
});

Deno.test("reasoning tokens survive every wire: Responses, Chat Completions and Gemini", async () => {
  const usage = { inputTokens: 50, cachedTokens: 10, outputTokens: 90, reasoningTokens: 70 };
  await using server = startScriptedServer(() => ({ text: "4", usage }), { names: ["gpt-5"] });
  const models = [
    client(server.url, "gpt-5"),
    new OpenAIChatModel({ model: "gpt-5", apiKey: KEY, baseURL: `${server.url}/v1` }),
    new GeminiChatModel({ model: "gpt-5", apiKey: KEY, baseURL: server.url }),
  ];
  for (const model of models) assert.deepEqual((await model.chat(ask)).usage, usage);
  const gemini = server.requests.at(-1);
  assert.match(gemini?.path ?? "", /models\/gpt-5:generateContent$/);
});
