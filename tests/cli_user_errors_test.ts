/**
 * No stack trace for anything a user caused (issue 14, point 3), and one range error for a
 * numeric flag whatever is wrong with it (point 8). Each case runs the real command line in a
 * subprocess: it must exit 2 with one line naming the path (or flag) and what to do, and fail
 * if stderr holds a stack trace.
 */
import assert from "node:assert/strict";
import { parseOptimizeArgs } from "../lib/cli/optimize.ts";
import { cleanEnv, CLI, rpt, type RptResult, stackTraceIn } from "./support/cli.ts";
import { tempDir } from "./support/toy_loop.ts";

const FULL_DISK = new URL("./support/processes/full_disk_cli.ts", import.meta.url).pathname;
const asRoot = Deno.uid() === 0;

function quick(runDir: string, extra: string[] = []): string[] {
  return [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    "sim:target",
    "--optimizer",
    "sim:optimizer",
    "--iterations",
    "2",
    "--limit-train",
    "30",
    "--limit-dev",
    "30",
    "--limit-test",
    "30",
    "--run-dir",
    runDir,
    "--quiet",
    ...extra,
  ];
}

/** Exit 2, exactly one line on stderr matching `line`, no stack trace. */
function assertUserError(r: RptResult, line: RegExp, what: string): void {
  assert.equal(stackTraceIn(r.stderr), undefined, `${what}: a stack trace:\n${r.stderr}`);
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0] ?? "", line, what);
}

Deno.test("a run directory that is a file, or in a read-only place: one line, exit 2, no stack trace", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/a-file`;
  await Deno.writeTextFile(file, "not a directory");
  const cache = ["--cache", `${dir.path}/cache.sqlite`];
  assertUserError(
    await rpt(quick(file, cache)),
    new RegExp(`^rpt optimize: ${file} is a file, not a directory: give a directory path$`),
    "run dir is a file",
  );
  assertUserError(
    await rpt(quick(`${file}/run`, cache)),
    new RegExp(
      `^rpt optimize: cannot create the run directory ${file}/run: a part of the path is a file`,
    ),
    "run dir under a file",
  );
  // As root, permission bits do not stop writes: sysfs is read-only even for root.
  const readOnly = asRoot ? "/sys/rpt-no-such-run" : `${dir.path}/ro/run`;
  if (!asRoot) {
    await Deno.mkdir(`${dir.path}/ro`);
    await Deno.chmod(`${dir.path}/ro`, 0o555);
  }
  assertUserError(
    await rpt(quick(readOnly, cache)),
    /^rpt optimize: cannot create the run directory .*: permission denied \(a read-only place, or not yours\): choose a writable location or fix its permissions$/,
    "read-only run dir",
  );

  // An existing run made read-only: resume cannot take it, and says so. As root (CI), a
  // tmpfs remounted read-only, where permission bits would not stop root.
  const place = `${dir.path}/place`;
  await Deno.mkdir(place);
  const mounted = asRoot && await tryMountTmpfs(place, "16m");
  const runDir = `${place}/done`;
  try {
    assert.equal((await rpt(quick(runDir, cache))).code, 0);
    if (mounted) await remount(place, "ro");
    else await Deno.chmod(runDir, 0o555);
    if (mounted || !asRoot) {
      assertUserError(
        await rpt(["resume", runDir]),
        /^rpt resume: cannot create the run's lock file .*run\.lock: permission denied/,
        "read-only run to resume",
      );
    }
  } finally {
    if (mounted) await unmount(place);
    else await Deno.chmod(runDir, 0o755).catch(() => {});
  }
});

async function remount(at: string, mode: "ro" | "rw"): Promise<void> {
  const out = await new Deno.Command("mount", { args: ["-o", `remount,${mode}`, at] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

async function unmount(at: string): Promise<void> {
  await new Deno.Command("umount", { args: [at], stdout: "null", stderr: "null" }).output();
}

async function tryMountTmpfs(at: string, size: string): Promise<boolean> {
  if (!asRoot || Deno.build.os !== "linux") return false;
  try {
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", at],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "a full disk mid-run: one line naming the file and how to go on, exit 2; resume finishes once there is room",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const disk = `${dir.path}/disk`;
    await Deno.mkdir(disk);
    const mounted = await tryMountTmpfs(disk, "48k");
    try {
      const runDir = `${disk}/run`;
      const args = quick(runDir, ["--cache", `${dir.path}/cache.sqlite`]);
      let r: RptResult;
      if (mounted) {
        r = await rpt(args);
      } else {
        // No right to mount a small file system: the same failure, injected into the writes.
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", FULL_DISK, ...args],
          stdout: "piped",
          stderr: "piped",
          clearEnv: true,
          env: cleanEnv({ RPT_FULL_DISK_DIR: disk, RPT_FULL_DISK_BYTES: "20000" }),
        }).output();
        const d = new TextDecoder();
        r = { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
      }
      assertUserError(
        r,
        new RegExp(
          `^rpt optimize: cannot write ${runDir}/\\S+: the disk is full \\(no space left\\): ` +
            `free some space; then continue with: deno task rpt resume ${runDir}$`,
        ),
        `full disk (${mounted ? "tmpfs" : "injected"})`,
      );
      if (mounted) {
        await new Deno.Command("mount", {
          args: ["-o", "remount,size=4m", disk],
          stdout: "null",
          stderr: "null",
        }).output();
        const resumed = await rpt(["resume", runDir, "--quiet"]);
        assert.equal(resumed.code, 0, resumed.stderr);
        await Deno.stat(`${runDir}/summary.json`);
      }
    } finally {
      if (mounted) await new Deno.Command("umount", { args: [disk] }).output();
    }
  },
});

Deno.test("a data directory that cannot be read, a config file missing or invalid: one line, exit 2", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/file`;
  await Deno.writeTextFile(file, "x");
  const base = ["optimize", "--target", "sim:target", "--optimizer", "sim:optimizer"];
  const run = ["--run-dir", `${dir.path}/run`, "--cache", `${dir.path}/c.sqlite`];
  assertUserError(
    await rpt([...base, "--task", "hotpotqa", "--data-dir", file, ...run]),
    new RegExp(`^rpt optimize: ${file}/hotpotqa/train\\.jsonl: cannot read: `),
    "data dir is a file",
  );
  // A split that is a directory.
  const data = `${dir.path}/data`;
  await Deno.mkdir(`${data}/formula/train.jsonl`, { recursive: true });
  assertUserError(
    await rpt([...base, "--task", "formula", "--data-dir", data, ...run]),
    new RegExp(`^rpt optimize: ${data}/formula/train\\.jsonl: cannot read: `),
    "split is a directory",
  );
  assertUserError(
    await rpt([...base, "--task", "synthetic", "--config", `${dir.path}/none.json`, ...run]),
    new RegExp(`^rpt optimize: --config ${dir.path}/none\\.json: cannot read: file not found$`),
    "config file missing",
  );
  await Deno.writeTextFile(`${dir.path}/bad.json`, "{ not json");
  assertUserError(
    await rpt([...base, "--task", "synthetic", "--config", `${dir.path}/bad.json`, ...run]),
    new RegExp(`^rpt optimize: --config ${dir.path}/bad\\.json: not valid JSON: `),
    "config file not JSON",
  );
  await Deno.writeTextFile(`${dir.path}/list.json`, "[1, 2]");
  assertUserError(
    await rpt([...base, "--task", "synthetic", "--config", `${dir.path}/list.json`, ...run]),
    new RegExp(
      `^rpt optimize: --config ${dir.path}/list\\.json: expected a JSON object of run settings$`,
    ),
    "config file not an object",
  );
  // A bad field names the file, also when a flag would have overridden it, and for evaluate.
  const field = `${dir.path}/field.json`;
  await Deno.writeTextFile(field, JSON.stringify({ iterations: "many" }));
  const badField = new RegExp(`^rpt (optimize|evaluate): --config ${field}: iterations: `);
  assertUserError(
    await rpt([...base, "--task", "synthetic", "--config", field, ...run]),
    badField,
    "config file with a bad field",
  );
  assertUserError(
    await rpt([...base, "--task", "synthetic", "--config", field, "--iterations", "2", ...run]),
    badField,
    "config file with a bad field a flag overrides",
  );
  assertUserError(
    await rpt(["evaluate", "--task", "synthetic", "--target", "sim:target", "--config", field]),
    badField,
    "evaluate's config file with a bad field",
  );
  // resume: a directory without a run, and a run whose config.json is damaged.
  assertUserError(
    await rpt(["resume", dir.path]),
    new RegExp(`^rpt resume: ${dir.path}/config\\.json: cannot read: file not found$`),
    "resume without a run",
  );
  await Deno.mkdir(`${dir.path}/damaged`);
  await Deno.writeTextFile(`${dir.path}/damaged/config.json`, '{"task": 3}');
  assertUserError(
    await rpt(["resume", `${dir.path}/damaged`]),
    /^rpt resume: .*damaged\/config\.json: task: /,
    "resume with a damaged config",
  );
});

Deno.test("numeric flags: negative, zero and non-numeric values get the same range error, for every command", async () => {
  await using dir = await tempDir();
  const base = ["--task", "synthetic", "--target", "sim:target", "--optimizer", "sim:optimizer"];
  const cases: [string, string[], string][] = [
    ["iterations", ["-2", "0", "abc", "1.5", "1001"], "an integer from 1 to 1000"],
    ["concurrency", ["-1", "0", "x"], "a positive integer"],
    ["memory-k", ["-1", "0"], "a positive integer"],
    ["budget-usd", ["-1", "0", "free"], "a number > 0"],
    ["budget-calls", ["-5", "0"], "a positive integer"],
    ["max-error-rate", ["-0.1", "1.5", "half"], "a number from 0 to 1"],
    ["timeout", ["-1", "0", "soon"], "a number > 0"],
    ["retries", ["-1", "2.5", "101"], "an integer from 0 to 100"],
    ["max-backoff", ["-1", "0"], "a number > 0"],
    ["limit-dev", ["-3", "2.5", "x"], "a positive integer or 'all'"],
    ["seed", ["1.5", "x"], "an integer"],
  ];
  for (const [flag, values, expected] of cases) {
    for (const value of values) {
      await assert.rejects(
        parseOptimizeArgs([...base, `--${flag}`, value]),
        (e: Error) => e.message === `--${flag}: expected ${expected}, got "${value}"`,
        `--${flag} ${value}`,
      );
    }
  }
  // A negative seed is a value, not a flag.
  assert.equal((await parseOptimizeArgs([...base, "--seed", "-3"])).config.seed, -3);

  // The whole command line, and the other commands' numeric flags (analyze reads its run first).
  const run = `${dir.path}/run`;
  const made = await rpt([
    "optimize",
    ...base,
    "--iterations",
    "1",
    "--limit-train",
    "6",
    "--limit-dev",
    "6",
    "--limit-test",
    "6",
    "--run-dir",
    run,
    "--cache",
    `${dir.path}/c.sqlite`,
    "--quiet",
  ]);
  assert.equal(made.code, 0, made.stderr);
  const lines: [string[], string][] = [
    [
      ["optimize", ...base, "--iterations", "-2"],
      `rpt optimize: --iterations: expected an integer from 1 to 1000, got "-2"`,
    ],
    [
      ["demo", "--iterations", "-2"],
      `rpt demo: --iterations: expected a positive integer, got "-2"`,
    ],
    [["demo", "--iterations", "0"], `rpt demo: --iterations: expected a positive integer, got "0"`],
    [["analyze", run, "--k", "-2"], `rpt analyze: --k: expected a positive integer, got "-2"`],
    [
      ["compare", "--task", "synthetic", "--budget-calls", "-1"],
      `rpt compare: --budget-calls: expected a positive integer, got "-1"`,
    ],
    [
      ["sim-server", "--port", "-1"],
      `rpt sim-server: --port: expected an integer port 0-65535, got '-1'`,
    ],
    [
      ["resume", dir.path, "--retries", "-1"],
      `rpt resume: --retries: expected an integer from 0 to 100, got "-1"`,
    ],
    [
      ["resume", dir.path, "--max-error-rate", "-1"],
      `rpt resume: --max-error-rate: expected a number from 0 to 1, got "-1"`,
    ],
  ];
  for (const [args, expected] of lines) {
    const r = await rpt(args);
    assertUserError(
      r,
      new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
      args.join(" "),
    );
  }
  assert.ok(CLI.endsWith("cli.ts"));
});
