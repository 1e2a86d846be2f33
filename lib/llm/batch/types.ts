/**
 * The provider-neutral side of batch jobs: the {@linkcode BatchClient} role every provider's
 * batch API implements (submit lines, poll, fetch results, cancel), and the states and counts
 * a poll reports. Clients only move data; caching, accounting, retries of failed lines and
 * fallbacks belong to `runBatch` (`run_batch.ts`), written once for every provider.
 *
 * @module
 */
import type { ChatRequest, ChatResponse } from "../schema.ts";
import type { CallOptions, ProviderError } from "../model.ts";

/** Where a batch job is, in terms common to every provider. */
export type BatchState = "pending" | "running" | "completed" | "failed" | "expired" | "cancelled";

/** States after which a batch never changes again (its results can be fetched). */
export const TERMINAL_BATCH_STATES: readonly BatchState[] = [
  "completed",
  "failed",
  "expired",
  "cancelled",
];

/**
 * Whether a state is final.
 *
 * @example
 * ```ts
 * import { isTerminalBatchState } from "./types.ts";
 * if (isTerminalBatchState("running") || !isTerminalBatchState("expired")) throw new Error();
 * ```
 */
export function isTerminalBatchState(state: BatchState): boolean {
  return TERMINAL_BATCH_STATES.includes(state);
}

/** One poll of a batch job. */
export interface BatchStatus {
  /** The provider's batch id (OpenAI `batch_...`, Gemini `batches/...`). */
  id: string;
  /** Common state. */
  state: BatchState;
  /** The provider's own state, unchanged (`in_progress`, `JOB_STATE_RUNNING`, ...). */
  providerState: string;
  /** Lines in the batch (0 while the provider has not counted them yet). */
  total: number;
  /** Lines answered so far. */
  done: number;
  /** Lines that failed so far. */
  failed: number;
}

/** One request of a batch, named by an id unique within the batch. */
export interface BatchLine {
  /** The line's id; results come back under it. */
  customId: string;
  /** The provider-neutral request, built into a wire body by the interactive code. */
  request: ChatRequest;
}

/** What a batch returned for one line: the response, or the line's own failure. */
export type BatchLineResult =
  | { ok: true; response: ChatResponse }
  | { ok: false; error: ProviderError };

/**
 * A provider's batch API. Every method rejects with a {@linkcode ProviderError} on provider
 * failures (or with the signal's reason when aborted), like `ChatModel.chat`.
 * `provider`, `model` and `baseURL` must be those of the interactive model the batch stands
 * in for, so that results are cached under the same keys.
 */
export interface BatchClient {
  /** Provider id, as the interactive model's. */
  readonly provider: string;
  /** Model name, as the interactive model's. */
  readonly model: string;
  /** Server base URL, as the interactive model's (undefined for the provider's own API). */
  readonly baseURL?: string;
  /** Creates one batch job from the lines; resolves to its id. */
  submit(lines: readonly BatchLine[], options?: CallOptions): Promise<string>;
  /** The job's state and counts now. */
  poll(batchId: string, options?: CallOptions): Promise<BatchStatus>;
  /**
   * The results available for a job, by custom id: lines the provider answered or failed.
   * Lines it never processed (an expired or cancelled job) are absent. `requests` gives each
   * line's request, which reading a response needs (structured output is parsed against it).
   */
  results(
    batchId: string,
    requests: ReadonlyMap<string, ChatRequest>,
    options?: CallOptions,
  ): Promise<Map<string, BatchLineResult>>;
  /** Asks the provider to stop the job; lines already answered stay available. */
  cancel(batchId: string, options?: CallOptions): Promise<void>;
}
