/**
 * A run directory has one owner (issue 14, point 4): `optimize`, `resume` and a notebook
 * session hold `run.lock` (pid, host, start time) while they work; a second process is
 * refused with "DIR is in use by process PID since TIME"; a lock whose process is gone (same
 * host) is taken over with a note; finishing or closing a session releases it.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { startSimServer } from "../lib/cli/sim_server.ts";
import { openSession, reopenSession } from "../lib/revise/open.ts";
import { LockInfo, RunInUseError, RunLock } from "../lib/run/lock.ts";
import { rpt, spawnRpt, stackTraceIn } from "./support/cli.ts";
import { tempDir } from "./support/toy_loop.ts";

async function waitFor(path: string, ms = 60_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (await Deno.stat(path).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${path} never appeared`);
}

function slowRun(url: string, runDir: string, cache: string): string[] {
  const at = (name: string) => `openai-compatible:${name}@${url}/v1`;
  return [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    at("sim-target"),
    "--optimizer",
    at("sim-optimizer"),
    "--iterations",
    "2",
    "--limit-train",
    "24",
    "--limit-dev",
    "24",
    "--limit-test",
    "24",
    "--concurrency",
    "4",
    "--run-dir",
    runDir,
    "--cache",
    cache,
    "--quiet",
  ];
}

Deno.test({
  name: "two processes on one run directory: the second is refused with the holder's pid and time",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({ latencyMs: 25 });
    const runDir = `${dir.path}/run`;
    const first = spawnRpt(slowRun(server.url, runDir, `${dir.path}/a.sqlite`));
    const firstDone = first.output();
    await waitFor(`${runDir}/config.json`);
    const lock = LockInfo.parse(JSON.parse(await Deno.readTextFile(`${runDir}/run.lock`)));
    assert.equal(lock.pid, first.pid);
    assert.equal(lock.host, hostname());

    const second = await rpt(slowRun(server.url, runDir, `${dir.path}/b.sqlite`));
    assert.equal(second.code, 2, second.stderr);
    assert.equal(stackTraceIn(second.stderr), undefined);
    assert.match(second.stderr, /already holds a run|is in use by process/);
    const resume = await rpt(["resume", runDir]);
    assert.equal(resume.code, 2, resume.stderr);
    assert.equal(
      resume.stderr.trimEnd(),
      `rpt resume: ${runDir} is in use by process ${first.pid} since ${lock.since}; wait for ` +
        `it to end, or stop it (if no rpt process is running, remove ${runDir}/run.lock)`,
    );

    const done = await firstDone;
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
    const events = (await Deno.readTextFile(`${runDir}/events.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(events.filter((e) => e.type === "run_start").length, 1);
    assert.equal(events.filter((e) => e.type === "resume").length, 0);
    await assert.rejects(Deno.stat(`${runDir}/run.lock`), Deno.errors.NotFound);
  },
});

Deno.test({
  name: "two optimize processes started at once on one new run directory: one runs, one is refused",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({ latencyMs: 5 });
    const runDir = `${dir.path}/run`;
    // The row of issue 14: one died with `Uncaught NotFound ... iter-003.tmp/dev.json` and
    // events.jsonl held two run_start.
    const [a, b] = await Promise.all(
      ["a", "b"].map((n) => rpt(slowRun(server.url, runDir, `${dir.path}/${n}.sqlite`))),
    );
    const codes = [a!.code, b!.code].sort();
    assert.deepEqual(codes, [0, 2], `${a!.stderr}\n${b!.stderr}`);
    const refused = a!.code === 2 ? a! : b!;
    assert.equal(stackTraceIn(refused.stderr), undefined, refused.stderr);
    assert.equal(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`^rpt optimize: ${runDir} (is in use by process \\d+ since |already holds a run)`),
    );
    const events = (await Deno.readTextFile(`${runDir}/events.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(events.filter((e) => e.type === "run_start").length, 1);
    await Deno.stat(`${runDir}/summary.json`);
  },
});

Deno.test({
  name: "a lock whose process is gone (SIGKILL) is taken over with a note; another host's is not",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({ latencyMs: 25 });
    const runDir = `${dir.path}/run`;
    const child = spawnRpt(slowRun(server.url, runDir, `${dir.path}/a.sqlite`));
    const output = child.output();
    await waitFor(`${runDir}/iter-001`);
    child.kill("SIGKILL");
    await output;
    const stale = LockInfo.parse(JSON.parse(await Deno.readTextFile(`${runDir}/run.lock`)));
    assert.equal(stale.pid, child.pid);

    const resumed = await rpt(["resume", runDir, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(
      resumed.stderr.trimEnd(),
      `rpt: ${runDir} was locked by process ${child.pid} (since ${stale.since}), which is ` +
        `gone; taking it over`,
    );
    await Deno.stat(`${runDir}/summary.json`);

    // A lock taken on another machine (a shared file system) is never assumed stale.
    const other = { pid: 1, host: "another-host.example", since: "2025-01-01T00:00:00.000Z" };
    await Deno.writeTextFile(`${runDir}/run.lock`, JSON.stringify(other));
    const refused = await rpt(["resume", runDir]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /is in use by process 1 since 2025-01-01T00:00:00\.000Z \(on host another-host\.example\)/,
    );
  },
});

Deno.test({
  name: "a notebook session holds the run directory until it is closed",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const runDir = `${dir.path}/run`;
    const config = {
      task: "synthetic",
      target: "sim:target",
      optimizer: "sim:optimizer",
      iterations: 2,
      limits: { train: 12, dev: 12, test: 12 },
      cache: `${dir.path}/c.sqlite`,
    };
    const session = await openSession(config, { runDir });
    await session.step();
    const held = LockInfo.parse(JSON.parse(await Deno.readTextFile(`${runDir}/run.lock`)));
    assert.equal(held.pid, Deno.pid);
    // Another process is refused, and so is a second session of this one.
    const other = await rpt(["resume", runDir]);
    assert.match(other.stderr, new RegExp(`is in use by process ${Deno.pid} since`));
    await assert.rejects(
      reopenSession(runDir),
      (e: unknown) => e instanceof RunInUseError && /a session of this process/.test(e.message),
    );
    await session.close();
    await assert.rejects(Deno.stat(`${runDir}/run.lock`), Deno.errors.NotFound);
    const again = await reopenSession(runDir);
    assert.equal(again.state.completedSteps, 1);
    await again.finish();
    await assert.rejects(Deno.stat(`${runDir}/run.lock`), Deno.errors.NotFound);
  },
});

Deno.test("RunLock: a torn lock file is taken over; release leaves a lock it no longer holds alone", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/run.lock`, '{"pid": 12');
  const notes: string[] = [];
  const lock = await RunLock.acquire(dir.path, (n) => notes.push(n));
  assert.equal(notes.length, 1);
  assert.match(notes[0] ?? "", /which is gone; taking it over$/);
  assert.equal(lock.info.pid, Deno.pid);
  // Someone removed it and another process took the directory: release leaves theirs.
  const theirs = { pid: 2, host: "h", since: "t" };
  await Deno.writeTextFile(`${dir.path}/run.lock`, JSON.stringify(theirs));
  lock.release();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir.path}/run.lock`)), theirs);
});
