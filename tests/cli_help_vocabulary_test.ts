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
import { literals } from "./support/ts_literals.ts";

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
