/**
 * `config.json` of a run: the {@linkcode RunConfig} schema (everything that defines an RPT
 * run, with its defaults), parsing it with an error that names the field, and the
 * credential-free form written to disk. Every setting of `rpt optimize` is a field here;
 * the loop (`lib/revise/`) reads them, `rpt show` and the analyses print them.
 *
 * @module
 */
import { z } from "zod";
import { ReasoningEffort, ThinkingLevel } from "../llm/schema.ts";
import { PriceTable } from "../llm/usage.ts";
import { redactURL } from "../util/redact.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";

/** How the optimizer may use the `diagnose` tool in an iteration. */
export const Protocol = z.enum(["paper", "explore"]);
/** `paper`: one diagnose call on the current prompt; `explore`: candidates may be diagnosed too. */
export type Protocol = z.infer<typeof Protocol>;

/**
 * Memory modes: how much of the past the optimizer sees (`none` is the ablation without
 * memory: the tool result carries no past report).
 */
export const MemoryMode = z.enum([
  "last_report",
  "all_reports",
  "last_k",
  "history_summary",
  "none",
]);
/** A memory mode. */
export type MemoryMode = z.infer<typeof MemoryMode>;

/** The presets (`lib/revise/presets.ts`): named sets of defaults that flags override. */
export const Preset = z.enum(["paper", "reference-cli"]);
/**
 * `paper`: the runs behind the paper's figures as the reference implementation records them;
 * `reference-cli`: the reference scripts' command-line defaults.
 */
export type Preset = z.infer<typeof Preset>;

/** The roles a per-role request setting names (`cluster`: ClusterFusion's LLM). */
export const ROLES = ["target", "optimizer", "critic", "cluster"] as const;
/** A role of a per-role request setting. */
export type Role = (typeof ROLES)[number];

function perRole<T extends z.ZodType>(value: T) {
  return z.object({
    target: value.optional(),
    optimizer: value.optional(),
    critic: value.optional(),
    cluster: value.optional(),
  }).strict().default({});
}

/**
 * A prompt a run starts from, given as data: the fields, the reference's prompt knobs when
 * it came from a `seed_prompt.json` (LiveBench's reference rendering reads
 * `enforce_json_only`), and where it came from.
 */
export const SeedPromptValue = z.object({
  system: z.string(),
  instruction: z.string(),
  knobs: z.object({
    enforce_json_only: z.boolean().optional(),
    max_justification_sentences: z.number().int().optional(),
  }).strict().optional(),
  /** Where the text came from (a file, the reference's function). */
  source: z.string().optional(),
}).strict();
/** A prompt a run starts from, given as data. */
export type SeedPromptValue = z.infer<typeof SeedPromptValue>;

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
  /** Reports shown in `last_k` mode, the current one included (the reference's 5). */
  memoryK: z.number().int().min(1).default(5),
  /**
   * Estimated tokens the memory payload may take before old entries are compacted; absent,
   * the optimizer's context window less a reserve (`lib/llm/context_windows.ts`).
   */
  memoryTokenBudget: z.number().int().min(100).optional(),
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
  /** Largest prompt program a patch may produce, in characters (all fields); absent: no cap. */
  maxPromptChars: z.number().int().min(100).optional(),
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
  /** The preset the defaults came from (`lib/revise/presets.ts`); given fields override it. */
  preset: Preset.optional(),
  /** How a built-in task talks to the target: rpt's own protocol or the reference's. */
  taskProtocol: z.enum(["project", "reference"]).default("project"),
  /** LiveBench's olympiad rule (absent: the task's default, edit distance). */
  olympiadScoring: z.enum(["edit_distance", "positional"]).optional(),
  /**
   * The prompt the run starts from: the task's own seed, the paper's (the data directory's
   * `seed_prompt.json`, written here as data when the run opens), or a given prompt.
   */
  seedPrompt: z.union([z.enum(["task", "paper"]), SeedPromptValue]).default("task"),
  /** Weight w of the Brier term in selection; absent: 0.05 when confidence-aware, else 0. */
  brierWeight: z.number().min(0).optional(),
  /** Selection's length penalty per 1,000 prompt characters (all fields). */
  lengthPenalty: z.number().min(0).default(0.0025),
  /** ClusterFusion's LLM for topic extraction and assignment (default: the critic). */
  clusterModel: z.string().min(1).optional(),
  /** Records shown to ClusterFusion's topic extraction. */
  clusterSample: z.number().int().min(1).default(100),
  /** Topic descriptions ClusterFusion asks for: one sentence, or comprehensive. */
  topicDescriptions: z.enum(["sentence", "comprehensive"]).default("sentence"),
  /** The critic also judges whether the stated confidence fit the outcome. */
  criticConfidence: z.boolean().default(true),
  /** Memory entries carry the patch that followed each report and its rationale. */
  memoryPatches: z.boolean().default(true),
  /** Where memory goes: in the tool result, or in a user message after it (the reference). */
  memoryPlacement: z.enum(["tool_result", "user_message"]).default("tool_result"),
  /** Reject patches holding meta-edit text ("apply this patch", "[revised ..."). */
  metaEditGuard: z.boolean().default(true),
  /** Reject patches holding training examples' gold answers. */
  copiedAnswerGuard: z.boolean().default(true),
  /** Tell the optimizer when the target's format-error rate collapses. */
  formatCollapseWarning: z.boolean().default(true),
  /** Sampling temperature per role (absent: 0; reasoning models are sent none). */
  temperature: perRole(z.number().min(0).max(2)),
  /** Output-token limit per role (absent: the provider's default). */
  maxOutputTokens: perRole(z.number().int().positive()),
  /** OpenAI reasoning effort per role (absent: the provider's default). */
  reasoningEffort: perRole(ReasoningEffort),
  /** Gemini thinking level per role (absent: the model's default). */
  thinkingLevel: perRole(ThinkingLevel),
  /**
   * Share of failed calls (after their retries) an evaluation, a critique round or a
   * clustering may hold and still count: those examples then score as failures and the count
   * is shown. Above it (by default, at any failure) the step is incomplete: the run stops,
   * and `resume` sends the failed calls again.
   */
  maxErrorRate: z.number().min(0).max(1).default(0),
  /** Per-attempt timeout of model calls in seconds (default 180). */
  timeoutSeconds: z.number().positive().optional(),
  /** Retries of a failed model call after its first attempt (default 4). */
  retries: z.number().int().min(0).max(100).optional(),
  /**
   * Longest wait between two attempts of a call, in seconds (default 30; the wait grows
   * from 0.5 s with full jitter; a server's `Retry-After` is honoured over it).
   */
  backoffMaxSeconds: z.number().positive().optional(),
  /**
   * Batch mode: every full-split evaluation of the target (train diagnosis, dev, test) and
   * each round of critiques goes to the provider as one batch job, at its batch price; the
   * optimizer stays interactive. Roles on the simulator (`sim:`) have no batch API and stay
   * interactive (a note says so).
   */
  batch: z.boolean().optional(),
  /** Seconds between two polls of a batch job (default 30). */
  batchPollSeconds: z.number().positive().optional(),
  /** Stop before more than this many paid calls (cache hits are free). */
  budgetCalls: z.number().int().min(1).optional(),
  /** Prices in USD per million tokens, by `model` or `provider:model`, over the built-in list. */
  prices: PriceTable.optional(),
  /**
   * The server each role's model was sent to (credentials stripped): a spec's `@URL`, or
   * `OPENAI_BASE_URL` / `GOOGLE_GEMINI_BASE_URL` when the run began. `resume` sends there.
   */
  endpoints: z.object({
    target: z.string().optional(),
    optimizer: z.string().optional(),
    critic: z.string().optional(),
    cluster: z.string().optional(),
    embedder: z.string().optional(),
  }).strict().optional(),
}).strict();
/** Everything that defines an RPT run. */
export type RunConfig = z.infer<typeof RunConfig>;
/** A run config as a user writes it (defaults not yet applied). */
export type RunConfigInput = z.input<typeof RunConfig>;

/**
 * Parses a run config; a problem is a {@linkcode ConfigError} naming the field.
 *
 * @example
 * ```ts
 * import { parseRunConfig } from "./config.ts";
 * const c = parseRunConfig({ task: "synthetic", target: "sim:target", optimizer: "sim:optimizer" });
 * if (c.iterations !== 10 || c.memory !== "history_summary") throw new Error();
 * ```
 */
export function parseRunConfig(input: unknown, source = "config"): RunConfig {
  const parsed = RunConfig.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(`${source}: ${describeSchemaIssue(parsed.error, "(config)")}`);
  }
  return parsed.data;
}

/**
 * A model spec with credentials removed from its base URL (`scheme://user:key@host` and
 * query strings), as written to `config.json`.
 *
 * @example
 * ```ts
 * import { redactSpec } from "./config.ts";
 * const s = redactSpec("openai-compatible:q@http://u:sk-1@127.0.0.1:8000/v1?key=sk-2");
 * if (s !== "openai-compatible:q@http://127.0.0.1:8000/v1") throw new Error(s);
 * ```
 */
export function redactSpec(spec: string): string {
  const colon = spec.indexOf(":");
  const at = spec.indexOf("@", colon + 1);
  if (colon < 0 || at < 0) return spec;
  // The last '@' that starts a URL: user info inside the URL has its own '@'.
  const urlStart = spec.slice(at + 1).search(/https?:\/\//);
  if (urlStart < 0) return spec;
  return `${spec.slice(0, at + 1)}${redactURL(spec.slice(at + 1 + urlStart))}`;
}

/** The config as written to disk: spec strings without credentials. */
export function configForDisk(config: RunConfig): RunConfig {
  return {
    ...config,
    target: redactSpec(config.target),
    optimizer: redactSpec(config.optimizer),
    ...(config.critic !== undefined ? { critic: redactSpec(config.critic) } : {}),
    embedder: redactSpec(config.embedder),
    ...(config.clusterModel !== undefined ? { clusterModel: redactSpec(config.clusterModel) } : {}),
  };
}
