import assert from "node:assert/strict";
import { join } from "node:path";
import { computeMetrics, type TraceLike } from "../lib/metrics.ts";
import { createFormula, formula } from "../lib/tasks/formula.ts";
import {
  createHotpotqa,
  hotpotqa,
  REFERENCE_TRUNCATION_MARKER,
  referenceHotpotContext,
} from "../lib/tasks/hotpotqa.ts";
import { closeSharedLatexChecker } from "../lib/tasks/livebench/latex.ts";
import { livebenchScorer } from "../lib/tasks/livebench/score.ts";
import {
  createLivebenchMath,
  livebenchMath,
  REFERENCE_HINT_SENTENCE,
  REFERENCE_JSON_ONLY_LINE,
  referenceLivebenchUserText,
} from "../lib/tasks/livebench_math.ts";
import { getTask } from "../lib/tasks/registry.ts";
import { synthetic } from "../lib/tasks/synthetic.ts";
import { type Task, taskHeadline, taskOutputMode } from "../lib/tasks/task.ts";
import type { Example, Metrics } from "../lib/tasks/schema.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { paperDataTest } from "./support/paper_data.ts";

const PROMPT = { system: "Be careful.", instruction: "Answer from the context.\n" };

/** Parse and score one raw output, then shape it as metrics read a trace item. */
function trace(task: Task, example: Example, raw: string): TraceLike {
  const parsed = task.parse(raw);
  const s = task.score(example, parsed, raw);
  return {
    score: s.score,
    full: s.full,
    details: s.details,
    ...(example.subtask !== undefined ? { subtask: example.subtask } : {}),
    parsed: parsed.ok ? parsed.value : null,
    ...(parsed.ok ? {} : { formatError: parsed.error }),
  };
}

// ---------------------------------------------------------------------------------------------
// HotPotQA

const HOTPOT_ROW = {
  id: "own-1",
  question: "Which river is longer?",
  answer: "Ord",
  type: "comparison",
  level: "easy",
  supporting_facts: { title: ["Ord"], sent_id: [0] },
  context: {
    title: ["Ord", "Avon"],
    sentences: [["The Ord is a river.", " It is 320 km long."], [" The Avon is short. "]],
  },
};

Deno.test("hotpotqa reference: format_context spacing and the user message, byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "hotpotqa"));
    await Deno.writeTextFile(join(dir, "hotpotqa/dev.jsonl"), `${JSON.stringify(HOTPOT_ROW)}\n`);
    const task = createHotpotqa({ protocol: "reference" });
    const [example] = await task.load("dev", { dataDir: dir, verify: false });
    assert.ok(example);
    // Sentences joined with one space and not stripped: two spaces where upstream has one.
    const context =
      "### Ord\nThe Ord is a river.  It is 320 km long.\n\n### Avon\n The Avon is short. ";
    assert.equal(example.context, context);
    assert.deepEqual(task.render(PROMPT, example), [
      { role: "system", content: "Be careful." },
      {
        role: "user",
        content:
          `Answer from the context.\n\n\nContext:\n${context}\n\nQuestion:\nWhich river is longer?\n`,
      },
    ]);
    // The system message is sent even when empty; the project protocol leaves it out.
    const empty = { system: "", instruction: "I" };
    assert.deepEqual(task.render(empty, example)[0], { role: "system", content: "" });
    const [project] = await hotpotqa.load("dev", { dataDir: dir, verify: false });
    assert.equal(hotpotqa.render(empty, project!).length, 1);
    assert.equal(
      project?.context,
      "### Ord\nThe Ord is a river. It is 320 km long.\n\n### Avon\nThe Avon is short.",
    );
    // The cap counts code points, as Python does, and marks the cut.
    const capped = createHotpotqa({ protocol: "reference", maxContextChars: 12 });
    const [cut] = await capped.load("dev", { dataDir: dir, verify: false });
    assert.equal(cut?.context, `### Ord\nThe \n\n[TRUNCATED]`);
    assert.equal(REFERENCE_TRUNCATION_MARKER, "\n\n[TRUNCATED]");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const emoji = { title: ["\u{1F600}\u{1F600}"], sentences: [["ab"]] };
  assert.equal(referenceHotpotContext(emoji, 6), "### \u{1F600}\u{1F600}\n\n[TRUNCATED]");
  assert.equal(referenceHotpotContext(emoji, 9), "### \u{1F600}\u{1F600}\nab");
});

Deno.test("hotpotqa reference: strict output {answer, confidence, justification}, as pydantic", () => {
  const task = createHotpotqa({ protocol: "reference" });
  const schema = task.outputSchema as { required: string[]; properties: object };
  assert.deepEqual(schema.required, ["answer", "confidence", "justification"]);
  assert.deepEqual(Object.keys(schema.properties), ["answer", "confidence", "justification"]);
  assert.equal(taskOutputMode(task), "structured");
  const ok = task.parse('{"answer": "Ord", "confidence": "0.8", "justification": "j", "x": 1}');
  assert.deepEqual(ok, { ok: true, value: { answer: "Ord", confidence: 0.8, reasoning: "j" } });
  assert.deepEqual(task.parse('{"answer": "Ord", "confidence": true, "justification": "j"}'), {
    ok: true,
    value: { answer: "Ord", confidence: 1, reasoning: "j" },
  });
  const errors: [string, string][] = [
    ['{"answer": "Ord", "confidence": 0.8}', "missing field 'justification'"],
    [
      '{"answer": 1922, "confidence": 0.8, "justification": "j"}',
      "field 'answer' must be a string, got 1922",
    ],
    [
      '{"answer": "Ord", "confidence": 1.5, "justification": "j"}',
      "field 'confidence' must be a number in [0, 1], got 1.5",
    ],
    [
      '{"answer": "Ord", "confidence": "85%", "justification": "j"}',
      "field 'confidence' must be a number in [0, 1], got \"85%\"",
    ],
    // Structured output is the whole text: prose or a fence around it is not what parse reads.
    [
      'Sure: {"answer": "Ord", "confidence": 0.8, "justification": "j"}',
      "no JSON object in the output",
    ],
    ["[1, 2]", "the output's JSON is not an object"],
  ];
  for (const [raw, error] of errors) assert.deepEqual(task.parse(raw), { ok: false, error }, raw);
  // The project's lenient parser takes the number.
  assert.equal(hotpotqa.parse('{"answer": 1922, "confidence": 0.8}').ok, true);
});

paperDataTest("hotpotqa reference: no context reaches the 90,000-character cap", async (dir) => {
  const task = createHotpotqa({ protocol: "reference" });
  let longest = 0;
  let doubleSpaced = 0;
  for (const split of ["train", "dev", "test"] as const) {
    for (const e of await task.load(split, { dataDir: dir })) {
      longest = Math.max(longest, [...(e.context ?? "")].length);
      if (e.context?.includes(".  ")) doubleSpaced++;
      assert.ok(!e.context?.endsWith("[TRUNCATED]"));
    }
  }
  assert.equal(longest, 13_404);
  assert.ok(doubleSpaced > 1000, `${doubleSpaced} contexts with double spaces`);
});

// ---------------------------------------------------------------------------------------------
// LiveBench

function livebenchExample(over: Record<string, unknown>): Example {
  const row = {
    question_id: "own-q",
    category: "math",
    task: "math_comp",
    subtask: "aime_i_2024",
    turns: ["Find n. Put the three digits last."],
    ground_truth: "033",
    raw_question: "Find n. Put the three digits last.",
    question: "Find n.",
    answer_format_hint: null,
    answer: "033",
    ...over,
  };
  return {
    id: row.question_id,
    question: row.question,
    answer: row.answer,
    subtask: row.task,
    row,
  };
}

Deno.test("livebench reference: hint part and JSON-only line joined by single newlines", () => {
  assert.equal(
    referenceLivebenchUserText("  Solve it.\n\n", "Order the steps.", "<list>", true),
    `Solve it.\n${REFERENCE_HINT_SENTENCE}\n<list>\n${REFERENCE_JSON_ONLY_LINE}\n\n` +
      "Question:\nOrder the steps.\n",
  );
  assert.equal(
    referenceLivebenchUserText("", "q", null, true),
    `${REFERENCE_JSON_ONLY_LINE}\n\nQuestion:\nq\n`,
  );
  assert.equal(referenceLivebenchUserText("I", "q", "", false), "I\n\nQuestion:\nq\n");
  const task = createLivebenchMath({ protocol: "reference" });
  const example = livebenchExample({ task: "olympiad", answer_format_hint: "<comma list>" });
  assert.deepEqual(task.render({ system: "", instruction: "Solve.\n" }, example), [
    { role: "system", content: "" },
    {
      role: "user",
      content:
        `Solve.\n${REFERENCE_HINT_SENTENCE}\n<comma list>\n${REFERENCE_JSON_ONLY_LINE}\n\nQuestion:\nFind n.\n`,
    },
  ]);
  const quiet = createLivebenchMath({ protocol: "reference", enforceJsonOnly: false });
  assert.ok(!quiet.render(PROMPT, example)[1]?.content.includes(REFERENCE_JSON_ONLY_LINE));
  // Our wording, not the reference's (see the module doc).
  assert.ok(!REFERENCE_HINT_SENTENCE.startsWith("For this question"));
});

Deno.test("livebench reference: free text, first JSON object, pydantic's rules", () => {
  const task = createLivebenchMath({ protocol: "reference" });
  assert.equal(taskOutputMode(task), "text");
  assert.equal(taskOutputMode(livebenchMath), "structured");
  const value = { answer: "033", confidence: 0.5, reasoning: "r" };
  const fenced = '```json\n{"answer": "033", "confidence": 0.5, "reasoning": "r"}\n```';
  assert.deepEqual(task.parse(fenced), { ok: true, value });
  const prose = 'I think {so}. {"answer": "033", "confidence": 0.5, "reasoning": "r"} done';
  assert.deepEqual(task.parse(prose), { ok: true, value });
  const errors: [string, string][] = [
    [
      '{"answer": 33, "confidence": 0.5, "reasoning": "r"}',
      "field 'answer' must be a string, got 33",
    ],
    ['{"answer": "033", "confidence": 0.5}', "missing field 'reasoning'"],
    ['{"answer": "033", "reasoning": "r"}', "missing field 'confidence'"],
    ["33", "the output's JSON is not an object"], // the whole text is JSON: a number
    ["the answer is 033", "no JSON object in the output"],
  ];
  for (const [raw, error] of errors) assert.deepEqual(task.parse(raw), { ok: false, error }, raw);
});

Deno.test("livebench reference: an unparsed output's raw text is scored, and stays a format error", () => {
  const task = createLivebenchMath({ protocol: "reference" });
  const example = livebenchExample({});
  const raw = "  Working it out, n = 033  ";
  const r = task.score(example, task.parse(raw), raw);
  assert.equal(r.score, 1);
  assert.equal(r.details.unparsed_credit, true);
  assert.equal(r.details.format_error, "no JSON object in the output");
  const empty = task.score(example, task.parse("  "), "  ");
  assert.deepEqual([empty.score, empty.details.unparsed_credit], [0, undefined]);
  // The project protocol gives no credit to an unparsed output.
  assert.equal(livebenchMath.score(example, livebenchMath.parse(raw), raw).score, 0);

  const parsedWrong = JSON.stringify({ answer: "034", confidence: 0.9, reasoning: "r" });
  const parsedRight = JSON.stringify({ answer: "033", confidence: 0.6, reasoning: "r" });
  const items = [raw, parsedWrong, parsedRight, "no idea"].map((t) => trace(task, example, t));
  const m = computeMetrics(items);
  assert.equal(m.n, 4);
  assert.equal(m.parsed, 2);
  assert.equal(m.score, 0.5); // (1 + 0 + 1 + 0) / 4: the raw-text credit counts
  assert.equal(m.formatErrorRate, 0.5); // ... but both unparsed outputs are format errors
  assert.ok(Math.abs((m.brier ?? NaN) - (0.81 + 0.16) / 2) < 1e-12); // parsed items only
  assert.ok(Math.abs((m.avgConfidence ?? NaN) - 0.75) < 1e-12);
  assert.deepEqual(m.perSubtask, { math_comp: { n: 4, score: 0.5 } });
});

Deno.test("livebench reference: the scored text is the reference's", () => {
  const task = createLivebenchMath({ protocol: "reference", olympiadScoring: "positional" });
  const example = livebenchExample({ task: "olympiad", subtask: "usamo", answer: "1,2,3" });
  const raw = JSON.stringify({ answer: " 1,2,4 ", confidence: 0.5, reasoning: " Answer: 3,2,1 " });
  const r = task.score(example, task.parse(raw), raw);
  // Reasoning and answer stripped, the answer labelled: "Answer: 3,2,1\n\nAnswer: 1,2,4".
  assert.deepEqual([r.score, r.details.extracted, r.details.matches], [2 / 3, "1,2,4", 2]);
  const blank = JSON.stringify({ answer: "", confidence: 0.5, reasoning: "" });
  // Both fields empty: the raw output itself is scored (its last line's digits: 0.5 -> "0").
  const fallback = task.score(example, task.parse(blank), blank).details;
  assert.deepEqual([fallback.rule, fallback.extracted], ["last_line", "0"]);
});

paperDataTest(
  "livebench reference: all 368 gold answers in free text score 1; routes agree",
  async (dir) => {
    const task = createLivebenchMath({ protocol: "reference", olympiadScoring: "positional" });
    const failures: string[] = [];
    let n = 0;
    try {
      for (const split of ["train", "dev", "test"] as const) {
        for (const e of await task.load(split, { dataDir: dir })) {
          n++;
          const row = e.row as { subtask: string; answer: string; task: string };
          const scorer = livebenchScorer(row.subtask);
          // The reference routes math_comp by its gold: a letter A-E is multiple choice.
          if (row.task === "math_comp") {
            const letter = /^[ABCDE]$/.test(row.answer);
            assert.equal(scorer === "multiple_choice", letter, row.subtask);
          }
          const answer = scorer === "multiple_choice"
            ? row.answer.repeat(5)
            : scorer === "amps_hard"
            ? `\\boxed{${row.answer}}`
            : row.answer;
          const raw = `Here is my answer.\n${
            JSON.stringify({ answer, confidence: 0.9, reasoning: "Worked it out." })
          }`;
          const r = task.score(e, task.parse(raw), raw);
          if (r.score !== 1) failures.push(`${e.id} ${row.subtask}: ${JSON.stringify(r)}`);
        }
      }
    } finally {
      await closeSharedLatexChecker();
    }
    assert.equal(n, 368);
    assert.deepEqual(failures, []);
  },
);

// ---------------------------------------------------------------------------------------------
// Formula

Deno.test("formula reference: Question block only, strict {reasoning, answer, confidence}", () => {
  const task = createFormula({ protocol: "reference" });
  const example = { id: "dev-0", question: " What is 2+2? Round. ", answer: " 4.0 ", row: {} };
  assert.deepEqual(task.render(PROMPT, example), [
    { role: "system", content: "Be careful." },
    { role: "user", content: "Answer from the context.\n\n\nQuestion:\nWhat is 2+2? Round.\n" },
  ]);
  const schema = task.outputSchema as { required: string[] };
  assert.deepEqual(schema.required, ["reasoning", "answer", "confidence"]);
  assert.equal(taskOutputMode(task), "structured");
  // The reasoning has a default in the reference; the answer must be a string.
  const noReasoning = task.parse('{"answer": " 4 ", "confidence": 0.9}');
  assert.deepEqual(noReasoning, {
    ok: true,
    value: { reasoning: "", answer: " 4 ", confidence: 0.9 },
  });
  assert.equal(task.parse('{"answer": 4, "confidence": 0.9}').ok, false);
  assert.equal(task.score(example, noReasoning, "").full, true);
  // Stripping matters only where float() fails: the string comparison.
  const text = { ...example, answer: "n/a" };
  const spaced = task.parse('{"answer": " n/a ", "confidence": 0.5}');
  assert.equal(task.score(text, spaced, "").full, true);
  assert.equal(
    formula.score(text, formula.parse('{"answer": " n/a ", "confidence": 0.5}'), "").full,
    false,
  );
});

// ---------------------------------------------------------------------------------------------
// Registry, headline

Deno.test("getTask: protocols and scoring options, refused where they cannot apply", async () => {
  assert.equal((await getTask("livebench_math", { protocol: "reference" })).outputMode, "text");
  assert.equal((await getTask("livebench_math")).outputMode, undefined);
  const refusals: [string, Parameters<typeof getTask>[1], RegExp][] = [
    ["synthetic", { protocol: "reference" }, /reference protocol exists only for hotpotqa/],
    ["formula", { olympiadScoring: "positional" }, /olympiadScoring applies to livebench_math/],
    ["hotpotqa", { enforceJsonOnly: false }, /enforceJsonOnly applies to livebench_math/],
    ["squad", { protocol: "reference" }, /unknown task 'squad'/],
  ];
  for (const [name, options, pattern] of refusals) {
    await assert.rejects(
      () => getTask(name, options),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
    );
  }
});

Deno.test("headline: accuracy (EM) for HotPotQA, task score for LiveBench, accuracy for Formula", () => {
  const metrics = {
    score: 0.6,
    fullCredit: 0.4,
    extra: { em: 0.4, f1: 0.6 },
  } as unknown as Metrics;
  assert.deepEqual(taskHeadline(hotpotqa, metrics), { name: "accuracy (EM)", value: 0.4 });
  assert.deepEqual(taskHeadline(createHotpotqa({ protocol: "reference" }), metrics), {
    name: "accuracy (EM)",
    value: 0.4,
  });
  assert.deepEqual(taskHeadline(livebenchMath, metrics), { name: "task score", value: 0.6 });
  assert.deepEqual(taskHeadline(formula, metrics), { name: "accuracy", value: 0.4 });
  assert.deepEqual(taskHeadline(synthetic, metrics), { name: "score", value: 0.6 });
});
