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
 * of a call's CPU. `toJSON` methods are not called (no request has one).
 *
 * An object that is deep-frozen (frozen, with only data properties, down to its leaves: a
 * task's output schema, sent with every call) cannot change, so its text is worked out
 * once and remembered; nothing else is remembered.
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
  const text = new TextSink();
  // Like JSON.stringify, a bare undefined (or function) serialises to undefined.
  return (writeStable(value, text) ? text.text : undefined) as string;
}

/**
 * Receives {@linkcode writeStableTo}'s text in pieces, in order; the pieces joined are
 * {@linkcode stableStringify}'s text. A hash can take them one by one (hashing the pieces
 * in turn gives the digest of their concatenation) and skip building the whole text.
 */
export interface StableSink {
  /** Appends one piece of the text. */
  write(piece: string): void;
}

/**
 * Writes {@linkcode stableStringify}'s text of `value` to `sink`, piece by piece; returns
 * false (and writes nothing) for a value JSON has no text for (undefined, a function).
 *
 * @example
 * ```ts
 * import { stableStringify, writeStableTo } from "./json.ts";
 * const pieces: string[] = [];
 * writeStableTo({ b: "x", a: [1] }, { write: (p) => pieces.push(p) });
 * if (pieces.join("") !== stableStringify({ a: [1], b: "x" })) throw new Error("unexpected");
 * ```
 */
export function writeStableTo(value: unknown, sink: StableSink): boolean {
  return writeStable(value, sink);
}

/** A sink that collects the text as one string. */
class TextSink implements StableSink {
  text = "";
  write(piece: string): void {
    this.text += piece;
  }
}

function writeStable(value: unknown, sink: StableSink): boolean {
  switch (typeof value) {
    case "string":
      sink.write(JSON.stringify(value));
      return true;
    case "number":
      sink.write(Number.isFinite(value) ? String(value) : "null");
      return true;
    case "boolean":
      sink.write(value ? "true" : "false");
      return true;
    case "object":
      if (value === null) sink.write("null");
      else if (Object.isFrozen(value)) sink.write(frozenText(value));
      else if (Array.isArray(value)) writeArray(value, sink);
      else writeObject(value as Record<string, unknown>, sink);
      return true;
    case "bigint":
      // The same error JSON.stringify throws.
      sink.write(JSON.stringify(value));
      return true;
    default:
      return false;
  }
}

function writeArray(items: readonly unknown[], sink: StableSink): void {
  sink.write("[");
  for (let i = 0; i < items.length; i++) {
    if (i > 0) sink.write(",");
    if (!writeStable(items[i], sink)) sink.write("null");
  }
  sink.write("]");
}

function writeObject(object: Record<string, unknown>, sink: StableSink): void {
  let separator = "{";
  for (const key of sortedKeys(object)) {
    const item = object[key];
    // What writeStable would drop, checked first so that nothing is written for it.
    const type = typeof item;
    if (type === "undefined" || type === "function" || type === "symbol") continue;
    sink.write(separator + quotedKey(key));
    writeStable(item, sink);
    separator = ",";
  }
  sink.write(separator === "{" ? "{}" : "}");
}

/** Keys seen, quoted: requests use a few dozen names over and over. */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    if (quotedKeys.size >= 4096) quotedKeys.clear();
    quotedKeys.set(key, quoted = JSON.stringify(key) + ":");
  }
  return quoted;
}

/**
 * The keys in the order a key-sorted copy lists them: JavaScript puts integer-like keys
 * ("0", "17") first, in numeric order, whatever the insertion order; the rest sorted by
 * UTF-16 code units (what `Array.prototype.sort` and `<` compare).
 */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  let indexes = false;
  for (let i = 0; i < keys.length; i++) {
    if (isArrayIndex(keys[i] as string)) {
      indexes = true;
      break;
    }
  }
  if (indexes) {
    // Rare in a request (a record keyed by numbers); a key-sorted copy lists them first.
    const numeric = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
    return [...numeric, ...keys.filter((k) => !isArrayIndex(k)).sort()];
  }
  if (keys.length > 12) return keys.sort();
  // Insertion sort: the objects of a request have a handful of keys, and a built-in sort
  // costs more to set up than this costs to run.
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 48 && first <= 57 && /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}

/** Texts of deep-frozen objects; `false` for frozen objects found not to be deep-frozen. */
const frozenTexts = new WeakMap<object, string | false>();

/** The text of a frozen object: remembered when it is frozen all the way down. */
function frozenText(value: object): string {
  const known = frozenTexts.get(value);
  if (typeof known === "string") return known;
  const sink = new TextSink();
  if (Array.isArray(value)) writeArray(value, sink);
  else writeObject(value as Record<string, unknown>, sink);
  if (known === undefined) frozenTexts.set(value, isDeepFrozen(value) ? sink.text : false);
  return sink.text;
}

/**
 * True when nothing {@linkcode stableStringify} reads from `value` can change: it is frozen
 * and every enumerable own property is a data property (a getter could answer differently
 * each time) holding a primitive or a deep-frozen object.
 */
function isDeepFrozen(value: object): boolean {
  if (!Object.isFrozen(value)) return false;
  const known = frozenTexts.get(value);
  if (typeof known === "string") return true;
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !("value" in descriptor)) return false;
    const item: unknown = descriptor.value;
    if (typeof item === "object" && item !== null && !isDeepFrozen(item)) return false;
  }
  return true;
}
