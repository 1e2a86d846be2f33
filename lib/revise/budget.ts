/**
 * Budgets are enforced or refused. A run's ledger carries what is left of its dollar and call
 * budgets after earlier sessions (a resumed run), with the config's prices over the built-in
 * list; a dollar budget over a model whose price is unknown cannot be enforced, so the run
 * refuses to start and says how to give a price or to use a call budget instead.
 *
 * @module
 */
import { type LedgerRecord, UsageLedger } from "../llm/accounting.ts";
import type { RunConfig } from "../run/config.ts";
import { totalUsage, type UsageSession } from "../run/schema.ts";
import { ConfigError } from "../util/errors.ts";
import type { EndpointRole } from "./endpoints.ts";

/** The ledger of a session: the run's prices, and the budgets left after `before`. */
export function runLedger(
  config: RunConfig,
  before: readonly UsageSession[],
  onRecord?: (record: LedgerRecord) => void,
): UsageLedger {
  const spent = totalUsage(before);
  return new UsageLedger({
    ...(config.prices ? { prices: config.prices } : {}),
    budget: {
      ...(config.budgetUsd !== undefined ? { usd: Math.max(0, config.budgetUsd - spent.usd) } : {}),
      ...(config.budgetCalls !== undefined
        ? { calls: Math.max(0, config.budgetCalls - spent.calls) }
        : {}),
    },
    ...(onRecord ? { onRecord } : {}),
  });
}

/** The price key a person writes for a model: its name (the ledger also takes `provider:model`). */
function priceKey(model: { model: string }): string {
  return model.model;
}

/**
 * Refuses a dollar budget that cannot be enforced: any role's model without a known price
 * is a {@linkcode ConfigError} that says how to give one (`--price MODEL=IN/OUT`, or `prices`
 * in a config file) or to budget calls instead. Without `budgetUsd` nothing is checked.
 *
 * @example
 * ```ts
 * import { assertBudgetEnforceable, runLedger } from "./budget.ts";
 * import { parseRunConfig } from "../run/config.ts";
 * const config = parseRunConfig({ task: "synthetic", target: "openai-compatible:q@http://h/v1",
 *   optimizer: "sim:optimizer", budgetUsd: 1 });
 * const models = { target: { provider: "openai-compatible", model: "q" } };
 * const message = (() => {
 *   try {
 *     assertBudgetEnforceable(config, models, runLedger(config, []));
 *     return "";
 *   } catch (e) {
 *     return (e as Error).message;
 *   }
 * })();
 * if (!message.includes("--price q=IN/OUT") || !message.includes("--budget-calls")) throw new Error(message);
 * ```
 */
export function assertBudgetEnforceable(
  config: RunConfig,
  models: Partial<Record<EndpointRole, { provider: string; model: string }>>,
  ledger: UsageLedger,
): void {
  if (config.budgetUsd === undefined) return;
  const unpriced = (Object.entries(models) as [EndpointRole, { provider: string; model: string }][])
    .filter(([, m]) => m !== undefined && !ledger.priceFor(m.provider, m.model).priced);
  if (unpriced.length === 0) return;
  const names = unpriced.map(([role, m]) => `${m.provider}:${m.model} (${role})`);
  const [, first] = unpriced[0] as [EndpointRole, { provider: string; model: string }];
  const key = priceKey(first);
  throw new ConfigError(
    `--budget-usd: no price is known for ${[...new Set(names)].join(", ")}, so a dollar ` +
      `budget cannot be enforced; give the price in USD per million input/output tokens with ` +
      `--price ${key}=IN/OUT (in a --config file: "prices": {"${key}": {"inputPerMTok": IN, ` +
      `"outputPerMTok": OUT}}), or limit paid calls with --budget-calls N instead`,
  );
}
