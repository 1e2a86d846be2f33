import assert from "node:assert/strict";
import { diagnose, evaluatePrompt, TARGET_SCHEMA_NAME } from "../lib/diagnose.ts";
import { BudgetExceededError, ProviderError } from "../lib/llm/model.ts";
import { ScriptedChatModel, type ScriptStep } from "../lib/llm/scripted.ts";
import type { Task } from "../lib/tasks/task.ts";
import type { ChatRequest } from "../lib/llm/schema.ts";
import type { Example, ParseResult } from "../lib/tasks/schema.ts";
import type { FailureMode } from "../lib/critique.ts";
import { ConfigError } from "../lib/util/errors.ts";

/** A tiny task: exact answer = 1; the answer "partial" earns 0.5. */
const task: Task = {
  name: "tiny",
  reasoningField: "reasoning",
  seedPrompt: { system: "Be careful.", instruction: "Answer in JSON." },
  outputSchema: { type: "object", required: ["reasoning", "answer", "confidence"] },
  load: () => Promise.resolve([]),
  render: (prompt, example) => [
    { role: "system", content: prompt.system },
    { role: "user", content: `${prompt.instruction}\nQuestion: ${example.question}` },
  ],
  parse(raw: string): ParseResult {
    try {
      const v = JSON.parse(raw);
      if (typeof v.answer !== "string" || typeof v.confidence !== "number") {
        return { ok: false, error: "bad fields" };
      }
      return {
        ok: true,
        value: { reasoning: String(v.reasoning ?? ""), answer: v.answer, confidence: v.confidence },
      };
    } catch {
      return { ok: false, error: "not JSON" };
    }
  },
  score(example, parsed) {
    if (!parsed.ok) {
      return { score: 0, full: false, impact: 1, details: { format_error: parsed.error } };
    }
    const score = parsed.value.answer === example.answer
      ? 1
      : parsed.value.answer === "partial"
      ? 0.5
      : 0;
    return { score, full: score === 1, impact: 1 - score, details: { exact: score === 1 ? 1 : 0 } };
  },
  selectionScore: (input) => input.metrics.score,
};

const ex = (id: string, subtask: string, context?: string): Example => ({
  id,
  question: `question ${id}?`,
  answer: `gold-${id}`,
  subtask,
  ...(context !== undefined ? { context } : {}),
  row: {},
});

/** e1 correct, e2 wrong, e3 partial, e4 format error, e5 provider error, e6 correct, e7 wrong. */
const EXAMPLES = [
  ex("e1", "a"),
  ex("e2", "a", "Some context paragraph."),
  ex("e3", "b"),
  ex("e4", "b"),
  ex("e5", "a"),
  ex("e6", "b"),
  ex("e7", "a"),
];

function answer(answer: string, confidence: number): string {
  return JSON.stringify({ reasoning: `thinking about ${answer}`, answer, confidence });
}

function idOf(request: ChatRequest): string {
  return /question (e\d+)\?/.exec(request.messages.map((m) => m.content).join("\n"))?.[1] ?? "";
}

function targetModel(): ScriptedChatModel {
  return new ScriptedChatModel((request): ScriptStep => {
    switch (idOf(request)) {
      case "e1":
        return answer("gold-e1", 0.9);
      case "e2":
        return answer("wrong", 0.8);
      case "e3":
        return answer("partial", 0.6);
      case "e4":
        return "I think the answer is gold-e4.";
      case "e5":
        return new ProviderError({
          provider: "scripted",
          model: "scripted",
          message: "server error after 5 attempts",
          status: 500,
          retryable: true,
        });
      case "e6":
        return answer("gold-e6", 1);
      case "e7":
        return answer("wrong", 0.3);
    }
    return new Error("unknown example");
  });
}

const mode = (label: string): FailureMode => ({
  label,
  definition: `${label} in general`,
  why: `this case shows ${label}`,
  basis: "the reasoning",
});

Deno.test("evaluatePrompt: metrics exact, provider error counted while the rest complete", async () => {
  const target = targetModel();
  const progress: number[] = [];
  const { traces, metrics } = await evaluatePrompt(task.seedPrompt, EXAMPLES.slice(0, 6), {
    task,
    target,
    concurrency: 3,
    onProgress: (p) => progress.push(p.done),
  });
  assert.equal(target.requests.length, 6);
  assert.deepEqual(progress, [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(traces.map((t) => t.exampleId), ["e1", "e2", "e3", "e4", "e5", "e6"]);
  assert.deepEqual(traces.map((t) => t.score), [1, 0, 0.5, 0, 0, 1]);
  assert.deepEqual(traces.map((t) => t.impact), [0, 1, 0.5, 1, 0, 0]);
  const e4 = traces[3], e5 = traces[4];
  assert.equal(e4?.formatError, "not JSON");
  assert.equal(e4?.rawText, "I think the answer is gold-e4.");
  assert.equal(e4?.parsed, null);
  assert.match(e5?.error ?? "", /HTTP 500.*server error after 5 attempts/);
  assert.equal(e5?.parsed, null);
  assert.deepEqual(e5?.usage, { inputTokens: 0, cachedTokens: 0, outputTokens: 0 });
  assert.deepEqual(traces[1]?.parsed, {
    reasoning: "thinking about wrong",
    answer: "wrong",
    confidence: 0.8,
  });
  assert.ok(traces.every((t) => t.latencyMs >= 0 && t.messages.length === 2));
  // Requests use the task's schema as structured output, at temperature 0.
  assert.equal(target.requests[0]?.outputSchema?.name, TARGET_SCHEMA_NAME);
  assert.deepEqual(target.requests[0]?.outputSchema?.schema, task.outputSchema);
  assert.equal(target.requests[0]?.temperature, 0);

  const close = (a: number | null | undefined, b: number) =>
    assert.ok(Math.abs((a ?? NaN) - b) < 1e-12, `${a} != ${b}`);
  assert.equal(metrics.n, 6);
  assert.equal(metrics.parsed, 4);
  close(metrics.score, 2.5 / 6);
  close(metrics.fullCredit, 2 / 6);
  close(metrics.avgConfidence, (0.9 + 0.8 + 0.6 + 1) / 4);
  close(metrics.brier, (0.01 + 0.64 + 0.01 + 0) / 4);
  // Bins: [0.9, 1] holds 0.9 and 1.0 (score 1, 1); 0.8 alone (0); 0.6 alone (0.5).
  close(metrics.ece, (2 / 4) * 0.05 + (1 / 4) * 0.8 + (1 / 4) * 0.1);
  close(metrics.formatErrorRate, 1 / 6);
  close(metrics.errorRate, 1 / 6);
  assert.deepEqual(Object.keys(metrics.perSubtask), ["a", "b"]);
  close(metrics.perSubtask.a?.score, 1 / 3);
  close(metrics.perSubtask.b?.score, 1.5 / 3);
});

Deno.test("diagnose on dev: counts and failures, no critique, provider error warned", async () => {
  const record = await diagnose(task.seedPrompt, "dev", {
    task,
    target: targetModel(),
    examples: EXAMPLES,
    iteration: 3,
  });
  assert.equal(record.clustering, null);
  assert.deepEqual(record.critiques, []);
  assert.deepEqual(record.report.counts, {
    examples: 7,
    failures: 3, // e2, e3 (partial credit) and e7; not e4 (format) nor e5 (provider)
    diagnoses: 0,
    formatErrors: 1,
    errors: 1,
  });
  assert.equal(record.report.iteration, 3);
  assert.deepEqual(record.report.topics, []);
  assert.equal(record.report.warnings.length, 1);
  assert.match(record.report.warnings[0] ?? "", /^1 of 7 examples failed with provider errors/);
});

Deno.test("diagnose on train: critiques with 0, 1 and 3 modes feed the failure topics", async () => {
  const critic = new ScriptedChatModel((request): ScriptStep => {
    if (request.outputSchema?.name !== "critique") return new Error("only critiques expected");
    const text = request.messages.at(-1)?.content ?? "";
    const id = /^Question: question (e\d+)\?$/m.exec(text)?.[1];
    if (id === "e2") {
      return {
        parsed: {
          failure_modes: [
            mode("wrong entity chosen"),
            mode("overconfident wrong answer"),
            mode("ignored context evidence"),
          ],
        },
      };
    }
    if (id === "e3") return { parsed: { failure_modes: [] } };
    if (id === "e7") return { parsed: { failure_modes: [mode("incomplete answer span")] } };
    return new Error(`unexpected critique for ${id}`);
  });
  const phases = new Set<string>();
  const record = await diagnose(task.seedPrompt, "train", {
    task,
    target: targetModel(),
    critic,
    examples: EXAMPLES,
    onProgress: (p) => phases.add(`${p.phase}:${p.done}/${p.total}`),
  });
  assert.equal(critic.requests.length, 3);
  assert.deepEqual(
    record.critiques.map((c) => [c.exampleId, c.modes.length, c.attempts, c.error]),
    [["e2", 3, 1, undefined], ["e3", 0, 1, undefined], ["e7", 1, 1, undefined]],
  );
  // The critic sees every field under its label at a line start.
  const e2 = critic.requests.find((r) => idOf(r) === "e2")?.messages.at(-1)?.content ?? "";
  for (
    const line of [
      "Question: question e2?",
      "Context:",
      "Some context paragraph.",
      "Gold answer: gold-e2",
      "Predicted answer: wrong",
      "Reasoning: thinking about wrong",
      "Stated confidence: 0.8",
      "Score: 0 (full credit: no)",
    ]
  ) {
    assert.ok(e2.split("\n").includes(line), `missing line ${line}`);
  }
  assert.ok(
    !critic.requests.find((r) => idOf(r) === "e7")?.messages.at(-1)?.content.includes("Context:"),
  );
  // 4 diagnoses <= k: one topic each, no LLM clustering calls; impacts 1, 1, 1 and 1.
  assert.equal(record.clustering?.topics.length, 4);
  assert.deepEqual(record.clustering?.calls, { extraction: 0, assignment: 0, embedding: 0 });
  assert.equal(record.report.counts.diagnoses, 4);
  assert.deepEqual(record.report.topics.map((t) => [t.name, t.prevalence]), [
    ["wrong entity chosen", 0.25],
    ["overconfident wrong answer", 0.25],
    ["ignored context evidence", 0.25],
    ["incomplete answer span", 0.25],
  ]);
  assert.deepEqual(record.report.topics[0]?.examples, ["this case shows wrong entity chosen"]);
  assert.ok(phases.has("target:7/7") && phases.has("critique:3/3"));
});

Deno.test("malformed critic output is retried, then recorded with its error", async () => {
  const critic = new ScriptedChatModel((request): ScriptStep => {
    if (idOf(request) === "e2") return "this is not JSON";
    if (idOf(request) === "e7" && (request.sampleIndex ?? 0) === 0) return '{"failure_modes": "x"}';
    return { parsed: { failure_modes: [mode("generic slip")] } };
  });
  const record = await diagnose(task.seedPrompt, "train", {
    task,
    target: targetModel(),
    critic,
    examples: EXAMPLES,
  });
  const byId = Object.fromEntries(record.critiques.map((c) => [c.exampleId, c]));
  assert.equal(byId.e2?.attempts, 2);
  assert.deepEqual(byId.e2?.modes, []);
  assert.match(byId.e2?.error ?? "", /^malformed critique \(attempt 2\)/);
  // e7's first answer was malformed, the retry (a new sample) succeeded.
  assert.equal(byId.e7?.attempts, 2);
  assert.equal(byId.e7?.error, undefined);
  assert.equal(byId.e7?.modes.length, 1);
  const e7Requests = critic.requests.filter((r) => idOf(r) === "e7");
  assert.deepEqual(e7Requests.map((r) => r.sampleIndex), [undefined, 1]);
  assert.equal(record.report.counts.diagnoses, 2);
  assert.ok(record.report.warnings.includes("1 of 3 failures could not be critiqued."));
});

Deno.test("labels with numbers, dates or the example's entities are retried, then cleaned", async () => {
  const entityExample: Example = {
    id: "x1",
    question: "Which city did Napoleon Bonaparte die in?",
    answer: "Longwood",
    row: {},
  };
  const target = new ScriptedChatModel(() => answer("Paris", 0.95));
  let calls = 0;
  const critic = new ScriptedChatModel(() => {
    calls++;
    return {
      parsed: {
        failure_modes: [
          mode("confused Napoleon with 1821 March facts"),
          mode("wrong place named"),
        ],
      },
    };
  });
  const record = await diagnose(task.seedPrompt, "train", {
    task,
    target,
    critic,
    examples: [entityExample],
  });
  assert.equal(calls, 2);
  const [c] = record.critiques;
  assert.deepEqual(c?.modes.map((m) => m.label), ["confused with facts", "wrong place named"]);
  assert.deepEqual(c?.labelFixes, [
    "confused Napoleon with 1821 March facts -> confused with facts",
  ]);
});

Deno.test("a critic provider error is recorded; budget errors and missing critic stop diagnose", async () => {
  const failing = new ScriptedChatModel(() =>
    new ProviderError({
      provider: "p",
      model: "m",
      message: "rate limited",
      status: 429,
      retryable: true,
    })
  );
  const record = await diagnose(task.seedPrompt, "train", {
    task,
    target: targetModel(),
    critic: failing,
    examples: EXAMPLES,
  });
  assert.ok(record.critiques.every((c) => c.attempts === 1 && /HTTP 429/.test(c.error ?? "")));
  assert.equal(record.report.counts.diagnoses, 0);

  await assert.rejects(
    diagnose(task.seedPrompt, "train", { task, target: targetModel(), examples: EXAMPLES }),
    ConfigError,
  );
  const broke = new ScriptedChatModel(() => new BudgetExceededError("call budget of 2 reached"));
  await assert.rejects(
    evaluatePrompt(task.seedPrompt, EXAMPLES, { task, target: broke }),
    BudgetExceededError,
  );
});

Deno.test("an aborted diagnose rejects; a parsed-only structured answer is scored", async () => {
  const controller = new AbortController();
  controller.abort(new Error("stop now"));
  await assert.rejects(
    evaluatePrompt(task.seedPrompt, EXAMPLES, {
      task,
      target: targetModel(),
      signal: controller.signal,
    }),
    /stop now/,
  );
  // Some providers return structured output only as the parsed object.
  const parsedOnly = new ScriptedChatModel(() => ({
    text: "",
    parsed: { reasoning: "r", answer: "gold-e1", confidence: 0.5 },
  }));
  const { traces } = await evaluatePrompt(task.seedPrompt, [EXAMPLES[0] as Example], {
    task,
    target: parsedOnly,
  });
  assert.equal(traces[0]?.full, true);
  assert.equal(traces[0]?.rawText, '{"reasoning":"r","answer":"gold-e1","confidence":0.5}');
});
