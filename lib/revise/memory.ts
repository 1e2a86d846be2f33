/**
 * The optimizer's memory (DESIGN section 1, "Memory"): an external list of past reports,
 * each with the prompt it diagnosed, its metrics and retained topics, and what followed
 * it (the patch with its rationale, or a stop). Each iteration's `diagnose` tool result
 * carries a payload built from it in one of five modes:
 *
 * - `last_report`: the previous report only;
 * - `all_reports`: every past report;
 * - `last_k`: the last k past reports;
 * - `history_summary` (the paper's, the default): every past report plus a summary of the
 *   current one: best so far, deltas vs the previous report and vs the best, and the
 *   non-improving streak;
 * - `none`: no past report (the ablation without memory).
 *
 * The payload stays within a token budget ({@linkcode estimateTokens}): the oldest
 * entries are compacted to metrics plus topic names first, and dropped (counted in
 * `omitted`) only when compaction alone is not enough.
 *
 * @module
 */
import type { DiagnosticReport } from "../report.ts";
import type { MemoryMode } from "../run/config.ts";
import type { MemoryEntry, Patch } from "../run/schema.ts";
import type { Metrics } from "../tasks/schema.ts";
import { roundTo } from "../util/format.ts";
import { estimateTokens } from "../util/tokens.ts";

/** How the payload is built. */
export interface MemoryOptions {
  mode: MemoryMode;
  /** Past reports in `last_k` mode (default 3). */
  k?: number;
  /** Estimated tokens the payload may take (default 12 000). */
  tokenBudget?: number;
}

/** Metrics as memory shows them: rounded, without per-example detail. */
export interface MemoryMetrics {
  score: number;
  full_credit: number;
  avg_confidence: number | null;
  brier: number | null;
  ece: number | null;
  format_error_rate: number;
  extra?: Record<string, number>;
}

/** A past report in full. */
export interface FullMemoryItem {
  iteration: number;
  prompt: Record<string, string>;
  metrics: MemoryMetrics;
  failure_topics: { name: string; description: string }[];
  followed_by: {
    action: "patch" | "stop" | "none";
    patch?: { system?: string; instruction?: string };
    rationale?: string;
    stop_reason?: string;
  };
}

/** A past report compacted to fit the budget: metrics and topic names only. */
export interface CompactMemoryItem {
  iteration: number;
  compacted: true;
  metrics: Pick<MemoryMetrics, "score" | "brier" | "format_error_rate">;
  topic_names: string[];
  action: "patch" | "stop" | "none";
}

/** The summary of the current report (`history_summary` mode). */
export interface CurrentSummary {
  iteration: number;
  score: number;
  brier: number | null;
  best_so_far: { iteration: number; score: number; brier: number | null };
  delta_vs_previous: { score: number; brier: number | null } | null;
  delta_vs_best: { score: number; brier: number | null };
  /** Consecutive reports, this one included, that did not beat the best score before them. */
  non_improving_streak: number;
}

/** The memory part of the `diagnose` tool result. */
export interface MemoryPayload {
  mode: MemoryMode;
  past_reports: (FullMemoryItem | CompactMemoryItem)[];
  /** Oldest past reports left out entirely to stay within the budget. */
  omitted: number;
  current?: CurrentSummary;
}

const round = (x: number) => roundTo(x, 4);

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}

function memoryMetrics(m: Metrics): MemoryMetrics {
  return {
    score: round(m.score),
    full_credit: round(m.fullCredit),
    avg_confidence: roundOrNull(m.avgConfidence),
    brier: roundOrNull(m.brier),
    ece: roundOrNull(m.ece),
    format_error_rate: round(m.formatErrorRate),
    ...(Object.keys(m.extra).length > 0
      ? { extra: Object.fromEntries(Object.entries(m.extra).map(([k, v]) => [k, round(v)])) }
      : {}),
  };
}

/**
 * A memory entry for a report and what followed it.
 *
 * @example
 * ```ts
 * import { memoryEntry } from "./memory.ts";
 * const metrics = { n: 1, parsed: 1, score: 0.5, fullCredit: 0, avgConfidence: 0.9, brier: 0.2,
 *   ece: 0.1, formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {} };
 * const e = memoryEntry({ iteration: 1, prompt: { system: "", instruction: "i" }, metrics, topics: [],
 *   counts: { examples: 1, failures: 1, diagnoses: 0, formatErrors: 0, errors: 0 }, warnings: [] },
 *   { action: "patch", patch: { instruction: "j", rationale: "why" } });
 * if (e.patch?.rationale !== "why") throw new Error();
 * ```
 */
export function memoryEntry(
  report: DiagnosticReport,
  followed: { action: "patch" | "stop" | "none"; patch?: Patch | null; stopReason?: string },
): MemoryEntry {
  return {
    iteration: report.iteration,
    prompt: report.prompt,
    metrics: report.metrics,
    topics: report.topics.map((t) => ({ name: t.name, description: t.description })),
    action: followed.action,
    patch: followed.patch ?? null,
    ...(followed.stopReason !== undefined ? { stopReason: followed.stopReason } : {}),
  };
}

function fullItem(e: MemoryEntry): FullMemoryItem {
  const followed: FullMemoryItem["followed_by"] = { action: e.action };
  if (e.patch) {
    followed.patch = {
      ...(e.patch.system !== undefined ? { system: e.patch.system } : {}),
      ...(e.patch.instruction !== undefined ? { instruction: e.patch.instruction } : {}),
    };
    followed.rationale = e.patch.rationale;
  }
  if (e.stopReason !== undefined) followed.stop_reason = e.stopReason;
  return {
    iteration: e.iteration,
    prompt: { ...e.prompt },
    metrics: memoryMetrics(e.metrics),
    failure_topics: e.topics,
    followed_by: followed,
  };
}

function compactItem(e: MemoryEntry): CompactMemoryItem {
  return {
    iteration: e.iteration,
    compacted: true,
    metrics: {
      score: round(e.metrics.score),
      brier: roundOrNull(e.metrics.brier),
      format_error_rate: round(e.metrics.formatErrorRate),
    },
    topic_names: e.topics.map((t) => t.name),
    action: e.action,
  };
}

/**
 * Consecutive trailing scores that did not beat the best score before them.
 *
 * @example
 * ```ts
 * import { nonImprovingStreak } from "./memory.ts";
 * if (nonImprovingStreak([0.5, 0.6, 0.6, 0.55]) !== 2) throw new Error();
 * if (nonImprovingStreak([0.5, 0.7]) !== 0) throw new Error();
 * ```
 */
export function nonImprovingStreak(scores: readonly number[]): number {
  let best = -Infinity;
  let streak = 0;
  for (const s of scores) {
    if (s > best) {
      best = s;
      streak = 0;
    } else {
      streak++;
    }
  }
  return streak;
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : round(a - b);
}

/** The summary of the current report against the past ones. */
export function currentSummary(
  past: readonly MemoryEntry[],
  current: DiagnosticReport,
): CurrentSummary {
  const all = [
    ...past.map((e) => ({ iteration: e.iteration, metrics: e.metrics })),
    { iteration: current.iteration, metrics: current.metrics },
  ];
  let best = all[0] as (typeof all)[number];
  for (const r of all) if (r.metrics.score > best.metrics.score) best = r;
  const previous = past.at(-1);
  const m = current.metrics;
  return {
    iteration: current.iteration,
    score: round(m.score),
    brier: roundOrNull(m.brier),
    best_so_far: {
      iteration: best.iteration,
      score: round(best.metrics.score),
      brier: roundOrNull(best.metrics.brier),
    },
    delta_vs_previous: previous
      ? {
        score: round(m.score - previous.metrics.score),
        brier: diff(m.brier, previous.metrics.brier),
      }
      : null,
    delta_vs_best: {
      score: round(m.score - best.metrics.score),
      brier: diff(m.brier, best.metrics.brier),
    },
    non_improving_streak: nonImprovingStreak(all.map((r) => r.metrics.score)),
  };
}

function selectPast(entries: readonly MemoryEntry[], opts: MemoryOptions): MemoryEntry[] {
  switch (opts.mode) {
    case "last_report":
      return entries.slice(-1);
    case "last_k":
      return entries.slice(-Math.max(1, opts.k ?? 3));
    case "all_reports":
    case "history_summary":
      return [...entries];
    case "none":
      return [];
  }
}

/** Estimated tokens of a payload as the optimizer receives it (compact JSON). */
export function payloadTokens(payload: MemoryPayload): number {
  return estimateTokens(JSON.stringify(payload));
}

/**
 * The memory payload for the current report: the past entries the mode shows, compacted
 * oldest-first (then dropped oldest-first) until the payload fits the token budget.
 *
 * @example
 * ```ts
 * import { buildMemoryPayload } from "./memory.ts";
 * const metrics = { n: 1, parsed: 1, score: 0.5, fullCredit: 0, avgConfidence: 0.9, brier: 0.2,
 *   ece: 0.1, formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {} };
 * const report = { iteration: 2, prompt: { system: "", instruction: "i" }, metrics, topics: [],
 *   counts: { examples: 1, failures: 1, diagnoses: 0, formatErrors: 0, errors: 0 }, warnings: [] };
 * const entry = { iteration: 1, prompt: report.prompt, metrics, topics: [], action: "patch" as const,
 *   patch: { instruction: "i", rationale: "r" } };
 * const p = buildMemoryPayload([entry], report, { mode: "history_summary" });
 * if (p.past_reports.length !== 1 || p.current?.non_improving_streak !== 1) throw new Error();
 * ```
 */
export function buildMemoryPayload(
  entries: readonly MemoryEntry[],
  current: DiagnosticReport,
  opts: MemoryOptions,
): MemoryPayload {
  const budget = opts.tokenBudget ?? 12_000;
  const past = selectPast(entries, opts);
  const items: (FullMemoryItem | CompactMemoryItem)[] = past.map(fullItem);
  const payload: MemoryPayload = { mode: opts.mode, past_reports: items, omitted: 0 };
  if (opts.mode === "history_summary") payload.current = currentSummary(entries, current);
  let next = 0; // index of the next item to compact; all before it are compacted
  while (payloadTokens(payload) > budget) {
    if (next < items.length) {
      items[next] = compactItem(past[next + payload.omitted] as MemoryEntry);
      next++;
    } else if (items.length > 0) {
      // Even metrics plus topic names do not fit: the oldest go entirely.
      items.shift();
      payload.omitted++;
      next = items.length;
    } else {
      break;
    }
  }
  return payload;
}
