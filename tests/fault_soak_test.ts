/**
 * The fault soak of issue 14: a 3-iteration `rpt optimize` on HotPotQA (the paper's data, cut
 * to 24 examples a split) against `rpt sim-server` in another process, every role behind it
 * (target, optimizer, critic, embedder), with 30% 500s, 10% 429s with Retry-After, 5% hangs
 * past the timeout and 5% truncated bodies. It must complete with every example scored and a
 * `summary.json` equal to a clean run's. Then the same run with the target's endpoint dead
 * stops at step 1 with exit code 3, no summary and the one paragraph; once the endpoint is
 * back, `rpt resume` finishes it, equal to the clean run.
 */
import assert from "node:assert/strict";
import { loadRun } from "../lib/run/reader.ts";
import { deadPort, rpt, stackTraceIn, startSimServerProcess } from "./support/cli.ts";
import { paperDataTest } from "./support/paper_data.ts";
import { tempDir } from "./support/toy_loop.ts";

function runArgs(
  urls: { target: string; others: string },
  runDir: string,
  dataDir: string,
  retries: number,
  // The soak needs a short timeout for its hangs; runs without hangs get room for a loaded machine.
  timeoutSeconds = 1,
): string[] {
  const at = (name: string, url: string) => `openai-compatible:${name}@${url}/v1`;
  return [
    "optimize",
    "--task",
    "hotpotqa",
    "--data-dir",
    dataDir,
    "--target",
    at("sim-target", urls.target),
    "--optimizer",
    at("sim-optimizer", urls.others),
    "--critic",
    at("sim-critic", urls.others),
    "--embedder",
    at("sim-embed", urls.others),
    "--iterations",
    "3",
    "--limit-train",
    "24",
    "--limit-dev",
    "24",
    "--limit-test",
    "24",
    "--concurrency",
    "24",
    "--timeout",
    String(timeoutSeconds),
    "--retries",
    String(retries),
    "--max-backoff",
    "0.25",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.sqlite`,
    "--quiet",
  ];
}

/** Per model, how many requests got each fault (`ok` for none), from `--log` lines. */
function faultsMet(log: readonly string[]): Map<string, Map<string, number>> {
  const met = new Map<string, Map<string, number>>();
  for (const line of log) {
    const model = / model=(\S+)/.exec(line)?.[1];
    if (model === undefined) continue;
    const kind = / fault=(\S+)/.exec(line)?.[1] ?? "ok";
    const kinds = met.get(model) ?? new Map<string, number>();
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    met.set(model, kinds);
  }
  return met;
}

const FAULTS = [
  "--fault-500",
  "0.3",
  "--fault-429",
  "0.1",
  "--fault-timeout",
  "0.05",
  "--fault-truncate",
  "0.05",
];

paperDataTest(
  "fault soak: HotPotQA through a faulty sim-server completes, every example scored, equal to a clean run",
  async (dataDir) => {
    await using dir = await tempDir();
    await using clean = await startSimServerProcess(["--data-dir", dataDir]);
    await using faulty = await startSimServerProcess(["--data-dir", dataDir, ...FAULTS]);
    const t0 = performance.now();
    const [a, b] = await Promise.all([
      // The clean run's timeout is only a bound on a busy machine; the faulty run's cuts the
      // hangs (an answer slower than it on a busy machine is one more failed attempt).
      rpt(runArgs(
        { target: clean.url, others: clean.url },
        `${dir.path}/clean`,
        dataDir,
        20,
        30,
      )),
      rpt(runArgs(
        { target: faulty.url, others: faulty.url },
        `${dir.path}/faulty`,
        dataDir,
        20,
        1,
      )),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(stackTraceIn(b.stderr), undefined, b.stderr);
    const summary = await Deno.readTextFile(`${dir.path}/faulty/summary.json`);
    assert.equal(summary, await Deno.readTextFile(`${dir.path}/clean/summary.json`));

    const run = await loadRun(`${dir.path}/faulty`);
    assert.equal(run.summary?.iterationsRun, 3, JSON.stringify(run.summary?.stop));
    assert.deepEqual(run.summary?.failedCalls, {});
    for (const step of run.steps) {
      for (const e of [step.dev, step.test]) {
        assert.equal(e?.items.filter((i) => i.error !== undefined).length ?? 0, 0);
      }
    }
    const models = run.usage?.sessions[0]?.usage.models ?? {};
    const calls = Object.values(models).reduce((n, m) => n + m.calls, 0);
    const retries = Object.values(models).reduce((n, m) => n + m.failures, 0);

    // Stopped, the server answers its hanging requests too, so the log then holds the hangs;
    // each line names the model and the fault it was given.
    await faulty.stop();
    const met = faultsMet(faulty.log);
    const total = (kind: string) => [...met.values()].reduce((n, k) => n + (k.get(kind) ?? 0), 0);
    const requests = faulty.log.length;
    // Each fault at about its rate over all requests (binomial, > 4 sd from the edges).
    const share = (kind: string) => total(kind) / requests;
    assert.ok(Math.abs(share("500") - 0.3) < 0.08, `500s: ${total("500")} of ${requests}`);
    assert.ok(Math.abs(share("429") - 0.1) < 0.05, `429s: ${total("429")} of ${requests}`);
    assert.ok(share("hang") > 0.01 && share("hang") < 0.1, `hangs: ${total("hang")}`);
    assert.ok(
      share("truncated") > 0.01 && share("truncated") < 0.1,
      `truncated: ${total("truncated")}`,
    );
    // Every role was served by the faulty server, and its client counted each fault as a
    // failed attempt (more failed attempts than faults: under load a slow answer can also
    // pass the 1 s timeout).
    assert.deepEqual([...met.keys()].sort(), [
      "sim-critic",
      "sim-embed",
      "sim-optimizer",
      "sim-target",
    ]);
    let timedOut = 0;
    for (const [role, kinds] of met) {
      const usage = models[`openai-compatible:${role}`];
      const faults = [...kinds].reduce((n, [kind, k]) => kind === "ok" ? n : n + k, 0);
      // A role with few requests (the embedder makes about ten) may draw none by chance;
      // fault_roles_test.ts gives every role each fault deterministically.
      const made = [...kinds.values()].reduce((a, b) => a + b, 0);
      if (made >= 20) assert.ok(faults > 0, `${role} met no fault in ${made} requests`);
      assert.ok(usage !== undefined && usage.failures >= faults, `${role}: ${faults} faults`);
      assert.ok(usage.calls <= (kinds.get("ok") ?? 0), `${role}: ${usage.calls} calls`);
      timedOut += usage.failures - faults;
    }
    const perRole = [...met].map(([role, kinds]) =>
      `${role} {${[...kinds].map(([kind, n]) => `${kind}: ${n}`).join(", ")}}`
    );
    console.log(
      `fault soak: ${calls} calls completed after ${retries} failed attempts; the faulty ` +
        `server received ${requests} requests: ${total("500")}x500, ${total("429")}x429 ` +
        `(Retry-After 1 s), ${total("hang")} hangs, ${total("truncated")} truncated; ` +
        `${timedOut} more attempts failed under load (an answer slower than the 1 s timeout); ` +
        `per role ${perRole.join(", ")}; ${seconds.toFixed(1)} s for both runs`,
    );
  },
  { sanitizeResources: false },
);

paperDataTest(
  "a dead target endpoint stops the run at step 1 (exit 3, no summary, one paragraph); resume finishes it equal to a clean run",
  async (dataDir) => {
    await using dir = await tempDir();
    await using others = await startSimServerProcess(["--data-dir", dataDir]);
    const clean = await rpt(
      runArgs({ target: others.url, others: others.url }, `${dir.path}/clean`, dataDir, 2, 30),
    );
    assert.equal(clean.code, 0, clean.stderr);

    const port = deadPort();
    const target = `http://127.0.0.1:${port}`;
    const runDir = `${dir.path}/run`;
    // Nothing listens: each attempt is refused at once; the timeout only bounds the resume.
    const dead = await rpt(runArgs({ target, others: others.url }, runDir, dataDir, 2, 30));
    assert.equal(dead.code, 3, dead.stderr);
    const lines = dead.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, dead.stderr);
    const paragraph = lines[0] ?? "";
    assert.match(
      paragraph,
      new RegExp(
        `^rpt: step 1 is incomplete: 24 of 24 target calls on dev failed after their retries ` +
          `\\(endpoint http://127\\.0\\.0\\.1:${port}/v1; last error: openai-compatible:sim-target: ` +
          `gave up after 3 attempts: `,
      ),
    );
    assert.ok(paragraph.includes(`continue with: deno task rpt resume ${runDir} `), paragraph);
    assert.equal(stackTraceIn(dead.stderr), undefined);
    await assert.rejects(Deno.stat(`${runDir}/summary.json`), Deno.errors.NotFound);
    const show = await rpt(["show", runDir]);
    assert.match(show.stdout, /step 1 is incomplete: 24 of 24 target calls on dev failed/);

    await using back = await startSimServerProcess(["--data-dir", dataDir, "--port", String(port)]);
    const resumed = await rpt(["resume", runDir, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stderr, "");
    assert.equal(
      await Deno.readTextFile(`${runDir}/summary.json`),
      await Deno.readTextFile(`${dir.path}/clean/summary.json`),
    );
    // The resume went where the run went: the target's calls reached the revived server.
    assert.ok(back.log.length > 0);
  },
  { sanitizeResources: false },
);
