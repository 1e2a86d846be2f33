/**
 * The batch endpoints of the local servers on the wire (raw HTTP), and batch mode through
 * `rpt sim-server` with clients made from spec strings.
 */
import assert from "node:assert/strict";
import { run as simServer, startSimServer } from "../lib/cli/sim_server.ts";
import { runBatch } from "../lib/llm/batch/run_batch.ts";
import { createBatchClient, createChatModel } from "../lib/llm/spec.ts";
import { matchBatchRoute } from "../lib/llm/serve_batch.ts";
import { SqliteResponseCache } from "../lib/llm/cache.ts";
import { wrapChatModel } from "../lib/llm/wrap.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { startScriptedServer } from "./support/fake_server.ts";

function line(customId: string, content: string, url = "/v1/chat/completions"): string {
  return JSON.stringify({
    custom_id: customId,
    method: "POST",
    url,
    body: { model: "m", messages: [{ role: "user", content }] },
  });
}

async function upload(base: string, content: string, purpose = "batch") {
  const form = new FormData();
  form.append("purpose", purpose);
  form.append("file", new File([content], "in.jsonl"));
  const res = await fetch(`${base}/v1/files`, { method: "POST", body: form });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("timed out waiting");
}

Deno.test("serve: OpenAI files and batches on the wire, with the failed lines in the error file", async () => {
  await using server = startScriptedServer((req) => `re: ${req.messages.at(-1)?.content}`);
  server.batchFaults.queue = [{ failLines: [1], failStatus: 503 }];
  const jsonl = [line("a", "one"), line("b", "two"), line("c", "three", "/v1/embeddings")]
    .join("\n");
  const file = await upload(server.url, jsonl);
  assert.equal(file.status, 200);
  assert.equal(file.body.purpose, "batch");
  const content = await fetch(`${server.url}/v1/files/${file.body.id}/content`);
  assert.equal(await content.text(), jsonl);
  assert.match(String(server.requests[0]?.body), /^\[upload, \d+ chars\]$/);

  const refused = await post(`${server.url}/v1/batches`, {
    input_file_id: file.body.id,
    endpoint: "/v1/completions",
    completion_window: "24h",
  });
  assert.equal(refused.status, 400);
  assert.match(String((refused.body.error as { message: string }).message), /not supported/);
  const missing = await post(`${server.url}/v1/batches`, {
    input_file_id: "file-nope",
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
  assert.equal(missing.status, 404);

  const created = await post(`${server.url}/v1/batches`, {
    input_file_id: file.body.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
  assert.equal(created.status, 200);
  const id = String(created.body.id);
  assert.match(id, /^batch_/);
  const done = await until(
    () => getJson(`${server.url}/v1/batches/${id}`),
    (r) => r.body.status === "completed",
  );
  assert.deepEqual(done.body.request_counts, { total: 3, completed: 1, failed: 2 });
  const out = await (await fetch(`${server.url}/v1/files/${done.body.output_file_id}/content`))
    .text();
  const answers = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(answers.map((a) => [a.custom_id, a.response.status_code]), [["a", 200]]);
  assert.equal(answers[0].response.body.choices[0].message.content, "re: one");
  const err = await (await fetch(`${server.url}/v1/files/${done.body.error_file_id}/content`))
    .text();
  assert.deepEqual(
    err.trim().split("\n").map((l) => JSON.parse(l)).map((e) => [
      e.custom_id,
      e.response.status_code,
    ]),
    [["b", 503], ["c", 400]],
  );
  const list = await getJson(`${server.url}/v1/batches`);
  assert.deepEqual((list.body.data as { id: string }[]).map((b) => b.id), [id]);
  assert.deepEqual(server.batches, [{ wire: "openai", id, lines: 3, state: "completed" }]);
  // The model answered only the lines that reached it.
  assert.deepEqual(server.model.requests.map((r) => r.messages[0]?.content), ["one"]);
});

Deno.test("serve: an input file that does not validate fails the job; runBatch falls back for all of it", async () => {
  await using server = startScriptedServer((req) => `re: ${req.messages.at(-1)?.content}`, {
    names: ["m"],
  });
  const file = await upload(server.url, `${line("a", "one")}\nnot json\n`);
  const created = await post(`${server.url}/v1/batches`, {
    input_file_id: file.body.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
  assert.equal(created.body.status, "failed");
  assert.deepEqual((created.body.errors as { data: unknown[] }).data, [
    { code: "invalid_json_line", line: 2, message: "line is not JSON" },
  ]);
  assert.deepEqual(server.model.requests, []);

  // Resuming a job that failed as a whole: every request is sent as an ordinary call.
  const spec = `openai-compatible:m@${server.url}/v1`;
  const client = await createBatchClient(spec, { env: {} });
  const model = wrapChatModel(await createChatModel(spec, { env: {} }));
  const requests: ChatRequest[] = [{ messages: [{ role: "user", content: "one" }] }];
  const run = await runBatch({ client, model }, requests, {
    resumeBatchId: String(created.body.id),
    pollIntervalMs: 0,
  });
  assert.equal(run.stats.finalState, "failed");
  assert.equal(run.stats.missing, 1);
  assert.deepEqual(run.items.map((i) => i.ok && i.response.text), ["re: one"]);
});

Deno.test("serve: Gemini batch errors come in Gemini's shape; unknown routes are not batch routes", async () => {
  await using server = startScriptedServer(["x"]);
  const unknown = await post(`${server.url}/v1beta/models/nope:batchGenerateContent`, {
    batch: { inputConfig: { requests: { requests: [] } } },
  });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, {
    error: { code: 404, message: "model nope not found", status: "NOT_FOUND" },
  });
  const bad = await post(`${server.url}/v1beta/models/m:batchGenerateContent`, { batch: {} });
  assert.equal(bad.status, 400);
  const gone = await getJson(`${server.url}/v1beta/batches/zzz`);
  assert.equal(gone.status, 404);
  assert.equal((gone.body.error as { status: string }).status, "NOT_FOUND");
  assert.equal(matchBatchRoute("DELETE", "/v1/batches/batch_1"), undefined);
  assert.equal(matchBatchRoute("POST", "/v1beta/batches/b1/cancel"), undefined);
  assert.deepEqual(matchBatchRoute("POST", "/v1/batches/b1:cancel"), {
    wire: "gemini",
    op: "cancel",
    id: "batches/b1",
  });
});

Deno.test("sim-server: batch mode through spec strings gives the interactive answers", async () => {
  const lines: string[] = [];
  await using server = startSimServer({ batchDelayMs: 30, log: (l) => lines.push(l) });
  const request = (content: string): ChatRequest => ({
    messages: [{ role: "user", content }],
  });
  const requests = [request("What is 2+2?"), request("Name a colour.")];
  const env = { GEMINI_API_KEY: "not-needed", OPENAI_API_KEY: "not-needed" };
  const specs = [
    `openai-compatible:sim-target@${server.url}/v1`,
    `openai:sim-target@${server.url}/v1`,
    `gemini:sim-target@${server.url}`,
  ];
  for (const spec of specs) {
    using cache = disposable(new SqliteResponseCache({ path: ":memory:" }));
    const client = await createBatchClient(spec, { env });
    const model = wrapChatModel(await createChatModel(spec, { env }), { cache: cache.it });
    const run = await runBatch({ client, model }, requests, {
      cache: cache.it,
      pollIntervalMs: 10,
    });
    const fresh = await createChatModel(spec, { env });
    for (const [i, item] of run.items.entries()) {
      assert.equal(item.source, "batch");
      assert.equal(item.ok && item.response.text, (await fresh.chat(requests[i]!)).text);
    }
  }
  assert.ok(lines.includes("POST /v1/files 200"));
  assert.ok(lines.includes("POST /v1/batches 200"));
  assert.ok(lines.some((l) => /^GET \/v1\/batches\/batch_\w+ 200$/.test(l)));
  assert.ok(
    lines.some((l) => /^POST \/v1\w*\/models\/sim-target:batchGenerateContent 200$/.test(l)),
  );
  assert.equal(server.batches.length, 3);
  // openai: specs batch on the Responses API, as they chat; the others on Chat Completions.
  const endpoints = server.requests
    .filter((r) => r.method === "POST" && r.path === "/v1/batches")
    .map((r) => (r.body as { endpoint: string }).endpoint);
  assert.deepEqual(endpoints, ["/v1/chat/completions", "/v1/responses"]);
});

Deno.test("sim-server CLI: a bad --batch-delay-ms is a ConfigError naming the flag", async () => {
  await assert.rejects(
    simServer(["--batch-delay-ms", "soon"]),
    /^ConfigError: --batch-delay-ms: expected a non-negative number, got 'soon'$/,
  );
});

Deno.test("createBatchClient: specs without a batch API are a ConfigError", async () => {
  await assert.rejects(createBatchClient("sim:target"), ConfigError);
  await assert.rejects(createBatchClient("tfidf"), /no batch API/);
  const gemini = await createBatchClient("gemini:gemini-2.5-flash@http://127.0.0.1:9", {
    env: { GEMINI_API_KEY: "k" },
  });
  assert.deepEqual([gemini.provider, gemini.model, gemini.baseURL], [
    "gemini",
    "gemini-2.5-flash",
    "http://127.0.0.1:9",
  ]);
});

function disposable<T extends { close(): void }>(it: T): { it: T } & Disposable {
  return { it, [Symbol.dispose]: () => it.close() };
}
