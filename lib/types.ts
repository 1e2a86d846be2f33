/**
 * The zod schemas of the revision loop's configuration and of the run record (loop:
 * lib/revise.ts, record: lib/run.ts). Every other schema lives beside the concept it
 * describes (chat messages with the model interface in `llm/schema.ts`, usage and prices in
 * `llm/usage.ts`, task data in `tasks/schema.ts`, traces in `trace.ts`, critiques, reports,
 * clusterings and analyses with their modules); they are re-exported below for importers not
 * yet converted.
 *
 * @module
 */
import { z } from "zod";
import { PromptProgram } from "./prompt.ts";
import { Metrics, Split } from "./tasks/schema.ts";

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

/** Memory modes: how much of the past the optimizer sees. */
export const MemoryMode = z.enum(["last_report", "all_reports", "last_k", "history_summary"]);
/** A memory mode. */
export type MemoryMode = z.infer<typeof MemoryMode>;

/** How the optimizer may use the `diagnose` tool in an iteration. */
export const Protocol = z.enum(["paper", "explore"]);
/** `paper`: one diagnose call on the current prompt; `explore`: candidates may be diagnosed too. */
export type Protocol = z.infer<typeof Protocol>;

/** Everything that defines an RPT run; `config.json` of a run directory holds it. */
export const RunConfig = z.object({
  /** Task name: `hotpotqa`, `livebench_math`, `formula`, `synthetic` or `custom:<path>`. */
  task: z.string().min(1),
  /** Model specs (see `lib/llm/spec.ts`). The critic defaults to the optimizer's spec. */
  target: z.string().min(1),
  optimizer: z.string().min(1),
  critic: z.string().min(1).optional(),
  embedder: z.string().min(1).default("tfidf"),
  /** Iterations T of the revision loop. */
  iterations: z.number().int().min(1).max(1000).default(10),
  /** Selection with the Brier term (w = 0.05) and a controller that names calibration. */
  confidenceAware: z.boolean().default(false),
  memory: MemoryMode.default("history_summary"),
  /** Past reports shown in `last_k` mode. */
  memoryK: z.number().int().min(1).default(3),
  /** Estimated tokens the memory payload may take before old entries are compacted. */
  memoryTokenBudget: z.number().int().min(100).default(12_000),
  protocol: Protocol.default("paper"),
  /** Diagnose calls per iteration in the `explore` protocol, the first one included. */
  exploreCalls: z.number().int().min(1).default(4),
  /** Model calls in flight. */
  concurrency: z.number().int().min(1).default(16),
  /** Stop before spending more than this many dollars (cache hits are free). */
  budgetUsd: z.number().positive().optional(),
  /** Seed of clustering, bootstrap and simulated models. */
  seed: z.number().int().default(0),
  /** Data directory (default: `RPT_DATA_DIR`, then `data/`). */
  dataDir: z.string().min(1).optional(),
  /** Failure topics ClusterFusion extracts. */
  k: z.number().int().min(1).default(10),
  /** Decisions asked for in an iteration before a rejected patch stops the run. */
  maxPatchAttempts: z.number().int().min(1).default(5),
  /** Requests asking for the `diagnose` tool call before a missing call stops the run. */
  maxToolAttempts: z.number().int().min(1).default(3),
  /** Largest prompt program a patch may produce, in characters (all fields). */
  maxPromptChars: z.number().int().min(100).default(8_000),
  /** Test is scored at step 1 and every `testEvery` steps (curves only, never for selection). */
  testEvery: z.number().int().min(1).default(5),
  /** Use only the first N examples of a split (quick runs); absent = the whole split. */
  limits: z.object({
    train: z.number().int().min(1).optional(),
    dev: z.number().int().min(1).optional(),
    test: z.number().int().min(1).optional(),
  }).strict().default({}),
  /** Show topic prevalence to the optimizer (the paper hides it). */
  showPrevalence: z.boolean().default(false),
  /** Response cache file (default: `RPT_CACHE`, then `.rpt/cache.sqlite`); resume reuses it. */
  cache: z.string().min(1).optional(),
}).strict();
/** Everything that defines an RPT run. */
export type RunConfig = z.infer<typeof RunConfig>;
/** A run config as a user writes it (defaults not yet applied). */
export type RunConfigInput = z.input<typeof RunConfig>;

/** One past iteration as the optimizer's memory keeps it. */
export const MemoryEntry = z.object({
  iteration: z.number().int().min(1),
  prompt: PromptProgram,
  metrics: Metrics,
  topics: z.array(z.object({ name: z.string(), description: z.string() })),
  /** What followed the report: the accepted patch (with rationale), a stop, or nothing. */
  action: z.enum(["patch", "stop", "none"]),
  patch: Patch.nullable(),
  stopReason: z.string().optional(),
});
/** One past iteration as memory keeps it. */
export type MemoryEntry = z.infer<typeof MemoryEntry>;

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
  warnings: z.array(z.string()),
});
/** One step of a run. */
export type StepSummary = z.infer<typeof StepSummary>;

/** How a run ended. */
export const StopKind = z.enum(["iterations", "decision", "guard", "tool", "budget"]);
/** How a run ended. */
export type StopKind = z.infer<typeof StopKind>;

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
  stop: z.object({ kind: StopKind, reason: z.string() }),
  steps: z.array(StepSummary),
  selected: z.object({
    step: z.number().int().min(1),
    prompt: PromptProgram,
    selection: z.number(),
    dev: Metrics,
    /** Null when the budget ran out before the test split was scored. */
    test: Metrics.nullable(),
  }),
  seed: z.object({ dev: Metrics, test: Metrics.nullable() }),
  comparison: FinalComparison.nullable(),
  testCurve: z.array(z.object({ step: z.number().int(), test: Metrics })),
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
  stop: z.object({ kind: StopKind, reason: z.string() }).nullable(),
  finished: z.boolean(),
});
/** `state.json`: the checkpoint. */
export type RunState = z.infer<typeof RunState>;

/** One example's outcome kept for dev/test evaluations (traces without messages). */
export const ScoredItem = z.object({
  exampleId: z.string(),
  subtask: z.string().optional(),
  answer: z.string().nullable(),
  confidence: z.number().nullable(),
  score: z.number(),
  full: z.boolean(),
  formatError: z.string().optional(),
  error: z.string().optional(),
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
// Re-exports for importers not yet converted (lib/mod.ts and the loop's files); new code
// imports each schema from the module of its concept.
/** Moved to `analysis_schema.ts`. */
export {
  AnalysisResult,
  CorpusRecord,
  PatchChangeType,
  PatchEdit,
  PatchEdits,
  TransitionEdits,
} from "./analysis_schema.ts";

/** Row schemas of the trace analyses' tables. */
export {
  AlignmentCell as AlignmentCellSchema,
  LengthPoint as LengthPointSchema,
  Persistence as PersistenceSchema,
  TopicDelta as TopicDeltaSchema,
  Transition as AnalysisTransition,
} from "./analysis_tables.ts";

/** Moved to `cluster.ts`. */
export { ClusterResult, ClusterTopic } from "./cluster.ts";

/** Moved to `critique.ts`. */
export { Critique, FailureMode } from "./critique.ts";

/** Moved to `llm/schema.ts`. */
export type { JsonSchema } from "./llm/schema.ts";
export {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  EmbedResponse,
  OutputSchema,
  ProviderState,
  toJsonSchema,
  ToolCall,
  ToolSpec,
} from "./llm/schema.ts";

/** Moved to `llm/usage.ts`. */
export { Budget, ModelPrice, ModelUsage, PriceTable, Usage, UsageSnapshot } from "./llm/usage.ts";

/** Moved to `prompt.ts`. */
export { PromptProgram } from "./prompt.ts";

/** Moved to `report.ts`. */
export { DiagnosticReport, Topic } from "./report.ts";

/** Moved to `tasks/custom.ts`. */
export { CustomScorer, CustomTaskConfig, CustomTaskRow } from "./tasks/custom.ts";

/** Moved to `tasks/schema.ts`. */
export type { ParseResult } from "./tasks/schema.ts";
export {
  Example,
  Metrics,
  PredictionLine,
  ScoreResult,
  Split,
  TargetOutput,
} from "./tasks/schema.ts";

/** Moved to `trace.ts`. */
export { TraceItem } from "./trace.ts";
