/**
 * `config.json` of a run: the {@linkcode RunConfig} schema (everything that defines an RPT
 * run, with its defaults), parsing it with an error that names the field, and the
 * credential-free form written to disk. Every setting of `rpt optimize` is a field here;
 * the loop (`lib/revise/`) reads them, `rpt show` and the analyses print them.
 *
 * @module
 */
import { z } from "zod";
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
  };
}
