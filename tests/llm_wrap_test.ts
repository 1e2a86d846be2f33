import assert from "node:assert/strict";
import { UsageLedger } from "../lib/llm/accounting.ts";
import { SqliteResponseCache } from "../lib/llm/cache.ts";
import {
  BudgetExceededError,
  type CallOptions,
  type ChatModel,
  ProviderError,
} from "../lib/llm/model.ts";
import { OpenAIChatModel } from "../lib/llm/openai.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { type Fault, serveModels } from "../lib/llm/serve.ts";
import { TfidfEmbedder } from "../lib/llm/tfidf.ts";
import {
  backoffDelay,
  ProviderCallError,
  providerLimiter,
  wrapChatModel,
  wrapEmbedder,
  type WrapOptions,
} from "../lib/llm/wrap.ts";
import type { ChatRequest, ChatResponse } from "../lib/llm/schema.ts";

type Step =
  | { ok: string }
  | { error: ProviderError | Error }
  | { hang: true }
  | { wait: Promise<void>; ok: string };

let providerSeq = 0;

/**
 * A model that plays `steps` in order (the last one repeats) and records what it saw.
 * `steps` may be a function of the provider id, so errors can name the right provider.
 */
function scriptedModel(script: Step[] | ((provider: string) => Step[])) {
  const provider = `fake${++providerSeq}`;
  const steps = typeof script === "function" ? script(provider) : script;
  const calls: { request: ChatRequest; signal?: AbortSignal }[] = [];
  let active = 0;
  let peak = 0;
  const model: ChatModel & { calls: typeof calls; peak: () => number } = {
    provider,
    model: "m1",
    calls,
    peak: () => peak,
    async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
      calls.push({ request, signal: options?.signal });
      const step = steps[Math.min(calls.length - 1, steps.length - 1)] as Step;
      active++;
      peak = Math.max(peak, active);
      try {
        if ("hang" in step) {
          await new Promise((_, reject) => {
            options?.signal?.addEventListener("abort", () => reject(options.signal?.reason));
          });
        }
        if ("wait" in step) await step.wait;
        if ("error" in step) throw step.error;
        const text = "ok" in step ? step.ok : "";
        return {
          text,
          toolCalls: [],
          finishReason: "stop",
          provider,
          model: "m1",
          usage: { inputTokens: 100, cachedTokens: 20, outputTokens: 10 },
        };
      } finally {
        active--;
      }
    },
  };
  return model;
}

function providerError(
  provider: string,
  init: Partial<ConstructorParameters<typeof ProviderError>[0]>,
) {
  return new ProviderError({
    provider,
    model: "m1",
    message: "boom",
    retryable: true,
    ...init,
  });
}

/** Backoff waits are recorded, not slept. */
function recordingSleep() {
  const delays: number[] = [];
  const sleep = (ms: number) => {
    delays.push(ms);
    return Promise.resolve();
  };
  return { delays, sleep };
}

const REQ: ChatRequest = { messages: [{ role: "user", content: "question" }] };

function wrap(model: ChatModel, extra: WrapOptions = {}) {
  const { delays, sleep } = recordingSleep();
  return { wrapped: wrapChatModel(model, { sleep, random: () => 0.5, ...extra }), delays };
}

Deno.test("a cached request is not sent again; sample indexes are separate entries", async () => {
  const model = scriptedModel([{ ok: "A" }]);
  const cache = new SqliteResponseCache({ path: ":memory:" });
  const ledger = new UsageLedger();
  try {
    const { wrapped } = wrap(model, { cache, ledger });
    assert.equal((await wrapped.chat(REQ)).text, "A");
    const hit = await wrapped.chat(REQ);
    assert.equal(hit.cached, true);
    await wrapped.chat({ ...REQ, sampleIndex: 1 });
    assert.equal(model.calls.length, 2);
    const usage = ledger.snapshot().models[`${model.provider}:m1`];
    assert.equal(usage?.calls, 2);
    assert.equal(usage?.cacheHits, 1);
    assert.equal(usage?.inputTokens, 200);
    assert.deepEqual(cache.stats(), { hits: 1, misses: 2, writes: 2, skipped: 0 });
  } finally {
    cache.close();
  }
});

Deno.test("a request in flight is awaited by its twin, through the same cache file on any handle", async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const model = scriptedModel([{ wait: gate, ok: "A" }]);
  const dir = await Deno.makeTempDir({ prefix: "rpt-flight-" });
  const first = new SqliteResponseCache({ path: `${dir}/cache.sqlite` });
  const second = new SqliteResponseCache({ path: `${dir}/cache.sqlite` });
  try {
    const ledger = new UsageLedger();
    const a = wrap(model, { cache: first, ledger }).wrapped;
    const b = wrap(model, { cache: second, ledger }).wrapped;
    const replies = [a.chat(REQ), b.chat(REQ), a.chat(REQ)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(model.calls.length, 1, "the twins wait for the call in flight");
    release();
    const [x, y, z] = await Promise.all(replies);
    assert.deepEqual([x?.text, y?.text, z?.text], ["A", "A", "A"]);
    assert.deepEqual([x?.cached, y?.cached, z?.cached], [undefined, true, true]);
    assert.equal(ledger.snapshot().total.calls, 1);
    assert.equal(ledger.snapshot().total.cacheHits, 2);
    // The other handle reads the stored response at once (written, not only queued).
    assert.equal((await b.chat(REQ)).cached, true);
    assert.equal(model.calls.length, 1);
  } finally {
    first.close();
    second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed call in flight answers nothing: its twin is sent; an aborted twin stops waiting", async () => {
  let fail = () => {};
  const gate = new Promise<void>((resolve) => (fail = resolve));
  const model = scriptedModel([
    { wait: gate, ok: "never" },
    { ok: "B" },
  ]);
  // The first call fails once the gate opens (a non-retryable error after waiting).
  const failing: ChatModel = {
    provider: model.provider,
    model: model.model,
    async chat(request, options) {
      const n = model.calls.length;
      const res = await model.chat(request, options);
      if (n === 0) throw providerError(model.provider, { retryable: false });
      return res;
    },
  };
  const cache = new SqliteResponseCache({ path: ":memory:" });
  try {
    const { wrapped } = wrap(failing, { cache });
    const first = wrapped.chat(REQ);
    const controller = new AbortController();
    const aborted = wrapped.chat(REQ, { signal: controller.signal });
    const twin = wrapped.chat(REQ);
    controller.abort(new Error("caller gave up"));
    await assert.rejects(aborted, /caller gave up/);
    fail();
    await assert.rejects(first, ProviderCallError);
    assert.equal((await twin).text, "B");
    assert.equal(model.calls.length, 2);
  } finally {
    cache.close();
  }
});

Deno.test("limit: false takes no slot, so a wrapper under another of the same provider cannot deadlock", async () => {
  const model = scriptedModel([{ ok: "x" }]);
  const inner = wrapChatModel(model, { limit: false, maxRetries: 0 });
  const outer = wrapChatModel(inner, { concurrency: 1 });
  const replies = await Promise.all(
    [1, 2, 3].map((i) => outer.chat({ messages: [{ role: "user", content: `q${i}` }] })),
  );
  assert.equal(replies.length, 3);
  assert.equal(model.peak(), 1, "the outer limit still holds");
});

Deno.test("retry: false under a wrapper that retries: each attempt sent once, the error given up once", async () => {
  const model = scriptedModel((p) => [{ error: providerError(p, { status: 500 }) }]);
  const cache = new SqliteResponseCache({ path: ":memory:" });
  try {
    const inner = wrapChatModel(model, { cache, limit: false, retry: false, maxRetries: 9 });
    const { wrapped } = wrap(inner, { maxRetries: 2 });
    const error = await wrapped.chat(REQ).then(() => null, (e) => e);
    assert.ok(error instanceof ProviderCallError, String(error));
    assert.equal(model.calls.length, 3, "3 attempts in all, not 3 x 10");
    assert.equal(error.attempts, 3);
    assert.equal(error.message, `${model.provider}:m1 (HTTP 500): gave up after 3 attempts: boom`);
  } finally {
    cache.close();
  }
});

Deno.test("a wrapper that takes no slot does not wait for a twin still queued for a slot (no deadlock)", async () => {
  // A baseline cell's provider cache (limit: false, inside its harness wrapper's slot) and an
  // RPT cell's wrapper share the experiment's cache file and the provider's one slot here.
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const model = scriptedModel([{ wait: gate, ok: "block" }, { ok: "x" }]);
  const dir = await Deno.makeTempDir({ prefix: "rpt-flight-" });
  const first = new SqliteResponseCache({ path: `${dir}/cache.sqlite` });
  const second = new SqliteResponseCache({ path: `${dir}/cache.sqlite` });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const plain = { timeoutMs: 0, maxRetries: 0 };
    const rpt = wrapChatModel(model, { cache: second, concurrency: 1, ...plain });
    const inner = wrapChatModel(model, { cache: first, limit: false, ...plain });
    const harness = wrapChatModel(inner, { concurrency: 1, ...plain });
    const blocking = rpt.chat({ messages: [{ role: "user", content: "hold the slot" }] });
    const fromHarness = harness.chat(REQ); // queued first for the slot
    const fromRpt = rpt.chat(REQ); // in flight on the cache file, queued second
    release();
    const stuck = new Promise<"deadlock">((resolve) => {
      timer = setTimeout(() => resolve("deadlock"), 2000);
    });
    const outcome = await Promise.race([Promise.all([blocking, fromHarness, fromRpt]), stuck]);
    if (outcome === "deadlock") throw new Error("deadlock: no reply within 2 s");
    assert.deepEqual(outcome.map((r) => r.text), ["block", "x", "x"]);
    // The harness's call went itself rather than wait: the twin is sent again (not cached).
    assert.equal(model.calls.length, 3);
  } finally {
    clearTimeout(timer);
    first.close();
    second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errors and empty responses are not cached", async () => {
  const model = scriptedModel((p) => [
    { error: providerError(p, { status: 400, retryable: false }) },
    { ok: "" },
    { ok: "B" },
  ]);
  const cache = new SqliteResponseCache({ path: ":memory:" });
  try {
    const { wrapped } = wrap(model, { cache });
    await assert.rejects(wrapped.chat(REQ), ProviderCallError);
    assert.equal((await wrapped.chat(REQ)).text, "");
    assert.equal((await wrapped.chat(REQ)).text, "B");
    assert.equal((await wrapped.chat(REQ)).cached, true);
    assert.equal(model.calls.length, 3);
    assert.equal(cache.count(), 1);
  } finally {
    cache.close();
  }
});

Deno.test("a 429 is retried after at least its Retry-After", async () => {
  const m = scriptedModel((p) => [
    { error: providerError(p, { status: 429, retryAfterMs: 1500 }) },
    { ok: "after 429" },
  ]);
  const retries: number[] = [];
  const { wrapped, delays } = wrap(m, {
    backoff: { baseDelayMs: 100 },
    onRetry: (e) => retries.push(e.error.status ?? 0),
  });
  assert.equal((await wrapped.chat(REQ)).text, "after 429");
  // Jitter alone would give 0.5 x 100 = 50 ms; the server asked for 1.5 s.
  assert.deepEqual(delays, [1500]);
  assert.deepEqual(retries, [429]);
  assert.equal(m.calls.length, 2);
});

Deno.test("Retry-After is capped by maxRetryAfterMs", () => {
  const tuning = { baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
  assert.equal(backoffDelay(1, tuning, () => 0.5, 600_000), 5000);
  assert.equal(backoffDelay(1, tuning, () => 0.5), 50);
  assert.equal(backoffDelay(3, tuning, () => 0.5), 200);
  assert.equal(backoffDelay(10, tuning, () => 0.999), 999);
  assert.equal(backoffDelay(2, tuning, () => 0, -5), 0);
});

Deno.test("5xx errors are retried with growing jittered delays, then the call succeeds", async () => {
  const model = scriptedModel((p) => [
    { error: providerError(p, { status: 503 }) },
    { error: providerError(p, { status: 500 }) },
    { ok: "fine" },
  ]);
  const ledger = new UsageLedger();
  const { wrapped, delays } = wrap(model, { ledger, backoff: { baseDelayMs: 100 } });
  assert.equal((await wrapped.chat(REQ)).text, "fine");
  assert.deepEqual(delays, [50, 100]);
  const snap = ledger.snapshot();
  assert.equal(snap.total.calls, 1);
  assert.equal(snap.total.failures, 2);
});

Deno.test("a hang is cut by the timeout and retried", async () => {
  const model = scriptedModel([{ hang: true }, { ok: "second try" }]);
  const { wrapped, delays } = wrap(model, { timeoutMs: 30, backoff: { baseDelayMs: 10 } });
  assert.equal((await wrapped.chat(REQ)).text, "second try");
  assert.equal(model.calls.length, 2);
  assert.equal(delays.length, 1);
  // The hung attempt was told to stop.
  assert.equal(model.calls[0]?.signal?.aborted, true);
});

Deno.test("a model that ignores its signal is still cut by the timeout", async () => {
  let release!: () => void;
  const never = new Promise<void>((r) => (release = r));
  const model = scriptedModel([{ wait: never, ok: "too late" }]);
  const { wrapped } = wrap(model, { timeoutMs: 20, maxRetries: 1 });
  const error = await wrapped.chat(REQ).catch((e) => e);
  release();
  assert.ok(error instanceof ProviderCallError);
  assert.equal(error.attempts, 2);
  assert.match(error.message, /^fake\d+:m1: gave up after 2 attempts: no answer within 20 ms/);
});

Deno.test("a malformed body is retried, then fails with an error naming provider, model, status, attempts", async () => {
  let real!: ProviderError;
  const model = scriptedModel((p) => {
    real = providerError(p, { status: 200, message: "malformed JSON body" });
    return [{ error: real }];
  });
  const wrapped = wrapChatModel(model, { maxRetries: 2, sleep: () => Promise.resolve() });
  const error = await wrapped.chat(REQ).catch((e) => e);
  assert.ok(error instanceof ProviderCallError);
  assert.ok(error instanceof ProviderError);
  assert.equal(error.attempts, 3);
  assert.equal(error.status, 200);
  assert.equal(
    error.message,
    `${model.provider}:m1 (HTTP 200): gave up after 3 attempts: malformed JSON body`,
  );
  assert.equal(error.cause, real);
});

Deno.test("a non-retryable error fails after one attempt; a non-provider error passes through", async () => {
  const bad = scriptedModel((
    p,
  ) => [{ error: providerError(p, { status: 400, retryable: false }) }]);
  const error = await wrap(bad).wrapped.chat(REQ).catch((e) => e);
  assert.ok(error instanceof ProviderCallError);
  assert.equal(error.attempts, 1);
  assert.match(error.message, /\(HTTP 400\): failed after 1 attempt \(not retryable\): boom$/);
  assert.equal(bad.calls.length, 1);

  const bug = new TypeError("bug");
  const buggy = scriptedModel([{ error: bug }]);
  await assert.rejects(wrap(buggy).wrapped.chat(REQ), (e) => e === bug);
  assert.equal(buggy.calls.length, 1);
});

Deno.test("budgets stop before the call is sent, with the figures in the message", async () => {
  const model = scriptedModel([{ ok: "x" }]);
  const ledger = new UsageLedger({ budget: { calls: 2 } });
  const { wrapped } = wrap(model, { ledger });
  await wrapped.chat(REQ);
  await wrapped.chat({ ...REQ, sampleIndex: 1 });
  await assert.rejects(
    wrapped.chat({ ...REQ, sampleIndex: 2 }),
    (e: Error) =>
      e instanceof BudgetExceededError &&
      e.message ===
        `call budget of 2 reached (2 calls made, 0 in flight); not sending ${model.provider}:m1`,
  );
  assert.equal(model.calls.length, 2);

  const tokenModel = scriptedModel([{ ok: "y" }]);
  const tokenLedger = new UsageLedger({ budget: { tokens: 111 } });
  const t = wrap(tokenModel, { ledger: tokenLedger }).wrapped;
  await t.chat(REQ); // 110 tokens
  await assert.rejects(
    t.chat({ ...REQ, sampleIndex: 1 }),
    /BudgetExceededError: token budget of 111 would be exceeded \(110 used or in flight \+ ~2 for this call\)/,
  );
  assert.equal(tokenModel.calls.length, 1);
});

Deno.test("cache hits do not count against the budget", async () => {
  const model = scriptedModel([{ ok: "x" }]);
  const cache = new SqliteResponseCache({ path: ":memory:" });
  try {
    const ledger = new UsageLedger({ budget: { calls: 1 } });
    const { wrapped } = wrap(model, { ledger, cache });
    await wrapped.chat(REQ);
    for (let i = 0; i < 3; i++) assert.equal((await wrapped.chat(REQ)).cached, true);
    assert.equal(ledger.snapshot().total.cacheHits, 3);
  } finally {
    cache.close();
  }
});

Deno.test("one limit is shared by every wrapper of a provider; the smallest asked wins", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const model = scriptedModel([{ wait: gate, ok: "z" }]);
  const a = wrapChatModel(model, { concurrency: 5 });
  const b = wrapChatModel(model, { concurrency: 3 });
  const c = wrapChatModel(model, {}); // joins the provider's limit
  const all = [a, b, c, a, b, c, a, b, c, a].map((w, i) => w.chat({ ...REQ, sampleIndex: i }));
  await new Promise((r) => setTimeout(r, 0));
  const limiter = providerLimiter(model.provider);
  assert.equal(limiter?.concurrency, 3);
  assert.equal(limiter?.active, 3);
  assert.equal(limiter?.pending, 7);
  open();
  await Promise.all(all);
  assert.equal(model.peak(), 3);
  // Another server of the same provider has its own limit.
  assert.equal(providerLimiter(model.provider, "http://127.0.0.1:9/v1"), undefined);
});

Deno.test("the caller's abort is honoured while queued, while backing off, and mid-call", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const model = scriptedModel([{ wait: gate, ok: "slow" }, { ok: "fast" }]);
  const wrapped = wrapChatModel(model, { concurrency: 1 });
  const first = wrapped.chat(REQ);
  const controller = new AbortController();
  const queued = wrapped.chat({ ...REQ, sampleIndex: 1 }, { signal: controller.signal });
  controller.abort(new Error("user stop"));
  await assert.rejects(queued, /user stop/);
  open();
  assert.equal((await first).text, "slow");
  assert.equal(model.calls.length, 1);

  // Backing off with a real (long) sleep: the abort ends the wait at once.
  const failing2 = scriptedModel((p) => [
    { error: providerError(p, { status: 503, retryAfterMs: 60_000 }) },
  ]);
  const backing = wrapChatModel(failing2, {});
  const c2 = new AbortController();
  const pending = backing.chat(REQ, { signal: c2.signal });
  await new Promise((r) => setTimeout(r, 0));
  c2.abort(new Error("stop backoff"));
  await assert.rejects(pending, /stop backoff/);
  assert.equal(failing2.calls.length, 1);

  // Mid-call: no retry after the caller aborts.
  const hanging = scriptedModel([{ hang: true }]);
  const c3 = new AbortController();
  const mid = wrapChatModel(hanging, { timeoutMs: 0 }).chat(REQ, { signal: c3.signal });
  await new Promise((r) => setTimeout(r, 0));
  c3.abort(new Error("stop call"));
  await assert.rejects(mid, /stop call/);
  assert.equal(hanging.calls.length, 1);
});

Deno.test("wrapEmbedder caches batches and accounts their tokens", async () => {
  let sent = 0;
  const tfidf = new TfidfEmbedder();
  const inner = {
    provider: "tfidf",
    model: tfidf.model,
    embed: (texts: string[], options?: CallOptions) => {
      sent++;
      return tfidf.embed(texts, options);
    },
  };
  const cache = new SqliteResponseCache({ path: ":memory:" });
  const ledger = new UsageLedger();
  try {
    const embedder = wrapEmbedder(inner, { cache, ledger });
    const a = await embedder.embed(["alpha beta", "gamma"]);
    const b = await embedder.embed(["alpha beta", "gamma"]);
    assert.deepEqual(a, b);
    assert.equal(sent, 1);
    await embedder.embed(["gamma", "alpha beta"]);
    assert.equal(sent, 2);
    const usage = ledger.snapshot().models["tfidf:tfidf-hash-2048"];
    assert.deepEqual(
      { calls: usage?.calls, hits: usage?.cacheHits, input: usage?.inputTokens, usd: usage?.usd },
      { calls: 2, hits: 1, input: 10, usd: 0 },
    );
  } finally {
    cache.close();
  }
});

// ---------------------------------------------------------------------------------------------
// End to end: the real OpenAI SDK against the local server, with injected faults.

/** Runs `body` against a local OpenAI server whose next requests meet `faults`. */
async function withServer(
  faults: Fault[],
  body: (ctx: {
    model: OpenAIChatModel;
    requests: () => number;
    url: string;
  }) => Promise<void>,
) {
  const server = serveModels({
    models: { trivial: new ScriptedChatModel(() => "pong") },
    faults: { queue: faults },
  });
  try {
    const model = new OpenAIChatModel({
      model: "trivial",
      apiKey: "sk-local",
      baseURL: `${server.url}/v1`,
      provider: "openai-compatible",
    });
    await body({ model, requests: () => server.requests.length, url: server.url });
  } finally {
    await server.close();
  }
}

Deno.test("e2e: a 429's Retry-After is waited out, then the call succeeds", async () => {
  await withServer([{ kind: "status", status: 429, retryAfter: "2" }], async (s) => {
    const { wrapped, delays } = wrap(s.model, { random: () => 0, backoff: { baseDelayMs: 10 } });
    const res = await wrapped.chat(REQ);
    assert.equal(res.text, "pong");
    assert.deepEqual(delays, [2000]);
    assert.equal(s.requests(), 2);
  });
});

Deno.test("e2e: 500 and 503 are retried, then the call succeeds and is accounted once", async () => {
  const faults: Fault[] = [{ kind: "status", status: 500 }, { kind: "status", status: 503 }];
  await withServer(faults, async (s) => {
    const ledger = new UsageLedger();
    const { wrapped, delays } = wrap(s.model, { ledger, backoff: { baseDelayMs: 10 } });
    assert.equal((await wrapped.chat(REQ)).text, "pong");
    assert.deepEqual(delays, [5, 10]);
    assert.equal(s.requests(), 3);
    const usage = ledger.snapshot().models["openai-compatible:trivial"];
    assert.equal(usage?.calls, 1);
    assert.equal(usage?.failures, 2);
  });
});

Deno.test("e2e: a hanging server is cut by the timeout and the retry succeeds", async () => {
  await withServer([{ kind: "hang" }], async (s) => {
    const retries: string[] = [];
    const { wrapped } = wrap(s.model, {
      timeoutMs: 300,
      onRetry: (e) => retries.push(e.error.message),
    });
    assert.equal((await wrapped.chat(REQ)).text, "pong");
    assert.equal(s.requests(), 2);
    assert.match(retries[0] ?? "", /no answer within 300 ms/);
  });
});

Deno.test("e2e: malformed bodies are retried, then a clear final error", async () => {
  const faults: Fault[] = [{ kind: "malformed" }, { kind: "malformed" }, { kind: "malformed" }];
  await withServer(faults, async (s) => {
    const cache = new SqliteResponseCache({ path: ":memory:" });
    try {
      const { wrapped } = wrap(s.model, { maxRetries: 2, cache });
      const error = await wrapped.chat(REQ).catch((e) => e);
      assert.ok(error instanceof ProviderCallError, String(error));
      assert.equal(error.attempts, 3);
      assert.match(
        error.message,
        /^openai-compatible:trivial: gave up after 3 attempts: malformed response/,
      );
      assert.equal(s.requests(), 3);
      // Nothing was cached; the next call reaches the (now healthy) server.
      assert.equal(cache.count(), 0);
      assert.equal((await wrapped.chat(REQ)).text, "pong");
    } finally {
      cache.close();
    }
  });
});

Deno.test("e2e: a 400 is not retried; the error names provider, model and status", async () => {
  await withServer([{ kind: "status", status: 400 }], async (s) => {
    const { wrapped, delays } = wrap(s.model);
    const error = await wrapped.chat(REQ).catch((e) => e);
    assert.ok(error instanceof ProviderCallError);
    assert.equal(error.status, 400);
    assert.match(
      error.message,
      /^openai-compatible:trivial \(HTTP 400\): failed after 1 attempt \(not retryable\): /,
    );
    assert.deepEqual(delays, []);
    assert.equal(s.requests(), 1);
  });
});

Deno.test("e2e: the limiter is keyed by the server's base URL", async () => {
  await withServer([], async (s) => {
    const wrapped = wrapChatModel(s.model, { concurrency: 2 });
    assert.equal(providerLimiter("openai-compatible", `${s.url}/v1`)?.concurrency, 2);
    assert.equal((wrapped as { baseURL?: string }).baseURL, `${s.url}/v1`);
    assert.equal((await wrapped.chat(REQ)).text, "pong");
  });
});

Deno.test("e2e: an exhausted budget sends nothing to the server", async () => {
  await withServer([], async (s) => {
    const ledger = new UsageLedger({ budget: { calls: 1 } });
    const { wrapped } = wrap(s.model, { ledger });
    assert.equal((await wrapped.chat(REQ)).text, "pong");
    await assert.rejects(wrapped.chat({ ...REQ, sampleIndex: 1 }), BudgetExceededError);
    assert.equal(s.requests(), 1);
    assert.equal(ledger.snapshot().total.calls, 1);
  });
});
