/**
 * The few pieces of Python behaviour LiveBench's math scorers depend on that JavaScript
 * does differently: slicing by code point (`s[-50:]`), `str.isdigit()`, `int(s)`, and an
 * error standing for an exception the upstream scorer would raise (upstream then records
 * an `eval_error` and scores 0).
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";

/**
 * An exception the upstream scorer raises on this input (a failed `assert`, `int()` on a
 * non-decimal digit, ...). Upstream's harness catches it and scores the answer 0.
 */
export class UpstreamEvalError extends Error {
  /** Creates the error; `message` names the Python exception it stands for. */
  constructor(message: string) {
    super(message);
    this.name = "UpstreamEvalError";
  }
}

/**
 * Python's `text[-n:]` for `n > 0`: the last `n` code points (JavaScript's `slice` counts
 * UTF-16 units, which differs when the tail holds astral characters such as emoji).
 *
 * @example
 * ```ts
 * import { lastCodePoints } from "./py.ts";
 * if (lastCodePoints("ab😀c", 2) !== "😀c" || lastCodePoints("ab", 5) !== "ab") throw new Error();
 * ```
 */
export function lastCodePoints(text: string, n: number): string {
  if (n <= 0) return "";
  let i = text.length;
  for (let count = 0; count < n && i > 0; count++) {
    const low = text.charCodeAt(i - 1);
    const high = i >= 2 ? text.charCodeAt(i - 2) : 0;
    i -= low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff ? 2 : 1;
  }
  return text.slice(i);
}

/** Python's `len(text)`: the number of code points. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const DECIMAL = /^\p{Nd}$/u;
// Characters with Unicode Numeric_Type=Digit (not Decimal): `str.isdigit()` is true for
// them but `int()` rejects them. JavaScript has no property for this; these are the ones a
// model plausibly writes (superscripts, subscripts, circled and parenthesised digits).
const DIGIT_NOT_DECIMAL =
  /^[\u00b2\u00b3\u00b9\u1369-\u1371\u19da\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247c\u2488-\u2490\u24ea\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792\u{10a40}-\u{10a43}\u{1f100}-\u{1f10a}]$/u;

/**
 * Python's `ch.isdigit()` for one character: decimal digits of any script plus the
 * superscript, subscript and circled digits.
 *
 * @example
 * ```ts
 * import { isPyDigit } from "./py.ts";
 * if (!isPyDigit("7") || !isPyDigit("²") || !isPyDigit("٣") || isPyDigit("a")) throw new Error();
 * ```
 */
export function isPyDigit(ch: string): boolean {
  return DECIMAL.test(ch) || DIGIT_NOT_DECIMAL.test(ch);
}

// The value of a decimal digit: decimal digits come in runs of ten consecutive code
// points starting at zero, so the offset from the start of its run, modulo 10, is its value.
function decimalValue(cp: number): number {
  let start = cp;
  while (start > 0 && DECIMAL.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

/**
 * Python's `int(text)` in base 10, as a canonical decimal string (so huge values compare
 * exactly), or `undefined` where Python raises `ValueError`. Accepts surrounding
 * whitespace, a sign, decimal digits of any script and single `_` between digits.
 *
 * @example
 * ```ts
 * import { pyInt } from "./py.ts";
 * if (pyInt(" +007 ") !== "7" || pyInt("-0") !== "0" || pyInt("1_000") !== "1000") throw new Error();
 * if (pyInt("²") !== undefined || pyInt("") !== undefined || pyInt("1.0") !== undefined) throw new Error();
 * ```
 */
export function pyInt(text: string): string | undefined {
  const s = pyStrip(text);
  const m = /^([+-]?)(\p{Nd}+(?:_\p{Nd}+)*)$/u.exec(s);
  if (m === null) return undefined;
  let digits = "";
  for (const ch of (m[2] ?? "").replaceAll("_", "")) {
    const cp = ch.codePointAt(0) ?? 48;
    digits += cp >= 48 && cp <= 57 ? ch : String(decimalValue(cp));
  }
  digits = digits.replace(/^0+(?=\d)/, "");
  return m[1] === "-" && digits !== "0" ? `-${digits}` : digits;
}
