/**
 * The schemas of usage accounting: token usage of one call, list prices, budgets and the
 * ledger's snapshot (`accounting.ts` keeps the ledger; `schema.ts` puts usage in every
 * response).
 *
 * @module
 */
import { z } from "zod";

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

/**
 * Whether a model without a known price was sent requests, answered or not: their cost is
 * not known (a provider may bill an attempt that timed out), so it is never shown as `$0`.
 * Cache hits alone send nothing.
 *
 * @example
 * ```ts
 * import { sentUnpriced } from "./usage.ts";
 * const none = { calls: 0, cacheHits: 2, failures: 0, inputTokens: 0, cachedTokens: 0,
 *   outputTokens: 0, reasoningTokens: 0, usd: 0, priced: false };
 * if (sentUnpriced(none) || !sentUnpriced({ ...none, failures: 1 })) throw new Error();
 * ```
 */
export function sentUnpriced(u: ModelUsage): boolean {
  return !u.priced && (u.calls > 0 || u.failures > 0);
}

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
