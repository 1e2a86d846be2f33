import assert from "node:assert/strict";
import { run, startSimServer } from "../lib/cli/sim_server.ts";
import { GeminiChatModel, GeminiEmbedder } from "../lib/llm/gemini.ts";
import { ProviderError } from "../lib/llm/model.ts";
import { OpenAIChatModel, OpenAIEmbedder } from "../lib/llm/openai.ts";
import { createSimChatModel, createSimEmbedder } from "../lib/sim/mod.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import { type ChatRequest, toJsonSchema } from "../lib/llm/schema.ts";
import { Decision, DiagnoseArgs } from "../lib/run/schema.ts";
import { ConfigError } from "../lib/util/errors.ts";

const NO_DATA = "/nonexistent-rpt-data";
const KEY = "sk-test-not-a-real-key";

async function exampleRequest(): Promise<ChatRequest> {
  const ex = (await synthetic.load("dev"))[4]!;
  return {
    messages: synthetic.render(synthetic.seedPrompt, ex),
    outputSchema: { name: "answer", schema: synthetic.outputSchema },
  };
}

const optimizerRequest: ChatRequest = {
  messages: [
    { role: "system", content: "controller" },
    { role: "user", content: 'Iteration 1 of 3\n\n```json\n{"system":"s","instruction":"i"}\n```' },
  ],
  tools: [{
    name: "diagnose",
    description: "Diagnose a prompt.",
    parameters: toJsonSchema(DiagnoseArgs),
  }],
  toolChoice: "required",
};

function decisionRequest(callId: string): ChatRequest {
  return {
    messages: [
      ...optimizerRequest.messages,
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: callId, name: "diagnose", arguments: "{}" }],
      },
      {
        role: "tool",
        name: "diagnose",
        toolCallId: callId,
        content: JSON.stringify({
          report: {
            metrics: { score: 0.4, avgConfidence: 0.9, formatErrorRate: 0 },
            failure_topics: [{ name: "Scale words not converted", description: "", examples: [] }],
          },
          memory: {},
          warnings: [],
        }),
      },
    ],
    tools: optimizerRequest.tools,
    toolChoice: "auto",
    outputSchema: { name: "decision", schema: toJsonSchema(Decision) },
  };
}

Deno.test("sim server: OpenAI SDK round trip gives the in-process simulator's answers", async () => {
  const server = startSimServer({ seed: 5, dataDir: NO_DATA });
  try {
    const baseURL = `${server.url}/v1`;
    const request = await exampleRequest();
    const local = await createSimChatModel("target", { seed: 5, dataDir: NO_DATA }).chat(request);
    const target = new OpenAIChatModel({ model: "sim-target", apiKey: KEY, baseURL });
    const remote = await target.chat(request);
    assert.equal(remote.text, local.text);
    assert.equal(remote.model, "sim-target");
    assert.ok(synthetic.parse(remote.text).ok);

    const optimizer = new OpenAIChatModel({ model: "sim-optimizer", apiKey: KEY, baseURL });
    const call = await optimizer.chat(optimizerRequest);
    assert.equal(call.toolCalls[0]?.name, "diagnose");
    DiagnoseArgs.parse(JSON.parse(call.toolCalls[0]!.arguments));
    const decided = await optimizer.chat(decisionRequest(call.toolCalls[0]!.id));
    const decision = Decision.parse(JSON.parse(decided.text));
    assert.equal(decision.action, "patch");
    assert.match(decision.patch!.rationale, /^\[simulated\]/);

    const embedder = new OpenAIEmbedder({ model: "sim-embed", apiKey: KEY, baseURL });
    const texts = ["scale words", "rounding"];
    const vectors = (await embedder.embed(texts)).vectors;
    assert.deepEqual(vectors, (await createSimEmbedder({ seed: 5 }).embed(texts)).vectors);
    assert.ok(!JSON.stringify(server.requests).includes(KEY), "key leaked into the record");
  } finally {
    await server.close();
  }
});

Deno.test("sim server: Gemini SDK round trip (generateContent, tools, embeddings)", async () => {
  const server = startSimServer({ seed: 5, dataDir: NO_DATA });
  try {
    const request = await exampleRequest();
    const local = await createSimChatModel("target", { seed: 5, dataDir: NO_DATA }).chat(request);
    const target = new GeminiChatModel({ model: "sim-target", apiKey: KEY, baseURL: server.url });
    const remote = await target.chat(request);
    assert.equal(remote.text, local.text);

    const optimizer = new GeminiChatModel({
      model: "sim-optimizer",
      apiKey: KEY,
      baseURL: server.url,
    });
    const call = await optimizer.chat(optimizerRequest);
    assert.equal(call.toolCalls[0]?.name, "diagnose");
    DiagnoseArgs.parse(JSON.parse(call.toolCalls[0]!.arguments));
    const decided = await optimizer.chat(decisionRequest(call.toolCalls[0]!.id));
    assert.equal(Decision.parse(JSON.parse(decided.text)).action, "patch");

    const embedder = new GeminiEmbedder({ model: "sim-embed", apiKey: KEY, baseURL: server.url });
    const vectors = (await embedder.embed(["a b c", "d e f"])).vectors;
    assert.equal(vectors.length, 2);
    assert.equal(vectors[0]?.length, 256);
  } finally {
    await server.close();
  }
});

Deno.test("sim server: injected 429s reach the client as retryable ProviderErrors", async () => {
  const server = startSimServer({ seed: 1, dataDir: NO_DATA, faultRates: { status429: 1 } });
  try {
    const target = new OpenAIChatModel({
      model: "sim-target",
      apiKey: KEY,
      baseURL: `${server.url}/v1`,
    });
    await assert.rejects(target.chat(await exampleRequest()), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.status, 429);
      assert.equal(e.retryable, true);
      return true;
    });
  } finally {
    await server.close();
  }
});

Deno.test("sim server CLI: bad flags are ConfigErrors naming the flag", async () => {
  await assert.rejects(run(["--fault-429", "2"]), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /^--fault-429: expected a probability in \[0, 1\], got '2'$/);
    return true;
  });
  await assert.rejects(run(["--port", "http"]), /--port: expected an integer port/);
  await assert.rejects(run(["--bogus"]), ConfigError);
});
