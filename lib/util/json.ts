/**
 * JSON helpers: extracting the first JSON object from model text, and stable
 * (key-sorted) serialisation for hashing.
 *
 * @module
 */

/**
 * Finds the first balanced top-level JSON object in `text` that parses, skipping
 * Markdown code fences and prose around it. Returns undefined when there is none.
 *
 * @example
 * ```ts
 * import { extractFirstJsonObject } from "./json.ts";
 * const v = extractFirstJsonObject('Sure: {"a": {"b": "}"}} hope it helps') as { a: { b: string } };
 * if (v.a.b !== "}") throw new Error("unexpected");
 * ```
 */
export function extractFirstJsonObject(text: string): unknown {
  for (let start = text.indexOf("{"); start !== -1; start = text.indexOf("{", start + 1)) {
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === "\\") escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === "{") depth++;
      else if (ch === "}") {
        depth--;
        if (depth === 0) {
          try {
            return JSON.parse(text.slice(start, i + 1));
          } catch {
            break;
          }
        }
      }
    }
  }
  return undefined;
}

/**
 * JSON with object keys sorted at every level, so equal values serialise equally.
 *
 * @example
 * ```ts
 * import { stableStringify } from "./json.ts";
 * if (stableStringify({ b: 1, a: [2, { d: 3, c: 4 }] }) !== '{"a":[2,{"c":4,"d":3}],"b":1}') {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
