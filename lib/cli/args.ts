/**
 * Command-line pieces the subcommands share: one vocabulary of flag names (with the old
 * spellings kept for a release, each with a note), parsing flags with errors a user can
 * act on, the one-run-directory argument, and integer flags.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { RunConfig } from "../run/config.ts";
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
 * `--run-dir` is every directory of results a command writes (`optimize`, `evaluate`,
 * `compare`, `experiment`, `demo`). Add a command's old spellings here; `parseCommandArgs`
 * applies them.
 */
export const FLAG_ALIASES: Readonly<Record<string, readonly FlagAlias[]>> = {
  compare: [{ old: "out", now: "run-dir" }],
  evaluate: [{ old: "out", now: "run-dir" }],
};

/**
 * The help lines of flags that mean the same in every command, so they read the same: the
 * flag, its placeholder and what it is. What differs between commands (a default, a detail)
 * is the `note` a command adds ({@linkcode flagHelp}).
 *
 * @example
 * ```ts
 * import { flagHelp } from "./args.ts";
 * if (!flagHelp("seed").startsWith("  --seed S ")) throw new Error(flagHelp("seed"));
 * ```
 */
export const SHARED_FLAGS = {
  "run-dir": "--run-dir DIR         directory of the results this command writes",
  "data-dir": "--data-dir DIR        the tasks' data directory",
  seed: "--seed S              seed of every random draw",
  cache: "--cache FILE          response cache",
  concurrency: "--concurrency C       model calls in flight",
  limits:
    "--limit-train N, --limit-dev N, --limit-test N   the first N examples of a split, or all",
  config: "--config FILE         settings from a JSON RunConfig (flags override it)",
  "dry-run": "--dry-run             print what would run and what it would cost, then exit",
  quiet: "--quiet               no progress output",
  json: "--json                print JSON instead of text",
} as const;

/** Where a help line's text begins: two spaces, then the flag column. */
const HELP_TEXT_COLUMN = 24;

/**
 * The help line of a shared flag, indented as commands list their flags, with the command's
 * `note` after it; a note that begins with a newline continues on the next line, under the
 * text.
 *
 * @example
 * ```ts
 * import { flagHelp } from "./args.ts";
 * const line = flagHelp("concurrency", " (default 16)");
 * if (line !== "  --concurrency C       model calls in flight (default 16)") throw new Error(line);
 * const two = flagHelp("seed", "\n(default 0)").split("\n");
 * if (two[1] !== `${" ".repeat(24)}(default 0)`) throw new Error(two[1]);
 * ```
 */
export function flagHelp(name: keyof typeof SHARED_FLAGS, note = ""): string {
  const rest = note.replaceAll("\n", `\n${" ".repeat(HELP_TEXT_COLUMN)}`);
  return `  ${SHARED_FLAGS[name]}${rest}`;
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
    return parseArgs({ ...config, args: joinNegativeValues({ ...config, args }) } as T);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}${usageHint}`);
  }
}

/** A value that `parseArgs` would take for a flag of its own: `-2`, `-0.5`, `-.5`, `-Infinity`. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/**
 * The arguments with `--flag -2` written as `--flag=-2` for string options, so that a
 * negative number reaches the flag's own range check (`parseArgs` alone calls it ambiguous).
 *
 * @example
 * ```ts
 * import { joinNegativeValues } from "./args.ts";
 * const args = joinNegativeValues({
 *   args: ["--iterations", "-2", "--quiet", "-h"],
 *   options: { iterations: { type: "string" }, quiet: { type: "boolean" } },
 * });
 * if (args.join(" ") !== "--iterations=-2 --quiet -h") throw new Error(args.join(" "));
 * ```
 */
export function joinNegativeValues(config: ParseArgsConfig): string[] {
  const args = config.args ?? Deno.args;
  const options = config.options ?? {};
  const shortNames = new Map(
    Object.entries(options).flatMap(([name, o]) => o.short ? [[o.short, name]] : []),
  );
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : shortNames.get(arg.slice(1));
    const takesValue = arg.startsWith("-") && !arg.includes("=") && name !== undefined &&
      options[name]?.type === "string";
    if (takesValue && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
    if (arg === "--") {
      out.push(...args.slice(i + 1));
      break;
    }
  }
  return out;
}

/** What a numeric flag accepts: an integer or any finite number, within bounds. */
export interface NumberRange {
  integer?: boolean;
  /** Lowest accepted value (inclusive unless `exclusiveMin`). */
  min?: number;
  exclusiveMin?: boolean;
  /** Highest accepted value (inclusive). */
  max?: number;
}

/**
 * What a range accepts, in words: `an integer from 1 to 1000`, `a number > 0`.
 *
 * @example
 * ```ts
 * import { describeRange } from "./args.ts";
 * if (describeRange({ integer: true, min: 1, max: 1000 }) !== "an integer from 1 to 1000") throw new Error();
 * if (describeRange({ min: 0, exclusiveMin: true }) !== "a number > 0") throw new Error();
 * if (describeRange({ integer: true }) !== "an integer") throw new Error();
 * if (describeRange({ integer: true, min: 1 }) !== "a positive integer") throw new Error();
 * ```
 */
export function describeRange(range: NumberRange): string {
  const kind = range.integer ? "an integer" : "a number";
  const { min, max } = range;
  const hasMin = min !== undefined && Number.isFinite(min);
  const hasMax = max !== undefined && Number.isFinite(max);
  if (range.integer && !hasMax && !range.exclusiveMin && (min === 0 || min === 1)) {
    return min === 1 ? "a positive integer" : "a non-negative integer";
  }
  if (hasMin && hasMax && !range.exclusiveMin) return `${kind} from ${min} to ${max}`;
  const parts = [
    ...(hasMin ? [`${range.exclusiveMin ? ">" : ">="} ${min}`] : []),
    ...(hasMax ? [`<= ${max}`] : []),
  ];
  return parts.length === 0 ? kind : `${kind} ${parts.join(" and ")}`;
}

/**
 * The value of a numeric flag checked against `range`, or undefined when it is absent. Zero,
 * negative and non-numeric values outside the range all get the same one-line error:
 * `--iterations: expected an integer from 1 to 1000, got "-2"`.
 *
 * @example
 * ```ts
 * import { rangedFlag } from "./args.ts";
 * if (rangedFlag("3", "iterations", { integer: true, min: 1, max: 1000 }) !== 3) throw new Error();
 * for (const bad of ["0", "-2", "x", "1.5", ""]) {
 *   try {
 *     rangedFlag(bad, "iterations", { integer: true, min: 1, max: 1000 });
 *     throw new Error("accepted");
 *   } catch (e) {
 *     const expected = `--iterations: expected an integer from 1 to 1000, got "${bad}"`;
 *     if ((e as Error).message !== expected) throw e;
 *   }
 * }
 * ```
 */
export function rangedFlag(
  value: string | undefined,
  flag: string,
  range: NumberRange,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok = value.trim() !== "" && Number.isFinite(n) &&
    (!range.integer || Number.isInteger(n)) &&
    (range.min === undefined || (range.exclusiveMin ? n > range.min : n >= range.min)) &&
    (range.max === undefined || n <= range.max);
  if (!ok) throw new ConfigError(`--${flag}: expected ${describeRange(range)}, got "${value}"`);
  return n;
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
  return rangedFlag(value, flag, { integer: true }) ?? fallback;
}

/** The value of a flag that must be a positive integer, or `fallback` when it is absent. */
export function positiveIntFlag(
  value: string | undefined,
  flag: string,
  fallback: number,
): number {
  return rangedFlag(value, flag, { integer: true, min: 1 }) ?? fallback;
}

/**
 * The range a zod number schema accepts (through `.optional()` and `.default()`), so that a
 * flag's error states the same bounds as the config field it sets; undefined for a schema
 * that is not a number.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { describeRange, schemaRange } from "./args.ts";
 * const r = schemaRange(z.number().int().min(1).max(1000).default(10));
 * if (describeRange(r!) !== "an integer from 1 to 1000") throw new Error();
 * if (describeRange(schemaRange(z.number().positive().optional())!) !== "a number > 0") throw new Error();
 * if (describeRange(schemaRange(z.number().int().default(0))!) !== "an integer") throw new Error();
 * ```
 */
export function schemaRange(schema: z.ZodType | undefined): NumberRange | undefined {
  let inner: unknown = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) inner = inner.unwrap();
  if (!(inner instanceof z.ZodNumber)) return undefined;
  const min = inner.minValue ?? undefined;
  const max = inner.maxValue ?? undefined;
  const range: NumberRange = { integer: inner.isInt === true };
  // An integer schema's implicit safe-integer bounds are no range a person gave.
  const given = (x: number | undefined): x is number =>
    x !== undefined && Number.isFinite(x) && Math.abs(x) < Number.MAX_SAFE_INTEGER;
  if (given(min)) {
    range.min = min;
    // The schema says whether its bound is inclusive: ask it about the bound itself.
    if (!inner.safeParse(min).success) range.exclusiveMin = true;
  }
  if (given(max)) range.max = max;
  return range;
}

/** Flags whose `RunConfig` field is not their camel-cased name. */
const RENAMED_FLAGS: Record<string, string> = {
  timeout: "timeoutSeconds",
  "max-backoff": "backoffMaxSeconds",
  "batch-poll": "batchPollSeconds",
};

/**
 * The `RunConfig` field a flag sets, by name (`--memory-k` sets `memoryK`, `--limit-dev`
 * sets `limits.dev`); undefined for a flag that sets no field of that name.
 */
export function runConfigField(flag: string): z.ZodType | undefined {
  const limit = /^limit-(train|dev|test)$/.exec(flag)?.[1] as "train" | "dev" | "test" | undefined;
  if (limit !== undefined) return RunConfig.shape.limits.unwrap().shape[limit];
  const key = RENAMED_FLAGS[flag] ?? flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return (RunConfig.shape as Record<string, z.ZodType>)[key];
}

/**
 * The value of a numeric flag that sets a `RunConfig` field, checked against the field's
 * own bounds, so that `--iterations -2`, `0` and `abc` get the one range error the config
 * would give (see {@linkcode rangedFlag}).
 *
 * @example
 * ```ts
 * import { runConfigFlag } from "./args.ts";
 * if (runConfigFlag("4", "concurrency", { integer: true }) !== 4) throw new Error();
 * const message = (() => {
 *   try {
 *     return String(runConfigFlag("-2", "iterations", { integer: true }));
 *   } catch (e) {
 *     return (e as Error).message;
 *   }
 * })();
 * if (message !== '--iterations: expected an integer from 1 to 1000, got "-2"') throw new Error(message);
 * ```
 */
export function runConfigFlag(
  value: string | undefined,
  flag: string,
  opts: { integer?: boolean } = {},
): number | undefined {
  // Most flags are absent: their range (zod introspection, cold at start-up) is never needed.
  if (value === undefined) return undefined;
  const range = schemaRange(runConfigField(flag)) ?? {};
  return rangedFlag(value, flag, opts.integer ? { ...range, integer: true } : range);
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

/** What `parseArgs` gives for the split limits. */
export interface LimitFlagValues {
  "limit-train"?: string;
  "limit-dev"?: string;
  "limit-test"?: string;
}

/**
 * Writes `--limit-train/--limit-dev/--limit-test` into a config input's `limits`, over what a
 * config file gave: a count sets the split's limit, `all` (or the old `0`, with a note)
 * removes it, so that every example is used.
 *
 * @example
 * ```ts
 * import { applyLimitFlags } from "./args.ts";
 * const base: Record<string, unknown> = { limits: { train: 5, dev: 5 } };
 * applyLimitFlags({ "limit-dev": "all", "limit-test": "7" }, base);
 * if (JSON.stringify(base.limits) !== '{"train":5,"test":7}') throw new Error(JSON.stringify(base));
 * ```
 */
export function applyLimitFlags(
  values: LimitFlagValues,
  base: Record<string, unknown>,
  warn?: (message: string) => void,
): void {
  const limits: Record<string, number> = { ...(base.limits as Record<string, number>) };
  let given = false;
  for (const split of ["train", "dev", "test"] as const) {
    const flag = `limit-${split}` as const;
    if (values[flag] === undefined) continue;
    given = true;
    const n = limitFlag(values[flag], flag, undefined, warn);
    if (n === undefined) delete limits[split];
    else limits[split] = n;
  }
  if (given) base.limits = limits;
}
