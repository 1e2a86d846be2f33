/**
 * An offline TF-IDF embedder: deterministic, L2-normalised, no network and no model file.
 *
 * Words and word pairs are hashed into a fixed number of dimensions (the hashing trick,
 * with a hash-derived sign so collisions cancel rather than pile up). Term frequency is
 * sublinear (`1 + ln tf`) and IDF is smoothed (`ln((1 + N) / (1 + df)) + 1`).
 *
 * IDF needs a corpus. By default it is fitted on the texts of each `embed` call, so
 * vectors are comparable **within one call** (embed everything you want to compare in one
 * batch, as clustering does). Call {@linkcode TfidfEmbedder.fit} (or pass `corpus`) to fix
 * the IDF once; vectors from any later call are then comparable, and the model name gains a
 * digest of the corpus so cached vectors of different fits never mix.
 *
 * @module
 */
import type { EmbedResponse } from "./schema.ts";
import { hashString } from "../util/random.ts";
import { estimateTokens } from "../util/tokens.ts";
import type { CallOptions, Embedder } from "./model.ts";

/** Options of {@linkcode TfidfEmbedder}. */
export interface TfidfOptions {
  /** Vector length (default 2048). */
  dimension?: number;
  /** Also use adjacent word pairs as features (default true): keeps some word order. */
  bigrams?: boolean;
  /** Drop common English function words (default true): IDF alone needs a large call. */
  stopwords?: boolean;
  /** A corpus to fit the IDF on once (same as calling `fit`). */
  corpus?: readonly string[];
}

/** Common English function words, dropped before features are built. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  ("a an the and or but if of in on at to for from by with as is are was were be been being " +
    "it its this that these those there here than then so such into about over under via vs " +
    "i you he she we they them his her their our your my me do does did not no")
    .split(" "),
);

/**
 * Lower-cased words (letters and digits, any script) of a text.
 *
 * @example
 * ```ts
 * import { tokenize } from "./tfidf.ts";
 * if (tokenize("Wrong UNIT, e.g. km→m!").join(" ") !== "wrong unit e g km m") throw new Error("unexpected");
 * ```
 */
export function tokenize(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * The offline embedder (`tfidf` in spec strings).
 *
 * @example
 * ```ts
 * import { TfidfEmbedder } from "./tfidf.ts";
 * const { vectors } = await new TfidfEmbedder().embed([
 *   "answer in the wrong unit", "the wrong unit in the answer", "overconfident guess",
 * ]);
 * const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
 * const [a, b, c] = vectors as [number[], number[], number[]];
 * if (!(dot(a, b) > dot(a, c))) throw new Error("similar texts should be closer");
 * ```
 */
export class TfidfEmbedder implements Embedder {
  /** Provider id. */
  readonly provider = "tfidf";
  /** Vector length. */
  readonly dimension: number;
  readonly #bigrams: boolean;
  readonly #stopwords: boolean;
  #fitted: { idf: Map<string, number>; unseenIdf: number; digest: string } | undefined;

  /** Creates an embedder; see {@linkcode TfidfOptions}. */
  constructor(options: TfidfOptions = {}) {
    const dimension = options.dimension ?? 2048;
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
    }
    this.dimension = dimension;
    this.#bigrams = options.bigrams ?? true;
    this.#stopwords = options.stopwords ?? true;
    if (options.corpus) this.fit(options.corpus);
  }

  /**
   * `tfidf-hash-<dimension>`, with `-uni` without bigrams, `-all` when keeping stopwords,
   * and `-fit-<digest>` once fitted on a corpus: every variant caches separately.
   */
  get model(): string {
    const base = `tfidf-hash-${this.dimension}${this.#bigrams ? "" : "-uni"}${
      this.#stopwords ? "" : "-all"
    }`;
    return this.#fitted ? `${base}-fit-${this.#fitted.digest}` : base;
  }

  /** Fixes the IDF on `corpus`, so vectors from separate calls are comparable. */
  fit(corpus: readonly string[]): this {
    const { idf, n } = this.#idf(corpus.map((t) => this.#features(t)));
    const digest = hashString(corpus.join("\u0000")).toString(16).padStart(8, "0");
    this.#fitted = { idf, unseenIdf: Math.log((1 + n) / 1) + 1, digest };
    return this;
  }

  /** Embeds `texts`; a text without any word gets the zero vector. */
  embed(texts: string[], options?: CallOptions): Promise<EmbedResponse> {
    try {
      options?.signal?.throwIfAborted();
      const features = texts.map((t) => this.#features(t));
      const fitted = this.#fitted;
      const { idf, unseenIdf } = fitted ?? { ...this.#idf(features), unseenIdf: 1 };
      const vectors = features.map((counts) => this.#vector(counts, idf, unseenIdf));
      const inputTokens = texts.reduce((n, t) => n + estimateTokens(t), 0);
      return Promise.resolve({ vectors, usage: { inputTokens } });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #features(text: string): Map<string, number> {
    const all = tokenize(text);
    const words = this.#stopwords ? all.filter((w) => !STOPWORDS.has(w)) : all;
    const counts = new Map<string, number>();
    const add = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as string;
      add(word);
      if (this.#bigrams && i + 1 < words.length) add(`${word} ${words[i + 1]}`);
    }
    return counts;
  }

  #idf(docs: Map<string, number>[]): { idf: Map<string, number>; n: number } {
    const df = new Map<string, number>();
    for (const doc of docs) for (const f of doc.keys()) df.set(f, (df.get(f) ?? 0) + 1);
    const n = docs.length;
    const idf = new Map<string, number>();
    for (const [f, d] of df) idf.set(f, Math.log((1 + n) / (1 + d)) + 1);
    return { idf, n };
  }

  #vector(counts: Map<string, number>, idf: Map<string, number>, unseenIdf: number): number[] {
    const v = new Float64Array(this.dimension);
    for (const [feature, tf] of counts) {
      const h = hashString(feature);
      const sign = h & 0x80000000 ? -1 : 1;
      v[h % this.dimension]! += sign * (1 + Math.log(tf)) * (idf.get(feature) ?? unseenIdf);
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    return Array.from(v, (x) => (norm > 0 ? x / norm : 0));
  }
}
