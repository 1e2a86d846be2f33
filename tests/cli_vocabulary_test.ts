/**
 * One vocabulary across commands and hints the user can type: old flag spellings still work
 * with a note, split limits are a count or `all`, `--version`, usage lines that list every
 * flag, unknown flags as one line, and commands in messages written the way the CLI was
 * started (`deno task rpt`, an installed `rpt`, or `deno run -A lib/cli.ts`).
 */
import assert from "node:assert/strict";
import { applyFlagAliases, limitFlag } from "../lib/cli/args.ts";
import { parseCompareArgs } from "../lib/cli/compare.ts";
import { parseEvaluateArgs } from "../lib/cli/evaluate.ts";
import { estimateTable, parseOptimizeArgs } from "../lib/cli/optimize.ts";
import { hint, invocation } from "../lib/cli/hints.ts";
import { compare } from "../lib/baselines/compare.ts";
import { tempDir } from "./support/toy_loop.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;
const REPO = new URL("../", import.meta.url).pathname;

async function rpt(args: string[], env: Record<string, string> = {}, cwd = REPO) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: { HOME: Deno.env.get("HOME") ?? "", NO_COLOR: "1", ...env },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("compare: --run-dir, with --out kept as an alias and a note; limits are a count or all", () => {
  const notes: string[] = [];
  assert.deepEqual(applyFlagAliases("compare", ["--out", "d"], (m) => notes.push(m)), [
    "--run-dir",
    "d",
  ]);
  assert.deepEqual(notes, [
    "rpt compare: --out is now --run-dir; the old name still works in this release and will then be removed",
  ]);
  assert.deepEqual(applyFlagAliases("optimize", ["--out", "d"], () => {}), ["--out", "d"]);
  assert.equal(parseCompareArgs(["--task", "x", "--run-dir", "r1"]).options.outDir, "r1");
  const log = console.error;
  const seen: string[] = [];
  console.error = (m: string) => void seen.push(m);
  try {
    assert.equal(parseCompareArgs(["--task", "x", "--out=r2"]).options.outDir, "r2");
    assert.deepEqual(parseCompareArgs(["--task", "x", "--limit-dev", "0"]).options.limits, {
      train: 40,
      test: 100,
    });
  } finally {
    console.error = log;
  }
  assert.match(seen[0]!, /--out is now --run-dir/);
  assert.match(seen[1]!, /--limit-dev 0: write --limit-dev all/);
  assert.equal(limitFlag("all", "limit-test", 100), undefined);
  assert.equal(limitFlag(" 25 ", "limit-test", 100), 25);
  assert.throws(
    () => limitFlag("2.5", "limit-test", 100),
    /--limit-test: expected a positive integer or 'all', got "2.5"/,
  );
});

Deno.test("hints are written the way the CLI was started", () => {
  const env = (vars: Record<string, string>, path: string[] = [], cwd = REPO) => ({
    get: (n: string) => vars[n],
    onPath: (n: string) => path.includes(n),
    cwd: () => cwd,
  });
  assert.equal(
    invocation(env({ RPT_INVOKED_AS: "deno task rpt" }, ["deno", "rpt"])),
    "deno task rpt",
  );
  assert.equal(
    invocation(env({ RPT_INVOKED_AS: "deno task rpt", npm_command: "exec" })),
    `npx -y deno@${Deno.version.deno} task rpt`,
  );
  assert.equal(invocation(env({}, ["rpt"])), "rpt");
  assert.equal(invocation(env({})), "deno run -A lib/cli.ts");
  // From a directory beside the repository the path is written whole.
  const beside = new URL("../../rpt-elsewhere", import.meta.url).pathname;
  assert.equal(invocation(env({}, [], beside)), `deno run -A ${CLI}`);
  assert.equal(
    hint(
      "continue with: rpt resume runs/a; see `rpt show runs/a` ('rpt data:fetch')",
      "deno task rpt",
    ),
    "continue with: deno task rpt resume runs/a; see `deno task rpt show runs/a` ('deno task rpt data:fetch')",
  );
  // Not a command: left alone.
  assert.equal(
    hint("the rpt package, rpt-runs, rpt shows", "deno task rpt"),
    "the rpt package, rpt-runs, rpt shows",
  );
});

Deno.test("rpt --version, help and errors name commands as the user can type them", async () => {
  const version = await rpt(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^rpt \d+\.\d+\.\d+ \(deno \d+\.\d+\.\d+\)\n$/);
  const viaTask = await rpt(["help"], { RPT_INVOKED_AS: "deno task rpt", PATH: "" });
  assert.match(viaTask.stdout, /^usage: deno task rpt <command> \[flags\]$/m);
  assert.match(viaTask.stdout, /resume an interrupted run: deno task rpt resume RUN_DIR/);
  // An installed rpt on the PATH (here a stand-in file): hints say `rpt`.
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/rpt`, "#!/bin/sh\n");
  await Deno.chmod(`${dir.path}/rpt`, 0o755);
  const installed = await rpt(["help"], { PATH: dir.path });
  assert.match(installed.stdout, /^usage: rpt <command> \[flags\]$/m);
  const bare = await rpt(["help"], { PATH: "" });
  assert.match(bare.stdout, /^usage: deno run -A lib\/cli\.ts <command> \[flags\]$/m);
  // A library error that names a command: the data directory is missing.
  await Deno.writeTextFile(`${dir.path}/p.jsonl`, '{"id": "x", "output": "y"}\n');
  const missing = await rpt([
    "score",
    "--task",
    "formula",
    "--split",
    "dev",
    "--data-dir",
    `${dir.path}/none`,
    "--predictions",
    `${dir.path}/p.jsonl`,
  ], { RPT_INVOKED_AS: "deno task rpt", PATH: "" });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(
    missing.stderr,
    /\(get the data with 'deno task rpt data:fetch', or point --data-dir/,
  );
  assert.doesNotMatch(missing.stderr, /\bat file:/);
});

Deno.test("rpt demo: the usage line lists --plain; an unknown flag is one line, exit 2", async () => {
  const help = await rpt(["demo", "--help"], { PATH: "" });
  assert.match(help.stdout, /^usage: deno run -A lib\/cli\.ts demo .*\n\s+\[--plain\]$/m);
  const bad = await rpt(["demo", "--nope"], { PATH: "" });
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert.match(
    bad.stderr,
    /^rpt demo: Unknown option '--nope'.* \(see 'deno run -A lib\/cli\.ts demo --help'\)$/m,
  );
});

Deno.test("rpt compare's table says why RPT stopped in words, not the ledger's internals", async () => {
  const result = await compare({
    task: "synthetic",
    methods: ["rpt"],
    budgetCalls: 70,
    limits: { train: 20, dev: 20, test: 20 },
    dataDir: "/nonexistent-rpt-data",
  });
  const reason = result.rows[0]!.stopReason;
  assert.match(reason, /^budget: not enough target calls left for another step \(\d+ complete\)$/);
  assert.doesNotMatch(reason, /in flight|not sending/);
});

Deno.test("optimize and evaluate: limits are a count or all; 0 is all with a note, as in compare", async () => {
  const base = ["--task", "synthetic", "--target", "sim:target", "--optimizer", "sim:optimizer"];
  await using dir = await tempDir();
  const file = `${dir.path}/c.json`;
  await Deno.writeTextFile(file, JSON.stringify({ limits: { train: 5, dev: 6, test: 7 } }));
  const notes: string[] = [];
  const log = console.error;
  console.error = (m: string) => void notes.push(m);
  try {
    const o = await parseOptimizeArgs([
      ...base,
      "--config",
      file,
      "--limit-train",
      "all",
      "--limit-dev",
      "0",
      "--limit-test",
      "9",
    ]);
    assert.deepEqual(o.config.limits, { test: 9 });
    const e = await parseEvaluateArgs([...base, "--limit-dev", "ALL", "--limit-test", "3"]);
    assert.deepEqual(e.config.limits, { test: 3 });
    // Nothing given: the config file's limits stand.
    const kept = await parseOptimizeArgs([...base, "--config", file]);
    assert.deepEqual(kept.config.limits, { train: 5, dev: 6, test: 7 });
  } finally {
    console.error = log;
  }
  assert.deepEqual(notes, [
    "--limit-dev 0: write --limit-dev all for every example (0 still means all in this release)",
  ]);
  await assert.rejects(
    parseOptimizeArgs([...base, "--limit-test", "-1"]),
    /^ConfigError: --limit-test: expected a positive integer or 'all', got "-1"$/,
  );
});

Deno.test("the dry-run table: columns as wide as their widest cell, for long model specs", async () => {
  const long = "openai-compatible:some-long-model-name@http://127.0.0.1:8080/v1";
  assert.deepEqual(
    estimateTable([
      {
        role: "target",
        model: long,
        calls: 1230,
        inputTokens: 491_000,
        outputTokens: 307_500,
        usd: 0,
        priced: false,
        batch: true,
        interactiveUsd: 0,
      },
      {
        role: "optimizer",
        model: "openai:gpt-4.1",
        calls: 8,
        inputTokens: 90_000,
        outputTokens: 4_000,
        usd: 0.21,
        priced: true,
        batch: false,
        interactiveUsd: 0.21,
      },
    ]),
    [
      "target     openai-compatible:some-long-model-name@http://127.0.0.1:8080/v1  1230 calls  491000 in  307500 out  unpriced (batch)",
      "optimizer  openai:gpt-4.1                                                      8 calls   90000 in    4000 out  $0.21",
    ],
  );
  // And the real dry run with such a target: every row's columns line up.
  const r = await rpt([
    "optimize",
    "--task",
    "synthetic",
    "--target",
    long,
    "--optimizer",
    "openai:gpt-4.1",
    "--critic",
    "gemini:gemini-2.5-flash",
    "--dry-run",
  ], { OPENAI_API_KEY: "sk-not-used", GEMINI_API_KEY: "not-used", PATH: "" });
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split("\n").filter((l) =>
    /^ {2}(target|critic|cluster|embedder|optimizer) .* calls /.test(l)
  );
  assert.equal(rows.length, 5, r.stdout);
  for (const word of [" calls", " in ", " out "]) {
    assert.equal(new Set(rows.map((l) => l.indexOf(word))).size, 1, `${word}:\n${rows.join("\n")}`);
  }
  assert.match(rows[0]!, new RegExp(`^ {2}target {5}${long.replaceAll(".", "\\.")} `));
});
