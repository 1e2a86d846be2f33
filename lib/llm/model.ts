/**
 * The two small interfaces every provider implements: {@linkcode ChatModel} and
 * {@linkcode Embedder}. Cross-cutting concerns (cache, retries, concurrency, accounting)
 * wrap these interfaces once, in `wrap.ts`, rather than being re-written per provider.
 *
 * @module
 */
import type { ChatRequest, ChatResponse, EmbedResponse } from "./schema.ts";

/** Per-call options that do not affect the response (so they are not part of a cache key). */
export interface CallOptions {
  /** Aborts the call; providers must reject promptly with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A chat model: messages in, text / parsed object / tool calls out, with usage.
 *
 * @example
 * ```ts
 * import type { ChatModel } from "./model.ts";
 * const echo: ChatModel = {
 *   provider: "echo",
 *   model: "echo-1",
 *   chat(req) {
 *     const text = req.messages.at(-1)?.content ?? "";
 *     return Promise.resolve({
 *       text, toolCalls: [], finishReason: "stop", provider: "echo", model: "echo-1",
 *       usage: { inputTokens: 1, cachedTokens: 0, outputTokens: 1 },
 *     });
 *   },
 * };
 * const res = await echo.chat({ messages: [{ role: "user", content: "hi" }] });
 * if (res.text !== "hi") throw new Error("echo failed");
 * ```
 */
export interface ChatModel {
  /** Provider id as used in spec strings: `openai`, `gemini`, `openai-compatible`, `sim`, ... */
  readonly provider: string;
  /** The provider's model name. */
  readonly model: string;
  /** Sends one request. Rejects with a {@linkcode ProviderError} on provider failures. */
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse>;
}

/** A text embedder. Vectors come back in input order. */
export interface Embedder {
  /** Provider id. */
  readonly provider: string;
  /** The provider's model name. */
  readonly model: string;
  /** Embeds a batch of texts. */
  embed(texts: string[], options?: CallOptions): Promise<EmbedResponse>;
}

/**
 * A failure reported by a provider. `status` is the HTTP status when there is one;
 * `retryAfterMs` carries the server's `Retry-After`; `retryable` says whether retrying
 * may help (429, 5xx, timeouts, network errors, malformed bodies).
 */
export class ProviderError extends Error {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** HTTP status, when the failure has one. */
  readonly status?: number;
  /** Whether retrying may help. */
  readonly retryable: boolean;
  /** Delay the server asked for, in milliseconds. */
  readonly retryAfterMs?: number;

  /** Creates a provider error; the message is prefixed with `provider:model`. */
  constructor(
    init: {
      provider: string;
      model: string;
      message: string;
      status?: number;
      retryable: boolean;
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    const status = init.status !== undefined ? ` (HTTP ${init.status})` : "";
    super(`${init.provider}:${init.model}${status}: ${init.message}`, { cause: init.cause });
    this.name = "ProviderError";
    this.provider = init.provider;
    this.model = init.model;
    this.status = init.status;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** Raised when a call, token or dollar budget would be exceeded; work stops cleanly. */
export class BudgetExceededError extends Error {
  /** Creates a budget error with a message naming the budget. */
  constructor(message: string) {
    super(message);
    this.name = "BudgetExceededError";
  }
}

/**
 * Whether a failed call must stop the whole job instead of being recorded against one
 * item: a spent budget, or a cancellation (the caller's signal aborted, or an `AbortError`).
 */
export function isFatalCallError(error: unknown, signal?: AbortSignal): boolean {
  return error instanceof BudgetExceededError || signal?.aborted === true ||
    (error instanceof Error && error.name === "AbortError");
}
