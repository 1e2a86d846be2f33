/**
 * The zod schemas shared by every module: the single source of truth for data that
 * crosses a boundary (chat requests and responses, prompts, traces, reports, decisions,
 * configs, run-record files). TypeScript types are inferred from them; JSON Schema for
 * tools and structured output is generated from them with {@linkcode toJsonSchema}.
 *
 * @module
 */
import { z } from "zod";
import { PromptProgram } from "./prompt.ts";

/** A JSON Schema object, as sent to providers for tools and structured output. */
export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema for a zod schema, without the `$schema` key (Gemini rejects it and
 * OpenAI ignores it).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { toJsonSchema } from "./types.ts";
 * const schema = toJsonSchema(z.object({ answer: z.string() }));
 * if (schema.type !== "object" || "$schema" in schema) throw new Error("unexpected");
 * ```
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) as JsonSchema;
  delete json.$schema;
  return json;
}

// ---------------------------------------------------------------------------------------------
// Chat

/** One tool call requested by a model; `arguments` is the raw JSON text (it may be malformed). */
export const ToolCall = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.string(),
});
/** One tool call requested by a model. */
export type ToolCall = z.infer<typeof ToolCall>;

/**
 * Opaque state a provider attached to its own reply and wants back when the conversation is
 * replayed (the OpenAI Responses API's encrypted reasoning items). `origin` names the
 * provider, API and model that produced it; every other model ignores it, and its producer
 * echoes it only while the message it rides on is unchanged.
 */
export const ProviderState = z.object({
  /** Who produced it, e.g. `responses:openai:gpt-5`. */
  origin: z.string(),
  /** The provider's own items, kept verbatim. */
  items: z.array(z.record(z.string(), z.unknown())),
});
/** Opaque provider state on an assistant message. */
export type ProviderState = z.infer<typeof ProviderState>;

/** A chat message in the provider-neutral form every `ChatModel` accepts. */
export const ChatMessage = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
  /** On assistant messages: the tool calls the model made. */
  toolCalls: z.array(ToolCall).optional(),
  /** On tool messages: the id of the call this message answers. */
  toolCallId: z.string().optional(),
  /** On tool messages: the name of the tool that produced it. */
  name: z.string().optional(),
  /** On assistant messages: the reply's {@linkcode ProviderState}, copied from the response. */
  providerState: ProviderState.optional(),
});
/** A chat message. */
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A tool the model may call; `parameters` is a JSON Schema object. */
export const ToolSpec = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});
/** A tool the model may call. */
export type ToolSpec = z.infer<typeof ToolSpec>;

/** A structured-output request: the model must answer with JSON matching `schema`. */
export const OutputSchema = z.object({
  name: z.string(),
  schema: z.record(z.string(), z.unknown()),
});
/** A structured-output request. */
export type OutputSchema = z.infer<typeof OutputSchema>;

/**
 * Everything that determines a model's response. It is plain JSON so that it can be
 * hashed for the cache, recorded in the run record and sent over the wire.
 */
export const ChatRequest = z.object({
  messages: z.array(ChatMessage).min(1),
  tools: z.array(ToolSpec).optional(),
  /** `required` forces a tool call; `none` forbids one. */
  toolChoice: z.enum(["auto", "required", "none"]).optional(),
  outputSchema: OutputSchema.optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
  /**
   * Reasoning effort of OpenAI reasoning models (gpt-5*, o*); other models ignore it. Part
   * of the request, and so of the cache key, because it changes the answer.
   */
  reasoningEffort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"])
    .optional(),
  /** Distinguishes repeated samples of the same request (part of the cache key). */
  sampleIndex: z.number().int().min(0).optional(),
});
/** A chat request. */
export type ChatRequest = z.infer<typeof ChatRequest>;

/**
 * Token usage of one call. `cachedTokens` are input tokens served from the provider's cache;
 * `reasoningTokens` are output tokens spent on hidden reasoning (already counted in
 * `outputTokens`, and billed as output), absent when the provider reports none.
 */
export const Usage = z.object({
  inputTokens: z.number().int().min(0),
  cachedTokens: z.number().int().min(0).default(0),
  outputTokens: z.number().int().min(0),
  reasoningTokens: z.number().int().min(0).optional(),
});
/** Token usage of one call. */
export type Usage = z.infer<typeof Usage>;

/** A model's answer: text, a parsed object (structured output), or tool calls. */
export const ChatResponse = z.object({
  text: z.string(),
  /** Set when the request asked for structured output and the text parsed as JSON. */
  parsed: z.unknown().optional(),
  toolCalls: z.array(ToolCall),
  usage: Usage,
  /** The provider's own finish reason, unchanged (`stop`, `tool_calls`, `STOP`, ...). */
  finishReason: z.string().nullable(),
  provider: z.string(),
  model: z.string(),
  /** True when served from the on-disk cache. */
  cached: z.boolean().optional(),
  /** State to copy onto the assistant message that records this reply (see ProviderState). */
  providerState: ProviderState.optional(),
});
/** A model's answer. */
export type ChatResponse = z.infer<typeof ChatResponse>;

/** Result of embedding a batch of texts. */
export const EmbedResponse = z.object({
  vectors: z.array(z.array(z.number())),
  usage: z.object({ inputTokens: z.number().int().min(0) }),
});
/** Result of embedding a batch of texts. */
export type EmbedResponse = z.infer<typeof EmbedResponse>;

// ---------------------------------------------------------------------------------------------
// Tasks

/** The three splits: `train` is the optimization set D_opt, `dev` selects, `test` reports. */
export const Split = z.enum(["train", "dev", "test"]);
/** A split name. */
export type Split = z.infer<typeof Split>;

/** The editable prompt program: its schema and operations live in `lib/prompt.ts`. */
export { PromptProgram };

/**
 * One task example in the provider-neutral form every task maps its rows to. `row` keeps
 * the original row for task-specific scoring.
 */
export const Example = z.object({
  id: z.string(),
  question: z.string(),
  context: z.string().optional(),
  answer: z.string(),
  subtask: z.string().optional(),
  row: z.record(z.string(), z.unknown()),
});
/** One task example. */
export type Example = z.infer<typeof Example>;

/** The target's output contract: reasoning, answer, confidence in [0, 1]. */
export const TargetOutput = z.object({
  reasoning: z.string(),
  answer: z.string(),
  confidence: z.number().min(0).max(1),
});
/** The target's parsed output. */
export type TargetOutput = z.infer<typeof TargetOutput>;

/** Parsing a target output: the parsed value, or a format error with its reason. */
export type ParseResult =
  | { ok: true; value: TargetOutput }
  | { ok: false; error: string };

/** How one example scored. `impact` weighs failures in clustering (0 when full credit). */
export const ScoreResult = z.object({
  score: z.number().min(0).max(1),
  full: z.boolean(),
  impact: z.number().min(0).max(1),
  details: z.record(z.string(), z.unknown()),
});
/** How one example scored. */
export type ScoreResult = z.infer<typeof ScoreResult>;

// ---------------------------------------------------------------------------------------------
// Metrics and traces

/** Aggregate metrics over a split. Brier and ECE are over parsed items only. */
export const Metrics = z.object({
  n: z.number().int(),
  parsed: z.number().int(),
  /** Mean task score; format errors and provider errors score 0. */
  score: z.number(),
  /** Share of items with full credit (accuracy, EM). */
  fullCredit: z.number(),
  avgConfidence: z.number().nullable(),
  brier: z.number().nullable(),
  ece: z.number().nullable(),
  formatErrorRate: z.number(),
  errorRate: z.number(),
  perSubtask: z.record(z.string(), z.object({ n: z.number().int(), score: z.number() })),
  /** Task-specific means such as `em` and `f1` for HotPotQA. */
  extra: z.record(z.string(), z.number()),
});
/** Aggregate metrics over a split. */
export type Metrics = z.infer<typeof Metrics>;

/** One example's run through the target model: everything needed to audit it. */
export const TraceItem = z.object({
  exampleId: z.string(),
  subtask: z.string().optional(),
  messages: z.array(ChatMessage),
  rawText: z.string(),
  parsed: TargetOutput.nullable(),
  formatError: z.string().optional(),
  /** A provider error after retries; the item scores 0 and is counted. */
  error: z.string().optional(),
  score: z.number(),
  full: z.boolean(),
  impact: z.number(),
  details: z.record(z.string(), z.unknown()),
  usage: Usage,
  latencyMs: z.number(),
});
/** One example's trace. */
export type TraceItem = z.infer<typeof TraceItem>;

/** One failure mode named by the critic. */
export const FailureMode = z.object({
  label: z.string().describe(
    "2-6 words, generic and clusterable: no entity names, numbers or dates",
  ),
  definition: z.string().describe("one sentence defining the failure mode in general terms"),
  why: z.string().describe("why this example shows the failure mode"),
  basis: z.string().describe("the evidence in the trace"),
});
/** One failure mode. */
export type FailureMode = z.infer<typeof FailureMode>;

/** The critic's structured output for one failure. */
export const Critique = z.object({
  failure_modes: z.array(FailureMode).max(3),
});
/** The critic's structured output. */
export type Critique = z.infer<typeof Critique>;

/** A topic found by ClusterFusion. */
export const Topic = z.object({
  name: z.string(),
  description: z.string(),
  examples: z.array(z.string()).max(8),
  prevalence: z.number().optional(),
});
/** A topic found by ClusterFusion. */
export type Topic = z.infer<typeof Topic>;

/** The diagnostic report the optimizer receives. */
export const DiagnosticReport = z.object({
  iteration: z.number().int().min(0),
  prompt: PromptProgram,
  metrics: Metrics,
  topics: z.array(Topic),
  counts: z.object({
    examples: z.number().int(),
    failures: z.number().int(),
    diagnoses: z.number().int(),
    formatErrors: z.number().int(),
    errors: z.number().int(),
  }),
  /** Notes for the optimizer, such as a format-collapse warning. */
  warnings: z.array(z.string()).default([]),
});
/** The diagnostic report. */
export type DiagnosticReport = z.infer<typeof DiagnosticReport>;

// ---------------------------------------------------------------------------------------------
// The revision loop

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

// ---------------------------------------------------------------------------------------------
// Usage accounting (wrapper: lib/llm/accounting.ts)

/** List price of a model in US dollars per million tokens. */
export const ModelPrice = z.object({
  inputPerMTok: z.number().min(0),
  /** Input tokens served from the provider's prompt cache; defaults to the input price. */
  cachedInputPerMTok: z.number().min(0).optional(),
  outputPerMTok: z.number().min(0),
  /**
   * What a call through the provider's batch API costs, as a fraction of the prices above
   * (default 0.5: OpenAI's Batch API and Gemini's batch mode both bill half).
   */
  batchMultiplier: z.number().min(0).optional(),
});
/** List price of a model. */
export type ModelPrice = z.infer<typeof ModelPrice>;

/** Prices keyed by `model` or `provider:model` (the latter wins). */
export const PriceTable = z.record(z.string(), ModelPrice);
/** Prices keyed by model. */
export type PriceTable = z.infer<typeof PriceTable>;

/** Limits that stop work before a call would exceed them; absent = unlimited. */
export const Budget = z.object({
  calls: z.number().int().min(0).optional(),
  tokens: z.number().int().min(0).optional(),
  usd: z.number().min(0).optional(),
});
/** Limits on calls, tokens and dollars. */
export type Budget = z.infer<typeof Budget>;

/** Usage of one model (or the total) as recorded by the ledger. */
export const ModelUsage = z.object({
  /** Successful paid calls. */
  calls: z.number().int().min(0),
  /** Calls answered by the response cache (not paid). */
  cacheHits: z.number().int().min(0),
  /** Attempts that failed (each retry counts). */
  failures: z.number().int().min(0),
  inputTokens: z.number().int().min(0),
  cachedTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  /** Of the output tokens, those spent on hidden reasoning (0 in records made before). */
  reasoningTokens: z.number().int().min(0).default(0),
  usd: z.number().min(0),
  /** False when no price was known for the model (its cost is counted as 0). */
  priced: z.boolean(),
  /** The part of the calls, tokens and dollars above that went through batch jobs. */
  batch: z.object({
    calls: z.number().int().min(0),
    inputTokens: z.number().int().min(0),
    cachedTokens: z.number().int().min(0),
    outputTokens: z.number().int().min(0),
    usd: z.number().min(0),
  }).optional(),
});
/** Usage of one model. */
export type ModelUsage = z.infer<typeof ModelUsage>;

/** The ledger's JSON form for the run record. */
export const UsageSnapshot = z.object({
  /** Keyed by `provider:model`. */
  models: z.record(z.string(), ModelUsage),
  total: ModelUsage,
  budget: Budget,
  /** `provider:model` of paid models without a known price. */
  unpriced: z.array(z.string()),
});
/** The ledger's JSON form. */
export type UsageSnapshot = z.infer<typeof UsageSnapshot>;

// ---------------------------------------------------------------------------------------------
// Custom tasks and predictions files (tasks: lib/tasks/custom.ts, lib/cli/score.ts)

/** How a custom task scores an answer. */
export const CustomScorer = z.union([
  z.literal("exact"),
  z.literal("f1"),
  z.object({ exact: z.object({ caseSensitive: z.boolean().optional() }) }).strict(),
  z.object({
    numeric: z.object({
      tolerance: z.number().min(0).default(0),
      relative: z.boolean().optional(),
    }).strict(),
  }).strict(),
  z.object({ module: z.string().min(1) }).strict(),
]);
/** How a custom task scores an answer. */
export type CustomScorer = z.infer<typeof CustomScorer>;

/** A user's own task: a `task.json` next to its data. Relative paths resolve against it. */
export const CustomTaskConfig = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  description: z.string().optional(),
  /** A directory with train/dev/test.jsonl, or one path per split. */
  data: z.union([
    z.string().min(1),
    z.object({ train: z.string().min(1), dev: z.string().min(1), test: z.string().min(1) })
      .strict(),
  ]),
  scorer: CustomScorer,
  seedPrompt: PromptProgram.optional(),
  /** A JSON prompt program, or a text file used as the instruction. */
  seedPromptFile: z.string().min(1).optional(),
  /** Name of the reasoning field of the output contract (default `reasoning`). */
  reasoningField: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
}).strict().refine((c) => !(c.seedPrompt && c.seedPromptFile), {
  message: "give seedPrompt or seedPromptFile, not both",
});
/** A user's own task config. */
export type CustomTaskConfig = z.infer<typeof CustomTaskConfig>;

/** One row of a custom task's JSONL data. */
export const CustomTaskRow = z.object({
  input: z.string(),
  answer: z.union([z.string(), z.number()]).transform(String),
  id: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  context: z.string().optional(),
  subtask: z.string().optional(),
});
/** One row of a custom task's data. */
export type CustomTaskRow = z.infer<typeof CustomTaskRow>;

/** One line of a predictions file for `rpt score`. */
export const PredictionLine = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  output: z.string(),
});
/** One line of a predictions file. */
export type PredictionLine = z.infer<typeof PredictionLine>;

// ---------------------------------------------------------------------------------------------
// ClusterFusion (diagnose: lib/cluster.ts)

/** One topic of a full ClusterFusion result, with its counts and retention. */
export const ClusterTopic = z.object({
  name: z.string(),
  description: z.string(),
  examples: z.array(z.string()).max(8),
  /** Records assigned to the topic. */
  count: z.number().int().min(0),
  /** Sum of the impact of its records. */
  impact: z.number().min(0),
  /** 0.5 x (share of records + share of total impact). */
  prevalence: z.number().min(0).max(1),
  retained: z.boolean(),
  /** How the topic came to be: the extraction call, padding, or one record (small inputs). */
  source: z.enum(["extracted", "padded", "record"]),
});
/** One topic of a full ClusterFusion result. */
export type ClusterTopic = z.infer<typeof ClusterTopic>;

/** The full, unfiltered result of ClusterFusion, as kept in the run record. */
export const ClusterResult = z.object({
  /** Topics asked for. */
  k: z.number().int().min(1),
  /** Records clustered. */
  records: z.number().int().min(0),
  /** k-means groups used (min(2k, N, distinct vectors)); 0 when k-means did not run. */
  groups: z.number().int().min(0),
  /** k-means group of every record (empty when k-means did not run). */
  groupOf: z.array(z.number().int()),
  /** Record indices shown to the extraction call, in the order shown. */
  sample: z.array(z.number().int()),
  topics: z.array(ClusterTopic),
  /** Topic index of every record. */
  assignments: z.array(z.number().int()),
  /** Records placed on the nearest topic by embedding because the LLM did not assign them. */
  fallbacks: z.object({ count: z.number().int().min(0), records: z.array(z.number().int()) }),
  /** Names of topics added to reach k, and of topics dropped beyond k (or as duplicates). */
  padded: z.array(z.string()),
  trimmed: z.array(z.string()),
  /** Model calls made, retries included. */
  calls: z.object({
    extraction: z.number().int().min(0),
    assignment: z.number().int().min(0),
    embedding: z.number().int().min(0),
  }),
  /** Problems met along the way (failed or malformed calls), for the record. */
  errors: z.array(z.string()),
});
/** The full result of ClusterFusion. */
export type ClusterResult = z.infer<typeof ClusterResult>;

// ---------------------------------------------------------------------------------------------
// Trace analyses (analysis: lib/analysis.ts)

/** What kind of change an atomic prompt edit is. */
export const PatchChangeType = z.enum(["add", "tighten", "relax", "refactor"]);
/** What kind of change an atomic prompt edit is. */
export type PatchChangeType = z.infer<typeof PatchChangeType>;

/** One atomic edit of a prompt revision, with a quote from the new prompt as evidence. */
export const PatchEdit = z.object({
  change_type: PatchChangeType.describe(
    "add: new requirement; tighten: stricter or more specific; relax: removed or loosened; " +
      "refactor: reworded or reorganised without changing what is asked",
  ),
  edit: z.string().describe("one sentence describing the edit in generic terms"),
  evidence: z.string().describe("a short verbatim quote from the NEW prompt showing the edit"),
});
/** One atomic edit of a prompt revision. */
export type PatchEdit = z.infer<typeof PatchEdit>;

/** The structured output `patch_edits`: a prompt diff rewritten as 3-12 atomic edits. */
export const PatchEdits = z.object({ edits: z.array(PatchEdit).min(3).max(12) });
/** The structured output `patch_edits`. */
export type PatchEdits = z.infer<typeof PatchEdits>;

/** The edits of one transition t -> t+1, with what the evidence check dropped. */
export const TransitionEdits = z.object({
  run: z.string(),
  step: z.number().int(),
  /** False when the prompt did not change (no call is made). */
  promptChanged: z.boolean(),
  /** Edits kept: well-formed, evidence found in the new prompt, at most 12. */
  edits: z.array(PatchEdit),
  /** Edits dropped, with the reason (invented evidence, bad change type, empty text). */
  dropped: z.array(z.object({ edit: z.unknown(), reason: z.string() })),
  /** Edits the model returned beyond 12 (ignored). */
  truncated: z.number().int().min(0),
  /** Model calls made (retries of malformed output included). */
  attempts: z.number().int().min(0),
  error: z.string().optional(),
});
/** The edits of one transition. */
export type TransitionEdits = z.infer<typeof TransitionEdits>;

/** One record of a trace-analysis corpus and the analysis topic it was assigned to. */
export const CorpusRecord = z.object({
  run: z.string(),
  step: z.number().int(),
  /** The normalised text that was clustered. */
  text: z.string(),
  example: z.string().optional(),
  impact: z.number().min(0),
  /** For failure records: whether the step's clustering retained the topic (the optimizer saw it). */
  retained: z.boolean().optional(),
  /** Name of the analysis topic (the corpus's ClusterFusion topic) it belongs to. */
  topic: z.string(),
});
/** One record of a trace-analysis corpus. */
export type CorpusRecord = z.infer<typeof CorpusRecord>;

/** One transition t -> t+1 reduced to topics and next-step deltas on the optimization split. */
export const AnalysisTransition = z.object({
  run: z.string(),
  step: z.number().int(),
  failureTopics: z.array(z.string()),
  patchTopics: z.array(z.string()),
  deltaScore: z.number(),
  deltaBrier: z.number().nullable(),
});
/** One transition of the trace analyses. */
export type AnalysisTransition = z.infer<typeof AnalysisTransition>;

/** P(patch topic | failure topic) with its counts. */
export const AlignmentCellSchema = z.object({
  failureTopic: z.string(),
  patchTopic: z.string(),
  both: z.number().int().min(0),
  failureCount: z.number().int().min(0),
  probability: z.number().min(0).max(1),
  /** Transitions with the patch topic (over all transitions). */
  patchCount: z.number().int().min(0),
  /** P(patch | failure) / P(patch): above 1 when the patch follows the failure more than usual. */
  lift: z.number().nullable(),
});

/** Mean next-step change for one topic, with counts and bootstrap intervals. */
export const TopicDeltaSchema = z.object({
  topic: z.string(),
  kind: z.enum(["failure", "patch"]),
  count: z.number().int().min(0),
  meanDeltaScore: z.number(),
  scoreInterval: z.tuple([z.number(), z.number()]),
  meanDeltaBrier: z.number().nullable(),
  brierInterval: z.tuple([z.number(), z.number()]).nullable(),
  brierCount: z.number().int().min(0),
});

/** How long a failure topic persists. */
export const PersistenceSchema = z.object({
  topic: z.string(),
  runs: z.array(z.number().int().min(1)),
  stepsPresent: z.number().int().min(0),
  meanRunLength: z.number(),
  longestRun: z.number().int().min(0),
  resolved: z.number().int().min(0),
  reappeared: z.number().int().min(0),
});

/** One prompt's length against its dev score. */
export const LengthPointSchema = z.object({
  run: z.string(),
  step: z.number().int(),
  promptTokens: z.number().int().min(0),
  devScore: z.number(),
});

/** The full result of the trace analyses (paper section 4.3), as written to `analysis/`. */
export const AnalysisResult = z.object({
  version: z.literal(1),
  /** True when any analysed run, or the analysis model, is the offline simulator. */
  simulated: z.boolean(),
  settings: z.object({
    k: z.number().int().min(1),
    seed: z.number().int(),
    /** `provider:model` of the LLM that wrote edits and topics. */
    model: z.string(),
    /** `provider:model` of the embedder. */
    embedder: z.string(),
    bootstrapIterations: z.number().int().min(1),
    /** Which failure topics count as present at a step: all observed, or only retained ones. */
    failurePresence: z.enum(["all", "retained"]),
  }),
  runs: z.array(z.object({
    name: z.string(),
    dir: z.string().optional(),
    task: z.string().optional(),
    simulated: z.boolean(),
    steps: z.number().int().min(0),
    transitions: z.number().int().min(0),
  })),
  failureCorpus: z.object({ records: z.array(CorpusRecord), clustering: ClusterResult }),
  patchCorpus: z.object({
    records: z.array(CorpusRecord),
    clustering: ClusterResult,
    transitions: z.array(TransitionEdits),
    counts: z.object({
      /** Transitions whose prompt changed (one call each, plus retries). */
      calls: z.number().int().min(0),
      returned: z.number().int().min(0),
      kept: z.number().int().min(0),
      inventedEvidence: z.number().int().min(0),
      otherDropped: z.number().int().min(0),
      truncated: z.number().int().min(0),
      failedCalls: z.number().int().min(0),
    }),
  }),
  /** Failure topics present at every step of every run (persistence is computed from it). */
  stepTopics: z.array(z.object({
    run: z.string(),
    step: z.number().int(),
    failureTopics: z.array(z.string()),
  })),
  transitions: z.array(AnalysisTransition),
  alignment: z.array(AlignmentCellSchema),
  deltas: z.object({ failure: z.array(TopicDeltaSchema), patch: z.array(TopicDeltaSchema) }),
  persistence: z.array(PersistenceSchema),
  lengthVsScore: z.object({
    points: z.array(LengthPointSchema),
    /** Null when undefined (fewer than 2 points or a constant series). */
    pearson: z.number().nullable(),
    spearman: z.number().nullable(),
  }),
  warnings: z.array(z.string()),
});
/** The full result of the trace analyses. */
export type AnalysisResult = z.infer<typeof AnalysisResult>;

// ---------------------------------------------------------------------------------------------
// The revision loop's configuration and run record (loop: lib/revise.ts, lib/run.ts)

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
