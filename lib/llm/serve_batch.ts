/**
 * The batch side of the local model server (`serve.ts`): the OpenAI files and batches
 * endpoints (`POST /v1/files` multipart upload, `GET /v1/files/{id}[/content]`,
 * `POST /v1/batches` with lines for `/v1/chat/completions` or `/v1/responses`,
 * `GET /v1/batches[/{id}]`, `POST /v1/batches/{id}/cancel`) and Gemini's
 * batch mode as `@google/genai` calls it (`POST /v1beta/models/{model}:batchGenerateContent`
 * with inlined requests, `GET /v1beta/batches/{id}`, `POST /v1beta/batches/{id}:cancel`).
 *
 * A job answers its lines in the background by calling the served {@linkcode ChatModel}, one
 * line at a time, in input order. Faults are injectable per job ({@linkcode BatchFault}): lines
 * that fail, a job that expires with partial output, a job that stays in progress for a while.
 *
 * @module
 */
import type { ChatRequest, ChatResponse } from "./schema.ts";
import type { ChatModel } from "./model.ts";
import { abortableSleep } from "./wrap.ts";
import {
  fromGeminiRequest,
  fromOpenAIRequest,
  geminiErrorBody,
  openAIErrorBody,
  toGeminiResponse,
  toOpenAIResponse,
  WireError,
  wireFailure,
} from "./serve_wire.ts";
import { fromResponsesRequest, toResponsesResponse } from "./serve_responses.ts";

/** Faults of one batch job; absent fields mean no fault. */
export interface BatchFault {
  /** 0-based input lines that fail with `failStatus` (OpenAI: into the error file). */
  failLines?: number[];
  /** HTTP status of the failed lines (default 500). */
  failStatus?: number;
  /** The job expires once this many lines are done: partial output, the rest unanswered. */
  expireAfter?: number;
  /** The job stays in progress at least this long after its creation, in ms. */
  delayMs?: number;
}

/** Faults of the batch jobs a server creates. */
export interface BatchFaultPlan {
  /** Faults of the next jobs, first first; each job created takes one. */
  queue?: BatchFault[];
  /** Faults of every job once the queue is empty (e.g. `rpt sim-server --batch-delay-ms`). */
  always?: BatchFault;
}

/** A batch job as the server keeps it (tests read these to count creations). */
export interface BatchJobRecord {
  /** `openai` (files + batches) or `gemini` (batchGenerateContent). */
  wire: "openai" | "gemini";
  /** The job's id: `batch_...` or `batches/...`. */
  id: string;
  /** Lines in the job. */
  lines: number;
  /** Common state: `running` until it ends, then `completed`, `failed`, `expired`, `cancelled`. */
  state: "running" | "completed" | "failed" | "expired" | "cancelled";
}

/** A route the batch service answers. */
export type BatchRoute =
  | { wire: "openai"; op: "upload" }
  | { wire: "openai"; op: "file" | "content"; id: string }
  | { wire: "openai"; op: "create" | "list" }
  | { wire: "openai"; op: "get" | "cancel"; id: string }
  | { wire: "gemini"; op: "create"; model: string }
  | { wire: "gemini"; op: "get" | "cancel"; id: string };

/** A request as the batch service sees it: the raw text and the JSON body if it parsed. */
export interface BatchHttpRequest {
  /** The `content-type` header. */
  contentType: string;
  /** The raw body. */
  text: string;
  /** The JSON body, when it parsed. */
  body: unknown;
}

/** One line's outcome: a response or a failure. */
type LineOutcome =
  | { ok: true; response: ChatResponse }
  | { ok: false; status: number; message: string };

interface Line {
  customId: string;
  model: string;
  /** An OpenAI line's wire body (the Responses answer depends on what it asked to include). */
  body?: unknown;
  /** The parsed request, or why the line cannot run. */
  request: ChatRequest | WireError;
}

interface Job {
  record: BatchJobRecord;
  fault: BatchFault;
  lines: Line[];
  outcomes: (LineOutcome | undefined)[];
  createdAt: number;
  endedAt?: number;
  cancel: AbortController;
  // OpenAI
  endpoint?: string;
  inputFileId?: string;
  outputFileId?: string;
  errorFileId?: string;
  errors?: { code: string; line: number; message: string }[];
  metadata?: unknown;
  // Gemini
  model?: string;
  displayName?: string;
}

interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  content: string;
  createdAt: number;
}

const OPENAI_ENDPOINTS = ["/v1/chat/completions", "/v1/responses"];

/**
 * Matches a batch route, or undefined for any other path.
 *
 * @example
 * ```ts
 * import { matchBatchRoute } from "./serve_batch.ts";
 * const r = matchBatchRoute("GET", "/v1beta/batches/b1");
 * if (r?.wire !== "gemini" || r.op !== "get" || r.id !== "batches/b1") throw new Error();
 * const o = matchBatchRoute("POST", "/v1/batches/batch_7/cancel");
 * if (o?.wire !== "openai" || o.op !== "cancel" || o.id !== "batch_7") throw new Error();
 * ```
 */
export function matchBatchRoute(method: string, path: string): BatchRoute | undefined {
  const gemini = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):batchGenerateContent$/.exec(path);
  if (method === "POST" && gemini) {
    return { wire: "gemini", op: "create", model: decodeURIComponent(gemini[1]!) };
  }
  // Gemini's SDK also calls `/v1/batches/{id}`, as OpenAI's does: the id tells them apart
  // (OpenAI's are `batch_...`; Gemini's are `batches/{id}`, of which the path has the last part).
  const job = /^\/v1(beta|alpha)?\/batches\/([^/:]+)(\/cancel|:cancel)?$/.exec(path);
  if (job) {
    const segment = decodeURIComponent(job[2]!);
    const openai = job[1] === undefined && job[3] !== ":cancel" && segment.startsWith("batch_");
    const cancel = job[3] !== undefined;
    if (method !== (cancel ? "POST" : "GET")) return undefined;
    if (openai) return { wire: "openai", op: cancel ? "cancel" : "get", id: segment };
    if (job[3] === "/cancel") return undefined;
    return { wire: "gemini", op: cancel ? "cancel" : "get", id: `batches/${segment}` };
  }
  const p = path.replace(/^\/v1(?=\/(files|batches)(\/|$))/, "");
  if (method === "POST" && p === "/files") return { wire: "openai", op: "upload" };
  const file = /^\/files\/([^/]+)(\/content)?$/.exec(p);
  if (method === "GET" && file) {
    return { wire: "openai", op: file[2] ? "content" : "file", id: decodeURIComponent(file[1]!) };
  }
  if (p === "/batches" && method === "POST") return { wire: "openai", op: "create" };
  if (p === "/batches" && method === "GET") return { wire: "openai", op: "list" };
  return undefined;
}

/** Options of {@linkcode BatchService}. */
export interface BatchServiceOptions {
  /** Served model name -> chat model. */
  models: Record<string, ChatModel>;
  /** Mutable fault plan, read when each job is created. */
  faults: BatchFaultPlan;
  /** Aborts every job when the server closes. */
  closing: AbortSignal;
}

/**
 * Files and batch jobs of one server, in memory.
 *
 * @example
 * ```ts
 * import { BatchService } from "./serve_batch.ts";
 * import { ScriptedChatModel } from "./scripted.ts";
 * const service = new BatchService({ models: { m: new ScriptedChatModel(["ok"]) },
 *   faults: {}, closing: new AbortController().signal });
 * const res = await service.handle({ wire: "gemini", op: "create", model: "m" }, {
 *   contentType: "application/json", text: "",
 *   body: { batch: { inputConfig: { requests: { requests: [
 *     { request: { contents: [{ role: "user", parts: [{ text: "hi" }] }] } }] } } } },
 * });
 * await service.close();
 * if (res.status !== 200 || service.jobs.length !== 1) throw new Error("no job");
 * ```
 */
export class BatchService {
  /** Every job created, in creation order. */
  readonly jobs: BatchJobRecord[] = [];
  readonly #opts: BatchServiceOptions;
  readonly #files = new Map<string, StoredFile>();
  readonly #byId = new Map<string, Job>();
  readonly #running = new Set<Promise<void>>();
  readonly #tag = crypto.randomUUID().slice(0, 8);
  #counter = 0;

  /** Creates an empty service. */
  constructor(opts: BatchServiceOptions) {
    this.#opts = opts;
  }

  /** Answers one batch route. */
  async handle(route: BatchRoute, req: BatchHttpRequest): Promise<Response> {
    try {
      if (route.wire === "gemini") return this.#gemini(route, req);
      switch (route.op) {
        case "upload":
          return await this.#upload(req);
        case "file":
          return Response.json(fileObject(this.#file(route.id)));
        case "content":
          return new Response(this.#file(route.id).content, {
            headers: { "content-type": "application/octet-stream" },
          });
        case "create":
          return Response.json(this.#openAIJob(this.#createOpenAI(req.body)));
        case "list":
          return Response.json({
            object: "list",
            data: [...this.#byId.values()].filter((j) => j.record.wire === "openai").map((j) =>
              this.#openAIJob(j)
            ),
            has_more: false,
          });
        case "get":
          return Response.json(this.#openAIJob(this.#job(route.id, "openai")));
        case "cancel":
          return Response.json(this.#openAIJob(this.#cancel(this.#job(route.id, "openai"))));
      }
    } catch (error) {
      const failure = wireFailure(error);
      const body = route.wire === "openai"
        ? openAIErrorBody(failure.status, failure.message)
        : geminiErrorBody(failure.status, failure.message);
      return Response.json(body, { status: failure.status });
    }
  }

  /** Stops every job and waits for them. */
  async close(): Promise<void> {
    for (const job of this.#byId.values()) job.cancel.abort();
    await Promise.allSettled([...this.#running]);
  }

  #gemini(route: BatchRoute & { wire: "gemini" }, req: BatchHttpRequest): Response {
    if (route.op === "create") {
      return Response.json(this.#geminiJob(this.#createGemini(route, req)));
    }
    const job = this.#job(route.id, "gemini");
    if (route.op === "cancel") {
      this.#cancel(job);
      return Response.json({});
    }
    return Response.json(this.#geminiJob(job));
  }

  async #upload(req: BatchHttpRequest): Promise<Response> {
    if (!req.contentType.startsWith("multipart/form-data")) {
      throw new WireError(400, "a file upload must be multipart/form-data");
    }
    const form = await new Response(req.text, { headers: { "content-type": req.contentType } })
      .formData();
    const file = form.get("file");
    const purpose = form.get("purpose");
    if (!(file instanceof File)) throw new WireError(400, "missing multipart field 'file'");
    if (typeof purpose !== "string") throw new WireError(400, "missing multipart field 'purpose'");
    const stored: StoredFile = {
      id: this.#newId("file-"),
      filename: file.name,
      purpose,
      content: await file.text(),
      createdAt: now(),
    };
    this.#files.set(stored.id, stored);
    return Response.json(fileObject(stored));
  }

  #file(id: string): StoredFile {
    const file = this.#files.get(id);
    if (!file) throw new WireError(404, `no such file: ${id}`);
    return file;
  }

  #job(id: string, wire: BatchJobRecord["wire"]): Job {
    const job = this.#byId.get(id);
    if (!job || job.record.wire !== wire) throw new WireError(404, `no such batch: ${id}`);
    return job;
  }

  #createOpenAI(body: unknown): Job {
    const b = (body ?? {}) as Record<string, unknown>;
    const endpoint = b.endpoint;
    if (typeof endpoint !== "string" || !OPENAI_ENDPOINTS.includes(endpoint)) {
      throw new WireError(
        400,
        `endpoint ${JSON.stringify(endpoint)} is not supported here; use ${OPENAI_ENDPOINTS}`,
      );
    }
    if (b.completion_window !== "24h") throw new WireError(400, "completion_window must be 24h");
    const file = this.#file(String(b.input_file_id));
    if (file.purpose !== "batch") {
      throw new WireError(400, `file ${file.id} has purpose ${file.purpose}, not batch`);
    }
    const { lines, errors } = parseJsonl(file.content, endpoint);
    const job = this.#newJob("openai", this.#newId("batch_"), lines);
    Object.assign(job, { endpoint, inputFileId: file.id, metadata: b.metadata ?? null });
    if (errors.length > 0) {
      // As OpenAI does: a file that does not validate fails the whole job, no line runs.
      job.errors = errors;
      this.#end(job, "failed");
    } else {
      this.#start(job);
    }
    return job;
  }

  #createGemini(route: { model: string }, req: BatchHttpRequest): Job {
    const batch = (req.body as { batch?: Record<string, unknown> } | undefined)?.batch;
    const inlined = (batch?.inputConfig as { requests?: { requests?: unknown } } | undefined)
      ?.requests?.requests;
    if (!Array.isArray(inlined)) {
      throw new WireError(400, "batch.inputConfig.requests.requests must be a list");
    }
    if (!this.#opts.models[route.model]) {
      throw new WireError(404, `model ${route.model} not found`);
    }
    const lines: Line[] = inlined.map((item, i) => {
      const entry = (item ?? {}) as { request?: unknown; metadata?: Record<string, unknown> };
      const key = entry.metadata?.key;
      return {
        customId: typeof key === "string" ? key : String(i),
        model: route.model,
        request: parseOr(() => fromGeminiRequest(entry.request)),
      };
    });
    const job = this.#newJob("gemini", this.#newId("batches/"), lines);
    job.model = route.model;
    job.displayName = typeof batch?.displayName === "string" ? batch.displayName : job.record.id;
    this.#start(job);
    return job;
  }

  #newId(prefix: string): string {
    return `${prefix}${this.#tag}${++this.#counter}`;
  }

  #newJob(wire: BatchJobRecord["wire"], id: string, lines: Line[]): Job {
    const faults = this.#opts.faults;
    const fault = faults.queue?.shift() ?? faults.always ?? {};
    const record: BatchJobRecord = { wire, id, lines: lines.length, state: "running" };
    const job: Job = {
      record,
      fault,
      lines,
      outcomes: lines.map(() => undefined),
      createdAt: Date.now(),
      cancel: new AbortController(),
    };
    this.jobs.push(record);
    this.#byId.set(id, job);
    return job;
  }

  #start(job: Job): void {
    const running = this.#process(job).catch((error) => {
      console.error(`rpt serve: batch ${job.record.id} stopped: ${(error as Error).message}`);
    });
    this.#running.add(running);
    running.finally(() => this.#running.delete(running));
  }

  /** Answers the lines in order, honouring the job's faults, then ends the job. */
  async #process(job: Job): Promise<void> {
    const signal = AbortSignal.any([job.cancel.signal, this.#opts.closing]);
    const fault = job.fault;
    let expired = false;
    for (const [i, line] of job.lines.entries()) {
      if (signal.aborted) break;
      if (fault.expireAfter !== undefined && i >= fault.expireAfter) {
        expired = true;
        break;
      }
      job.outcomes[i] = await this.#answer(line, i, fault, signal);
    }
    const wait = job.createdAt + (fault.delayMs ?? 0) - Date.now();
    // Woken early by a cancel or the server closing; either way the job ends now.
    if (wait > 0) await abortableSleep(wait, signal).catch(() => {});
    if (job.record.state !== "running") return;
    if (this.#opts.closing.aborted) return;
    this.#end(job, job.cancel.signal.aborted ? "cancelled" : expired ? "expired" : "completed");
  }

  async #answer(
    line: Line,
    index: number,
    fault: BatchFault,
    signal: AbortSignal,
  ): Promise<LineOutcome | undefined> {
    if (fault.failLines?.includes(index)) {
      return { ok: false, status: fault.failStatus ?? 500, message: "injected batch line fault" };
    }
    if (line.request instanceof WireError) {
      return { ok: false, status: line.request.status, message: line.request.message };
    }
    const model = this.#opts.models[line.model];
    if (!model) return { ok: false, status: 404, message: `model ${line.model} not found` };
    try {
      return { ok: true, response: await model.chat(line.request, { signal }) };
    } catch (error) {
      // A line cut by cancellation was never answered: it stays absent.
      if (signal.aborted) return undefined;
      const failure = wireFailure(error);
      return { ok: false, status: failure.status, message: failure.message };
    }
  }

  #cancel(job: Job): Job {
    if (job.record.state === "running") job.cancel.abort();
    return job;
  }

  #end(job: Job, state: Exclude<BatchJobRecord["state"], "running">): void {
    job.record.state = state;
    job.endedAt = Date.now();
    if (job.record.wire === "openai") this.#writeOpenAIFiles(job);
  }

  #writeOpenAIFiles(job: Job): void {
    const out: string[] = [];
    const err: string[] = [];
    job.lines.forEach((line, i) => {
      const outcome = job.outcomes[i];
      const id = `batch_req_${job.record.id}_${i}`;
      if (outcome?.ok) {
        const body = job.endpoint === "/v1/responses"
          ? toResponsesResponse(outcome.response, line.model, i + 1, line.body)
          : toOpenAIResponse(outcome.response, line.model, i + 1);
        out.push(JSON.stringify({
          id,
          custom_id: line.customId,
          response: { status_code: 200, request_id: id, body },
          error: null,
        }));
      } else if (outcome) {
        const body = openAIErrorBody(outcome.status, outcome.message);
        err.push(JSON.stringify({
          id,
          custom_id: line.customId,
          response: { status_code: outcome.status, request_id: id, body },
          error: null,
        }));
      } else if (job.record.state === "expired") {
        err.push(JSON.stringify({
          id,
          custom_id: line.customId,
          response: null,
          error: {
            code: "batch_expired",
            message: "This request could not be executed before the completion window expired.",
          },
        }));
      }
    });
    const write = (lines: string[]) => {
      if (lines.length === 0) return undefined;
      const file: StoredFile = {
        id: this.#newId("file-"),
        filename: `${job.record.id}_output.jsonl`,
        purpose: "batch_output",
        content: lines.join("\n") + "\n",
        createdAt: now(),
      };
      this.#files.set(file.id, file);
      return file.id;
    };
    job.outputFileId = write(out);
    job.errorFileId = write(err);
  }

  #openAIJob(job: Job): unknown {
    const state = job.record.state;
    const done = job.outcomes.filter((o) => o?.ok).length;
    const failed = job.outcomes.filter((o) => o && !o.ok).length;
    const seconds = (ms: number | undefined) => ms === undefined ? null : Math.floor(ms / 1000);
    const status = state === "running"
      ? (job.cancel.signal.aborted ? "cancelling" : "in_progress")
      : state;
    const ended = seconds(job.endedAt);
    return {
      id: job.record.id,
      object: "batch",
      endpoint: job.endpoint,
      errors: job.errors ? { object: "list", data: job.errors } : null,
      input_file_id: job.inputFileId,
      completion_window: "24h",
      status,
      output_file_id: job.outputFileId ?? null,
      error_file_id: job.errorFileId ?? null,
      created_at: seconds(job.createdAt),
      in_progress_at: job.errors ? null : seconds(job.createdAt),
      expires_at: seconds(job.createdAt + 24 * 3600 * 1000),
      completed_at: state === "completed" ? ended : null,
      failed_at: state === "failed" ? ended : null,
      expired_at: state === "expired" ? ended : null,
      cancelled_at: state === "cancelled" ? ended : null,
      request_counts: { total: job.lines.length, completed: done, failed },
      metadata: job.metadata ?? null,
    };
  }

  #geminiJob(job: Job): unknown {
    const state = job.record.state;
    const done = job.outcomes.filter((o) => o?.ok).length;
    const failed = job.outcomes.filter((o) => o && !o.ok).length;
    const geminiState = state === "running"
      ? (job.cancel.signal.aborted ? "BATCH_STATE_CANCELLING" : "BATCH_STATE_RUNNING")
      : `BATCH_STATE_${
        { completed: "SUCCEEDED", failed: "FAILED", expired: "EXPIRED", cancelled: "CANCELLED" }[
          state
        ]
      }`;
    const output = state === "running" ? undefined : {
      inlinedResponses: {
        inlinedResponses: job.lines.flatMap((line, i): Record<string, unknown>[] => {
          const outcome = job.outcomes[i];
          const metadata = { key: line.customId };
          if (!outcome) return [];
          if (outcome.ok) {
            return [{ response: toGeminiResponse(outcome.response, line.model, i + 1), metadata }];
          }
          const body = geminiErrorBody(outcome.status, outcome.message) as { error: unknown };
          return [{ error: body.error, metadata }];
        }),
      },
    };
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      name: job.record.id,
      metadata: {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        model: `models/${job.model}`,
        displayName: job.displayName,
        state: geminiState,
        createTime: iso(job.createdAt),
        updateTime: iso(job.endedAt ?? Date.now()),
        ...(job.endedAt !== undefined ? { endTime: iso(job.endedAt) } : {}),
        batchStats: {
          requestCount: String(job.lines.length),
          pendingRequestCount: String(job.lines.length - done - failed),
          successfulRequestCount: String(done),
          failedRequestCount: String(failed),
        },
        ...(output ? { output } : {}),
      },
      done: state !== "running",
      ...(output
        ? {
          response: {
            "@type":
              "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
            ...output,
          },
        }
        : {}),
    };
  }
}

/** The lines of an OpenAI batch input file, and what does not validate in it. */
function parseJsonl(
  content: string,
  endpoint: string,
): { lines: Line[]; errors: { code: string; line: number; message: string }[] } {
  const lines: Line[] = [];
  const errors: { code: string; line: number; message: string }[] = [];
  const seen = new Set<string>();
  content.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return;
    let value: { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
    try {
      value = JSON.parse(raw);
    } catch {
      errors.push({ code: "invalid_json_line", line: i + 1, message: "line is not JSON" });
      return;
    }
    const customId = value?.custom_id;
    if (typeof customId !== "string" || seen.has(customId)) {
      errors.push({
        code: "invalid_custom_id",
        line: i + 1,
        message: "custom_id must be a string unique in the file",
      });
      return;
    }
    seen.add(customId);
    const body = value.body as { model?: unknown } | undefined;
    const decode = endpoint === "/v1/responses" ? fromResponsesRequest : fromOpenAIRequest;
    lines.push({
      customId,
      model: typeof body?.model === "string" ? body.model : "",
      body,
      request: value.url !== endpoint
        ? new WireError(400, `line url ${String(value.url)} is not the batch's ${endpoint}`)
        : parseOr(() => decode(body)),
    });
  });
  if (lines.length === 0 && errors.length === 0) {
    errors.push({ code: "empty_file", line: 0, message: "the input file has no requests" });
  }
  return { lines, errors };
}

function parseOr(parse: () => ChatRequest): ChatRequest | WireError {
  try {
    return parse();
  } catch (error) {
    if (error instanceof WireError) return error;
    return new WireError(400, (error as Error).message);
  }
}

function fileObject(file: StoredFile): unknown {
  return {
    id: file.id,
    object: "file",
    bytes: new TextEncoder().encode(file.content).length,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
  };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
