/**
 * Hints the user can type: messages name commands as `rpt show DIR`, and this module writes
 * them the way this CLI was started, so that what is printed can be pasted:
 *
 * - `deno task rpt ...` when started by `deno task rpt` (the task sets `RPT_INVOKED_AS`);
 * - `npx -y deno@<version> task rpt ...` when that ran under `npx` without a `deno` on PATH;
 * - `rpt ...` when an `rpt` is on the PATH (`deno install -g -A -n rpt --config deno.json
 *   lib/cli.ts`, the README's install line);
 * - otherwise `deno run -A <path to lib/cli.ts> ...`.
 *
 * @module
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The commands a hint can name (a word after `rpt ` that is none of these is left alone). */
export const HINTED_COMMANDS: readonly string[] = [
  "optimize",
  "resume",
  "show",
  "report",
  "analyze",
  "compare",
  "experiment",
  "table",
  "evaluate",
  "score",
  "data:fetch",
  "data:check",
  "sim-server",
  "demo",
  "help",
];

const MENTION = new RegExp(
  `(^|[\\s'"\`(])rpt(?= (?:${HINTED_COMMANDS.join("|")})(?![\\w:-]))`,
  "g",
);

/** Where to look for the environment and the PATH (the process's by default). */
export interface InvocationEnv {
  get(name: string): string | undefined;
  /** Whether an executable of this name is on the PATH. */
  onPath(name: string): boolean;
  /** The working directory, for the `deno run` form's path. */
  cwd(): string;
}

function onPath(name: string): boolean {
  let path: string | undefined;
  try {
    path = Deno.env.get("PATH");
  } catch {
    return false;
  }
  for (const dir of (path ?? "").split(":")) {
    if (dir === "") continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

const processEnv: InvocationEnv = {
  get(name) {
    try {
      const v = Deno.env.get(name)?.trim();
      return v === "" ? undefined : v;
    } catch {
      return undefined;
    }
  },
  onPath,
  cwd: () => Deno.cwd(),
};

/**
 * How the user started this CLI, as the words to type before a command.
 *
 * @example
 * ```ts
 * import { invocation } from "./hints.ts";
 * const env = (vars: Record<string, string>, path: string[] = []) => ({
 *   get: (n: string) => vars[n], onPath: (n: string) => path.includes(n), cwd: () => "/repo",
 * });
 * if (invocation(env({ RPT_INVOKED_AS: "deno task rpt" }, ["deno"])) !== "deno task rpt") throw new Error();
 * if (invocation(env({}, ["rpt"])) !== "rpt") throw new Error();
 * ```
 */
export function invocation(env: InvocationEnv = processEnv): string {
  const marked = env.get("RPT_INVOKED_AS");
  if (marked !== undefined) {
    // `npx -y deno@X task rpt`: there is no `deno` to type afterwards, so say npx again.
    if (marked.startsWith("deno ") && !env.onPath("deno") && env.get("npm_command") === "exec") {
      return `npx -y deno@${Deno.version.deno} ${marked.slice("deno ".length)}`;
    }
    return marked;
  }
  if (env.onPath("rpt")) return "rpt";
  const cli = fileURLToPath(new URL("../cli.ts", import.meta.url));
  const shown = relative(env.cwd(), cli);
  return `deno run -A ${shown.startsWith("..") ? cli : shown}`;
}

/**
 * `text` with every command it names (`rpt show DIR`, `'rpt resume DIR'`) written the way
 * this CLI was started ({@linkcode invocation}).
 *
 * @example
 * ```ts
 * import { hint } from "./hints.ts";
 * const text = hint("continue with: rpt resume runs/x (or 'rpt show runs/x'); rpt.ts stays", "deno task rpt");
 * if (text !== "continue with: deno task rpt resume runs/x (or 'deno task rpt show runs/x'); rpt.ts stays") {
 *   throw new Error(text);
 * }
 * ```
 */
export function hint(text: string, prefix: string = invocation()): string {
  return prefix === "rpt"
    ? text
    : text.replace(MENTION, (_m, before: string) => `${before}${prefix}`);
}
