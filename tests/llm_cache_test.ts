import assert from "node:assert/strict";
import {
  cacheKey,
  type CacheKeyParts,
  defaultCachePath,
  SqliteResponseCache,
} from "../lib/llm/cache.ts";
import { redactURL } from "../lib/util/redact.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { wrapChatModel } from "../lib/llm/wrap.ts";
import type { ChatRequest, ChatResponse } from "../lib/llm/schema.ts";

const FIXTURE = new URL("./support/processes/cache_process.ts", import.meta.url).pathname;

function response(text: string, extra: Partial<ChatResponse> = {}): ChatResponse {
  return {
    text,
    toolCalls: [],
    finishReason: "stop",
    provider: "test",
    model: "echo",
    usage: { inputTokens: 3, cachedTokens: 1, outputTokens: 2 },
    ...extra,
  };
}

function chatParts(request: Partial<ChatRequest>, extra: Partial<CacheKeyParts> = {}) {
  return {
    kind: "chat" as const,
    provider: "openai",
    model: "gpt-4.1",
    request: { messages: [{ role: "user", content: "hi" }], ...request },
    ...extra,
  };
}

/** A model that counts its calls and answers with the user's text. */
function countingModel(): ChatModel & { sent: number } {
  const model = {
    provider: "test",
    model: "echo",
    sent: 0,
    chat(request: ChatRequest) {
      model.sent++;
      return Promise.resolve(
        response(`fresh:${request.messages[0]?.content}:${request.sampleIndex ?? 0}`),
      );
    },
  };
  return model;
}

async function runFixture(...args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `fixture failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("cacheKey distinguishes everything that affects the response", () => {
  const base = cacheKey(chatParts({}));
  const variants = [
    chatParts({ sampleIndex: 1 }),
    chatParts({ temperature: 0.5 }),
    chatParts({ maxTokens: 10 }),
    chatParts({ seed: 7 }),
    chatParts({ toolChoice: "required" }),
    chatParts({ tools: [{ name: "t", description: "d", parameters: { type: "object" } }] }),
    chatParts({ outputSchema: { name: "s", schema: { type: "object" } } }),
    chatParts({ messages: [{ role: "user", content: "hi!" }] }),
    chatParts({}, { model: "gpt-4.1-mini" }),
    chatParts({}, { provider: "openai-compatible" }),
    chatParts({}, { baseURL: "http://127.0.0.1:8000/v1" }),
    chatParts({}, { kind: "embed" }),
  ].map(cacheKey);
  assert.equal(new Set([base, ...variants]).size, variants.length + 1);
  assert.match(base, /^[0-9a-f]{64}$/);
});

Deno.test("cacheKey ignores key order, undefined fields and credentials in the base URL", () => {
  const a = cacheKey({
    kind: "chat",
    provider: "p",
    model: "m",
    baseURL: "https://h.example/v1",
    request: { temperature: 0, messages: [{ content: "x", role: "user" }] },
  });
  const b = cacheKey({
    model: "m",
    provider: "p",
    kind: "chat",
    baseURL: "https://user:sk-test-SECRET@h.example/v1/?api_key=sk-other#frag",
    request: { messages: [{ role: "user", content: "x" }], temperature: 0, seed: undefined },
  });
  assert.equal(a, b);
  assert.equal(redactURL("https://user:pw@h.example/v1?key=k"), "https://h.example/v1");
  assert.equal(redactURL("not a url?key=k"), "not a url");
});

Deno.test("SqliteResponseCache stores and serves chat and embed responses with exact stats", () => {
  const cache = new SqliteResponseCache({ path: ":memory:" });
  try {
    const parts = chatParts({});
    const key = cacheKey(parts);
    assert.equal(cache.getChat(key), undefined);
    assert.equal(cache.putChat(key, parts, response("hello", { cached: false })), true);
    assert.deepEqual(cache.getChat(key), response("hello", { cached: true }));
    // The same key never answers the other kind of call.
    assert.equal(cache.getEmbed(key), undefined);

    const embedParts: CacheKeyParts = { ...parts, kind: "embed", request: { texts: ["a"] } };
    const embedKey = cacheKey(embedParts);
    const vectors = { vectors: [[0.6, 0.8]], usage: { inputTokens: 1 } };
    assert.equal(cache.putEmbed(embedKey, embedParts, vectors), true);
    assert.deepEqual(cache.getEmbed(embedKey), vectors);
    assert.deepEqual(cache.stats(), { hits: 2, misses: 2, writes: 2, skipped: 0 });
    assert.equal(cache.count(), 2);
  } finally {
    cache.close();
  }
});

Deno.test("empty responses are refused: no text, no tool call, no parsed object", () => {
  const cache = new SqliteResponseCache({ path: ":memory:" });
  try {
    const parts = chatParts({});
    const key = cacheKey(parts);
    assert.equal(cache.putChat(key, parts, response("  \n")), false);
    const embedParts: CacheKeyParts = { ...parts, kind: "embed" };
    assert.equal(
      cache.putEmbed(key, embedParts, { vectors: [], usage: { inputTokens: 0 } }),
      false,
    );
    assert.equal(
      cache.putEmbed(key, embedParts, { vectors: [[]], usage: { inputTokens: 0 } }),
      false,
    );
    assert.equal(cache.getChat(key), undefined);
    assert.deepEqual(cache.stats(), { hits: 0, misses: 1, writes: 0, skipped: 3 });
    // Tool calls or a parsed object alone are content.
    const toolCall = { id: "c1", name: "diagnose", arguments: "{}" };
    assert.equal(cache.putChat(key, parts, response("", { toolCalls: [toolCall] })), true);
    const other = cacheKey(chatParts({ sampleIndex: 3 }));
    assert.equal(cache.putChat(other, parts, response("", { parsed: { a: 1 } })), true);
    assert.deepEqual(cache.getChat(other)?.parsed, { a: 1 });
  } finally {
    cache.close();
  }
});

Deno.test("defaultCachePath: RPT_CACHE, else .rpt/cache.sqlite under the cwd", () => {
  assert.equal(defaultCachePath({ RPT_CACHE: "/x/y.sqlite" }), "/x/y.sqlite");
  assert.equal(defaultCachePath({}), `${Deno.cwd()}/.rpt/cache.sqlite`);
  assert.equal(defaultCachePath({ RPT_CACHE: " " }), `${Deno.cwd()}/.rpt/cache.sqlite`);
});

Deno.test("a repeated request is served from the cache file, in this and a second process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rpt-cache-" });
  const path = `${dir}/sub/cache.sqlite`;
  try {
    const cache = new SqliteResponseCache({ path });
    const model = countingModel();
    const wrapped = wrapChatModel(model, { cache, maxRetries: 0 });
    const request: ChatRequest = { messages: [{ role: "user", content: "q1" }], sampleIndex: 0 };
    const first = await wrapped.chat(request);
    const second = await wrapped.chat(request);
    assert.equal(model.sent, 1);
    assert.equal(first.cached, undefined);
    assert.equal(second.cached, true);
    assert.equal(second.text, "fresh:q1:0");
    // Another sample of the same request is a different entry.
    const sample1 = await wrapped.chat({ ...request, sampleIndex: 1 });
    assert.equal(sample1.text, "fresh:q1:1");
    assert.equal(model.sent, 2);
    assert.ok(cache.sizeBytes() > 0);
    cache.checkpoint();
    assert.equal(Deno.statSync(`${path}-wal`).size, 0);
    assert.equal(cache.sizeBytes(), Deno.statSync(path).size + Deno.statSync(`${path}-shm`).size);

    // A second process opens the same file while this handle is still open.
    const other = await runFixture("read", path, JSON.stringify(request));
    assert.deepEqual(other, { text: "fresh:q1:0", cached: true, sent: 0 });
    const otherSample = await runFixture(
      "read",
      path,
      JSON.stringify({ ...request, sampleIndex: 2 }),
    );
    assert.deepEqual(otherSample, { text: "fresh:q1:2", cached: false, sent: 1 });
    // ... and what it stored is visible here.
    const seen = await wrapped.chat({ ...request, sampleIndex: 2 });
    assert.equal(seen.cached, true);
    assert.equal(model.sent, 2);
    cache.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("several processes write to one cache file at once without losing entries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rpt-cache-" });
  const path = `${dir}/cache.sqlite`;
  try {
    const results = await Promise.all([
      runFixture("write", path, "150"),
      runFixture("write", path, "150"),
      runFixture("write", path, "150"),
    ]);
    for (const r of results) assert.deepEqual(r, { sent: 150, writes: 150 });
    const cache = new SqliteResponseCache({ path });
    assert.equal(cache.count(), 450);
    cache.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stores are queued and written in one transaction; exit writes what is queued", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rpt-cache-" });
  const path = `${dir}/cache.sqlite`;
  try {
    const cache = new SqliteResponseCache({ path, flushDelayMs: 60_000 });
    const other = new SqliteResponseCache({ path });
    const parts = chatParts({});
    const key = cacheKey(parts);
    assert.equal(cache.putChat(key, parts, response("queued")), true);
    // This handle reads its own queued write; another handle sees it after the flush.
    assert.equal(cache.getChat(key)?.text, "queued");
    assert.equal(other.getChat(key), undefined);
    cache.flush();
    assert.equal(other.getChat(key)?.text, "queued");
    assert.deepEqual(cache.stats(), { hits: 1, misses: 0, writes: 1, skipped: 0 });
    cache.close();
    other.close();

    const exited = await runFixture("write-exit", `${dir}/exit.sqlite`, "40");
    assert.deepEqual(exited, { sent: 40 });
    const after = new SqliteResponseCache({ path: `${dir}/exit.sqlite` });
    assert.equal(after.count(), 40);
    after.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
