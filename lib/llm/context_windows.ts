/**
 * Context windows of known models: how many input tokens one request may hold. The loop
 * sizes the optimizer's memory from it (`memoryTokenBudget` defaults to the window minus a
 * reserve for the controller, the report and the answer), so a long run keeps every past
 * report where the model can take them, as the reference implementation does (it never
 * compacts).
 *
 * Figures are the providers' published input limits (2025-2026). A model not in the table
 * gets {@linkcode UNKNOWN_CONTEXT_TOKENS} and is reported as unknown, never silently.
 *
 * @module
 */
/** Input tokens per request of known models, by model name (longest prefix wins). */
export const CONTEXT_WINDOWS: Readonly<Record<string, number>> = Object.freeze({
  // OpenAI: gpt-5 takes 272k input tokens (400k with the output).
  "gpt-5": 272_000,
  "gpt-4.1": 1_047_576,
  "gpt-4o": 128_000,
  "o3": 200_000,
  "o4-mini": 200_000,
  "o1": 200_000,
  // Google.
  "gemini-3.1-pro": 1_048_576,
  "gemini-3.1-flash": 1_048_576,
  "gemini-3-pro": 1_048_576,
  "gemini-3-flash": 1_048_576,
  "gemini-2.5-pro": 1_048_576,
  "gemini-2.5-flash": 1_048_576,
});

/** The window assumed for a model the table does not know. */
export const UNKNOWN_CONTEXT_TOKENS = 128_000;

/** The window of the offline simulator (it reads any size; this keeps budgets finite). */
export const SIMULATED_CONTEXT_TOKENS = 1_000_000;

/** Tokens kept free of memory: controller, iteration message, report and the answer. */
export const CONTEXT_RESERVE_TOKENS = 32_000;

/** A model's context window and whether the table knew it. */
export interface ContextWindow {
  tokens: number;
  known: boolean;
}

/**
 * The context window of the model a spec names (`openai:gpt-5`, `gemini:gemini-3.1-pro`,
 * `sim:optimizer`, ...). Dated snapshots match their family (`gpt-5-2025-08-07`,
 * `gpt-5-mini` and `gpt-5.1` are `gpt-5`).
 *
 * @example
 * ```ts
 * import { contextWindow } from "./context_windows.ts";
 * if (contextWindow("openai:gpt-5-mini").tokens !== 272_000) throw new Error();
 * if (contextWindow("openai-compatible:qwen3@http://127.0.0.1:8000/v1").known) throw new Error();
 * ```
 */
export function contextWindow(spec: string): ContextWindow {
  // Read loosely: a config may name a given model object as `provider:model`.
  const colon = spec.indexOf(":");
  const provider = colon < 0 ? spec.trim() : spec.slice(0, colon).trim();
  const model = (colon < 0 ? "" : spec.slice(colon + 1)).split("@")[0]?.trim() ?? "";
  if (provider === "sim" || provider === "scripted") {
    return { tokens: SIMULATED_CONTEXT_TOKENS, known: true };
  }
  let best: string | undefined;
  for (const name of Object.keys(CONTEXT_WINDOWS)) {
    const family = model === name || model.startsWith(`${name}-`) || model.startsWith(`${name}.`);
    if (family && name.length > (best?.length ?? 0)) {
      best = name;
    }
  }
  return best === undefined
    ? { tokens: UNKNOWN_CONTEXT_TOKENS, known: false }
    : { tokens: CONTEXT_WINDOWS[best] as number, known: true };
}

/**
 * The default memory budget for an optimizer: its context window minus
 * {@linkcode CONTEXT_RESERVE_TOKENS} (at least a quarter of the window).
 *
 * @example
 * ```ts
 * import { defaultMemoryBudget } from "./context_windows.ts";
 * if (defaultMemoryBudget("openai:gpt-5") !== 240_000) throw new Error();
 * ```
 */
export function defaultMemoryBudget(optimizerSpec: string): number {
  const { tokens } = contextWindow(optimizerSpec);
  return Math.max(Math.floor(tokens / 4), tokens - CONTEXT_RESERVE_TOKENS);
}
