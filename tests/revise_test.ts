import assert from "node:assert/strict";
import { serveModels } from "../lib/llm/serve.ts";
import { ProviderError } from "../lib/llm/model.ts";
import { IncompleteError } from "../lib/incomplete.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { continueRun, optimize, type OptimizeOptions } from "../lib/revise/optimize.ts";
import type { RunConfigInput } from "../lib/run/config.ts";
import { loadRun } from "../lib/run/reader.ts";
import { ConfigError } from "../lib/util/errors.ts";
import {
  optimizerReply,
  tempDir,
  toyModels,
  type ToyOptimizerOptions,
  TRAPS,
  writeToyTask,
} from "./support/toy_loop.ts";

const SIZES = { train: 24, dev: 16, test: 16 };

async function toyRun(
  dir: string,
  opts: ToyOptimizerOptions = {},
  config: Partial<RunConfigInput> = {},
  options: OptimizeOptions = {},
) {
  const task = await writeToyTask(dir, SIZES);
  const models = toyModels(opts);
  const result = await optimize({
    task,
    target: "scripted:t",
    optimizer: "scripted:o",
    iterations: 3,
    k: 3,
    cache: `${dir}/cache.sqlite`,
    ...config,
  }, { runDir: `${dir}/run`, models, ...options });
  return { result, models };
}

Deno.test("a 3-iteration run end to end: patches, dev selection, test curve, run record", async () => {
  await using dir = await tempDir();
  const { result, models } = await toyRun(dir.path);
  const s = result.summary;
  assert.ok(s);
  // Seed right only on trap-free cases (1 in 4); each patch fixes one trap (1 in 4 more).
  assert.deepEqual(s.steps.map((x) => x.train?.score ?? null), [0.25, 0.5, 0.75, null]);
  assert.deepEqual(s.steps.map((x) => x.dev.score), [0.25, 0.5, 0.75, 1]);
  assert.deepEqual(s.steps.map((x) => x.kind), ["iteration", "iteration", "iteration", "final"]);
  assert.deepEqual(s.steps.map((x) => x.action), ["patch", "patch", "patch", "none"]);
  assert.deepEqual(s.steps.map((x) => x.selected), [true, true, true, true]);
  assert.deepEqual(s.stop, { kind: "iterations", reason: "all 3 iterations ran" });
  assert.equal(s.selected.step, 4);
  for (const rule of Object.values(TRAPS)) assert.ok(s.selected.prompt.instruction.includes(rule));
  assert.equal(s.selected.test?.score, 1);
  assert.equal(s.seed.test?.score, 0.25);
  assert.deepEqual(s.testCurve.map((p) => p.step), [1]);
  assert.equal(s.comparison?.delta, 0.75);
  assert.equal(s.comparison?.n, 16);
  // Two optimizer requests per iteration: the tool call and the decision.
  assert.equal(models.optimizer.requests.length, 6);
  const first = models.optimizer.requests[0]!;
  assert.equal(first.toolChoice, "required");
  assert.ok(first.messages[1]?.content.startsWith("Iteration 1 of 3"));
  const decision = models.optimizer.requests[1]!;
  assert.equal(decision.outputSchema?.name, "decision");
  assert.equal(decision.toolChoice, "none");
  const tool = decision.messages.find((m) => m.role === "tool");
  assert.equal(tool?.name, "diagnose");
  const call = decision.messages.find((m) => m.role === "assistant")?.toolCalls?.[0];
  assert.equal(tool?.toolCallId, call?.id);
  const payload = JSON.parse(tool!.content);
  assert.deepEqual(Object.keys(payload).sort(), ["memory", "report", "warnings"]);
  assert.equal(payload.memory.mode, "history_summary");
  // The second iteration's memory holds the first report with the patch that followed it.
  const second = JSON.parse(
    models.optimizer.requests[3]!.messages.find((m) => m.role === "tool")!.content,
  );
  assert.equal(second.memory.history.length, 1);
  assert.match(second.memory.history[0].followed_by.rationale, /rule/);
  assert.equal(second.memory.current_summary.non_improving_streak, 0);

  const run = await loadRun(result.dir, { records: true });
  assert.equal(run.steps.length, 4);
  assert.ok(run.steps[0]?.report && run.steps[0].test && run.steps[0].decision);
  assert.equal(run.steps[3]?.report, null);
  assert.deepEqual(run.summary, s);
  assert.equal(run.finalTest?.metrics.score, 1);
  const record = run.steps[0]?.record;
  assert.equal(record?.traces.length, 24);
  assert.ok((record?.clustering?.topics.length ?? 0) >= 3);
  const types = new Set<string>(run.events.map((e) => e.type));
  for (const t of ["run_start", "report", "decision", "selection", "evaluation", "run_end"]) {
    assert.ok(types.has(t), t);
  }
  const config = JSON.parse(await Deno.readTextFile(`${result.dir}/config.json`));
  assert.equal(config.iterations, 3);
  assert.equal(run.usage?.sessions.length, 1);
});

Deno.test("a patch rejected for meta-edit text, then accepted", async () => {
  await using dir = await tempDir();
  const { result, models } = await toyRun(dir.path, { metaEditFirst: true }, { iterations: 1 });
  const step = result.summary!.steps[0]!;
  assert.equal(step.decisionAttempts, 2);
  assert.equal(step.rejections.length, 1);
  assert.match(step.rejections[0]!, /meta-edit text \("\[Revised"\)/);
  assert.equal(step.action, "patch");
  const retry = models.optimizer.requests[2]!;
  assert.ok(retry.messages.at(-1)?.content.startsWith("Patch rejected: "));
  assert.ok(!result.summary!.selected.prompt.instruction.includes("[Revised"));
});

Deno.test("an optimizer that never calls the tool stops the run with a clear reason", async () => {
  await using dir = await tempDir();
  const { result, models } = await toyRun(dir.path, { neverCallTool: true });
  const s = result.summary!;
  assert.equal(s.stop.kind, "tool");
  assert.match(s.stop.reason, /did not make a valid diagnose call in 3 request\(s\)/);
  assert.equal(models.optimizer.requests.length, 3);
  assert.ok(models.optimizer.requests[1]!.messages.at(-1)!.content.startsWith(
    "You must call the diagnose tool",
  ));
  // The seed was still scored on dev and test, and is the selection.
  assert.equal(s.steps.length, 1);
  assert.equal(s.selected.step, 1);
  assert.equal(s.selected.test?.score, 0.25);
});

Deno.test("malformed tool arguments are answered with an error and re-asked", async () => {
  await using dir = await tempDir();
  const { result, models } = await toyRun(dir.path, { malformedArgsFirst: true }, {
    iterations: 1,
  });
  assert.equal(result.summary!.steps[0]!.action, "patch");
  const second = models.optimizer.requests[1]!;
  const errorReply = second.messages.find((m) => m.role === "tool")!;
  assert.match(errorReply.content, /not valid JSON/);
  assert.equal(errorReply.name, "diagnose");
  assert.ok(second.messages.at(-1)!.content.startsWith("You must call the diagnose tool"));
});

Deno.test("the optimizer's stop decision ends the run without a final step", async () => {
  await using dir = await tempDir();
  const { result } = await toyRun(dir.path, { stopAt: 2 }, { iterations: 5 });
  const s = result.summary!;
  assert.deepEqual(s.stop, { kind: "decision", reason: "told to stop at 2" });
  assert.deepEqual(s.steps.map((x) => x.action), ["patch", "stop"]);
  assert.equal(s.iterationsRun, 2);
  assert.equal(s.selected.step, 2);
});

Deno.test("explore protocol: a candidate is diagnosed before deciding", async () => {
  await using dir = await tempDir();
  const { result, models } = await toyRun(dir.path, { exploreCandidate: true }, {
    iterations: 1,
    protocol: "explore",
  });
  const step = result.summary!.steps[0]!;
  assert.equal(step.diagnoseCalls, 2);
  assert.equal(step.action, "patch");
  assert.equal(models.optimizer.requests[1]!.toolChoice, "auto");
  const record = JSON.parse(await Deno.readTextFile(`${result.dir}/iter-001/record.json`));
  assert.equal(record.candidates.length, 1);
  assert.equal(record.candidates[0].report.metrics.score, 0.5);
});

Deno.test("an aborted run keeps its complete steps and continues to the same summary", async () => {
  await using full = await tempDir();
  const reference = (await toyRun(full.path)).result.summary;
  await using dir = await tempDir();
  const controller = new AbortController();
  const { result } = await toyRun(dir.path, {}, {}, {
    signal: controller.signal,
    onStep: (s) => s.step === 2 && controller.abort(new DOMException("stop", "AbortError")),
  });
  assert.equal(result.interrupted, true);
  assert.equal(result.summary, null);
  assert.equal(result.state.completedSteps, 2);
  const models = toyModels();
  const resumed = await continueRun(result.dir, { models });
  assert.deepEqual(resumed.summary, reference);
  // Steps 1-2 are not repeated: only iteration 3's two optimizer requests are made.
  assert.equal(models.optimizer.requests.length, 2);
  const run = await loadRun(result.dir);
  assert.deepEqual(run.usage?.sessions.map((x) => x.status), ["interrupted", "finished"]);
});

Deno.test("bad config is a ConfigError naming the problem, before any call", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const models = toyModels();
  const base = { task, target: "scripted:t", optimizer: "scripted:o", cache: `${dir.path}/c` };
  const cases: [Partial<RunConfigInput>, RegExp, OptimizeOptions["models"]?][] = [
    [{ task: "nope" }, /unknown task 'nope'/],
    [{ iterations: 0 }, /iterations: /],
    [{ optimizer: "bogus:x" }, /unknown provider "bogus"/, { target: models.target }],
    [{ optimizer: "openai:gpt-4.1" }, /needs an API key: set OPENAI_API_KEY/, {
      target: models.target,
    }],
    [{ task: `custom:${dir.path}/missing.json` }, /missing\.json/],
  ];
  for (const [patch, pattern, given] of cases) {
    await assert.rejects(
      optimize({ ...base, ...patch } as RunConfigInput, {
        runDir: `${dir.path}/run`,
        models: given ?? models,
        env: {},
      }),
      (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
    );
  }
  assert.equal(models.target.requests.length + models.optimizer.requests.length, 0);
});

for (const wire of ["openai", "gemini"] as const) {
  Deno.test(`${wire}-style tool calls through a local server and the real SDK`, async () => {
    await using dir = await tempDir();
    const optimizer = new ScriptedChatModel(optimizerReply(), { model: "toy-optimizer" });
    const server = serveModels({ models: { "toy-optimizer": optimizer } });
    try {
      const spec = wire === "openai"
        ? `openai-compatible:toy-optimizer@${server.url}/v1`
        : `gemini:toy-optimizer@${server.url}`;
      const { target, critic } = toyModels();
      const task = await writeToyTask(dir.path, SIZES);
      const result = await optimize({
        task,
        target: "scripted:t",
        optimizer: spec,
        critic: "scripted:c",
        iterations: 2,
        k: 3,
        cache: `${dir.path}/cache.sqlite`,
      }, {
        runDir: `${dir.path}/run`,
        models: { target, critic },
        env: { GEMINI_API_KEY: "test-key" },
        maxRetries: 0,
      });
      const s = result.summary!;
      assert.deepEqual(s.steps.map((x) => x.action), ["patch", "patch", "none"]);
      assert.deepEqual(s.steps.map((x) => x.train?.score ?? null), [0.25, 0.5, null]);
      assert.equal(server.requests.length, 4);
      // The tool result reached the model as a tool message with its name and call id.
      const decisionRequest = optimizer.requests[1]!;
      const tool = decisionRequest.messages.find((m) => m.role === "tool");
      assert.equal(tool?.name, "diagnose");
      const call = decisionRequest.messages.find((m) => m.role === "assistant")?.toolCalls?.[0];
      assert.equal(call?.name, "diagnose");
      assert.equal(tool?.toolCallId, call?.id);
      assert.ok(JSON.parse(tool!.content).report);
    } finally {
      await server.close();
    }
  });
}

Deno.test("a dollar budget stops the run cleanly; completed steps and selection stand", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const { target, critic } = toyModels();
  // A scripted optimizer billed like gpt-4.1 ($2 per million input tokens).
  const optimizer = new ScriptedChatModel(optimizerReply(), {
    provider: "openai",
    model: "gpt-4.1",
  });
  const result = await optimize({
    task,
    target: "scripted:t",
    optimizer: "openai:gpt-4.1",
    critic: "scripted:c",
    iterations: 5,
    k: 3,
    budgetUsd: 0.008,
    cache: `${dir.path}/cache.sqlite`,
  }, { runDir: `${dir.path}/run`, models: { target, critic, optimizer } });
  const s = result.summary!;
  assert.equal(s.stop.kind, "budget");
  assert.match(s.stop.reason, /dollar budget of \$0\.008 would be exceeded/);
  assert.ok(s.steps.length >= 1 && s.steps.length < 5, `${s.steps.length} steps`);
  assert.ok(result.usage.total.usd <= 0.008);
  // The test split is scored by the free target, so the final score is there.
  assert.equal(s.selected.step, s.steps.length);
  assert.ok(s.selected.test !== null);
});

Deno.test("a failed optimizer call stops the run incomplete after saving; resume finishes it", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const { target, critic } = toyModels();
  const healthy = optimizerReply();
  const failing = new ScriptedChatModel((req) =>
    /Iteration 2 of/.test(req.messages[1]?.content ?? "")
      ? new ProviderError({
        provider: "scripted",
        model: "o",
        message: "bad request",
        status: 400,
        retryable: false,
      })
      : healthy(req)
  );
  const config = {
    task,
    target: "scripted:t",
    optimizer: "scripted:o",
    iterations: 3,
    k: 3,
    cache: `${dir.path}/c.sqlite`,
  };
  await assert.rejects(
    optimize(config, { runDir: `${dir.path}/run`, models: { target, critic, optimizer: failing } }),
    (e: unknown) =>
      e instanceof IncompleteError && e.failures.phase === "optimizer" && e.step === 2 &&
      e.cause instanceof ProviderError && /HTTP 400/.test(e.message),
  );
  const run = await loadRun(`${dir.path}/run`);
  assert.equal(run.state?.completedSteps, 1);
  assert.equal(run.summary, null);
  const last = run.events.at(-1);
  assert.equal(last?.type, "incomplete");
  assert.equal(run.incomplete?.step, 2);
  assert.deepEqual(run.incomplete?.failures.phase, "optimizer");
  assert.equal(run.usage?.sessions.at(-1)?.status, "incomplete");
  const resumed = await continueRun(`${dir.path}/run`, { models: toyModels() });
  assert.equal((await loadRun(`${dir.path}/run`)).incomplete, null);
  assert.deepEqual(resumed.summary?.steps.map((s) => s.action), [
    "patch",
    "patch",
    "patch",
    "none",
  ]);
});

Deno.test("the loop keeps the memory payload within a small token budget by compaction", async () => {
  await using dir = await tempDir();
  const { result, models } = await toyRun(dir.path, {}, { memoryTokenBudget: 260 });
  const steps = result.summary!.steps.filter((s) => s.kind === "iteration");
  assert.ok(
    steps.every((s) => s.memoryTokens > 0 && s.memoryTokens <= 260),
    JSON.stringify(steps.map((s) => s.memoryTokens)),
  );
  const third = JSON.parse(
    models.optimizer.requests[5]!.messages.find((m) => m.role === "tool")!.content,
  );
  assert.equal(third.memory.history[0].compacted, true);
  assert.ok(third.memory.current_summary.best_so_far);
  // Compaction is recorded: in the step summary and as an event.
  assert.ok(steps.some((s) => (s.memoryCompaction?.compacted ?? 0) > 0));
  const events = (await Deno.readTextFile(`${result.dir}/events.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l));
  const compacted = events.filter((e) => e.type === "memory_compacted");
  assert.ok(compacted.length > 0 && compacted.every((e) => e.budget === 260));
});
