/**
 * The schemas of a run directory's files (DESIGN section 4): the single source of truth for
 * what the loop writes and what `loadRun`, `rpt show`, `rpt report`, the analyses and the
 * notebooks read. `config.json` is in `config.ts`, `events.jsonl` in `events.ts`.
 *
 * ```text
 * <run>/config.json            RunConfig (config.ts)
 * <run>/events.jsonl           one RunEvent per line (events.ts)
 * <run>/iter-NNN/prompt.json   PromptProgram: the prompt this step works on
 * <run>/iter-NNN/dev.json      Evaluation on dev (every step); test.json (step 1, every testEvery)
 * <run>/iter-NNN/report.json   DiagnosticReport (iterations); report.md the same for people
 * <run>/iter-NNN/record.json   StepRecordFile: traces, critiques, clustering, candidates
 * <run>/iter-NNN/decision.json StepDecisionFile: the decision, rejections, the conversation
 * <run>/final/test.json        Evaluation of the selected prompt on test
 * <run>/state.json             RunState: the checkpoint resume starts from
 * <run>/summary.json           RunSummary (no times, no usage: deterministic)
 * <run>/usage.json             RunUsage: calls, tokens and dollars per session
 * <run>/usage.jsonl            UsageLine per completed call (the record a SIGKILL cannot lose)
 * <run>/run.lock               LockInfo: the process working on the run (lock.ts)
 * <run>/incomplete.json        IncompleteRecord: the step whose calls failed, until it is done
 * ```
 *
 * @module
 */
import { z } from "zod";
import { ClusterResult } from "../cluster.ts";
import { FailureMode } from "../critique.ts";
import { CallFailures, CallPhase } from "../incomplete.ts";
import { ChatMessage } from "../llm/schema.ts";
import { sentUnpriced, Usage, UsageSnapshot } from "../llm/usage.ts";
import { PromptProgram } from "../prompt.ts";
import { DiagnosticReport } from "../report.ts";
import { Metrics, Split } from "../tasks/schema.ts";
import { TraceItem } from "../trace.ts";

/** File names of a run directory. */
export const RUN_FILES = {
  config: "config.json",
  events: "events.jsonl",
  state: "state.json",
  summary: "summary.json",
  usage: "usage.json",
  /** One line per completed call, appended as it completes (survives a SIGKILL). */
  usageLog: "usage.jsonl",
  finalTest: "final/test.json",
  /** Who holds the directory (`lock.ts`); present while a process works on the run. */
  lock: "run.lock",
  /** Why the run stopped incomplete, with the unscored items; gone once that work is done. */
  incomplete: "incomplete.json",
} as const;

/** File names inside a step folder. */
export const STEP_FILES = {
  prompt: "prompt.json",
  dev: "dev.json",
  test: "test.json",
  report: "report.json",
  reportMarkdown: "report.md",
  record: "record.json",
  decision: "decision.json",
} as const;

/**
 * The folder name of step `n`.
 *
 * @example
 * ```ts
 * import { stepDirName } from "./schema.ts";
 * if (stepDirName(7) !== "iter-007") throw new Error();
 * ```
 */
export function stepDirName(step: number): string {
  return `iter-${String(step).padStart(3, "0")}`;
}

// ---------------------------------------------------------------------------------------------
// The optimizer's side of a step

/** Arguments of the `diagnose` tool the optimizer calls. */
export const DiagnoseArgs = z.object({
  system: z.string().optional().describe(
    "system field of the prompt to diagnose; omit for current",
  ),
  instruction: z.string().optional().describe(
    "instruction field of the prompt to diagnose; omit for current",
  ),
});
/** Arguments of the `diagnose` tool. */
export type DiagnoseArgs = z.infer<typeof DiagnoseArgs>;

/** A patch: each given field replaces the old one whole. */
export const Patch = z.object({
  system: z.string().optional(),
  instruction: z.string().optional(),
  rationale: z.string(),
});
/** A patch. */
export type Patch = z.infer<typeof Patch>;

/** The optimizer's decision at the end of an iteration. */
export const Decision = z.object({
  action: z.enum(["patch", "stop"]),
  patch: Patch.optional(),
  stop_reason: z.string().optional(),
});
/** The optimizer's decision. */
export type Decision = z.infer<typeof Decision>;

/** Who decided a step's patch: the optimizer (the default, left out) or a person's hand edit. */
export const DecidedBy = z.enum(["optimizer", "hand"]);
/** Who decided a step's patch. */
export type DecidedBy = z.infer<typeof DecidedBy>;

/** One past iteration as the optimizer's memory keeps it. */
export const MemoryEntry = z.object({
  iteration: z.number().int().min(1),
  prompt: PromptProgram,
  metrics: Metrics,
  /** Retained topics; `examples` (whole reports) absent in checkpoints written before them. */
  topics: z.array(z.object({
    name: z.string(),
    description: z.string(),
    examples: z.array(z.string()).optional(),
  })),
  /** What followed the report: the accepted patch (with rationale), a stop, or nothing. */
  action: z.enum(["patch", "stop", "none"]),
  patch: Patch.nullable(),
  stopReason: z.string().optional(),
});
/** One past iteration as memory keeps it. */
export type MemoryEntry = z.infer<typeof MemoryEntry>;

/** How a run ended (`manual`: a session finished by hand before its last iteration). */
export const StopKind = z.enum(["iterations", "decision", "guard", "tool", "budget", "manual"]);
/** How a run ended. */
export type StopKind = z.infer<typeof StopKind>;

/** Why no further step runs. */
export const Stop = z.object({ kind: StopKind, reason: z.string() });
/** Why no further step runs. */
export type Stop = z.infer<typeof Stop>;

// ---------------------------------------------------------------------------------------------
// Evaluations

/** One example's outcome kept for dev/test evaluations (traces without messages). */
export const ScoredItem = z.object({
  exampleId: z.string(),
  subtask: z.string().optional(),
  answer: z.string().nullable(),
  confidence: z.number().nullable(),
  score: z.number(),
  full: z.boolean(),
  /** What the confidence is calibrated against when it is not the score (HotPotQA: EM). */
  calibrationTarget: z.number().min(0).max(1).optional(),
  formatError: z.string().optional(),
  error: z.string().optional(),
  /** An unparsed output whose raw text the task still scored (LiveBench's reference rule). */
  unparsedCredit: z.literal(true).optional(),
});
/** One example's outcome in a dev/test evaluation. */
export type ScoredItem = z.infer<typeof ScoredItem>;

/** `dev.json` / `test.json` of a step: metrics and per-example outcomes. */
export const Evaluation = z.object({
  split: Split,
  step: z.number().int().min(0),
  metrics: Metrics,
  items: z.array(ScoredItem),
});
/** A dev or test evaluation of one prompt. */
export type Evaluation = z.infer<typeof Evaluation>;

// ---------------------------------------------------------------------------------------------
// Step folders

/** A trace as `record.json` keeps it: everything but the rendered messages. */
export const StoredTrace = TraceItem.omit({ messages: true });
/** A trace as `record.json` keeps it. */
export type StoredTrace = z.infer<typeof StoredTrace>;

/** The critic's result for one failure (`critique.ts`'s `CritiqueOutcome`). */
export const CritiqueRecord = z.object({
  exampleId: z.string(),
  modes: z.array(FailureMode),
  error: z.string().optional(),
  /** The critic's call failed after its retries (rather than answering badly). */
  callFailed: z.boolean().optional(),
  attempts: z.number().int().min(0),
  labelFixes: z.array(z.string()).optional(),
});
/** The critic's result for one failure. */
export type CritiqueRecord = z.infer<typeof CritiqueRecord>;

/** A candidate prompt diagnosed during a step without being committed. */
export const CandidateRecord = z.object({
  args: DiagnoseArgs,
  prompt: PromptProgram,
  report: DiagnosticReport,
  /** Left out for the optimizer's own candidates (`explore`); `hand` for `tryPrompt`. */
  by: DecidedBy.optional(),
});
/** A candidate prompt diagnosed during a step. */
export type CandidateRecord = z.infer<typeof CandidateRecord>;

/** `record.json` of an iteration: the bulk of the diagnosis. */
export const StepRecordFile = z.object({
  traces: z.array(StoredTrace),
  critiques: z.array(CritiqueRecord),
  /** The full, unfiltered clustering; null when no failure was critiqued. */
  clustering: ClusterResult.nullable(),
  /** Candidate prompts diagnosed before the decision (`explore`, `tryPrompt`). */
  candidates: z.array(CandidateRecord).default([]),
});
/** `record.json` of an iteration. */
export type StepRecordFile = z.infer<typeof StepRecordFile>;

/** `decision.json` of an iteration. */
export const StepDecisionFile = z.object({
  /** The accepted decision; null when every one was rejected or none came. */
  decision: Decision.nullable(),
  accepted: z.boolean(),
  rejections: z.array(z.string()),
  nextPrompt: PromptProgram.nullable(),
  stop: Stop.nullable(),
  /** The whole optimizer conversation (empty for a hand edit). */
  messages: z.array(ChatMessage),
  /** `hand` when a person's edit replaced the optimizer's decision. */
  by: DecidedBy.optional(),
});
/** `decision.json` of an iteration. */
export type StepDecisionFile = z.infer<typeof StepDecisionFile>;

// ---------------------------------------------------------------------------------------------
// Checkpoint and result

/** Failed calls counted as failures, by phase (only phases with some). */
export const FailedCallCounts = z.partialRecord(CallPhase, z.number().int().min(1));
/** Failed calls counted as failures, by phase. */
export type FailedCallCounts = z.infer<typeof FailedCallCounts>;

/** One step of a run: a prompt scored on dev (and sometimes test), and what the optimizer did. */
export const StepSummary = z.object({
  step: z.number().int().min(1),
  /** `iteration`: diagnosed and revised; `final`: the last patch's prompt, scored on dev only. */
  kind: z.enum(["iteration", "final"]),
  promptChars: z.number().int().min(0),
  train: Metrics.nullable(),
  dev: Metrics,
  test: Metrics.nullable(),
  /** The task's selection function on dev. */
  selection: z.number(),
  /** True when this prompt became the best so far (strictly higher selection value). */
  selected: z.boolean(),
  topics: z.array(z.string()),
  action: z.enum(["patch", "stop", "none"]),
  rationale: z.string().optional(),
  stopReason: z.string().optional(),
  /** Decisions asked for (1 + rejected patches). */
  decisionAttempts: z.number().int().min(0),
  rejections: z.array(z.string()),
  /** Diagnose calls made (more than one only in the `explore` protocol). */
  diagnoseCalls: z.number().int().min(0),
  /** Optimizer requests made and the input tokens of the largest one (the context size). */
  optimizerCalls: z.number().int().min(0),
  optimizerPromptTokens: z.number().int().min(0),
  /** Estimated tokens of the memory payload the optimizer received. */
  memoryTokens: z.number().int().min(0),
  /** Past reports compacted (and left out) to fit the memory budget; absent when none. */
  memoryCompaction: z.object({
    compacted: z.number().int().min(0),
    omitted: z.number().int().min(0),
  }).optional(),
  warnings: z.array(z.string()),
  /** `hand` when the patch was a person's edit (`Session.accept`); absent for the optimizer. */
  by: DecidedBy.optional(),
  /**
   * Calls that failed after their retries and were counted as failures (the run allowed a
   * share of them, `maxErrorRate`), by phase; absent when none failed.
   */
  failedCalls: FailedCallCounts.optional(),
});
/** One step of a run. */
export type StepSummary = z.infer<typeof StepSummary>;

/** The paired bootstrap of the selected prompt against the seed on test. */
export const FinalComparison = z.object({
  statistic: z.literal("score"),
  n: z.number().int().min(0),
  final: z.number(),
  seed: z.number(),
  delta: z.number(),
  lo: z.number(),
  hi: z.number(),
  probabilityFinalGreater: z.number(),
  iterations: z.number().int(),
});
/** The paired bootstrap of final vs seed on test. */
export type FinalComparison = z.infer<typeof FinalComparison>;

/**
 * `summary.json`: the result of a run. It holds no wall-clock times or usage (those are
 * in `usage.json`), so an interrupted and resumed run ends with the same summary as an
 * uninterrupted one.
 */
export const RunSummary = z.object({
  version: z.literal(1),
  task: z.string(),
  /** True when any model of the run is the offline simulator. */
  simulated: z.boolean(),
  iterationsRun: z.number().int().min(0),
  stop: Stop,
  steps: z.array(StepSummary),
  /** The task's selection function in words (`F1 + 0.5 EM - 0.05 Brier - ...`). */
  selectionFormula: z.string().optional(),
  selected: z.object({
    step: z.number().int().min(1),
    prompt: PromptProgram,
    selection: z.number(),
    /** The selection value taken apart: task term, Brier term, length term. */
    breakdown: z.object({ task: z.number(), brier: z.number(), length: z.number() }).optional(),
    dev: Metrics,
    /** Null when the budget ran out before the test split was scored, or there is none. */
    test: Metrics.nullable(),
  }),
  seed: z.object({ dev: Metrics, test: Metrics.nullable() }),
  comparison: FinalComparison.nullable(),
  testCurve: z.array(z.object({ step: z.number().int(), test: Metrics })),
  /**
   * The task's headline figure (HotPotQA: accuracy (EM), as the paper reports it) of the
   * seed and the selected prompt; absent in runs written before it.
   */
  headline: z.object({
    name: z.string(),
    seed: z.object({ dev: z.number(), test: z.number().nullable() }),
    selected: z.object({ dev: z.number(), test: z.number().nullable() }),
  }).optional(),
  /**
   * Failed calls counted as failures over the whole run (steps and the final test), by
   * phase; empty when every call succeeded (the only case without `maxErrorRate`). Calls,
   * not examples: an example fails once in each evaluation that sends it (the final test
   * re-sends the selected step's test when that step scored test), so a split's count may
   * exceed its size; `runFailedCallsText` says what each count is over.
   */
  failedCalls: FailedCallCounts.default({}),
});
/** `summary.json`: the result of a run. */
export type RunSummary = z.infer<typeof RunSummary>;

/** `state.json`: the checkpoint after the last complete step, from which `resume` continues. */
export const RunState = z.object({
  version: z.literal(1),
  completedSteps: z.number().int().min(0),
  /** The prompt the next step works on. */
  prompt: PromptProgram,
  memory: z.array(MemoryEntry),
  steps: z.array(StepSummary),
  /** Train metrics of the last diagnosed prompt (for the format-collapse warning). */
  lastTrain: Metrics.nullable(),
  best: z.object({ step: z.number().int(), selection: z.number() }).nullable(),
  /** Set once no further step will run. */
  stop: Stop.nullable(),
  finished: z.boolean(),
});
/** `state.json`: the checkpoint. */
export type RunState = z.infer<typeof RunState>;

// ---------------------------------------------------------------------------------------------
// Usage

/** Usage totals over every session of a run. */
export const UsageTotal = z.object({
  calls: z.number().int(),
  cacheHits: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  /** Dollars of the priced models only: see `unpriced`. */
  usd: z.number(),
  /** `provider:model` of paid models without a known price (their cost is not in `usd`). */
  unpriced: z.array(z.string()).default([]),
});
/** Usage totals over every session of a run. */
export type UsageTotal = z.infer<typeof UsageTotal>;

/**
 * One process that worked on a run (a resumed run has several). `incomplete`: stopped on
 * calls that failed after their retries; `killed`: ended without saving (a SIGKILL, a crash),
 * its usage rebuilt from `usage.jsonl`.
 */
export const UsageSession = z.object({
  /** Names the session's lines in `usage.jsonl` (absent in records made before). */
  id: z.string().optional(),
  started: z.string(),
  ended: z.string().nullable(),
  status: z.enum(["running", "finished", "interrupted", "failed", "incomplete", "killed"]),
  elapsedMs: z.number(),
  usage: UsageSnapshot,
  /**
   * What went wrong with the response cache in this session (failed lookups and writes, the
   * rest of the run uncached, damaged files moved aside); absent in older runs.
   */
  cache: z.object({
    readErrors: z.number().int().min(0),
    writeErrors: z.number().int().min(0),
    writesDisabled: z.boolean(),
    movedAside: z.array(z.string()),
  }).optional(),
});
/** One process that worked on a run. */
export type UsageSession = z.infer<typeof UsageSession>;

/** `usage.json`: usage per session of a run. */
export const RunUsage = z.object({ sessions: z.array(UsageSession), total: UsageTotal });
/** `usage.json`. */
export type RunUsage = z.infer<typeof RunUsage>;

/** Sums the sessions' usage into `total`. */
export function totalUsage(sessions: readonly UsageSession[]): UsageTotal {
  const t = { calls: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, usd: 0 };
  const unpriced = new Set<string>();
  for (const s of sessions) {
    t.calls += s.usage.total.calls;
    t.cacheHits += s.usage.total.cacheHits;
    t.inputTokens += s.usage.total.inputTokens;
    t.outputTokens += s.usage.total.outputTokens;
    t.usd += s.usage.total.usd;
    for (const name of s.usage.unpriced) unpriced.add(name);
    // Sessions saved before failed-only models counted as unpriced: read it off their models.
    for (const [name, u] of Object.entries(s.usage.models)) if (sentUnpriced(u)) unpriced.add(name);
  }
  return { ...t, unpriced: [...unpriced].sort() };
}

/**
 * One line of `usage.jsonl`, written as each call completes: a paid call with its usage and
 * dollars, a cache hit, or a failed attempt. `s` is the session's id, `t` the milliseconds
 * since it started.
 */
export const UsageLine = z.object({
  s: z.string(),
  t: z.number(),
  kind: z.enum(["call", "cache_hit", "failure"]),
  provider: z.string(),
  model: z.string(),
  usage: Usage.optional(),
  usd: z.number().optional(),
  batch: z.boolean().optional(),
});
/** One line of `usage.jsonl`. */
export type UsageLine = z.infer<typeof UsageLine>;

// ---------------------------------------------------------------------------------------------
// An incomplete stop

/**
 * `incomplete.json`: the step a run stopped at because calls failed after their retries
 * (beyond `maxErrorRate`), for `rpt show` and a person deciding what to do. The items of an
 * incomplete target evaluation are kept, the unscored ones with their error. It goes once the
 * step completes.
 */
export const IncompleteRecord = z.object({
  version: z.literal(1),
  time: z.string(),
  /** The step whose work is incomplete (the final test: the selected step). */
  step: z.number().int().min(1),
  /** `final test` when the selected prompt's test scoring was incomplete. */
  phase: z.enum(["step", "final test"]),
  failures: CallFailures,
  /** Where the failed calls went, credentials stripped. */
  endpoint: z.string().optional(),
  items: z.array(ScoredItem).default([]),
});
/** `incomplete.json`. */
export type IncompleteRecord = z.infer<typeof IncompleteRecord>;
