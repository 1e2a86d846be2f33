/**
 * No API key reaches a file the project writes: a call (and a failing call whose server
 * echoes the key back) goes through the real OpenAI SDK, the wrapper, the cache and the
 * ledger; then every file in the run's directory is scanned for the key.
 */
import assert from "node:assert/strict";
import { UsageLedger } from "../lib/llm/accounting.ts";
import { SqliteResponseCache } from "../lib/llm/cache.ts";
import { OpenAIChatModel } from "../lib/llm/openai.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { wrapChatModel } from "../lib/llm/wrap.ts";

const SECRET = "sk-test-SECRET123";

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}

/** Every file's bytes as Latin-1 text, so the search also covers binary SQLite pages. */
async function scan(dir: string): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for (const path of await filesUnder(dir)) {
    contents.set(path, new TextDecoder("latin1").decode(await Deno.readFile(path)));
  }
  return contents;
}

Deno.test("the API key appears in no file written by wrapper, cache, ledger or logs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rpt-secrets-" });
  const env = { OPENAI_API_KEY: SECRET };
  const server = serveModels({
    models: { "gpt-4.1": new ScriptedChatModel(() => "pong from the local server") },
  });
  const cache = new SqliteResponseCache({ path: `${dir}/.rpt/cache.sqlite` });
  try {
    const ledger = new UsageLedger();
    const model = wrapChatModel(
      new OpenAIChatModel({
        model: "gpt-4.1",
        apiKey: env.OPENAI_API_KEY,
        baseURL: `${server.url}/v1`,
      }),
      { cache, ledger, maxRetries: 1, sleep: () => Promise.resolve() },
    );
    const request = {
      messages: [{ role: "user" as const, content: "ping" }],
      tools: [{ name: "lookup", description: "d", parameters: { type: "object" } }],
    };
    const first = await model.chat(request);
    const second = await model.chat(request);
    assert.equal(second.cached, true);

    // A server that echoes the key in its error body, as OpenAI's 401 does.
    server.faults.queue = [{
      kind: "status",
      status: 401,
      body: JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRET}.` } }),
    }];
    const error = await model.chat({ ...request, sampleIndex: 1 }).catch((e) => e as Error);
    assert.ok(error instanceof Error);
    // The server did echo the key; the provider layer redacted it from the message.
    assert.match(error.message, /HTTP 401.*Incorrect API key provided: \[redacted\]/);

    // What a run writes: a log of what happened, the usage record, the responses.
    await Deno.writeTextFile(
      `${dir}/events.jsonl`,
      [first, second].map((r) => JSON.stringify(r)).join("\n") + "\n" +
        JSON.stringify({ error: error.message, stack: error.stack, cause: String(error.cause) }) +
        "\n",
    );
    await Deno.writeTextFile(`${dir}/usage.json`, JSON.stringify(ledger.snapshot()));
    assert.equal(server.requests[0]?.headers.authorization, "[redacted]");

    for (const closed of [false, true]) {
      if (closed) cache.close();
      const contents = await scan(dir);
      // The scan does see what was written (the cache holds the answer) ...
      assert.ok(
        [...contents.values()].some((text) => text.includes("pong from the local server")),
        "the cached answer should be on disk",
      );
      assert.ok(contents.size >= 3);
      // ... and no file holds the key.
      for (const [path, text] of contents) {
        assert.equal(text.includes(SECRET), false, `${path} contains the API key`);
      }
    }
  } finally {
    cache.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
