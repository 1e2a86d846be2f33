/**
 * The zod schemas shared by every module: the single source of truth for data that
 * crosses a boundary (chat requests and responses, prompts, traces, reports, decisions,
 * configs, run-record files). TypeScript types are inferred from them; JSON Schema for
 * tools and structured output is generated from them with {@linkcode toJsonSchema}.
 *
 * @module
 */
import { z } from "zod";

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
  /** Distinguishes repeated samples of the same request (part of the cache key). */
  sampleIndex: z.number().int().min(0).optional(),
});
/** A chat request. */
export type ChatRequest = z.infer<typeof ChatRequest>;

/** Token usage of one call. `cachedTokens` are input tokens served from the provider's cache. */
export const Usage = z.object({
  inputTokens: z.number().int().min(0),
  cachedTokens: z.number().int().min(0).default(0),
  outputTokens: z.number().int().min(0),
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

/**
 * The editable prompt program the target sees. `system` and `instruction` always exist;
 * a task may add string fields of its own.
 */
export const PromptProgram = z.object({
  system: z.string(),
  instruction: z.string(),
}).catchall(z.string());
/** The editable prompt program. */
export type PromptProgram = z.infer<typeof PromptProgram>;

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
  usd: z.number().min(0),
  /** False when no price was known for the model (its cost is counted as 0). */
  priced: z.boolean(),
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
