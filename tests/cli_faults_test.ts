/**
 * Provider faults seen from the command line (issue 14's table): a target where nothing
 * listens, a target behind `sim-server --fault-500 0.7`, a call that hangs. None of them
 * gives a result with exit code 0 any more: the run stops incomplete (exit 3, one paragraph,
 * no summary) or, with `--max-error-rate`, counts the failed calls and shows the count.
 */
import assert from "node:assert/strict";
import { startSimServer } from "../lib/cli/sim_server.ts";
import { RunSummary } from "../lib/run/schema.ts";
import { deadPort, rpt, stackTraceIn } from "./support/cli.ts";
import { tempDir } from "./support/toy_loop.ts";

function synthetic(target: string, runDir: string, extra: string[] = []): string[] {
  return [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    target,
    "--optimizer",
    "sim:optimizer",
    "--iterations",
    "2",
    "--limit-train",
    "12",
    "--limit-dev",
    "12",
    "--limit-test",
    "12",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.sqlite`,
    ...extra,
  ];
}

Deno.test({
  name:
    "a target where nothing listens: exit 3 at step 1, one paragraph, no summary; resume once it listens",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const port = deadPort();
    const target = `openai-compatible:sim-target@http://127.0.0.1:${port}/v1`;
    const runDir = `${dir.path}/run`;
    const r = await rpt(synthetic(target, runDir, ["--retries", "1", "--quiet"]));
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^rpt: step 1 is incomplete: 12 of 12 target calls on dev failed after their retries ` +
          `\\(endpoint http://127\\.0\\.0\\.1:${port}/v1; last error: `,
      ),
    );
    assert.ok(r.stderr.includes(`deno task rpt resume ${runDir}`));
    assert.equal(stackTraceIn(r.stderr), undefined);
    await assert.rejects(Deno.stat(`${runDir}/summary.json`));
    const help = await rpt(["optimize", "--help"]);
    assert.match(help.stdout, /3 incomplete:/);

    await using server = startSimServer({ port });
    const resumed = await rpt(["resume", runDir, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = RunSummary.parse(JSON.parse(await Deno.readTextFile(`${runDir}/summary.json`)));
    assert.deepEqual(summary.failedCalls, {});
    assert.ok(server.counts.received > 0);
  },
});

Deno.test({
  name:
    "sim-server --fault-500 0.7 behind the target: exit 3 by default; --max-error-rate counts and shows the failures",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({ faultRates: { status500: 0.7 }, seed: 5 });
    const target = `openai-compatible:sim-target@${server.url}/v1`;
    const strict = await rpt(
      synthetic(target, `${dir.path}/strict`, ["--retries", "0", "--quiet"]),
    );
    assert.equal(strict.code, 3, strict.stderr);
    assert.match(strict.stderr, /^rpt: step 1 is incomplete: \d+ of 12 target calls on dev failed/);
    assert.match(strict.stderr, /HTTP 500/);

    const runDir = `${dir.path}/run`;
    const r = await rpt(synthetic(target, runDir, ["--retries", "0", "--max-error-rate", "1"]));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(stackTraceIn(r.stderr), undefined);
    // The step lines (stderr) and the end of the run (stdout) say how many calls failed.
    assert.match(
      r.stderr,
      /step 1 \(iteration\):.*; \d+ failed calls? counted as failures \(dev \d+/,
    );
    // Over the run, each split's count says how many evaluations of how many examples it is over.
    assert.match(
      r.stdout,
      /^warning: \d+ failed calls counted as failures \(dev \d+ over \d+ evaluations of 12 examples/m,
    );
    const summary = RunSummary.parse(JSON.parse(await Deno.readTextFile(`${runDir}/summary.json`)));
    assert.ok((summary.failedCalls.dev ?? 0) > 0, JSON.stringify(summary.failedCalls));
    const show = await rpt(["show", runDir]);
    assert.match(show.stdout, /warning: step 1: \d+ failed calls? counted as failures/);
    assert.match(
      show.stdout,
      /warning: in all, \d+ failed calls counted as failures \(.*\) \(--max-error-rate 1\)/,
    );
    const report = await rpt(["report", runDir]);
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(`${runDir}/report.html`);
    assert.match(html, /<h2>Warnings<\/h2>/);
    assert.match(html, /failed calls? counted as failures/);
  },
});

Deno.test({
  name:
    "a call that hangs: --timeout bounds each attempt (1 s, not 180 s) and the run stops incomplete",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({ faultRates: { hang: 1 } });
    const target = `openai-compatible:sim-target@${server.url}/v1`;
    const t0 = performance.now();
    const r = await rpt(
      synthetic(target, `${dir.path}/run`, ["--timeout", "1", "--retries", "1", "--quiet"]),
    );
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /gave up after 2 attempts: no answer within 1000 ms \(timeout\)/);
    assert.ok(seconds < 30, `${seconds} s`);
    const config = JSON.parse(await Deno.readTextFile(`${dir.path}/run/config.json`));
    assert.equal(config.timeoutSeconds, 1);
    assert.equal(config.retries, 1);
  },
});

Deno.test({
  name: "rpt evaluate with a dead target: exit 3, one line, no evaluation.json",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const port = deadPort();
    const out = `${dir.path}/eval`;
    const r = await rpt([
      "evaluate",
      "--task",
      "synthetic",
      "--target",
      `openai-compatible:sim-target@http://127.0.0.1:${port}/v1`,
      "--limit-train",
      "4",
      "--limit-dev",
      "4",
      "--limit-test",
      "4",
      "--retries",
      "0",
      "--run-dir",
      out,
      "--cache",
      `${dir.path}/c.sqlite`,
      "--quiet",
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(stackTraceIn(r.stderr), undefined);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^rpt evaluate: incomplete: 4 of 4 target calls on train failed after their retries ` +
          `\\(endpoint http://127\\.0\\.0\\.1:${port}/v1; last error: .*\\); no result was written`,
      ),
    );
    await assert.rejects(Deno.stat(`${out}/evaluation.json`));
  },
});

Deno.test({
  name: "rpt compare with a dead target: exit 3, one line, no result (no failed call scored 0)",
  sanitizeResources: false,
  async fn() {
    const port = deadPort();
    const r = await rpt(
      compareGepaArgs(`openai-compatible:sim-target@http://127.0.0.1:${port}/v1`, "1", "0.1"),
    );
    assert.equal(r.code, 3, r.stderr);
    assert.equal(stackTraceIn(r.stderr), undefined);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    // --retries reaches the harness's calls: one retry, two attempts.
    assert.match(r.stderr, /gave up after 2 attempts/, r.stderr);
    // The endpoint is named as rpt optimize names it: "(endpoint URL; last error: ...)".
    assert.match(
      r.stderr.trimEnd(),
      new RegExp(
        `^rpt compare: incomplete: 6 of 6 target calls on test failed after their retries ` +
          `\\(endpoint http://127\\.0\\.0\\.1:${port}/v1; last error: ` +
          `openai-compatible:sim-target: gave up after 2 attempts: connection failed[^;]*\\); ` +
          `no result was written\\. Run it again once the endpoint answers \\(with --cache FILE, ` +
          `a rerun pays for no answer twice\\)\\.$`,
      ),
    );
    assert.equal(r.stdout.includes("| gepa |"), false, r.stdout);
  },
});

Deno.test({
  name:
    "rpt compare --cache against a server that answers 500 to everything: each call is sent --retries + 1 times, and its error says so once",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    for (const wire of ["openai-compatible", "gemini"] as const) {
      await using server = startSimServer({ faultRates: { status500: 1 } });
      const target = wire === "gemini"
        ? `gemini:sim-target@${server.url}`
        : `openai-compatible:sim-target@${server.url}/v1`;
      const r = await rpt(
        [...compareGepaArgs(target, "2", "0.01"), "--cache", `${dir.path}/${wire}.sqlite`],
        { GEMINI_API_KEY: "test-key" },
      );
      assert.equal(r.code, 3, r.stderr);
      // The harness scores the seed on test first: 6 calls, 3 attempts each, no more (the
      // cache below the budget meters sends each attempt once and retries nothing itself).
      assert.equal(server.counts.received, 18, `${wire}: ${server.counts.received} requests`);
      assert.match(r.stderr, /: gave up after 3 attempts: /, r.stderr);
      assert.equal(r.stderr.match(/gave up after/g)?.length, 1, r.stderr);
    }
  },
});

/** `rpt compare` of GEPA on 6 synthetic examples per split against `target`, quiet. */
function compareGepaArgs(target: string, retries: string, maxBackoff: string): string[] {
  return [
    "compare",
    ...["--task", "synthetic", "--target", target, "--methods", "gepa", "--budget-calls", "30"],
    ...["--limit-train", "6", "--limit-dev", "6", "--limit-test", "6"],
    ...["--retries", retries, "--max-backoff", maxBackoff, "--quiet"],
  ];
}
