/**
 * Error classes that the CLI turns into one clear line.
 *
 * @module
 */

/**
 * Bad configuration or input detected before any paid call: an unknown task, a bad model
 * spec, a missing key, an unreadable data directory, a malformed data line. The message
 * names the file, line or field and what was expected.
 */
export class ConfigError extends Error {
  /** Creates a configuration error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** The shape of a schema issue this module reads (zod's, without depending on zod). */
interface SchemaIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  expected?: unknown;
  errors?: readonly (readonly SchemaIssue[])[];
}

/** What a value that was not received is: zod words it "received undefined". */
const NOT_RECEIVED = /\breceived undefined\b/;

/**
 * The expected types when every alternative of a union failed on the value itself (not on
 * a field inside it), and whether the value was missing; undefined for any other issue.
 */
function unionOfTypes(issue: SchemaIssue): { types: string[]; missing: boolean } | undefined {
  if (issue.code !== "invalid_union" || !issue.errors?.length) return undefined;
  const types: string[] = [];
  let missing = true;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (branch.length !== 1 || first === undefined || first.path.length > 0) return undefined;
    if (first.code !== "invalid_type" || typeof first.expected !== "string") return undefined;
    if (!types.includes(first.expected)) types.push(first.expected);
    missing &&= NOT_RECEIVED.test(first.message);
  }
  return { types, missing };
}

/** One issue in words: "missing" for an absent value, the expected types for a union. */
function issueText(issue: SchemaIssue): string {
  const union = unionOfTypes(issue);
  if (union !== undefined) {
    const expected = union.types.join(" or ");
    if (union.missing) return `missing (expected ${expected})`;
    const received = /received (\S+)$/.exec(issue.errors?.[0]?.[0]?.message ?? "")?.[1];
    return `expected ${expected}${received ? `, received ${received}` : ""}`;
  }
  if (issue.code === "invalid_type" && NOT_RECEIVED.test(issue.message)) {
    return typeof issue.expected === "string" ? `missing (expected ${issue.expected})` : "missing";
  }
  return issue.message.replace(/^Invalid input: /, "");
}

/**
 * The first problem a schema found, as `field.path: message` (`whole` stands for the field
 * when the problem is with the value itself), for error messages that name the field. A
 * field that is absent reads `missing (expected ...)`, and a union names its types, rather
 * than the parser's bare "Invalid input".
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { describeSchemaIssue } from "./errors.ts";
 * const r = z.object({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: "x" } });
 * if (r.success || describeSchemaIssue(r.error, "(row)") !== "a.b: expected number, received string") {
 *   throw new Error("unexpected");
 * }
 * const row = z.object({ answer: z.union([z.string(), z.number()]) }).safeParse({});
 * if (row.success || describeSchemaIssue(row.error, "(row)") !== "answer: missing (expected string or number)") {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function describeSchemaIssue(
  error: { issues: readonly SchemaIssue[] },
  whole: string,
  fallback = "invalid",
): string {
  const issue = error.issues[0];
  const field = issue?.path.length ? issue.path.map(String).join(".") : whole;
  return `${field}: ${issue === undefined ? fallback : issueText(issue)}`;
}
