/**
 * The flags that say what happens to calls: how long an attempt may take and how often it is
 * retried, how many failed calls a step may count as failures, prices and a call budget.
 * `rpt optimize` and `rpt evaluate` take them all (`rpt resume` the first four).
 *
 * @module
 */
import type { PriceTable } from "../llm/usage.ts";
import { ConfigError } from "../util/errors.ts";
import { runConfigFlag } from "./args.ts";

/** The flags' `parseArgs` options. */
export const CALL_FLAGS = {
  "max-error-rate": { type: "string" },
  timeout: { type: "string" },
  retries: { type: "string" },
  "max-backoff": { type: "string" },
  price: { type: "string", multiple: true },
  "budget-calls": { type: "string" },
} as const;

/** Each flag's lines of a command's help, the same in every command that takes it. */
export const CALL_FLAG_LINES: Readonly<Record<keyof typeof CALL_FLAGS, string>> = {
  "budget-calls":
    "  --budget-calls N      stop before more than N paid calls (works for unpriced models too)",
  price: `  --price MODEL=IN/OUT  USD per million input/output tokens for MODEL (repeatable), e.g.
                        --price qwen3=0.20/0.60; in a --config file:
                        "prices": {"qwen3": {"inputPerMTok": 0.2, "outputPerMTok": 0.6}}`,
  "max-error-rate":
    `  --max-error-rate R    go on when at most a share R (0-1) of a step's calls failed after
                        their retries: those examples count as failures and are shown
                        (default 0: any failed call stops the run, to resume later)`,
  timeout: "  --timeout SECONDS     per-attempt timeout of a model call (default 180)",
  retries: "  --retries N           retries of a failed model call (default 4)",
  "max-backoff":
    "  --max-backoff SECONDS longest wait between two attempts (default 30; Retry-After wins)",
};

/** The help lines of `names` (default: every call flag), in that order. */
export function callFlagsHelp(
  names: readonly (keyof typeof CALL_FLAGS)[] = [
    "budget-calls",
    "price",
    "max-error-rate",
    "timeout",
    "retries",
    "max-backoff",
  ],
): string {
  return names.map((n) => CALL_FLAG_LINES[n]).join("\n");
}

/** The flags' lines of a command's help (all of them). */
export const CALL_FLAGS_HELP = callFlagsHelp();

/** What `parseArgs` gives for these flags. */
export interface CallFlagValues {
  "max-error-rate"?: string;
  timeout?: string;
  retries?: string;
  "max-backoff"?: string;
  price?: string[];
  "budget-calls"?: string;
}

/**
 * `--price MODEL=IN/OUT` values (USD per million input and output tokens; a third figure is
 * the cached-input price) as a price table; a bad one is a ConfigError naming it.
 *
 * @example
 * ```ts
 * import { priceFlags } from "./call_flags.ts";
 * const t = priceFlags(["qwen3=0.2/0.6", "openai-compatible:m=1/2/0.5"]);
 * if (t?.qwen3?.outputPerMTok !== 0.6 || t["openai-compatible:m"]?.cachedInputPerMTok !== 0.5) {
 *   throw new Error();
 * }
 * ```
 */
export function priceFlags(raw: readonly string[] | undefined): PriceTable | undefined {
  if (raw === undefined || raw.length === 0) return undefined;
  const table: PriceTable = {};
  for (const value of raw) {
    const m = /^(.+)=([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(value.trim());
    const figures = m ? [m[2], m[3], m[4]].map((x) => x === undefined ? undefined : Number(x)) : [];
    const [input, output, cached] = figures;
    if (
      !m || input === undefined || output === undefined ||
      figures.some((x) => x !== undefined && (!Number.isFinite(x) || x < 0))
    ) {
      throw new ConfigError(
        `--price: expected MODEL=IN/OUT in USD per million input/output tokens ` +
          `(e.g. --price qwen3=0.20/0.60), got "${value}"`,
      );
    }
    table[(m[1] as string).trim()] = {
      inputPerMTok: input,
      outputPerMTok: output,
      ...(cached !== undefined ? { cachedInputPerMTok: cached } : {}),
    };
  }
  return table;
}

/**
 * Writes the flags given into `base` (a config input), each checked against its field's
 * range; `--price` entries go over the config file's `prices`.
 */
export function applyCallFlags(values: CallFlagValues, base: Record<string, unknown>): void {
  const set = (key: string, value: number | undefined) => {
    if (value !== undefined) base[key] = value;
  };
  set("maxErrorRate", runConfigFlag(values["max-error-rate"], "max-error-rate"));
  set("timeoutSeconds", runConfigFlag(values.timeout, "timeout"));
  set("retries", runConfigFlag(values.retries, "retries", { integer: true }));
  set("backoffMaxSeconds", runConfigFlag(values["max-backoff"], "max-backoff"));
  set("budgetCalls", runConfigFlag(values["budget-calls"], "budget-calls", { integer: true }));
  const prices = priceFlags(values.price);
  if (prices) base.prices = { ...(base.prices as PriceTable | undefined), ...prices };
}
