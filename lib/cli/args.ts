/**
 * Command-line pieces the subcommands share: one vocabulary of flag names (with the old
 * spellings kept for a release, each with a note), parsing flags with errors a user can
 * act on, the one-run-directory argument, and integer flags.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../util/errors.ts";

/** An old spelling of a flag: still accepted for one release, with a note on stderr. */
export interface FlagAlias {
  /** The old flag name, without dashes. */
  old: string;
  /** The name it became. */
  now: string;
}

/**
 * One name per concept across commands, and the old spellings each command still accepts.
 * `--run-dir` is every directory of results a command writes (`optimize`, `compare`,
 * `experiment`). Add a command's old spellings here; `parseCommandArgs` applies them.
 */
export const FLAG_ALIASES: Readonly<Record<string, readonly FlagAlias[]>> = {
  compare: [{ old: "out", now: "run-dir" }],
};

/**
 * The help lines of flags that mean the same in every command, so they read the same.
 *
 * @example
 * ```ts
 * import { flagHelp } from "./args.ts";
 * if (!flagHelp("seed").startsWith("  --seed S ")) throw new Error(flagHelp("seed"));
 * ```
 */
export const SHARED_FLAGS = {
  "run-dir": "--run-dir D           directory of the results this command writes",
  "data-dir": "--data-dir DIR        data directory (default RPT_DATA_DIR, then data/)",
  seed: "--seed S              seed of clustering, bootstrap and simulated models (default 0)",
  cache: "--cache FILE          response cache (default RPT_CACHE, then .rpt/cache.sqlite)",
  concurrency: "--concurrency C       model calls in flight",
  quiet: "--quiet               no progress output",
  json: "--json                print JSON instead of text",
} as const;

/** The help line of a shared flag, indented as commands list their flags. */
export function flagHelp(name: keyof typeof SHARED_FLAGS, note = ""): string {
  return `  ${SHARED_FLAGS[name]}${note}`;
}

/**
 * `args` with a command's old flag spellings ({@linkcode FLAG_ALIASES}) replaced by the
 * current ones, and one note per old spelling used (sent to `warn`).
 *
 * @example
 * ```ts
 * import { applyFlagAliases } from "./args.ts";
 * const notes: string[] = [];
 * const args = applyFlagAliases("compare", ["--out", "d", "--out=e"], (m) => notes.push(m));
 * if (args.join(" ") !== "--run-dir d --run-dir=e" || notes.length !== 1) throw new Error();
 * ```
 */
export function applyFlagAliases(
  command: string,
  args: readonly string[],
  warn: (message: string) => void = (m) => console.error(m),
): string[] {
  const aliases = FLAG_ALIASES[command] ?? [];
  const noted = new Set<string>();
  return args.map((arg) => {
    for (const a of aliases) {
      if (arg !== `--${a.old}` && !arg.startsWith(`--${a.old}=`)) continue;
      if (!noted.has(a.old)) {
        noted.add(a.old);
        warn(
          `rpt ${command}: --${a.old} is now --${a.now}; the old name still works in this ` +
            "release and will then be removed",
        );
      }
      return `--${a.now}${arg.slice(a.old.length + 2)}`;
    }
    return arg;
  });
}

/**
 * `parseArgs` of `node:util`, with an unknown or malformed flag reported as a
 * {@linkcode ConfigError}: the parser's message followed by `usageHint` (the help text, or a
 * pointer to `--help`). With `command`, that command's old flag spellings are accepted
 * ({@linkcode applyFlagAliases}).
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
  opts: { command?: string; warn?: (message: string) => void } = {},
): ReturnType<typeof parseArgs<T>> {
  const args = opts.command !== undefined && config.args !== undefined
    ? applyFlagAliases(opts.command, config.args, opts.warn)
    : config.args;
  try {
    return parseArgs({ ...config, args } as T);
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

/**
 * A split limit: a positive integer, or `all` (no limit, returned as undefined). `0` is the
 * old way of saying all: still accepted, with a note.
 *
 * @example
 * ```ts
 * import { limitFlag } from "./args.ts";
 * if (limitFlag("30", "limit-dev", 40) !== 30 || limitFlag("all", "limit-dev", 40) !== undefined) {
 *   throw new Error();
 * }
 * if (limitFlag(undefined, "limit-dev", 40) !== 40) throw new Error();
 * ```
 */
export function limitFlag(
  value: string | undefined,
  flag: string,
  fallback: number | undefined,
  warn: (message: string) => void = (m) => console.error(m),
): number | undefined {
  if (value === undefined) return fallback;
  if (value.trim().toLowerCase() === "all") return undefined;
  if (value.trim() === "0") {
    warn(`--${flag} 0: write --${flag} all for every example (0 still means all in this release)`);
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`--${flag}: expected a positive integer or 'all', got "${value}"`);
  }
  return n;
}
