/**
 * Command-line pieces the subcommands share: parsing flags with errors a user can act on,
 * the one-run-directory argument, and integer flags.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../util/errors.ts";

/**
 * `parseArgs` of `node:util`, with an unknown or malformed flag reported as a
 * {@linkcode ConfigError}: the parser's message followed by `usageHint` (the help text, or a
 * pointer to `--help`).
 *
 * @example
 * ```ts
 * import { parseCommandArgs } from "./args.ts";
 * const { values } = parseCommandArgs({ args: ["--json"], options: { json: { type: "boolean" } } }, "");
 * if (values.json !== true) throw new Error("unexpected");
 * try {
 *   parseCommandArgs({ args: ["--nope"], options: {} }, " (see 'rpt x --help')");
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!(e as Error).message.endsWith(" (see 'rpt x --help')")) throw e;
 * }
 * ```
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  config: T,
  usageHint: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}${usageHint}`);
  }
}

/**
 * The single run directory a command takes; `usage` (e.g. `rpt show RUN_DIR`) names the
 * command in the error when there is none or more than one.
 */
export function exactlyOneRunDir(positionals: readonly string[], usage: string): string {
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1) {
    throw new ConfigError(`expected exactly one run directory: ${usage}`);
  }
  return dir;
}

/**
 * The value of an integer flag, or `fallback` when it is absent.
 *
 * @example
 * ```ts
 * import { integerFlag } from "./args.ts";
 * if (integerFlag("-3", "seed", 0) !== -3 || integerFlag(undefined, "seed", 7) !== 7) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function integerFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`--${flag}: expected an integer, got "${value}"`);
  return n;
}

/** The value of a flag that must be a positive integer, or `fallback` when it is absent. */
export function positiveIntFlag(
  value: string | undefined,
  flag: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`--${flag}: expected a positive integer, got "${value}"`);
  }
  return n;
}
