/**
 * `rpt experiment`: plan validation, grid expansion, the dry run without keys, a grid run
 * in process (results agree with the run records; resume keeps finished cells, retries
 * failed ones and continues interrupted ones to the same results), and the README's two
 * commands on `examples/experiment_sim.json`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gridBanner, rptTargetCalls } from "../lib/experiment/cells.ts";
import { expandPlan, slug } from "../lib/experiment/grid.ts";
import { readIndex } from "../lib/experiment/index_file.ts";
import { loadExperiment } from "../lib/experiment/load.ts";
import { absolutePlan, parsePlan, readPlan } from "../lib/experiment/plan.ts";
import { tablesMarkdown } from "../lib/experiment/render.ts";
import { type ExperimentEvent, runExperiment } from "../lib/experiment/runner.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { resetProviderLimiters } from "../lib/llm/wrap.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { readRunJson } from "../lib/run/reader.ts";
import { RunSummary } from "../lib/run/schema.ts";
import { paperDataTest } from "./support/paper_data.ts";
import { tempDir } from "./support/toy_loop.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

async function rpt(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      NO_COLOR: "1",
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      ...(Deno.env.get("RPT_DATA_DIR") ? { RPT_DATA_DIR: Deno.env.get("RPT_DATA_DIR")! } : {}),
      ...env,
    },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

const SIM = { target: "sim:target", optimizer: "sim:optimizer" };

function smallPlan(extra: Record<string, unknown> = {}) {
  return absolutePlan(
    parsePlan({
      name: "small",
      tasks: ["synthetic"],
      methods: ["rpt", "gepa-ca"],
      models: SIM,
      settings: { iterations: 2, limits: { train: 10, dev: 8, test: 10 } },
      seeds: [0, 1],
      ...extra,
    }),
    ROOT,
  );
}

Deno.test("plan errors name the file and the field", async () => {
  await using dir = await tempDir();
  const write = async (name: string, value: unknown) => {
    const path = join(dir.path, name);
    await Deno.writeTextFile(path, typeof value === "string" ? value : JSON.stringify(value));
    return path;
  };
  const base = { tasks: ["synthetic"], methods: ["rpt"], models: SIM };
  const cases: [unknown, RegExp][] = [
    ["{ not json", /bad\.json: invalid JSON/],
    [{ ...base, methods: ["rpt", "dspy"] }, /bad\.json: methods\.1\.method: .*"gepa-ca"/],
    [{ ...base, settings: { iterations: 0 } }, /bad\.json: settings\.iterations: Too small/],
    [{ ...base, settings: { seed: 1 } }, /bad\.json: settings\.seed: set by the plan's seeds/],
    [
      { ...base, settings: { confidenceAware: true } },
      /settings\.confidenceAware: set by the plan's methods/,
    ],
    [
      { ...base, settings: { itrations: 2 } },
      /bad\.json: settings\.itrations: not a run-config field/,
    ],
    [{ ...base, settings: [{ label: "a" }, { k: 3 }] }, /bad\.json: settings\.1\.label: /],
    [
      { ...base, models: { target: "gpt-5", optimizer: "sim:optimizer" } },
      /models\.target\.0: bad model spec "gpt-5"/,
    ],
    [{ ...base, seeds: [0, 0] }, /bad\.json: seeds: "0" is listed twice/],
    [{ ...base, preset: "paper2" }, /bad\.json: preset: /],
    [{ ...base, budget: 3 }, /bad\.json: \(plan\): Unrecognized key: "budget"/],
  ];
  for (const [value, expected] of cases) {
    const path = await write("bad.json", value);
    await assert.rejects(readPlan(path), expected);
  }
  await assert.rejects(
    readPlan(join(dir.path, "none.json")),
    /none\.json: cannot read the plan: file not found/,
  );
});

Deno.test("grid: tasks x methods x specs x settings x seeds, stable ids naming what varies", () => {
  const plan = parsePlan({
    tasks: ["synthetic", "custom:examples/capitals/task.json"],
    methods: ["rpt", { method: "gepa", label: "GEPA small", budgetCalls: 50 }],
    models: {
      target: "sim:target",
      optimizer: ["sim:optimizer", "openai-compatible:qwen@http://127.0.0.1:8000/v1"],
    },
    settings: [{ label: "T2", iterations: 2 }, { label: "T4", iterations: 4 }],
    seeds: [0, 1],
  });
  const cells = expandPlan(plan);
  assert.equal(cells.length, 2 * 2 * 2 * 2 * 2);
  assert.equal(new Set(cells.map((c) => c.id)).size, cells.length);
  assert.deepEqual(cells.slice(0, 3).map((c) => c.id), [
    "synthetic.rpt.o-sim_optimizer.T2.s0",
    "synthetic.rpt.o-sim_optimizer.T2.s1",
    "synthetic.rpt.o-sim_optimizer.T4.s0",
  ]);
  assert.equal(cells.at(-1)?.id, "capitals.GEPA_small.o-openai-compatible_qwen.T4.s1");
  assert.equal(cells.at(-1)?.label, "GEPA small");
  assert.deepEqual(cells[2]?.settings, { label: "T4", values: { iterations: 4 } });
  assert.equal(slug("custom:/abs/dir/my task.json"), "my_task");
  const abs = absolutePlan(plan, "/base");
  assert.equal(abs.tasks[1], "custom:/base/examples/capitals/task.json");
  // Absolute task paths keep the ids.
  assert.deepEqual(expandPlan(abs).map((c) => c.id), cells.map((c) => c.id));
});

Deno.test("rpt experiment --dry-run: runs, calls, tokens and dollars with no API key; batch prices", async () => {
  await using dir = await tempDir();
  const plan = join(dir.path, "gpt.json");
  await Deno.writeTextFile(
    plan,
    JSON.stringify({
      name: "gpt",
      tasks: ["synthetic"],
      methods: ["rpt", "gepa"],
      models: { target: "openai:gpt-4.1-mini", optimizer: "openai:gpt-5" },
      settings: { iterations: 3 },
      seeds: [0, 1, 2],
      batch: true,
    }),
  );
  const out = await rpt(["experiment", plan, "--dry-run"], { OPENAI_API_KEY: "" });
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    /dry run: gpt: 6 runs \(1 tasks x 2 methods x 1 targets x 1 optimizers x 1 settings x 3 seeds\)/,
  );
  assert.match(out.stdout, /synthetic\.rpt\.s0 +\d+ +\d+ +\$\d+\.\d\d/);
  assert.match(out.stdout, /synthetic\.gepa\.s2 /);
  const total = /total: (\d+) calls, (\d+) tokens, at most \$(\d+\.\d\d)/.exec(out.stdout);
  assert.ok(total !== null, out.stdout);
  assert.ok(Number(total[1]) > 0 && Number(total[3]) > 0);
  const batch =
    /batch: \$(\d+\.\d\d) at batch prices instead of \$(\d+\.\d\d) \(saves \$(\d+\.\d\d)\)/
      .exec(out.stdout);
  assert.ok(batch !== null, out.stdout);
  assert.ok(Number(batch[1]) < Number(batch[2]));
  // The baselines run interactive under batch, priced so, and the dry run says it.
  assert.match(out.stdout, /synthetic\.gepa\.s2 +\d+ +\d+ +\$\d+\.\d\d {2}interactive\n/);
  assert.doesNotMatch(out.stdout, /synthetic\.rpt\.s0 .*interactive/);
  const note = new RegExp(
    "  batch: baseline cells run interactive calls under --batch \\(GEPA\\): all their calls are " +
      "interactive, at interactive prices; only RPT cells send their full-split evaluations and " +
      "critiques as batch jobs \\(3 runs marked interactive: \\$(\\d+\\.\\d\\d) of the total\\)\n",
  );
  const baselines = note.exec(out.stdout);
  assert.ok(baselines !== null, out.stdout);
  assert.ok(Number(baselines[1]) > 0);
  assert.ok(!out.stdout.includes("SIMULATED"));
  // Nothing was created: a dry run spends nothing and writes nothing.
  await assert.rejects(Deno.stat(join(ROOT, "runs/gpt")), Deno.errors.NotFound);
  const sim = await rpt(["experiment", "examples/experiment_sim.json", "--dry-run"]);
  assert.equal(sim.code, 0, sim.stderr);
  assert.match(sim.stdout, /SIMULATED/);
});

Deno.test("an experiment in process: results agree with the run records; resume keeps finished cells", async () => {
  await using dir = await tempDir();
  const plan = smallPlan();
  const expDir = join(dir.path, "exp");
  const events: ExperimentEvent[] = [];
  const outcome = await runExperiment({
    dir: expDir,
    plan,
    parallel: 3,
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual(outcome.counts, { pending: 0, running: 0, finished: 4, failed: 0 });
  assert.equal(outcome.index.simulated, true);
  const exp = await loadExperiment(expDir);
  assert.equal(exp.results.length, 4);
  for (const r of exp.results.filter((x) => x.method === "rpt")) {
    const summary = await readRunJson(join(expDir, "runs", r.id, "summary.json"), RunSummary);
    assert.equal(r.optimized.test?.headline, summary.selected.test?.score);
    assert.equal(r.initial.test?.headline, summary.seed.test?.score);
    assert.equal(r.trajectory.length, summary.steps.length);
    // The overfitting checks, from the same record: the selected prompt's dev - test gap,
    // and its size against the seed's and the largest scored.
    const selected = summary.steps.find((s) => s.step === summary.selected.step)!;
    assert.equal(r.checks.devTestGap, summary.selected.dev.score - summary.selected.test!.score);
    assert.deepEqual(r.checks.promptChars, {
      initial: summary.steps[0]!.promptChars,
      selected: selected.promptChars,
      max: Math.max(...summary.steps.map((s) => s.promptChars)),
      last: summary.steps.at(-1)!.promptChars,
    });
    assert.equal(typeof r.checks.copiedAnswerRejections, "number");
  }
  for (const r of exp.results) {
    // Per-example outcomes add up to the split's figures.
    const opt = r.testItems!.optimized;
    const parsed = opt.flatMap((i) => i.brier === null ? [] : [i.brier]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean(opt.map((i) => i.headline)) - r.optimized.test!.headline) < 1e-9);
    assert.ok(Math.abs(mean(parsed) - (r.optimized.test!.brier as number)) < 1e-9);
    assert.equal(r.simulated, true);
  }
  const gepa = JSON.parse(
    await Deno.readTextFile(join(expDir, "runs/synthetic.gepa-ca.s0/compare.json")),
  );
  // The baseline's default budget: what an RPT run with the same settings may spend.
  assert.equal(gepa.budgetCalls, rptTargetCalls(2, { train: 10, dev: 8 }));
  assert.equal(gepa.rows[0].method, "gepa-ca");
  assert.equal(exp.tables.table2.length, 1, "gepa-ca is confidence-aware");

  // The same command again is refused; --resume runs nothing new and changes nothing.
  await assert.rejects(
    runExperiment({ dir: expDir, plan }),
    /already holds an experiment: add --resume/,
  );
  await assert.rejects(
    runExperiment({ dir: expDir, plan: smallPlan({ seeds: [0] }), resume: true }),
    /holds an experiment of another plan/,
  );
  const again: ExperimentEvent[] = [];
  const resumed = await runExperiment({ dir: expDir, resume: true, onEvent: (e) => again.push(e) });
  assert.equal(resumed.counts.finished, 4);
  assert.deepEqual(again, []);
  assert.equal(tablesMarkdown((await loadExperiment(expDir)).tables), tablesMarkdown(exp.tables));

  // Killed after a run's record was written but before its result: the record is read back.
  for (const id of ["synthetic.gepa-ca.s0", "synthetic.rpt.s1"]) {
    await Deno.remove(join(expDir, "results", `${id}.json`));
  }
  const cacheBefore = (await Deno.stat(join(expDir, "cache.sqlite"))).mtime?.getTime();
  const reread: string[] = [];
  await runExperiment({
    dir: expDir,
    resume: true,
    onEvent: (e) => e.type === "cell" && reread.push(`${e.id}:${e.state}`),
  });
  assert.deepEqual(reread.sort(), [
    "synthetic.gepa-ca.s0:finished",
    "synthetic.gepa-ca.s0:running",
    "synthetic.rpt.s1:finished",
    "synthetic.rpt.s1:running",
  ]);
  assert.equal((await Deno.stat(join(expDir, "cache.sqlite"))).mtime?.getTime(), cacheBefore);
  assert.equal(tablesMarkdown((await loadExperiment(expDir)).tables), tablesMarkdown(exp.tables));
});

Deno.test("a failed cell is recorded with its error and does not stop the others; resume retries it", async () => {
  await using dir = await tempDir();
  resetProviderLimiters();
  // Port 9 refuses: every optimizer call of those cells fails (no retries here). A failed
  // target call is not yet an error of the run (issue 14), so the optimizer is the dead one.
  const dead = "openai-compatible:nobody@http://127.0.0.1:9/v1";
  const plan = smallPlan({
    methods: ["rpt"],
    models: { target: "sim:target", optimizer: ["sim:optimizer", dead] },
  });
  const expDir = join(dir.path, "exp");
  const outcome = await runExperiment({ dir: expDir, plan, maxRetries: 0, env: {} });
  assert.equal(outcome.counts.finished, 2);
  assert.equal(outcome.counts.failed, 2);
  const failed = outcome.index.cells.filter((c) => c.state === "failed");
  assert.deepEqual(failed.map((c) => c.models.optimizer), [dead, dead]);
  for (const c of failed) assert.match(c.error ?? "", /nobody|127\.0\.0\.1:9|connect/i);
  const index = await readIndex(expDir);
  assert.equal(index.cells.filter((c) => c.state === "failed").length, 2);
  // A resume tries the failed cells again (and only them).
  const started: string[] = [];
  const again = await runExperiment({
    dir: expDir,
    resume: true,
    maxRetries: 0,
    env: {},
    onEvent: (e) => e.type === "cell" && e.state === "running" && started.push(e.id),
  });
  assert.deepEqual(started.sort(), failed.map((c) => c.id).sort());
  assert.equal(again.counts.failed, 2);
  assert.equal(again.index.cells.find((c) => c.id === failed[0]!.id)?.attempts, 2);
});

Deno.test("a baseline cell against a dead target fails at once with the target's error; the plan's retries reach it", async () => {
  await using dir = await tempDir();
  resetProviderLimiters();
  // A failed call is never a score: before, every failed target call scored 0 and, as it
  // costs nothing against the call budget, GEPA went on for its 200 iterations.
  const dead = "openai-compatible:nobody@http://127.0.0.1:9/v1";
  const plan = smallPlan({
    methods: ["gepa", "mipro"],
    models: { target: dead, optimizer: "sim:optimizer" },
    settings: { iterations: 1, retries: 0, limits: { train: 6, dev: 6, test: 6 } },
    seeds: [0],
  });
  const outcome = await runExperiment({ dir: join(dir.path, "exp"), plan, env: {} });
  assert.deepEqual(outcome.counts, { pending: 0, running: 0, finished: 0, failed: 2 });
  for (const cell of outcome.index.cells) {
    assert.match(
      cell.error ?? "",
      /^6 of 6 target calls on test failed after their retries \(endpoint http:\/\/127\.0\.0\.1:9\/v1; last error: openai-compatible:nobody: gave up after 1 attempt: connection failed/,
    );
    // The cells share a cache below the budget meters: it passes failures up, retrying none.
    assert.equal(cell.error?.match(/gave up after/g)?.length, 1, cell.error ?? "");
  }
});

Deno.test("an interrupted experiment resumes to the results of an uninterrupted one", async () => {
  await using dir = await tempDir();
  const plan = smallPlan();
  const reference = await runExperiment({ dir: join(dir.path, "ref"), plan });
  assert.equal(reference.counts.finished, 4);
  const controller = new AbortController();
  const expDir = join(dir.path, "cut");
  const first = await runExperiment({
    dir: expDir,
    plan,
    parallel: 2,
    signal: controller.signal,
    onEvent: (e) => {
      // Stop as soon as one cell is finished while others are under way.
      if (e.type === "cell" && e.state === "finished") {
        controller.abort(new DOMException("stop", "AbortError"));
      }
    },
  });
  assert.equal(first.interrupted, true);
  assert.ok(first.counts.finished >= 1 && first.counts.finished < 4, JSON.stringify(first.counts));
  assert.equal(first.counts.running, 0, "cells under way go back to pending");
  const second = await runExperiment({ dir: expDir, resume: true });
  assert.equal(second.counts.finished, 4);
  const a = await loadExperiment(join(dir.path, "ref"));
  const b = await loadExperiment(expDir);
  assert.equal(tablesMarkdown(b.tables), tablesMarkdown(a.tables));
  const strip = (r: { usage: unknown }) => ({ ...r, usage: null });
  assert.deepEqual(b.results.map(strip), a.results.map(strip));
});

Deno.test("README: rpt experiment examples/experiment_sim.json --run-dir DIR, then rpt table DIR", async () => {
  await using dir = await tempDir();
  const expDir = join(dir.path, "exp");
  const plan = await readPlan(join(ROOT, "examples/experiment_sim.json"));
  assert.equal(plan.tasks.length, 2);
  assert.equal(plan.methods.length, 2);
  assert.equal(plan.seeds.length, 2);
  assert.equal(expandPlan(plan).length, 8);
  // The commands as the README writes them, with the run directory moved to a temporary one.
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const written = [
    "deno task rpt experiment examples/experiment_sim.json --run-dir runs/experiment_sim",
    "deno task rpt table runs/experiment_sim",
    "deno task rpt experiment --resume --run-dir runs/experiment_sim",
  ];
  for (const command of written) assert.ok(readme.includes(command), `README: ${command}`);
  const [experimentArgs, tableArgs, resumeArgs] = written.map((c) =>
    c.replace("deno task rpt ", "").split(" ").map((a) => a === "runs/experiment_sim" ? expDir : a)
  );
  const run = await rpt(experimentArgs!);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^SIMULATED: /m);
  assert.match(
    run.stdout,
    /experiment: 8\/8 runs finished, 0 failed, 0 not finished \[simulated\]/,
  );
  const table = await rpt(tableArgs!);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\*\*SIMULATED: /);
  assert.match(table.stdout, /## Table 1: initial → optimized per task \(SIMULATED\)/);
  for (const row of ["RPT · sim:optimizer", "GEPA · sim:optimizer"]) {
    assert.match(table.stdout, new RegExp(`^\\| ${row} \\| 2 \\| `, "m"));
  }
  assert.match(table.stdout, /## Paired tests between methods/);
  assert.match(table.stdout, /## Overfitting checks per run/);
  const index = await readIndex(expDir);
  assert.deepEqual(new Set(index.cells.map((c) => c.state)), new Set(["finished"]));
  // The progress view: every run's state as it changes, each run started and finished.
  for (const c of index.cells) {
    for (const state of ["running", "finished"]) {
      assert.ok(run.stderr.includes(`rpt experiment: ${c.id}: ${state}\n`), `${c.id} ${state}`);
    }
  }
  // The README's resume of a finished experiment runs nothing and changes no table.
  const resumed = await rpt([...resumeArgs!, "--quiet"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal((await rpt(tableArgs!)).stdout, table.stdout);
  // Running the same command again refuses to overwrite, with the way out.
  const again = await rpt(experimentArgs!);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds an experiment: add --resume/);
  assert.ok(!again.stdout.includes("SIMULATED"), "no banner before an argument error");
});

paperDataTest(
  "an experiment on HotPotQA and Formula: headline accuracy (EM) and accuracy",
  async (dataDir) => {
    await using dir = await tempDir();
    const plan = absolutePlan(
      parsePlan({
        tasks: ["hotpotqa", "formula"],
        methods: ["rpt", "gepa-ca"],
        models: SIM,
        settings: { iterations: 1, limits: { train: 6, dev: 6, test: 6 } },
        seeds: [0],
        dataDir,
      }),
      ROOT,
    );
    const outcome = await runExperiment({ dir: join(dir.path, "exp"), plan, parallel: 4 });
    assert.equal(
      outcome.counts.finished,
      4,
      JSON.stringify(outcome.index.cells.map((c) => c.error)),
    );
    const exp = await loadExperiment(join(dir.path, "exp"));
    assert.deepEqual(exp.tables.columns.map((c) => c.headline), ["accuracy (EM)", "accuracy"]);
    assert.equal(exp.tables.table1.length, 2);
    assert.ok(exp.tables.table1.every((r) => r.aggregate !== null));
  },
);

Deno.test("a plan's batch reaches the run config, or is refused before any call", async () => {
  await using dir = await tempDir();
  const write = async (extra: Record<string, unknown>) => {
    const path = join(dir.path, `plan-${crypto.randomUUID()}.json`);
    await Deno.writeTextFile(
      path,
      JSON.stringify({ tasks: ["synthetic"], methods: ["rpt"], models: SIM, ...extra }),
    );
    return path;
  };
  const { runsHaveBatchMode } = await import("../lib/experiment/cells.ts");
  const batch = await rpt([
    "experiment",
    await write({ batch: true }),
    "--run-dir",
    `${dir.path}/b`,
  ]);
  if (!runsHaveBatchMode()) {
    assert.equal(batch.code, 2);
    assert.match(batch.stderr, /plan batch: true: runs of this build have no batch mode yet/);
    assert.ok(!batch.stdout.includes("SIMULATED"));
    await assert.rejects(Deno.stat(`${dir.path}/b`), Deno.errors.NotFound);
  } else {
    // The run config carries it; the simulator has no batch API, which a note says.
    assert.equal(batch.code, 0, batch.stderr);
    assert.match(batch.stderr, /batch mode: the target \(sim:target, SIMULATED\)/);
    const configs: unknown[] = [];
    for await (const cell of Deno.readDir(`${dir.path}/b/runs`)) {
      configs.push(
        JSON.parse(await Deno.readTextFile(`${dir.path}/b/runs/${cell.name}/config.json`)).batch,
      );
    }
    assert.ok(configs.length > 0 && configs.every((b) => b === true), String(configs));
  }
  // The dry run prices batch mode whatever the build runs.
  const dry = await rpt(["experiment", await write({ batch: true }), "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /batch: \$0\.00 at batch prices/);
});

Deno.test("experimentExitCode: 0 all finished, 1 some failed or not finished, 130 interrupted", async () => {
  const { experimentExitCode } = await import("../lib/cli/experiment.ts");
  const none = { pending: 0, running: 0, finished: 0, failed: 0 };
  assert.equal(experimentExitCode({ ...none, finished: 4 }, false), 0);
  assert.equal(experimentExitCode({ ...none, finished: 3, failed: 1 }, false), 1);
  assert.equal(experimentExitCode({ ...none, finished: 3, pending: 1 }, false), 1);
  assert.equal(experimentExitCode({ ...none, finished: 3, pending: 1 }, true), 130);
});

paperDataTest(
  "preset paper: every cell starts from the paper's seed prompt; Table 1 shows the reported figures",
  async (dataDir) => {
    await using dir = await tempDir();
    const plan = absolutePlan(
      parsePlan({
        tasks: ["hotpotqa", "formula"],
        methods: ["rpt", "gepa-ca"],
        // The preset's models are OpenAI's: every role on the simulator instead.
        models: { ...SIM, embedder: "sim:embed" },
        preset: "paper",
        settings: {
          iterations: 1,
          k: 3,
          clusterModel: "sim:critic",
          limits: { train: 6, dev: 6, test: 6 },
        },
        seeds: [0],
        dataDir,
      }),
      ROOT,
    );
    const expDir = join(dir.path, "exp");
    const outcome = await runExperiment({ dir: expDir, plan, parallel: 4 });
    assert.equal(
      outcome.counts.finished,
      4,
      JSON.stringify(outcome.index.cells.map((c) => c.error)),
    );
    for (const task of ["hotpotqa", "formula"]) {
      const seed = JSON.parse(await Deno.readTextFile(join(dataDir, task, "seed_prompt.json")));
      const config = JSON.parse(
        await Deno.readTextFile(join(expDir, "runs", `${task}.rpt.s0`, "config.json")),
      );
      assert.equal(config.preset, "paper");
      assert.equal(config.taskProtocol, "reference");
      assert.equal(config.iterations, 1, "the plan's settings go over the preset");
      assert.equal(config.seedPrompt.instruction, seed.instruction);
      const compare = JSON.parse(
        await Deno.readTextFile(join(expDir, "runs", `${task}.gepa-ca.s0`, "compare.json")),
      );
      assert.deepEqual(compare.seedPrompt, { system: seed.system, instruction: seed.instruction });
    }
    const t = (await loadExperiment(expDir)).tables;
    // The reference's protocol is confidence-aware: both methods are in Table 2.
    assert.equal(t.table2.length, 2);
    assert.deepEqual(t.reported[0]?.cells, [12.9, 11.7]);
    assert.equal(t.reported.filter((r) => r.kind === "aggregate").length, 4);
    assert.match(tablesMarkdown(t), /\| paper \(reported\): RPT · GPT-5 \|/);
  },
);

paperDataTest(
  "the paper's tables as plans: their dry runs need no key and match docs/reproducing.md",
  async (dataDir) => {
    const docs = await Deno.readTextFile(join(ROOT, "docs/reproducing.md"));
    const stated = (name: string) => {
      const m = new RegExp(`${name} at most \\$([\\d,]+\\.\\d\\d)`).exec(docs);
      assert.ok(m !== null, `docs/reproducing.md states the dry run of ${name}`);
      return m[1]!.replaceAll(",", "");
    };
    const cases: [string, number, string][] = [
      ["table1_paper", 48, stated("Table 1")],
      ["table2_paper", 6, stated("Table 2")],
    ];
    for (const [name, runs, usd] of cases) {
      const out = await rpt(["experiment", `examples/${name}.json`, "--dry-run"], {
        OPENAI_API_KEY: "",
        GEMINI_API_KEY: "",
        RPT_DATA_DIR: dataDir,
      });
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, new RegExp(`dry run: ${name}: ${runs} runs `));
      assert.match(out.stdout, new RegExp(`total: \\d+ calls, \\d+ tokens, at most \\$${usd}\\n`));
    }
  },
);

Deno.test("gridBanner: a grid that mixes simulated and real cells says which roles are simulated in part", () => {
  const cell = (target: string, optimizer = "sim:optimizer") => ({
    config: { target, optimizer, critic: undefined, embedder: "tfidf" },
  });
  const all = gridBanner([cell("sim:target"), cell("sim:target")]);
  assert.equal(all?.includes("in part"), false, String(all));
  const mixed = gridBanner([cell("sim:target"), cell("openai:gpt-4.1"), cell("openai:gpt-4.1")]);
  assert.ok(mixed?.startsWith("SIMULATED: "), String(mixed));
  assert.ok(
    mixed?.endsWith("; simulated only in part: target in 1 of 3 cells"),
    String(mixed),
  );
  assert.equal(gridBanner([cell("openai:gpt-4.1", "openai:gpt-5")]), undefined);
});

Deno.test("baseline cells read the keys and servers of the experiment's env, as RPT cells do", async () => {
  await using dir = await tempDir();
  resetProviderLimiters();
  await using server = serveModels({
    models: { "sim-target": createSimChatModel("target", { seed: 0 }) },
  });
  // No base URL in the spec: OPENAI_BASE_URL of the env given says where the target is.
  const plan = smallPlan({
    methods: ["rpt", "gepa"],
    models: { target: "openai-chat:sim-target", optimizer: "sim:optimizer" },
    settings: { iterations: 1, retries: 0, limits: { train: 6, dev: 6, test: 6 } },
    seeds: [0],
  });
  const outcome = await runExperiment({
    dir: join(dir.path, "exp"),
    plan,
    env: { OPENAI_API_KEY: "local", OPENAI_BASE_URL: `${server.url}/v1` },
  });
  const errors = outcome.index.cells.flatMap((c) => c.error ? [`${c.id}: ${c.error}`] : []);
  assert.deepEqual(errors, []);
  assert.equal(outcome.counts.finished, 2);
  assert.ok(server.counts.answered > 0);
});
