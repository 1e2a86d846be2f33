/**
 * What a session does with calls that failed after their retries. Within the run's
 * `maxErrorRate` they count as failures, and {@linkcode stepFailedCalls} counts them for the
 * step line, `rpt show`, the report and `summary.json`. Beyond it the work is an
 * `IncompleteError`: {@linkcode recordIncomplete} saves why (with the unscored items) in
 * `incomplete.json` and the event log before the session stops, and
 * {@linkcode clearIncomplete} removes it once that work is done.
 *
 * @module
 */
import type { IncompleteError } from "../incomplete.ts";
import {
  type Evaluation,
  type FailedCallCounts,
  type IncompleteRecord,
  RUN_FILES,
} from "../run/schema.ts";
import { isUnscored, type TraceItem } from "../trace.ts";
import type { RunContext } from "./context.ts";
import { scoredItems } from "./evaluate.ts";
import type { StepOutcome } from "./outcome.ts";

/** Adds `n` failed calls of `phase` to `counts` (phases without any stay out). */
function add(counts: FailedCallCounts, phase: keyof FailedCallCounts, n: number): void {
  if (n > 0) counts[phase] = (counts[phase] ?? 0) + n;
}

/** Failed calls of a step that were counted as failures, by phase; undefined when none. */
export function stepFailedCalls(
  scores: { dev: Evaluation; test: Evaluation | null },
  outcome: StepOutcome | null,
): FailedCallCounts | undefined {
  const counts: FailedCallCounts = {};
  add(counts, "dev", scores.dev.items.filter(isUnscored).length);
  add(counts, "test", scores.test?.items.filter(isUnscored).length ?? 0);
  const record = outcome?.record;
  if (record) {
    add(counts, "train", record.traces.filter(isUnscored).length);
    add(counts, "critique", record.critiques.filter((c) => c.callFailed).length);
    add(counts, "cluster", record.clustering?.failedCalls.failed ?? 0);
  }
  return Object.keys(counts).length > 0 ? counts : undefined;
}

/**
 * The sum of failed-call counts.
 *
 * @example
 * ```ts
 * import { sumFailedCalls } from "./failed_calls.ts";
 * const s = sumFailedCalls([{ dev: 2 }, undefined, { dev: 1, train: 3 }]);
 * if (s.dev !== 3 || s.train !== 3 || s.test !== undefined) throw new Error(JSON.stringify(s));
 * ```
 */
export function sumFailedCalls(
  all: readonly (FailedCallCounts | undefined)[],
): FailedCallCounts {
  const out: FailedCallCounts = {};
  for (const counts of all) {
    for (const [phase, n] of Object.entries(counts ?? {})) {
      add(out, phase as keyof FailedCallCounts, n ?? 0);
    }
  }
  return out;
}

/**
 * Saves an incomplete stop: `incomplete.json` (what failed, where, the last error, and the
 * items of an incomplete target evaluation) and an `incomplete` event. Best effort: a run
 * directory that cannot be written must not hide the failed calls behind a file error.
 */
export async function recordIncomplete(
  ctx: RunContext,
  error: IncompleteError,
  phase: IncompleteRecord["phase"],
  step: number,
): Promise<void> {
  const items = (error.items ?? []) as TraceItem[];
  const record: IncompleteRecord = {
    version: 1,
    time: new Date().toISOString(),
    step: error.step ?? step,
    phase,
    failures: error.failures,
    ...(error.endpoint !== undefined ? { endpoint: error.endpoint } : {}),
    items: scoredItems(items),
  };
  await ctx.writer.write(RUN_FILES.incomplete, record).catch(() => {});
  await ctx.writer.event({
    type: "incomplete",
    step: record.step,
    phase,
    failures: error.failures,
    ...(error.endpoint !== undefined ? { endpoint: error.endpoint } : {}),
    file: RUN_FILES.incomplete,
  }).catch(() => {});
}

/** Removes `incomplete.json` once the work it describes is done. */
export async function clearIncomplete(ctx: RunContext): Promise<void> {
  await ctx.writer.remove(RUN_FILES.incomplete);
}
