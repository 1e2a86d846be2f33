import assert from "node:assert/strict";
import { UsageLedger } from "../lib/llm/accounting.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { resetProviderLimiters, wrapChatModel } from "../lib/llm/wrap.ts";
import { UsageLog } from "../lib/run/usage.ts";
import { RunWriter } from "../lib/run/writer.ts";

/** A model answering after `ms`, so that many calls settle together. */
function slowModel(ms: number): ChatModel {
  return {
    provider: "usage-log-test",
    model: "m",
    chat: () =>
      new Promise((resolve) =>
        setTimeout(() =>
          resolve({
            text: "ok",
            toolCalls: [],
            finishReason: "stop",
            provider: "usage-log-test",
            model: "m",
            usage: { inputTokens: 10, cachedTokens: 0, outputTokens: 2 },
          }), ms)
      ),
  };
}

function linesOf(path: string): number {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "").length;
  } catch {
    return 0;
  }
}

Deno.test("usage.jsonl holds a call's line before the caller sees its result", async () => {
  const dir = await Deno.makeTempDir();
  resetProviderLimiters();
  const log = new UsageLog(new RunWriter(dir), [], () => ledger.snapshot());
  const ledger = new UsageLedger({ onRecord: (r) => log.append(r) });
  const model = wrapChatModel(slowModel(5), { ledger, concurrency: 16 });
  const path = `${dir}/usage.jsonl`;
  try {
    // 40 calls, most answered in the same turn of the event loop: each caller, the moment its
    // result arrives, finds at least as many lines as results delivered so far (its own too).
    let delivered = 0;
    const seen: number[] = [];
    await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      await model.chat({ messages: [{ role: "user", content: `q${i}` }] });
      delivered++;
      seen.push(linesOf(path) - delivered);
    }));
    assert.equal(seen.length, 40);
    assert.ok(seen.every((extra) => extra >= 0), `lines missing when results arrived: ${seen}`);
    assert.equal(linesOf(path), 40);
    const first = JSON.parse(Deno.readTextFileSync(path).split("\n")[0] ?? "");
    assert.equal(first.kind, "call");
    assert.equal(first.s, log.id);
    assert.deepEqual(first.usage, { inputTokens: 10, cachedTokens: 0, outputTokens: 2 });
  } finally {
    log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage.jsonl: lines appended just before close or save are written", async () => {
  const dir = await Deno.makeTempDir();
  const ledger = new UsageLedger();
  const log = new UsageLog(new RunWriter(dir), [], () => ledger.snapshot());
  const path = `${dir}/usage.jsonl`;
  try {
    log.append({ kind: "cache_hit", provider: "p", model: "m" });
    await log.save("running");
    assert.equal(linesOf(path), 1);
    log.append({ kind: "failure", provider: "p", model: "m" });
    log.close();
    assert.equal(linesOf(path), 2);
  } finally {
    log.close();
    await Deno.remove(dir, { recursive: true });
  }
});
