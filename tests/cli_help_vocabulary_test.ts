/**
 * One vocabulary across every command: each command's `--help` is rendered (in one
 * subprocess started as `deno task rpt` starts it), and a flag that means the same in every
 * command has one spelling and one help line wherever it is taken; every command a help text
 * names is written the way rpt was started. And a scan of the CLI's source: a string that
 * names a command (`rpt resume DIR`) reaches the user only through `hint()` (directly, or
 * through the error printer, which applies it to every ConfigError).
 */
import assert from "node:assert/strict";
import { COMMAND_NAMES } from "../lib/cli.ts";
import { FLAG_ALIASES, SHARED_FLAGS } from "../lib/cli/args.ts";
import { HINTED_COMMANDS } from "../lib/cli/hints.ts";

const REPO = new URL("../", import.meta.url).pathname;

/** The flag each shared line is about, and a value it takes (none for a boolean flag). */
const PROBES: Record<keyof typeof SHARED_FLAGS, { flag: string; value?: string }> = {
  "run-dir": { flag: "run-dir", value: "x" },
  "data-dir": { flag: "data-dir", value: "x" },
  seed: { flag: "seed", value: "1" },
  cache: { flag: "cache", value: "x" },
  concurrency: { flag: "concurrency", value: "1" },
  limits: { flag: "limit-dev", value: "1" },
  config: { flag: "config", value: "x" },
  "dry-run": { flag: "dry-run" },
  quiet: { flag: "quiet" },
  json: { flag: "json" },
};

interface Rendered {
  help: Record<string, string>;
  /** For each command, the shared flags it accepts (its parser knows them). */
  takes: Record<string, string[]>;
  /** `rpt help`. */
  usage: string;
}

/** Every command's help and the shared flags it takes, from one subprocess. */
async function render(): Promise<Rendered> {
  const code = `
    const { main, COMMAND_NAMES } = await import(${JSON.stringify(`${REPO}lib/cli.ts`)});
    const probes = ${JSON.stringify(PROBES)};
    const out = { help: {}, takes: {}, usage: "" };
    const lines = [];
    const errors = [];
    console.log = (...a) => lines.push(a.join(" "));
    console.error = (...a) => errors.push(a.join(" "));
    const quietly = async (args) => {
      lines.length = 0;
      errors.length = 0;
      try {
        await main(args);
      } catch (e) {
        errors.push(String(e?.message ?? e));
      }
      return { out: lines.join("\\n"), err: errors.join("\\n") };
    };
    out.usage = (await quietly(["help"])).out;
    for (const name of COMMAND_NAMES) {
      out.help[name] = (await quietly([name, "--help"])).out;
      out.takes[name] = [];
      for (const [key, p] of Object.entries(probes)) {
        const args = [name, "--" + p.flag, ...(p.value === undefined ? [] : [p.value]), "--help"];
        const r = await quietly(args);
        if (!/Unknown option/.test(r.err)) out.takes[name].push(key);
      }
    }
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(out)));
    Deno.exit(0);
  `;
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
    env: { RPT_INVOKED_AS: "deno task rpt", NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

/** The placeholder a shared line gives its flag (`DIR` of `--run-dir DIR`), if any. */
function placeholder(line: string): string | undefined {
  const m = /^--[\w-]+ ([A-Z]+)\b/.exec(line);
  return m?.[1];
}

Deno.test("every command's --help: a shared flag has one spelling and one help line wherever it is taken", async () => {
  const { help, takes, usage } = await render();
  assert.deepEqual(Object.keys(help).sort(), [...COMMAND_NAMES].sort());
  // Every command is hinted (a new command must be added to hints.ts too).
  assert.deepEqual(
    [...HINTED_COMMANDS].filter((c) => c !== "help").sort(),
    [...COMMAND_NAMES].sort(),
  );
  // What the run-writing commands take, as the issue asks: --run-dir, the limits, --seed, ...
  assert.deepEqual(takes.optimize, [
    "run-dir",
    "data-dir",
    "seed",
    "cache",
    "concurrency",
    "limits",
    "config",
    "dry-run",
    "quiet",
  ]);
  for (const name of ["optimize", "evaluate", "compare", "experiment", "demo"]) {
    assert.ok(takes[name]!.includes("run-dir"), `${name} takes --run-dir`);
    assert.doesNotMatch(help[name]!, /^ {2}--out\b/m, `${name} writes its results to --run-dir`);
  }
  for (const [name, text] of Object.entries(help)) {
    assert.ok(text.length > 0, `${name} --help prints its help`);
    for (const key of takes[name]!) {
      const shared = SHARED_FLAGS[key as keyof typeof SHARED_FLAGS];
      const flag = PROBES[key as keyof typeof SHARED_FLAGS].flag;
      // The flag's own line (the limits share one) is the shared one, a note may follow.
      const own = text.split("\n").filter((l) =>
        key === "limits" ? /^ {2}--limit-/.test(l) : l.startsWith(`  --${flag} `) ||
          l === `  --${flag}`
      );
      assert.equal(own.length, 1, `${name} --help lists --${flag} once:\n${text}`);
      assert.ok(
        own[0]!.startsWith(`  ${shared}`),
        `${name} --help: --${flag} reads\n${own[0]}\ninstead of\n  ${shared}`,
      );
      // Anywhere else in the text (usage lines), the same placeholder.
      const expected = placeholder(shared);
      for (const m of text.matchAll(new RegExp(`--${flag}[ =]([A-Z]+)\\b`, "g"))) {
        assert.equal(m[1], expected, `${name} --help spells --${flag} ${m[1]}, not ${expected}`);
      }
    }
    // An old spelling is named only as such ("--out, its old name").
    for (const alias of FLAG_ALIASES[name] ?? []) {
      for (const m of text.matchAll(new RegExp(`--${alias.old}\\b.{0,16}`, "g"))) {
        assert.match(m[0], /its old name/, `${name} --help names --${alias.old} as the old name`);
      }
    }
    // Started as `deno task rpt`: every command the help names is written that way.
    const rest = text.replaceAll("deno task rpt", "");
    const named = new RegExp(`(^|[^\\w/.-])rpt (${HINTED_COMMANDS.join("|")})(?![\\w:-])`, "m");
    assert.doesNotMatch(rest, named, `${name} --help names a command as plain rpt`);
  }
  assert.doesNotMatch(
    usage.replaceAll("deno task rpt", ""),
    new RegExp(`(^|[^\\w/.-])rpt (${HINTED_COMMANDS.join("|")})(?![\\w:-])`, "m"),
  );
});

/** A string or template literal of a source file, with the calls it is an argument of. */
interface Literal {
  text: string;
  line: number;
  /** The callees of the calls enclosing it, innermost last (`new ConfigError` as `ConfigError`). */
  calls: string[];
  /** The module-level `const` it initialises, if it is at the top level of one. */
  constant?: string;
}

/**
 * The string and template literals of TypeScript source `src` (comments and regular
 * expression literals skipped), each with its enclosing calls: enough of a scanner for the
 * CLI's modules, which is all this test reads.
 */
function literals(src: string): Literal[] {
  const out: Literal[] = [];
  // One frame per open bracket: the callee of a call, "" for other parentheses/brackets,
  // and "${" for a template's expression.
  const stack: string[] = [];
  let line = 1;
  let i = 0;
  let lastSignificant = "";
  // The module-level `const` whose initialiser is being read.
  let topConst: string | undefined;
  const calls = () => stack.filter((f) => f !== "" && f !== "${");
  // A literal initialises the constant when no call or template encloses it.
  const constant = (): string | undefined => stack.every((f) => f === "") ? topConst : undefined;
  const readQuoted = (quote: string): string => {
    let text = "";
    i++;
    while (i < src.length && src[i] !== quote) {
      if (src[i] === "\\") {
        text += src.slice(i, i + 2);
        i += 2;
        continue;
      }
      text += src[i];
      i++;
    }
    i++;
    return text;
  };
  // A template: its text up to the end or the next `${`; returns whether an expression opened.
  const readTemplate = (calls: string[], constant?: string): void => {
    let text = "";
    const line0 = line;
    while (i < src.length) {
      const c = src[i]!;
      if (c === "\\") {
        text += src.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === "`") {
        i++;
        out.push({ text, line: line0, calls, ...(constant ? { constant } : {}) });
        return;
      }
      if (c === "$" && src[i + 1] === "{") {
        out.push({ text, line: line0, calls, ...(constant ? { constant } : {}) });
        stack.push("${");
        i += 2;
        return;
      }
      if (c === "\n") line++;
      text += c;
      i++;
    }
  };
  const templateConstants: (string | undefined)[] = [];
  const templateCalls: string[][] = [];
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      line += src.slice(i, end).split("\n").length - 1;
      i = end + 2;
      continue;
    }
    if (c === "/" && /^$|[(,=:[!&|?{};]$/.test(lastSignificant)) {
      // A regular expression literal.
      let inClass = false;
      i++;
      while (i < src.length && (inClass || src[i] !== "/")) {
        if (src[i] === "\\") i++;
        else if (src[i] === "[") inClass = true;
        else if (src[i] === "]") inClass = false;
        i++;
      }
      i++;
      lastSignificant = "x";
      continue;
    }
    if (c === '"' || c === "'") {
      const name = constant();
      const text = readQuoted(c);
      out.push({ text, line, calls: calls(), ...(name ? { constant: name } : {}) });
      lastSignificant = "x";
      continue;
    }
    if (c === "`") {
      const name = constant();
      const enclosing = calls();
      i++;
      templateConstants.push(name);
      templateCalls.push(enclosing);
      readTemplate(enclosing, name);
      // A template that ended pops its bookkeeping; one that opened `${` keeps it.
      if (stack.at(-1) !== "${") {
        templateConstants.pop();
        templateCalls.pop();
      }
      lastSignificant = "x";
      continue;
    }
    if (c === "(" || c === "[" || c === "{") {
      const before = /([\w$.]+)\s*$/.exec(src.slice(Math.max(0, i - 80), i))?.[1] ?? "";
      const callee = c === "(" ? (before.split(".").at(-1) ?? "") : "";
      stack.push(/^(if|for|while|switch|catch|return|typeof|await)$/.test(callee) ? "" : callee);
      i++;
      lastSignificant = c;
      continue;
    }
    if (c === ")" || c === "]" || c === "}") {
      const frame = stack.pop();
      i++;
      if (frame === "${") {
        // Back in the template that held the expression.
        readTemplate(templateCalls.at(-1) ?? [], templateConstants.at(-1));
        if (stack.at(-1) !== "${") {
          templateConstants.pop();
          templateCalls.pop();
        }
        lastSignificant = "x";
      } else lastSignificant = c;
      continue;
    }
    if (stack.length === 0) {
      const declared = /^(?:export )?const (\w+)/.exec(src.slice(i, i + 120));
      if (declared && (i === 0 || src[i - 1] === "\n")) topConst = declared[1];
      if (c === ";") topConst = undefined;
    }
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  return out;
}

/** Calls whose text reaches the user through `hint()`: itself, and the error printer's. */
const HINTED_SINKS = new Set(["hint", "ConfigError", "parseCommandArgs", "exactlyOneRunDir"]);

Deno.test("the scanner sees literals with their calls, past regular expressions and templates", () => {
  const found = literals([
    'const HELP = `usage: rpt x ${f("a")} end`;',
    "const re = /[\"'`]/g; // 'comment'",
    "console.log(hint(`see ${dir} and 'rpt show'`));",
    'throw new ConfigError("rpt resume DIR");',
  ].join("\n"));
  assert.deepEqual(found.map((l) => [l.text, l.calls.join(">"), l.constant ?? ""]), [
    ["usage: rpt x ", "", "HELP"],
    ["a", "f", ""],
    [" end", "", "HELP"],
    ["see ", "log>hint", ""],
    [" and 'rpt show'", "log>hint", ""],
    ["rpt resume DIR", "ConfigError", ""],
  ]);
});

Deno.test("no message in lib/cli names a command as plain 'rpt <command>' outside hint()", async () => {
  const named = new RegExp(`(^|[\\s'"\`(])rpt (${HINTED_COMMANDS.join("|")})(?![\\w:-])`);
  const files = [
    "lib/cli.ts",
    ...[...Deno.readDirSync(`${REPO}lib/cli`)].filter((e) => e.name.endsWith(".ts")).map((e) =>
      `lib/cli/${e.name}`
    ),
  ].sort();
  const offenders: string[] = [];
  let checked = 0;
  for (const file of files) {
    const src = await Deno.readTextFile(`${REPO}${file}`);
    for (const lit of literals(src)) {
      if (!named.test(lit.text)) continue;
      checked++;
      if (lit.calls.some((c) => HINTED_SINKS.has(c))) continue;
      // A module-level text (a help) is fine when the module prints it through hint(); the
      // command list of lib/cli.ts is written through hint() entry by entry (`rpt help`,
      // checked in the test above).
      if (lit.constant !== undefined) {
        if (new RegExp(`hint\\(${lit.constant}\\b`).test(src)) continue;
        if (file === "lib/cli.ts" && lit.constant === "COMMANDS") continue;
      }
      offenders.push(`${file}:${lit.line}: ${lit.text.trim().slice(0, 80)}`);
    }
  }
  assert.ok(checked > 30, `the scan found only ${checked} mentions: is it reading the files?`);
  assert.deepEqual(offenders, []);
});
