/**
 * Small deterministic random-number helpers shared by the simulator, clustering,
 * bootstrap intervals and baselines, so that every seeded result is reproducible.
 *
 * @module
 */

/**
 * A seeded pseudo-random generator (mulberry32) returning floats in [0, 1).
 *
 * @example
 * ```ts
 * import { seededRandom } from "./random.ts";
 * const a = seededRandom(7), b = seededRandom(7);
 * if (a() !== b()) throw new Error("not deterministic");
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit FNV-1a hash of a string: a cheap, stable way to derive per-item seeds.
 *
 * @example
 * ```ts
 * import { hashString } from "./random.ts";
 * if (hashString("abc") !== hashString("abc")) throw new Error("unstable");
 * ```
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A float in [0, 1) that depends only on its parts: a stateless, reproducible coin. */
export function hashUnit(...parts: (string | number)[]): number {
  return hashString(parts.join("\u0000")) / 4294967296;
}

/** Fisher-Yates shuffle of a copy of `items` driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
