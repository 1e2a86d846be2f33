/**
 * `--config FILE` of `rpt optimize` and `rpt evaluate`: a JSON object of {@linkcode RunConfig}
 * fields that flags override. Whatever is wrong with the file (unreadable, not JSON, not an
 * object, a field the config does not accept) is one {@linkcode ConfigError} naming the file,
 * before any flag is applied, so that a bad field is never blamed on a flag or hidden by one.
 *
 * @module
 */
import { RunConfig } from "../run/config.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";

const FileFields = RunConfig.partial();

/**
 * The settings of a `--config` file, checked field by field (required fields may come from
 * flags, so none is required here).
 *
 * @example
 * ```ts
 * import { readConfigFile } from "./config_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, JSON.stringify({ iterations: "many" }));
 * const message = await readConfigFile(path).then(() => "", (e: Error) => e.message);
 * if (!message.startsWith(`--config ${path}: iterations: `)) throw new Error(message);
 * await Deno.remove(path);
 * ```
 */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(`--config ${path}: cannot read: ${readFailure(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--config ${path}: not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`--config ${path}: expected a JSON object of run settings`);
  }
  const checked = FileFields.safeParse(value);
  if (!checked.success) {
    throw new ConfigError(`--config ${path}: ${describeSchemaIssue(checked.error, "(config)")}`);
  }
  return value as Record<string, unknown>;
}

/** Why a file could not be read, in words. */
function readFailure(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "file not found";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory, not a file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return (error as Error).message;
}
