import assert from "node:assert/strict";
import { join } from "node:path";
import { serveModels } from "../lib/llm/serve.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { configForDisk, parseRunConfig, redactSpec } from "../lib/run/config.ts";
import { loadRun, readRunJson } from "../lib/run/reader.ts";
import { RunState, stepDirName } from "../lib/run/schema.ts";
import { RunWriter } from "../lib/run/writer.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { writeJsonAtomic } from "../lib/util/fs.ts";
import { optimizerReply, tempDir, toyModels, writeToyTask } from "./support/toy_loop.ts";

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await listFiles(path));
    else out.push(path);
  }
  return out.sort();
}

Deno.test("atomic writes leave no temporary files; step folders replace earlier attempts", async () => {
  await using dir = await tempDir();
  await writeJsonAtomic(`${dir.path}/a/b.json`, { x: 1 });
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir.path}/a/b.json`)), { x: 1 });
  const writer = new RunWriter(dir.path);
  // Leftovers of a killed attempt at step 2: a half-built folder and a stale complete one.
  await Deno.mkdir(`${dir.path}/iter-002.tmp`);
  await Deno.writeTextFile(`${dir.path}/iter-002.tmp/junk.json`, "{");
  await writer.writeStep(2, { "old.json": { stale: true } });
  await writer.writeStep(2, {
    "prompt.json": { system: "s", instruction: "i" },
    "note.md": "# hi\n",
  });
  await Deno.writeTextFile(`${dir.path}/state.json.tmp-1-2`, "{");
  await writer.clean();
  const files = (await listFiles(dir.path)).map((f) => f.slice(dir.path.length + 1));
  assert.deepEqual(files, ["a/b.json", "iter-002/note.md", "iter-002/prompt.json"]);
  assert.equal(stepDirName(2), "iter-002");
  assert.equal(stepDirName(123), "iter-123");
});

Deno.test("config.json carries no credentials", () => {
  assert.equal(
    redactSpec("openai-compatible:q@https://user:sk-abc@host.example/v1?key=sk-def"),
    "openai-compatible:q@https://host.example/v1",
  );
  assert.equal(redactSpec("openai:gpt-4.1"), "openai:gpt-4.1");
  const config = parseRunConfig({
    task: "synthetic",
    target: "openai-compatible:m@http://u:sk-1@127.0.0.1:9/v1",
    optimizer: "gemini:g@http://127.0.0.1:9?key=sk-2",
  });
  const text = JSON.stringify(configForDisk(config));
  assert.ok(!text.includes("sk-1") && !text.includes("sk-2"), text);
});

Deno.test("an API key never reaches the run directory or the cache", async () => {
  await using dir = await tempDir();
  const key = "sk-test-secret-0123456789";
  const optimizer = new ScriptedChatModel(optimizerReply(), { model: "toy-optimizer" });
  const server = serveModels({ models: { "toy-optimizer": optimizer } });
  try {
    const task = await writeToyTask(dir.path, { train: 8, dev: 4, test: 4 });
    const { target, critic } = toyModels();
    await optimize({
      task,
      target: "scripted:t",
      optimizer: `gemini:toy-optimizer@${server.url}`,
      critic: "scripted:c",
      iterations: 1,
      k: 2,
      cache: `${dir.path}/run/cache.sqlite`,
    }, { runDir: `${dir.path}/run`, models: { target, critic }, env: { GEMINI_API_KEY: key } });
    // The key was sent (to the local server) ...
    assert.ok(server.requests.length > 0);
    for (const file of await listFiles(`${dir.path}/run`)) {
      const bytes = await Deno.readFile(file);
      assert.ok(!new TextDecoder().decode(bytes).includes(key), `${file} holds the key`);
    }
  } finally {
    await server.close();
  }
});

Deno.test("loadRun: typed steps, records on request, a torn last event line skipped", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, { train: 12, dev: 4, test: 4 });
  const result = await optimize({
    task,
    target: "scripted:t",
    optimizer: "scripted:o",
    iterations: 2,
    k: 3,
    cache: `${dir.path}/c.sqlite`,
  }, { runDir: `${dir.path}/run`, models: toyModels() });
  await Deno.writeTextFile(`${result.dir}/events.jsonl`, '{"type": "half', { append: true });
  const light = await loadRun(result.dir);
  assert.equal(light.steps.length, 3);
  assert.equal(light.steps[0]?.record, undefined);
  assert.equal(light.steps[1]?.prompt.instruction.split("\n").length, 2);
  assert.equal(light.config.iterations, 2);
  assert.equal(light.state?.finished, true);
  assert.equal(light.events.at(-1)?.type, "run_end");
  const full = await loadRun(result.dir, { records: true });
  assert.ok(full.steps[0]?.record !== undefined);
  assert.equal(full.steps[2]?.record, null);
});

Deno.test("a damaged run file is a ConfigError naming the file and field", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/state.json`, JSON.stringify({ version: 1 }));
  await assert.rejects(
    readRunJson(`${dir.path}/state.json`, RunState),
    (e: unknown) => e instanceof ConfigError && /state\.json: completedSteps: /.test(e.message),
  );
  await assert.rejects(
    loadRun(`${dir.path}/nothing`),
    (e: unknown) =>
      e instanceof ConfigError && /config\.json: cannot read: file not found/.test(e.message),
  );
});

Deno.test("scored dev/test items keep the calibration target and the unparsed credit", async () => {
  const { scoredItems } = await import("../lib/revise/evaluate.ts");
  const { scoredItemsAsTraces } = await import("../lib/run_charts.ts");
  const { computeMetrics } = await import("../lib/metrics.ts");
  const base = {
    messages: [],
    rawText: "",
    usage: { inputTokens: 0, cachedTokens: 0, outputTokens: 0 },
    latencyMs: 0,
  };
  const parsed = (confidence: number) => ({ reasoning: "", answer: "a", confidence });
  // HotPotQA-like: F1 0.5 but EM 0, so the confidence is calibrated against 0.
  const traces = [
    {
      ...base,
      exampleId: "1",
      parsed: parsed(0.9),
      score: 0.5,
      full: false,
      impact: 0.5,
      details: { calibration_target: 0 },
    },
    {
      ...base,
      exampleId: "2",
      parsed: parsed(0.8),
      score: 1,
      full: true,
      impact: 0,
      details: { calibration_target: 1 },
    },
    // LiveBench-like: an unparsed output whose raw text was still scored.
    {
      ...base,
      exampleId: "3",
      parsed: null,
      formatError: "no JSON",
      score: 1,
      full: true,
      impact: 0,
      details: { unparsed_credit: true },
    },
  ];
  const items = scoredItems(traces);
  assert.equal(items[0]!.calibrationTarget, 0);
  assert.equal(items[2]!.unparsedCredit, true);
  assert.equal(items[1]!.unparsedCredit, undefined);
  const again = computeMetrics(scoredItemsAsTraces(items));
  const original = computeMetrics(traces);
  assert.equal(again.brier, original.brier);
  assert.ok(Math.abs((again.brier as number) - (0.81 + 0.04) / 2) < 1e-12);
  assert.equal(again.score, original.score);
});
