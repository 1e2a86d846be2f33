/**
 * OpenAI provider via `npm:openai`: Chat Completions and embeddings, the path of any
 * OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio) through a base URL, and of
 * `openai-chat:` specs. `openai:` specs chat through the Responses API instead
 * (`openai_responses.ts`), which shares this file's client and error mapping. The SDK's
 * own retries are off: retries, timeouts and concurrency belong to the wrapper (`wrap.ts`),
 * which needs every failure as a {@linkcode ProviderError}.
 *
 * @module
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from "openai";
import type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  EmbedResponse,
  JsonSchema,
} from "./schema.ts";
import { type CallOptions, type ChatModel, type Embedder, ProviderError } from "./model.ts";
import {
  abortFailure,
  commonFailure,
  describeFailure,
  isRetryableStatus,
  retryAfterMs,
} from "./provider_errors.ts";
import { embedInBatches } from "./provider_reply.ts";
import { parseStructuredText } from "./structured.ts";
import { redactSecrets } from "../util/redact.ts";
import { DEFAULT_BASE_URLS } from "./endpoints.ts";
import { leanRequests } from "./openai_request.ts";

type CreateParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type WireMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** Connection settings shared by {@linkcode OpenAIChatModel} and {@linkcode OpenAIEmbedder}. */
export interface OpenAIOptions {
  /** Model name, e.g. `gpt-4.1`, `gpt-5`, `text-embedding-3-small`. */
  model: string;
  /** API key (local servers accept any placeholder). */
  apiKey: string;
  /** Base URL of an OpenAI-compatible server, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL?: string;
  /** Provider id reported in responses and errors (default `openai`). */
  provider?: string;
  /** Overrides reasoning-model detection (no temperature, `max_completion_tokens`). */
  reasoning?: boolean;
}

/**
 * Whether a model is an OpenAI reasoning model (gpt-5*, o1*, o3*, o4*): those reject
 * `temperature` and take `max_completion_tokens` instead of `max_tokens`.
 *
 * @example
 * ```ts
 * import { isReasoningModel } from "./openai.ts";
 * if (!isReasoningModel("gpt-5-mini") || isReasoningModel("gpt-4.1")) throw new Error("wrong");
 * ```
 */
export function isReasoningModel(model: string): boolean {
  return /^(gpt-5|o1|o3|o4)(\b|[-_.]|$)/.test(model);
}

/**
 * Whether a JSON Schema already meets OpenAI's strict-mode rules (every object closed with
 * `additionalProperties: false` and all its properties required), so that `strict: true`
 * can be asked for without the server rejecting the schema.
 */
export function isStrictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(isStrictCompatible);
  if (schema === null || typeof schema !== "object") return true;
  const node = schema as Record<string, unknown>;
  if (node.type === "object" || node.properties !== undefined) {
    if (node.additionalProperties !== false) return false;
    const properties = Object.keys((node.properties ?? {}) as Record<string, unknown>);
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    if (!properties.every((p) => required.has(p))) return false;
  }
  return Object.values(node).every(isStrictCompatible);
}

/** {@linkcode isStrictCompatible} per schema object: one schema serves every call of a split. */
const strictness = new WeakMap<object, boolean>();

function strictCompatible(schema: unknown): boolean {
  if (schema === null || typeof schema !== "object") return isStrictCompatible(schema);
  let known = strictness.get(schema);
  if (known === undefined) strictness.set(schema, known = isStrictCompatible(schema));
  return known;
}

/**
 * An SDK client with the SDK's own retries and timeout out of the wrapper's way, building
 * its JSON requests from the first one of each endpoint (`openai_request.ts`).
 */
export function makeClient(opts: OpenAIOptions): OpenAI {
  return leanRequests(
    new OpenAI({
      apiKey: opts.apiKey,
      // Never undefined: the SDK would read OPENAI_BASE_URL itself, behind the run's record.
      baseURL: opts.baseURL ?? DEFAULT_BASE_URLS.openai,
      maxRetries: 0,
      // The wrapper owns timeouts; this only stops the SDK's 10-minute default from firing.
      timeout: 24 * 60 * 60 * 1000,
      fetch: fetchWithPlainHeaders,
    }),
  );
}

/**
 * `fetch` with the SDK's `Headers` object passed on as a plain record: Deno converts a
 * `Headers` init through the generic iterable path, which cost about a third of a call's
 * fetch CPU (bench/client_cpu.ts); a record takes the cheap path. Same headers, same request.
 */
function fetchWithPlainHeaders(input: string | URL | Request, init?: RequestInit) {
  const headers = init?.headers;
  if (!(headers instanceof Headers)) return fetch(input, init);
  const plain: Record<string, string> = {};
  headers.forEach((value, name) => {
    plain[name] = value;
  });
  return fetch(input, { ...init, headers: plain });
}

/**
 * A {@linkcode ChatModel} on the OpenAI Chat Completions API.
 *
 * @example
 * ```ts
 * import { OpenAIChatModel } from "./openai.ts";
 * const model = new OpenAIChatModel({ model: "gpt-4.1", apiKey: "sk-..." });
 * if (model.provider !== "openai") throw new Error("unexpected");
 * ```
 */
export class OpenAIChatModel implements ChatModel {
  /** Provider id (`openai` or `openai-compatible`). */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** The server's base URL when not api.openai.com (the wrapper keys its limiter on it). */
  readonly baseURL?: string;
  readonly #client: OpenAI;
  readonly #reasoning: boolean;
  readonly #apiKey: string;

  /** Creates a model; nothing is sent until {@linkcode chat}. */
  constructor(opts: OpenAIOptions) {
    this.provider = opts.provider ?? "openai";
    this.model = opts.model;
    this.baseURL = opts.baseURL;
    this.#client = makeClient(opts);
    this.#reasoning = opts.reasoning ?? isReasoningModel(opts.model);
    this.#apiKey = opts.apiKey;
  }

  /** The Chat Completions body for a request (exposed for tests and dry runs). */
  toParams(request: ChatRequest): CreateParams {
    const params: CreateParams = {
      model: this.model,
      messages: request.messages.map((m) => toWireMessage(m, this.provider, this.model)),
    };
    if (request.tools?.length) {
      params.tools = request.tools.map((tool) => ({
        type: "function" as const,
        function: {
          name: tool.name,
          description: tool.description,
          parameters: tool.parameters,
          ...(strictCompatible(tool.parameters) ? { strict: true } : {}),
        },
      }));
      if (request.toolChoice) params.tool_choice = request.toolChoice;
    }
    if (request.outputSchema) {
      const schema: JsonSchema = request.outputSchema.schema;
      params.response_format = {
        type: "json_schema",
        json_schema: {
          name: request.outputSchema.name,
          schema,
          ...(strictCompatible(schema) ? { strict: true } : {}),
        },
      };
    }
    if (request.temperature !== undefined && !this.#reasoning) {
      params.temperature = request.temperature;
    }
    if (request.maxTokens !== undefined) {
      if (this.#reasoning) params.max_completion_tokens = request.maxTokens;
      else params.max_tokens = request.maxTokens;
    }
    if (request.seed !== undefined) params.seed = request.seed;
    if (request.reasoningEffort !== undefined && this.#reasoning) {
      params.reasoning_effort = request.reasoningEffort;
    }
    return params;
  }

  /** Sends one Chat Completions request. */
  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const params = this.toParams(request);
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      // The raw response, parsed here: the SDK's own parse (a timer, a race, its log details)
      // costs more than the JSON.parse it wraps. Non-2xx answers still throw the SDK's errors.
      const response = await this.#client.chat.completions
        .create(params, { signal: options.signal })
        .asResponse();
      completion = await response.json();
    } catch (error) {
      throw toProviderError(error, this.provider, this.model, options.signal, this.#apiKey);
    }
    return this.fromCompletion(request, completion);
  }

  /**
   * The {@linkcode ChatResponse} of a Chat Completions body answering `request`: used for
   * interactive calls and for the lines of a batch job alike, so both read the same.
   */
  fromCompletion(
    request: ChatRequest,
    completion: OpenAI.Chat.Completions.ChatCompletion,
  ): ChatResponse {
    const choice = completion?.choices?.[0];
    if (!choice?.message) {
      throw new ProviderError({
        provider: this.provider,
        model: this.model,
        message: "malformed response: no choices[0].message",
        retryable: true,
      });
    }
    const message = choice.message;
    const text = message.content ?? "";
    const toolCalls = (message.tool_calls ?? []).flatMap((call) =>
      call.type === "function"
        ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments ?? "" }]
        : []
    );
    const parsed = request.outputSchema ? parseStructuredText(text) : undefined;
    const usage = completion.usage;
    const reasoningTokens = usage?.completion_tokens_details?.reasoning_tokens ?? 0;
    return {
      text,
      ...(parsed !== undefined ? { parsed } : {}),
      toolCalls,
      usage: {
        inputTokens: usage?.prompt_tokens ?? 0,
        cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
        outputTokens: usage?.completion_tokens ?? 0,
        ...(reasoningTokens > 0 ? { reasoningTokens } : {}),
      },
      finishReason: choice.finish_reason ?? null,
      provider: this.provider,
      model: this.model,
    };
  }
}

/**
 * An {@linkcode Embedder} on the OpenAI embeddings API; large batches are split into
 * requests of at most `batchSize` (default 256) texts.
 */
export class OpenAIEmbedder implements Embedder {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** The server's base URL when not api.openai.com. */
  readonly baseURL?: string;
  readonly #client: OpenAI;
  readonly #apiKey: string;
  readonly #batchSize: number;

  /** Creates an embedder; nothing is sent until {@linkcode embed}. */
  constructor(opts: OpenAIOptions & { batchSize?: number }) {
    this.provider = opts.provider ?? "openai";
    this.model = opts.model;
    this.baseURL = opts.baseURL;
    this.#client = makeClient(opts);
    this.#apiKey = opts.apiKey;
    this.#batchSize = opts.batchSize ?? 256;
  }

  /** Embeds texts, in input order. */
  embed(texts: string[], options: CallOptions = {}): Promise<EmbedResponse> {
    return embedInBatches(texts, this.#batchSize, this, async (batch) => {
      let response: OpenAI.Embeddings.CreateEmbeddingResponse;
      try {
        response = await this.#client.embeddings.create(
          // Floats, not the SDK's default base64: some compatible servers only speak floats.
          { model: this.model, input: batch, encoding_format: "float" },
          { signal: options.signal },
        );
      } catch (error) {
        throw toProviderError(error, this.provider, this.model, options.signal, this.#apiKey);
      }
      const data = Array.isArray(response?.data) ? [...response.data] : [];
      data.sort((a, b) => a.index - b.index);
      return {
        vectors: data.map((item) => Array.from(item.embedding)),
        inputTokens: response.usage?.prompt_tokens ?? 0,
      };
    });
  }
}

function toWireMessage(message: ChatMessage, provider: string, model: string): WireMessage {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "assistant": {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return { role: "assistant", content: message.content };
      return {
        role: "assistant",
        content: message.content === "" ? null : message.content,
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: "function" as const,
          function: { name: c.name, arguments: c.arguments },
        })),
      };
    }
    case "tool":
      if (!message.toolCallId) {
        throw new ProviderError({
          provider,
          model,
          message: "a tool message needs toolCallId (the id of the call it answers)",
          retryable: false,
        });
      }
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
}

/** Maps anything the SDK throws to a ProviderError (or the caller's own abort reason). */
export function toProviderError(
  error: unknown,
  provider: string,
  model: string,
  signal: AbortSignal | undefined,
  apiKey: string,
): unknown {
  const aborted = abortFailure(signal, provider, model);
  if (aborted !== undefined) return aborted;
  const clean = (text: string) => redactSecrets(text, [apiKey]);
  if (error instanceof APIUserAbortError) {
    return new ProviderError({ provider, model, message: "request aborted", retryable: true });
  }
  if (error instanceof APIConnectionError) {
    return new ProviderError({
      provider,
      model,
      message: clean(`connection failed: ${describeFailure(error)}`),
      retryable: true,
    });
  }
  if (error instanceof APIError) {
    const status = error.status;
    return new ProviderError({
      provider,
      model,
      status,
      message: clean(error.message),
      retryable: status === undefined || isRetryableStatus(status),
      retryAfterMs: retryAfterMs(error.headers),
    });
  }
  return commonFailure(error, provider, model, clean);
}
