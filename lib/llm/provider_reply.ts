/**
 * Shared pieces of reading a provider's reply: embeddings gathered over batches of at most
 * the provider's request size. (The structured answer in a chat text is read by
 * `structured.ts`.)
 *
 * @module
 */
import type { EmbedResponse } from "./schema.ts";
import { ProviderError } from "./model.ts";

/** What one embedding request returned: its vectors in input order and billed tokens. */
export interface EmbedBatchResult {
  /** Vectors in input order; undefined when the reply had none. */
  vectors: number[][] | undefined;
  /** Input tokens billed for the batch (0 when the provider reports none). */
  inputTokens: number;
}

/**
 * Embeds texts in requests of at most `batchSize`, in input order, summing the tokens. A
 * batch answered with the wrong number of vectors is a retryable malformed response.
 *
 * @example
 * ```ts
 * import { embedInBatches } from "./provider_reply.ts";
 * const who = { provider: "demo", model: "m" };
 * const out = await embedInBatches(["a", "bb", "ccc"], 2, who, (batch) =>
 *   Promise.resolve({ vectors: batch.map((t) => [t.length]), inputTokens: batch.length }));
 * if (out.vectors.flat().join() !== "1,2,3" || out.usage.inputTokens !== 3) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export async function embedInBatches(
  texts: string[],
  batchSize: number,
  who: { provider: string; model: string },
  embedBatch: (batch: string[]) => Promise<EmbedBatchResult>,
): Promise<EmbedResponse> {
  const vectors: number[][] = [];
  let inputTokens = 0;
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const result = await embedBatch(batch);
    const got = result.vectors?.length ?? 0;
    if (!result.vectors || got !== batch.length) {
      throw new ProviderError({
        provider: who.provider,
        model: who.model,
        message: `malformed response: ${got} embeddings for ${batch.length} inputs`,
        retryable: true,
      });
    }
    vectors.push(...result.vectors);
    inputTokens += result.inputTokens;
  }
  return { vectors, usage: { inputTokens } };
}
