/**
 * Shared pieces of turning an SDK failure into a {@linkcode ProviderError}: which HTTP
 * statuses are worth retrying, reading `Retry-After`, telling a timeout from a caller's
 * cancellation, and keeping API keys out of error messages.
 *
 * @module
 */
import { ProviderError } from "./model.ts";

/** 408, 409, 429 and every 5xx may succeed on a later attempt; other statuses will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The delay a server asked for, in milliseconds: `retry-after-ms`, else `Retry-After` as
 * seconds or as an HTTP date. Undefined when absent or unreadable.
 *
 * @example
 * ```ts
 * import { retryAfterMs } from "./provider_errors.ts";
 * if (retryAfterMs(new Headers({ "retry-after": "2" })) !== 2000) throw new Error("seconds");
 * if (retryAfterMs(new Headers({ "retry-after-ms": "150" })) !== 150) throw new Error("ms");
 * ```
 */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms)) && Number(ms) >= 0) {
    return Number(ms);
  }
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * What to throw when a call failed after its signal aborted: a timeout (the signal's reason
 * is a `TimeoutError`, as from `AbortSignal.timeout`) is a retryable provider failure; any
 * other abort is the caller's decision and rethrows the signal's own reason. Returns
 * undefined when the signal has not aborted.
 */
export function abortFailure(
  signal: AbortSignal | undefined,
  provider: string,
  model: string,
): unknown {
  if (!signal?.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new ProviderError({
      provider,
      model,
      message: `request timed out (${reason.message})`,
      retryable: true,
      cause: reason,
    });
  }
  return reason;
}

/** Text of a network-level failure, including its cause (fetch hides the reason there). */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/**
 * The failures every SDK shares, once its own error classes are handled: a body that is
 * not JSON (retryable), a {@linkcode ProviderError} thrown from inside (passed through),
 * and anything else (not retryable). `clean` keeps secrets out of the message.
 */
export function commonFailure(
  error: unknown,
  provider: string,
  model: string,
  clean: (text: string) => string,
): ProviderError {
  if (error instanceof SyntaxError) {
    return new ProviderError({
      provider,
      model,
      message: clean(`malformed response body: ${error.message}`),
      retryable: true,
    });
  }
  if (error instanceof ProviderError) return error;
  return new ProviderError({
    provider,
    model,
    message: clean(`unexpected failure: ${describeFailure(error)}`),
    retryable: false,
    cause: error,
  });
}
