/**
 * Small pieces of Python's string, number and JSON behaviour that the upstream scorers and
 * split scripts rely on, so that TypeScript gives the same answers byte for byte:
 * `str.split()` / `str.strip()` whitespace, `float(text)`, and `json.dumps(...,
 * ensure_ascii=False)`.
 *
 * @module
 */

/** Python's `str.isspace()` characters (differs from JS `\s`: adds \x1c-\x1f and \x85, drops \ufeff). */
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f" +
  "\\u205f\\u3000";
const SPLIT_RE = new RegExp(`[${PY_SPACE}]+`, "u");
const STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
const RSTRIP_RE = new RegExp(`[${PY_SPACE}]+$`, "u");

/**
 * Python's `s.split()` with no argument: split on runs of whitespace, no empty parts.
 *
 * @example
 * ```ts
 * import { pySplit } from "./python.ts";
 * if (pySplit("  a\x1cb  c ").join("|") !== "a|b|c") throw new Error("unexpected");
 * ```
 */
export function pySplit(text: string): string[] {
  return text.split(SPLIT_RE).filter((part) => part !== "");
}

/** Python's `s.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, "");
}

/** Python's `s.rstrip()` with no argument. */
export function pyRstrip(text: string): string {
  return text.replace(RSTRIP_RE, "");
}

/**
 * Python's `float(text)`: surrounding whitespace, a sign, `_` between digits, `inf`,
 * `infinity` and `nan` (any case) are accepted; anything else gives undefined (where
 * Python raises `ValueError`). Only ASCII digits are accepted.
 *
 * @example
 * ```ts
 * import { pyFloat } from "./python.ts";
 * if (pyFloat(" 5_000.0 ") !== 5000 || pyFloat("5,000") !== undefined) throw new Error("unexpected");
 * ```
 */
export function pyFloat(text: string): number | undefined {
  const s = pyStrip(text);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2]?.toLowerCase() === "nan") return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  const digits = "\\d(?:_?\\d)*";
  const re = new RegExp(
    `^[+-]?(?:${digits}\\.(?:${digits})?|\\.${digits}|${digits})(?:[eE][+-]?${digits})?$`,
  );
  if (!re.test(s)) return undefined;
  return Number(s.replaceAll("_", ""));
}

/** Options for {@linkcode pyJsonDumps}. */
export interface PyJsonOptions {
  /**
   * Object keys whose numeric values were Python floats: JSON parsing loses the
   * difference between `1.0` and `1`, which `json.dumps` keeps.
   */
  floatKeys?: ReadonlySet<string>;
}

/**
 * `json.dumps(value, ensure_ascii=False)` (default separators `, ` and `: `), so that
 * rebuilt files match the upstream bytes and their sha256.
 *
 * @example
 * ```ts
 * import { pyJsonDumps } from "./python.ts";
 * const s = pyJsonDumps({ a: [1, "é\n"], h: 1 }, { floatKeys: new Set(["h"]) });
 * if (s !== '{"a": [1, "é\\n"], "h": 1.0}') throw new Error(s);
 * ```
 */
export function pyJsonDumps(value: unknown, options: PyJsonOptions = {}): string {
  return dump(value, options.floatKeys ?? new Set(), false);
}

function dump(value: unknown, floatKeys: ReadonlySet<string>, asFloat: boolean): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return asFloat ? pyFloatRepr(value) : pyNumber(value);
  if (typeof value === "string") return pyString(value);
  if (Array.isArray(value)) {
    return `[${value.map((v) => dump(v, floatKeys, asFloat)).join(", ")}]`;
  }
  if (typeof value === "object") {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) =>
      `${pyString(k)}: ${dump(v, floatKeys, floatKeys.has(k))}`
    );
    return `{${parts.join(", ")}}`;
  }
  throw new TypeError(`cannot serialise ${typeof value}`);
}

function pyNumber(n: number): string {
  return Number.isInteger(n) ? BigInt(n).toString() : pyFloatRepr(n);
}

/** Python's `repr(float)`: shortest round-trip digits, `.0` on integers, exponent from 1e16. */
function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(n);
  if (abs >= 1e16 || abs < 1e-4) {
    const [mantissa, exponent] = n.toExponential().split("e") as [string, string];
    const exp = Number(exponent);
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const text = String(n);
  return text.includes(".") ? text : `${text}.0`;
}

function pyString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (code < 0x20) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
