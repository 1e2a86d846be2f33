/**
 * What a session tells its caller while it works: typed {@linkcode LoopEvent}s (a phase's
 * progress, a finished dev or test evaluation, a saved step). A progress bar, a notebook's
 * live line and the comparison harness all read the same stream; elapsed time, ETA and
 * spend are computed from it by the caller.
 *
 * @module
 */
import type { PromptProgram } from "../prompt.ts";
import type { Metrics } from "../tasks/schema.ts";
import type { RunConfig } from "../run/config.ts";
import type { StepSummary } from "../run/schema.ts";

/**
 * What this session has spent so far: paid calls, cache hits, tokens and dollars, and the
 * paid models without a known price (their dollars are not in `usd`).
 */
export interface LoopSpend {
  calls: number;
  cacheHits: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  unpriced: string[];
}

/** The spend of usage totals (any record with these counts) and its unpriced models. */
export function spendOf(
  t: Omit<LoopSpend, "unpriced">,
  unpriced: string[],
): LoopSpend {
  return {
    calls: t.calls,
    cacheHits: t.cacheHits,
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    usd: t.usd,
    unpriced,
  };
}

/**
 * Two spends added up (the earlier sessions' and this one's).
 *
 * @example
 * ```ts
 * import { addSpend } from "./progress.ts";
 * const a = { calls: 2, cacheHits: 1, inputTokens: 10, outputTokens: 5, usd: 0.5, unpriced: ["m"] };
 * const sum = addSpend(a, { ...a, unpriced: ["m", "n"] });
 * if (sum.calls !== 4 || sum.usd !== 1 || sum.unpriced.join() !== "m,n") throw new Error();
 * ```
 */
export function addSpend(a: LoopSpend, b: LoopSpend): LoopSpend {
  return {
    calls: a.calls + b.calls,
    cacheHits: a.cacheHits + b.cacheHits,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    usd: a.usd + b.usd,
    unpriced: [...new Set([...a.unpriced, ...b.unpriced])].sort(),
  };
}

/** Progress of a run, for a progress bar or log lines. */
export interface LoopProgress {
  step: number;
  /** Iterations T (a final dev-only step may follow T). */
  iterations: number;
  phase: "dev" | "test" | "optimizer" | "target" | "critique" | "cluster" | "final";
  done: number;
  total: number;
  /** The session's spend when the event was sent (absent from progress that is not a run's). */
  spend?: LoopSpend;
}

/** Everything a session reports while it works. */
export type LoopEvent =
  /**
   * The session is open: config, task, data and models are ready and nothing was called
   * yet (a bad argument, a missing key or bad data has been reported before this).
   */
  | {
    type: "open";
    dir: string;
    config: RunConfig;
    /** Steps completed before this session (a resumed run). */
    completedSteps: number;
    simulated: boolean;
    /**
     * What the earlier sessions of a resumed run took: their elapsed time and spend (from
     * `usage.json`, killed sessions rebuilt from `usage.jsonl`), so that a progress line goes
     * on from them instead of starting again at zero. Absent for a new run.
     */
    earlier?: { elapsedMs: number; spend: LoopSpend };
  }
  | ({ type: "progress" } & LoopProgress)
  /** A prompt was scored on dev or test (dev: every prompt, for selection). */
  | {
    type: "evaluated";
    step: number;
    split: "dev" | "test";
    prompt: PromptProgram;
    metrics: Metrics;
  }
  /** A step was saved (its folder, the checkpoint and its events are on disk). */
  | { type: "step"; summary: StepSummary }
  /** Batch mode: a phase's batch job was submitted, polled, or fell back (`lib/revise/batch.ts`). */
  | ({ type: "batch" } & LoopBatch);

/** Where a phase's batch job is (batch mode). */
export interface LoopBatch {
  step: number;
  /** The phase the batch stands for (`target` = the train diagnosis's target pass). */
  phase: "dev" | "test" | "target" | "critique";
  role: "target" | "critic";
  /** `submitted`, `polling`, `ordinary` (retries and fallbacks), `done`. */
  stage: "submitted" | "polling" | "ordinary" | "done";
  batchId?: string;
  /** The job's state: pending, running, completed, failed, expired, cancelled. */
  state: string;
  /** Lines answered, failed, and in the job. */
  done: number;
  failed: number;
  total: number;
  /** Lines sent as ordinary calls so far (failed in the batch, or never answered). */
  fallbacks: number;
}

/** Where a session's events go: one stream, and two shorthands for the common cases. */
export interface LoopListeners {
  /** Every event. */
  onEvent?: (event: LoopEvent) => void;
  /** `progress` events only. */
  onProgress?: (p: LoopProgress) => void;
  /** `step` events only: called after each step is saved. */
  onStep?: (step: StepSummary) => void;
}

/** Sends `event` to the listeners that want it. */
export function emit(listeners: LoopListeners, event: LoopEvent): void {
  listeners.onEvent?.(event);
  if (event.type === "progress") {
    const { type: _type, ...p } = event;
    listeners.onProgress?.(p);
  } else if (event.type === "step") {
    listeners.onStep?.(event.summary);
  }
}
