import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { leanRequests } from "../lib/llm/openai_request.ts";

/** One request as `fetch` received it. */
interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const COMPLETION = {
  id: "c1",
  object: "chat.completion",
  created: 0,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};
const EMBEDDING = {
  object: "list",
  data: [{ object: "embedding", index: 0, embedding: [0.5] }],
  model: "e",
  usage: { prompt_tokens: 1, total_tokens: 1 },
};

/** A client whose fetch records every request and answers each path with a fixed body. */
function recordingClient(lean: boolean): { client: OpenAI; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
    const body = init?.body;
    const text = typeof body === "string"
      ? body
      : body instanceof FormData
      ? `form:${[...body.keys()].join(",")}`
      : body == null
      ? ""
      : `stream:${(await new Response(body).text()).replace(/openai-[a-z0-9]+/g, "B").length}`;
    const url = String(input);
    sent.push({ method: init?.method ?? "GET", url, headers, body: text });
    const answer = url.endsWith("/embeddings")
      ? EMBEDDING
      : url.includes("/files")
      ? { id: "file-1", object: "file", bytes: 1, created_at: 0, filename: "a", purpose: "batch" }
      : COMPLETION;
    return Response.json(answer);
  };
  const client = new OpenAI({
    apiKey: "sk-test",
    baseURL: "http://127.0.0.1:9/v1",
    maxRetries: 0,
    timeout: 86_400_000,
    fetch,
  });
  return { client: lean ? leanRequests(client) : client, sent };
}

/** The same calls through a client, in order. */
async function exercise(client: OpenAI): Promise<unknown[]> {
  const out: unknown[] = [];
  const signal = new AbortController().signal;
  for (const content of ["one", "two ünïcode", "three"]) {
    out.push(
      await client.chat.completions.create({
        model: "m",
        messages: [{ role: "user", content }],
        temperature: 0,
        response_format: { type: "json_schema", json_schema: { name: "a", schema: {} } },
      }, { signal }),
    );
  }
  // Without a signal, then with per-request headers and a query: the SDK's builder.
  out.push(await client.chat.completions.create({ model: "m", messages: [] }));
  out.push(
    await client.chat.completions.create({ model: "m", messages: [] }, {
      headers: { "x-extra": "1" },
      query: { q: "1" },
    }),
  );
  for (const input of [["a"], ["b", "c"]]) {
    out.push(await client.embeddings.create({ model: "e", input, encoding_format: "float" }));
  }
  // An upload (multipart) is never lean.
  out.push(
    await client.files.create({
      file: await toFile(new TextEncoder().encode("x"), "a.jsonl"),
      purpose: "batch",
    }),
  );
  return out;
}

Deno.test("leanRequests: every request is the one the SDK builds itself (method, URL, headers, body), and so is every reply", async () => {
  const sdk = recordingClient(false);
  const lean = recordingClient(true);
  const fromSdk = await exercise(sdk.client);
  const fromLean = await exercise(lean.client);
  // Eight calls; the upload's FormData support check fetches a `data:` URL first.
  assert.equal(lean.sent.length, 9);
  assert.deepEqual(lean.sent, sdk.sent);
  assert.deepEqual(fromLean, fromSdk);
  // The lean path really ran: later chat bodies are plain JSON of the params.
  assert.equal(
    lean.sent[1]?.body,
    JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: "two ünïcode" }],
      temperature: 0,
      response_format: { type: "json_schema", json_schema: { name: "a", schema: {} } },
    }),
  );
  assert.equal(lean.sent[4]?.headers["x-extra"], "1");
  assert.ok(lean.sent[4]?.url.endsWith("?q=1"));
});

Deno.test("leanRequests: a streaming request, a per-request timeout or debug logging go to the SDK's builder", async () => {
  const { client } = recordingClient(true);
  const base = { method: "post" as const, path: "/chat/completions", body: { model: "m" } };
  await client.buildRequest({ ...base });
  const lean = await client.buildRequest({ ...base });
  assert.ok(!(lean.req.headers instanceof Headers), "a repeated plain request is lean");
  const streaming = await client.buildRequest({ ...base, body: { model: "m", stream: true } });
  assert.ok(streaming.req.headers instanceof Headers);
  const timed = await client.buildRequest({ ...base, timeout: 5_000 });
  assert.ok(timed.req.headers instanceof Headers);
  assert.equal(timed.timeout, 5_000);
  client.logLevel = "debug";
  const logged = await client.buildRequest({ ...base });
  assert.ok(logged.req.headers instanceof Headers);
});
