/**
 * Token estimates for budgets and dry runs. rpt does not bundle a tokenizer: a
 * character-based estimate (about 4 characters a token for English) is close enough to
 * plan budgets and compact memory, and real usage always comes from the provider.
 *
 * @module
 */

/**
 * Estimated token count of a text.
 *
 * @example
 * ```ts
 * import { estimateTokens } from "./tokens.ts";
 * if (estimateTokens("abcd") !== 1) throw new Error("unexpected");
 * ```
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
