/**
 * Batch mode in the loop (issue 16 §2): `rpt optimize --batch` through local servers that
 * speak the OpenAI files + batches API and Gemini's batch mode, driven by the real SDKs.
 * A batch run's `summary.json` equals the interactive run's, and the server shows the split
 * evaluations and critiques went as batch jobs; a run killed while a batch is in flight
 * resumes by polling that batch (one creation, not two); a failed line and an expired batch
 * fall back to ordinary calls, counted and shown, with results equal to a clean run; a line
 * that also fails as an ordinary call is a failed call (exit 3).
 */
import assert from "node:assert/strict";
import { startSimServer } from "../lib/cli/sim_server.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { ProviderError } from "../lib/llm/model.ts";
import { createSimChatModel, createSimEmbedder } from "../lib/sim/mod.ts";
import { loadRun } from "../lib/run/reader.ts";
import { parseEvents } from "../lib/run/reader.ts";
import type { RunEvent, RunEventOf } from "../lib/run/events.ts";
import { runWarnings } from "../lib/run_warnings.ts";
import { rpt, spawnRpt, stackTraceIn, startSimServerProcess } from "./support/cli.ts";
import { tempDir } from "./support/toy_loop.ts";

/** `rpt optimize` on the synthetic task, small: 2 iterations, 12/8/8 examples. */
function runArgs(
  url: string,
  runDir: string,
  opts: { batch?: boolean; wire?: "chat" | "responses" | "gemini"; extra?: string[] } = {},
): string[] {
  const openai = (name: string) => `openai-compatible:${name}@${url}/v1`;
  const batchRole = (name: string) =>
    opts.wire === "gemini"
      ? `gemini:${name}@${url}`
      : opts.wire === "responses"
      ? `openai:${name}@${url}/v1`
      : openai(name);
  return [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    batchRole("sim-target"),
    "--optimizer",
    openai("sim-optimizer"),
    "--critic",
    batchRole("sim-critic"),
    "--embedder",
    openai("sim-embed"),
    "--iterations",
    "2",
    "--limit-train",
    "12",
    "--limit-dev",
    "8",
    "--limit-test",
    "8",
    "--retries",
    "1",
    "--max-backoff",
    "0.05",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.sqlite`,
    ...(opts.batch ? ["--batch", "--batch-poll", "0.05"] : []),
    ...(opts.extra ?? []),
  ];
}

const ENV = { GEMINI_API_KEY: "local", OPENAI_API_KEY: "local" };

async function events(runDir: string): Promise<RunEvent[]> {
  const path = `${runDir}/events.jsonl`;
  return await parseEvents(await Deno.readTextFile(path), path);
}

function ofType<T extends RunEvent["type"]>(all: RunEvent[], type: T): RunEventOf<T>[] {
  return all.filter((e): e is RunEventOf<T> => e.type === type);
}

const summaryOf = (runDir: string) => Deno.readTextFile(`${runDir}/summary.json`);

/** The clean interactive run's summary (the same for every server: the simulator is seeded). */
let cleanSummary: Promise<string> | undefined;
function clean(): Promise<string> {
  return cleanSummary ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "rpt-batch-clean-" });
    try {
      await using server = startSimServer();
      const out = await rpt(runArgs(server.url, `${dir}/run`), ENV);
      assert.equal(out.code, 0, out.stderr);
      return await summaryOf(`${dir}/run`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  })();
}

Deno.test({
  name:
    "--batch through rpt sim-server: summary.json equal to the interactive run's; split evaluations and critiques went as batch jobs",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using plain = await startSimServerProcess();
    await using batch = await startSimServerProcess();
    const [a, b] = await Promise.all([
      rpt(runArgs(plain.url, `${dir.path}/plain`, { extra: ["--quiet"] })),
      rpt(runArgs(batch.url, `${dir.path}/batch`, { batch: true })),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(stackTraceIn(b.stderr), undefined, b.stderr);
    assert.equal(await summaryOf(`${dir.path}/batch`), await summaryOf(`${dir.path}/plain`));

    const log = await events(`${dir.path}/batch`);
    const submitted = ofType(log, "batch_submitted");
    const done = ofType(log, "batch_done");
    // Step 1 scores dev and test and diagnoses train (target, then critiques); step 2 dev
    // and train; the final step dev; the selected prompt's test is step 1's (cached).
    const phases = submitted.map((e) => `${e.step}:${e.phase}`);
    assert.deepEqual(phases.slice(0, 4), ["1:dev", "1:test", "1:target", "1:critique"]);
    assert.ok(phases.includes("2:dev") && phases.includes("2:target") && phases.includes("3:dev"));
    for (const e of done) {
      assert.equal(e.failedInBatch + e.missing + e.ordinary + e.failures, 0, JSON.stringify(e));
      assert.equal(e.fromBatch + e.cacheHits, e.requests);
    }
    const lines = submitted.reduce((n, e) => n + e.lines, 0);
    // The server's log: one upload and one creation per job, and the target's and critic's
    // calls never reached the chat endpoint: the interactive run's chat calls less the
    // batch lines are the batch run's (optimizer and ClusterFusion, which stay interactive).
    const count = (server: { log: string[] }, re: RegExp) =>
      server.log.filter((l) => re.test(l)).length;
    assert.equal(count(batch, /^POST \/v1\/batches 200$/), submitted.length);
    assert.equal(count(batch, /^POST \/v1\/files 200$/), submitted.length);
    assert.ok(count(batch, /^GET \/v1\/batches\/batch_\S+ 200$/) >= submitted.length);
    assert.equal(count(plain, /\/v1\/batches/), 0);
    // (A model request's line ends with the model it named.)
    const chat = /^POST \/v1\/chat\/completions 200 model=\S+$/;
    assert.equal(count(batch, chat), count(plain, chat) - lines);
    assert.ok(lines >= 8 + 8 + 12, `${lines} batch lines`);
    console.log(
      `batch round trip: ${submitted.length} jobs, ${lines} lines; chat calls ` +
        `${count(plain, chat)} interactive -> ${count(batch, chat)} with --batch; ` +
        `${count(batch, /\/v1\/(files|batches)/)} batch-API requests`,
    );
    assert.match(b.stdout, /\nbatch: \d+ jobs answered \d+ lines at batch prices\n/);
    // The usage record bills those lines as batch lines.
    const usage = (await loadRun(`${dir.path}/batch`)).usage?.sessions[0]?.usage.models ?? {};
    const batchCalls = Object.values(usage).reduce((n, m) => n + (m.batch?.calls ?? 0), 0);
    assert.equal(batchCalls, done.reduce((n, e) => n + e.fromBatch, 0));
  },
});

Deno.test({
  name:
    "SIGKILL while a batch is in flight, then rpt resume: the batch is polled again, never created twice",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer();
    // The first job (step 1's dev pass) stays in progress for a while.
    server.batchFaults.queue!.push({ delayMs: 2_500 });
    const runDir = `${dir.path}/run`;
    const child = spawnRpt(runArgs(server.url, runDir, { batch: true, extra: ["--quiet"] }));
    const output = child.output();
    let killed = false;
    for (let waited = 0; waited < 30_000 && !killed; waited += 20) {
      const log = await events(runDir).catch(() => []);
      if (ofType(log, "batch_submitted").length > 0) {
        child.kill("SIGKILL");
        killed = true;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const first = await output;
    assert.ok(killed, "no batch was submitted");
    assert.equal(first.signal, "SIGKILL", new TextDecoder().decode(first.stderr));
    assert.equal(server.batches.length, 1);
    const [job] = server.batches;
    assert.equal(job?.state, "running");
    const recorded = ofType(await events(runDir), "batch_submitted");
    assert.deepEqual(recorded.map((e) => [e.step, e.phase, e.batchId]), [[1, "dev", job?.id]]);

    const resumed = await rpt(["resume", runDir, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const log = await events(runDir);
    const devOne = ofType(log, "batch_submitted").filter((e) => e.step === 1 && e.phase === "dev");
    assert.equal(devOne.length, 1, "step 1's dev batch was submitted twice");
    const again = ofType(log, "batch_done").find((e) => e.step === 1 && e.phase === "dev");
    assert.equal(again?.batchId, job?.id);
    assert.equal(again?.resumed, true);
    assert.equal(again?.fromBatch, 8);
    // One creation per batch the run recorded: nothing was sent twice.
    assert.equal(server.batches.length, ofType(log, "batch_submitted").length);
    assert.equal(new Set(server.batches.map((b) => b.id)).size, server.batches.length);
    assert.equal(await summaryOf(runDir), await clean());
  },
});

Deno.test({
  name:
    "a failed line and an expired batch fall back to ordinary calls: results equal a clean run, fallbacks counted and shown",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer();
    // Step 1's dev job fails lines 0 and 2; its test job expires after 3 of its 8 lines.
    server.batchFaults.queue!.push({ failLines: [0, 2] }, { expireAfter: 3 });
    const runDir = `${dir.path}/run`;
    const out = await rpt(runArgs(server.url, runDir, { batch: true }));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(await summaryOf(runDir), await clean());

    const done = ofType(await events(runDir), "batch_done");
    const dev = done.find((e) => e.step === 1 && e.phase === "dev");
    const test = done.find((e) => e.step === 1 && e.phase === "test");
    assert.deepEqual(
      dev && [dev.state, dev.fromBatch, dev.failedInBatch, dev.missing, dev.ordinary, dev.failures],
      ["completed", 6, 2, 0, 2, 0],
    );
    assert.deepEqual(
      test &&
        [
          test.state,
          test.fromBatch,
          test.failedInBatch,
          test.missing,
          test.ordinary,
          test.failures,
        ],
      ["expired", 3, 0, 5, 5, 0],
    );
    assert.match(
      out.stdout,
      /\nwarning: batch: \d+ jobs answered \d+ lines at batch prices; 7 lines fell back to ordinary calls/,
    );
    const warnings = runWarnings(await loadRun(runDir)).filter((w) => w.kind === "batch fallbacks");
    assert.deepEqual(warnings.map((w) => [w.step, w.text]), [
      [
        1,
        `dev batch ${dev?.batchId} (completed): 2 lines failed in the batch; 2 sent as ordinary ` +
        "calls, all answered",
      ],
      [
        1,
        `test batch ${test?.batchId} (expired): 5 never answered; 5 sent as ordinary calls, ` +
        "all answered",
      ],
    ]);
  },
});

Deno.test({
  name:
    "a line failing in the batch and again as an ordinary call is a failed call: exit 3, incomplete; resume finishes it",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const sim = { seed: 0 };
    const target = createSimChatModel("target", sim);
    let broken = true;
    // The target cannot answer the first dev example while `broken`, in a batch or not.
    const flaky = {
      provider: target.provider,
      model: target.model,
      chat: (request: Parameters<typeof target.chat>[0], options?: { signal?: AbortSignal }) => {
        const text = request.messages.map((m) => m.content).join("\n");
        if (broken && text.includes(FIRST_DEV_MARK)) {
          return Promise.reject(
            new ProviderError({
              provider: "sim",
              model: "target",
              status: 400,
              retryable: false,
              message: "no",
            }),
          );
        }
        return target.chat(request, options);
      },
    };
    await using server = serveModels({
      models: {
        "sim-target": flaky,
        "sim-optimizer": createSimChatModel("optimizer", sim),
        "sim-critic": createSimChatModel("critic", sim),
      },
      embedders: { "sim-embed": createSimEmbedder(sim) },
    });
    const runDir = `${dir.path}/run`;
    const out = await rpt(runArgs(server.url, runDir, { batch: true, extra: ["--quiet"] }));
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /step 1 is incomplete: 1 of 8 target calls on dev failed/);
    assert.equal(stackTraceIn(out.stderr), undefined, out.stderr);
    const dev = ofType(await events(runDir), "batch_done").find((e) => e.phase === "dev");
    assert.deepEqual(dev && [dev.failedInBatch, dev.ordinary, dev.failures], [1, 1, 1]);

    broken = false;
    const resumed = await rpt(["resume", runDir, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const devOne = ofType(await events(runDir), "batch_submitted").filter((e) =>
      e.step === 1 && e.phase === "dev"
    );
    // The resumed step polls the same batch (its 7 answers are cached) and sends the one
    // failed line as an ordinary call.
    assert.equal(devOne.length, 1);
    assert.equal(await summaryOf(runDir), await clean());
  },
});

for (const wire of ["gemini", "responses"] as const) {
  const api = wire === "gemini"
    ? "Gemini's batch mode (batchGenerateContent)"
    : "the OpenAI Batch API on /v1/responses (openai: specs)";
  Deno.test({
    name:
      `--batch through ${api}: the loop's jobs go there, summary equal to the interactive run's`,
    sanitizeResources: false,
    async fn() {
      await using dir = await tempDir();
      await using server = startSimServer();
      const [plain, batch] = await Promise.all([
        rpt(runArgs(server.url, `${dir.path}/plain`, { wire, extra: ["--quiet"] }), ENV),
        rpt(
          runArgs(server.url, `${dir.path}/batch`, { wire, batch: true, extra: ["--quiet"] }),
          ENV,
        ),
      ]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(batch.code, 0, batch.stderr);
      assert.equal(await summaryOf(`${dir.path}/batch`), await summaryOf(`${dir.path}/plain`));
      const submitted = ofType(await events(`${dir.path}/batch`), "batch_submitted");
      assert.ok(submitted.length >= 6);
      const prefix = wire === "gemini" ? "batches/" : "batch_";
      assert.ok(submitted.every((e) => e.batchId.startsWith(prefix)));
      const wireName = wire === "gemini" ? "gemini" : "openai";
      assert.deepEqual(server.batches.map((b) => b.wire), submitted.map(() => wireName));
      if (wire === "responses") {
        const creations = server.requests.filter((r) =>
          r.method === "POST" && r.path === "/v1/batches"
        );
        // (The sim-server keeps its last 100 requests only.)
        assert.ok(creations.length > 0);
        assert.ok(
          creations.every((r) => (r.body as { endpoint?: string }).endpoint === "/v1/responses"),
        );
      }
    },
  });
}

Deno.test("--batch with only simulated roles: a note, every call interactive, same result", async () => {
  await using dir = await tempDir();
  const args = (runDir: string, batch: boolean) => [
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
    "8",
    "--limit-dev",
    "6",
    "--limit-test",
    "6",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.sqlite`,
    "--quiet",
    ...(batch ? ["--batch"] : []),
  ];
  const [a, b] = await Promise.all([
    rpt(args(`${dir.path}/a`, false)),
    rpt(args(`${dir.path}/b`, true)),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(
    b.stderr.trim(),
    "rpt: batch mode: the target (sim:target, SIMULATED) and the critic (sim:optimizer, " +
      "SIMULATED) have no batch API; their calls stay interactive",
  );
  assert.equal(await summaryOf(`${dir.path}/b`), await summaryOf(`${dir.path}/a`));
  assert.equal(ofType(await events(`${dir.path}/b`), "batch_submitted").length, 0);
  const config = JSON.parse(await Deno.readTextFile(`${dir.path}/b/config.json`));
  assert.equal(config.batch, true);
});

/** Text of the synthetic task's first dev example, which the flaky target cannot answer. */
const FIRST_DEV_MARK = await (async () => {
  const { getTask } = await import("../lib/tasks/registry.ts");
  const task = await getTask("synthetic");
  const [first] = await task.load("dev");
  assert.ok(first !== undefined);
  return first.question;
})();

Deno.test("rpt optimize --dry-run --batch: target and critic at batch prices, the saving shown", async () => {
  const args = [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    "openai:gpt-4.1-mini",
    "--optimizer",
    "openai:gpt-5",
    "--iterations",
    "3",
    "--dry-run",
  ];
  const [plain, batch] = await Promise.all([rpt(args), rpt([...args, "--batch"])]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(batch.code, 0, batch.stderr);
  const dollars = (out: string, role: string) =>
    Number(new RegExp(`\\n  ${role} +openai:\\S+ +\\d+ calls .*\\$(\\d+\\.\\d\\d)`).exec(out)?.[1]);
  // Half the price for the batched roles (to the cent), the same for the others.
  for (const role of ["target", "critic"]) {
    assert.ok(Math.abs(dollars(batch.stdout, role) - dollars(plain.stdout, role) / 2) <= 0.01);
    assert.match(batch.stdout, new RegExp(`\\n  ${role} .*\\(batch\\)\\n`));
  }
  assert.equal(dollars(batch.stdout, "optimizer"), dollars(plain.stdout, "optimizer"));
  const saving =
    /\n {2}batch: \$(\d+\.\d\d) at batch prices instead of \$(\d+\.\d\d) \(saves \$(\d+\.\d\d)\)\n/
      .exec(batch.stdout);
  assert.ok(saving !== null, batch.stdout);
  const total = /\n {2}total: \d+ calls, \d+ tokens, at most \$(\d+\.\d\d)/.exec(plain.stdout);
  assert.equal(saving[2], total?.[1]);
  assert.ok(Number(saving[3]) > 0 && Number(saving[1]) < Number(saving[2]));
  assert.match(batch.stdout, /\n {2}batch: full-split target passes and critiques as batch jobs/);
  assert.ok(!plain.stdout.includes("batch"));
});

Deno.test("the progress line shows the phase's batch job: state, counts, fallbacks", async () => {
  const { ProgressMeter } = await import("../lib/revise/progress_meter.ts");
  const meter = new ProgressMeter({ now: () => 0, barWidth: 0 });
  meter.observe({ type: "progress", step: 1, iterations: 2, phase: "dev", done: 0, total: 8 });
  const batch = {
    type: "batch" as const,
    step: 1,
    phase: "dev" as const,
    role: "target" as const,
    batchId: "batch_1",
    done: 5,
    failed: 1,
    total: 8,
    fallbacks: 0,
  };
  meter.observe({ ...batch, stage: "polling", state: "running" });
  assert.match(meter.line(), /^step 1\/2 dev 0\/8 \(batch running 5\/8, 1 failed\) · /);
  meter.observe({ ...batch, stage: "ordinary", state: "expired", fallbacks: 3 });
  assert.match(meter.line(), /^step 1\/2 dev 0\/8 \(batch expired: 3 lines as ordinary calls\) · /);
  meter.observe({ ...batch, stage: "done", state: "expired" });
  assert.match(meter.line(), /^step 1\/2 dev 0\/8 · /);
});
