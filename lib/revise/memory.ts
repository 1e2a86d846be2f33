/**
 * The optimizer's memory (DESIGN section 1, "Memory"): an external list of past reports, each
 * with the prompt it diagnosed, its metrics and retained topics (with their examples: whole
 * reports), and, unless `patches` is off, what followed it (the patch with its rationale, or
 * a stop). Each iteration the optimizer gets a payload built from it in one of five modes,
 * with the reference implementation's meaning (megagonlabs/RPT, `rpt/tasks/hotpotqa.py`
 * 1233-1276):
 *
 * - `all_reports`: every report so far, the current one included;
 * - `last_report`: the summary of the current report only (no past report);
 * - `history_summary` (the paper's runs): every past report, plus the current summary;
 * - `last_k`: the last k reports, the current one included (k = 5 by default);
 * - `none`: nothing (the ablation without memory).
 *
 * The current summary: the current metrics and topics, the best report so far by the train
 * score (strictly higher wins), the deltas of every metric and of the score against the
 * previous and the best report, the non-improving streak, and whether the last patch
 * improved the train score.
 *
 * The payload stays within a token budget ({@linkcode estimateTokens}; the loop sizes it to
 * the optimizer's context window, so a paper-scale run compacts nothing): past that, the
 * oldest reports are compacted to metrics plus topic names, and dropped (counted in
 * `omitted`) only when compaction alone is not enough. The payload says how many were
 * compacted, and the loop records it.
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
  /** Reports in `last_k` mode, the current one included (default 5). */
  k?: number;
  /** Estimated tokens the payload may take (default: no limit). */
  tokenBudget?: number;
  /** Show the patch and rationale that followed each past report (default true). */
  patches?: boolean;
  /** The train score the summary ranks reports by (default: the metrics' `score`). */
  score?: (metrics: Metrics) => number;
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

/** A failure topic as memory shows it: name, description and examples. */
export interface MemoryTopic {
  name: string;
  description: string;
  examples: string[];
}

/** A report in full. */
export interface FullMemoryItem {
  iteration: number;
  prompt: Record<string, string>;
  metrics: MemoryMetrics;
  failure_topics: MemoryTopic[];
  /** What followed the report (left out for the current one, and without `patches`). */
  followed_by?: {
    action: "patch" | "stop" | "none";
    patch?: { system?: string; instruction?: string };
    rationale?: string;
    stop_reason?: string;
  };
}

/** A report compacted to fit the budget: metrics and topic names only. */
export interface CompactMemoryItem {
  iteration: number;
  compacted: true;
  metrics: Pick<MemoryMetrics, "score" | "brier" | "format_error_rate">;
  topic_names: string[];
  action?: "patch" | "stop" | "none";
}

/** Every metric's difference, and the train score's (null where a side has none). */
export type MetricDeltas = Record<string, number | null>;

/** The summary of the current report (`history_summary` and `last_report`). */
export interface CurrentSummary {
  iteration: number;
  metrics: MemoryMetrics;
  /** The train score reports are ranked by. */
  score: number;
  failure_topics: MemoryTopic[];
  best_so_far: { iteration: number; metrics: MemoryMetrics; score: number };
  delta_vs_previous: MetricDeltas | null;
  delta_vs_best: MetricDeltas;
  /** Reports after the best one (0 when the current report is the best). */
  non_improving_streak: number;
  /** Whether the current train score beat the previous one; null for the first report. */
  did_last_patch_improve_train: boolean | null;
}

/** The memory payload the optimizer receives. */
export interface MemoryPayload {
  mode: MemoryMode;
  /** The reports the mode shows, oldest first. */
  history: (FullMemoryItem | CompactMemoryItem)[];
  /** Reports compacted to fit the budget. */
  compacted: number;
  /** Oldest reports left out entirely to stay within the budget. */
  omitted: number;
  current_summary?: CurrentSummary;
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
    topics: report.topics.map((t) => ({
      name: t.name,
      description: t.description,
      examples: [...t.examples],
    })),
    action: followed.action,
    patch: followed.patch ?? null,
    ...(followed.stopReason !== undefined ? { stopReason: followed.stopReason } : {}),
  };
}

function topicsOf(e: MemoryEntry): MemoryTopic[] {
  return e.topics.map((t) => ({
    name: t.name,
    description: t.description,
    examples: t.examples ?? [],
  }));
}

function followedBy(e: MemoryEntry): NonNullable<FullMemoryItem["followed_by"]> {
  const followed: NonNullable<FullMemoryItem["followed_by"]> = { action: e.action };
  if (e.patch) {
    followed.patch = {
      ...(e.patch.system !== undefined ? { system: e.patch.system } : {}),
      ...(e.patch.instruction !== undefined ? { instruction: e.patch.instruction } : {}),
    };
    followed.rationale = e.patch.rationale;
  }
  if (e.stopReason !== undefined) followed.stop_reason = e.stopReason;
  return followed;
}

function fullItem(e: MemoryEntry, withFollowed: boolean): FullMemoryItem {
  return {
    iteration: e.iteration,
    prompt: { ...e.prompt },
    metrics: memoryMetrics(e.metrics),
    failure_topics: topicsOf(e),
    ...(withFollowed ? { followed_by: followedBy(e) } : {}),
  };
}

function compactItem(e: MemoryEntry, withAction: boolean): CompactMemoryItem {
  return {
    iteration: e.iteration,
    compacted: true,
    metrics: {
      score: round(e.metrics.score),
      brier: roundOrNull(e.metrics.brier),
      format_error_rate: round(e.metrics.formatErrorRate),
    },
    topic_names: e.topics.map((t) => t.name),
    ...(withAction ? { action: e.action } : {}),
  };
}

/**
 * Reports after the best one (the first to reach the highest score; a later equal score
 * does not replace it): 0 when the last report is the best.
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
    if (s > best + 1e-12) {
      best = s;
      streak = 0;
    } else {
      streak++;
    }
  }
  return streak;
}

function diff(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || b === null || a === undefined || b === undefined ? null : round(a - b);
}

function deltas(a: Metrics, b: Metrics, scoreA: number, scoreB: number): MetricDeltas {
  const out: MetricDeltas = {
    train_score: round(scoreA - scoreB),
    score: round(a.score - b.score),
    full_credit: round(a.fullCredit - b.fullCredit),
    avg_confidence: diff(a.avgConfidence, b.avgConfidence),
    brier: diff(a.brier, b.brier),
    ece: diff(a.ece, b.ece),
    format_error_rate: round(a.formatErrorRate - b.formatErrorRate),
  };
  for (const key of Object.keys(a.extra)) out[key] = diff(a.extra[key], b.extra[key]);
  return out;
}

/** The summary of the current report against the past ones. */
export function currentSummary(
  past: readonly MemoryEntry[],
  current: DiagnosticReport,
  score: (m: Metrics) => number = (m) => m.score,
): CurrentSummary {
  const all = [
    ...past.map((e) => ({ iteration: e.iteration, metrics: e.metrics })),
    { iteration: current.iteration, metrics: current.metrics },
  ].map((r) => ({ ...r, score: score(r.metrics) }));
  let best = all[0] as (typeof all)[number];
  for (const r of all) if (r.score > best.score + 1e-12) best = r;
  const now = all.at(-1) as (typeof all)[number];
  const previous = all.length > 1 ? all[all.length - 2] : undefined;
  return {
    iteration: current.iteration,
    metrics: memoryMetrics(current.metrics),
    score: round(now.score),
    failure_topics: current.topics.map((t) => ({
      name: t.name,
      description: t.description,
      examples: [...t.examples],
    })),
    best_so_far: {
      iteration: best.iteration,
      metrics: memoryMetrics(best.metrics),
      score: round(best.score),
    },
    delta_vs_previous: previous
      ? deltas(now.metrics, previous.metrics, now.score, previous.score)
      : null,
    delta_vs_best: deltas(now.metrics, best.metrics, now.score, best.score),
    non_improving_streak: nonImprovingStreak(all.map((r) => r.score)),
    did_last_patch_improve_train: previous ? now.score > previous.score + 1e-12 : null,
  };
}

/** The reports a mode shows: past entries, with the current report's entry where it counts. */
function shown(entries: readonly MemoryEntry[], current: MemoryEntry, opts: MemoryOptions) {
  switch (opts.mode) {
    case "all_reports":
      return [...entries, current];
    case "last_k":
      return [...entries, current].slice(-Math.max(1, opts.k ?? 5));
    case "history_summary":
      return [...entries];
    case "last_report":
    case "none":
      return [];
  }
}

/** Estimated tokens of a payload as the optimizer receives it (compact JSON). */
export function payloadTokens(payload: MemoryPayload): number {
  return estimateTokens(JSON.stringify(payload));
}

/**
 * The memory payload for the current report: the reports the mode shows, compacted
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
 * if (p.history.length !== 1 || p.current_summary?.non_improving_streak !== 1) throw new Error();
 * if (buildMemoryPayload([entry], report, { mode: "all_reports" }).history.length !== 2) throw new Error();
 * ```
 */
export function buildMemoryPayload(
  entries: readonly MemoryEntry[],
  current: DiagnosticReport,
  opts: MemoryOptions,
): MemoryPayload {
  const budget = opts.tokenBudget ?? Infinity;
  const patches = opts.patches ?? true;
  const currentEntry = memoryEntry(current, { action: "none" });
  const reports = shown(entries, currentEntry, opts);
  // The current report's entry has no "followed by" yet: it is the report being decided on.
  const withFollowed = (e: MemoryEntry) => patches && e !== currentEntry;
  const items: (FullMemoryItem | CompactMemoryItem)[] = reports.map((e) =>
    fullItem(e, withFollowed(e))
  );
  const payload: MemoryPayload = { mode: opts.mode, history: items, compacted: 0, omitted: 0 };
  if (opts.mode === "history_summary" || opts.mode === "last_report") {
    payload.current_summary = currentSummary(entries, current, opts.score);
  }
  let next = 0; // index of the next item to compact; all before it are compacted
  while (payloadTokens(payload) > budget) {
    if (next < items.length) {
      const e = reports[next + payload.omitted] as MemoryEntry;
      items[next] = compactItem(e, withFollowed(e));
      next++;
      payload.compacted = next;
    } else if (items.length > 0) {
      // Even metrics plus topic names do not fit: the oldest go entirely.
      items.shift();
      payload.omitted++;
      next = items.length;
      payload.compacted = next;
    } else {
      break;
    }
  }
  return payload;
}
