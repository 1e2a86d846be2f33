/**
 * One wrapper around any {@linkcode ChatModel} or {@linkcode Embedder}: response cache,
 * a concurrency limit shared per provider, a per-request timeout, retries with exponential
 * backoff and full jitter that honour `Retry-After`, and usage accounting with budgets.
 * It knows nothing about specific providers: everything it needs is in the
 * {@linkcode ProviderError} a provider throws (`status`, `retryable`, `retryAfterMs`).
 *
 * Order of a call: cache lookup (a hit costs no slot, no budget) → the same request already
 * in flight through the same cache is awaited instead of sent again (concurrent runs that
 * share one cache pay once for a request they both make; a wrapper that takes no slot waits
 * only for flights that hold one, see `mayJoin`) → wait for a slot of the provider's
 * limiter → budget check (ledger reservation) → attempt with a timeout → on a retryable
 * failure release the slot, back off, and queue again → on success account the usage and
 * store the response.
 *
 * @module
 */
import type { ChatRequest, ChatResponse, EmbedResponse } from "./schema.ts";
import type { Usage } from "./usage.ts";
import { estimateTokens } from "../util/tokens.ts";
import { createLimiter, type Limiter } from "../util/limit.ts";
import type { Reservation, UsageLedger } from "./accounting.ts";
import { cacheKey, type CacheKeyParts, type ResponseCache } from "./cache.ts";
import { resolve as resolvePath } from "node:path";
import { redactURL } from "../util/redact.ts";
import { deadlineAfter } from "../util/deadlines.ts";
import {
  BudgetExceededError,
  type CallOptions,
  type ChatModel,
  type Embedder,
  ProviderError,
} from "./model.ts";

/** Options of {@linkcode wrapChatModel} and {@linkcode wrapEmbedder}. */
export interface WrapOptions {
  /** Response cache; undefined = no cache. */
  cache?: ResponseCache;
  /**
   * Calls in flight for this provider (+ base URL), shared by every wrapper of it in the
   * process. When callers ask for different limits the smallest wins (see
   * {@linkcode providerLimiter}); undefined = join the provider's limit if one exists.
   */
  concurrency?: number;
  /**
   * False: take no slot of the provider's limiter at this layer. For a wrapper under another
   * wrapper of the same provider, which holds the slot already (two layers queueing for the
   * same slots would deadlock once every slot is held by the outer one). Default true.
   */
  limit?: boolean;
  /** Per-attempt timeout in ms; 0 = none (default 180 000: reasoning models think for minutes). */
  timeoutMs?: number;
  /** Retries after the first attempt, for retryable errors only (default 4). */
  maxRetries?: number;
  /**
   * False: send each call once and pass its failure up as the model threw it. For a layer
   * under a wrapper that retries (a cache below budget meters): the wrapper above makes and
   * counts every attempt, so a call is never retried at two levels and its error says "gave
   * up after N attempts" once. Implies `maxRetries: 0`. Default true.
   */
  retry?: boolean;
  /** Usage, cost and budgets. */
  ledger?: UsageLedger;
  /** Backoff tuning: first delay cap, delay cap, and cap on a server's `Retry-After`. */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number };
  /** Base URL identifying the server (default: the model's own `baseURL` property, if any). */
  baseURL?: string;
  /** Called before each backoff wait (progress, logs). */
  onRetry?: (event: RetryEvent) => void;
  /** Sleep used for backoff; injectable so tests need no wall-clock waits. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1) (default `Math.random`). */
  random?: () => number;
}

/** One retry about to happen. */
export interface RetryEvent {
  /** Provider id. */
  provider: string;
  /** Model name. */
  model: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  /** How long the wrapper waits before the next attempt. */
  delayMs: number;
  /** Why the attempt failed. */
  error: ProviderError;
}

/**
 * The final failure of a wrapped call: names provider, model, HTTP status (when there is
 * one) and how many attempts were made. `cause` is the last attempt's error.
 */
export class ProviderCallError extends ProviderError {
  /** Attempts made, including the first. */
  readonly attempts: number;

  /** Wraps the last attempt's error. */
  constructor(last: ProviderError, attempts: number) {
    const detail = stripPrefix(last.message, last.provider, last.model);
    const how = last.retryable
      ? `gave up after ${plural(attempts, "attempt")}`
      : `failed after ${plural(attempts, "attempt")} (not retryable)`;
    super({
      provider: last.provider,
      model: last.model,
      status: last.status,
      retryable: last.retryable,
      retryAfterMs: last.retryAfterMs,
      message: `${how}: ${detail}`,
      cause: last,
    });
    this.name = "ProviderCallError";
    this.attempts = attempts;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function stripPrefix(message: string, provider: string, model: string): string {
  const prefix = `${provider}:${model}`;
  if (!message.startsWith(prefix)) return message;
  return message.slice(prefix.length).replace(/^ \(HTTP \d+\)/, "").replace(/^: /, "");
}

// ---------------------------------------------------------------------------------------------
// Shared per-provider limiters

const limiters = new Map<string, Limiter>();

/** The registry key of a provider's limiter: provider id, plus the server when there is one. */
export function limiterKey(provider: string, baseURL?: string): string {
  return baseURL === undefined ? provider : `${provider}@${redactURL(baseURL)}`;
}

/**
 * The limiter shared by every wrapper of a provider (+ base URL), registering or lowering
 * it when `concurrency` is given. Different limits for one provider resolve to the
 * smallest, because the limit protects something shared (an account's rate limit, a local
 * server's capacity); a lowered limit applies to calls queued from then on, while calls
 * already queued on the previous limiter finish there.
 *
 * @example
 * ```ts
 * import { providerLimiter } from "./wrap.ts";
 * providerLimiter("doc-example", "http://127.0.0.1:1/v1", 8);
 * const shared = providerLimiter("doc-example", "http://127.0.0.1:1/v1", 4);
 * if (shared?.concurrency !== 4) throw new Error("smallest limit should win");
 * ```
 */
export function providerLimiter(
  provider: string,
  baseURL?: string,
  concurrency?: number,
): Limiter | undefined {
  return limiterFor(limiterKey(provider, baseURL), concurrency);
}

function limiterFor(key: string, concurrency?: number): Limiter | undefined {
  const existing = limiters.get(key);
  if (concurrency === undefined) return existing;
  if (existing && existing.concurrency <= concurrency) return existing;
  const limiter = createLimiter(concurrency);
  limiters.set(key, limiter);
  return limiter;
}

/** Forgets every shared limiter (for tests that reuse provider names). */
export function resetProviderLimiters(): void {
  limiters.clear();
}

// ---------------------------------------------------------------------------------------------
// Waiting primitives that respect an abort signal

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts.
 *
 * @example
 * ```ts
 * import { abortableSleep } from "./wrap.ts";
 * const controller = new AbortController();
 * const waiting = abortableSleep(60_000, controller.signal);
 * controller.abort(new Error("stop"));
 * const reason = await waiting.catch((e) => (e as Error).message);
 * if (reason !== "stop") throw new Error("sleep ignored the signal");
 * ```
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** What runs when a signal aborts, per signal: see {@linkcode onAbortOf}. */
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `fn` once when `signal` aborts; returns what stops watching. Every call of a run
 * shares the run's one signal, and an event listener per call (added, then removed) cost
 * more CPU than anything else the wrapper does per call: a signal gets one listener, and
 * the calls waiting on it are entries of a set.
 */
function onAbortOf(signal: AbortSignal, fn: () => void): () => void {
  let watchers = abortWatchers.get(signal);
  if (watchers === undefined) {
    const created = new Set<() => void>();
    abortWatchers.set(signal, watchers = created);
    signal.addEventListener("abort", () => {
      const now = [...created];
      created.clear();
      for (const watcher of now) watcher();
    }, { once: true });
  }
  const own = watchers;
  // Each caller passes a closure of its own, so entries never collide in the set.
  own.add(fn);
  return () => own.delete(fn);
}

/** Runs `fn` in a limiter slot; leaves the queue at once if the signal aborts. */
function runLimited<T>(
  limiter: Limiter | undefined,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!limiter) return fn();
  if (!signal) return limiter.run(fn);
  if (signal.aborted) return Promise.reject(signal.reason);
  // A free slot is taken at once: there is no queue to leave, and the attempt watches the
  // signal itself (withTimeout).
  if (limiter.pending === 0 && limiter.active < limiter.concurrency) return limiter.run(fn);
  return new Promise<T>((resolve, reject) => {
    const stopWatching = onAbortOf(signal, () => reject(signal.reason));
    // An aborted caller's turn still comes; it then gives the slot straight back.
    limiter.run(() => signal.aborted ? Promise.reject(signal.reason) : fn())
      .then(resolve, reject)
      .finally(stopWatching);
  });
}

/**
 * Marks an attempt cut by the wrapper's own timeout (as opposed to the caller's abort). Named
 * `TimeoutError` like `AbortSignal.timeout`'s reason, so providers that inspect their
 * signal's reason classify it as a retryable timeout too.
 */
class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms (timeout)`);
    this.name = "TimeoutError";
  }
}

/**
 * Runs one attempt with a timeout. The attempt gets a signal that aborts when the caller's
 * does or the timeout fires, and the returned promise settles then even if a provider
 * ignores its signal (a late answer or error of the abandoned attempt is dropped). The
 * caller's signal is forwarded by its shared listener ({@linkcode onAbortOf}) rather than
 * `AbortSignal.any`, which costs more per call and keeps a dependent signal per attempt on
 * the caller's long-lived signal; the timeout is a deadline on a timer shared by every call
 * with the same timeout ({@linkcode deadlineAfter}), not a timer per attempt.
 */
function withTimeout<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let cancelDeadline: (() => void) | undefined;
    let stopWatching: (() => void) | undefined;
    const settled = () => {
      cancelDeadline?.();
      stopWatching?.();
    };
    const stop = (reason: unknown) => {
      settled();
      controller.abort(reason);
      reject(reason);
    };
    // Beyond setTimeout's 32-bit range a timer would fire at once: treat it as no timeout.
    if (timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1) {
      cancelDeadline = deadlineAfter(timeoutMs, () => stop(new AttemptTimeout(timeoutMs)));
    }
    if (signal?.aborted) stop(signal.reason);
    else if (signal !== undefined) stopWatching = onAbortOf(signal, () => stop(signal.reason));
    let running: Promise<T>;
    try {
      running = attempt(controller.signal);
    } catch (error) {
      settled();
      reject(error);
      return;
    }
    running.then((value) => {
      settled();
      resolve(value);
    }, (error) => {
      settled();
      reject(error);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The retry loop

interface Resolved {
  provider: string;
  model: string;
  baseURL?: string;
  /** {@linkcode limiterKey} of provider and base URL, computed once (it parses the URL). */
  limiterKey: string;
  /** False when this layer takes no limiter slot. */
  limit: boolean;
  cache?: ResponseCache;
  ledger?: UsageLedger;
  timeoutMs: number;
  maxRetries: number;
  /** False: a failure is passed up unwrapped (see {@linkcode WrapOptions.retry}). */
  retry: boolean;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  onRetry?: (event: RetryEvent) => void;
}

function resolveOptions(
  target: { provider: string; model: string },
  opts: WrapOptions,
): Resolved {
  const ownURL = (target as { baseURL?: unknown }).baseURL;
  const baseURL = opts.baseURL ?? (typeof ownURL === "string" ? ownURL : undefined);
  const nonNegative = (v: number | undefined, fallback: number, name: string) => {
    const value = v ?? fallback;
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative number, got ${v}`);
    }
    return value;
  };
  const limit = opts.limit ?? true;
  if (limit && opts.concurrency !== undefined) {
    providerLimiter(target.provider, baseURL, opts.concurrency);
  }
  return {
    provider: target.provider,
    model: target.model,
    baseURL,
    limiterKey: limiterKey(target.provider, baseURL),
    limit,
    cache: opts.cache,
    ledger: opts.ledger,
    timeoutMs: nonNegative(opts.timeoutMs, 180_000, "timeoutMs"),
    maxRetries: opts.retry === false
      ? 0
      : Math.floor(nonNegative(opts.maxRetries, 4, "maxRetries")),
    retry: opts.retry ?? true,
    baseDelayMs: nonNegative(opts.backoff?.baseDelayMs, 500, "backoff.baseDelayMs"),
    maxDelayMs: nonNegative(opts.backoff?.maxDelayMs, 30_000, "backoff.maxDelayMs"),
    maxRetryAfterMs: nonNegative(opts.backoff?.maxRetryAfterMs, 60_000, "backoff.maxRetryAfterMs"),
    sleep: opts.sleep ?? abortableSleep,
    random: opts.random ?? Math.random,
    onRetry: opts.onRetry,
  };
}

/**
 * The wait before retry number `attempt` (1-based): full jitter over an exponentially
 * growing cap, but never shorter than the server's `Retry-After` (itself capped).
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./wrap.ts";
 * const d = backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 10_000, maxRetryAfterMs: 5_000 },
 *   () => 0.5, 2_000);
 * if (d !== 2_000) throw new Error(`unexpected ${d}`); // jitter gave 200, Retry-After wins
 * ```
 */
export function backoffDelay(
  attempt: number,
  tuning: { baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number },
  random: () => number,
  retryAfterMs?: number,
): number {
  const cap = Math.min(tuning.maxDelayMs, tuning.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * cap);
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return jittered;
  return Math.max(jittered, Math.min(Math.max(0, retryAfterMs), tuning.maxRetryAfterMs));
}

async function callWithRetries<T>(
  r: Resolved,
  estimatedInputTokens: number,
  usageOf: (result: T) => Usage,
  signal: AbortSignal | undefined,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    let failure: ProviderError;
    try {
      // Looked up per attempt so a limit lowered by another caller applies at once.
      const limiter = r.limit ? limiterFor(r.limiterKey) : undefined;
      return await runLimited(limiter, signal, async () => {
        let reservation: Reservation | undefined;
        if (r.ledger) {
          reservation = r.ledger.reserve(r.provider, r.model, {
            inputTokens: estimatedInputTokens,
          });
        }
        try {
          const result = await withTimeout(r.timeoutMs, signal, send);
          if (reservation) r.ledger?.commit(reservation, usageOf(result));
          return result;
        } catch (error) {
          if (reservation) r.ledger?.release(reservation);
          throw error;
        }
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof BudgetExceededError) throw error;
      if (error instanceof AttemptTimeout) {
        failure = new ProviderError({
          provider: r.provider,
          model: r.model,
          message: error.message,
          retryable: true,
          cause: error,
        });
      } else if (error instanceof ProviderError) {
        failure = error;
      } else {
        // Not a provider failure (a bug, a bad argument): retrying cannot help.
        throw error;
      }
    }
    if (!r.retry) throw failure;
    if (!failure.retryable || attempt > r.maxRetries) {
      throw new ProviderCallError(failure, attempt);
    }
    const delayMs = backoffDelay(attempt, r, r.random, failure.retryAfterMs);
    r.onRetry?.({ provider: r.provider, model: r.model, attempt, delayMs, error: failure });
    await r.sleep(delayMs, signal);
  }
}

/** What {@linkcode cachedCall} needs to know about one kind of call. */
interface CallPlan<T> {
  /** The cache key's kind and provider-neutral request. */
  kind: CacheKeyParts["kind"];
  request: unknown;
  /** Reads and writes this kind in the cache. */
  get(cache: ResponseCache, key: string): T | undefined;
  put(cache: ResponseCache, key: string, parts: CacheKeyParts, response: T): void;
  /** The response as a cache hit returns it (for a call answered by one already in flight). */
  asHit(response: T): T;
  /** Input tokens to reserve against the budget (only asked on a cache miss). */
  estimateInputTokens(): number;
  usageOf(result: T): Usage;
  send(signal: AbortSignal): Promise<T>;
}

/**
 * A call through the cache: a hit is returned and counted; a miss is sent and stored. The
 * cache can never fail a call nor change its result: a lookup that throws is a miss and a
 * store that throws is warned once (the bundled SQLite cache handles both itself; this
 * guards any other {@linkcode ResponseCache}).
 */
async function cachedCall<T>(
  r: Resolved,
  signal: AbortSignal | undefined,
  plan: CallPlan<T>,
): Promise<T> {
  signal?.throwIfAborted();
  let key: string | undefined;
  let parts: CacheKeyParts | undefined;
  if (r.cache) {
    parts = {
      kind: plan.kind,
      provider: r.provider,
      model: r.model,
      baseURL: r.baseURL,
      request: plan.request,
    };
    key = cacheKey(parts);
    const hit = quietly(r.cache, "lookup", () => plan.get(r.cache as ResponseCache, key as string));
    if (hit) {
      r.ledger?.recordCacheHit(r.provider, r.model);
      return hit;
    }
    const flying = inFlightOf(r.cache).get(key) as Promise<T> | undefined;
    if (flying !== undefined && mayJoin(r, flying)) {
      // A failed or aborted call in flight answers nothing: this one is then sent itself.
      const shared = await waitUnlessAborted(flying, signal).catch(() => {
        if (signal?.aborted) throw signal.reason;
        return undefined;
      });
      if (shared !== undefined) {
        r.ledger?.recordCacheHit(r.provider, r.model);
        return plan.asHit(shared);
      }
    }
  }
  const sending = callWithRetries(r, plan.estimateInputTokens(), plan.usageOf, signal, plan.send);
  if (!(r.cache && key && parts)) return await sending;
  const [k, p, cache] = [key, parts, r.cache];
  const flights = inFlightOf(cache);
  flights.set(k, sending);
  if (!r.limit) inSlotFlights.add(sending);
  try {
    const response = await sending;
    quietly(cache, "store", () => {
      plan.put(cache, k, p, response);
      // Other handles on the file read it only once it is written: write now when there are.
      if (flightsShared(cache)) (cache as { flush?: () => void }).flush?.();
    });
    return response;
  } finally {
    if (flights.get(k) === sending) flights.delete(k);
  }
}

/**
 * Requests in flight per cache: two handles on one cache file are one cache (a run's own
 * handle and an experiment's), so they share the map; an in-memory cache is its own.
 */
interface Flights {
  map: Map<string, Promise<unknown>>;
  /** Handles seen on the file: more than one, and a stored response is written at once. */
  handles: number;
}

const inFlightByPath = new Map<string, Flights>();

/** Flights of wrappers that take no slot: they run in a caller's slot, never wait for one. */
const inSlotFlights = new WeakSet<Promise<unknown>>();

/**
 * Whether this wrapper may wait for a request another wrapper has in flight. A wrapper that
 * takes no slot runs inside its caller's slot, and a flight of a wrapper that does may still
 * be queued for one: waiting on it with every slot held by such waiters deadlocks (a baseline
 * cell's provider cache under its budget meter, waiting on an RPT cell's request of the
 * experiment's one cache file). It sends the request itself instead.
 */
function mayJoin(r: Resolved, flight: Promise<unknown>): boolean {
  return r.limit || inSlotFlights.has(flight);
}
const inFlightOfCache = new WeakMap<ResponseCache, Flights>();

function flightsOf(cache: ResponseCache): Flights {
  const known = inFlightOfCache.get(cache);
  if (known !== undefined) return known;
  const path = (cache as { path?: unknown }).path;
  let flights: Flights | undefined;
  if (typeof path === "string" && path !== ":memory:") {
    const id = resolvePath(path);
    flights = inFlightByPath.get(id);
    if (flights === undefined) inFlightByPath.set(id, flights = { map: new Map(), handles: 0 });
  }
  flights ??= { map: new Map(), handles: 0 };
  flights.handles++;
  inFlightOfCache.set(cache, flights);
  return flights;
}

function inFlightOf(cache: ResponseCache): Map<string, Promise<unknown>> {
  return flightsOf(cache).map;
}

function flightsShared(cache: ResponseCache): boolean {
  return flightsOf(cache).handles > 1;
}

function waitUnlessAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const stopWatching = onAbortOf(signal, () => reject(signal.reason));
    promise.then(resolve, reject).finally(stopWatching);
  });
}

/** Caches (and what failed with them) already warned about, so each says it once. */
const warnedCaches = new WeakMap<ResponseCache, Set<string>>();

function quietly<T>(cache: ResponseCache, what: "lookup" | "store", fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    // A full disk or a long-held lock must not fail a call, nor a damaged entry answer one.
    const warned = warnedCaches.get(cache) ?? new Set<string>();
    warnedCaches.set(cache, warned);
    if (!warned.has(what)) {
      warned.add(what);
      const effect = what === "lookup" ? "treated as a miss" : "response not cached";
      console.warn(`rpt: response cache ${what} failed (${(error as Error).message}); ${effect}`);
    }
    return undefined;
  }
}

/** Input tokens a chat request is expected to use, for the budget check before sending it. */
export function chatInputEstimate(request: ChatRequest): number {
  let tokens = 0;
  for (const m of request.messages) {
    tokens += estimateTokens(m.content);
    if (m.toolCalls !== undefined) {
      for (const call of m.toolCalls) tokens += estimateTokens(call.arguments);
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// The wrappers

/**
 * Wraps a chat model with cache, shared concurrency limit, timeout, retries and accounting.
 * Responses served from the cache have `cached: true`.
 *
 * @example
 * ```ts
 * import { wrapChatModel } from "./wrap.ts";
 * import { SqliteResponseCache } from "./cache.ts";
 * import { UsageLedger } from "./accounting.ts";
 * import type { ChatModel } from "./model.ts";
 * let sent = 0;
 * const inner: ChatModel = {
 *   provider: "doc-echo", model: "e1",
 *   chat: (req) => {
 *     sent++;
 *     return Promise.resolve({ text: req.messages[0]?.content ?? "", toolCalls: [],
 *       finishReason: "stop", provider: "doc-echo", model: "e1",
 *       usage: { inputTokens: 3, cachedTokens: 0, outputTokens: 2 } });
 *   },
 * };
 * const cache = new SqliteResponseCache({ path: ":memory:" });
 * const ledger = new UsageLedger();
 * const model = wrapChatModel(inner, { cache, ledger, concurrency: 2 });
 * const req = { messages: [{ role: "user" as const, content: "hi" }] };
 * await model.chat(req);
 * const again = await model.chat(req);
 * cache.close();
 * if (sent !== 1 || again.cached !== true || ledger.snapshot().total.cacheHits !== 1) {
 *   throw new Error("second call should come from the cache");
 * }
 * ```
 */
export function wrapChatModel(model: ChatModel, opts: WrapOptions = {}): ChatModel {
  const r = resolveOptions(model, opts);
  const wrapped: ChatModel & { baseURL?: string } = {
    provider: model.provider,
    model: model.model,
    chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
      return cachedCall(r, options?.signal, {
        kind: "chat",
        request,
        get: (cache, key) => cache.getChat(key),
        put: (cache, key, parts, response) => cache.putChat(key, parts, response),
        asHit: (response) => ({ ...response, cached: true }),
        estimateInputTokens: () => chatInputEstimate(request),
        usageOf: (res) => res.usage,
        send: (s) => model.chat(request, { signal: s }),
      });
    },
  };
  if (r.baseURL !== undefined) wrapped.baseURL = r.baseURL;
  return wrapped;
}

/**
 * Wraps an embedder with the same cache, limit, timeout, retries and accounting as
 * {@linkcode wrapChatModel}. The cache key is the whole batch of texts.
 *
 * @example
 * ```ts
 * import { wrapEmbedder } from "./wrap.ts";
 * import { TfidfEmbedder } from "./tfidf.ts";
 * const embedder = wrapEmbedder(new TfidfEmbedder(), { maxRetries: 0 });
 * const { vectors } = await embedder.embed(["red apple", "green apple"]);
 * if (vectors.length !== 2) throw new Error("one vector per text");
 * ```
 */
export function wrapEmbedder(embedder: Embedder, opts: WrapOptions = {}): Embedder {
  const r = resolveOptions(embedder, opts);
  const wrapped: Embedder & { baseURL?: string } = {
    provider: embedder.provider,
    model: embedder.model,
    embed(texts: string[], options?: CallOptions): Promise<EmbedResponse> {
      return cachedCall(r, options?.signal, {
        kind: "embed",
        request: { texts },
        get: (cache, key) => cache.getEmbed(key),
        put: (cache, key, parts, response) => cache.putEmbed(key, parts, response),
        asHit: (response) => response,
        estimateInputTokens: () => texts.reduce((n, t) => n + estimateTokens(t), 0),
        usageOf: (res) => ({
          inputTokens: res.usage.inputTokens,
          cachedTokens: 0,
          outputTokens: 0,
        }),
        send: (s) => embedder.embed(texts, { signal: s }),
      });
    },
  };
  if (r.baseURL !== undefined) wrapped.baseURL = r.baseURL;
  return wrapped;
}
