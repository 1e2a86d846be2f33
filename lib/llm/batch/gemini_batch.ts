/**
 * Gemini's batch mode through `npm:@google/genai`: `ai.batches.create` with inlined
 * requests (each tagged with its custom id in `metadata.key`), `ai.batches.get` to poll and
 * to read the inlined responses, `ai.batches.cancel`. Each request is built by
 * {@linkcode GeminiChatModel.toParams} and each answer read by
 * {@linkcode GeminiChatModel.fromResponse}, the code interactive calls use.
 *
 * The SDK drops the job's `batchStats` when it reads a job, so the counts come from the raw
 * body, captured by a fetch of our own.
 *
 * @module
 */
import type { BatchJob, GoogleGenAI, InlinedRequest, InlinedResponse } from "@google/genai";
import type { ChatRequest } from "../schema.ts";
import { type CallOptions, ProviderError } from "../model.ts";
import {
  createGeminiClient,
  GeminiChatModel,
  geminiFailure,
  type GeminiOptions,
} from "../gemini.ts";
import { isRetryableStatus } from "../provider_errors.ts";
import { redactSecrets } from "../../util/redact.ts";
import type { BatchClient, BatchLine, BatchLineResult, BatchState, BatchStatus } from "./types.ts";

/** The metadata key carrying a line's custom id. */
const KEY = "key";

const STATES: Record<string, BatchState> = {
  JOB_STATE_PENDING: "pending",
  JOB_STATE_QUEUED: "pending",
  JOB_STATE_RUNNING: "running",
  JOB_STATE_CANCELLING: "running",
  JOB_STATE_UPDATING: "running",
  JOB_STATE_PAUSED: "running",
  JOB_STATE_SUCCEEDED: "completed",
  JOB_STATE_PARTIALLY_SUCCEEDED: "completed",
  JOB_STATE_FAILED: "failed",
  JOB_STATE_EXPIRED: "expired",
  JOB_STATE_CANCELLED: "cancelled",
};

/** What the last request through a {@linkcode Capture} returned. */
interface Capture {
  fetch: typeof fetch;
  headers?: Headers;
  body?: unknown;
}

function capture(): Capture {
  const trap: Capture = {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      trap.headers = response.headers;
      try {
        trap.body = await response.clone().json();
      } catch {
        trap.body = undefined;
      }
      return response;
    },
  };
  return trap;
}

interface BatchStats {
  requestCount?: string | number;
  successfulRequestCount?: string | number;
  failedRequestCount?: string | number;
}

/**
 * A {@linkcode BatchClient} on Gemini's batch mode (the Gemini Developer API, or a server
 * that speaks it such as `rpt sim-server`).
 *
 * @example
 * ```ts
 * import { GeminiBatchClient } from "./gemini_batch.ts";
 * const client = new GeminiBatchClient({ model: "gemini-2.5-flash", apiKey: "..." });
 * if (client.provider !== "gemini") throw new Error("unexpected");
 * ```
 */
export class GeminiBatchClient implements BatchClient {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** The server's root URL when not the Gemini API. */
  readonly baseURL?: string;
  readonly #chat: GeminiChatModel;
  readonly #client: GoogleGenAI;
  readonly #apiKey: string;

  /** Creates a client; nothing is sent until {@linkcode submit}. */
  constructor(opts: GeminiOptions) {
    this.#chat = new GeminiChatModel(opts);
    this.provider = this.#chat.provider;
    this.model = this.#chat.model;
    this.baseURL = opts.baseURL;
    this.#client = createGeminiClient(opts);
    this.#apiKey = opts.apiKey;
  }

  /** The inlined requests of a batch (exposed for tests). */
  toInlined(lines: readonly BatchLine[]): InlinedRequest[] {
    return lines.map((line) => {
      const { contents, config } = this.#chat.toParams(line.request);
      return { contents, config, metadata: { [KEY]: line.customId } };
    });
  }

  /** Creates the batch job with the requests inlined. */
  async submit(lines: readonly BatchLine[], options: CallOptions = {}): Promise<string> {
    const src = this.toInlined(lines);
    const { value: job } = await this.#call(
      options.signal,
      (trap, signal) =>
        this.#client.batches.create({
          model: this.model,
          src,
          config: {
            displayName: `rpt-${lines.length}-requests`,
            abortSignal: signal,
            httpOptions: { fetch: trap.fetch },
          },
        }),
    );
    if (!job.name) throw this.#error("malformed response: the batch job has no name", true);
    return job.name;
  }

  /** Gets the job and maps its state; counts come from the job's `batchStats`. */
  async poll(batchId: string, options: CallOptions = {}): Promise<BatchStatus> {
    const { job, raw } = await this.#get(batchId, options.signal);
    const stats = (raw as { metadata?: { batchStats?: BatchStats } } | undefined)?.metadata
      ?.batchStats;
    const inlined = job.dest?.inlinedResponses ?? [];
    const count = (v: string | number | undefined, fallback: number) =>
      v === undefined || !Number.isFinite(Number(v)) ? fallback : Number(v);
    const providerState = job.state ?? "JOB_STATE_UNSPECIFIED";
    return {
      id: job.name ?? batchId,
      state: STATES[providerState] ?? "running",
      providerState,
      total: count(stats?.requestCount, 0),
      done: count(stats?.successfulRequestCount, inlined.filter((r) => r.response).length),
      failed: count(stats?.failedRequestCount, inlined.filter((r) => r.error).length),
    };
  }

  /** Reads the inlined responses of the job, by the custom id in their metadata. */
  async results(
    batchId: string,
    requests: ReadonlyMap<string, ChatRequest>,
    options: CallOptions = {},
  ): Promise<Map<string, BatchLineResult>> {
    const { job } = await this.#get(batchId, options.signal);
    const out = new Map<string, BatchLineResult>();
    for (const item of job.dest?.inlinedResponses ?? []) {
      const id = item.metadata?.[KEY];
      const request = id === undefined ? undefined : requests.get(id);
      if (id === undefined || !request) continue;
      out.set(id, this.#lineResult(item, request));
    }
    return out;
  }

  /** Cancels the job. */
  async cancel(batchId: string, options: CallOptions = {}): Promise<void> {
    await this.#call(options.signal, (trap, signal) =>
      this.#client.batches.cancel({
        name: batchId,
        config: { abortSignal: signal, httpOptions: { fetch: trap.fetch } },
      }));
  }

  async #get(batchId: string, signal?: AbortSignal): Promise<{ job: BatchJob; raw: unknown }> {
    const { value: job, raw } = await this.#call(signal, (trap, s) =>
      this.#client.batches.get({
        name: batchId,
        config: { abortSignal: s, httpOptions: { fetch: trap.fetch } },
      }));
    return { job, raw };
  }

  #lineResult(item: InlinedResponse, request: ChatRequest): BatchLineResult {
    if (item.response) {
      try {
        return { ok: true, response: this.#chat.fromResponse(request, item.response) };
      } catch (error) {
        if (error instanceof ProviderError) return { ok: false, error };
        throw error;
      }
    }
    const code = Number(item.error?.code);
    const status = Number.isInteger(code) && code >= 400 && code < 600 ? code : undefined;
    const message = item.error?.message ?? "the batch returned no response for this line";
    return {
      ok: false,
      error: this.#error(message, status === undefined || isRetryableStatus(status), status),
    };
  }

  #error(message: string, retryable: boolean, status?: number): ProviderError {
    return new ProviderError({
      provider: this.provider,
      model: this.model,
      message: redactSecrets(message, [this.#apiKey]),
      retryable,
      ...(status !== undefined ? { status } : {}),
    });
  }

  async #call<T>(
    signal: AbortSignal | undefined,
    send: (trap: Capture, signal?: AbortSignal) => Promise<T>,
  ): Promise<{ value: T; raw: unknown }> {
    const trap = capture();
    try {
      const value = await send(trap, signal);
      return { value, raw: trap.body };
    } catch (error) {
      throw geminiFailure(error, this, signal, this.#apiKey, trap.headers);
    }
  }
}
