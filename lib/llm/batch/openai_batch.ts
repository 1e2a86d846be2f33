/**
 * The OpenAI Batch API through `npm:openai`: the lines go up as one JSONL file (purpose
 * `batch`), `batches.create` starts the job, `batches.retrieve` polls it, and the output and
 * error files are downloaded with `files.content`. Each line's body is built and each answer
 * read by the interactive model's own code (an {@linkcode OpenAIBatchCodec}; by default
 * {@linkcode OpenAIChatModel.toParams} and {@linkcode OpenAIChatModel.fromCompletion}), so a
 * batch answer is the same {@linkcode ChatResponse} an interactive call would have returned.
 *
 * @module
 */
import type OpenAI from "openai";
import type { ChatRequest, ChatResponse } from "../schema.ts";
import { type CallOptions, ProviderError } from "../model.ts";
import { makeClient, OpenAIChatModel, type OpenAIOptions, toProviderError } from "../openai.ts";
import type { OpenAIResponsesModel } from "../openai_responses.ts";
import { isRetryableStatus } from "../provider_errors.ts";
import { redactSecrets } from "../../util/redact.ts";
import type { BatchClient, BatchLine, BatchLineResult, BatchState, BatchStatus } from "./types.ts";

/** The endpoints a batch of chat requests can target. */
export type OpenAIBatchEndpoint = "/v1/chat/completions" | "/v1/responses";

/**
 * How the lines of a batch are written and read: the endpoint, and the interactive model's
 * own request builder and response reader for it.
 */
export interface OpenAIBatchCodec {
  /** Endpoint of every line. */
  endpoint: OpenAIBatchEndpoint;
  /** The request body, exactly as an interactive call sends it. */
  body(request: ChatRequest): unknown;
  /** The response, exactly as an interactive call reads it; throws a ProviderError. */
  read(request: ChatRequest, body: unknown): ChatResponse;
}

/**
 * The Chat Completions codec of a chat model: {@linkcode OpenAIChatModel.toParams} and
 * {@linkcode OpenAIChatModel.fromCompletion}.
 */
export function chatCompletionsCodec(model: OpenAIChatModel): OpenAIBatchCodec {
  return {
    endpoint: "/v1/chat/completions",
    body: (request) => model.toParams(request),
    read: (request, body) =>
      model.fromCompletion(request, body as OpenAI.Chat.Completions.ChatCompletion),
  };
}

/**
 * The Responses API codec of a model: {@linkcode OpenAIResponsesModel.toParams} and
 * {@linkcode OpenAIResponsesModel.fromResponse}.
 */
export function responsesCodec(model: OpenAIResponsesModel): OpenAIBatchCodec {
  return {
    endpoint: "/v1/responses",
    body: (request) => model.toParams(request),
    read: (request, body) => model.fromResponse(request, body as OpenAI.Responses.Response),
  };
}

/** Options of {@linkcode OpenAIBatchClient}: the chat model's connection settings. */
export interface OpenAIBatchOptions extends OpenAIOptions {
  /** How lines are written and read (default: Chat Completions, as {@linkcode OpenAIChatModel}). */
  codec?: OpenAIBatchCodec;
}

/** OpenAI's documented limit on requests per batch. */
export const OPENAI_BATCH_MAX_LINES = 50_000;

const STATES: Record<OpenAI.Batches.Batch["status"], BatchState> = {
  validating: "pending",
  in_progress: "running",
  finalizing: "running",
  // Still moving: results are final only once `cancelled`.
  cancelling: "running",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelled: "cancelled",
};

/** Error codes of lines the job ended before executing. */
const UNEXECUTED = ["batch_expired", "batch_cancelled"];

/** One line of an output or error file. */
interface OutputLine {
  custom_id?: string;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string | null; message?: string | null } | null;
}

/**
 * A {@linkcode BatchClient} on the OpenAI Batch API (also any compatible server that
 * implements files and batches, such as `rpt sim-server`).
 *
 * @example
 * ```ts
 * import { OpenAIBatchClient } from "./openai_batch.ts";
 * const client = new OpenAIBatchClient({ model: "gpt-4.1-mini", apiKey: "sk-..." });
 * if (client.provider !== "openai") throw new Error("unexpected");
 * ```
 */
export class OpenAIBatchClient implements BatchClient {
  /** Provider id (`openai` or `openai-compatible`). */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** The server's base URL when not api.openai.com. */
  readonly baseURL?: string;
  readonly #codec: OpenAIBatchCodec;
  readonly #client: OpenAI;
  readonly #apiKey: string;

  /** Creates a client; nothing is sent until {@linkcode submit}. */
  constructor(opts: OpenAIBatchOptions) {
    this.provider = opts.provider ?? "openai";
    this.model = opts.model;
    this.baseURL = opts.baseURL;
    this.#codec = opts.codec ?? chatCompletionsCodec(new OpenAIChatModel(opts));
    this.#client = makeClient(opts);
    this.#apiKey = opts.apiKey;
  }

  /** The JSONL input file of a batch (exposed for tests and dry runs). */
  toJsonl(lines: readonly BatchLine[]): string {
    return lines.map((line) =>
      JSON.stringify({
        custom_id: line.customId,
        method: "POST",
        url: this.#codec.endpoint,
        body: this.#codec.body(line.request),
      })
    ).join("\n") + "\n";
  }

  /** Uploads the lines and creates the batch. */
  async submit(lines: readonly BatchLine[], options: CallOptions = {}): Promise<string> {
    if (lines.length === 0 || lines.length > OPENAI_BATCH_MAX_LINES) {
      throw this.#error(
        `a batch takes 1 to ${OPENAI_BATCH_MAX_LINES} requests, got ${lines.length}`,
        false,
      );
    }
    const jsonl = this.toJsonl(lines);
    return await this.#call(options.signal, async (signal) => {
      const file = await this.#client.files.create({
        file: new File([jsonl], "rpt-batch.jsonl", { type: "application/jsonl" }),
        purpose: "batch",
      }, { signal });
      const batch = await this.#client.batches.create({
        input_file_id: file.id,
        endpoint: this.#codec.endpoint,
        completion_window: "24h",
        metadata: { created_by: "rpt" },
      }, { signal });
      return batch.id;
    });
  }

  /** Retrieves the batch and maps its status and request counts. */
  async poll(batchId: string, options: CallOptions = {}): Promise<BatchStatus> {
    const batch = await this.#retrieve(batchId, options.signal);
    const counts = batch.request_counts;
    return {
      id: batch.id,
      state: STATES[batch.status] ?? "running",
      providerState: batch.status,
      total: counts?.total ?? 0,
      done: counts?.completed ?? 0,
      failed: counts?.failed ?? 0,
    };
  }

  /** Downloads the output and error files and reads every line of them. */
  async results(
    batchId: string,
    requests: ReadonlyMap<string, ChatRequest>,
    options: CallOptions = {},
  ): Promise<Map<string, BatchLineResult>> {
    const batch = await this.#retrieve(batchId, options.signal);
    const out = new Map<string, BatchLineResult>();
    // Errors first, so an answer for the same id (none is expected) wins.
    for (const fileId of [batch.error_file_id, batch.output_file_id]) {
      if (!fileId) continue;
      const text = await this.#call(options.signal, async (signal) => {
        const response = await this.#client.files.content(fileId, { signal });
        return await response.text();
      });
      for (const raw of text.split("\n")) {
        const line = parseLine(raw);
        const request = line?.custom_id === undefined ? undefined : requests.get(line.custom_id);
        if (!line?.custom_id || !request) continue;
        // Never executed (OpenAI lists them in the error file): absent, not failed.
        if (UNEXECUTED.includes(line.error?.code ?? "")) continue;
        out.set(line.custom_id, this.#lineResult(line, request));
      }
    }
    return out;
  }

  /** Cancels the batch (OpenAI moves it to `cancelling`, then `cancelled`). */
  async cancel(batchId: string, options: CallOptions = {}): Promise<void> {
    await this.#call(options.signal, (signal) => this.#client.batches.cancel(batchId, { signal }));
  }

  #retrieve(batchId: string, signal?: AbortSignal): Promise<OpenAI.Batches.Batch> {
    return this.#call(signal, (s) => this.#client.batches.retrieve(batchId, { signal: s }));
  }

  #lineResult(line: OutputLine, request: ChatRequest): BatchLineResult {
    const status = line.response?.status_code;
    const body = line.response?.body;
    if (status === 200 && body !== undefined && body !== null) {
      try {
        return { ok: true, response: this.#codec.read(request, body) };
      } catch (error) {
        if (error instanceof ProviderError) return { ok: false, error };
        throw error;
      }
    }
    if (status !== undefined && status !== 200) {
      const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
      return {
        ok: false,
        error: this.#error(
          typeof message === "string" ? message : `line failed with HTTP ${status}`,
          isRetryableStatus(status),
          status,
        ),
      };
    }
    const code = line.error?.code ?? "batch_error";
    const message = line.error?.message ?? "the batch returned no response for this line";
    // A line error without an HTTP status may well succeed when sent again.
    return { ok: false, error: this.#error(`${code}: ${message}`, true) };
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
    send: (signal?: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      return await send(signal);
    } catch (error) {
      throw toProviderError(error, this.provider, this.model, signal, this.#apiKey);
    }
  }
}

function parseLine(raw: string): OutputLine | undefined {
  if (raw.trim() === "") return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === "object" ? value as OutputLine : undefined;
  } catch {
    // A line that does not parse cannot be attributed: its request counts as missing.
    return undefined;
  }
}
