/**
 * Local model servers for tests, demos and benchmarks: serves any {@linkcode ChatModel} /
 * {@linkcode Embedder} over HTTP on 127.0.0.1 in both the OpenAI (Chat Completions,
 * Responses, embeddings) and the Gemini (`generateContent`, `embedContent`,
 * `batchEmbedContents`) wire formats, so that the real provider SDKs can be driven offline,
 * with both providers' batch APIs (`serve_batch.ts`). Every chat endpoint gets the same
 * faults and recording. Faults (429 with `Retry-After`, 5xx, a hang, a malformed body, a
 * truncated tool call) can be queued or drawn at seeded rates, to exercise every failure path
 * of the client side; batch jobs take faults of their own (failed lines, expiry, slowness).
 *
 * @module
 */
import type { ChatRequest, ChatResponse, ToolCall } from "./schema.ts";
import { seededRandom } from "../util/random.ts";
import type { ChatModel, Embedder } from "./model.ts";
import {
  type BatchFaultPlan,
  type BatchJobRecord,
  type BatchRoute,
  BatchService,
  matchBatchRoute,
} from "./serve_batch.ts";
import {
  fromGeminiRequest,
  fromOpenAIRequest,
  GeminiEmbedBody,
  geminiErrorBody,
  OpenAIEmbedBody,
  openAIErrorBody,
  toGeminiResponse,
  toOpenAIResponse,
  WireError,
  wireFailure,
} from "./serve_wire.ts";
import { fromResponsesRequest, toResponsesResponse } from "./serve_responses.ts";

/** Faults consumed in order by the next model requests, then drawn at seeded rates. */
export interface FaultPlan {
  /** Faults for the next requests, first first; each is used once. */
  queue?: Fault[];
  /**
   * Probability per request of each fault once the queue is empty (seeded by `seed`): a 429
   * (with `Retry-After: retryAfter`, default "1"), a 500, a request that never answers, and a
   * 200 whose JSON body is cut in half.
   */
  rates?: {
    status429?: number;
    status500?: number;
    hang?: number;
    truncated?: number;
    /** The `Retry-After` of drawn 429s (seconds; default "1"). */
    retryAfter?: string;
  };
  /** Seed of the rate draws (default 0). */
  seed?: number;
}

/** One injected fault. */
export type Fault =
  | { kind: "status"; status: number; retryAfter?: string; body?: string }
  | { kind: "hang" }
  | { kind: "malformed" }
  | { kind: "truncated" }
  | { kind: "truncated_tool_call" };

/** One request as the server recorded it; credential headers are redacted. */
export interface RecordedRequest {
  /** HTTP method. */
  method: string;
  /** URL path without the query string (where some clients put keys). */
  path: string;
  /** Parsed JSON body, or the raw text when it is not JSON (a size note for uploads). */
  body: unknown;
  /** Lower-cased header names; credential values replaced by `[redacted]`. */
  headers: Record<string, string>;
}

/** A running model server; `await using` closes it. */
export interface ModelServer extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:43123`; the OpenAI base URL is `${url}/v1`. */
  url: string;
  /** The bound port. */
  port: number;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Mutable: tests push faults onto `faults.queue` (always an array) or change the rates. */
  faults: FaultPlan;
  /** Mutable: faults of the next batch jobs (`batchFaults.queue` is always an array). */
  batchFaults: BatchFaultPlan;
  /** Every batch job created (both wires), in creation order, with its current state. */
  batches: BatchJobRecord[];
  /**
   * Requests received and answered so far (whatever `recordLimit` keeps in `requests`);
   * their difference is what is in flight.
   */
  counts: { received: number; answered: number };
  /** Releases hanging requests, stops listening and waits for in-flight requests. */
  close(): Promise<void>;
}

/** Options of {@linkcode serveModels}. */
export interface ServeOptions {
  /** Served model name -> chat model. */
  models: Record<string, ChatModel>;
  /** Served model name -> embedder. */
  embedders?: Record<string, Embedder>;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Delay added before every answer, in milliseconds. */
  latencyMs?: number;
  /** Initial fault plan. */
  faults?: FaultPlan;
  /** Initial fault plan of batch jobs. */
  batchFaults?: BatchFaultPlan;
  /**
   * Called with one line per request answered, e.g. `console.log`: `METHOD path status`, then
   * `model=NAME` for a model request and `fault=KIND` (`429`, `500`, `hang`, `truncated`, ...)
   * when a fault was injected, so a soak can count the faults each role met.
   */
  log?: (line: string) => void;
  /**
   * Keep the last N requests in `requests` (default: all, for tests). A long-running server
   * such as `rpt sim-server` sets a bound so memory does not grow with traffic.
   */
  recordLimit?: number;
}

type Wire = "openai" | "gemini";

/** The chat wire formats: OpenAI Chat Completions, OpenAI Responses, Gemini. */
type ChatApi = "chat" | "responses" | "gemini";

type Route =
  | { wire: Wire; kind: "chat"; api: ChatApi; model?: string }
  | { wire: Wire; kind: "embed"; model?: string; single?: boolean }
  | { wire: Wire; kind: "batch"; batch: BatchRoute };

const REDACTED = "[redacted]";
const CREDENTIAL_HEADER = /authorization|api-key|token|secret|cookie/i;

/**
 * Starts a server on 127.0.0.1 serving the given models in both wire formats.
 *
 * @example
 * ```ts
 * import { serveModels } from "./serve.ts";
 * import { ScriptedChatModel } from "./scripted.ts";
 * const server = serveModels({ models: { m: new ScriptedChatModel(["hello"]) } });
 * const res = await fetch(`${server.url}/v1/chat/completions`, {
 *   method: "POST",
 *   body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
 * });
 * const body = await res.json();
 * await server.close();
 * if (body.choices[0].message.content !== "hello") throw new Error("unexpected");
 * ```
 */
export function serveModels(opts: ServeOptions): ModelServer {
  const closing = new AbortController();
  const requests: RecordedRequest[] = [];
  let counter = 0;
  let rng: { seed: number; next: () => number } | undefined;

  const nextFault = (): Fault | undefined => {
    const plan = server.faults;
    const queued = plan.queue?.shift();
    if (queued) return queued;
    const rates = plan.rates;
    if (!rates) return undefined;
    const seed = plan.seed ?? 0;
    if (!rng || rng.seed !== seed) rng = { seed, next: seededRandom(seed) };
    const draw = rng.next();
    let edge = rates.status429 ?? 0;
    if (draw < edge) return { kind: "status", status: 429, retryAfter: rates.retryAfter ?? "1" };
    edge += rates.status500 ?? 0;
    if (draw < edge) return { kind: "status", status: 500 };
    edge += rates.hang ?? 0;
    if (draw < edge) return { kind: "hang" };
    edge += rates.truncated ?? 0;
    if (draw < edge) return { kind: "truncated" };
    return undefined;
  };

  const counts = { received: 0, answered: 0 };
  const handle = async (req: Request): Promise<Response> => {
    counts.received++;
    const note: RequestNote = {};
    const response = await answer(req, note);
    counts.answered++;
    opts.log?.(
      `${req.method} ${new URL(req.url).pathname} ${response.status}` +
        (note.model !== undefined ? ` model=${note.model}` : "") +
        (note.fault !== undefined ? ` fault=${faultName(note.fault)}` : ""),
    );
    return response;
  };

  const answer = async (req: Request, note: RequestNote): Promise<Response> => {
    const url = new URL(req.url);
    const text = await req.text();
    const contentType = req.headers.get("content-type") ?? "";
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // Recorded as raw text; the route handler answers 400.
    }
    const recorded = contentType.startsWith("multipart/") ? `[upload, ${text.length} chars]` : body;
    requests.push(recordedRequest(req.method, url.pathname, recorded, req.headers));
    if (opts.recordLimit !== undefined && requests.length > opts.recordLimit) {
      requests.splice(0, requests.length - opts.recordLimit);
    }
    const batch = matchBatchRoute(req.method, url.pathname);
    const route: Route | undefined = batch
      ? { wire: batch.wire, kind: "batch", batch }
      : matchRoute(req.method, url.pathname, body);
    if (!route) {
      return errorResponse("openai", 404, `no route for ${req.method} ${url.pathname}`);
    }
    // Not `req.signal`: Deno aborts it after every successful response too (and warns), and
    // a hang released only at close() is what a server that never answers looks like.
    const signal = closing.signal;
    const fault = nextFault();
    if (route.kind !== "batch") note.model = route.model ?? named(body).model;
    note.fault = fault;
    if (fault?.kind === "hang") {
      await waitForAbort(signal);
      return errorResponse(route.wire, 503, "server closed while hanging");
    }
    if (opts.latencyMs) await sleep(opts.latencyMs, signal);
    if (signal.aborted) return errorResponse(route.wire, 503, "server closed");
    if (fault?.kind === "status") {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
      if (fault.body !== undefined) {
        return new Response(fault.body, {
          status: fault.status,
          headers: { "content-type": "application/json", ...headers },
        });
      }
      return errorResponse(route.wire, fault.status, "injected fault", headers);
    }
    if (fault?.kind === "malformed") {
      return new Response('{"candidates": [{"content": {"parts": [{"text": "cut', {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    }
    try {
      const id = ++counter;
      if (route.kind === "batch") {
        return await batches.handle(route.batch, { contentType, text, body });
      }
      if (route.kind === "embed") {
        const answered = await serveEmbed(route, body, signal);
        return fault?.kind === "truncated" && answered.ok
          ? truncatedJson(await answered.json())
          : answered;
      }
      const model = route.model ?? "";
      const served = opts.models[model];
      if (!served) return errorResponse(route.wire, 404, `model ${model} not found`);
      const request = decodeChat(route.api, body);
      let response = await served.chat(request, { signal });
      if (fault?.kind === "truncated_tool_call") response = truncateToolCalls(response, request);
      const encoded = encodeChat(route.api, response, model, id, body);
      return fault?.kind === "truncated" ? truncatedJson(encoded) : Response.json(encoded);
    } catch (error) {
      return failureResponse(route.wire, error);
    }
  };

  const serveEmbed = async (
    route: Route & { kind: "embed" },
    body: unknown,
    signal: AbortSignal,
  ): Promise<Response> => {
    if (route.wire === "openai") {
      const parsed = OpenAIEmbedBody.safeParse(body);
      if (!parsed.success) throw new WireError(400, `bad embeddings body: ${parsed.error.message}`);
      const embedder = opts.embedders?.[parsed.data.model];
      if (!embedder) return errorResponse("openai", 404, `model ${parsed.data.model} not found`);
      const input = parsed.data.input;
      const texts = typeof input === "string" ? [input] : input;
      const result = await embedder.embed(texts, { signal });
      const base64 = parsed.data.encoding_format === "base64";
      return Response.json({
        object: "list",
        model: parsed.data.model,
        data: result.vectors.map((vector, index) => ({
          object: "embedding",
          index,
          embedding: base64 ? float32Base64(vector) : vector,
        })),
        usage: { prompt_tokens: result.usage.inputTokens, total_tokens: result.usage.inputTokens },
      });
    }
    const model = route.model ?? "";
    const embedder = opts.embedders?.[model];
    if (!embedder) return errorResponse("gemini", 404, `model ${model} not found`);
    const parsed = GeminiEmbedBody.safeParse(body);
    if (!parsed.success) throw new WireError(400, `bad embed body: ${parsed.error.message}`);
    const contents = parsed.data.requests?.map((r) => r.content) ??
      (parsed.data.content ? [parsed.data.content] : []);
    const texts = contents.map((c) => c.parts.map((p) => p.text ?? "").join(""));
    const result = await embedder.embed(texts, { signal });
    if (route.single) return Response.json({ embedding: { values: result.vectors[0] ?? [] } });
    return Response.json({ embeddings: result.vectors.map((values) => ({ values })) });
  };

  const faults = opts.faults ?? {};
  faults.queue ??= [];
  const batchFaults = opts.batchFaults ?? {};
  batchFaults.queue ??= [];
  const batches = new BatchService({
    models: opts.models,
    faults: batchFaults,
    closing: closing.signal,
  });
  const server = { requests, faults, batchFaults, batches: batches.jobs, counts } as ModelServer;
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, onListen: () => {} },
    handle,
  );
  server.port = http.addr.port;
  server.url = `http://127.0.0.1:${http.addr.port}`;
  server.close = async () => {
    closing.abort(new Error("server closed"));
    await batches.close();
    await http.shutdown();
  };
  server[Symbol.asyncDispose] = server.close;
  return server;
}

function matchRoute(method: string, path: string, body: unknown): Route | undefined {
  if (method !== "POST") return undefined;
  if (/^(\/v1)?\/chat\/completions$/.test(path)) {
    return { wire: "openai", kind: "chat", api: "chat", ...named(body) };
  }
  if (/^(\/v1)?\/responses$/.test(path)) {
    return { wire: "openai", kind: "chat", api: "responses", ...named(body) };
  }
  if (/^(\/v1)?\/embeddings$/.test(path)) return { wire: "openai", kind: "embed" };
  const gemini =
    /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|embedContent|batchEmbedContents)$/
      .exec(path);
  if (!gemini) return undefined;
  const model = decodeURIComponent(gemini[1] ?? "");
  if (gemini[2] === "generateContent") {
    return { wire: "gemini", kind: "chat", api: "gemini", model };
  }
  return { wire: "gemini", kind: "embed", model, single: gemini[2] === "embedContent" };
}

function decodeChat(api: ChatApi, body: unknown): ChatRequest {
  if (api === "chat") return fromOpenAIRequest(body);
  return api === "responses" ? fromResponsesRequest(body) : fromGeminiRequest(body);
}

function encodeChat(
  api: ChatApi,
  response: ChatResponse,
  model: string,
  id: number,
  body: unknown,
): unknown {
  if (api === "chat") return toOpenAIResponse(response, model, id);
  if (api === "responses") return toResponsesResponse(response, model, id, body);
  return toGeminiResponse(response, model, id);
}

/** What a log line says about a request besides its method, path and status. */
interface RequestNote {
  model?: string;
  fault?: Fault;
}

/** A fault as a log line names it: the status of a status fault, else its kind. */
function faultName(fault: Fault): string {
  return fault.kind === "status" ? String(fault.status) : fault.kind;
}

function named(body: unknown): { model?: string } {
  const model = (body as { model?: unknown } | undefined)?.model;
  return typeof model === "string" ? { model } : {};
}

/**
 * A request as `requests` keeps it. Its headers are copied and redacted when first read:
 * the sim-server keeps the last 100 requests of thousands, and copying every request's
 * headers was a tenth of its CPU per call.
 */
function recordedRequest(
  method: string,
  path: string,
  body: unknown,
  raw: Headers,
): RecordedRequest {
  let headers: Record<string, string> | undefined;
  return {
    method,
    path,
    body,
    get headers() {
      return headers ??= redactHeaders(raw);
    },
  };
}

function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = CREDENTIAL_HEADER.test(name) ? REDACTED : value;
  });
  return out;
}

function errorResponse(
  wire: Wire,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body = wire === "openai"
    ? openAIErrorBody(status, message)
    : geminiErrorBody(status, message);
  return Response.json(body, { status, headers });
}

/** A served model's own failure keeps its status and Retry-After on the wire. */
function failureResponse(wire: Wire, error: unknown): Response {
  const failure = wireFailure(error);
  return errorResponse(wire, failure.status, failure.message, failure.headers);
}

/**
 * Cuts every tool call's arguments in half (adding one call when the model made none), so
 * that the client receives arguments that do not parse.
 */
function truncateToolCalls(
  response: ChatResponse,
  request: { tools?: { name: string }[] },
): ChatResponse {
  const calls: ToolCall[] = response.toolCalls.length > 0
    ? response.toolCalls
    : [{ id: "call_truncated", name: request.tools?.[0]?.name ?? "tool", arguments: "{}" }];
  return {
    ...response,
    toolCalls: calls.map((call) => ({
      ...call,
      arguments: call.arguments.slice(0, Math.max(1, Math.floor(call.arguments.length / 2))),
    })),
  };
}

/** A 200 whose JSON body stops halfway, as a connection cut mid-answer delivers it. */
function truncatedJson(value: unknown): Response {
  const text = JSON.stringify(value);
  return new Response(text.slice(0, Math.max(1, Math.floor(text.length / 2))), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

function float32Base64(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/** Sleeps, but wakes early (without error) when the server closes. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
