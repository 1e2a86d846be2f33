import assert from "node:assert/strict";
import { run, servedTaskFlag, startSimServer } from "../lib/cli/sim_server.ts";
import { evaluatePromptOnly } from "../lib/revise/evaluate_only.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { tempDir } from "./support/toy_loop.ts";
import { GeminiChatModel, GeminiEmbedder } from "../lib/llm/gemini.ts";
import { ProviderError } from "../lib/llm/model.ts";
import { OpenAIChatModel, OpenAIEmbedder } from "../lib/llm/openai.ts";
import { createSimChatModel, createSimEmbedder } from "../lib/sim/mod.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import { type ChatRequest, toJsonSchema } from "../lib/llm/schema.ts";
import { Decision, DiagnoseArgs } from "../lib/run/schema.ts";
import { ConfigError } from "../lib/util/errors.ts";

const NO_DATA = "/nonexistent-rpt-data";
const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;
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

const EXAMPLE_TASK = `custom:${
  new URL("../examples/unit-conversions/task.json", import.meta.url).pathname
}`;

Deno.test("sim server --task custom: serves your own task over the wire, answering as sim:target does in process", async () => {
  const served = await servedTaskFlag(EXAMPLE_TASK);
  assert.equal(served?.name, "custom:unit-conversions");
  const server = startSimServer({ task: served, dataDir: NO_DATA });
  await using dir = await tempDir();
  try {
    const common = {
      task: EXAMPLE_TASK,
      optimizer: "sim:optimizer",
      limits: { train: 4, dev: 12, test: 12 },
      dataDir: NO_DATA,
    };
    const wire = await evaluatePromptOnly({
      ...common,
      target: `openai-compatible:sim-target@${server.url}/v1`,
      cache: `${dir.path}/wire.sqlite`,
    }, { dir: `${dir.path}/wire`, splits: ["dev", "test"] });
    const local = await evaluatePromptOnly({
      ...common,
      target: "sim:target",
      cache: `${dir.path}/local.sqlite`,
    }, { dir: `${dir.path}/local`, splits: ["dev", "test"] });
    const scores = (e: typeof wire) => e.evaluation.splits.map((s) => [s.split, s.metrics.score]);
    assert.deepEqual(scores(wire), scores(local));
    // Answered from the gold answers (a share right, the rest through traps), not "unknown".
    for (const s of wire.evaluation.splits) {
      assert.ok(s.metrics.score > 0 && s.metrics.score < 1, `${s.split} ${s.metrics.score}`);
    }
    // And optimized through the wire (every chat role served), step for step as in process.
    const url = `${server.url}/v1`;
    const run = (roles: Record<string, string>, name: string) =>
      optimize({
        task: EXAMPLE_TASK,
        ...roles,
        embedder: "sim:embed",
        iterations: 3,
        dataDir: NO_DATA,
        cache: `${dir.path}/${name}.sqlite`,
      }, { runDir: `${dir.path}/${name}-run` });
    const overWire = await run({
      target: `openai-compatible:sim-target@${url}`,
      optimizer: `openai-compatible:sim-optimizer@${url}`,
      critic: `openai-compatible:sim-critic@${url}`,
    }, "wire-opt");
    const inProcess = await run({
      target: "sim:target",
      optimizer: "sim:optimizer",
      critic: "sim:critic",
    }, "local-opt");
    const devs = (r: typeof overWire) => r.summary!.steps.map((s) => s.dev.score);
    assert.deepEqual(devs(overWire), devs(inProcess));
    assert.ok(overWire.summary!.selected.dev.score > devs(overWire)[0]!, `${devs(overWire)}`);
  } finally {
    await server.close();
  }
  await assert.rejects(
    servedTaskFlag("hotpotqa"),
    /^ConfigError: --task: 'hotpotqa' is always served; expected custom:<task.json>, got 'hotpotqa'$/,
  );
});

Deno.test("rpt sim-server --task custom:...: says which task it serves besides the bundled ones", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "sim-server", "--port", "0", "--task", EXAMPLE_TASK],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!/example:/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  child.kill("SIGTERM");
  while (!(await reader.read()).done) { /* drain until the server stops */ }
  await child.stderr.cancel();
  await child.status;
  assert.match(
    text,
    /^ {2}task: custom:unit-conversions \(60 examples\), besides the bundled ones$/m,
  );
});
