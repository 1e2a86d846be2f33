import assert from "node:assert/strict";
import { ProviderError } from "../lib/llm/model.ts";
import { createChatModel, createEmbedder, parseModelSpec } from "../lib/llm/spec.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { ask, startScriptedServer } from "./support/fake_server.ts";

Deno.test("spec: parses every documented form", () => {
  assert.deepEqual(parseModelSpec("openai:gpt-4.1"), { provider: "openai", model: "gpt-4.1" });
  assert.deepEqual(parseModelSpec("gemini:gemini-2.5-pro"), {
    provider: "gemini",
    model: "gemini-2.5-pro",
  });
  assert.deepEqual(parseModelSpec("openai-compatible:qwen3@http://127.0.0.1:8000/v1"), {
    provider: "openai-compatible",
    model: "qwen3",
    baseURL: "http://127.0.0.1:8000/v1",
  });
  assert.deepEqual(parseModelSpec("sim:target"), { provider: "sim", model: "target" });
  assert.deepEqual(parseModelSpec("sim:embed"), { provider: "sim", model: "embed" });
  assert.deepEqual(parseModelSpec("scripted:fake"), { provider: "scripted", model: "fake" });
  assert.deepEqual(parseModelSpec("tfidf"), { provider: "tfidf", model: "tfidf" });
  assert.deepEqual(parseModelSpec("openai:llama3:8b@http://localhost:11434/v1"), {
    provider: "openai",
    model: "llama3:8b",
    baseURL: "http://localhost:11434/v1",
  });
});

Deno.test("spec: bad specs are ConfigErrors naming the spec and what was expected", () => {
  const cases: [string, RegExp][] = [
    ["gpt-4.1", /bad model spec "gpt-4.1": expected <provider>:<model>/],
    ["anthropic:claude", /unknown provider "anthropic"/],
    ["openai:", /model name is empty/],
    ["openai-compatible:qwen3", /needs the server's base URL/],
    ["openai-compatible:qwen3@not a url", /is not a URL/],
    ["openai-compatible:qwen3@ftp://host/v1", /must be http\(s\)/],
    ["sim:oracle", /sim:target, sim:optimizer, sim:critic and sim:embed/],
  ];
  for (const [spec, message] of cases) {
    assert.throws(
      () => parseModelSpec(spec),
      (e) => e instanceof ConfigError && message.test(e.message),
    );
  }
});

Deno.test("spec: a missing key is a ConfigError naming the variable, before any call", async () => {
  await assert.rejects(
    createChatModel("openai:gpt-4.1", { env: {} }),
    (e) => e instanceof ConfigError && /set OPENAI_API_KEY/.test(e.message),
  );
  await assert.rejects(
    createChatModel("gemini:gemini-2.5-pro", { env: { OPENAI_API_KEY: "sk-x" } }),
    (e) => e instanceof ConfigError && /set GEMINI_API_KEY/.test(e.message),
  );
  await assert.rejects(
    createEmbedder("openai:text-embedding-3-small", { env: { OPENAI_API_KEY: "  " } }),
    (e) => e instanceof ConfigError && /OPENAI_API_KEY/.test(e.message),
  );
  const gemini = await createChatModel("gemini:g", { env: { GOOGLE_API_KEY: "g" } });
  assert.equal(gemini.provider, "gemini");
});

Deno.test("spec: role mix-ups between chat models and embedders are ConfigErrors", async () => {
  await assert.rejects(createChatModel("sim:embed"), ConfigError);
  await assert.rejects(createChatModel("tfidf"), ConfigError);
  await assert.rejects(createEmbedder("sim:target"), ConfigError);
  await assert.rejects(createChatModel("scripted:x"), /need a script/);
});

Deno.test("spec: openai, openai-chat, openai-compatible and gemini specs reach a local server", async () => {
  await using server = startScriptedServer(() => "hello", {
    names: ["gpt-4.1", "qwen3", "gemini-x"],
  });
  const env = {
    OPENAI_API_KEY: "sk-a",
    GEMINI_API_KEY: "g-b",
    OPENAI_BASE_URL: `${server.url}/v1`,
  };
  const openai = await createChatModel("openai:gpt-4.1", { env });
  const compatible = await createChatModel(`openai-compatible:qwen3@${server.url}/v1`, { env: {} });
  const gemini = await createChatModel(`gemini:gemini-x@${server.url}`, { env });
  const chat = await createChatModel("openai-chat:gpt-4.1", { env });
  for (const model of [openai, compatible, gemini, chat]) {
    assert.equal((await model.chat(ask)).text, "hello");
  }
  assert.deepEqual([openai.provider, compatible.provider, gemini.provider, chat.provider], [
    "openai",
    "openai-compatible",
    "gemini",
    "openai-chat",
  ]);
  assert.equal((compatible as { baseURL?: string }).baseURL, `${server.url}/v1`);
  // openai: speaks the Responses API; openai-chat: and openai-compatible: Chat Completions.
  assert.deepEqual(server.requests.map((r) => r.path), [
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/models/gemini-x:generateContent",
    "/v1/chat/completions",
  ]);
  // Without OPENAI_COMPATIBLE_API_KEY, a placeholder is sent, never the OpenAI key.
  assert.equal(server.requests[1]?.headers.authorization, "[redacted]");
});

Deno.test("spec: the OpenAI key is not sent to an openai-compatible server", async () => {
  let seen: string | null = null;
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen = req.headers.get("authorization");
    return Response.json({ error: { message: "nope" } }, { status: 500 });
  });
  try {
    const model = await createChatModel(
      `openai-compatible:q@http://127.0.0.1:${http.addr.port}/v1`,
      {
        env: { OPENAI_API_KEY: "sk-real-key" },
      },
    );
    await assert.rejects(model.chat(ask), ProviderError);
    assert.equal(seen, "Bearer not-needed");
  } finally {
    await http.shutdown();
  }
});

Deno.test("spec: embedder specs", async () => {
  await using server = startScriptedServer([]);
  const tfidf = await createEmbedder("tfidf");
  assert.equal(tfidf.provider, "tfidf");
  const openai = await createEmbedder(`openai-compatible:e@${server.url}/v1`, { env: {} });
  assert.deepEqual((await openai.embed(["ab"])).vectors, [[2, 1, 0]]);
  const gemini = await createEmbedder(`gemini:e@${server.url}`, { env: { GEMINI_API_KEY: "g" } });
  assert.deepEqual((await gemini.embed(["abc"])).vectors, [[3, 1, 0]]);
  const scripted = await createEmbedder("scripted:s");
  assert.equal((await scripted.embed(["x"])).vectors[0]?.length, 8);
});

Deno.test("spec: sim specs dispatch to the simulator", async () => {
  const target = await createChatModel("sim:target", { sim: { seed: 1 } });
  assert.deepEqual([target.provider, target.model], ["sim", "sim-target"]);
  const embedder = await createEmbedder("sim:embed", { sim: { seed: 1 } });
  assert.equal(embedder.provider, "sim");
});

Deno.test("spec: scripted specs replay the given script", async () => {
  const model = await createChatModel("scripted:s", { script: ["one"] });
  assert.equal((await model.chat(ask)).text, "one");
  await assert.rejects(model.chat(ask), /script exhausted: request 2 arrived but only 1 step/);
});
