/**
 * {@linkcode runBatch}: a list of chat requests answered through a provider's batch API,
 * with the same guarantees as interactive calls through the wrapper (`wrap.ts`).
 *
 * Order of a run: every request is looked up in the response cache under the key an
 * interactive call would use (so a run can mix modes and a re-run is free) → the misses go
 * out as one batch (reserved against the budget at batch prices), or an existing batch is
 * resumed by id → `onSubmitted` hands the id to the caller before polling starts (a run
 * killed while the batch is in flight resumes by polling it, never submitting again) → the
 * batch is polled until it ends → each answer is stored in the cache and accounted at the
 * batch price → lines the batch failed are retried, and lines it never answered (expired,
 * cancelled, failed job) are sent, as ordinary calls through the wrapped model. A line that
 * still fails comes back as a failure, never as a response; every fallback is counted.
 *
 * @module
 */
import type { ChatRequest, ChatResponse } from "../schema.ts";
import type { Reservation, UsageLedger } from "../accounting.ts";
import { cacheKey, type CacheKeyParts, type ResponseCache } from "../cache.ts";
import { redactURL } from "../../util/redact.ts";
import { type ChatModel, isFatalCallError, ProviderError } from "../model.ts";
import { abortableSleep, backoffDelay, chatInputEstimate, ProviderCallError } from "../wrap.ts";
import {
  type BatchClient,
  type BatchLine,
  type BatchLineResult,
  type BatchState,
  type BatchStatus,
  isTerminalBatchState,
} from "./types.ts";

/** The two faces of one model: its batch API, and the wrapped model for ordinary calls. */
export interface BatchTarget {
  /** The provider's batch API for the model (see `createBatchClient` in `spec.ts`). */
  client: BatchClient;
  /**
   * The same model wrapped with `wrapChatModel` and the same cache: it names the cache keys
   * (provider, model, base URL) and makes the ordinary calls for retries and fallbacks.
   */
  model: ChatModel;
}

/** Options of {@linkcode runBatch}. */
export interface RunBatchOptions {
  /** The response cache the wrapped model uses; undefined = no cache. */
  cache?: ResponseCache;
  /** Usage and budgets; batch lines are reserved and billed at batch prices. */
  ledger?: UsageLedger;
  /** Poll this batch instead of submitting one (the id `onSubmitted` received earlier). */
  resumeBatchId?: string;
  /**
   * Called with the new batch's id once it exists and before polling starts (not on
   * resume), with the number of lines it holds. Record it durably here; if this throws, the
   * run stops with that error.
   */
  onSubmitted?: (batchId: string, lines: number) => void | Promise<void>;
  /** Called after submission, after each poll, before ordinary calls and at the end. */
  onProgress?: (progress: BatchProgress) => void;
  /** Wait between polls in ms (default 30 000). */
  pollIntervalMs?: number;
  /** Aborts the run promptly with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Also cancel the provider's batch when the signal aborts (default false: the batch runs
   * on, so a resumed run can still collect it).
   */
  cancelOnAbort?: boolean;
  /** Fewer misses than this go as ordinary calls, not a batch (default 1). */
  minBatchSize?: number;
  /** Retries of each batch-API request (submit, poll, results) on retryable errors (default 4). */
  maxRetries?: number;
  /** Timeout of each batch-API request in ms; 0 = none (default 300 000). */
  requestTimeoutMs?: number;
  /** Backoff between those retries (as the wrapper's). */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number };
  /** Sleep for polls and backoff; injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of backoff jitter in [0, 1) (default `Math.random`). */
  random?: () => number;
}

/** Where a batch run is, for a progress line. */
export interface BatchProgress {
  /** `submitted` (the job exists), `polling`, `ordinary` (retries and fallbacks), `done`. */
  phase: "submitted" | "polling" | "ordinary" | "done";
  /** The batch, once there is one. */
  batchId?: string;
  /** The last poll (state and line counts). */
  status?: BatchStatus;
  /** Counts so far. */
  stats: BatchRunStats;
}

/** One request's outcome, in request order. */
export type BatchItem =
  | { ok: true; response: ChatResponse; source: "cache" | "batch" | "ordinary" }
  | {
    ok: false;
    /** The final failure (the ordinary call's, after the wrapper's retries). */
    error: ProviderError;
    source: "ordinary";
    /** The line's failure inside the batch, when it failed there first. */
    batchError?: ProviderError;
  };

/** What a batch run did. */
export interface BatchRunStats {
  /** Requests given. */
  requests: number;
  /** Requests repeating an earlier one in the list (answered once). */
  duplicates: number;
  /** Distinct requests answered by the response cache. */
  cacheHits: number;
  /** Lines in the batch (the distinct misses). */
  submitted: number;
  /** Lines the batch answered. */
  fromBatch: number;
  /** Lines the batch failed (each retried as an ordinary call). */
  failedInBatch: number;
  /** Lines the batch never answered (expired, cancelled or failed job; sent as ordinary calls). */
  missing: number;
  /** Ordinary calls made for retries and fallbacks. */
  ordinary: number;
  /** Distinct requests that came back as failures. */
  failures: number;
  /** The batch's last state. */
  finalState?: BatchState;
  /** Why no batch answered these requests at all, when none did (submission failed, ...). */
  fallback?: string;
}

/** The outcome of {@linkcode runBatch}. */
export interface BatchRunResult {
  /** The batch submitted or resumed (undefined when none was needed). */
  batchId?: string;
  /** One item per request, in request order. */
  items: BatchItem[];
  /** Counts. */
  stats: BatchRunStats;
}

interface Resolved {
  cache?: ResponseCache;
  ledger?: UsageLedger;
  resumeBatchId?: string;
  onSubmitted?: (batchId: string, lines: number) => void | Promise<void>;
  onProgress?: (progress: BatchProgress) => void;
  pollIntervalMs: number;
  signal?: AbortSignal;
  cancelOnAbort: boolean;
  minBatchSize: number;
  maxRetries: number;
  requestTimeoutMs: number;
  tuning: { baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number };
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

function resolve(options: RunBatchOptions): Resolved {
  const nonNegative = (v: number | undefined, fallback: number, name: string) => {
    const value = v ?? fallback;
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative number, got ${v}`);
    }
    return value;
  };
  return {
    ...options,
    pollIntervalMs: nonNegative(options.pollIntervalMs, 30_000, "pollIntervalMs"),
    cancelOnAbort: options.cancelOnAbort ?? false,
    minBatchSize: Math.max(1, nonNegative(options.minBatchSize, 1, "minBatchSize")),
    maxRetries: Math.floor(nonNegative(options.maxRetries, 4, "maxRetries")),
    requestTimeoutMs: nonNegative(options.requestTimeoutMs, 300_000, "requestTimeoutMs"),
    tuning: {
      baseDelayMs: nonNegative(options.backoff?.baseDelayMs, 500, "backoff.baseDelayMs"),
      maxDelayMs: nonNegative(options.backoff?.maxDelayMs, 30_000, "backoff.maxDelayMs"),
      maxRetryAfterMs: nonNegative(options.backoff?.maxRetryAfterMs, 60_000, "maxRetryAfterMs"),
    },
    sleep: options.sleep ?? abortableSleep,
    random: options.random ?? Math.random,
  };
}

/**
 * Answers `requests` through the provider's batch API, as described in the module doc:
 * cache first, one batch for the misses (or the resumed one), ordinary calls for lines the
 * batch failed or never answered. Rejects only on what stops a whole job (an abort, a spent
 * budget, a poll that keeps failing, `onSubmitted` throwing); a request that cannot be
 * answered comes back as a failure item.
 *
 * @example
 * ```ts
 * import { runBatch } from "./run_batch.ts";
 * import type { BatchClient } from "./types.ts";
 * import { wrapChatModel } from "../wrap.ts";
 * import { ScriptedChatModel } from "../scripted.ts";
 * const model = wrapChatModel(new ScriptedChatModel(["fresh"]));
 * // A batch that expires without answering: every request falls back to an ordinary call.
 * const client: BatchClient = {
 *   provider: model.provider, model: model.model,
 *   submit: () => Promise.resolve("b1"),
 *   poll: (id) => Promise.resolve({ id, state: "expired", providerState: "expired",
 *     total: 1, done: 0, failed: 0 }),
 *   results: () => Promise.resolve(new Map()),
 *   cancel: () => Promise.resolve(),
 * };
 * const run = await runBatch({ client, model },
 *   [{ messages: [{ role: "user", content: "hi" }] }], { pollIntervalMs: 0 });
 * const item = run.items[0];
 * if (!item?.ok || item.response.text !== "fresh" || run.stats.missing !== 1) {
 *   throw new Error("expected an ordinary fallback");
 * }
 * ```
 */
export async function runBatch(
  target: BatchTarget,
  requests: readonly ChatRequest[],
  options: RunBatchOptions = {},
): Promise<BatchRunResult> {
  checkIdentity(target);
  const run = new BatchRun(target, requests, resolve(options));
  return await run.execute();
}

function checkIdentity({ client, model }: BatchTarget): void {
  const url = (x: { baseURL?: unknown }) =>
    typeof x.baseURL === "string" ? redactURL(x.baseURL) : undefined;
  if (
    client.provider !== model.provider || client.model !== model.model ||
    url(client) !== url(model as { baseURL?: unknown })
  ) {
    throw new Error(
      `runBatch: the batch client is for ${client.provider}:${client.model} but the model is ` +
        `${model.provider}:${model.model} (or another server); results would be cached under ` +
        `the wrong keys`,
    );
  }
}

/** Marks a batch-API request cut by its timeout; providers map it to a retryable failure. */
class RequestTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms (timeout)`);
    this.name = "TimeoutError";
  }
}

interface Distinct {
  request: ChatRequest;
  parts: CacheKeyParts;
}

class BatchRun {
  readonly #client: BatchClient;
  readonly #model: ChatModel;
  readonly #o: Resolved;
  readonly #keys: string[] = [];
  readonly #distinct = new Map<string, Distinct>();
  readonly #answers = new Map<string, BatchItem>();
  readonly #batchErrors = new Map<string, ProviderError>();
  readonly #reservations = new Map<string, Reservation>();
  readonly #stats: BatchRunStats;
  #batchId?: string;
  #status?: BatchStatus;

  constructor(target: BatchTarget, requests: readonly ChatRequest[], o: Resolved) {
    this.#client = target.client;
    this.#model = target.model;
    this.#o = o;
    const baseURL = (target.model as { baseURL?: unknown }).baseURL;
    for (const request of requests) {
      const parts: CacheKeyParts = {
        kind: "chat",
        provider: target.model.provider,
        model: target.model.model,
        baseURL: typeof baseURL === "string" ? baseURL : undefined,
        request,
      };
      const key = cacheKey(parts);
      this.#keys.push(key);
      if (!this.#distinct.has(key)) this.#distinct.set(key, { request, parts });
    }
    this.#stats = {
      requests: requests.length,
      duplicates: requests.length - this.#distinct.size,
      cacheHits: 0,
      submitted: 0,
      fromBatch: 0,
      failedInBatch: 0,
      missing: 0,
      ordinary: 0,
      failures: 0,
    };
  }

  async execute(): Promise<BatchRunResult> {
    this.#o.signal?.throwIfAborted();
    const misses = this.#lookUp();
    if (this.#o.resumeBatchId !== undefined) this.#batchId = this.#o.resumeBatchId;
    let ordinary: string[] = [];
    if (misses.length > 0) {
      try {
        ordinary = await this.#viaBatch(misses);
      } finally {
        this.#releaseAll();
      }
    }
    await this.#ordinary(ordinary);
    this.#progress("done");
    return {
      ...(this.#batchId !== undefined ? { batchId: this.#batchId } : {}),
      items: this.#keys.map((key) => this.#answers.get(key)!),
      stats: { ...this.#stats },
    };
  }

  /** Answers what the cache has; returns the keys still to answer. */
  #lookUp(): string[] {
    const misses: string[] = [];
    for (const key of this.#distinct.keys()) {
      const hit = this.#o.cache?.getChat(key);
      if (hit) {
        this.#o.ledger?.recordCacheHit(this.#model.provider, this.#model.model);
        this.#answers.set(key, { ok: true, response: hit, source: "cache" });
        this.#stats.cacheHits++;
      } else {
        misses.push(key);
      }
    }
    return misses;
  }

  /** Submits (or resumes) and polls the batch, reads it; returns keys for ordinary calls. */
  async #viaBatch(misses: string[]): Promise<string[]> {
    const started = await this.#start(misses);
    if (started === undefined) return misses;
    const id = started;
    try {
      this.#status = await this.#pollUntilDone(id);
    } catch (error) {
      if (this.#o.signal?.aborted && this.#o.cancelOnAbort) await this.#cancelQuietly(id);
      throw error;
    }
    this.#stats.finalState = this.#status.state;
    return await this.#collect(id, misses);
  }

  /** The batch to poll: the resumed one, or a new one; undefined = use ordinary calls. */
  async #start(misses: string[]): Promise<string | undefined> {
    const resumed = this.#o.resumeBatchId;
    if (resumed === undefined && misses.length < this.#o.minBatchSize) {
      this.#stats.fallback = `${misses.length} request(s) to send, fewer than the batch minimum ` +
        `of ${this.#o.minBatchSize}`;
      return undefined;
    }
    this.#reserve(misses);
    this.#stats.submitted = misses.length;
    if (resumed !== undefined) return resumed;
    const lines: BatchLine[] = misses.map((key) => ({
      customId: key,
      request: this.#distinct.get(key)!.request,
    }));
    let id: string;
    try {
      id = await this.#retrying((signal) => this.#client.submit(lines, { signal }));
    } catch (error) {
      if (!(error instanceof ProviderError) || isFatalCallError(error, this.#o.signal)) {
        throw error;
      }
      this.#stats.submitted = 0;
      this.#stats.fallback = `batch not submitted: ${error.message}`;
      this.#releaseAll();
      return undefined;
    }
    this.#batchId = id;
    await this.#o.onSubmitted?.(id, lines.length);
    this.#progress("submitted");
    return id;
  }

  async #pollUntilDone(id: string): Promise<BatchStatus> {
    for (;;) {
      const status = await this.#retrying((signal) => this.#client.poll(id, { signal }));
      this.#status = status;
      this.#progress("polling");
      if (isTerminalBatchState(status.state)) return status;
      await this.#o.sleep(this.#o.pollIntervalMs, this.#o.signal);
    }
  }

  /** Takes the batch's answers; returns the keys it failed or never answered. */
  async #collect(id: string, misses: string[]): Promise<string[]> {
    const requests = new Map(misses.map((key) => [key, this.#distinct.get(key)!.request]));
    let results: Map<string, BatchLineResult>;
    try {
      results = await this.#retrying((signal) => this.#client.results(id, requests, { signal }));
    } catch (error) {
      if (!(error instanceof ProviderError) || isFatalCallError(error, this.#o.signal)) {
        throw error;
      }
      this.#stats.fallback = `batch results not read: ${error.message}`;
      results = new Map();
    }
    const again: string[] = [];
    for (const key of misses) {
      const result = results.get(key);
      const reservation = this.#reservations.get(key);
      this.#reservations.delete(key);
      if (result?.ok) {
        if (reservation) this.#o.ledger?.commit(reservation, result.response.usage);
        this.#store(key, result.response);
        this.#answers.set(key, { ok: true, response: result.response, source: "batch" });
        this.#stats.fromBatch++;
        continue;
      }
      if (result) {
        if (reservation) this.#o.ledger?.release(reservation);
        this.#batchErrors.set(key, result.error);
        this.#stats.failedInBatch++;
      } else {
        if (reservation) this.#o.ledger?.unreserve(reservation);
        this.#stats.missing++;
      }
      again.push(key);
    }
    return again;
  }

  /** Ordinary calls through the wrapped model; a fatal failure of any of them is thrown. */
  async #ordinary(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    this.#stats.ordinary += keys.length;
    this.#progress("ordinary");
    const settled = await Promise.allSettled(
      keys.map((key) =>
        this.#model.chat(this.#distinct.get(key)!.request, { signal: this.#o.signal })
      ),
    );
    let fatal: { error: unknown } | undefined;
    settled.forEach((outcome, i) => {
      const key = keys[i]!;
      if (outcome.status === "fulfilled") {
        this.#answers.set(key, { ok: true, response: outcome.value, source: "ordinary" });
        return;
      }
      const error: unknown = outcome.reason;
      if (!(error instanceof ProviderError) || isFatalCallError(error, this.#o.signal)) {
        fatal ??= { error };
        return;
      }
      const batchError = this.#batchErrors.get(key);
      this.#answers.set(key, {
        ok: false,
        error,
        source: "ordinary",
        ...(batchError ? { batchError } : {}),
      });
      this.#stats.failures++;
    });
    if (fatal) throw fatal.error;
  }

  #reserve(keys: string[]): void {
    const ledger = this.#o.ledger;
    if (!ledger) return;
    try {
      for (const key of keys) {
        const request = this.#distinct.get(key)!.request;
        this.#reservations.set(
          key,
          ledger.reserve(this.#model.provider, this.#model.model, {
            inputTokens: chatInputEstimate(request),
            batch: true,
          }),
        );
      }
    } catch (error) {
      this.#releaseAll();
      throw error;
    }
  }

  /** Gives back the reservations of lines not (yet) answered: they were not failed calls. */
  #releaseAll(): void {
    for (const reservation of this.#reservations.values()) this.#o.ledger?.unreserve(reservation);
    this.#reservations.clear();
  }

  #store(key: string, response: ChatResponse): void {
    const cache = this.#o.cache;
    if (!cache) return;
    try {
      cache.putChat(key, this.#distinct.get(key)!.parts, response);
    } catch (error) {
      // As in the wrapper: a full disk must not fail an answer already in hand.
      console.warn(`rpt: batch response not cached: ${(error as Error).message}`);
    }
  }

  async #cancelQuietly(id: string): Promise<void> {
    try {
      await timed(
        this.#o.requestTimeoutMs || 30_000,
        undefined,
        (signal) => this.#client.cancel(id, { signal }),
      );
    } catch (error) {
      console.warn(`rpt: batch ${id} not cancelled: ${(error as Error).message}`);
    }
  }

  /** One batch-API request with a timeout and retries on retryable failures. */
  async #retrying<T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const o = this.#o;
    for (let attempt = 1;; attempt++) {
      try {
        return await timed(o.requestTimeoutMs, o.signal, send);
      } catch (error) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (!(error instanceof ProviderError)) throw error;
        if (!error.retryable || attempt > o.maxRetries) throw new ProviderCallError(error, attempt);
        await o.sleep(backoffDelay(attempt, o.tuning, o.random, error.retryAfterMs), o.signal);
      }
    }
  }

  #progress(phase: BatchProgress["phase"]): void {
    this.#o.onProgress?.({
      phase,
      ...(this.#batchId !== undefined ? { batchId: this.#batchId } : {}),
      ...(this.#status ? { status: { ...this.#status } } : {}),
      stats: { ...this.#stats },
    });
  }
}

/** Runs `send` with a signal that also aborts after `ms` (0 = never). */
async function timed<T>(
  ms: number,
  signal: AbortSignal | undefined,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = ms > 0 && ms <= 2 ** 31 - 1
    ? setTimeout(() => controller.abort(new RequestTimeout(ms)), ms)
    : undefined;
  try {
    return await send(signal ? AbortSignal.any([signal, controller.signal]) : controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
