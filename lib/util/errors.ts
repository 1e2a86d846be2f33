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

/**
 * The first problem a schema found, as `field.path: message` (`whole` stands for the field
 * when the problem is with the value itself), for error messages that name the field.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { describeSchemaIssue } from "./errors.ts";
 * const r = z.object({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: "x" } });
 * if (r.success || !describeSchemaIssue(r.error, "(row)").startsWith("a.b: ")) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function describeSchemaIssue(
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
  whole: string,
  fallback = "invalid",
): string {
  const issue = error.issues[0];
  const field = issue?.path.length ? issue.path.map(String).join(".") : whole;
  return `${field}: ${issue?.message ?? fallback}`;
}
