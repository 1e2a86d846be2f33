import assert from "node:assert/strict";
import { ProviderError } from "../lib/llm/model.ts";
import { ScriptedChatModel, ScriptedEmbedder } from "../lib/llm/scripted.ts";
import { serveModels } from "../lib/llm/serve.ts";

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const hi = { model: "m", messages: [{ role: "user", content: "hi" }] };

Deno.test("serve: OpenAI chat answers with text, usage and a redacted recorded request", async () => {
  const model = new ScriptedChatModel([{
    text: "hello",
    usage: { inputTokens: 7, cachedTokens: 3 },
  }]);
  const server = serveModels({ models: { m: model } });
  try {
    const res = await post(`${server.url}/v1/chat/completions`, hi, {
      authorization: "Bearer sk-secret",
    });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.equal(body.choices[0].message.content, "hello");
    assert.equal(body.choices[0].finish_reason, "stop");
    assert.deepEqual(body.usage.prompt_tokens_details, { cached_tokens: 3 });
    assert.equal(body.usage.prompt_tokens, 7);
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]?.path, "/v1/chat/completions");
    assert.equal(server.requests[0]?.headers.authorization, "[redacted]");
    assert.ok(!JSON.stringify(server.requests).includes("sk-secret"));
    assert.deepEqual(model.requests[0]?.messages, [{ role: "user", content: "hi" }]);
  } finally {
    await server.close();
  }
});

Deno.test("serve: OpenAI tools, tool_choice, tool results and json_schema become a ChatRequest", async () => {
  const model = new ScriptedChatModel([
    { toolCalls: [{ id: "c1", name: "lookup", arguments: '{"q":"x"}' }] },
  ]);
  const server = serveModels({ models: { m: model } });
  try {
    const res = await post(`${server.url}/v1/chat/completions`, {
      model: "m",
      messages: [
        { role: "developer", content: "sys" },
        { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "c0",
            type: "function",
            function: { name: "lookup", arguments: "{}" },
          }],
        },
        { role: "tool", tool_call_id: "c0", content: "result" },
      ],
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      tool_choice: "required",
      response_format: {
        type: "json_schema",
        json_schema: { name: "out", schema: { type: "object" } },
      },
      max_completion_tokens: 50,
      seed: 3,
    });
    const body = await res.json();
    assert.equal(body.choices[0].finish_reason, "tool_calls");
    assert.equal(body.choices[0].message.content, null);
    assert.deepEqual(body.choices[0].message.tool_calls, [
      { id: "c1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } },
    ]);
    assert.deepEqual(model.requests[0], {
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: "ab" },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "c0", name: "lookup", arguments: "{}" }],
        },
        { role: "tool", content: "result", toolCallId: "c0", name: "lookup" },
      ],
      tools: [{ name: "lookup", description: "", parameters: { type: "object" } }],
      toolChoice: "required",
      outputSchema: { name: "out", schema: { type: "object" } },
      maxTokens: 50,
      seed: 3,
    });
  } finally {
    await server.close();
  }
});

Deno.test("serve: Gemini generateContent maps contents, function calls and responses", async () => {
  const model = new ScriptedChatModel([
    { text: "thinking", toolCalls: [{ name: "lookup", arguments: { q: "y" } }] },
    { text: "bad", toolCalls: [{ name: "lookup", arguments: '{"q": "cut' }] },
  ]);
  const server = serveModels({ models: { g: model } });
  try {
    const url = `${server.url}/v1beta/models/g:generateContent`;
    const request = {
      systemInstruction: { parts: [{ text: "sys" }] },
      contents: [
        { role: "user", parts: [{ text: "q" }] },
        { role: "model", parts: [{ functionCall: { name: "lookup", args: { q: "x" } } }] },
        {
          role: "user",
          parts: [{ functionResponse: { name: "lookup", response: { output: "found" } } }],
        },
      ],
      tools: [{
        functionDeclarations: [{ name: "lookup", parametersJsonSchema: { type: "object" } }],
      }],
      toolConfig: { functionCallingConfig: { mode: "ANY" } },
      generationConfig: {
        temperature: 0,
        responseMimeType: "application/json",
        responseJsonSchema: { title: "answer", type: "object" },
      },
    };
    const res = await post(url, request, { "x-goog-api-key": "g-secret" });
    const body = await res.json();
    assert.deepEqual(body.candidates[0].content.parts, [
      { text: "thinking" },
      { functionCall: { name: "lookup", args: { q: "y" } } },
    ]);
    assert.equal(body.candidates[0].finishReason, "STOP");
    assert.deepEqual(model.requests[0]?.messages, [
      { role: "system", content: "sys" },
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "call_0", name: "lookup", arguments: '{"q":"x"}' }],
      },
      { role: "tool", content: "found", toolCallId: "call_0", name: "lookup" },
    ]);
    assert.equal(model.requests[0]?.toolChoice, "required");
    assert.equal(model.requests[0]?.outputSchema?.name, "answer");
    assert.equal(server.requests[0]?.headers["x-goog-api-key"], "[redacted]");

    // Arguments that are not a JSON object cannot travel on this wire: Gemini's own verdict.
    const bad = await (await post(url, request)).json();
    assert.equal(bad.candidates[0].finishReason, "MALFORMED_FUNCTION_CALL");
    assert.deepEqual(bad.candidates[0].content.parts, []);
  } finally {
    await server.close();
  }
});

Deno.test("serve: embeddings on both wires, floats and base64", async () => {
  const embedder = new ScriptedEmbedder((text) => [text.length, 0.5]);
  const server = serveModels({ models: {}, embedders: { e: embedder } });
  try {
    const floats =
      await (await post(`${server.url}/v1/embeddings`, { model: "e", input: ["ab", "c"] }))
        .json();
    assert.deepEqual(floats.data.map((d: { embedding: number[] }) => d.embedding), [[2, 0.5], [
      1,
      0.5,
    ]]);
    const b64 = await (await post(`${server.url}/v1/embeddings`, {
      model: "e",
      input: "abc",
      encoding_format: "base64",
    })).json();
    const bytes = Uint8Array.from(atob(b64.data[0].embedding), (c) => c.charCodeAt(0));
    assert.deepEqual([...new Float32Array(bytes.buffer)], [3, 0.5]);
    const batch = await (await post(`${server.url}/v1beta/models/e:batchEmbedContents`, {
      requests: [{ model: "models/e", content: { parts: [{ text: "abcd" }] } }],
    })).json();
    assert.deepEqual(batch, { embeddings: [{ values: [4, 0.5] }] });
    const single = await (await post(`${server.url}/v1beta/models/e:embedContent`, {
      content: { parts: [{ text: "a" }] },
    })).json();
    assert.deepEqual(single, { embedding: { values: [1, 0.5] } });
  } finally {
    await server.close();
  }
});

Deno.test("serve: unknown model is a 404 in each provider's error shape", async () => {
  const server = serveModels({ models: {} });
  try {
    const openai = await post(`${server.url}/v1/chat/completions`, { ...hi, model: "nope" });
    assert.equal(openai.status, 404);
    assert.equal((await openai.json()).error.code, "model_not_found");
    const gemini = await post(`${server.url}/v1beta/models/nope:generateContent`, { contents: [] });
    assert.equal(gemini.status, 404);
    assert.equal((await gemini.json()).error.status, "NOT_FOUND");
    const route = await post(`${server.url}/v2/other`, {});
    assert.equal(route.status, 404);
    await route.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("serve: a malformed request body is a 400 naming the problem", async () => {
  const server = serveModels({ models: { m: new ScriptedChatModel([]) } });
  try {
    const res = await post(`${server.url}/v1/chat/completions`, { model: "m", messages: "hi" });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /messages/);
  } finally {
    await server.close();
  }
});

Deno.test("serve: queued faults are consumed in order, then the model answers", async () => {
  const server = serveModels({ models: { m: new ScriptedChatModel(["ok"]) } });
  server.faults.queue = [
    { kind: "status", status: 429, retryAfter: "2" },
    { kind: "status", status: 503, body: '{"error":"custom"}' },
    { kind: "malformed" },
  ];
  try {
    const url = `${server.url}/v1/chat/completions`;
    const limited = await post(url, hi);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "2");
    assert.equal((await limited.json()).error.type, "rate_limit_exceeded");
    const unavailable = await post(url, hi);
    assert.equal(unavailable.status, 503);
    assert.equal(await unavailable.text(), '{"error":"custom"}');
    const malformed = await post(url, hi);
    assert.equal(malformed.status, 200);
    await assert.rejects(malformed.json(), SyntaxError);
    const ok = await post(url, hi);
    assert.equal((await ok.json()).choices[0].message.content, "ok");
    assert.deepEqual(server.faults.queue, []);
  } finally {
    await server.close();
  }
});

Deno.test("serve: truncated_tool_call cuts the arguments in half", async () => {
  const model = new ScriptedChatModel([
    { toolCalls: [{ id: "c", name: "f", arguments: '{"a":"bcdefgh"}' }] },
    "no tool call",
  ]);
  const server = serveModels({ models: { m: model } });
  server.faults.queue = [{ kind: "truncated_tool_call" }, { kind: "truncated_tool_call" }];
  try {
    const url = `${server.url}/v1/chat/completions`;
    const first = await (await post(url, hi)).json();
    assert.equal(first.choices[0].message.tool_calls[0].function.arguments, '{"a":"b');
    const tools = [{ type: "function", function: { name: "g" } }];
    const second = await (await post(url, { ...hi, tools })).json();
    assert.equal(second.choices[0].message.tool_calls[0].function.name, "g");
    assert.throws(() => JSON.parse(second.choices[0].message.tool_calls[0].function.arguments));
  } finally {
    await server.close();
  }
});

Deno.test("serve: seeded fault rates draw the same faults for the same seed", async () => {
  const statuses = async (seed: number) => {
    const model = new ScriptedChatModel(() => "ok");
    const server = serveModels({
      models: { m: model },
      faults: { rates: { status429: 0.3, status500: 0.3 }, seed },
    });
    const out: number[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const res = await post(`${server.url}/v1/chat/completions`, hi);
        await res.body?.cancel();
        out.push(res.status);
      }
    } finally {
      await server.close();
    }
    return out;
  };
  const a = await statuses(5);
  assert.deepEqual(await statuses(5), a);
  assert.ok(a.includes(200) && a.includes(429) && a.includes(500), `got ${a}`);
});

Deno.test("serve: a hang never answers; the client's abort and close() release it", async () => {
  const server = serveModels({ models: { m: new ScriptedChatModel(["late"]) } });
  server.faults.queue = [{ kind: "hang" }];
  const controller = new AbortController();
  const pending = fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify(hi),
    signal: controller.signal,
  });
  while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  controller.abort(new Error("gave up"));
  await assert.rejects(pending, /gave up/);
  await server.close();
});

Deno.test("serve: a request waiting out its latency is answered 503 at close", async () => {
  const server = serveModels({ models: { m: new ScriptedChatModel(["slow"]) }, latencyMs: 60_000 });
  const pending = fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify(hi),
  });
  while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  const closed = server.close();
  const res = await pending;
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.message, "server closed");
  await closed;
});

Deno.test("serve: a served model's ProviderError keeps its status and Retry-After", async () => {
  const failing = new ScriptedChatModel([
    new ProviderError({
      provider: "p",
      model: "m",
      message: "slow down",
      status: 429,
      retryable: true,
      retryAfterMs: 1500,
    }),
    new Error("boom"),
  ]);
  const server = serveModels({ models: { m: failing } });
  try {
    const limited = await post(`${server.url}/v1/chat/completions`, hi);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after-ms"), "1500");
    assert.equal(limited.headers.get("retry-after"), "2");
    await limited.body?.cancel();
    const broken = await post(`${server.url}/v1beta/models/m:generateContent`, {
      contents: [{ role: "user", parts: [{ text: "x" }] }],
    });
    assert.equal(broken.status, 500);
    assert.deepEqual(await broken.json(), {
      error: { code: 500, message: "boom", status: "INTERNAL" },
    });
  } finally {
    await server.close();
  }
});

Deno.test("serveModels keeps only the last recordLimit requests", async () => {
  const server = serveModels({
    models: { m: new ScriptedChatModel(() => "ok") },
    recordLimit: 2,
  });
  try {
    for (const word of ["one", "two", "three"]) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: word }] }),
      });
      await res.body?.cancel();
    }
    const seen = server.requests.map((r) =>
      (r.body as { messages: { content: string }[] }).messages[0]?.content
    );
    assert.deepEqual(seen, ["two", "three"]);
  } finally {
    await server.close();
  }
});
