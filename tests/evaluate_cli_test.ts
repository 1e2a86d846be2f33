/**
 * `rpt evaluate` (the reference's `--evaluate_only`): a prompt scored on train, dev and test
 * with metrics and the headline per split, the full diagnostic report with `--diagnose`, on
 * the simulator for the bundled task and, with the paper's data, for each paper task under
 * the preset.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run as evaluateCommand } from "../lib/cli/evaluate.ts";
import { evaluatePromptOnly, PromptEvaluation } from "../lib/revise/evaluate_only.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { paperDataTest } from "./support/paper_data.ts";
import { tempDir } from "./support/toy_loop.ts";

const SIM = { target: "sim:target", optimizer: "sim:optimizer", embedder: "sim:embed" };

async function capture(
  fn: () => Promise<number>,
): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    return { code: await fn(), out: lines.join("\n"), err: errors.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("evaluatePromptOnly: the seed on three splits, the train report with diagnose, a given prompt", async () => {
  await using dir = await tempDir();
  const cache = join(dir.path, "cache.sqlite");
  const limits = { train: 20, dev: 15, test: 10 };
  const { evaluation } = await evaluatePromptOnly(
    { task: "synthetic", ...SIM, limits, cache },
    { dir: join(dir.path, "seed"), diagnose: true },
  );
  assert.deepEqual(evaluation.splits.map((s) => [s.split, s.n]), [
    ["train", 20],
    ["dev", 15],
    ["test", 10],
  ]);
  assert.equal(evaluation.simulated, true);
  assert.ok(evaluation.report !== null && evaluation.report.topics.length > 0);
  assert.equal(evaluation.report.metrics.n, 20);
  const written = PromptEvaluation.parse(
    JSON.parse(await Deno.readTextFile(join(dir.path, "seed", "evaluation.json"))),
  );
  assert.deepEqual(written.splits, evaluation.splits);
  for (const f of ["config.json", "train/report.json", "train/report.md", "train/record.json"]) {
    await Deno.stat(join(dir.path, "seed", f));
  }
  const headline = evaluation.splits[0]?.headline;
  assert.equal(headline?.value, evaluation.splits[0]?.metrics.fullCredit, "synthetic: accuracy");

  // A given prompt, dev only, no diagnosis.
  const prompt = { system: "", instruction: "Answer with JSON." };
  const other = await evaluatePromptOnly(
    { task: "synthetic", ...SIM, limits, cache, seedPrompt: prompt },
    { dir: join(dir.path, "given"), splits: ["dev"] },
  );
  assert.deepEqual(other.evaluation.prompt, prompt);
  assert.deepEqual(other.evaluation.splits.map((s) => s.split), ["dev"]);
  assert.equal(other.evaluation.report, null);
  await assert.rejects(
    evaluatePromptOnly({ task: "synthetic", ...SIM, limits, cache }, {
      dir: join(dir.path, "given"),
    }),
    ConfigError,
  );
});

Deno.test("rpt evaluate --prompt FILE: prints a row per split, SIMULATED, and writes the directory (--out: the old --run-dir, with a note)", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "p.json");
  await Deno.writeTextFile(file, JSON.stringify({ system: "S", instruction: "Give JSON." }));
  const out = join(dir.path, "out");
  const r = await capture(() =>
    evaluateCommand([
      "--task",
      "synthetic",
      "--target",
      "sim:target",
      "--prompt",
      file,
      "--limit-train",
      "10",
      "--limit-dev",
      "10",
      "--limit-test",
      "10",
      "--out",
      out,
      "--cache",
      join(dir.path, "c.sqlite"),
    ])
  );
  assert.equal(r.code, 0);
  assert.equal(
    r.err,
    "rpt evaluate: --out is now --run-dir; the old name still works in this release and will " +
      "then be removed",
  );
  assert.match(r.out, /^SIMULATED/);
  assert.match(r.out, /^train\s+10\s+[\d.]+/m);
  assert.match(r.out, /^test\s+10\s+[\d.]+/m);
  assert.match(r.out, /seed prompt: 11 characters, from .*p\.json/);
  const e = JSON.parse(await Deno.readTextFile(join(out, "evaluation.json")));
  assert.deepEqual(e.prompt, { system: "S", instruction: "Give JSON." });
});

const HEADLINES = { hotpotqa: "accuracy (EM)", livebench_math: "task score", formula: "accuracy" };

for (const task of ["hotpotqa", "livebench_math", "formula"] as const) {
  paperDataTest(
    `rpt evaluate --preset paper --diagnose on ${task} (simulated models): the paper's seed on the three splits`,
    async (dataDir) => {
      await using dir = await tempDir();
      const out = join(dir.path, "out");
      const r = await capture(() =>
        evaluateCommand([
          "--preset",
          "paper",
          "--task",
          task,
          "--target",
          "sim:target",
          "--optimizer",
          "sim:optimizer",
          "--embedder",
          "sim:embed",
          "--cluster-model",
          "sim:critic",
          "--diagnose",
          "--data-dir",
          dataDir,
          "--limit-train",
          "40",
          "--limit-dev",
          "30",
          "--limit-test",
          "30",
          "--run-dir",
          out,
          "--cache",
          join(dir.path, "c.sqlite"),
        ])
      );
      assert.equal(r.code, 0);
      const e = PromptEvaluation.parse(
        JSON.parse(await Deno.readTextFile(join(out, "evaluation.json"))),
      );
      const seed = JSON.parse(await Deno.readTextFile(join(dataDir, task, "seed_prompt.json")));
      assert.deepEqual(e.prompt, { system: seed.system, instruction: seed.instruction });
      assert.deepEqual(e.splits.map((s) => [s.split, s.n]), [["train", 40], ["dev", 30], [
        "test",
        30,
      ]]);
      assert.ok(e.splits.every((s) => s.headline.name === HEADLINES[task]));
      assert.ok(e.report !== null && e.report.counts.failures > 0);
      assert.match(
        r.out,
        new RegExp(`train failure topics \\(${e.report.counts.failures} failures`),
      );
      const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
      assert.equal(config.preset, "paper");
      assert.equal(config.taskProtocol, "reference");
    },
  );
}
