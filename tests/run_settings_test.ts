/**
 * The run settings act where they should: per-role request settings reach every request of
 * their role, ClusterFusion and the critic follow theirs, memory goes where it is told, the
 * guards and the length penalty follow the config, a free-text task is sent no schema, and
 * the flags parse into the config with clear errors.
 */
import assert from "node:assert/strict";
import { evaluatePrompt } from "../lib/diagnose.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { parsePerRole } from "../lib/cli/run_flags.ts";
import { parseOptimizeArgs } from "../lib/cli/optimize.ts";
import { estimateRun } from "../lib/revise/estimate.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { parseRunConfig, type RunConfigInput } from "../lib/run/config.ts";
import { loadCustomTask } from "../lib/tasks/custom.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { tempDir, toyModels, type ToyOptimizerOptions, writeToyTask } from "./support/toy_loop.ts";

const SIZES = { train: 8, dev: 8, test: 8 };

async function toyRun(
  dir: string,
  config: Partial<RunConfigInput> = {},
  opts: ToyOptimizerOptions = {},
) {
  const task = await writeToyTask(dir, SIZES);
  const models = toyModels(opts);
  const result = await optimize({
    task,
    target: "scripted:t",
    optimizer: "scripted:o",
    iterations: 2,
    k: 3,
    cache: `${dir}/cache.sqlite`,
    ...config,
  }, { runDir: `${dir}/run`, models });
  return { result, models };
}

Deno.test("per-role settings reach every request of their role, and only theirs", async () => {
  await using dir = await tempDir();
  const { result, models } = await toyRun(dir.path, {
    temperature: { target: 0.3, optimizer: 0.7 },
    maxOutputTokens: { critic: 500 },
    reasoningEffort: { optimizer: "low" },
    thinkingLevel: { optimizer: "high", cluster: "medium" },
  });
  assert.ok(result.summary);
  const targets = models.target.requests;
  assert.ok(targets.length > 0 && targets.every((r) => r.temperature === 0.3));
  assert.ok(targets.every((r) => r.maxTokens === undefined && r.thinkingLevel === undefined));
  const optimizer = models.optimizer.requests;
  assert.ok(optimizer.every((r) => r.temperature === 0.7 && r.reasoningEffort === "low"));
  assert.ok(optimizer.every((r) => r.thinkingLevel === "high"));
  const critiques = models.critic.requests.filter((r) => r.outputSchema?.name === "critique");
  const cluster = models.critic.requests.filter((r) => r.outputSchema?.name !== "critique");
  assert.ok(critiques.length > 0 && cluster.length > 0);
  // The critic keeps the loop's own temperature (0); the cluster role gets its thinking level.
  assert.ok(critiques.every((r) => r.maxTokens === 500 && r.temperature === 0));
  assert.ok(critiques.every((r) => r.thinkingLevel === undefined));
  assert.ok(cluster.every((r) => r.thinkingLevel === "medium" && r.maxTokens === undefined));
  const config = JSON.parse(await Deno.readTextFile(`${result.dir}/config.json`));
  assert.deepEqual(config.temperature, { target: 0.3, optimizer: 0.7 });
  assert.deepEqual(config.thinkingLevel, { optimizer: "high", cluster: "medium" });
});

Deno.test("ClusterFusion's sample and descriptions, the critic's confidence judgement, memory as a user message without patches", async () => {
  await using dir = await tempDir();
  const { models } = await toyRun(dir.path, {
    clusterSample: 2,
    topicDescriptions: "comprehensive",
    criticConfidence: false,
    memoryPlacement: "user_message",
    memoryPatches: false,
    memory: "all_reports",
  });
  const extraction = models.critic.requests.find((r) =>
    r.outputSchema?.name === "topic_extraction"
  );
  assert.ok(extraction);
  assert.match(extraction.messages[0]?.content ?? "", /a comprehensive description/);
  assert.match(extraction.messages[1]?.content ?? "", /in these 2 records/);
  const critique = models.critic.requests.find((r) => r.outputSchema?.name === "critique");
  assert.doesNotMatch(critique?.messages[0]?.content ?? "", /judge the stated confidence/);
  // Iteration 2's decision request: the tool result is the report alone, memory follows it.
  const decision = models.optimizer.requests.filter((r) => r.outputSchema?.name === "decision")[1];
  assert.ok(decision);
  const tool = decision.messages.findIndex((m) => m.role === "tool");
  const toolResult = JSON.parse(decision.messages[tool]?.content ?? "{}");
  assert.deepEqual(Object.keys(toolResult).sort(), ["report", "warnings"]);
  const memory = decision.messages[tool + 1];
  assert.equal(memory?.role, "user");
  assert.match(memory?.content ?? "", /^Memory of this run \(mode all_reports\)/);
  const payload = JSON.parse((memory?.content ?? "").slice(memory!.content.indexOf("\n\n{") + 2));
  assert.deepEqual(payload.history.map((r: { iteration: number }) => r.iteration), [1, 2]);
  assert.ok(!JSON.stringify(payload).includes("rationale"));
});

Deno.test("guards follow the config: meta-edit text passes with the guard off; no cap unless one is set", async () => {
  await using dir = await tempDir();
  const { result } = await toyRun(dir.path, { metaEditGuard: false }, { metaEditFirst: true });
  const s = result.summary!;
  assert.deepEqual(s.steps.map((x) => x.rejections.length), [0, 0, 0]);
  assert.match(s.selected.prompt.instruction, /\[Revised instruction\]/);
  await using dir2 = await tempDir();
  const capped = await toyRun(dir2.path, { maxPromptChars: 100, maxPatchAttempts: 1 });
  assert.equal(capped.result.summary?.stop.kind, "guard");
  assert.match(capped.result.summary?.stop.reason ?? "", /over the cap of 100/);
});

Deno.test("selection uses the config's Brier weight and length penalty", async () => {
  await using dir = await tempDir();
  const { result } = await toyRun(dir.path, { lengthPenalty: 0, brierWeight: 0.5 });
  for (const s of result.summary!.steps) {
    // The toy task's selection: score - w * Brier - P (no length term here).
    const expected = s.dev.score - 0.5 * (s.dev.brier ?? 1);
    assert.ok(Math.abs(s.selection - expected) < 1e-12, `${s.selection} vs ${expected}`);
  }
});

Deno.test("a free-text task is sent no output schema; a structured one is", async () => {
  await using dir = await tempDir();
  const spec = await writeToyTask(dir.path, SIZES);
  const task = await loadCustomTask(spec.slice("custom:".length));
  const examples = await task.load("train");
  const target = new ScriptedChatModel(() => ({
    text: 'Here: {"reasoning": "r", "answer": "x", "confidence": 0.5}',
  }));
  await evaluatePrompt(task.seedPrompt, examples.slice(0, 2), { task, target });
  await evaluatePrompt(task.seedPrompt, examples.slice(0, 2), {
    task: { ...task, outputMode: "text" },
    target,
  });
  assert.deepEqual(
    target.requests.map((r) => r.outputSchema?.name ?? null),
    ["answer", "answer", null, null],
  );
});

Deno.test("run-setting flags: per-role pairs, bare values, and errors that name the flag", async () => {
  assert.deepEqual(parsePerRole("t", "critic=low", String), { critic: "low" });
  const base = ["--task", "hotpotqa", "--target", "sim:target", "--optimizer", "sim:optimizer"];
  const c = await parseOptimizeArgs([
    ...base,
    "--k",
    "20",
    "--cluster-sample",
    "50",
    "--cluster-model",
    "sim:critic",
    "--memory-budget",
    "5000",
    "--last-k",
    "3",
    "--brier-weight",
    "0.1",
    "--length-penalty",
    "0",
    "--max-prompt-chars",
    "9000",
    "--test-every",
    "4",
    "--temperature",
    "0",
    "--max-output-tokens",
    "target=800",
    "--reasoning-effort",
    "optimizer=high,critic=low",
    "--thinking-level",
    "high",
    "--task-protocol",
    "reference",
    "--no-critic-confidence",
    "--memory-placement",
    "user_message",
  ]);
  const parsed = parseRunConfig(c.config);
  assert.equal(parsed.k, 20);
  assert.equal(parsed.clusterSample, 50);
  assert.equal(parsed.clusterModel, "sim:critic");
  assert.equal(parsed.memoryTokenBudget, 5000);
  assert.equal(parsed.memoryK, 3);
  assert.equal(parsed.brierWeight, 0.1);
  assert.equal(parsed.lengthPenalty, 0);
  assert.equal(parsed.maxPromptChars, 9000);
  assert.equal(parsed.testEvery, 4);
  assert.deepEqual(parsed.temperature, { target: 0, optimizer: 0, critic: 0, cluster: 0 });
  assert.deepEqual(parsed.maxOutputTokens, { target: 800 });
  assert.deepEqual(parsed.reasoningEffort, { optimizer: "high", critic: "low" });
  assert.equal(parsed.thinkingLevel.cluster, "high");
  assert.equal(parsed.taskProtocol, "reference");
  assert.equal(parsed.criticConfidence, false);
  assert.equal(parsed.memoryPlacement, "user_message");
  const bad: [string[], RegExp][] = [
    [["--k", "0"], /--k: expected an integer >= 1, got "0"/],
    [["--temperature", "sim=1"], /--temperature: unknown role "sim"/],
    [["--thinking-level", "max"], /--thinking-level: expected one of minimal, low, medium, high/],
    [["--brier-weight=-1"], /--brier-weight: expected a number >= 0/],
    [["--preset", "papers"], /--preset: expected one of paper, reference-cli/],
    [["--memory-patches", "--no-memory-patches"], /contradict/],
    [["--seed-prompt", "/no/such.json"], /--seed-prompt \/no\/such\.json: cannot read/],
  ];
  for (const [args, pattern] of bad) {
    await assert.rejects(parseOptimizeArgs([...base, ...args]), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("the estimate counts memory as the mode shows it, within the budget", async () => {
  await using dir = await tempDir();
  const spec = await writeToyTask(dir.path, { train: 10, dev: 5, test: 5 });
  const task = await loadCustomTask(spec.slice("custom:".length));
  const data = {
    train: await task.load("train"),
    dev: await task.load("dev"),
    test: await task.load("test"),
  };
  const base = { task: spec, target: "openai:gpt-4.1", optimizer: "openai:gpt-5", iterations: 20 };
  const optimizerIn = (extra: Partial<RunConfigInput>) =>
    estimateRun(parseRunConfig({ ...base, ...extra }), task, data).lines
      .find((l) => l.role === "optimizer")!.inputTokens;
  const none = optimizerIn({ memory: "none" });
  const all = optimizerIn({ memory: "all_reports" });
  const capped = optimizerIn({ memory: "all_reports", memoryTokenBudget: 1000 });
  assert.ok(none < capped && capped < all, `${none} < ${capped} < ${all}`);
  const e = estimateRun(parseRunConfig(base), task, data);
  assert.deepEqual(e.lines.map((l) => l.role), [
    "target",
    "critic",
    "cluster",
    "embedder",
    "optimizer",
  ]);
});
