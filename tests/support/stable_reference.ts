/**
 * The definition `stableStringify` and `cacheKey` must match, written the obvious way, and
 * generators for the values the tests compare them on.
 *
 * @module
 */

/** JSON.stringify of a copy with every object's keys sorted (undefined members dropped). */
export function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const item = (v as Record<string, unknown>)[key];
        if (item !== undefined) out[key] = sortKeys(item);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Characters JSON escapes, or that UTF-8 writes in 2 to 4 bytes, or that sort oddly. */
const PIECES = [
  "a",
  "Z",
  " ",
  "word ",
  "\n",
  "\t",
  "\u0000",
  "\u001f",
  '"',
  "\\",
  "/",
  "é",
  "–",
  "\u2028",
  "\ud83d\ude00",
  "\ud800",
  "\udfff",
  "\u007f",
  "10",
  "_",
];

/** A string of about `length` characters drawn from tricky pieces. */
export function randomText(random: () => number, length: number): string {
  let out = "";
  while (out.length < length) {
    // Mostly plain text, as real prompts are, with the tricky pieces mixed in.
    out += random() < 0.8 ? "lorem " : PIECES[Math.floor(random() * PIECES.length)];
  }
  return out;
}
