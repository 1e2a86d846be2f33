/**
 * Test helpers every provider adapter shares: awaiting a {@linkcode ProviderError}, the
 * transport failures each adapter must map the same way (a malformed body, a timeout versus
 * a cancel, a refused connection), registered once per provider, and the HTTP failures of
 * the OpenAI wire (Retry-After, retryable statuses, truncated tool calls, no key in errors),
 * registered once per OpenAI API path so that Chat Completions and Responses keep one
 * contract.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChatModel, ProviderError } from "../../lib/llm/model.ts";
import { ask, startScriptedServer } from "./fake_server.ts";

/** The ProviderError a call fails with; fails the test when it succeeds or throws otherwise. */
export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderError, `expected ProviderError, got ${error}`);
    return error;
  }
  throw new Error("expected the call to fail");
}

/**
 * Registers the transport-failure tests for one provider: `client` builds its chat model on
 * a scripted server's URL; `apiKey` is the key it was given, which no error may show.
 */
export function transportFailureTests(
  provider: string,
  client: (url: string) => ChatModel,
  apiKey: string,
): void {
  Deno.test(`${provider}: a malformed body is a retryable ProviderError`, async () => {
    await using server = startScriptedServer([]);
    server.faults.queue = [{ kind: "malformed" }];
    const error = await failure(client(server.url).chat(ask));
    assert.equal(error.retryable, true);
    assert.equal(error.status, undefined);
    assert.match(error.message, /malformed response body/);
  });

  Deno.test(`${provider}: a hang past an AbortSignal timeout is a retryable timeout; a cancel rethrows`, async () => {
    await using server = startScriptedServer([]);
    server.faults.queue = [{ kind: "hang" }, { kind: "hang" }];
    const model = client(server.url);
    const timedOut = await failure(model.chat(ask, { signal: AbortSignal.timeout(50) }));
    assert.equal(timedOut.retryable, true);
    assert.match(timedOut.message, /timed out/);
    const controller = new AbortController();
    const pending = model.chat(ask, { signal: controller.signal });
    while (server.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error("user cancelled");
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
  });

  Deno.test(`${provider}: a connection failure is retryable and names no key`, async () => {
    const server = startScriptedServer([]);
    const url = server.url;
    await server.close();
    const error = await failure(client(url).chat(ask));
    assert.equal(error.retryable, true);
    assert.match(error.message, /connection failed/);
    assert.ok(!error.message.includes(apiKey));
  });
}

/**
 * Registers the OpenAI-wire HTTP failure tests for one client path: `client` builds a chat
 * model named `model` (default `m`) on a scripted server's URL; `apiKey` is its key.
 */
export function openAIFailureTests(
  label: string,
  client: (url: string, model?: string) => ChatModel,
  apiKey: string,
): void {
  Deno.test(`${label}: 429 with Retry-After (seconds or HTTP date) is retryable with the delay`, async () => {
    await using server = startScriptedServer([]);
    const date = new Date(Date.now() + 60_000).toUTCString();
    server.faults.queue = [
      { kind: "status", status: 429, retryAfter: "2" },
      { kind: "status", status: 429, retryAfter: date },
    ];
    const model = client(server.url);
    const first = await failure(model.chat(ask));
    assert.equal(first.status, 429);
    assert.equal(first.retryable, true);
    assert.equal(first.retryAfterMs, 2000);
    assert.ok(first.message.startsWith(`${model.provider}:m (HTTP 429)`), first.message);
    const second = await failure(model.chat(ask));
    assert.ok(
      second.retryAfterMs! > 50_000 && second.retryAfterMs! <= 60_000,
      `${second.retryAfterMs}`,
    );
  });

  Deno.test(`${label}: 500 and 503 are retryable, 400 and 404 are not`, async () => {
    await using server = startScriptedServer([]);
    server.faults.queue = [
      { kind: "status", status: 500 },
      { kind: "status", status: 503 },
      { kind: "status", status: 400 },
    ];
    const model = client(server.url);
    for (const [status, retryable] of [[500, true], [503, true], [400, false]] as const) {
      const error = await failure(model.chat(ask));
      assert.equal(error.status, status);
      assert.equal(error.retryable, retryable);
      assert.equal(error.retryAfterMs, undefined);
    }
    const missing = await failure(client(server.url, "unknown-model").chat(ask));
    assert.equal(missing.status, 404);
    assert.equal(missing.retryable, false);
    assert.match(missing.message, /unknown-model not found/);
  });

  Deno.test(`${label}: truncated tool-call arguments come back as a response that fails JSON.parse`, async () => {
    await using server = startScriptedServer([
      { toolCalls: [{ id: "c", name: "add", arguments: { a: 2, b: 2 } }] },
    ]);
    server.faults.queue = [{ kind: "truncated_tool_call" }];
    const res = await client(server.url).chat(ask);
    assert.equal(res.toolCalls.length, 1);
    assert.equal(res.toolCalls[0]?.name, "add");
    assert.equal(res.toolCalls[0]?.id, "c");
    assert.throws(() => JSON.parse(res.toolCalls[0]!.arguments), SyntaxError);
  });

  Deno.test(`${label}: the API key reaches neither the recorded requests nor error messages`, async () => {
    await using server = startScriptedServer(["ok"]);
    server.faults.queue = [{
      kind: "status",
      status: 401,
      body: JSON.stringify({ error: { message: `Incorrect API key provided: ${apiKey}` } }),
    }];
    const model = client(server.url);
    const error = await failure(model.chat(ask));
    assert.equal(error.status, 401);
    assert.equal(error.retryable, false);
    assert.ok(!error.message.includes(apiKey), error.message);
    assert.ok(!String(error.stack).includes(apiKey));
    assert.equal((await model.chat(ask)).text, "ok");
    assert.equal(server.requests[1]?.headers.authorization, "[redacted]");
    assert.ok(!JSON.stringify(server.requests).includes(apiKey));
  });
}
