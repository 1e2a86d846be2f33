/**
 * A faithful port of CPython 3's `random.Random` for the parts the paper's split scripts
 * used: seeding with an integer (`init_by_array` over the seed's 32-bit words),
 * `getrandbits`, `_randbelow` (rejection sampling on `getrandbits`), `random()` and
 * `shuffle`. With it, `rpt data:fetch` draws exactly the rows the paper drew in Python.
 *
 * @module
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/**
 * CPython's Mersenne Twister (`random.Random`), seeded the way `random.Random(seed)` seeds
 * it for an integer seed.
 *
 * @example
 * ```ts
 * import { PyRandom } from "./pyrandom.ts";
 * const xs = Array.from({ length: 10 }, (_, i) => i);
 * new PyRandom(0).shuffle(xs);
 * // Python: x = list(range(10)); random.Random(0).shuffle(x) -> [7, 8, 1, 5, 3, 4, 2, 0, 9, 6]
 * if (xs.join() !== "7,8,1,5,3,4,2,0,9,6") throw new Error(xs.join());
 * ```
 */
export class PyRandom {
  readonly #mt = new Uint32Array(N);
  #index = N + 1;

  /** Seeds like `random.Random(seed)` with an integer seed (its absolute value is used). */
  constructor(seed: number | bigint) {
    this.seed(seed);
  }

  /** Re-seeds like `Random.seed(seed)` for an integer. */
  seed(seed: number | bigint): void {
    if (typeof seed === "number" && !Number.isInteger(seed)) {
      throw new RangeError(`PyRandom seeds must be integers, got ${seed}`);
    }
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    // CPython splits |seed| into little-endian 32-bit words; zero becomes the key [0].
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.#initByArray(key);
  }

  #initGenrand(s: number): void {
    const mt = this.#mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] as number;
      mt[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
    }
    this.#index = N;
  }

  #initByArray(key: readonly number[]): void {
    const mt = this.#mt;
    this.#initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] as number;
      mt[i] = (((mt[i] as number) ^ Math.imul((prev ^ (prev >>> 30)) >>> 0, 1664525)) >>> 0) +
        (key[j] as number) + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] as number;
      mt[i] = (((mt[i] as number) ^ Math.imul((prev ^ (prev >>> 30)) >>> 0, 1566083941)) >>> 0) -
        i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** The next 32-bit output (`genrand_uint32`). */
  nextUint32(): number {
    const mt = this.#mt;
    if (this.#index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
        mt[kk] = (mt[kk + M] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
        mt[kk] = (mt[kk + (M - N)] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = ((mt[N - 1] as number) & UPPER_MASK) | ((mt[0] as number) & LOWER_MASK);
      mt[N - 1] = (mt[M - 1] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.#index = 0;
    }
    let y = mt[this.#index++] as number;
    y ^= y >>> 11;
    y = (y ^ ((y << 7) & 0x9d2c5680)) >>> 0;
    y = (y ^ ((y << 15) & 0xefc60000)) >>> 0;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random.random()`: a float in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `random.getrandbits(k)` as a bigint (k >= 0); words fill from the least significant end. */
  getrandbits(k: number): bigint {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be >= 0, got ${k}`);
    if (k === 0) return 0n;
    if (k <= 32) return BigInt(this.nextUint32() >>> (32 - k));
    let result = 0n;
    let shift = 0n;
    for (let left = k; left > 0; left -= 32) {
      let word = this.nextUint32();
      if (left < 32) word >>>= 32 - left;
      result |= BigInt(word) << shift;
      shift += 32n;
    }
    return result;
  }

  /** `random._randbelow(n)`: a uniform integer in [0, n), by rejection on `n.bit_length()` bits. */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`n must be > 0, got ${n}`);
    const k = n.toString(2).length;
    if (k <= 32) {
      let r = this.nextUint32() >>> (32 - k);
      while (r >= n) r = this.nextUint32() >>> (32 - k);
      return r;
    }
    let r = Number(this.getrandbits(k));
    while (r >= n) r = Number(this.getrandbits(k));
    return r;
  }

  /** `random.shuffle(x)` in place (CPython 3's algorithm, without the removed `random` argument). */
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
  }
}

/**
 * `x = list(range(n)); random.Random(seed).shuffle(x)` as one call.
 *
 * @example
 * ```ts
 * import { shuffledRange } from "./pyrandom.ts";
 * if (shuffledRange(10, 1).join() !== "6,8,9,7,5,3,0,4,1,2") throw new Error("unexpected");
 * ```
 */
export function shuffledRange(n: number, seed: number): number[] {
  const xs = Array.from({ length: n }, (_, i) => i);
  new PyRandom(seed).shuffle(xs);
  return xs;
}
