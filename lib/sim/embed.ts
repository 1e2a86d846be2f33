/**
 * The simulated embedder: a deterministic hashed bag of words. Texts sharing words get
 * similar vectors, which is all clustering of the critic's wording needs.
 *
 * @module
 */
import type { EmbedResponse } from "../llm/schema.ts";
import { estimateTokens } from "../util/tokens.ts";
import { hashString } from "../util/random.ts";

/** Vector length of the simulated embedder. */
export const SIM_EMBED_DIM = 256;

const STOP = new Set(
  "the a an of to and or in on for is are was were be it its that this with as by at from not"
    .split(" "),
);

/**
 * Embeds one text: lower-cased word tokens (stop words dropped) hashed into
 * {@linkcode SIM_EMBED_DIM} signed buckets with log term frequency, L2-normalised. The
 * `seed` salts the hash, so different seeds give different (equally valid) spaces.
 *
 * @example
 * ```ts
 * import { embedText } from "./embed.ts";
 * const a = embedText("scale words not converted", 0);
 * const b = embedText("scale words not converted", 0);
 * if (a.join() !== b.join() || a.length !== 256) throw new Error("unexpected");
 * ```
 */
export function embedText(text: string, seed: number): number[] {
  const counts = new Map<string, number>();
  for (const token of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (token.length < 2 || STOP.has(token)) continue;
    counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  const v = new Array<number>(SIM_EMBED_DIM).fill(0);
  for (const [token, count] of counts) {
    const h = hashString(`${seed}:${token}`);
    const sign = (h & 1) === 0 ? 1 : -1;
    const at = (h >>> 1) % SIM_EMBED_DIM;
    v[at] = (v[at] as number) + sign * (1 + Math.log(count));
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

/** Embeds a batch of texts, with estimated token usage. */
export function embedBatch(texts: string[], seed: number): EmbedResponse {
  return {
    vectors: texts.map((t) => embedText(t, seed)),
    usage: { inputTokens: texts.reduce((n, t) => n + estimateTokens(t), 0) },
  };
}
