/**
 * Batch mode end to end, for both providers: `runBatch` through the real SDKs
 * (`npm:openai` files + batches, `npm:@google/genai` batch mode) against the local servers,
 * with each batch fault injected on the server.
 */
import assert from "node:assert/strict";
import { UsageLedger } from "../lib/llm/accounting.ts";
import { GeminiBatchClient } from "../lib/llm/batch/gemini_batch.ts";
import { OpenAIBatchClient, responsesCodec } from "../lib/llm/batch/openai_batch.ts";
import { type BatchProgress, type BatchTarget, runBatch } from "../lib/llm/batch/run_batch.ts";
import { cacheKey, SqliteResponseCache } from "../lib/llm/cache.ts";
import { GeminiChatModel } from "../lib/llm/gemini.ts";
import { type ChatModel, ProviderError } from "../lib/llm/model.ts";
import { OpenAIChatModel } from "../lib/llm/openai.ts";
import { OpenAIResponsesModel } from "../lib/llm/openai_responses.ts";
import type { ScriptStep } from "../lib/llm/scripted.ts";
import { wrapChatModel } from "../lib/llm/wrap.ts";
import type { ChatRequest, ChatResponse } from "../lib/llm/schema.ts";
import { type ScriptedServer, startScriptedServer } from "./support/fake_server.ts";

const KEY = "sk-batch-SECRET-7788";
const MODEL = "gpt-4.1-mini";
const USAGE = { inputTokens: 1000, cachedTokens: 200, outputTokens: 500 };
/** OpenAI Chat Completions, OpenAI Responses, Gemini. */
type Wire = "openai" | "responses" | "gemini";
const WIRES: Wire[] = ["openai", "responses", "gemini"];

const SCHEMA = {
  type: "object",
  properties: { answer: { type: "number" } },
  required: ["answer"],
  additionalProperties: false,
};
const TOOLS = [{
  name: "lookup",
  description: "Looks a question up",
  parameters: {
    type: "object",
    properties: { q: { type: "string" } },
    required: ["q"],
    additionalProperties: false,
  },
}];

/** Plain, system-prompted, structured, tool-calling and repeated-sample requests. */
const REQUESTS: ChatRequest[] = [
  { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "q1" }] },
  { messages: [{ role: "user", content: "q2" }], temperature: 0, maxTokens: 50 },
  { messages: [{ role: "user", content: "q3" }], outputSchema: { name: "a", schema: SCHEMA } },
  { messages: [{ role: "user", content: "q4" }], tools: TOOLS, toolChoice: "required" },
  { messages: [{ role: "user", content: "q1" }], sampleIndex: 1 },
];

/** The served model: a pure function of the request, so two servers answer alike. */
function reply(request: ChatRequest): ScriptStep {
  const last = request.messages.at(-1)?.content ?? "";
  if (last.includes("poison")) {
    return new ProviderError({
      provider: "scripted",
      model: MODEL,
      status: 400,
      message: "this request is refused",
      retryable: false,
    });
  }
  if (request.tools?.length) {
    return { toolCalls: [{ id: "call_1", name: "lookup", arguments: { q: last } }], usage: USAGE };
  }
  if (request.outputSchema) return { text: JSON.stringify({ answer: last.length }), usage: USAGE };
  return { text: `echo ${last} #${request.sampleIndex ?? 0}`, usage: USAGE };
}

function serve(): ScriptedServer {
  return startScriptedServer(reply, { names: [MODEL] });
}

function connect(wire: Wire, url: string) {
  if (wire === "openai") {
    const opts = { model: MODEL, apiKey: KEY, baseURL: `${url}/v1` };
    return { raw: new OpenAIChatModel(opts) as ChatModel, client: new OpenAIBatchClient(opts) };
  }
  if (wire === "responses") {
    const opts = { model: MODEL, apiKey: KEY, baseURL: `${url}/v1` };
    const raw = new OpenAIResponsesModel(opts);
    return {
      raw: raw as ChatModel,
      client: new OpenAIBatchClient({ ...opts, codec: responsesCodec(raw) }),
    };
  }
  const opts = { model: MODEL, apiKey: KEY, baseURL: url };
  return { raw: new GeminiChatModel(opts) as ChatModel, client: new GeminiBatchClient(opts) };
}

interface Setup {
  server: ScriptedServer;
  cache: SqliteResponseCache;
  ledger: UsageLedger;
  target: BatchTarget;
  raw: ChatModel;
  [Symbol.asyncDispose](): Promise<void>;
}

function setup(wire: Wire): Setup {
  const server = serve();
  const cache = new SqliteResponseCache({ path: ":memory:" });
  const ledger = new UsageLedger();
  const { raw, client } = connect(wire, server.url);
  const model = wrapChatModel(raw, {
    cache,
    ledger,
    maxRetries: 2,
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  return {
    server,
    cache,
    ledger,
    raw,
    target: { client, model },
    async [Symbol.asyncDispose]() {
      cache.close();
      await server.close();
    },
  };
}

/** HTTP requests of one kind the server received. */
function count(server: ScriptedServer, kind: "create" | "chat" | "poll" | "cancel"): number {
  return server.requests.filter((r) => {
    switch (kind) {
      case "create":
        return r.method === "POST" &&
          (r.path === "/v1/batches" || r.path.endsWith(":batchGenerateContent"));
      case "chat":
        return r.path === "/v1/chat/completions" || r.path === "/v1/responses" ||
          r.path.endsWith(":generateContent");
      case "poll":
        return r.method === "GET" && /\/batches\/[^/]+$/.test(r.path);
      case "cancel":
        return r.method === "POST" && /\/batches\/[^/]+(\/|:)cancel$/.test(r.path);
    }
  }).length;
}

const fast = { pollIntervalMs: 10, backoff: { baseDelayMs: 1, maxDelayMs: 5 } };

function withoutCached(response: ChatResponse): ChatResponse {
  const { cached: _cached, ...rest } = response;
  return rest;
}

function texts(items: { ok: boolean; response?: ChatResponse }[]): string[] {
  return items.map((item) => item.ok ? item.response!.text : "FAILED");
}

for (const wire of WIRES) {
  Deno.test(`${wire} batch: results equal interactive ones, under the same cache keys`, async () => {
    await using s = setup(wire);
    await using reference = serve();
    const interactive = connect(wire, reference.url).raw;
    const expected = [];
    for (const request of REQUESTS) expected.push(await interactive.chat(request));

    const submitted: { id: string; polls: number }[] = [];
    const requests = [...REQUESTS, REQUESTS[1]!];
    const run = await runBatch(s.target, requests, {
      ...fast,
      cache: s.cache,
      ledger: s.ledger,
      onSubmitted: (id) => {
        submitted.push({ id, polls: count(s.server, "poll") });
      },
    });
    // Submitted once, recorded before the first poll, and no interactive call was made.
    assert.deepEqual(submitted, [{ id: run.batchId!, polls: 0 }]);
    assert.equal(count(s.server, "create"), 1);
    assert.equal(count(s.server, "chat"), 0);
    assert.deepEqual(s.server.batches.map((b) => [b.lines, b.state]), [[5, "completed"]]);
    assert.deepEqual(run.items.map((i) => i.source), [...REQUESTS.map(() => "batch"), "batch"]);
    assert.deepEqual(
      run.items.map((i) => i.ok ? withoutCached(i.response) : undefined),
      [...expected, expected[1]],
    );
    assert.equal(run.stats.duplicates, 1);
    assert.equal(run.stats.submitted, 5);
    assert.equal(run.stats.fromBatch, 5);
    assert.equal(run.stats.finalState, "completed");
    // The tool call and the structured answer read exactly as interactively.
    assert.deepEqual(run.items[2]?.ok && run.items[2].response.parsed, { answer: 2 });
    assert.equal(run.items[3]?.ok && run.items[3].response.toolCalls[0]?.name, "lookup");

    // A second run is free: every answer from the cache, nothing sent.
    const before = s.server.requests.length;
    const again = await runBatch(s.target, requests, { ...fast, cache: s.cache });
    assert.equal(s.server.requests.length, before);
    assert.equal(again.batchId, undefined);
    assert.equal(again.stats.cacheHits, 5);
    assert.deepEqual(texts(again.items), texts(run.items));
    assert.ok(again.items.every((i) => i.source === "cache" && i.ok && i.response.cached));

    // An interactive call through the wrapper is a cache hit on a batch answer.
    const hit = await s.target.model.chat(REQUESTS[3]!);
    assert.equal(hit.cached, true);
    assert.equal(s.server.requests.length, before);
    const key = cacheKey({
      kind: "chat",
      provider: s.raw.provider,
      model: MODEL,
      baseURL: (s.raw as { baseURL?: string }).baseURL,
      request: REQUESTS[0]!,
    });
    assert.equal(s.cache.getChat(key)?.text, "echo q1 #0");
  });

  Deno.test(`${wire} batch: answers of earlier interactive calls are not sent again`, async () => {
    await using s = setup(wire);
    const first = await s.target.model.chat(REQUESTS[0]!);
    const run = await runBatch(s.target, REQUESTS, { ...fast, cache: s.cache });
    assert.deepEqual(s.server.batches.map((b) => b.lines), [REQUESTS.length - 1]);
    assert.equal(run.items[0]?.source, "cache");
    assert.equal(run.items[0]?.ok && run.items[0].response.text, first.text);
    assert.equal(run.stats.cacheHits, 1);
  });

  Deno.test(`${wire} batch: a run stopped while the batch is in flight resumes by polling it`, async () => {
    await using s = setup(wire);
    s.server.batchFaults.queue = [{ delayMs: 400 }];
    const controller = new AbortController();
    let recorded: string | undefined;
    const reason = new Error("killed");
    await assert.rejects(
      runBatch(s.target, REQUESTS, {
        ...fast,
        cache: s.cache,
        ledger: s.ledger,
        signal: controller.signal,
        onSubmitted: (id) => {
          recorded = id;
        },
        onProgress: (p) => {
          if (p.phase === "polling") controller.abort(reason);
        },
      }),
      (error) => error === reason,
    );
    assert.ok(recorded);
    // Stopping the run does not cancel the provider's batch, and nothing was reserved for good.
    assert.equal(s.server.batches[0]?.state, "running");
    assert.equal(count(s.server, "cancel"), 0);
    assert.equal(s.ledger.snapshot().total.failures, 0);

    const resumed = await runBatch(s.target, REQUESTS, {
      ...fast,
      cache: s.cache,
      ledger: s.ledger,
      resumeBatchId: recorded,
      onSubmitted: () => assert.fail("a resumed batch is not submitted again"),
    });
    assert.equal(count(s.server, "create"), 1);
    assert.equal(resumed.batchId, recorded);
    assert.equal(resumed.stats.fromBatch, REQUESTS.length);
    assert.deepEqual(texts(resumed.items).slice(0, 2), ["echo q1 #0", "echo q2 #0"]);
    assert.equal(count(s.server, "chat"), 0);
    assert.equal(s.ledger.snapshot().total.batch?.calls, REQUESTS.length);
  });

  Deno.test(`${wire} batch: an abort with cancelOnAbort cancels the provider's batch`, async () => {
    await using s = setup(wire);
    s.server.batchFaults.queue = [{ delayMs: 5_000 }];
    const controller = new AbortController();
    const pending = runBatch(s.target, REQUESTS, {
      ...fast,
      signal: controller.signal,
      cancelOnAbort: true,
      onProgress: (p) => {
        if (p.phase === "polling") controller.abort(new Error("stop"));
      },
    });
    await assert.rejects(pending, /stop/);
    assert.equal(count(s.server, "cancel"), 1);
    // The server ends a cancelled job as soon as its worker wakes.
    for (let i = 0; i < 100 && s.server.batches[0]?.state === "running"; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(s.server.batches[0]?.state, "cancelled");
  });

  Deno.test(`${wire} batch: a line that fails in the batch is retried as an ordinary call`, async () => {
    await using s = setup(wire);
    s.server.batchFaults.queue = [{ failLines: [1], failStatus: 500 }];
    const run = await runBatch(s.target, REQUESTS, { ...fast, cache: s.cache, ledger: s.ledger });
    assert.deepEqual(run.items.map((i) => i.source), [
      "batch",
      "ordinary",
      "batch",
      "batch",
      "batch",
    ]);
    assert.equal(texts(run.items)[1], "echo q2 #0");
    assert.equal(run.stats.failedInBatch, 1);
    assert.equal(run.stats.ordinary, 1);
    assert.equal(run.stats.failures, 0);
    assert.equal(count(s.server, "chat"), 1);
    // The retried answer is cached too: a re-run sends nothing.
    const before = s.server.requests.length;
    await runBatch(s.target, REQUESTS, { ...fast, cache: s.cache });
    assert.equal(s.server.requests.length, before);
  });

  Deno.test(`${wire} batch: an expired batch falls back to ordinary calls for what is missing`, async () => {
    await using s = setup(wire);
    s.server.batchFaults.queue = [{ expireAfter: 2 }];
    const progress: BatchProgress[] = [];
    const run = await runBatch(s.target, REQUESTS, {
      ...fast,
      cache: s.cache,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(run.stats.finalState, "expired");
    assert.deepEqual(run.items.map((i) => i.source), [
      "batch",
      "batch",
      "ordinary",
      "ordinary",
      "ordinary",
    ]);
    assert.equal(run.stats.fromBatch, 2);
    assert.equal(run.stats.missing, 3);
    assert.equal(run.stats.failedInBatch, 0);
    assert.equal(count(s.server, "chat"), 3);
    assert.ok(run.items.every((i) => i.ok));
    assert.deepEqual(progress.map((p) => p.phase).slice(-2), ["ordinary", "done"]);
  });

  Deno.test(`${wire} batch: a slow batch is polled until done and progress sees its states`, async () => {
    await using s = setup(wire);
    s.server.batchFaults.queue = [{ delayMs: 400 }];
    const progress: BatchProgress[] = [];
    const run = await runBatch(s.target, REQUESTS, {
      pollIntervalMs: 40,
      onProgress: (p) => progress.push(p),
    });
    const polls = progress.filter((p) => p.phase === "polling").map((p) => p.status!);
    // Not a timing assertion: the first poll comes at once, well within the 400 ms.
    assert.ok(polls.length >= 2, `polled ${polls.length} times`);
    assert.equal(polls.at(-1)?.state, "completed");
    assert.ok(polls.slice(0, -1).every((p) => p.state === "running"));
    // All lines were answered early; the job then stayed in progress until its delay passed.
    assert.deepEqual(
      [polls.at(-1)?.total, polls.at(-1)?.done, polls.at(-1)?.failed],
      [REQUESTS.length, REQUESTS.length, 0],
    );
    assert.deepEqual(progress.map((p) => p.phase).slice(0, 2), ["submitted", "polling"]);
    assert.equal(progress.at(-1)?.phase, "done");
    assert.equal(run.stats.fromBatch, REQUESTS.length);
    assert.equal(count(s.server, "poll"), polls.length + 1); // + the results read
  });

  Deno.test(`${wire} batch: a line failing in the batch and in its retries is a failure, not a result`, async () => {
    await using s = setup(wire);
    const poison: ChatRequest = { messages: [{ role: "user", content: "poison" }] };
    const requests = [...REQUESTS.slice(0, 2), poison];
    const run = await runBatch(s.target, requests, { ...fast, cache: s.cache, ledger: s.ledger });
    const item = run.items[2]!;
    assert.equal(item.ok, false);
    if (item.ok) return;
    assert.ok(item.error instanceof ProviderError);
    assert.equal(item.error.status, 400);
    assert.equal(item.batchError?.status, 400);
    assert.match(item.error.message, /this request is refused/);
    assert.doesNotMatch(item.error.message + item.batchError?.message, new RegExp(KEY));
    assert.equal(run.stats.failures, 1);
    assert.deepEqual(texts(run.items), ["echo q1 #0", "echo q2 #0", "FAILED"]);
    // Failures are never cached: a re-run asks again, in a batch of that one line.
    await runBatch(s.target, requests, { ...fast, cache: s.cache });
    assert.deepEqual(s.server.batches.map((b) => b.lines), [3, 1]);
  });

  Deno.test(`${wire} batch: the ledger bills batch lines at half price and tells them apart`, async () => {
    await using s = setup(wire);
    s.server.batchFaults.queue = [{ failLines: [3] }];
    await runBatch(s.target, REQUESTS.slice(0, 4), { ...fast, ledger: s.ledger });
    const usage = s.ledger.snapshot().models[`${s.raw.provider}:${MODEL}`]!;
    // gpt-4.1-mini lists $0.40 input, $0.10 cached input, $1.60 output per million tokens:
    // one call = 800 * 0.4 + 200 * 0.1 + 500 * 1.6 = 1140 micro-dollars; a batch line half.
    const list = (800 * 0.4 + 200 * 0.1 + 500 * 1.6) / 1e6;
    assert.equal(usage.calls, 4);
    assert.equal(usage.failures, 1);
    assert.equal(usage.batch?.calls, 3);
    assert.ok(Math.abs(usage.batch!.usd - 3 * list / 2) < 1e-12, `${usage.batch?.usd}`);
    assert.ok(Math.abs(usage.usd - (3 * list / 2 + list)) < 1e-12, `${usage.usd}`);
    assert.ok(Math.abs(usage.usd - 0.00285) < 1e-12);
    assert.deepEqual(
      [usage.batch?.inputTokens, usage.batch?.cachedTokens, usage.batch?.outputTokens],
      [3000, 600, 1500],
    );
  });

  Deno.test(`${wire} batch: HTTP faults on the batch endpoints are retried`, async () => {
    await using s = setup(wire);
    s.server.faults.queue = [
      { kind: "status", status: 429, retryAfter: "0" },
      { kind: "status", status: 503 },
    ];
    const run = await runBatch(s.target, REQUESTS.slice(0, 2), { ...fast });
    assert.equal(run.stats.fromBatch, 2);
    assert.equal(s.server.batches.length, 1);
    assert.equal(count(s.server, "chat"), 0);
  });

  Deno.test(`${wire} batch: a batch that cannot be submitted falls back, counted`, async () => {
    await using s = setup(wire);
    s.server.faults.queue = [{ kind: "status", status: 404 }];
    const run = await runBatch(s.target, REQUESTS.slice(0, 2), { ...fast, ledger: s.ledger });
    assert.equal(run.batchId, undefined);
    assert.match(run.stats.fallback ?? "", /^batch not submitted: .*HTTP 404/);
    assert.equal(run.stats.submitted, 0);
    assert.deepEqual(run.items.map((i) => i.source), ["ordinary", "ordinary"]);
    assert.equal(count(s.server, "chat"), 2);
    // Billed as interactive calls, and the returned reservations are not failures.
    const total = s.ledger.snapshot().total;
    assert.deepEqual([total.calls, total.failures, total.batch], [2, 0, undefined]);
  });
}

Deno.test("runBatch refuses a batch client for another model than the wrapped one", async () => {
  await using server = serve();
  const a = connect("openai", server.url);
  const b = connect("openai", `${server.url}/other`);
  await assert.rejects(
    runBatch({ client: b.client, model: wrapChatModel(a.raw) }, REQUESTS),
    /the batch client is for openai:gpt-4\.1-mini but the model is .*wrong keys/,
  );
});

Deno.test("runBatch: a budget that cannot cover the batch stops before anything is sent", async () => {
  await using s = setup("openai");
  const ledger = new UsageLedger({ budget: { calls: 3 } });
  await assert.rejects(
    runBatch(s.target, REQUESTS, { ...fast, ledger }),
    (e: Error) => e.name === "BudgetExceededError",
  );
  assert.equal(s.server.requests.length, 0);
  assert.equal(ledger.snapshot().total.calls, 0);
  // Every reservation was given back: the budget still admits three calls.
  for (let i = 0; i < 3; i++) ledger.reserve("openai", MODEL, { inputTokens: 1 });
});
