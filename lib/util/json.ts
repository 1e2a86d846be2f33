/**
 * JSON helpers: extracting the first JSON object from model text, parsing a JSON document
 * against a schema with errors that name the source and field, and stable (key-sorted)
 * serialisation for hashing.
 *
 * @module
 */
import type { z } from "zod";
import { ConfigError, describeSchemaIssue } from "./errors.ts";

/**
 * Parses a JSON document and validates it with `schema`. Invalid JSON or a schema mismatch
 * throws a {@linkcode ConfigError} that names `source` (and the field; `whole` stands for
 * it when the problem is with the document itself).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { parseJsonAs } from "./json.ts";
 * const v = parseJsonAs('{"a": 1}', "a.json", z.object({ a: z.number() }), "(file)");
 * if (v.a !== 1) throw new Error("unexpected");
 * try {
 *   parseJsonAs('{"a": "x"}', "a.json", z.object({ a: z.number() }), "(file)");
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!(e as Error).message.startsWith("a.json: a: ")) throw e;
 * }
 * ```
 */
export function parseJsonAs<S extends z.ZodType>(
  text: string,
  source: string,
  schema: S,
  whole: string,
): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source}: invalid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(`${source}: ${describeSchemaIssue(parsed.error, whole)}`);
  }
  return parsed.data;
}

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
 * JSON with object keys sorted at every level, so equal values serialise equally. The
 * output is exactly `JSON.stringify` of a key-sorted copy (undefined and function members
 * dropped from objects, `null` in arrays), but written in one pass without the copy: cache
 * keys serialise every request, and long task contexts made the copy a measurable share
 * of a call's CPU.
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
  // Like JSON.stringify, a bare undefined (or function) serialises to undefined.
  return writeStable(value) as string;
}

function writeStable(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return Array.isArray(value)
        ? writeArray(value)
        : writeObject(value as Record<string, unknown>);
    case "bigint":
      // The same error JSON.stringify throws.
      return JSON.stringify(value);
    default:
      return undefined;
  }
}

function writeArray(items: readonly unknown[]): string {
  let out = "[";
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ",";
    out += writeStable(items[i]) ?? "null";
  }
  return out + "]";
}

function writeObject(object: Record<string, unknown>): string {
  let out = "{";
  let first = true;
  for (const key of sortedKeys(object)) {
    const text = writeStable(object[key]);
    if (text === undefined) continue;
    out += (first ? "" : ",") + JSON.stringify(key) + ":" + text;
    first = false;
  }
  return out + "}";
}

/**
 * The keys in the order a key-sorted copy lists them: JavaScript puts integer-like keys
 * ("0", "17") first, in numeric order, whatever the insertion order; the rest sorted.
 */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object).sort();
  if (!keys.some(isArrayIndex)) return keys;
  const indexes = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  return [...indexes, ...keys.filter((k) => !isArrayIndex(k))];
}

function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 48 && first <= 57 && /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}
