/**
 * Gemini provider via `npm:@google/genai` (`generateContent`, `batchEmbedContents`). Tools
 * are sent as `functionDeclarations` with `parametersJsonSchema`, structured output as
 * `responseJsonSchema`; rpt runs the tool loop itself (no automatic function calling). The
 * SDK has no retries unless asked for: retries, timeouts and concurrency belong to the
 * wrapper (`wrap.ts`), which needs every failure as a {@linkcode ProviderError}.
 *
 * @module
 */
import {
  ApiError,
  type Content,
  FunctionCallingConfigMode,
  type GenerateContentConfig,
  type GenerateContentResponse,
  GoogleGenAI,
  type Part,
  ThinkingLevel,
} from "@google/genai";
import type { ChatMessage, ChatRequest, ChatResponse, EmbedResponse, ToolCall } from "./schema.ts";
import { hashString } from "../util/random.ts";
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
import { toolResultToGemini } from "./serve_wire.ts";

/** Connection settings shared by {@linkcode GeminiChatModel} and {@linkcode GeminiEmbedder}. */
export interface GeminiOptions {
  /** Model name, e.g. `gemini-2.5-pro`, `gemini-embedding-001`. */
  model: string;
  /** API key (sent as the `x-goog-api-key` header). */
  apiKey: string;
  /** Server root, e.g. `http://127.0.0.1:43123` (default: the Gemini API). */
  baseURL?: string;
  /** Provider id reported in responses and errors (default `gemini`). */
  provider?: string;
}

/** Prefix of tool-call ids rpt invents when Gemini sends none; they are never sent back. */
const SYNTHETIC_ID = "synth_";

/** Response headers of the last attempt, which the SDK's `ApiError` does not keep. */
interface HeaderTrap {
  fetch: typeof fetch;
  headers?: Headers;
}

function headerTrap(): HeaderTrap {
  const trap: HeaderTrap = {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      trap.headers = response.headers;
      return response;
    },
  };
  return trap;
}

function makeClient(opts: GeminiOptions): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: opts.apiKey,
    vertexai: false,
    // A fetch of our own also keeps the SDK from installing an Undici dispatcher.
    // Never unset: the SDK would read GOOGLE_GEMINI_BASE_URL itself, behind the run's record.
    httpOptions: { baseUrl: opts.baseURL ?? DEFAULT_BASE_URLS.gemini, fetch },
  });
}

// `ChatRequest.thinkingLevel` as the SDK spells it.
const THINKING_LEVELS: Record<NonNullable<ChatRequest["thinkingLevel"]>, ThinkingLevel> = {
  minimal: ThinkingLevel.MINIMAL,
  low: ThinkingLevel.LOW,
  medium: ThinkingLevel.MEDIUM,
  high: ThinkingLevel.HIGH,
};

/**
 * A {@linkcode ChatModel} on the Gemini API.
 *
 * @example
 * ```ts
 * import { GeminiChatModel } from "./gemini.ts";
 * const model = new GeminiChatModel({ model: "gemini-2.5-pro", apiKey: "..." });
 * if (model.provider !== "gemini") throw new Error("unexpected");
 * ```
 */
export class GeminiChatModel implements ChatModel {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** The server's root URL when not the Gemini API (the wrapper keys its limiter on it). */
  readonly baseURL?: string;
  readonly #client: GoogleGenAI;
  readonly #apiKey: string;
  /**
   * Thought signatures of recent function calls, by call id: thinking models want them back
   * with the call when the conversation is replayed, and `ToolCall` has no field for them.
   */
  readonly #signatures = new Map<string, string>();

  /** Creates a model; nothing is sent until {@linkcode chat}. */
  constructor(opts: GeminiOptions) {
    this.provider = opts.provider ?? "gemini";
    this.model = opts.model;
    this.baseURL = opts.baseURL;
    this.#client = makeClient(opts);
    this.#apiKey = opts.apiKey;
  }

  /** The `contents` and `config` of a request (exposed for tests and dry runs). */
  toParams(request: ChatRequest): { contents: Content[]; config: GenerateContentConfig } {
    const config: GenerateContentConfig = {};
    const system = request.messages.filter((m) => m.role === "system").map((m) => m.content);
    if (system.length > 0) config.systemInstruction = system.join("\n\n");
    if (request.tools?.length) {
      config.tools = [{
        functionDeclarations: request.tools.map((tool) => ({
          name: tool.name,
          description: tool.description,
          parametersJsonSchema: withoutSchemaKey(tool.parameters),
        })),
      }];
      if (request.toolChoice) {
        const mode = {
          auto: FunctionCallingConfigMode.AUTO,
          required: FunctionCallingConfigMode.ANY,
          none: FunctionCallingConfigMode.NONE,
        }[request.toolChoice];
        config.toolConfig = { functionCallingConfig: { mode } };
      }
    }
    if (request.outputSchema) {
      const schema = withoutSchemaKey(request.outputSchema.schema) as Record<string, unknown>;
      config.responseMimeType = "application/json";
      // Gemini schemas have no name; `title` carries it (and helps the model too).
      config.responseJsonSchema = { title: request.outputSchema.name, ...schema };
    }
    if (request.temperature !== undefined) config.temperature = request.temperature;
    if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
    if (request.seed !== undefined) config.seed = request.seed;
    if (request.thinkingLevel !== undefined) {
      config.thinkingConfig = { thinkingLevel: THINKING_LEVELS[request.thinkingLevel] };
    }
    const contents = toContents(request.messages, this.provider, this.model, this.#signatures);
    return { contents, config };
  }

  /** Sends one `generateContent` request. */
  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const { contents, config } = this.toParams(request);
    const trap = headerTrap();
    let response: GenerateContentResponse;
    try {
      response = await this.#client.models.generateContent({
        model: this.model,
        contents,
        config: { ...config, abortSignal: options.signal, httpOptions: { fetch: trap.fetch } },
      });
    } catch (error) {
      throw toProviderError(error, this, options.signal, this.#apiKey, trap.headers);
    }
    return this.fromResponse(request, response);
  }

  /**
   * The {@linkcode ChatResponse} of a `generateContent` response answering `request`: used
   * for interactive calls and for the lines of a batch job alike, so both read the same.
   */
  fromResponse(request: ChatRequest, response: GenerateContentResponse): ChatResponse {
    const candidate = response?.candidates?.[0];
    if (!candidate) {
      const blocked = response?.promptFeedback?.blockReason;
      if (blocked) return this.#answer(request, [], `PROMPT_${blocked}`, response);
      throw new ProviderError({
        provider: this.provider,
        model: this.model,
        message: "malformed response: no candidates",
        retryable: true,
      });
    }
    return this.#answer(
      request,
      candidate.content?.parts ?? [],
      candidate.finishReason ?? null,
      response,
    );
  }

  #remember(id: string, signature: string): void {
    this.#signatures.set(id, signature);
    // Bounded: only the calls of live conversations matter.
    if (this.#signatures.size > 10_000) {
      const oldest = this.#signatures.keys().next().value;
      if (oldest !== undefined) this.#signatures.delete(oldest);
    }
  }

  #answer(
    request: ChatRequest,
    parts: Part[],
    finishReason: string | null,
    response: GenerateContentResponse,
  ): ChatResponse {
    // Thought summaries are not the answer.
    const text = parts.filter((p) => !p.thought).map((p) => p.text ?? "").join("");
    const toolCalls: ToolCall[] = [];
    for (const part of parts) {
      const call = part.functionCall;
      if (!call?.name) continue;
      const args = JSON.stringify(call.args ?? {});
      const id = call.id ??
        `${SYNTHETIC_ID}${
          hashString(`${call.name}\u0000${args}\u0000${toolCalls.length}`).toString(36)
        }`;
      toolCalls.push({ id, name: call.name, arguments: args });
      if (part.thoughtSignature) this.#remember(id, part.thoughtSignature);
    }
    const parsed = request.outputSchema ? parseStructuredText(text) : undefined;
    const usage = response.usageMetadata;
    const reasoningTokens = usage?.thoughtsTokenCount ?? 0;
    return {
      text,
      ...(parsed !== undefined ? { parsed } : {}),
      toolCalls,
      usage: {
        inputTokens: usage?.promptTokenCount ?? 0,
        cachedTokens: usage?.cachedContentTokenCount ?? 0,
        // Thinking tokens are billed as output.
        outputTokens: (usage?.candidatesTokenCount ?? 0) + reasoningTokens,
        ...(reasoningTokens > 0 ? { reasoningTokens } : {}),
      },
      finishReason,
      provider: this.provider,
      model: this.model,
    };
  }
}

/**
 * An {@linkcode Embedder} on the Gemini API (`batchEmbedContents`); large batches are split
 * into requests of at most `batchSize` (default 100, the API's limit) texts.
 */
export class GeminiEmbedder implements Embedder {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** The server's root URL when not the Gemini API. */
  readonly baseURL?: string;
  readonly #client: GoogleGenAI;
  readonly #apiKey: string;
  readonly #batchSize: number;

  /** Creates an embedder; nothing is sent until {@linkcode embed}. */
  constructor(opts: GeminiOptions & { batchSize?: number }) {
    this.provider = opts.provider ?? "gemini";
    this.model = opts.model;
    this.baseURL = opts.baseURL;
    this.#client = makeClient(opts);
    this.#apiKey = opts.apiKey;
    this.#batchSize = opts.batchSize ?? 100;
  }

  /** Embeds texts, in input order. Gemini reports no token usage here, so it is 0. */
  embed(texts: string[], options: CallOptions = {}): Promise<EmbedResponse> {
    return embedInBatches(texts, this.#batchSize, this, async (batch) => {
      const trap = headerTrap();
      let embeddings: { values?: number[] }[] | undefined;
      try {
        const response = await this.#client.models.embedContent({
          model: this.model,
          contents: batch,
          config: { abortSignal: options.signal, httpOptions: { fetch: trap.fetch } },
        });
        embeddings = response?.embeddings;
      } catch (error) {
        throw toProviderError(error, this, options.signal, this.#apiKey, trap.headers);
      }
      return {
        vectors: Array.isArray(embeddings) ? embeddings.map((e) => e.values ?? []) : undefined,
        inputTokens: 0,
      };
    });
  }
}

/** Gemini rejects `$schema`; it is removed at every level. */
function withoutSchemaKey(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutSchemaKey);
  if (schema === null || typeof schema !== "object") return schema;
  return Object.fromEntries(
    Object.entries(schema).filter(([k]) => k !== "$schema").map((
      [k, v],
    ) => [k, withoutSchemaKey(v)]),
  );
}

function argsObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // A malformed call being replayed: Gemini only takes objects.
  }
  return {};
}

/**
 * Messages to Gemini `contents`: assistant turns become `model` turns with `functionCall`
 * parts, tool results `functionResponse` parts; consecutive turns of one role are merged,
 * as Gemini expects all responses to a model turn's calls in the next user turn.
 */
function toContents(
  messages: ChatMessage[],
  provider: string,
  model: string,
  signatures: ReadonlyMap<string, string>,
): Content[] {
  const contents: Content[] = [];
  const names = new Map<string, string>();
  const push = (role: "user" | "model", parts: Part[]) => {
    const last = contents.at(-1);
    if (last?.role === role) last.parts = [...(last.parts ?? []), ...parts];
    else contents.push({ role, parts });
  };
  const realId = (id: string | undefined) => id && !id.startsWith(SYNTHETIC_ID) ? { id } : {};
  for (const message of messages) {
    switch (message.role) {
      case "system":
        break;
      case "user":
        push("user", [{ text: message.content }]);
        break;
      case "assistant": {
        const parts: Part[] = message.content !== "" ? [{ text: message.content }] : [];
        for (const call of message.toolCalls ?? []) {
          names.set(call.id, call.name);
          const signature = signatures.get(call.id);
          parts.push({
            functionCall: { name: call.name, args: argsObject(call.arguments), ...realId(call.id) },
            ...(signature ? { thoughtSignature: signature } : {}),
          });
        }
        push("model", parts.length > 0 ? parts : [{ text: "" }]);
        break;
      }
      case "tool": {
        const name = message.name ??
          (message.toolCallId ? names.get(message.toolCallId) : undefined);
        if (!name) {
          throw new ProviderError({
            provider,
            model,
            message: "a tool message needs the tool's name (or a toolCallId of an earlier call)",
            retryable: false,
          });
        }
        push("user", [{
          functionResponse: {
            name,
            response: toolResultToGemini(message.content),
            ...realId(message.toolCallId),
          },
        }]);
        break;
      }
    }
  }
  return contents;
}

/** Maps anything the SDK throws to a ProviderError (or the caller's own abort reason). */
function toProviderError(
  error: unknown,
  who: { provider: string; model: string },
  signal: AbortSignal | undefined,
  apiKey: string,
  headers: Headers | undefined,
): unknown {
  const { provider, model } = who;
  const aborted = abortFailure(signal, provider, model);
  if (aborted !== undefined) return aborted;
  const clean = (text: string) => redactSecrets(text, [apiKey]);
  if (error instanceof ApiError) {
    return new ProviderError({
      provider,
      model,
      status: error.status,
      message: clean(errorMessage(error.message)),
      retryable: isRetryableStatus(error.status),
      retryAfterMs: retryAfterMs(headers),
    });
  }
  if (error instanceof TypeError) {
    // fetch reports network failures as TypeError.
    return new ProviderError({
      provider,
      model,
      message: clean(`connection failed: ${describeFailure(error)}`),
      retryable: true,
    });
  }
  return commonFailure(error, provider, model, clean);
}

/** The SDK's message is the JSON error body; its `error.message` is the readable part. */
function errorMessage(raw: string): string {
  try {
    const body = JSON.parse(raw) as { error?: { message?: unknown; status?: unknown } };
    const message = body.error?.message;
    if (typeof message === "string") {
      return typeof body.error?.status === "string" ? `${body.error.status}: ${message}` : message;
    }
  } catch {
    // Not JSON: used as is.
  }
  return raw;
}

/**
 * An SDK client with the same settings as the chat model's, for the other Gemini APIs rpt
 * uses (batch mode: `batch/gemini_batch.ts`).
 */
export function createGeminiClient(opts: GeminiOptions): GoogleGenAI {
  return makeClient(opts);
}

/**
 * Maps anything the SDK throws to a {@linkcode ProviderError} exactly as chat calls do;
 * `headers` are the failed response's (the SDK's error does not keep them).
 */
export function geminiFailure(
  error: unknown,
  who: { provider: string; model: string },
  signal: AbortSignal | undefined,
  apiKey: string,
  headers?: Headers,
): unknown {
  return toProviderError(error, who, signal, apiKey, headers);
}
