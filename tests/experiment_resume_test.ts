/**
 * Kill-and-resume of a whole experiment: `rpt experiment` on the example plan, its models
 * served over HTTP (OpenAI-compatible wire, the real SDK) by a local server that records
 * every request, is SIGKILLed twice while runs are under way and continued each time with
 * `--resume`. The tables must equal an uninterrupted experiment's, and the server must see
 * no completed call twice: every request of the reference was made, and only the calls in
 * flight at a kill (at most the provider's concurrency limit each time) were sent again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readIndex } from "../lib/experiment/index_file.ts";
import { loadExperiment } from "../lib/experiment/load.ts";
import { tablesMarkdown } from "../lib/experiment/render.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { type ModelServer, serveModels } from "../lib/llm/serve.ts";
import { createSimChatModel, serveTask, type SimServedTask } from "../lib/sim/mod.ts";
import { getTask } from "../lib/tasks/registry.ts";
import { stableStringify } from "../lib/util/json.ts";
import { tempDir } from "./support/toy_loop.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;
const CONCURRENCY = 3;

function counting(model: ChatModel, onRequest: () => void): ChatModel {
  return {
    provider: model.provider,
    model: model.model,
    chat(request, options) {
      onRequest();
      return model.chat(request, options);
    },
  };
}

/** The example plan's custom task, handed to the server's simulated models to serve. */
async function servedTasks(): Promise<SimServedTask | undefined> {
  const plan = JSON.parse(await Deno.readTextFile(join(ROOT, "examples/experiment_sim.json")));
  const custom = (plan.tasks as string[]).find((t) => t.startsWith("custom:"));
  if (custom === undefined) return undefined;
  const task = await getTask(custom, { baseDir: ROOT });
  const data = {
    train: await task.load("train"),
    dev: await task.load("dev"),
    test: await task.load("test"),
  };
  return serveTask(task, data, { strict: true });
}

function startServer(served: SimServedTask | undefined, onRequest: () => void): ModelServer {
  const sim = { seed: 0, ...(served !== undefined ? { task: served } : {}) };
  return serveModels({
    models: {
      "sim-target": counting(createSimChatModel("target", sim), onRequest),
      "sim-optimizer": counting(createSimChatModel("optimizer", sim), onRequest),
    },
  });
}

/** The example plan with its models behind `url`. */
async function planFor(url: string, dir: string): Promise<string> {
  const plan = JSON.parse(await Deno.readTextFile(join(ROOT, "examples/experiment_sim.json")));
  plan.models = {
    target: `openai-compatible:sim-target@${url}/v1`,
    optimizer: `openai-compatible:sim-optimizer@${url}/v1`,
  };
  plan.concurrency = CONCURRENCY;
  const path = join(dir, `plan-${crypto.randomUUID()}.json`);
  await Deno.writeTextFile(path, JSON.stringify(plan));
  return path;
}

function experiment(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "experiment", ...args, "--quiet", "--parallel", "2"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function table(dir: string): Promise<string> {
  return tablesMarkdown((await loadExperiment(dir)).tables);
}

Deno.test({
  name: "SIGKILL an experiment twice and resume: the same tables, no completed call sent twice",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    await using dir = await tempDir();

    // The uninterrupted reference, against its own server.
    const served = await servedTasks();
    let referenceCount = 0;
    const refServer = startServer(served, () => referenceCount++);
    // Bodies with their counts: the wire carries no sample index, so two samples of one
    // request (GEPA reflecting on the same minibatch twice) look alike and both count.
    const referenceBodies = new Map<string, number>();
    const refDir = join(dir.path, "reference");
    try {
      const plan = await planFor(refServer.url, dir.path);
      const child = experiment([plan, "--run-dir", refDir]);
      const out = await child.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      for (const r of refServer.requests) {
        const body = stableStringify(r.body);
        referenceBodies.set(body, (referenceBodies.get(body) ?? 0) + 1);
      }
    } finally {
      await refServer.close();
    }
    assert.equal(refServer.requests.length, referenceCount);
    const total = referenceCount;
    assert.ok(total > 100, `reference made ${total} requests`);
    const reference = await table(refDir);

    // The interrupted experiment: killed at ~30% and ~70% of the reference's calls.
    const killAt = new Set([Math.floor(total * 0.3), Math.floor(total * 0.7)]);
    let seen = 0;
    let child: Deno.ChildProcess | null = null;
    let kills = 0;
    // Per kill, the requests the server had received but not answered: the calls in flight.
    const unanswered: number[] = [];
    const server = startServer(served, () => {
      seen++;
      if (killAt.has(seen) && child !== null) {
        child.kill("SIGKILL");
        kills++;
        unanswered.push(server.counts.received - server.counts.answered);
      }
    });
    try {
      const plan = await planFor(server.url, dir.path);
      const expDir = join(dir.path, "interrupted");
      const statuses: (number | string)[] = [];
      const states: string[][] = [];
      for (let session = 0; session < 4; session++) {
        child = experiment(
          session === 0 ? [plan, "--run-dir", expDir] : ["--resume", "--run-dir", expDir],
        );
        const out = await child.output();
        child = null;
        statuses.push(out.signal ?? out.code);
        if (out.success) break;
        if (out.signal !== "SIGKILL") {
          throw new Error(`session ${session} failed: ${new TextDecoder().decode(out.stderr)}`);
        }
        states.push((await readIndex(expDir)).cells.map((c) => c.state));
      }
      assert.equal(kills, 2);
      assert.deepEqual(statuses, ["SIGKILL", "SIGKILL", 0]);
      // Each kill came while runs were under way, some finished, some not started.
      for (const s of states) assert.ok(s.includes("running"), s.join());
      assert.ok(states[1]!.includes("finished"), states[1]!.join());

      assert.equal(await table(expDir), reference);

      const sent = new Map<string, number>();
      for (const r of server.requests) {
        const body = stableStringify(r.body);
        sent.set(body, (sent.get(body) ?? 0) + 1);
      }
      // Every call of the reference was made (as often), and nothing else.
      for (const [body, n] of referenceBodies) {
        assert.ok(
          (sent.get(body) ?? 0) >= n,
          `a call of the reference was not made: ${body.slice(0, 200)}`,
        );
      }
      assert.deepEqual([...sent.keys()].filter((b) => !referenceBodies.has(b)), []);
      // Only calls in flight at a kill (at most the provider's limit each time) went twice.
      const repeated = server.requests.length - referenceCount;
      const distinct = [...sent.values()].filter((n) => n > 0).length;
      // The calls in flight at a kill had no answer to keep: each was sent again.
      const inFlight = unanswered.reduce((a, b) => a + b, 0);
      assert.ok(repeated >= inFlight, `${repeated} sent again, ${inFlight} in flight`);
      console.log(
        `experiment kill and resume: the uninterrupted reference made ${referenceCount} ` +
          `requests (${referenceBodies.size} distinct); killed at requests ${
            [...killAt].join(" and ")
          }, the interrupted experiment made ${server.requests.length} (${distinct} distinct) ` +
          `over 3 sessions; ${repeated} sent again, with ${
            unanswered.join(" + ")
          } unanswered at the kills (at most ${CONCURRENCY} in flight per kill)`,
      );
      assert.ok(
        repeated >= 0 && repeated <= kills * CONCURRENCY,
        `${repeated} calls were sent again (kills: ${kills}, at most ${CONCURRENCY} in flight)`,
      );
    } finally {
      await server.close();
    }
  },
});
