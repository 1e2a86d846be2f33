/**
 * What every part of a session shares: the config, the task and its data, the wrapped
 * models, the run directory's writer and usage log, and where events go. `session.ts`
 * builds it once; the step, the conversation and the tool read it.
 *
 * @module
 */
import type { UsageLedger } from "../llm/accounting.ts";
import type { SqliteResponseCache } from "../llm/cache.ts";
import type { RunConfig } from "../run/config.ts";
import type { RunLock } from "../run/lock.ts";
import type { UsageLog } from "../run/usage.ts";
import type { RunWriter } from "../run/writer.ts";
import type { Task } from "../tasks/task.ts";
import type { RunData } from "./data.ts";
import type { RunEndpoints } from "./endpoints.ts";
import type { RunModels } from "./models.ts";
import type { BatchGate } from "../llm/batch/gate.ts";
import { emit, type LoopListeners, type LoopProgress, spendOf } from "./progress.ts";

/** What one gathered batch of batch mode stands for (`lib/revise/batch.ts`). */
export interface BatchLabel {
  step: number;
  /** A split's target pass (`target` = the train diagnosis's) or a round of critiques. */
  phase: "dev" | "test" | "target" | "critique";
}

/** The gates of a session's batched roles (batch mode, `lib/revise/batch.ts`). */
export type RunBatching = Partial<Record<"target" | "critic", BatchGate<BatchLabel>>>;

/** The shared state of one session. */
export interface RunContext {
  config: RunConfig;
  task: Task;
  data: RunData;
  /** The models, wrapped with the run's cache, ledger and limiter. */
  models: RunModels;
  /** Batch mode: the gates of the roles sent as batch jobs (absent: every call interactive). */
  batch?: RunBatching;
  writer: RunWriter;
  usage: UsageLog;
  ledger: UsageLedger;
  cache: SqliteResponseCache;
  /** Where each role's model is sent (credentials stripped), for messages about failed calls. */
  endpoints: RunEndpoints;
  /** The hold of the run directory, for the session's lifetime. */
  lock: RunLock;
  /** Whether the run's models are the offline simulator (from the config's specs). */
  simulated: boolean;
  /** Gold answers of the training examples, for the copied-answer guard. */
  trainAnswers: string[];
  signal?: AbortSignal;
  listeners: LoopListeners;
}

/** Reports the progress of one phase of `step`. */
export function progress(
  ctx: RunContext,
  step: number,
  phase: LoopProgress["phase"],
  done: number,
  total: number,
): void {
  const { total: t, unpriced } = ctx.ledger.totals();
  emit(ctx.listeners, {
    type: "progress",
    step,
    iterations: ctx.config.iterations,
    phase,
    done,
    total,
    spend: spendOf(t, unpriced),
  });
}

/** Whether `error` is the session's abort (Ctrl-C, a notebook's stop). */
export function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true ||
    (error instanceof Error && (error.name === "AbortError"));
}

/** Gives back what a session's context holds: the run directory's lock, the usage log, the cache. */
export function releaseContext(ctx: RunContext): void {
  ctx.lock.release();
  ctx.usage.close();
  ctx.cache.close();
}
