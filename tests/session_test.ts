/**
 * The steppable session (lib/revise/): stepping by hand runs the same code as `optimize`,
 * a hand edit is recorded like a patch, and a hand-stepped run reads, renders and resumes
 * like any other. The toy world of loop_helpers.ts: every patch adds the rule of one trap,
 * so each step's scores are exact.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatRun } from "../lib/cli/show.ts";
import { runReportHtml } from "../lib/cli/report.ts";
import { reopenSession } from "../lib/revise/open.ts";
import { openSession } from "../lib/revise/open.ts";
import { continueRun, optimize } from "../lib/revise/optimize.ts";
import { loadRun } from "../lib/run/reader.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { tempDir, toyModels, TRAPS, writeToyTask } from "./support/toy_loop.ts";

const SIZES = { train: 24, dev: 16, test: 16 };
const HAND_RATIONALE = "by hand: the rounding rule";

function config(task: string, dir: string) {
  return {
    task,
    target: "scripted:t",
    optimizer: "scripted:o",
    iterations: 3,
    k: 3,
    cache: `${dir}/cache.sqlite`,
  };
}

/** The files of every step folder, as `iter-NNN/name` (the layout, not the contents). */
async function stepFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const folder of Deno.readDir(dir)) {
    if (!folder.isDirectory || !folder.name.startsWith("iter-")) continue;
    for await (const f of Deno.readDir(join(dir, folder.name))) {
      files.push(`${folder.name}/${f.name}`);
    }
  }
  return files.sort();
}

Deno.test("a session stepped by hand: diagnose, step, tryPrompt, accept, step, finish", async () => {
  // The same run by `optimize`: the hand edit below is the patch its optimizer made at step 2.
  await using other = await tempDir();
  const reference = await optimize(config(await writeToyTask(other.path, SIZES), other.path), {
    runDir: `${other.path}/run`,
    models: toyModels(),
  });
  const referenceRun = await loadRun(reference.dir);
  const optimizersEdit = referenceRun.steps[2]!.prompt;

  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const models = toyModels();
  const s = await openSession(config(task, dir.path), { runDir: `${dir.path}/run`, models });

  // The report of the seed prompt: the target on train and the critic, no optimizer call.
  const seed = await s.diagnose();
  assert.equal(seed.report.metrics.score, 0.25);
  assert.equal(models.optimizer.requests.length, 0);
  assert.equal(models.target.requests.length, 24);
  const criticCalls = models.critic.requests.length;

  // Iteration 1 reuses that diagnosis: only dev and test (step 1) are new target calls.
  const one = await s.step();
  assert.equal(models.target.requests.length, 24 + 16 + 16);
  assert.equal(models.critic.requests.length, criticCalls);
  assert.equal(one?.summary.train?.score, 0.25);
  assert.equal(one?.summary.dev.score, 0.25);
  assert.equal(one?.decision?.action, "patch");
  assert.equal(models.optimizer.requests.length, 2);
  assert.equal(one?.messages[0]?.role, "system");
  assert.deepEqual(s.prompt, one?.nextPrompt);

  // A candidate is diagnosed without committing it.
  const tried = await s.tryPrompt({ instruction: `${s.prompt.instruction}\nBe humble.` });
  assert.equal(tried.report.metrics.score, 0.5);
  assert.equal(tried.report.metrics.avgConfidence, 0.5); // humble: 0.7 when right, 0.3 when wrong
  assert.equal(s.steps.length, 1);
  assert.deepEqual(s.prompt, one?.nextPrompt);
  assert.notDeepEqual(s.prompt, optimizersEdit);
  const edited = { instruction: optimizersEdit.instruction };

  // The hand edit is iteration 2's decision: scored, diagnosed, in memory like a patch.
  const two = await s.accept(edited, { rationale: HAND_RATIONALE });
  assert.equal(models.optimizer.requests.length, 2, "a hand edit asks the optimizer nothing");
  assert.equal(two?.summary.by, "hand");
  assert.equal(two?.summary.action, "patch");
  assert.equal(two?.summary.rationale, HAND_RATIONALE);
  assert.equal(two?.summary.dev.score, 0.5);
  assert.equal(two?.summary.train?.score, 0.5);
  assert.equal(s.prompt.instruction, edited.instruction);
  assert.equal(s.memory.at(-1)?.patch?.rationale, HAND_RATIONALE);

  // Iteration 3 by the optimizer: its memory shows the hand edit like any patch.
  const three = await s.step();
  const payload = JSON.parse(
    models.optimizer.requests[3]!.messages.find((m) => m.role === "tool")!.content,
  );
  assert.equal(payload.memory.history[1].followed_by.rationale, HAND_RATIONALE);
  assert.equal(three?.summary.train?.score, 0.75);
  assert.equal(s.finished, false, "the last patch's prompt is not scored yet");

  const summary = await s.finish();
  assert.deepEqual(summary.steps.map((x) => x.dev.score), [0.25, 0.5, 0.75, 1]);
  assert.deepEqual(summary.steps.map((x) => x.by ?? "optimizer"), [
    "optimizer",
    "hand",
    "optimizer",
    "optimizer",
  ]);
  assert.deepEqual(summary.stop, { kind: "iterations", reason: "all 3 iterations ran" });
  assert.equal(summary.selected.step, 4);
  assert.equal(summary.selected.test?.score, 1);
  for (const rule of Object.values(TRAPS)) {
    assert.ok(summary.selected.prompt.instruction.includes(rule));
  }
  await assert.rejects(s.step(), /session is closed/);

  // The run record loads, typed, and renders like an optimize run's.
  const run = await loadRun(s.dir, { records: true });
  assert.deepEqual(run.summary, summary);
  assert.equal(run.steps[1]?.decision?.by, "hand");
  assert.deepEqual(run.steps[1]?.decision?.messages, []);
  assert.equal(run.steps[1]?.record?.candidates[0]?.by, "hand");
  assert.equal(run.steps[1]?.record?.candidates[0]?.report.metrics.score, 0.5);
  assert.equal(run.events.filter((e) => e.type === "decision" && e.by === "hand").length, 1);
  assert.deepEqual(run.usage?.sessions.map((x) => x.status), ["finished"]);
  const shown = formatRun(run);
  assert.match(shown, /^2 {5}0\.500 .* \(by hand\) by hand: the rounding rule$/m);
  assert.match(shown, /stopped: iterations: all 3 iterations ran/);
  assert.match(runReportHtml(run), /patch \(by hand\)/);

  // Everything but the authorship of step 2 matches the optimize run.
  assert.deepEqual(await stepFiles(s.dir), await stepFiles(reference.dir));
  const authorless = (steps: typeof summary.steps) =>
    steps.map((
      {
        by: _by,
        rationale: _r,
        optimizerCalls: _o,
        optimizerPromptTokens: _t,
        memoryTokens: _m,
        ...rest
      },
    ) => rest);
  assert.deepEqual(authorless(summary.steps), authorless(reference.summary!.steps));
  assert.deepEqual(summary.selected, reference.summary!.selected);
  assert.deepEqual(summary.comparison, reference.summary!.comparison);
  // The rows up to "then (patch -> next step)": the rationale is the hand edit's own.
  const strip = (text: string) => {
    const lines = text.replace(/^(run|task|preset) .*$/gm, "").split("\n");
    const at = lines.find((l) => l.startsWith("step "))?.indexOf("then (patch") ?? -1;
    return lines.map((l) => (/^[\d-]/.test(l) && at > 0 ? l.slice(0, at) : l)).join("\n");
  };
  assert.equal(
    strip(formatRun(run)).split("\n").slice(0, 20).join("\n"),
    strip(formatRun(referenceRun)).split("\n").slice(0, 20).join("\n"),
  );
});

Deno.test("continueRun finishes a hand-stepped session interrupted mid-step as if it had not stopped", async () => {
  const handSteps = async (dir: string, signal?: AbortSignal, onEvent?: () => void) => {
    const task = await writeToyTask(dir, SIZES);
    const s = await openSession(config(task, dir), {
      runDir: `${dir}/run`,
      models: toyModels(),
      ...(signal ? { signal } : {}),
      onProgress: (p) => p.step === 3 && p.phase === "optimizer" && onEvent?.(),
    });
    await s.step();
    await s.accept({ instruction: `${s.prompt.instruction}\n${TRAPS.ROUNDING}` }, {
      rationale: HAND_RATIONALE,
    });
    return s;
  };
  await using full = await tempDir();
  const uninterrupted = await handSteps(full.path);
  while (!uninterrupted.finished) await uninterrupted.step();
  const reference = await uninterrupted.finish();

  await using dir = await tempDir();
  const controller = new AbortController();
  const s = await handSteps(
    dir.path,
    controller.signal,
    () => controller.abort(new DOMException("stop", "AbortError")),
  );
  const error = await s.step().then(() => null, (e: unknown) => e);
  assert.ok(error instanceof Error && error.name === "AbortError", String(error));
  await s.close(error);
  assert.equal(s.steps.length, 2, "the partial step 3 is not saved");

  const models = toyModels();
  const resumed = await continueRun(`${dir.path}/run`, { models });
  assert.deepEqual(resumed.summary, reference);
  assert.equal(resumed.summary?.steps[1]?.by, "hand");
  // Only iteration 3's conversation is held again.
  assert.equal(models.optimizer.requests.length, 2);
  const run = await loadRun(`${dir.path}/run`);
  assert.deepEqual(run.usage?.sessions.map((x) => x.status), ["interrupted", "finished"]);
  assert.ok(run.events.some((e) => e.type === "interrupted" && e.completedSteps === 2));
});

Deno.test("a hand edit goes through the guards; a stopped or finished session refuses more steps", async () => {
  await using dir = await tempDir();
  const task = await writeToyTask(dir.path, SIZES);
  const models = toyModels({ stopAt: 2 });
  const s = await openSession(config(task, dir.path), { runDir: `${dir.path}/run`, models });
  const calls = () => models.target.requests.length;
  const before = calls();
  await assert.rejects(
    s.accept({ instruction: "[Revised instruction] Answer." }, { rationale: "r" }),
    (e: unknown) =>
      e instanceof ConfigError && /hand edit was rejected: .*meta-edit/.test(e.message),
  );
  await assert.rejects(
    s.accept({ instruction: s.prompt.instruction }, { rationale: "r" }),
    /does not change the prompt/,
  );
  await assert.rejects(s.accept({ extra: "x" }, { rationale: "r" }), /system and instruction only/);
  assert.equal(calls(), before, "a refused hand edit costs nothing");
  await s.step();
  await s.step(); // the optimizer stops at iteration 2
  assert.equal(s.finished, true);
  assert.deepEqual(s.stop, { kind: "decision", reason: "told to stop at 2" });
  await assert.rejects(s.step(), /the run has stopped \(decision: told to stop at 2\)/);
  await assert.rejects(s.accept({ system: "S" }, { rationale: "r" }), /the run has stopped/);
  const summary = await s.finish();
  assert.equal(summary.steps.length, 2);
});

Deno.test("finish() before the last iteration scores the current prompt and stops by hand", async () => {
  await using dir = await tempDir();
  const s = await openSession(config(await writeToyTask(dir.path, SIZES), dir.path), {
    runDir: `${dir.path}/run`,
    models: toyModels(),
  });
  await s.step();
  const summary = await s.finish();
  assert.deepEqual(summary.steps.map((x) => [x.kind, x.dev.score]), [
    ["iteration", 0.25],
    ["final", 0.5],
  ]);
  assert.deepEqual(summary.stop, {
    kind: "manual",
    reason: "finished by hand after 1 of 3 iterations",
  });
  assert.equal(summary.selected.step, 2);
});

Deno.test("a session on a task object, given data without test and given models: no specs, no test scoring", async () => {
  await using dir = await tempDir();
  const train = (await synthetic.load("train")).slice(0, 6);
  const dev = (await synthetic.load("dev")).slice(0, 4);
  const models = toyModels({ stopAt: 1 });
  const evaluated: string[] = [];
  // The toy target knows no synthetic case, so each of its calls fails: the run allows that
  // (maxErrorRate 1), so they count as failures, and are counted.
  const s = await openSession({
    iterations: 2,
    k: 2,
    cache: `${dir.path}/c.sqlite`,
    maxErrorRate: 1,
  }, {
    runDir: `${dir.path}/run`,
    task: synthetic,
    data: { train, dev },
    models,
    onEvent: (e) => e.type === "evaluated" && evaluated.push(`${e.step}:${e.split}`),
  });
  assert.equal(s.config.task, "synthetic");
  assert.equal(s.config.target, "scripted:toy-target");
  assert.equal(s.config.optimizer, "scripted:toy-optimizer");
  assert.equal(s.config.critic, "scripted:toy-critic");
  await s.step();
  const summary = await s.finish();
  assert.deepEqual(evaluated, ["1:dev"]);
  assert.deepEqual(summary.failedCalls, { dev: 4, train: 6 });
  assert.deepEqual(summary.steps.map((x) => x.failedCalls), [{ dev: 4, train: 6 }]);
  assert.equal(summary.selected.test, null);
  assert.equal(summary.seed.test, null);
  assert.equal(summary.comparison, null);
  assert.equal(summary.simulated, false);
  const run = await loadRun(s.dir);
  assert.equal(run.steps[0]?.test, null);
  assert.equal(run.finalTest, null);
  // Reopening a run opened on objects takes the same objects again.
  await assert.rejects(
    reopenSession(s.dir),
    /"scripted:toy-target": scripted models are for tests and need a script in code/,
  );
  await assert.rejects(
    reopenSession(s.dir, { task: synthetic, models: toyModels() }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /started on 6\/4\/0 train\/dev\/test examples, the data now has 60\/60\/60/.test(e.message),
  );
  const again = await reopenSession(s.dir, {
    task: synthetic,
    data: { train, dev },
    models: toyModels(),
  });
  assert.equal(again.finished, true);
  await again.close();
});
