/**
 * A failed call is never a score. A call that still fails after the wrapper's retries leaves
 * its piece of work short: an example *unscored* (a trace with `error`, `trace.ts`), a failure
 * without its critique, records without their topic. {@linkcode CallFailures} counts that for
 * one piece of work; by default any count makes the work incomplete
 * ({@linkcode IncompleteError}: the run stops and resumes later, re-sending only the failed
 * calls), and a run may allow a share of failures (`maxErrorRate`), which then count as
 * failures and are shown. Every evaluation path (interactive calls, batch jobs) reports its
 * failed calls the same way.
 *
 * @module
 */
import { z } from "zod";

/**
 * What a failed call was for: the target on a split (`train` for the diagnosis), the critic,
 * ClusterFusion's topic calls (or its embedder), the optimizer.
 */
export const CallPhase = z.enum(["train", "dev", "test", "critique", "cluster", "optimizer"]);
/** What a failed call was for. */
export type CallPhase = z.infer<typeof CallPhase>;

/** The model role behind each phase (ClusterFusion's model is the critic unless set). */
export const PHASE_ROLE: Readonly<
  Record<CallPhase, "target" | "critic" | "cluster" | "optimizer">
> = {
  train: "target",
  dev: "target",
  test: "target",
  critique: "critic",
  cluster: "cluster",
  optimizer: "optimizer",
};

/** Failed calls of one piece of work: how many of its calls (or examples) failed, and the last error. */
export const CallFailures = z.object({
  phase: CallPhase,
  /** Calls (for the target: examples) that failed after their retries. */
  failed: z.number().int().min(0),
  /** Calls (examples) the piece of work holds. */
  total: z.number().int().min(0),
  /** The last failure's message (provider, model, status, attempts). */
  lastError: z.string().optional(),
});
/** Failed calls of one piece of work. */
export type CallFailures = z.infer<typeof CallFailures>;

/**
 * Whether failures may be counted (as failures, and shown) rather than stop the work: none
 * failed, or at most a share `maxErrorRate` did.
 *
 * @example
 * ```ts
 * import { withinErrorRate } from "./incomplete.ts";
 * const f = { phase: "dev" as const, failed: 2, total: 20 };
 * if (withinErrorRate(f, 0) || !withinErrorRate(f, 0.1) || withinErrorRate(f, 0.05)) throw new Error();
 * if (!withinErrorRate({ ...f, failed: 0 }, 0)) throw new Error();
 * ```
 */
export function withinErrorRate(failures: CallFailures, maxErrorRate: number): boolean {
  if (failures.failed === 0) return true;
  // A tolerance, so that 0.1 allows 2 of 20 despite binary fractions.
  return failures.total > 0 && failures.failed / failures.total <= maxErrorRate + 1e-12;
}

/**
 * The failures among items that carry an `error` when their call failed (traces,
 * critiques): the count, the total and the last error.
 *
 * @example
 * ```ts
 * import { failuresOf } from "./incomplete.ts";
 * const f = failuresOf("dev", [{}, { error: "HTTP 500" }, { error: "timeout" }]);
 * if (f.failed !== 2 || f.total !== 3 || f.lastError !== "timeout") throw new Error();
 * ```
 */
export function failuresOf(
  phase: CallPhase,
  items: readonly { error?: string }[],
): CallFailures {
  const failed = items.filter((i) => i.error !== undefined);
  const last = failed.at(-1)?.error;
  return {
    phase,
    failed: failed.length,
    total: items.length,
    ...(last ? { lastError: last } : {}),
  };
}

/**
 * Failed calls in words, with the server they went to when it is known: `6 of 6 target
 * calls on test failed after their retries (endpoint http://127.0.0.1:9/v1; last error:
 * ...)`. Every incomplete stop says it so: a run's paragraph, and the line of a command
 * without a run (`rpt evaluate`, `rpt compare`).
 *
 * @example
 * ```ts
 * import { failuresText } from "./incomplete.ts";
 * const f = { phase: "dev" as const, failed: 2, total: 8, lastError: "HTTP 500" };
 * if (failuresText(f, "http://h/v1") !==
 *   "2 of 8 target calls on dev failed after their retries (endpoint http://h/v1; last error: HTTP 500)") {
 *   throw new Error(failuresText(f));
 * }
 * ```
 */
export function failuresText(f: CallFailures, endpoint?: string): string {
  const detail = [
    ...(endpoint ? [`endpoint ${endpoint}`] : []),
    ...(f.lastError ? [`last error: ${f.lastError}`] : []),
  ];
  return `${f.failed} of ${f.total} ${phaseCalls(f.phase)} failed after their retries` +
    (detail.length ? ` (${detail.join("; ")})` : "");
}

/**
 * Work left incomplete by calls that failed after their retries, beyond what the run allows.
 * Nothing was scored from it; what completed is saved (and cached), so the work can be done
 * again later, sending only the failed calls. `traces` holds the target's traces of an
 * incomplete evaluation (the unscored ones with their error); `step` and the endpoint
 * ({@linkcode IncompleteError.sentTo}) are filled in by the code that knows them.
 */
export class IncompleteError extends Error {
  /** What failed, how many, and the last error. */
  readonly failures: CallFailures;
  /** The step the work belonged to. */
  step?: number;
  /** An incomplete target evaluation's items, for the run record. */
  readonly items?: readonly unknown[];
  #endpoint?: string;

  /** Creates the error; the message says what failed. */
  constructor(failures: CallFailures, opts: { items?: readonly unknown[]; cause?: unknown } = {}) {
    super(failuresText(failures), { cause: opts.cause });
    this.name = "IncompleteError";
    this.failures = failures;
    this.items = opts.items;
  }

  /** The server the failed calls went to (credentials stripped); absent for a local model. */
  get endpoint(): string | undefined {
    return this.#endpoint;
  }

  /**
   * Names the server the failed calls went to, in {@linkcode IncompleteError.endpoint} and
   * in the message, as a run's paragraph names it (a prefix a caller put on the message,
   * such as a method's name, stays); the first one named stays.
   */
  sentTo(endpoint: string | undefined): this {
    if (endpoint === undefined || this.#endpoint !== undefined) return this;
    this.#endpoint = endpoint;
    this.message = this.message.replace(
      failuresText(this.failures),
      failuresText(this.failures, endpoint),
    );
    return this;
  }
}

/**
 * The calls of a phase, in words: `target calls on dev`, `critic calls`.
 *
 * @example
 * ```ts
 * import { phaseCalls } from "./incomplete.ts";
 * if (phaseCalls("dev") !== "target calls on dev" || phaseCalls("cluster") !== "clustering calls") {
 *   throw new Error();
 * }
 * ```
 */
export function phaseCalls(phase: CallPhase): string {
  switch (phase) {
    case "train":
    case "dev":
    case "test":
      return `target calls on ${phase}`;
    case "critique":
      return "critic calls";
    case "cluster":
      return "clustering calls";
    case "optimizer":
      return "optimizer calls";
  }
}

/**
 * Throws an {@linkcode IncompleteError} when `failures` exceed what `maxErrorRate` allows;
 * does nothing when `maxErrorRate` is undefined (the caller counts failures itself).
 */
export function assertComplete(
  failures: CallFailures,
  maxErrorRate: number | undefined,
  items?: readonly unknown[],
): void {
  if (maxErrorRate === undefined || withinErrorRate(failures, maxErrorRate)) return;
  throw new IncompleteError(failures, { items });
}

/**
 * Failed calls counted as failures, in words: `3 failed calls counted as failures (dev 2,
 * train 1)`; empty when there are none. `scope` adds, to a split's count, the evaluations it
 * is over (`dev 2 over 3 evaluations of 8 examples`): a run's words, {@linkcode runFailedCallsText}.
 *
 * @example
 * ```ts
 * import { failedCallsText } from "./incomplete.ts";
 * if (failedCallsText({ dev: 2, train: 1 }) !== "3 failed calls counted as failures (dev 2, train 1)") {
 *   throw new Error();
 * }
 * if (failedCallsText(undefined) !== "" || failedCallsText({}) !== "") throw new Error();
 * ```
 */
export function failedCallsText(
  counts: Partial<Record<CallPhase, number>> | undefined,
  scope: Partial<Record<CallPhase, SplitScope | undefined>> = {},
): string {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => (n ?? 0) > 0);
  if (entries.length === 0) return "";
  const total = entries.reduce((n, [, k]) => n + (k ?? 0), 0);
  const over = (phase: string) => {
    const s = scope[phase as CallPhase];
    return s === undefined
      ? ""
      : ` over ${s.evaluations} evaluation${
        s.evaluations === 1 ? "" : "s"
      } of ${s.examples} examples`;
  };
  return `${total} failed call${total === 1 ? "" : "s"} counted as failures (` +
    entries.map(([phase, n]) => `${phase} ${n}${over(phase)}`).join(", ") + ")";
}

/** How often a run scored a split, and its size (a range when the sizes differ): `12`, `8-12`. */
export interface SplitScope {
  evaluations: number;
  examples: string;
}

/** What {@linkcode runFailedCallsText} reads of a summary (`RunSummary` fits it). */
export interface FailedCallsOfRun {
  failedCalls: Partial<Record<CallPhase, number>>;
  steps: readonly {
    train: { n: number } | null;
    dev: { n: number };
    test: { n: number } | null;
  }[];
  selected: { test: { n: number } | null };
}

/**
 * A run's failed calls counted as failures, in words, each split's count with how many
 * evaluations of how many examples it is over. The counts are calls: an example fails once
 * per evaluation that sends it (the selected prompt's final test re-sends step 1's test
 * when step 1 is selected), so a count can exceed the split's size.
 *
 * @example
 * ```ts
 * import { runFailedCallsText } from "./incomplete.ts";
 * const m = (n: number) => ({ n });
 * const text = runFailedCallsText({
 *   failedCalls: { test: 12, critique: 1 },
 *   steps: [{ train: m(12), dev: m(8), test: m(8) }],
 *   selected: { test: m(8) },
 * });
 * if (text !== "13 failed calls counted as failures (test 12 over 2 evaluations of 8 examples, critique 1)") {
 *   throw new Error(text);
 * }
 * ```
 */
export function runFailedCallsText(run: FailedCallsOfRun): string {
  const sizes = (pick: (s: FailedCallsOfRun["steps"][number]) => { n: number } | null) =>
    run.steps.flatMap((s) => pick(s)?.n ?? []);
  const finalTest = run.selected.test === null ? [] : [run.selected.test.n];
  return failedCallsText(run.failedCalls, {
    train: scopeOf(sizes((s) => s.train)),
    dev: scopeOf(sizes((s) => s.dev)),
    test: scopeOf([...sizes((s) => s.test), ...finalTest]),
  });
}

/** One split's evaluations, from the size of each. */
function scopeOf(sizes: readonly number[]): SplitScope | undefined {
  if (sizes.length === 0) return undefined;
  const lo = Math.min(...sizes), hi = Math.max(...sizes);
  return { evaluations: sizes.length, examples: lo === hi ? `${lo}` : `${lo}-${hi}` };
}

/** What an incomplete stop says: what failed, where, at which step. */
export interface IncompleteInfo {
  failures: CallFailures;
  step?: number;
  endpoint?: string;
  /** `final test` when the selected prompt's test scoring was incomplete. */
  phase?: "step" | "final test";
}

/**
 * What a person reads about an incomplete stop: which step and split, how many calls failed,
 * the last error and the endpoint (credentials stripped), that nothing was scored from them
 * and no summary written, and the command to go on (`rpt resume DIR`; the command line
 * writes it the way it was started).
 *
 * @example
 * ```ts
 * import { incompleteText } from "./incomplete.ts";
 * const text = incompleteText({ step: 1, endpoint: "http://127.0.0.1:9/v1",
 *   failures: { phase: "dev", failed: 20, total: 20, lastError: "HTTP 503" } }, "runs/x");
 * if (!text.includes("20 of 20 target calls on dev failed") || !text.includes("rpt resume runs/x")) {
 *   throw new Error(text);
 * }
 * ```
 */
export function incompleteText(info: IncompleteInfo, dir: string): string {
  const f = info.failures;
  const where = info.phase === "final test"
    ? "the final test of the selected prompt"
    : info.step !== undefined
    ? `step ${info.step}`
    : "the run";
  return `${where} is incomplete: ${failuresText(f, info.endpoint)}. ` +
    `Nothing was scored from them and no summary was written; the completed steps, the ` +
    `usage and every answer that came back (in the response cache) are saved. Once the ` +
    `endpoint answers again, continue with: rpt resume ${dir} (only the failed calls are ` +
    `sent again); to count up to a share R of failed calls as failures instead, add ` +
    `--max-error-rate R.`;
}
