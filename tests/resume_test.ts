/**
 * Kill-and-resume: an `rpt optimize` subprocess talks to scripted models behind a local
 * OpenAI-compatible server (through the real SDK) and is SIGKILLed at several points; each
 * time `rpt resume` continues it. The final summary.json must equal an uninterrupted run's,
 * and the server must see no completed call twice (with concurrency 1, at most the one
 * call in flight at each kill is repeated).
 */
import assert from "node:assert/strict";
import type { ChatModel } from "../lib/llm/model.ts";
import { type ModelServer, serveModels } from "../lib/llm/serve.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { stableStringify } from "../lib/util/json.ts";
import { tempDir, toyModels, writeToyTask } from "./support/toy_loop.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;

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

function startServer(onRequest: () => void): ModelServer {
  const { target, critic, optimizer } = toyModels();
  return serveModels({
    models: {
      "toy-target": counting(target, onRequest),
      "toy-critic": counting(critic, onRequest),
      "toy-optimizer": counting(optimizer, onRequest),
    },
  });
}

function flags(task: string, url: string, runDir: string): string[] {
  return [
    "--task",
    task,
    "--target",
    `openai-compatible:toy-target@${url}/v1`,
    "--optimizer",
    `openai-compatible:toy-optimizer@${url}/v1`,
    "--critic",
    `openai-compatible:toy-critic@${url}/v1`,
    "--iterations",
    "3",
    "--concurrency",
    "1",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.cache.sqlite`,
    "--seed",
    "7",
  ];
}

Deno.test({
  name: "SIGKILL at several points, resume: same summary.json, no completed call sent twice",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    await using dir = await tempDir();
    const task = await writeToyTask(dir.path, { train: 16, dev: 8, test: 8 });

    // The uninterrupted reference, in process, against its own server.
    let referenceCount = 0;
    const refServer = startServer(() => referenceCount++);
    let reference: unknown;
    const referenceBodies = new Set<string>();
    try {
      const args = flags(task, refServer.url, `${dir.path}/reference`);
      const { parseOptimizeArgs } = await import("../lib/cli/optimize.ts");
      const cmd = await parseOptimizeArgs([...args, "--quiet"]);
      const result = await optimize({ ...cmd.config, k: 3 }, { runDir: cmd.runDir });
      reference = JSON.parse(await Deno.readTextFile(`${result.dir}/summary.json`));
      for (const r of refServer.requests) referenceBodies.add(stableStringify(r.body));
    } finally {
      await refServer.close();
    }
    assert.equal(referenceBodies.size, referenceCount, "the reference sends no call twice");
    const total = referenceCount;
    assert.ok(total > 40, `reference made ${total} requests`);

    // The interrupted run: killed at ~20%, ~60% and during the final test scoring.
    const killAt = new Set([Math.floor(total * 0.2), Math.floor(total * 0.6), total - 2]);
    let seen = 0;
    let child: Deno.ChildProcess | null = null;
    let kills = 0;
    const server = startServer(() => {
      seen++;
      if (killAt.has(seen) && child !== null) {
        child.kill("SIGKILL");
        kills++;
      }
    });
    try {
      const runDir = `${dir.path}/interrupted`;
      // The config file carries k (not a CLI flag) the same way for every session.
      await Deno.writeTextFile(`${dir.path}/k.json`, JSON.stringify({ k: 3 }));
      const sessions: string[][] = [
        ["optimize", ...flags(task, server.url, runDir), "--config", `${dir.path}/k.json`],
      ];
      const statuses: number[] = [];
      for (let session = 0; session < 6; session++) {
        const args = sessions[session] ?? ["resume", runDir];
        const cmd = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", CLI, ...args, "--quiet"],
          stdout: "null",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        });
        child = cmd.spawn();
        const out = await child.output();
        child = null;
        statuses.push(out.code);
        if (out.success) break;
        if (out.signal !== "SIGKILL") {
          throw new Error(`session ${session} failed: ${new TextDecoder().decode(out.stderr)}`);
        }
      }
      assert.equal(kills, 3);
      assert.deepEqual(statuses.slice(-1), [0]);
      assert.equal(statuses.length, 4);

      const summary = JSON.parse(await Deno.readTextFile(`${runDir}/summary.json`));
      assert.deepEqual(summary, reference);

      const bodies = server.requests.map((r) => stableStringify(r.body));
      const unique = new Set(bodies);
      // Every call of the reference was made, and only the calls in flight at a kill twice.
      assert.deepEqual(new Set([...unique].filter((b) => !referenceBodies.has(b))), new Set());
      assert.equal(unique.size, referenceBodies.size);
      const repeated = bodies.length - unique.size;
      assert.ok(repeated <= kills, `${repeated} calls were sent twice (kills: ${kills})`);

      const usage = JSON.parse(await Deno.readTextFile(`${runDir}/usage.json`));
      assert.equal(usage.sessions.length, 4);
      // Killed sessions never ended: their totals were rebuilt from usage.jsonl.
      assert.deepEqual(
        usage.sessions.map((x: { status: string }) => x.status),
        ["killed", "killed", "killed", "finished"],
      );
      // Every call the server received is recorded, but the one in flight at each kill (the
      // local TF-IDF embedder's calls are not the server's).
      const served = usage.sessions.flatMap((x: { usage: { models: object } }) =>
        Object.entries(x.usage.models)
      ).filter(([name]: [string]) => name.startsWith("openai-compatible:"))
        .reduce((n: number, [, u]: [string, { calls: number }]) => n + u.calls, 0);
      assert.equal(served, server.requests.length - kills);
      const events = (await Deno.readTextFile(`${runDir}/events.jsonl`)).split("\n")
        .filter((l) => l.trim() !== "")
        .flatMap((l) => {
          try {
            return [JSON.parse(l)];
          } catch {
            return [];
          }
        });
      assert.equal(events.filter((e) => e.type === "resume").length, 3);
    } finally {
      await server.close();
    }
  },
});

Deno.test("a run directory holds a run once config.json is written: it comes after state.json, so a run cut between the two is no run (optimize starts it afresh), never one resume cannot read", async () => {
  const { rpt, stackTraceIn } = await import("./support/cli.ts");
  await using dir = await tempDir();
  const run = (runDir: string) => [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    "sim:target",
    "--optimizer",
    "sim:optimizer",
    "--iterations",
    "1",
    "--limit-train",
    "12",
    "--limit-dev",
    "12",
    "--limit-test",
    "12",
    "--seed",
    "5",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.cache.sqlite`,
    "--quiet",
  ];
  const whole = `${dir.path}/whole`;
  assert.equal((await rpt(run(whole))).code, 0);
  // A directory where state.json should go stops the first of the two writes.
  const cut = `${dir.path}/cut`;
  await Deno.mkdir(`${cut}/state.json/x`, { recursive: true });
  const stopped = await rpt(run(cut));
  assert.equal(stopped.code, 2);
  assert.equal(stackTraceIn(stopped.stderr), undefined);
  assert.match(
    stopped.stderr,
    /state\.json: it is a directory, not a file; then run the same command again/,
  );
  await assert.rejects(Deno.stat(`${cut}/config.json`), Deno.errors.NotFound);
  await Deno.remove(`${cut}/state.json`, { recursive: true });
  assert.equal((await rpt(run(cut))).code, 0);
  assert.equal(
    await Deno.readTextFile(`${cut}/summary.json`),
    await Deno.readTextFile(`${whole}/summary.json`),
  );
});
