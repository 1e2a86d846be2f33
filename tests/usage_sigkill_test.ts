/**
 * Accounting survives SIGKILL (issue 14, point 5): `rpt optimize` with 8 calls in flight is
 * killed mid-run and resumed; the run's recorded calls must equal the calls the server
 * received, less at most the calls in flight at the kill. The server counts what it
 * received and answered, so the calls in flight at the kill are known.
 */
import assert from "node:assert/strict";
import { startSimServer } from "../lib/cli/sim_server.ts";
import { RunUsage } from "../lib/run/schema.ts";
import { rpt, spawnRpt } from "./support/cli.ts";
import { tempDir } from "./support/toy_loop.ts";

const CONCURRENCY = 8;

Deno.test({
  name:
    "SIGKILL mid-run, then resume: recorded calls = calls the server received, less the calls in flight at the kill",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({ latencyMs: 20 });
    const at = (name: string) => `openai-compatible:${name}@${server.url}/v1`;
    const runDir = `${dir.path}/run`;
    const args = [
      "optimize",
      "--task",
      "synthetic",
      "--target",
      at("sim-target"),
      "--optimizer",
      at("sim-optimizer"),
      "--critic",
      at("sim-critic"),
      "--embedder",
      at("sim-embed"),
      "--iterations",
      "3",
      "--limit-train",
      "32",
      "--limit-dev",
      "32",
      "--limit-test",
      "32",
      "--concurrency",
      String(CONCURRENCY),
      "--run-dir",
      runDir,
      "--cache",
      `${dir.path}/cache.sqlite`,
      "--quiet",
    ];
    const child = spawnRpt(args);
    const output = child.output();
    // Kill well into the run, in the middle of a burst of calls.
    let inFlight = -1;
    let receivedAtKill = 0;
    for (let waited = 0; waited < 60_000; waited += 5) {
      const { received, answered } = server.counts;
      if (received >= 120 && received - answered >= 2) {
        child.kill("SIGKILL");
        inFlight = received - answered;
        receivedAtKill = received;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const killed = await output;
    assert.equal(killed.signal, "SIGKILL", new TextDecoder().decode(killed.stderr));
    assert.ok(inFlight >= 0, "the run ended before it could be killed");
    // Requests the killed process had written but the server had not read yet arrive late:
    // they were in flight too. Once they have settled, every request so far is the killed
    // session's.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const receivedByKilled = server.counts.received;
    const late = receivedByKilled - receivedAtKill;

    const resumed = await rpt(["resume", runDir, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const usage = RunUsage.parse(JSON.parse(await Deno.readTextFile(`${runDir}/usage.json`)));
    assert.deepEqual(usage.sessions.map((s) => s.status), ["killed", "finished"]);
    const served = (models: Record<string, { calls: number }>) =>
      Object.entries(models).filter(([name]) => name.startsWith("openai-compatible:"))
        .reduce((n, [, m]) => n + m.calls, 0);
    const [first, second] = usage.sessions;
    const recordedKilled = served(first?.usage.models ?? {});
    const recordedResumed = served(second?.usage.models ?? {});
    const recorded = recordedKilled + recordedResumed;
    const received = server.counts.received;
    const lost = received - recorded;
    console.log(
      `SIGKILL accounting: server received ${received} requests (${receivedByKilled} from the ` +
        `killed session: ${receivedAtKill} at the kill, ${inFlight} of them unanswered, and ` +
        `${late} arriving after it); recorded ${recorded} calls (${recordedKilled} by the killed ` +
        `session, rebuilt from usage.jsonl; ${recordedResumed} by the resumed one); ${lost} ` +
        `never recorded, with ${inFlight + late} in flight at the server and at most ` +
        `${CONCURRENCY} at the client`,
    );
    // The resumed session recorded every request it made: all the loss is the kill's.
    assert.equal(recordedResumed, received - receivedByKilled);
    assert.ok(lost >= inFlight + late, `recorded ${recorded} of ${received}: answers nobody read`);
    // At most the calls in flight: the server saw `inFlight + late` unanswered; the client,
    // which shares one limit of CONCURRENCY calls over every role, may also have been reading
    // an answer it had not yet recorded, so its own count (at most CONCURRENCY) bounds the loss.
    assert.ok(lost <= CONCURRENCY, `${lost} calls lost with ${inFlight + late} in flight`);
  },
});
