/**
 * Progress tells the time and the money: the rendered line at fixed times (injected clock)
 * with elapsed time, ETAs and spend, the terminal and heartbeat writers, the notebook's live
 * progress; and the SIMULATED banner, which names the simulated roles and appears only once
 * a run is open (never before an argument or data error).
 */
import assert from "node:assert/strict";
import { rpt } from "./support/cli.ts";
import { progressReporter } from "../lib/cli/progress.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { simulationBanner } from "../lib/llm/spec.ts";
import { createRunProgress } from "../lib/notebook.ts";
import type { LoopEvent, LoopProgress, LoopSpend } from "../lib/revise/progress.ts";
import { ProgressMeter } from "../lib/revise/progress_meter.ts";
import { parseRunConfig } from "../lib/run/config.ts";
import { RunUsage, type StepSummary } from "../lib/run/schema.ts";
import { continueRun, optimize } from "../lib/revise/optimize.ts";
import { duration } from "../lib/util/format.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { metricsFixture } from "./support/fixtures.ts";
import { tempDir } from "./support/toy_loop.ts";

const spend = (calls: number, usd: number, unpriced: string[] = []): LoopSpend => ({
  calls,
  cacheHits: 4,
  inputTokens: calls * 300,
  outputTokens: calls * 50,
  usd,
  unpriced,
});

const progress = (
  step: number,
  phase: LoopProgress["phase"],
  done: number,
  total: number,
  s?: LoopSpend,
): LoopEvent => ({
  type: "progress",
  step,
  iterations: 3,
  phase,
  done,
  total,
  ...(s ? { spend: s } : {}),
});

function stepEvent(step: number): LoopEvent {
  const summary: StepSummary = {
    step,
    kind: "iteration",
    dev: metricsFixture({ score: 0.5 }),
    test: null,
    train: metricsFixture({ score: 0.4 }),
    selection: 0.5,
    selected: step === 1,
    promptChars: 100,
    topics: [],
    action: "patch",
    rationale: "r",
    rejections: [],
  } as unknown as StepSummary;
  return { type: "step", summary };
}

const config = parseRunConfig({
  task: "synthetic",
  target: "sim:target",
  optimizer: "sim:optimizer",
});

Deno.test("the progress line at fixed times: elapsed, ETA for the phase, the step and the run, spend", () => {
  const meter = new ProgressMeter({ now: () => 0 });
  meter.observe({ type: "open", dir: "/r", config, completedSteps: 0, simulated: false }, 0);
  assert.equal(meter.line(0), "starting · 0s elapsed · ETA after step 1");
  meter.observe(progress(1, "target", 0, 100, spend(0, 0)), 2_000);
  meter.observe(progress(1, "target", 50, 100, spend(120, 0.0312)), 12_000);
  // 50 of 100 in the 10 s since the phase began: 10 s left in it; no step has completed yet.
  assert.equal(
    meter.line(12_000),
    "step 1/3 target [########--------] 50/100 · 12s elapsed · phase ~10s left, " +
      "run ETA after step 1 · 120 calls (+4 cached), 42.0k tokens, $0.0312",
  );
  meter.observe(stepEvent(1), 40_000);
  meter.observe(progress(2, "dev", 0, 100, spend(300, 0.08)), 40_000);
  meter.observe(progress(2, "dev", 10, 100, spend(330, 0.09)), 50_000);
  // Steps take 40 s (one seen); 10 s into step 2, but dev alone needs 90 s more at its rate.
  assert.equal(
    meter.line(50_000),
    "step 2/3 dev [##--------------] 10/100 · 50s elapsed · step ~1m30s, run ~2m10s left · " +
      "330 calls (+4 cached), 115.5k tokens, $0.0900",
  );
  meter.observe(progress(2, "dev", 100, 100, spend(420, 0.1)), 60_000);
  // The phase is done: the step's mean (40 s) less the 20 s spent in it; one more step after.
  assert.equal(meter.stepEta(60_000), 20_000);
  assert.equal(meter.runEta(60_000), 60_000);
  assert.match(meter.line(60_000), /· 1m00s elapsed · step ~20s, run ~1m00s left · /);
  // A model without a price: its dollars are not known, and the line says so.
  meter.observe(progress(2, "cluster", 1, 2, spend(430, 0.1, ["openai-compatible:qwen3"])), 61_000);
  assert.match(meter.line(61_000), /, \$0\.1000 \+ unpriced \(openai-compatible:qwen3\)$/);
  meter.observe(progress(2, "cluster", 1, 2, spend(430, 0, ["openai-compatible:qwen3"])), 61_000);
  assert.match(meter.line(61_000), /tokens, unpriced \(openai-compatible:qwen3\)$/);
  // The step after the last iteration (the last patch, on dev only).
  meter.observe(progress(4, "dev", 5, 10), 62_000);
  assert.match(meter.line(62_000), /^final step 4 dev /);
});

Deno.test("a resumed run's first ETA waits for its own first step", () => {
  const meter = new ProgressMeter();
  meter.observe({ type: "open", dir: "/r", config, completedSteps: 4, simulated: true }, 0);
  assert.equal(meter.line(5_000), "starting · 5s elapsed · ETA after step 5");
});

Deno.test("without a terminal: a heartbeat line every 30 s between step lines", () => {
  let t = 0;
  const out: string[] = [];
  const r = progressReporter({ tty: false, write: (s) => out.push(s), now: () => t, tickMs: 0 });
  r.onEvent(progress(1, "target", 0, 10, spend(0, 0)));
  t = 10_000;
  r.onEvent(progress(1, "target", 3, 10, spend(30, 0.01)));
  assert.deepEqual(out, []);
  t = 30_000;
  r.onEvent(progress(1, "target", 6, 10, spend(60, 0.02)));
  assert.deepEqual(out, [
    "step 1/3 target [##########------] 6/10 · 30s elapsed · phase ~20s left, run ETA after " +
    "step 1 · 60 calls (+4 cached), 21.0k tokens, $0.0200\n",
  ]);
  t = 45_000;
  r.onEvent(stepEvent(1));
  assert.equal(
    out[1],
    "step 1 (iteration): train 0.400 dev 0.500 selection 0.5000 *best*; patch [45s]\n",
  );
  t = 70_000;
  r.onEvent(progress(2, "dev", 1, 10));
  assert.equal(out.length, 2, "the step line restarted the 30 s");
  t = 75_000;
  r.onEvent(progress(2, "dev", 2, 10));
  assert.equal(out.length, 3);
  assert.match(out[2]!, /^step 2\/3 dev \[###-------------\] 2\/10 · 1m15s elapsed · step ~/);
  r.done();
});

Deno.test("on a terminal: one line redrawn in place, cut to the terminal's width", () => {
  let t = 0;
  const out: string[] = [];
  const r = progressReporter({
    tty: true,
    write: (s) => out.push(s),
    now: () => t,
    columns: () => 40,
    tickMs: 0,
  });
  r.onEvent(progress(1, "target", 1, 10, spend(1, 0)));
  t = 50;
  r.onEvent(progress(1, "target", 2, 10, spend(2, 0))); // within 100 ms: not redrawn
  t = 200;
  r.onEvent(progress(1, "target", 3, 10, spend(3, 0)));
  assert.equal(out.length, 2);
  for (const s of out) {
    assert.ok(s.startsWith("\r\x1b[2Kstep 1/3 target ["), JSON.stringify(s));
    assert.ok(s.length <= "\r\x1b[2K".length + 39, JSON.stringify(s));
    assert.ok(s.endsWith("…"));
  }
  r.onEvent(stepEvent(1));
  assert.equal(out[2], "\r\x1b[2K");
  assert.match(out[3]!, /^step 1 \(iteration\): /);
  r.done();
});

Deno.test("the notebook's run progress: heartbeats and step lines with time and spend", async () => {
  let t = 0;
  const lines: string[] = [];
  const p = createRunProgress("RPT", { print: (l) => lines.push(l) }, { now: () => t });
  p.onEvent(progress(1, "target", 0, 4, spend(0, 0)));
  t = 20_000;
  p.onEvent(progress(1, "target", 2, 4, spend(10, 0.5)));
  t = 30_000;
  p.onEvent(progress(1, "target", 3, 4, spend(15, 0.75)));
  t = 40_000;
  p.onEvent(stepEvent(1));
  await p.finish("done");
  assert.deepEqual(lines, [
    "RPT · step 1/3 target [############----] 3/4 · 30s elapsed · phase ~10s left, run ETA " +
    "after step 1 · 15 calls (+4 cached), 5.3k tokens, $0.7500",
    // Step 1 took 40 s: so will steps 2 and 3.
    "RPT · step 1 (iteration) saved: dev 0.500, best so far · 40s elapsed · step ~40s, run ~1m20s " +
    "left · 15 calls (+4 cached), 5.3k tokens, $0.7500",
    "RPT · done · 40s elapsed · 15 calls (+4 cached), 5.3k tokens, $0.7500",
  ]);
});

Deno.test("the SIMULATED banner names what is simulated, and nothing when nothing is", () => {
  assert.equal(
    simulationBanner({ target: "sim:target", optimizer: "openai:gpt-5", critic: "sim:critic" }),
    "SIMULATED: target and critic simulated; optimizer openai:gpt-5 (rpt's offline simulator: " +
      "figures that involve it are not LLM results)",
  );
  assert.equal(
    simulationBanner({
      target: "openai:gpt-4.1-mini",
      optimizer: "openai:gpt-4.1",
      embedder: "sim:embed",
    }),
    "SIMULATED: embedder simulated; target openai:gpt-4.1-mini, optimizer openai:gpt-4.1, critic " +
      "openai:gpt-4.1 (rpt's offline simulator: figures that involve it are not LLM results)",
  );
  assert.equal(
    simulationBanner({ target: "sim:target", optimizer: "sim:optimizer", embedder: "sim:embed" }),
    "SIMULATED: every model is rpt's offline simulator; the figures are not LLM results",
  );
  assert.equal(
    simulationBanner({ target: "openai:gpt-4.1", optimizer: "gemini:gemini-2.5-pro" }),
    undefined,
  );
});

Deno.test("rpt optimize: the banner only once the run is open, naming the simulated roles", async () => {
  await using dir = await tempDir();
  const sim = ["--target", "sim:target", "--optimizer", "sim:optimizer"];
  for (
    const bad of [
      ["--task", "synthetic", ...sim, "--iterations", "x"],
      ["--task", "formula", ...sim, "--data-dir", `${dir.path}/none`],
      ["--task", "synthetic", "--target", "sim:target", "--optimizer", "openai:gpt-4.1"],
    ]
  ) {
    const r = await rpt(["optimize", ...bad, "--run-dir", `${dir.path}/run`]);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /SIMULATED/);
  }
  const demo = await rpt(["demo", "--task", "nope", "--run-dir", `${dir.path}/demo`]);
  assert.equal(demo.code, 2, demo.stderr);
  assert.doesNotMatch(demo.stdout + demo.stderr, /SIMULATED/);
  // A real optimizer (the simulator behind a local OpenAI-compatible server) with a simulated
  // target and critic: the banner says which is which, before the steps and at the end.
  const server = serveModels({ models: { opt: createSimChatModel("optimizer") } });
  try {
    const optimizer = `openai-compatible:opt@${server.url}/v1`;
    const r = await rpt([
      "optimize",
      "--task",
      "synthetic",
      "--target",
      "sim:target",
      "--optimizer",
      optimizer,
      "--critic",
      "sim:critic",
      "--iterations",
      "1",
      "--limit-train",
      "10",
      "--limit-dev",
      "10",
      "--limit-test",
      "10",
      "--run-dir",
      `${dir.path}/mixed`,
      "--cache",
      `${dir.path}/cache.sqlite`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const banner =
      `SIMULATED: target and critic simulated; optimizer ${optimizer}, embedder tfidf ` +
      "(rpt's offline simulator: figures that involve it are not LLM results)";
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], banner);
    assert.equal(lines.filter((l) => l === banner).length, 2, r.stdout);
  } finally {
    await server.close();
  }
});

Deno.test("a resumed run's line goes on from the earlier sessions' elapsed time and spend", () => {
  const meter = new ProgressMeter();
  meter.observe({
    type: "open",
    dir: "/r",
    config,
    completedSteps: 2,
    simulated: false,
    earlier: { elapsedMs: 125_000, spend: spend(200, 0.05, ["openai-compatible:qwen3"]) },
  }, 0);
  assert.equal(
    meter.line(1_000),
    "starting · 2m06s elapsed · ETA after step 3 · " +
      "200 calls (+4 cached), 70.0k tokens, $0.0500 + unpriced (openai-compatible:qwen3)",
  );
  meter.observe(progress(3, "target", 0, 10, spend(0, 0)), 1_000);
  meter.observe(progress(3, "target", 5, 10, spend(10, 0.01)), 4_000);
  // This session's 10 calls and 1 cent on top of the earlier 200 and 5 cents.
  assert.equal(
    meter.line(4_000),
    "step 3/3 target [########--------] 5/10 · 2m09s elapsed · phase ~3s left, run ETA after " +
      "step 3 · 210 calls (+8 cached), 73.5k tokens, $0.0600 + unpriced (openai-compatible:qwen3)",
  );
});

Deno.test("rpt resume's progress starts from the recorded elapsed time and spend, not from zero", async () => {
  await using dir = await tempDir();
  const input = {
    task: "synthetic",
    target: "sim:target",
    optimizer: "sim:optimizer",
    embedder: "sim:embed",
    iterations: 3,
    limits: { train: 12, dev: 8, test: 8 },
    cache: `${dir.path}/cache.sqlite`,
  };
  // The first session stops after its first saved step (as Ctrl-C does).
  const stop = new AbortController();
  const first = await optimize(input, {
    runDir: `${dir.path}/run`,
    signal: stop.signal,
    onEvent: (e) => e.type === "step" && stop.abort(),
  });
  assert.equal(first.interrupted, true);
  const recorded = RunUsage.parse(JSON.parse(await Deno.readTextFile(`${first.dir}/usage.json`)));
  assert.equal(recorded.sessions.length, 1);
  assert.ok(recorded.total.calls > 0);
  const events: LoopEvent[] = [];
  const lines: string[] = [];
  const meter = new ProgressMeter({ now: () => 0 });
  await continueRun(first.dir, {
    onEvent: (e) => {
      events.push(e);
      meter.observe(e, 0);
      if (e.type === "progress" && lines.length === 0) lines.push(meter.line(0));
    },
  });
  const open = events.find((e) => e.type === "open");
  assert.ok(open?.type === "open");
  assert.deepEqual(open.earlier, {
    elapsedMs: recorded.sessions[0]!.elapsedMs,
    spend: {
      calls: recorded.total.calls,
      cacheHits: recorded.total.cacheHits,
      inputTokens: recorded.total.inputTokens,
      outputTokens: recorded.total.outputTokens,
      usd: 0,
      unpriced: [],
    },
  });
  // The first progress line of the second session already counts the first one's calls.
  const firstProgress = events.find((e) => e.type === "progress");
  assert.ok(firstProgress?.type === "progress" && firstProgress.spend !== undefined);
  const calls = recorded.total.calls + firstProgress.spend.calls;
  assert.match(lines[0]!, new RegExp(`· ${duration(recorded.sessions[0]!.elapsedMs)} elapsed · `));
  assert.match(lines[0]!, new RegExp(`· ${calls} calls`));
});
