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
