import assert from "node:assert/strict";
import { serveModels } from "../lib/llm/serve.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { parseOptimizeArgs } from "../lib/cli/optimize.ts";
import { tempDir, writeToyTask } from "./support/toy_loop.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;

async function rpt(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      NO_COLOR: "1",
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      ...env,
    },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("bad config: one clear line naming the problem, exit 2, before any call", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, { train: 4, dev: 4, test: 4 });
  const server = serveModels({ models: { m: new ScriptedChatModel(() => "unused") } });
  try {
    const target = `openai-compatible:m@${server.url}/v1`;
    const base = ["optimize", "--target", target, "--run-dir", `${dir.path}/run`];
    const cases: [string[], RegExp][] = [
      [["--task", "nope", "--optimizer", target], /unknown task 'nope'/],
      [["--task", task, "--optimizer", "bogus:x"], /bad model spec "bogus:x": unknown provider/],
      [["--task", task, "--optimizer", "openai:gpt-4.1"], /needs an API key: set OPENAI_API_KEY/],
      [
        ["--task", "formula", "--optimizer", target, "--data-dir", `${dir.path}/no-such-dir`],
        /no-such-dir\/formula\/train\.jsonl: cannot read: file not found/,
      ],
      [
        ["--task", task, "--optimizer", target, "--iterations", "x"],
        /--iterations: expected an integer/,
      ],
      [["--task", task, "--optimizer", target, "--memory", "forever"], /memory: /],
      [["--task", task, "--optimizer", target, "--bogus"], /Unknown option '--bogus'/],
      [["--optimizer", target], /--task is required/],
    ];
    for (const [args, pattern] of cases) {
      const r = await rpt([...base, ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^rpt optimize: /);
      assert.match(lines[0]!, pattern);
    }
    assert.equal(server.requests.length, 0);
    await assert.rejects(Deno.stat(`${dir.path}/run`));
  } finally {
    await server.close();
  }
});

Deno.test("--dry-run prints calls, tokens and dollars and spends nothing", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, { train: 10, dev: 5, test: 5 });
  const r = await rpt([
    "optimize",
    "--task",
    task,
    "--target",
    "openai:gpt-4.1-mini",
    "--optimizer",
    "openai:gpt-4.1",
    "--iterations",
    "4",
    "--run-dir",
    `${dir.path}/run`,
    "--dry-run",
  ], { OPENAI_API_KEY: "sk-not-used" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dry run: custom:toy, 4 iterations, train\/dev\/test 10\/5\/5/);
  // Target: 4 x 10 train + 5 x 5 dev + 3 x 5 test.
  assert.match(r.stdout, /target\s+openai:gpt-4\.1-mini\s+80 calls/);
  assert.match(r.stdout, /optimizer\s+openai:gpt-4\.1\s+8 calls/);
  assert.match(r.stdout, /total: \d+ calls, \d+ tokens, at most \$\d+\.\d\d/);
  await assert.rejects(Deno.stat(`${dir.path}/run`));
});

Deno.test("rpt optimize on the simulator, then rpt show and rpt resume of a finished run", async () => {
  await using dir = await tempDir();
  const runDir = `${dir.path}/run`;
  const r = await rpt([
    "optimize",
    "--task",
    "synthetic",
    "--target",
    "sim:target",
    "--optimizer",
    "sim:optimizer",
    "--embedder",
    "sim:embed",
    "--iterations",
    "2",
    "--limit-train",
    "20",
    "--limit-dev",
    "20",
    "--limit-test",
    "20",
    "--run-dir",
    runDir,
    "--cache",
    `${dir.path}/cache.sqlite`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  // Not a terminal: plain lines, one per step.
  assert.match(r.stderr, /^step 1 \(iteration\): train [\d.]+ dev [\d.]+ test [\d.]+ selection/m);
  assert.match(r.stdout, /^selected step \d+: dev [\d.]+, test [\d.]+ \(vs seed/m);
  assert.match(r.stdout, /\[simulated\]/);
  // The end of the run reads like the demo: the iterations table and what selection means.
  assert.match(
    r.stdout,
    /^step\s+train\s+dev\s+test\s+dev Brier\s+selection\s+best\s+failure topics/m,
  );
  assert.match(r.stdout, /^selection = accuracy - 0\.0025 per 1,000 prompt characters, on dev$/m);
  const show = await rpt(["show", runDir]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^SIMULATED: every model is rpt's offline simulator/m);
  assert.match(show.stdout, /^step\s+train\s+dev\s+test\s+dev Brier\s+selection\s+best/m);
  assert.match(
    show.stdout,
    /^selected \(step \d+\) - seed on test: [+-][\d.]+, 95% CI \[.*P\(selected better\) (\d\.\d{3}|[<>] 0\.(999|001)) /m,
  );
  assert.doesNotMatch(show.stdout, /final - seed/);
  assert.match(show.stdout, /^cost: \$0\.0000;/m);
  const summary = await Deno.readTextFile(`${runDir}/summary.json`);
  const again = await rpt(["resume", runDir, "--quiet"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await Deno.readTextFile(`${runDir}/summary.json`), summary);
  const exists = await rpt([
    "optimize",
    "--task",
    "synthetic",
    "--target",
    "sim:target",
    "--optimizer",
    "sim:optimizer",
    "--run-dir",
    runDir,
  ]);
  assert.equal(exists.code, 2);
  // The hint says how this CLI was started (here by deno run, unless an rpt is installed).
  assert.match(
    exists.stderr,
    /already holds a run: use '(rpt|deno run -A \S*lib\/cli\.ts) resume /,
  );
});

Deno.test("flags map onto the run config; --config supplies defaults flags override", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/c.json`, JSON.stringify({ iterations: 7, k: 4, seed: 1 }));
  const c = await parseOptimizeArgs([
    "--config",
    `${dir.path}/c.json`,
    "--task",
    "hotpotqa",
    "--target",
    "sim:target",
    "--optimizer",
    "sim:optimizer",
    "--seed",
    "5",
    "--protocol",
    "explore",
    "--memory",
    "last_k",
    "--budget-usd",
    "2.5",
    "--limit-dev",
    "30",
    "--run-dir",
    "r",
    "--dry-run",
  ]);
  assert.deepEqual(c.config, {
    iterations: 7,
    k: 4,
    seed: 5,
    task: "hotpotqa",
    target: "sim:target",
    optimizer: "sim:optimizer",
    protocol: "explore",
    memory: "last_k",
    budgetUsd: 2.5,
    limits: { dev: 30 },
  });
  assert.equal(c.runDir, "r");
  assert.equal(c.dryRun, true);
});

Deno.test("Ctrl-C (SIGINT) stops after saving the last complete step; resume finishes", async () => {
  await using dir = await tempDir();
  const runDir = `${dir.path}/run`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "optimize",
      "--task",
      "synthetic",
      "--target",
      "sim:target",
      "--optimizer",
      "sim:optimizer",
      "--embedder",
      "sim:embed",
      "--iterations",
      "200",
      "--run-dir",
      runDir,
      "--cache",
      `${dir.path}/cache.sqlite`,
    ],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let seen = "";
  let signalled = false;
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    seen += chunk;
    if (!signalled && /^step 1 /m.test(seen)) {
      child.kill("SIGINT");
      signalled = true;
    }
  }
  const status = await child.status;
  assert.equal(status.code, 130, seen);
  assert.match(seen, /stopping after saving the last complete step/);
  // Written the way rpt was started (here `deno run -A .../lib/cli.ts`, unless an rpt is on
  // the PATH): tests/cli_vocabulary_test.ts checks each form.
  assert.match(seen, /continue with: (rpt|deno run -A \S*lib\/cli\.ts) resume /);
  const state = JSON.parse(await Deno.readTextFile(`${runDir}/state.json`));
  assert.ok(state.completedSteps >= 1);
  assert.equal(state.finished, false);
  const events = await Deno.readTextFile(`${runDir}/events.jsonl`);
  assert.match(events, /"type":"interrupted"/);
  const before = JSON.parse(await Deno.readTextFile(`${runDir}/usage.json`)).total;
  const resumed = await rpt(["resume", runDir, "--quiet"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(await Deno.readTextFile(`${runDir}/summary.json`));
  assert.ok(summary.steps.length > state.completedSteps);
  // The cost line: this session's, then the run's, the first session's calls included.
  const cost =
    /^cost: \$0\.0000 \((\d+) calls, (\d+) cache hits\) this session; the run: \$0\.0000 \((\d+) calls, (\d+) cache hits\) \[simulated\]$/m
      .exec(resumed.stdout);
  assert.ok(cost !== null, resumed.stdout);
  assert.equal(Number(cost[3]), before.calls + Number(cost[1]));
  assert.equal(Number(cost[4]), before.cacheHits + Number(cost[2]));
  const after = JSON.parse(await Deno.readTextFile(`${runDir}/usage.json`)).total;
  assert.equal(after.calls, Number(cost[3]));
});
