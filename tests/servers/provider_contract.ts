/**
 * Test helpers every provider adapter shares: awaiting a {@linkcode ProviderError}, and the
 * transport failures each adapter must map the same way (a malformed body, a timeout versus
 * a cancel, a refused connection), registered once per provider.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChatModel, ProviderError } from "../../lib/llm/model.ts";
import { ask, startScriptedServer } from "./fake.ts";

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
