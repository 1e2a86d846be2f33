/**
 * What went wrong in a run, read from its record, for the report's warnings section: failed
 * model calls (provider errors), response-cache trouble, memory compaction, clustering and
 * critique fallbacks, the loop's own warnings, and how the run was cut short. Each source is
 * one small function of {@linkcode WARNING_SOURCES}; a new kind of warning is one more
 * function. Fields the summary gains later (such as per-model provider-error counts) are
 * shown as they are until a source reads them properly.
 *
 * @module
 */
import { incompleteText, runFailedCallsText } from "./incomplete.ts";
import type { RunRecord } from "./run/reader.ts";

/** One warning: what kind, at which step (when it belongs to one), and what happened. */
export interface RunWarning {
  kind: string;
  step?: number;
  text: string;
}

/** A source of warnings: reads one part of the run record. */
export type WarningSource = (run: RunRecord) => RunWarning[];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Failed calls the ledger counted, and examples whose target call failed (provider errors). */
function providerErrors(run: RunRecord): RunWarning[] {
  const out: RunWarning[] = [];
  for (const [i, session] of (run.usage?.sessions ?? []).entries()) {
    for (const [model, u] of Object.entries(session.usage.models)) {
      if (u.failures > 0) {
        // The ledger counts failed attempts, retried ones included; calls that failed after
        // every retry are the examples and critiques counted below.
        out.push({
          kind: "provider errors",
          text: `${plural(u.failures, "attempt")} to ${model} failed and ${
            u.failures === 1 ? "was" : "were"
          } retried or counted (session ${i + 1})`,
        });
      }
    }
  }
  for (const s of run.steps) {
    const errors = s.report?.counts.errors ?? 0;
    if (errors > 0) {
      out.push({
        kind: "provider errors",
        step: s.step,
        text: `${plural(errors, "training example")} got no answer from the target (scored 0)`,
      });
    }
    for (const [split, e] of [["dev", s.dev], ["test", s.test]] as const) {
      const rate = e?.metrics.errorRate ?? 0;
      if (rate > 0 && e !== null) {
        out.push({
          kind: "provider errors",
          step: s.step,
          text: `${Math.round(rate * e.metrics.n)} of ${e.metrics.n} ${split} examples got no ` +
            "answer from the target (scored 0)",
        });
      }
    }
  }
  return out;
}

/** Cache lookups and writes that failed, and damaged cache files moved aside. */
function cacheFallbacks(run: RunRecord): RunWarning[] {
  const out: RunWarning[] = [];
  for (const [i, session] of (run.usage?.sessions ?? []).entries()) {
    const c = session.cache;
    if (c === undefined) continue;
    const where = `(session ${i + 1})`;
    if (c.readErrors > 0) {
      out.push({
        kind: "cache",
        text: `${plural(c.readErrors, "lookup")} failed and were paid ${where}`,
      });
    }
    if (c.writesDisabled || c.writeErrors > 0) {
      out.push({
        kind: "cache",
        text: `${plural(c.writeErrors, "response")} could not be stored` +
          `${c.writesDisabled ? "; the rest of the session ran uncached" : ""} ${where}`,
      });
    }
    for (const path of c.movedAside) {
      out.push({ kind: "cache", text: `a damaged cache file was moved aside to ${path} ${where}` });
    }
  }
  return out;
}

interface MemoryView {
  omitted?: unknown;
  past_reports?: unknown;
}

/** The memory payload the optimizer got with the step's report, from the conversation. */
function memoryOf(run: RunRecord, step: number): MemoryView | undefined {
  const messages = run.steps.find((s) => s.step === step)?.decision?.messages ?? [];
  for (const m of messages) {
    if (m.role !== "tool") continue;
    try {
      const content = JSON.parse(m.content) as { memory?: MemoryView };
      if (content.memory !== undefined) return content.memory;
    } catch {
      // Not a JSON tool result: no memory in it.
    }
  }
  return undefined;
}

/**
 * Past reports shortened (metrics and topics only) or left out to fit the memory budget: the
 * step's recorded counts, else (a run written before they were recorded) the memory payload
 * in the step's conversation.
 */
function memoryCompaction(run: RunRecord): RunWarning[] {
  const summaries = run.summary?.steps ?? run.state?.steps ?? [];
  return run.steps.flatMap((s) => {
    let compacted = 0;
    let omitted = 0;
    const recorded = summaries.find((x) => x.step === s.step)?.memoryCompaction;
    if (recorded !== undefined) ({ compacted, omitted } = recorded);
    else {
      const memory = memoryOf(run, s.step);
      if (memory === undefined) return [];
      const reports = Array.isArray(memory.past_reports) ? memory.past_reports : [];
      compacted = reports.filter((r) => (r as { compacted?: unknown })?.compacted === true).length;
      omitted = typeof memory.omitted === "number" ? memory.omitted : 0;
    }
    if (compacted === 0 && omitted === 0) return [];
    const parts = [
      ...(compacted > 0
        ? [`${plural(compacted, "past report")} compacted to metrics and topics`]
        : []),
      ...(omitted > 0 ? [`${plural(omitted, "past report")} left out`] : []),
    ];
    return [{
      kind: "memory compaction",
      step: s.step,
      text: `${parts.join(", ")} to fit the memory budget`,
    }];
  });
}

/** Diagnoses the topic assignment left to the embedding fallback, clustering errors, failed critiques. */
function clusteringFallbacks(run: RunRecord): RunWarning[] {
  const out: RunWarning[] = [];
  for (const s of run.steps) {
    const c = s.record?.clustering;
    if (c !== null && c !== undefined) {
      if (c.fallbacks.count > 0) {
        out.push({
          kind: "assignment fallbacks",
          step: s.step,
          text: `${plural(c.fallbacks.count, "diagnosis", "diagnoses")} could not be assigned ` +
            "by the model and went to the nearest topic by embedding",
        });
      }
      for (const e of c.errors) {
        out.push({ kind: "clustering", step: s.step, text: e });
      }
    }
  }
  for (const e of run.events) {
    if (e.type === "critiques" && e.failed > 0) {
      out.push({
        kind: "critique failures",
        step: e.step,
        text: `${plural(e.failed, "failure")} of ${e.n} could not be critiqued`,
      });
    }
  }
  return out;
}

/** The loop's own warnings (a format collapse, ignored tool arguments) and missing tool calls. */
function loopWarnings(run: RunRecord): RunWarning[] {
  const steps = run.summary?.steps ?? run.state?.steps ?? [];
  const out: RunWarning[] = steps.flatMap((s) =>
    s.warnings.map((text) => ({ kind: "loop", step: s.step, text }))
  );
  for (const e of run.events) {
    if (e.type === "tool_call_missing") {
      out.push({
        kind: "loop",
        step: e.step,
        text: `the optimizer did not call diagnose: ${e.problem}`,
      });
    }
  }
  return out;
}

/**
 * Batch mode's fallbacks: lines a batch job failed (retried as ordinary calls), lines an
 * expired, cancelled or failed job never answered (sent as ordinary calls), and phases no
 * batch answered at all; those that still failed are failed calls like any other.
 */
function batchFallbacks(run: RunRecord): RunWarning[] {
  return run.events.flatMap((e): RunWarning[] => {
    if (e.type !== "batch_done") return [];
    const text = batchFallbackText(e);
    return text === undefined ? [] : [{ kind: "batch fallbacks", step: e.step, text }];
  });
}

/**
 * One batched phase's fallbacks in words, or undefined when the batch answered every line
 * it was sent.
 *
 * @example
 * ```ts
 * import { batchFallbackText } from "./run_warnings.ts";
 * const text = batchFallbackText({ phase: "dev", batchId: "batch_1", state: "expired",
 *   failedInBatch: 1, missing: 5, ordinary: 6, failures: 0 });
 * if (text !== "dev batch batch_1 (expired): 1 line failed in the batch, 5 never answered; " +
 *   "6 sent as ordinary calls, all answered") throw new Error(text);
 * ```
 */
export function batchFallbackText(e: {
  phase: string;
  batchId?: string;
  state?: string;
  failedInBatch: number;
  missing: number;
  ordinary: number;
  failures: number;
  fallback?: string;
}): string | undefined {
  if (e.failedInBatch === 0 && e.missing === 0 && e.fallback === undefined) return undefined;
  const job = e.batchId !== undefined
    ? `${e.phase} batch ${e.batchId}${e.state !== undefined ? ` (${e.state})` : ""}`
    : `${e.phase}: no batch`;
  const parts = [
    ...(e.fallback !== undefined ? [e.fallback] : []),
    ...(e.failedInBatch > 0 ? [`${plural(e.failedInBatch, "line")} failed in the batch`] : []),
    ...(e.missing > 0 ? [`${e.missing} never answered`] : []),
  ];
  const after = e.failures === 0
    ? "all answered"
    : `${e.failures} still failed (counted as failed calls)`;
  const sent = e.ordinary === 1
    ? "1 sent as an ordinary call"
    : `${e.ordinary} sent as ordinary calls`;
  return `${job}: ${parts.join(", ")}; ${sent}, ${after}`;
}

/** Budgets reached, failures and interruptions the events recorded. */
function runEnd(run: RunRecord): RunWarning[] {
  return run.events.flatMap((e): RunWarning[] => {
    if (e.type === "budget_exceeded") {
      return [{
        kind: "budget",
        ...(e.step !== undefined ? { step: e.step } : {}),
        text: `${e.phase ? `${e.phase}: ` : ""}${e.message}`,
      }];
    }
    if (e.type === "failed") return [{ kind: "run", text: `a session failed: ${e.message}` }];
    if (e.type === "interrupted") {
      return [{
        kind: "run",
        text: `interrupted after ${plural(e.completedSteps, "complete step")}`,
      }];
    }
    return [];
  });
}

const KNOWN_SUMMARY_FIELDS = new Set([
  "version",
  "task",
  "simulated",
  "iterationsRun",
  "stop",
  "steps",
  "selectionFormula",
  "selected",
  "seed",
  "comparison",
  "testCurve",
  "headline",
  "failedCalls",
]);

/** Summary fields no source reads yet (a newer run record's counts), shown as they are. */
function otherSummaryFields(run: RunRecord): RunWarning[] {
  const summary = (run.summary ?? {}) as Record<string, unknown>;
  return Object.entries(summary).filter(([key, value]) =>
    !KNOWN_SUMMARY_FIELDS.has(key) && value !== null && value !== undefined
  ).map(([key, value]) => ({ kind: "summary", text: `${key}: ${JSON.stringify(value)}` }));
}

/**
 * Calls that failed after their retries: an incomplete stop (`incomplete.json`), and those
 * counted as failures over the run because `maxErrorRate` allowed them.
 */
function failedCalls(run: RunRecord): RunWarning[] {
  const out: RunWarning[] = [];
  const i = run.incomplete;
  if (i !== null) {
    out.push({ kind: "incomplete", step: i.step, text: incompleteText(i, run.dir) });
  }
  const counted = run.summary === null ? "" : runFailedCallsText(run.summary);
  if (counted) {
    out.push({
      kind: "failed calls",
      text: `${counted} over the run, allowed by --max-error-rate ${run.config.maxErrorRate}: ` +
        "those examples scored 0, those critiques and topic assignments are missing",
    });
  }
  return out;
}

/** Paid models without a known price: their calls are not in the dollars shown. */
function unpricedModels(run: RunRecord): RunWarning[] {
  const unpriced = run.usage?.total.unpriced ?? [];
  if (unpriced.length === 0) return [];
  return [{
    kind: "unpriced",
    text: `no price is known for ${unpriced.join(", ")}: the dollars shown leave those calls ` +
      "out (give prices with --price MODEL=IN/OUT)",
  }];
}

/** Every source, in the order the report lists them. */
export const WARNING_SOURCES: readonly WarningSource[] = [
  failedCalls,
  providerErrors,
  cacheFallbacks,
  memoryCompaction,
  clusteringFallbacks,
  batchFallbacks,
  loopWarnings,
  runEnd,
  unpricedModels,
  otherSummaryFields,
];

/**
 * Every warning of a run (load it with `records: true` for the clustering fallbacks).
 *
 * @example
 * ```ts ignore
 * import { loadRun } from "./run/reader.ts";
 * import { runWarnings } from "./run_warnings.ts";
 * for (const w of runWarnings(await loadRun("runs/x", { records: true }))) console.log(w.text);
 * ```
 */
export function runWarnings(
  run: RunRecord,
  sources: readonly WarningSource[] = WARNING_SOURCES,
): RunWarning[] {
  return sources.flatMap((source) => source(run));
}
