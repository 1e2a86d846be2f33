/**
 * An experiment with `batch: true` against a local server that speaks the OpenAI files +
 * batches API: the RPT cells send their target's full-split evaluations as batch jobs, the
 * baseline cells run every call interactive (and the experiment says so when it starts and
 * under its tables), and every cell's result equals the interactive experiment's.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadExperiment } from "../lib/experiment/load.ts";
import { BASELINES_INTERACTIVE } from "../lib/experiment/methods.ts";
import { absolutePlan, parsePlan } from "../lib/experiment/plan.ts";
import { tablesMarkdown } from "../lib/experiment/render.ts";
import { runExperiment } from "../lib/experiment/runner.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { resetProviderLimiters } from "../lib/llm/wrap.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { tempDir } from "./support/toy_loop.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function results(dir: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const entry of Deno.readDir(join(dir, "results"))) {
    out.set(entry.name, JSON.parse(await Deno.readTextFile(join(dir, "results", entry.name))));
  }
  return out;
}

Deno.test("batch: true: RPT cells batch, baseline cells run interactive and the experiment says so; results equal the interactive experiment's", async () => {
  await using dir = await tempDir();
  await using server = serveModels({
    models: { "sim-target": createSimChatModel("target", { seed: 0 }) },
  });
  const plan = (batch: boolean) =>
    absolutePlan(
      parsePlan({
        name: "batch-or-not",
        tasks: ["synthetic"],
        methods: ["rpt", "gepa"],
        models: {
          target: `openai-compatible:sim-target@${server.url}/v1`,
          optimizer: "sim:optimizer",
        },
        settings: {
          iterations: 1,
          retries: 0,
          batchPollSeconds: 0.05,
          limits: { train: 8, dev: 8, test: 8 },
        },
        seeds: [0],
        batch,
      }),
      ROOT,
    );
  const run = async (batch: boolean) => {
    resetProviderLimiters();
    const notes: (string | undefined)[] = [];
    const expDir = join(dir.path, batch ? "batch" : "interactive");
    const outcome = await runExperiment({
      dir: expDir,
      plan: plan(batch),
      env: {},
      onStart: (info) => notes.push(info.baselineNote),
    });
    assert.deepEqual(outcome.counts, { pending: 0, running: 0, finished: 2, failed: 0 });
    return { expDir, notes };
  };
  const interactive = await run(false);
  assert.equal(server.batches.length, 0);
  assert.deepEqual(interactive.notes, [undefined]);
  const batched = await run(true);
  // The RPT cell's target went as batch jobs (what the GEPA cell running beside it had not
  // asked already: the two share the experiment's cache).
  assert.ok(server.batches.length >= 1, `${server.batches.length} batch jobs`);
  assert.ok(
    server.batches.every((job) => job.state === "completed"),
    JSON.stringify(server.batches),
  );
  assert.equal(batched.notes.length, 1);
  assert.match(batched.notes[0] ?? "", new RegExp(`^batch: ${BASELINES_INTERACTIVE} \\(GEPA\\)`));
  // Every result is the same but for who paid: the two cells share a cache, and which of
  // them asks a shared request first (and pays) depends on timing; requests are the same.
  const [a, b] = [await results(interactive.expDir), await results(batched.expDir)];
  assert.deepEqual([...a.keys()].sort(), ["synthetic.gepa.s0.json", "synthetic.rpt.s0.json"]);
  type Usage = { calls: number; cacheHits: number; usd: number };
  const split = (all: Map<string, unknown>) =>
    [...all].sort(([x], [y]) => x.localeCompare(y)).map(([name, value]) => {
      const { usage, ...rest } = value as { usage: Usage };
      return { name, rest, asked: usage.calls + usage.cacheHits, usd: usage.usd };
    });
  assert.deepEqual(split(b), split(a));
  // The tables of the batch experiment say it; the interactive one's do not.
  const md = tablesMarkdown((await loadExperiment(batched.expDir)).tables);
  assert.ok(md.includes(`- batch: ${BASELINES_INTERACTIVE} (GEPA): `), md);
  const plain = tablesMarkdown((await loadExperiment(interactive.expDir)).tables);
  assert.ok(!plain.includes(BASELINES_INTERACTIVE));
});
