/**
 * A failed call is never a score (issue 14, point 1), in the session: a target call that
 * still fails after its retries leaves its example unscored and the step incomplete (saved,
 * no summary, resumable, re-sending only the failed calls); `maxErrorRate` counts them as
 * failures instead, and the count reaches the step summary, `summary.json`, `rpt show`, the
 * HTML report and the notebook helper. The same for critic and clustering calls.
 */
import assert from "node:assert/strict";
import { formatRun } from "../lib/cli/show.ts";
import { runReportHtml } from "../lib/cli/report.ts";
import { failedCallsText, IncompleteError, runFailedCallsText } from "../lib/incomplete.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { ProviderError } from "../lib/llm/model.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";
import { renderRunHtml } from "../lib/notebook.ts";
import { continueRun, optimize } from "../lib/revise/optimize.ts";
import { openSession } from "../lib/revise/open.ts";
import { loadRun } from "../lib/run/reader.ts";
import type { RunConfigInput } from "../lib/run/config.ts";
import { tempDir, toyModels, writeToyTask } from "./support/toy_loop.ts";

const SIZES = { train: 24, dev: 16, test: 16 };

/** `model`, whose calls matching `when` fail as a dead server's do (and are counted). */
function failingWhen(
  model: ChatModel,
  when: (req: ChatRequest) => boolean,
): ChatModel & { sent: number } {
  const wrapped = {
    provider: model.provider,
    model: model.model,
    sent: 0,
    chat(req: ChatRequest, opts?: { signal?: AbortSignal }) {
      wrapped.sent++;
      if (!when(req)) return model.chat(req, opts);
      return Promise.reject(
        new ProviderError({
          provider: model.provider,
          model: model.model,
          message: "connection refused (http://127.0.0.1:9/v1)",
          retryable: true,
        }),
      );
    },
  };
  return wrapped;
}

const text = (req: ChatRequest) => req.messages.map((m) => m.content).join("\n");
/** Dev example 2 of the toy task is case 26 (train 0-23, dev 24-39). */
const DEV_CASE = (req: ChatRequest) => /Case 26: /.test(text(req));

function config(task: string, dir: string, extra: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    task,
    target: "scripted:t",
    optimizer: "scripted:o",
    iterations: 3,
    k: 3,
    retries: 0,
    cache: `${dir}/cache.sqlite`,
    ...extra,
  };
}

Deno.test("a failed target call leaves its example unscored: the step is incomplete, resume re-sends only it", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const clean = await optimize(config(task, `${dir.path}/clean`), {
    runDir: `${dir.path}/clean`,
    models: toyModels(),
  });

  const models = toyModels();
  const dead = failingWhen(models.target, DEV_CASE);
  const runDir = `${dir.path}/run`;
  const error = await optimize(config(task, dir.path), {
    runDir,
    models: { ...models, target: dead },
  }).then(() => null, (e) => e);
  assert.ok(error instanceof IncompleteError, String(error));
  assert.deepEqual(error.failures, {
    phase: "dev",
    failed: 1,
    total: 16,
    lastError:
      "scripted:toy-target: gave up after 1 attempt: connection refused (http://127.0.0.1:9/v1)",
  });
  assert.equal(error.step, 1);

  const run = await loadRun(runDir);
  assert.equal(run.summary, null, "no summary claims a result");
  assert.equal(run.state?.completedSteps, 0);
  assert.equal(run.incomplete?.step, 1);
  assert.equal(run.incomplete?.items.length, 16);
  assert.deepEqual(
    run.incomplete?.items.filter((i) => i.error !== undefined).map((i) => i.exampleId),
    ["dev-2"],
  );
  assert.equal(run.events.at(-1)?.type, "incomplete");
  assert.equal(run.usage?.sessions.at(-1)?.status, "incomplete");
  assert.match(formatRun(run), /step 1 is incomplete: 1 of 16 target calls on dev failed/);

  // The endpoint is back: the resume sends the one failed call, the rest come from the cache.
  const healthy = failingWhen(toyModels().target, () => false);
  const resumed = await continueRun(runDir, { models: { ...toyModels(), target: healthy } });
  const cleanTargetCalls = clean.usage.models["scripted:toy-target"]?.calls ?? 0;
  assert.equal(healthy.sent, cleanTargetCalls - 15);
  assert.deepEqual(resumed.summary, clean.summary);
  assert.equal((await loadRun(runDir)).incomplete, null);
});

Deno.test("--max-error-rate: failed examples count as failures, and the count is shown everywhere", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const models = toyModels();
  const dead = failingWhen(models.target, DEV_CASE);
  // 1 of 16 (6.25%) is above 5% and within 10%.
  await assert.rejects(
    optimize(config(task, dir.path, { maxErrorRate: 0.05 }), {
      runDir: `${dir.path}/strict`,
      models: { ...models, target: dead },
    }),
    IncompleteError,
  );
  const result = await optimize(config(task, dir.path, { maxErrorRate: 0.1 }), {
    runDir: `${dir.path}/run`,
    models: { ...toyModels(), target: dead },
  });
  const summary = result.summary!;
  const devSteps = summary.steps.length;
  assert.deepEqual(summary.failedCalls, { dev: devSteps });
  for (const s of summary.steps) assert.deepEqual(s.failedCalls, { dev: 1 });
  const run = await loadRun(result.dir);
  const item = run.steps[0]?.dev?.items.find((i) => i.exampleId === "dev-2");
  assert.equal(item?.score, 0);
  assert.match(item?.error ?? "", /connection refused/);
  assert.equal(run.steps[0]?.dev?.metrics.errorRate, 1 / 16);

  const shown = formatRun(run);
  assert.match(shown, /warning: step 1: 1 failed call counted as failures \(dev 1\)/);
  assert.match(shown, new RegExp(`in all, ${devSteps} failed calls counted as failures`));
  const html = runReportHtml(run);
  assert.match(html, /<h2>Warnings<\/h2>/);
  assert.match(
    html,
    new RegExp(
      `<td>failed calls</td><td>–</td><td>${devSteps} failed calls counted as failures ` +
        `\\(dev ${devSteps} over ${devSteps} evaluations of 16 examples\\) over the run, ` +
        "allowed by --max-error-rate 0\\.1",
    ),
  );
  assert.match(html, /<td>1<\/td><td>1 of 16 dev examples got no answer from the target/);
  assert.match(renderRunHtml(summary).html, /failed calls counted as failures/);
});

Deno.test("a failed critic call is a missing critique: incomplete by default, counted when allowed", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  // The critique of train case 5 (a failure of the seed prompt) never comes back.
  const critiqueOf5 = (req: ChatRequest) =>
    req.outputSchema?.name === "critique" && /Case 5: /.test(text(req));
  const models = toyModels();
  const error = await optimize(config(task, dir.path), {
    runDir: `${dir.path}/strict`,
    models: { ...models, critic: failingWhen(models.critic, critiqueOf5) },
  }).then(() => null, (e) => e);
  assert.ok(error instanceof IncompleteError, String(error));
  assert.equal(error.failures.phase, "critique");
  assert.equal(error.failures.failed, 1);
  assert.equal(error.step, 1);

  const again = toyModels();
  const result = await optimize(config(task, dir.path, { maxErrorRate: 0.5 }), {
    runDir: `${dir.path}/run`,
    models: { ...again, critic: failingWhen(again.critic, critiqueOf5) },
  });
  assert.equal(result.summary?.steps[0]?.failedCalls?.critique, 1);
  assert.ok((result.summary?.failedCalls.critique ?? 0) >= 1);
  const record = (await loadRun(result.dir, { records: true })).steps[0]?.record;
  const missing = record?.critiques.filter((c) => c.callFailed);
  assert.equal(missing?.length, 1);
  assert.deepEqual(missing?.[0]?.modes, []);
});

Deno.test("a failed topic-assignment call is counted (clustering phase), never silently dropped", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const assignment = (req: ChatRequest) => req.outputSchema?.name === "topic_assignment";
  const models = toyModels();
  const error = await optimize(config(task, dir.path), {
    runDir: `${dir.path}/strict`,
    models: { ...models, critic: failingWhen(models.critic, assignment) },
  }).then(() => null, (e) => e);
  assert.ok(error instanceof IncompleteError, String(error));
  assert.equal(error.failures.phase, "cluster");
  assert.equal(error.failures.failed, error.failures.total - 1); // all but the extraction

  const again = toyModels();
  const result = await optimize(config(task, dir.path, { maxErrorRate: 1 }), {
    runDir: `${dir.path}/run`,
    models: { ...again, critic: failingWhen(again.critic, assignment) },
  });
  const first = result.summary?.steps[0];
  assert.ok((first?.failedCalls?.cluster ?? 0) >= 1, JSON.stringify(first?.failedCalls));
  const record = (await loadRun(result.dir, { records: true })).steps[0]?.record;
  assert.equal(record?.clustering?.failedCalls.failed, first?.failedCalls?.cluster);
  assert.equal(record?.clustering?.fallbacks.count, record?.clustering?.records);
});

Deno.test("a session stepped by hand stops at an incomplete step and can step it again", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  let down = true;
  const models = toyModels();
  const flaky = failingWhen(models.target, (req) => down && DEV_CASE(req));
  const s = await openSession(config(task, dir.path), {
    runDir: `${dir.path}/run`,
    models: { ...models, target: flaky },
  });
  await assert.rejects(s.step(), /1 of 16 target calls on dev failed/);
  assert.equal(s.steps.length, 0);
  down = false;
  const step = await s.step();
  assert.equal(step?.summary.step, 1);
  assert.equal(step?.summary.failedCalls, undefined);
  await s.close();
});

Deno.test("an incomplete final test writes no summary; resume scores the failed examples and finishes", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const clean = await optimize(config(task, `${dir.path}/clean`), {
    runDir: `${dir.path}/clean`,
    models: toyModels(),
  });
  // Test case 45 fails only for a revised prompt: step 1 (the seed) scores it, the final
  // test of the selected prompt does not.
  const revisedTestCase = (req: ChatRequest) =>
    /Case 45: /.test(text(req)) && text(req).includes("Convert every quantity");
  const models = toyModels();
  const runDir = `${dir.path}/run`;
  const error = await optimize(config(task, dir.path), {
    runDir,
    models: { ...models, target: failingWhen(models.target, revisedTestCase) },
  }).then(() => null, (e) => e);
  assert.ok(error instanceof IncompleteError, String(error));
  assert.equal(error.failures.phase, "test");
  const run = await loadRun(runDir);
  assert.equal(run.summary, null);
  assert.equal(run.state?.finished, true);
  assert.equal(run.incomplete?.phase, "final test");
  assert.match(formatRun(run), /the final test of the selected prompt is incomplete/);
  const resumed = await continueRun(runDir, { models: toyModels() });
  assert.deepEqual(resumed.summary, clean.summary);
  assert.equal((await loadRun(runDir)).incomplete, null);
});

Deno.test("--max-error-rate: a test call that fails at step 1 and again in the final test reads as calls over two evaluations, not as more failures than examples", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  // Test cases 40-51 (12 of the 16) never get an answer, whatever the prompt.
  const testCase = (req: ChatRequest) => /Case (4\d|5[01]): /.test(text(req));
  const models = toyModels({ stopAt: 1 });
  const dead = failingWhen(models.target, testCase);
  const result = await optimize(config(task, dir.path, { maxErrorRate: 1 }), {
    runDir: `${dir.path}/run`,
    models: { ...models, target: dead },
  });
  const summary = result.summary!;
  // Step 1 is selected: its step's test and the final test send the same 12 calls, and
  // both fail (failed calls are not cached): 24 real calls on a split of 16 examples.
  assert.equal(summary.selected.step, 1);
  assert.deepEqual(summary.failedCalls, { test: 24 });
  const words = "24 failed calls counted as failures (test 24 over 2 evaluations of 16 examples)";
  assert.equal(runFailedCallsText(summary), words);
  const run = await loadRun(result.dir);
  assert.ok(formatRun(run).includes(`warning: in all, ${words} (--max-error-rate 1)`));
  assert.ok(
    runReportHtml(run).includes(`<td>failed calls</td><td>–</td><td>${words} over the run`),
  );
  assert.ok(renderRunHtml(summary).html.includes(words));
  // Per step, one evaluation of each split: the step's own words stay short.
  assert.equal(
    failedCallsText(summary.steps[0]?.failedCalls),
    "12 failed calls counted as failures (test 12)",
  );
});
