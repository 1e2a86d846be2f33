/**
 * `rpt demo` run as a user runs it (a subprocess of the CLI entry point) with a temporary
 * run directory and cache: the run directory, the printed summary and its SIMULATED label.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RunSummary } from "../lib/run/schema.ts";
import { paperDataTest } from "./support/paper_data.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;
const REPO = new URL("../", import.meta.url).pathname;

async function demo(
  args: string[],
  tmp: string,
): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "demo", "--plain", ...args],
    cwd: REPO,
    env: { NO_COLOR: "1", RPT_CACHE: join(tmp, "cache.sqlite") },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, out: decoder.decode(out.stdout), err: decoder.decode(out.stderr) };
}

async function withTemp(fn: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "rpt-demo-" });
  try {
    await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function readSummary(runDir: string): Promise<RunSummary> {
  return RunSummary.parse(JSON.parse(await Deno.readTextFile(join(runDir, "summary.json"))));
}

paperDataTest("rpt demo writes a run directory and prints a SIMULATED summary", async (dataDir) => {
  await withTemp(async (tmp) => {
    const runDir = join(tmp, "run");
    const { code, out, err } = await demo(
      ["--iterations", "3", "--run-dir", runDir, "--data-dir", dataDir],
      tmp,
    );
    assert.equal(code, 0, err);
    for (const file of ["config.json", "events.jsonl", "summary.json", "state.json", "iter-001"]) {
      await Deno.stat(join(runDir, file)); // throws when missing
    }
    const summary = await readSummary(runDir);
    assert.equal(summary.task, "hotpotqa");
    assert.equal(summary.simulated, true);
    assert.ok(summary.steps.length >= 1 && summary.steps.length <= 4);

    assert.match(out, /^rpt demo: \[SIMULATED\] RPT on hotpotqa, 3 iterations/);
    assert.match(out, /Iterations \[SIMULATED\]/);
    assert.match(out, /Selected prompt \[SIMULATED\]: step \d+/);
    assert.match(out, /Test result \[SIMULATED\]/);
    assert.match(out, /SIMULATED: these figures come from rpt's offline simulator/);
    assert.ok(out.includes(`Run directory: ${runDir}`), out);
    // One table row per step, with the dev score printed as in summary.json.
    for (const step of summary.steps) {
      const row = out.split("\n").find((l) =>
        l.startsWith(`${step.step}${step.kind === "final" ? "*" : ""} `)
      );
      assert.ok(row !== undefined, `no table row for step ${step.step}`);
      assert.ok(row.includes(step.dev.score.toFixed(3)), row);
    }
    // The selected prompt is printed whole.
    assert.ok(out.includes(summary.selected.prompt.system), "selected system prompt not printed");
    const test = summary.selected.test;
    assert.ok(test !== null);
    assert.ok(out.includes(`selected prompt: score ${test.score.toFixed(3)}`), out);
  });
});

Deno.test("rpt demo is deterministic: the same seed writes the same summary", async () => {
  await withTemp(async (tmp) => {
    const args = ["--iterations", "2", "--task", "synthetic", "--seed", "3"];
    const a = await demo([...args, "--run-dir", join(tmp, "a")], tmp);
    const b = await demo([...args, "--run-dir", join(tmp, "b")], tmp);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    const textA = await Deno.readTextFile(join(tmp, "a", "summary.json"));
    const textB = await Deno.readTextFile(join(tmp, "b", "summary.json"));
    assert.equal(textA, textB);
    assert.equal((await readSummary(join(tmp, "a"))).task, "synthetic");
  });
});

Deno.test("rpt demo rejects bad flags with a clear message", async () => {
  await withTemp(async (tmp) => {
    const bad = await demo(["--iterations", "0", "--run-dir", join(tmp, "x")], tmp);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--iterations: expected a positive integer, got "0"/);
    const noData = await demo(["--data-dir", tmp, "--run-dir", join(tmp, "y")], tmp);
    assert.equal(noData.code, 2);
    assert.match(noData.err, /no hotpotqa\/train\.jsonl/);
    await assert.rejects(Deno.stat(join(tmp, "x")));
  });
});
