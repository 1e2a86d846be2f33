/**
 * Every fault of issue 14's soak on every role, deterministically: the soak draws its faults
 * at random over all requests, so a role with few requests (the embedder makes about ten)
 * may meet no truncated body in a given run. Here each role's client (the real OpenAI SDK,
 * Chat Completions for the target, optimizer and critic, embeddings for the embedder) meets
 * a 500, a 429 with Retry-After, a hang past its timeout and a truncated body, in that order,
 * and gets the answer a clean server gives, each fault counted as one failed attempt.
 */
import assert from "node:assert/strict";
import { startSimServer } from "../lib/cli/sim_server.ts";
import type { ProviderError } from "../lib/llm/model.ts";
import type { Fault } from "../lib/llm/serve.ts";
import { createChatModel, createEmbedder } from "../lib/llm/spec.ts";
import { type RetryEvent, wrapChatModel, wrapEmbedder } from "../lib/llm/wrap.ts";

const FAULTS: Fault[] = [
  { kind: "status", status: 500 },
  { kind: "status", status: 429, retryAfter: "0.3" },
  { kind: "hang" },
  { kind: "truncated" },
];

// A timeout long enough for a clean answer on a busy machine, short enough for a test.
const CALLS = { maxRetries: 4, timeoutMs: 1500, backoff: { baseDelayMs: 10, maxDelayMs: 20 } };

/** What each failed attempt was, in the soak's words. */
function kindOf(error: ProviderError): string {
  if (error.status === 500 || error.status === 429) return String(error.status);
  return /timeout/i.test(error.message) ? "hang" : "truncated";
}

Deno.test({
  name:
    "every role meets a 500, a 429 with Retry-After, a hang and a truncated body, and gets the clean answer",
  sanitizeResources: false,
  async fn() {
    await using server = startSimServer({});
    const url = `${server.url}/v1`;
    const request = {
      messages: [{ role: "user" as const, content: "Question: What is 2 + 2?" }],
    };
    for (const role of ["target", "optimizer", "critic", "embed"] as const) {
      const spec = `openai-compatible:sim-${role}@${url}`;
      const retries: RetryEvent[] = [];
      const onRetry = (e: RetryEvent) => retries.push(e);
      const call = role === "embed"
        ? await (async () => {
          const embedder = await createEmbedder(spec, { env: {} });
          const wrapped = wrapEmbedder(embedder, { ...CALLS, onRetry });
          return async () => JSON.stringify((await wrapped.embed(["two plus two"])).vectors);
        })()
        : await (async () => {
          const model = await createChatModel(spec, { env: {} });
          const wrapped = wrapChatModel(model, { ...CALLS, onRetry });
          return async () => (await wrapped.chat(request)).text;
        })();
      const clean = await call();
      retries.length = 0;
      const before = server.requests.length;
      server.faults.queue!.push(...FAULTS);
      const t0 = performance.now();
      const answer = await call();
      const ms = performance.now() - t0;
      assert.equal(answer, clean, role);
      // Each fault, in order, was one failed attempt; on a busy machine a clean answer may
      // also pass the timeout now and then (one more attempt, one more request).
      const kinds = retries.map((r) => kindOf(r.error));
      const why = `${role}: ${retries.map((r) => r.error.message).join(" | ")}`;
      let next = 0;
      for (const kind of kinds) {
        if (kind === ["500", "429", "hang", "truncated"][next]) next++;
        else assert.equal(kind, "hang", why);
      }
      assert.equal(next, 4, why);
      assert.equal(server.requests.length - before, kinds.length + 1, role);
      // The 429's Retry-After (0.3 s) is waited out over the 20 ms backoff; the hang is cut
      // at the 1.5 s timeout.
      const waited = retries.find((r) => r.error.status === 429)!.delayMs;
      assert.ok(waited >= 300, `${role}: waited ${waited} ms`);
      assert.ok(ms >= 1_800, `${role}: ${ms} ms`);
    }
  },
});
