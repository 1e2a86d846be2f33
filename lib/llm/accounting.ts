/**
 * Usage and cost accounting per model, and budgets that stop work before a call is sent.
 *
 * The wrapper (`wrap.ts`) drives a {@linkcode UsageLedger}: it reserves a slot before each
 * attempt (the budget check), commits the provider's usage on success, releases the slot
 * on failure, and records cache hits, which are not paid calls. Reservations make budgets
 * hold under concurrency: fifty calls in flight count against a call budget before any of
 * them returns. `runBatch` (`batch/run_batch.ts`) reserves every line of a batch job before
 * submitting it, with `batch: true`: those calls are billed at {@linkcode batchPrice} and also
 * counted in the `batch` part of the model's usage, so interactive and batch spend show apart.
 *
 * Token counts follow the providers' convention: `inputTokens` includes `cachedTokens`
 * (OpenAI `prompt_tokens`, Gemini `promptTokenCount`), and cached input is billed at the
 * cached-input price. Likewise `outputTokens` includes `reasoningTokens` (OpenAI counts them in
 * `output_tokens`; the Gemini adapter adds `thoughtsTokenCount`), so reasoning is billed at the
 * output price and the ledger keeps its count apart only to show it.
 *
 * @module
 */
import {
  type Budget,
  type ModelPrice,
  type ModelUsage,
  type PriceTable,
  sentUnpriced,
  type Usage,
  UsageSnapshot,
} from "./usage.ts";
import { BudgetExceededError } from "./model.ts";

/**
 * List prices in US dollars per million tokens (standard tier, prompts up to 200k tokens
 * for Gemini), as published by OpenAI and Google in 2025 (Gemini 3.1: early 2026). Prices
 * change: pass your own table to {@linkcode UsageLedger} to override any entry.
 */
export const DEFAULT_PRICES: Readonly<PriceTable> = Object.freeze({
  "gpt-4.1": { inputPerMTok: 2.0, cachedInputPerMTok: 0.5, outputPerMTok: 8.0 },
  "gpt-4.1-mini": { inputPerMTok: 0.4, cachedInputPerMTok: 0.1, outputPerMTok: 1.6 },
  "gpt-4.1-nano": { inputPerMTok: 0.1, cachedInputPerMTok: 0.025, outputPerMTok: 0.4 },
  "gpt-4o": { inputPerMTok: 2.5, cachedInputPerMTok: 1.25, outputPerMTok: 10.0 },
  "gpt-4o-mini": { inputPerMTok: 0.15, cachedInputPerMTok: 0.075, outputPerMTok: 0.6 },
  "gpt-5": { inputPerMTok: 1.25, cachedInputPerMTok: 0.125, outputPerMTok: 10.0 },
  "gpt-5-mini": { inputPerMTok: 0.25, cachedInputPerMTok: 0.025, outputPerMTok: 2.0 },
  "gpt-5-nano": { inputPerMTok: 0.05, cachedInputPerMTok: 0.005, outputPerMTok: 0.4 },
  "gemini-2.5-pro": { inputPerMTok: 1.25, cachedInputPerMTok: 0.125, outputPerMTok: 10.0 },
  "gemini-2.5-flash": { inputPerMTok: 0.3, cachedInputPerMTok: 0.03, outputPerMTok: 2.5 },
  "gemini-2.5-flash-lite": { inputPerMTok: 0.1, cachedInputPerMTok: 0.01, outputPerMTok: 0.4 },
  // Gemini 3.1, the paper's Gemini optimizers: Gemini 3 Pro preview's published list price for
  // Pro, and an unverified figure for Flash-Lite (Google's price page cannot be reached from where
  // rpt is built). Check them before trusting a dry run; `--price MODEL=IN/OUT` overrides any row.
  "gemini-3.1-pro": { inputPerMTok: 2.0, cachedInputPerMTok: 0.2, outputPerMTok: 12.0 },
  "gemini-3.1-flash-lite": { inputPerMTok: 0.25, cachedInputPerMTok: 0.025, outputPerMTok: 1.5 },
  "text-embedding-3-small": { inputPerMTok: 0.02, outputPerMTok: 0 },
  "text-embedding-3-large": { inputPerMTok: 0.13, outputPerMTok: 0 },
  "gemini-embedding-001": { inputPerMTok: 0.15, outputPerMTok: 0 },
});

/** Providers that run locally and cost nothing (their models are priced at 0, not flagged). */
export const FREE_PROVIDERS: readonly string[] = ["sim", "scripted", "tfidf"];

/** Options of {@linkcode UsageLedger}. */
export interface LedgerOptions {
  /** Overrides merged over {@linkcode DEFAULT_PRICES}; keys are `model` or `provider:model`. */
  prices?: PriceTable;
  /** Limits checked before each call is sent. */
  budget?: Budget;
  /** Providers billed at 0 (default {@linkcode FREE_PROVIDERS}). */
  freeProviders?: readonly string[];
  /**
   * Called with every call as it is settled (a paid call, a cache hit, a failed attempt), so
   * a run can append it to a log that a killed process does not lose.
   */
  onRecord?: (record: LedgerRecord) => void;
}

/** One settled call, as {@linkcode LedgerOptions.onRecord} receives it and `apply` replays it. */
export interface LedgerRecord {
  kind: "call" | "cache_hit" | "failure";
  provider: string;
  model: string;
  /** The provider's usage of a paid call. */
  usage?: Usage;
  /** Dollars of a paid call (at the price it was billed at). */
  usd?: number;
  /** A line of a batch job. */
  batch?: boolean;
}

/** What a call is expected to cost, for the budget check before it is sent. */
export interface CallEstimate {
  /** Estimated input tokens of the request. */
  inputTokens: number;
  /** The call goes through the provider's batch API (billed at {@linkcode batchPrice}). */
  batch?: boolean;
}

/** A call admitted by the budget and in flight; settle it with `commit` or `release`. */
export interface Reservation {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** Estimated tokens held against the token budget. */
  readonly tokens: number;
  /** Estimated dollars held against the dollar budget. */
  readonly usd: number;
  /** Whether the call is a line of a batch job (committed at the batch price). */
  readonly batch: boolean;
}

/** A planned workload for {@linkcode UsageLedger.estimate}: `calls` calls of one size. */
export interface WorkloadPlan {
  /** Provider id. */
  provider: string;
  /** Model name. */
  model: string;
  /** Number of calls. */
  calls: number;
  /** Input tokens per call. */
  inputTokens: number;
  /** Output tokens per call. */
  outputTokens: number;
  /** Cached input tokens per call (a part of `inputTokens`). */
  cachedTokens?: number;
  /** Priced as batch-API calls. */
  batch?: boolean;
}

/** The interactive and batch cost of one workload (see {@linkcode UsageLedger.batchSaving}). */
export interface BatchSaving {
  /** Dollars at list prices. */
  interactiveUsd: number;
  /** Dollars at batch prices. */
  batchUsd: number;
  /** The difference. */
  savingUsd: number;
  /** False when the model has no known price (all figures are 0). */
  priced: boolean;
}

/** A price lookup result: the price, and whether it was known. */
export interface PriceLookup {
  /** Price per million tokens (zeros when unknown). */
  price: ModelPrice;
  /** False when the model is not in the table (its cost is counted as 0). */
  priced: boolean;
}

const ZERO_PRICE: ModelPrice = { inputPerMTok: 0, cachedInputPerMTok: 0, outputPerMTok: 0 };

function emptyUsage(priced: boolean): ModelUsage {
  return {
    calls: 0,
    cacheHits: 0,
    failures: 0,
    inputTokens: 0,
    cachedTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    usd: 0,
    priced,
  };
}

/**
 * Dollars for one call's usage at a price. Cached input tokens (a subset of the input
 * tokens) are billed at the cached-input price; reasoning tokens, a subset of the output
 * tokens, at the output price.
 *
 * @example
 * ```ts
 * import { costOf } from "./accounting.ts";
 * const usd = costOf({ inputTokens: 1_000_000, cachedTokens: 0, outputTokens: 0 },
 *   { inputPerMTok: 2, outputPerMTok: 8 });
 * if (usd !== 2) throw new Error(`unexpected ${usd}`);
 * ```
 */
export function costOf(usage: Usage, price: ModelPrice): number {
  const cached = Math.min(usage.cachedTokens, usage.inputTokens);
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  return ((usage.inputTokens - cached) * price.inputPerMTok + cached * cachedPrice +
    usage.outputTokens * price.outputPerMTok) / 1_000_000;
}

/** Default fraction of the list price a batch call costs (OpenAI and Gemini bill half). */
export const DEFAULT_BATCH_MULTIPLIER = 0.5;

/**
 * The price of a call through the provider's batch API: every per-token price times the
 * price's `batchMultiplier` (default {@linkcode DEFAULT_BATCH_MULTIPLIER}).
 *
 * @example
 * ```ts
 * import { batchPrice } from "./accounting.ts";
 * const p = batchPrice({ inputPerMTok: 2, cachedInputPerMTok: 0.5, outputPerMTok: 8 });
 * if (p.inputPerMTok !== 1 || p.cachedInputPerMTok !== 0.25 || p.outputPerMTok !== 4) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function batchPrice(price: ModelPrice): ModelPrice {
  const m = price.batchMultiplier ?? DEFAULT_BATCH_MULTIPLIER;
  return {
    inputPerMTok: price.inputPerMTok * m,
    cachedInputPerMTok: (price.cachedInputPerMTok ?? price.inputPerMTok) * m,
    outputPerMTok: price.outputPerMTok * m,
    batchMultiplier: 1,
  };
}

/**
 * Per-model calls, tokens and dollars (interactive and batch), with budgets enforced before
 * calls are sent.
 *
 * @example
 * ```ts
 * import { UsageLedger } from "./accounting.ts";
 * const ledger = new UsageLedger({ budget: { calls: 1 } });
 * const r = ledger.reserve("openai", "gpt-4.1", { inputTokens: 10 });
 * ledger.commit(r, { inputTokens: 1000, cachedTokens: 0, outputTokens: 100 });
 * let stopped = false;
 * try {
 *   ledger.reserve("openai", "gpt-4.1", { inputTokens: 10 });
 * } catch (e) {
 *   stopped = (e as Error).name === "BudgetExceededError";
 * }
 * if (!stopped || ledger.snapshot().total.usd !== 0.0028) throw new Error("unexpected");
 * ```
 */
export class UsageLedger {
  readonly #prices: PriceTable;
  readonly #budget: Budget;
  readonly #free: ReadonlySet<string>;
  readonly #onRecord?: (record: LedgerRecord) => void;
  readonly #models = new Map<string, ModelUsage>();
  readonly #priceMemo = new Map<
    string,
    Map<string, { interactive: ModelPrice; batch: ModelPrice }>
  >();
  #inFlight = 0;
  #reservedTokens = 0;
  #reservedUsd = 0;

  /** Creates an empty ledger. */
  constructor(options: LedgerOptions = {}) {
    this.#prices = { ...DEFAULT_PRICES, ...options.prices };
    this.#budget = { ...options.budget };
    this.#free = new Set(options.freeProviders ?? FREE_PROVIDERS);
    this.#onRecord = options.onRecord;
  }

  /** The budget this ledger enforces. */
  get budget(): Budget {
    return { ...this.#budget };
  }

  /**
   * The price of a model: `provider:model`, then `model`, then `model` without a
   * `models/` prefix or a dated suffix such as `-2025-04-14`.
   */
  priceFor(provider: string, model: string): PriceLookup {
    if (this.#free.has(provider)) return { price: ZERO_PRICE, priced: true };
    const bare = model.replace(/^models\//, "");
    const undated = bare.replace(/-\d{4}-\d{2}-\d{2}$/, "");
    for (const key of [`${provider}:${model}`, model, bare, undated]) {
      const price = this.#prices[key];
      if (price) return { price, priced: true };
    }
    return { price: ZERO_PRICE, priced: false };
  }

  /**
   * Admits one call or throws {@linkcode BudgetExceededError} naming the budget and the
   * figures. Calls count spent plus in-flight calls; tokens and dollars count spent, the
   * estimates held by in-flight calls, and this call's estimated input (its output is
   * unknown until it answers, so a budget can be overshot by at most the in-flight output).
   */
  reserve(provider: string, model: string, estimate: CallEstimate): Reservation {
    const tokens = Math.max(0, Math.ceil(estimate.inputTokens));
    const batch = estimate.batch === true;
    const price = this.#priceOf(provider, model, batch);
    const usd = costOf({ inputTokens: tokens, cachedTokens: 0, outputTokens: 0 }, price);
    const { calls, tokens: tokenLimit, usd: usdLimit } = this.#budget;
    if (calls !== undefined || tokenLimit !== undefined || usdLimit !== undefined) {
      this.#check(provider, model, tokens, usd);
    }
    this.#inFlight++;
    this.#reservedTokens += tokens;
    this.#reservedUsd += usd;
    return { provider, model, tokens, usd, batch };
  }

  /** Throws {@linkcode BudgetExceededError} when one more call of this size would break a limit. */
  #check(provider: string, model: string, tokens: number, usd: number): void {
    const total = this.#total();
    const name = `${provider}:${model}`;
    const { calls, tokens: tokenLimit, usd: usdLimit } = this.#budget;
    if (calls !== undefined && total.calls + this.#inFlight + 1 > calls) {
      throw new BudgetExceededError(
        `call budget of ${calls} reached (${total.calls} calls made, ${this.#inFlight} in flight); ` +
          `not sending ${name}`,
      );
    }
    const tokensSoFar = total.inputTokens + total.outputTokens + this.#reservedTokens;
    if (tokenLimit !== undefined && tokensSoFar + tokens > tokenLimit) {
      throw new BudgetExceededError(
        `token budget of ${tokenLimit} would be exceeded (${tokensSoFar} used or in flight + ` +
          `~${tokens} for this call); not sending ${name}`,
      );
    }
    const usdSoFar = total.usd + this.#reservedUsd;
    if (usdLimit !== undefined && usdSoFar + usd > usdLimit) {
      throw new BudgetExceededError(
        `dollar budget of $${usdLimit} would be exceeded ($${usdSoFar.toFixed(4)} spent or in ` +
          `flight + ~$${usd.toFixed(4)} for this call); not sending ${name}`,
      );
    }
  }

  /**
   * Settles a reservation with the provider's reported usage: one paid call, at the batch
   * price when the reservation was for a batch line (and then also counted under `batch`).
   */
  commit(reservation: Reservation, usage: Usage): void {
    this.#settle(reservation);
    const { provider, model, batch } = reservation;
    const usd = costOf(usage, this.#priceOf(provider, model, batch));
    this.#record({ kind: "call", provider, model, usage, usd, ...(batch ? { batch } : {}) });
  }

  /** Settles a reservation whose attempt failed: counted as a failure, not a paid call. */
  release(reservation: Reservation): void {
    this.#settle(reservation);
    this.#record({ kind: "failure", provider: reservation.provider, model: reservation.model });
  }

  /**
   * Adds a call settled elsewhere (a line of `usage.jsonl` written by a process that was
   * killed before it saved its totals), exactly as `commit`, `release` or `recordCacheHit`
   * counted it there; budgets are not checked and no `onRecord` is called.
   *
   * @example
   * ```ts
   * import { UsageLedger } from "./accounting.ts";
   * const ledger = new UsageLedger();
   * ledger.apply({ kind: "call", provider: "openai", model: "gpt-4.1", usd: 0.5,
   *   usage: { inputTokens: 10, cachedTokens: 0, outputTokens: 5 } });
   * ledger.apply({ kind: "cache_hit", provider: "openai", model: "gpt-4.1" });
   * const t = ledger.snapshot().total;
   * if (t.calls !== 1 || t.cacheHits !== 1 || t.usd !== 0.5) throw new Error();
   * ```
   */
  apply(record: LedgerRecord): void {
    const entry = this.#entry(record.provider, record.model);
    if (record.kind === "cache_hit") {
      entry.cacheHits++;
      return;
    }
    if (record.kind === "failure") {
      entry.failures++;
      return;
    }
    const usage = record.usage ?? { inputTokens: 0, cachedTokens: 0, outputTokens: 0 };
    const usd = record.usd ?? 0;
    add(entry, usage, usd);
    entry.reasoningTokens += usage.reasoningTokens ?? 0;
    if (record.batch) {
      entry.batch ??= { calls: 0, inputTokens: 0, cachedTokens: 0, outputTokens: 0, usd: 0 };
      add(entry.batch, usage, usd);
    }
  }

  #record(record: LedgerRecord): void {
    this.apply(record);
    this.#onRecord?.(record);
  }

  /**
   * Gives back a reservation for a call that was never made (a batch line the provider
   * never processed, a batch that was not submitted): no call and no failure is counted.
   */
  unreserve(reservation: Reservation): void {
    this.#settle(reservation);
  }

  /** Records a call answered by the response cache (no cost, no budget use). */
  recordCacheHit(provider: string, model: string): void {
    this.#record({ kind: "cache_hit", provider, model });
  }

  /**
   * The cost of a planned workload, for dry runs: `calls` calls of the given size each.
   *
   * @example
   * ```ts
   * import { UsageLedger } from "./accounting.ts";
   * const e = new UsageLedger().estimate({ provider: "openai", model: "gpt-5-mini",
   *   calls: 1000, inputTokens: 1000, outputTokens: 500 });
   * if (Math.abs(e.usd - 1.25) > 1e-9 || !e.priced) throw new Error(`unexpected ${e.usd}`);
   * ```
   */
  estimate(plan: WorkloadPlan): { usd: number; tokens: number; priced: boolean } {
    const { priced } = this.priceFor(plan.provider, plan.model);
    const price = this.#priceOf(plan.provider, plan.model, plan.batch === true);
    const perCall = costOf({
      inputTokens: plan.inputTokens,
      cachedTokens: plan.cachedTokens ?? 0,
      outputTokens: plan.outputTokens,
    }, price);
    return {
      usd: perCall * plan.calls,
      tokens: (plan.inputTokens + plan.outputTokens) * plan.calls,
      priced,
    };
  }

  /**
   * What sending a workload through the batch API would save, for dry runs: the
   * interactive and batch costs of the same calls.
   *
   * @example
   * ```ts
   * import { UsageLedger } from "./accounting.ts";
   * const s = new UsageLedger().batchSaving({ provider: "openai", model: "gpt-4.1",
   *   calls: 600, inputTokens: 1000, outputTokens: 100 });
   * if (Math.abs(s.interactiveUsd - 1.68) > 1e-9 || Math.abs(s.savingUsd - 0.84) > 1e-9) {
   *   throw new Error(`unexpected ${JSON.stringify(s)}`);
   * }
   * ```
   */
  batchSaving(plan: WorkloadPlan): BatchSaving {
    const interactive = this.estimate({ ...plan, batch: false });
    const batch = this.estimate({ ...plan, batch: true });
    return {
      interactiveUsd: interactive.usd,
      batchUsd: batch.usd,
      savingUsd: interactive.usd - batch.usd,
      priced: interactive.priced,
    };
  }

  /**
   * The running totals and the paid models without a known price: what a progress line
   * shows, cheaper than a {@linkcode UsageLedger.snapshot} (no copy, no validation).
   */
  totals(): { total: ModelUsage; unpriced: string[] } {
    const unpriced: string[] = [];
    for (const [name, u] of this.#models) if (sentUnpriced(u)) unpriced.push(name);
    return { total: this.#total(), unpriced: unpriced.sort() };
  }

  /** The ledger as JSON for the run record (a deep copy). */
  snapshot(): UsageSnapshot {
    const models: Record<string, ModelUsage> = {};
    for (const [name, usage] of [...this.#models].sort(([a], [b]) => a.localeCompare(b))) {
      models[name] = { ...usage, ...(usage.batch ? { batch: { ...usage.batch } } : {}) };
    }
    const unpriced = Object.entries(models)
      .filter(([, u]) => sentUnpriced(u))
      .map(([name]) => name);
    return UsageSnapshot.parse({ models, total: this.#total(), budget: this.budget, unpriced });
  }

  #priceOf(provider: string, model: string, batch: boolean): ModelPrice {
    // The table never changes after construction: each model's prices are looked up once.
    let byModel = this.#priceMemo.get(provider);
    if (byModel === undefined) this.#priceMemo.set(provider, byModel = new Map());
    let prices = byModel.get(model);
    if (prices === undefined) {
      const { price } = this.priceFor(provider, model);
      byModel.set(model, prices = { interactive: price, batch: batchPrice(price) });
    }
    return batch ? prices.batch : prices.interactive;
  }

  #settle(reservation: Reservation): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    this.#reservedTokens = Math.max(0, this.#reservedTokens - reservation.tokens);
    this.#reservedUsd = Math.max(0, this.#reservedUsd - reservation.usd);
  }

  #entry(provider: string, model: string): ModelUsage {
    const name = `${provider}:${model}`;
    let entry = this.#models.get(name);
    if (!entry) {
      entry = emptyUsage(this.priceFor(provider, model).priced);
      this.#models.set(name, entry);
    }
    return entry;
  }

  #total(): ModelUsage {
    const total = emptyUsage(true);
    for (const u of this.#models.values()) {
      total.calls += u.calls;
      total.cacheHits += u.cacheHits;
      total.failures += u.failures;
      total.inputTokens += u.inputTokens;
      total.cachedTokens += u.cachedTokens;
      total.outputTokens += u.outputTokens;
      total.reasoningTokens += u.reasoningTokens;
      total.usd += u.usd;
      if (u.batch) {
        total.batch ??= { calls: 0, inputTokens: 0, cachedTokens: 0, outputTokens: 0, usd: 0 };
        add(total.batch, u.batch, u.batch.usd, u.batch.calls);
      }
      if (!u.priced && u.calls > 0) total.priced = false;
    }
    return total;
  }
}

type Tally = NonNullable<ModelUsage["batch"]>;

function add(into: Tally, usage: Usage, usd: number, calls = 1): void {
  into.calls += calls;
  into.inputTokens += usage.inputTokens;
  into.cachedTokens += usage.cachedTokens;
  into.outputTokens += usage.outputTokens;
  into.usd += usd;
}
