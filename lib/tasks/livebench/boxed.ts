/**
 * Finding the last `\boxed{...}` in a text the way LiveBench's `process_results/util.py`
 * does (`last_boxed_only_string`, `remove_boxed`), quirks included: a `\boxed ` followed
 * by a space wins over any braced box and runs to the next `$`; `$` signs inside the box
 * are dropped; `\fbox` counts only when there is no `\boxed` at all.
 *
 * @module
 */
import { UpstreamEvalError } from "./py.ts";

/**
 * The last boxed expression with its `\boxed{` and `}` (or `\boxed ` prefix), or
 * `undefined` when there is none or its braces never close.
 *
 * @example
 * ```ts
 * import { lastBoxedOnlyString } from "./boxed.ts";
 * if (lastBoxedOnlyString("a \\boxed{1} b $\\boxed{\\frac{1}{2}}$") !== "\\boxed{\\frac{1}{2}}") {
 *   throw new Error();
 * }
 * if (lastBoxedOnlyString("\\boxed{x") !== undefined) throw new Error();
 * ```
 */
export function lastBoxedOnlyString(text: string): string | undefined {
  let idx = text.lastIndexOf("\\boxed");
  if (text.includes("\\boxed ")) {
    const parts = text.split("\\boxed ");
    return "\\boxed " + (parts[parts.length - 1] ?? "").split("$")[0];
  }
  if (idx < 0) {
    idx = text.lastIndexOf("\\fbox");
    if (idx < 0) return undefined;
  }
  let open = 0;
  for (let i = idx; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") open++;
    if (ch === "}") {
      open--;
      if (open === 0) {
        return text.slice(idx, i + 1).replaceAll("$", "").replaceAll("fbox", "boxed");
      }
    }
  }
  return undefined;
}

/**
 * The content of a boxed expression from {@linkcode lastBoxedOnlyString}. Throws
 * {@linkcode UpstreamEvalError} where upstream's `assert`s fail (e.g. `\boxedA}`).
 *
 * @example
 * ```ts
 * import { removeBoxed } from "./boxed.ts";
 * if (removeBoxed("\\boxed{x^2}") !== "x^2" || removeBoxed("\\boxed 5") !== "5") throw new Error();
 * ```
 */
export function removeBoxed(boxed: string): string {
  if (boxed.includes("\\boxed ")) {
    if (!boxed.startsWith("\\boxed ")) throw new UpstreamEvalError("AssertionError (remove_boxed)");
    return boxed.slice("\\boxed ".length);
  }
  if (!boxed.startsWith("\\boxed{") || !boxed.endsWith("}")) {
    throw new UpstreamEvalError("AssertionError (remove_boxed)");
  }
  return boxed.slice("\\boxed{".length, -1);
}
