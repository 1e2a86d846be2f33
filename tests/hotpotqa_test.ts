import assert from "node:assert/strict";
import { computeMetrics } from "../lib/metrics.ts";
import {
  hotpotqa,
  HotpotRow,
  hotpotScores,
  isExactHotpotRow,
  normalizeAnswer,
} from "../lib/tasks/hotpotqa.ts";
import { parseJsonlText } from "../lib/tasks/common.ts";
import { taskHeadline } from "../lib/tasks/task.ts";
import { paperDataTest } from "./support/paper_data.ts";

// [prediction, gold, em, f1]: expected values worked out with the upstream
// hotpot_evaluate_v1.py (normalize_answer, exact_match_score, f1_score).
const CASES: [string, string, number, number][] = [
  ["Yes", "yes", 1, 1],
  ["yes.", "Yes", 1, 1],
  ["Yes, it is", "yes", 0, 0], // yes/no rule: no partial credit
  ["no", "yes", 0, 0],
  ["noanswer", "No Answer", 0, 0],
  ["no answer", "no", 0, 0],
  ["yes no", "no", 0, 0],
  ["The Beatles", "Beatles", 1, 1],
  ["a Beatles", "the beatles!", 1, 1],
  ["Anne Hathaway", "Anne-Hathaway", 0, 0], // '-' is deleted, not spaced: "annehathaway"
  ["U.S.", "US", 1, 1],
  ["the Eiffel Tower, Paris", "Eiffel Tower", 0, 0.8],
  ["Paris", "Eiffel Tower", 0, 0],
  ["", "Paris", 0, 0],
  ["the", "a", 1, 0], // both normalize to "" : EM but no tokens, so F1 0
  ["1,000", "1000", 1, 1],
  ["Then", "then", 1, 1],
  ["theatre", "the theatre", 1, 1],
  ["An American band", "American", 0, 2 / 3],
  ["éthe ville", "éthe ville", 1, 1], // Unicode \b: "the" inside "éthe" is not an article
  ["the éthe", "éthe", 1, 1],
  ["café the", "cafe", 0, 0],
  ["New York City", "new york", 0, 0.8],
  ["cat cat cat", "cat", 0, 0.5],
  ["1922", "October 1922", 0, 2 / 3],
  ["Andy  Warhol\u00a0", "andy warhol", 1, 1],
  ["x\u0085y", "x y", 1, 1], // Python's split() treats U+0085 as whitespace
  ["Bob's", "Bobs", 1, 1],
];

Deno.test("hotpotScores matches the official scorer on awkward cases", () => {
  for (const [pred, gold, em, f1] of CASES) {
    const s = hotpotScores(pred, gold);
    assert.equal(s.em, em, `em(${JSON.stringify(pred)}, ${JSON.stringify(gold)})`);
    assert.ok(Math.abs(s.f1 - f1) < 1e-12, `f1(${JSON.stringify(pred)}, ${gold}) = ${s.f1}`);
  }
});

Deno.test("normalizeAnswer", () => {
  assert.equal(normalizeAnswer("The  Quick, brown fox!"), "quick brown fox");
  assert.equal(normalizeAnswer("an apple a day"), "apple day");
  assert.equal(normalizeAnswer("Anthem"), "anthem");
});

Deno.test("load: rows of our own making become examples with a rendered context", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const row = {
      id: "fixture-1",
      question: "Which river is longer, the Ord or the Avon?",
      answer: "Ord",
      type: "comparison",
      level: "easy",
      supporting_facts: { title: ["Ord", "Avon"], sent_id: [0, 0] },
      context: {
        title: ["Ord", "Avon"],
        sentences: [["The Ord is a river.", " It is 320 km long."], [" The Avon is 120 km long. "]],
      },
    };
    await Deno.mkdir(`${dir}/hotpotqa`);
    await Deno.writeTextFile(`${dir}/hotpotqa/dev.jsonl`, `${JSON.stringify(row)}\n`);
    const [example, ...rest] = await hotpotqa.load("dev", { dataDir: dir, verify: false });
    assert.equal(rest.length, 0);
    assert.equal(example?.id, "fixture-1");
    assert.equal(example?.subtask, "comparison");
    assert.equal(
      example?.context,
      "### Ord\nThe Ord is a river. It is 320 km long.\n\n### Avon\nThe Avon is 120 km long.",
    );
    const user = hotpotqa.render(hotpotqa.seedPrompt, example!).at(-1)?.content ?? "";
    assert.ok(user.indexOf("### Ord") < user.indexOf(`Question: ${row.question}`), user);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A row as the data files hold it; each mutation below is either invalid or valid only as the
// schema rewrites it (stripped, reordered), so the exact check must leave it to the schema.
const FIXTURE_ROW = {
  id: "fixture-1",
  question: "q",
  answer: "a",
  type: "bridge",
  level: "hard",
  supporting_facts: { title: ["A", "B"], sent_id: [0, 2] },
  context: { title: ["A", "B"], sentences: [["One.", " Two."], [" Three."]] },
};
// deno-lint-ignore no-explicit-any
const clone = () => structuredClone(FIXTURE_ROW) as Record<string, any>;
const MUTATIONS: [string, () => unknown][] = [
  ["an extra key", () => ({ ...clone(), extra: 1 })],
  ["an extra nested key", () => {
    const r = clone();
    r.context.extra = [];
    return r;
  }],
  ["keys in another order", () => {
    const { id, ...rest } = clone();
    return { ...rest, id };
  }],
  ["nested keys in another order", () => {
    const r = clone();
    r.supporting_facts = { sent_id: [0, 2], title: ["A", "B"] };
    return r;
  }],
  ["an empty id", () => ({ ...clone(), id: "" })],
  ["a number for a string", () => ({ ...clone(), level: 3 })],
  ["a missing key", () => {
    const { answer: _, ...rest } = clone();
    return rest;
  }],
  ["a fractional sentence id", () => {
    const r = clone();
    r.supporting_facts.sent_id = [0, 1.5];
    return r;
  }],
  ["a sentence id out of the safe range", () => {
    const r = clone();
    r.supporting_facts.sent_id = [2 ** 60];
    return r;
  }],
  ["titles and paragraphs of different lengths", () => {
    const r = clone();
    r.context.title = ["A"];
    return r;
  }],
  ["a number among the sentences", () => {
    const r = clone();
    r.context.sentences[1] = [" Three.", 4];
    return r;
  }],
  ["a string for the paragraph list", () => {
    const r = clone();
    r.context.sentences = "One.";
    return r;
  }],
  ["null", () => null],
  ["an array", () => [clone()]],
];

Deno.test("isExactHotpotRow: true only where the schema returns the row unchanged", () => {
  assert.ok(isExactHotpotRow(clone()));
  assert.deepEqual(HotpotRow.parse(clone()), FIXTURE_ROW);
  for (const [what, make] of MUTATIONS) {
    const value = make();
    assert.equal(isExactHotpotRow(value), false, what);
    const parsed = HotpotRow.safeParse(value);
    // Rows the schema accepts anyway come back rewritten (extra keys stripped, keys reordered).
    if (parsed.success) assert.notEqual(JSON.stringify(parsed.data), JSON.stringify(value), what);
  }
});

Deno.test("load: a bad HotPotQA row is still named by file, line and field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = clone();
    bad.context.sentences[1] = [" Three.", 4];
    const lines = [JSON.stringify(FIXTURE_ROW), "", JSON.stringify(bad)];
    await Deno.mkdir(`${dir}/hotpotqa`);
    await Deno.writeTextFile(`${dir}/hotpotqa/dev.jsonl`, `${lines.join("\n")}\n`);
    await assert.rejects(
      () => hotpotqa.load("dev", { dataDir: dir, verify: false }),
      (e: Error) => e.message.startsWith(`${dir}/hotpotqa/dev.jsonl:3: context.sentences.1.1: `),
    );
    // An extra key is no error: the schema strips it, as it did before the exact check.
    const extra = JSON.stringify({ ...clone(), extra: 1 });
    const [row] = parseJsonlText(`${extra}\r\n`, "x", HotpotRow, isExactHotpotRow);
    assert.deepEqual(row, { row: FIXTURE_ROW, line: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

paperDataTest(
  "load: 300 / 300 / 500 rows with ids, subtasks and rendered context",
  async (DATA_DIR) => {
    const counts: Record<string, number> = {};
    for (const split of ["train", "dev", "test"] as const) {
      const examples = await hotpotqa.load(split, { dataDir: DATA_DIR });
      counts[split] = examples.length;
      assert.equal(new Set(examples.map((e) => e.id)).size, examples.length);
      for (const e of examples) assert.ok(e.subtask === "bridge" || e.subtask === "comparison");
    }
    assert.deepEqual(counts, { train: 300, dev: 300, test: 500 });
    // Every row of the paper's splits takes the exact check's path, with the schema's output.
    for (const split of ["train", "dev", "test"] as const) {
      const text = await Deno.readTextFile(`${DATA_DIR}/hotpotqa/${split}.jsonl`);
      for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
        const value = JSON.parse(line);
        assert.ok(isExactHotpotRow(value), `${split}: ${value.id}`);
        assert.deepEqual(HotpotRow.parse(value), value);
      }
    }
    const [first] = await hotpotqa.load("train", { dataDir: DATA_DIR });
    assert.ok(first);
    assert.equal(first.id, "5abf63f15542997ec76fd3ea");
    assert.ok(first.context?.startsWith("### Socialist Revolutionary Party\nThe Socialist"));
    assert.ok(first.context?.includes(" in the Russian Revolution. Its general ideology"));
    assert.equal(first.context?.split("\n### ").length, 10);
    const messages = hotpotqa.render(hotpotqa.seedPrompt, first);
    const user = messages.at(-1)?.content ?? "";
    assert.ok(user.includes(`\nQuestion: ${first.question}`));
    assert.ok(user.indexOf("### Socialist") < user.indexOf("Question: "));
    assert.equal(messages[0]?.role, "system");
  },
);

Deno.test("score: F1 is the score, EM full credit, impact 1 - F1; format errors score 0", () => {
  const example = {
    id: "x",
    question: "q",
    answer: "Eiffel Tower",
    row: {},
  };
  const raw = '{"justification": "j", "answer": "the Eiffel Tower, Paris", "confidence": 0.7}';
  const r = hotpotqa.score(example, hotpotqa.parse(raw), raw);
  assert.ok(Math.abs(r.score - 0.8) < 1e-12);
  assert.equal(r.full, false);
  assert.ok(Math.abs(r.impact - 0.2) < 1e-12);
  assert.equal(r.details.em, 0);
  const exact = hotpotqa.score(
    example,
    hotpotqa.parse('{"justification": "", "answer": "eiffel tower.", "confidence": 1}'),
    "",
  );
  assert.deepEqual([exact.score, exact.full, exact.impact], [1, true, 0]);
  const bad = hotpotqa.score(example, hotpotqa.parse("Eiffel Tower"), "Eiffel Tower");
  assert.deepEqual([bad.score, bad.full, bad.impact], [0, false, 1]);
  assert.equal(bad.details.format_error, "no JSON object in the output");
});

Deno.test("Brier is against EM, not F1 (hand-computed)", () => {
  const cases: [string, string, number][] = [
    ["red cat", "red dog", 0.8], // F1 0.5, EM 0
    ["Paris", "paris", 0.9], // F1 1, EM 1
    ["whale shark fin", "blue whale", 0.3], // F1 0.4, EM 0
  ];
  const items = cases.map(([answer, gold, confidence]) => {
    const raw = JSON.stringify({ justification: "j", answer, confidence });
    const parsed = hotpotqa.parse(raw);
    const s = hotpotqa.score({ id: gold, question: "q", answer: gold, row: {} }, parsed, raw);
    return { ...s, parsed: parsed.ok ? parsed.value : null };
  });
  assert.deepEqual(items.map((i) => [i.score, i.details.em]), [[0.5, 0], [1, 1], [0.4, 0]]);
  const m = computeMetrics(items);
  // ((0.8 - 0)^2 + (0.9 - 1)^2 + (0.3 - 0)^2) / 3 = 0.74 / 3; against F1 it would be 0.11 / 3.
  assert.ok(Math.abs((m.brier ?? NaN) - 0.74 / 3) < 1e-12, String(m.brier));
  assert.ok(Math.abs(m.score - 1.9 / 3) < 1e-12); // the score stays the F1
  assert.deepEqual(Object.keys(m.extra), ["em", "f1", "precision", "recall"]);
  assert.deepEqual(taskHeadline(hotpotqa, m), { name: "accuracy (EM)", value: 1 / 3 });
});

Deno.test("selection: F1 + 0.5 EM - w Brier - length penalty", () => {
  const metrics = {
    n: 1,
    parsed: 1,
    score: 0.6,
    fullCredit: 0.4,
    avgConfidence: 0.5,
    brier: 0.2,
    ece: 0.1,
    formatErrorRate: 0,
    errorRate: 0,
    perSubtask: {},
    extra: { em: 0.4, f1: 0.6 },
  };
  const v = hotpotqa.selectionScore({ metrics, promptChars: 2000, brierWeight: 0.05 });
  assert.ok(Math.abs(v - (0.6 + 0.2 - 0.01 - 0.005)) < 1e-12);
});
