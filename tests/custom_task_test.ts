import assert from "node:assert/strict";
import { loadCustomTask, parseLooseNumber, tokenF1 } from "../lib/tasks/custom.ts";
import { getTask } from "../lib/tasks/registry.ts";
import { ConfigError } from "../lib/util/errors.ts";

async function withTask(
  config: Record<string, unknown>,
  extra: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/data`);
    const rows = [
      { input: "Capital of France?", answer: "Paris", id: "q1", subtask: "geo" },
      { input: "2 + 2?", answer: 4 },
      { input: "Distance?", answer: "1,500", context: "Use km." },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n";
    for (const split of ["train", "dev", "test"]) {
      await Deno.writeTextFile(`${dir}/data/${split}.jsonl`, rows);
    }
    for (const [path, text] of Object.entries(extra)) {
      await Deno.writeTextFile(`${dir}/${path}`, text);
    }
    await Deno.writeTextFile(`${dir}/task.json`, JSON.stringify(config));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const out = (answer: string, confidence = 0.5) =>
  JSON.stringify({ reasoning: "r", answer, confidence });

Deno.test("custom task: exact scorer, ids, context, rendering, registry", async () => {
  await withTask({ name: "demo", data: "./data", scorer: "exact" }, {}, async (dir) => {
    const task = await getTask(`custom:${dir}/task.json`);
    assert.equal(task.name, "custom:demo");
    const examples = await task.load("dev");
    assert.deepEqual(examples.map((e) => e.id), ["q1", "dev-1", "dev-2"]);
    assert.equal(examples[1]?.answer, "4");
    assert.equal(examples[0]?.subtask, "geo");
    const [paris, four, dist] = examples as [
      typeof examples[0],
      typeof examples[0],
      typeof examples[0],
    ];
    assert.equal(task.score(paris!, task.parse(out(" paris ")), "").score, 1);
    assert.equal(task.score(paris!, task.parse(out("Paris, France")), "").score, 0);
    assert.equal(
      task.score(four!, task.parse('{"reasoning":"","answer":4,"confidence":1}'), "").score,
      1,
    );
    const user = task.render(task.seedPrompt, dist!).at(-1)?.content ?? "";
    assert.ok(user.includes("Context:\nUse km.\n\nQuestion: Distance?"));
    const bad = task.score(paris!, task.parse("Paris"), "Paris");
    assert.deepEqual([bad.score, bad.impact], [0, 1]);
    // relative path resolved against baseDir
    const again = await getTask("custom:task.json", { baseDir: dir });
    assert.equal(again.name, "custom:demo");
  });
});

Deno.test("custom task: numeric scorer with absolute and relative tolerance", async () => {
  await withTask(
    { name: "n", data: "data", scorer: { numeric: { tolerance: 0.5 } } },
    {},
    async (dir) => {
      const task = await loadCustomTask(`${dir}/task.json`);
      const dist = (await task.load("test"))[2]!;
      assert.equal(task.score(dist, task.parse(out("1500.4")), "").score, 1);
      assert.equal(task.score(dist, task.parse(out("$1,500")), "").score, 1);
      assert.equal(task.score(dist, task.parse(out("1501")), "").score, 0);
      assert.equal(task.score(dist, task.parse(out("about 1500")), "").score, 0);
    },
  );
  await withTask(
    {
      name: "r",
      data: "data",
      scorer: { numeric: { tolerance: 0.01, relative: true } },
    },
    {},
    async (dir) => {
      const task = await loadCustomTask(`${dir}/task.json`);
      const dist = (await task.load("test"))[2]!;
      assert.equal(task.score(dist, task.parse(out("1514")), "").score, 1); // within 1% of 1500
      assert.equal(task.score(dist, task.parse(out("1516")), "").score, 0);
    },
  );
  assert.equal(parseLooseNumber(" -1,234.5% "), -1234.5);
  assert.equal(parseLooseNumber("1.2.3"), undefined);
});

Deno.test("custom task: f1 scorer", async () => {
  await withTask({ name: "f", data: "data", scorer: "f1" }, {}, async (dir) => {
    const task = await loadCustomTask(`${dir}/task.json`);
    const paris = (await task.load("train"))[0]!;
    const r = task.score(paris, task.parse(out("Paris France")), "");
    assert.ok(Math.abs(r.score - 2 / 3) < 1e-12);
    assert.equal(r.full, false);
    assert.equal(r.details.em, 0);
    assert.equal(task.score(paris, task.parse(out("the Paris.")), "").full, true);
  });
  assert.equal(tokenF1("", ""), 1);
  assert.equal(tokenF1("yes", "no"), 0);
});

Deno.test("custom task: module scorer and seed prompt files", async () => {
  const scorer = `export function score(example, output) {
    if (output.answer === "half") return { score: 0.5, details: { why: "half" } };
    return output.answer.toLowerCase() === example.answer.toLowerCase();
  }`;
  const seed = JSON.stringify({ system: "S", instruction: "I" });
  await withTask(
    {
      name: "m",
      data: { train: "data/train.jsonl", dev: "data/dev.jsonl", test: "data/test.jsonl" },
      scorer: { module: "./scorer.js" },
      seedPromptFile: "seed.json",
    },
    { "scorer.js": scorer, "seed.json": seed },
    async (dir) => {
      const task = await loadCustomTask(`${dir}/task.json`);
      assert.deepEqual(task.seedPrompt, { system: "S", instruction: "I" });
      const paris = (await task.load("train"))[0]!;
      const half = task.score(paris, task.parse(out("half")), "");
      assert.deepEqual([half.score, half.full, half.impact, half.details.why], [
        0.5,
        false,
        0.5,
        "half",
      ]);
      assert.equal(task.score(paris, task.parse(out("PARIS")), "").full, true);
    },
  );
  await withTask({
    name: "t",
    data: "data",
    scorer: "exact",
    seedPromptFile: "seed.txt",
    reasoningField: "why",
  }, {
    "seed.txt": "Answer tersely.",
  }, async (dir) => {
    const task = await loadCustomTask(`${dir}/task.json`);
    assert.equal(task.seedPrompt.instruction, "Answer tersely.");
    assert.equal(task.reasoningField, "why");
    const parsed = task.parse('{"why": "w", "answer": "x", "confidence": 0.2}');
    assert.ok(parsed.ok && parsed.value.reasoning === "w");
  });
});

Deno.test("custom task: config and data errors name file and field", async () => {
  await withTask({ name: "bad name!", data: "data", scorer: "exact" }, {}, async (dir) => {
    await assert.rejects(
      () => loadCustomTask(`${dir}/task.json`),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`${dir}/task.json: name: `),
    );
  });
  await withTask({ name: "x", data: "data", scorer: "fuzzy" }, {}, async (dir) => {
    await assert.rejects(() => loadCustomTask(`${dir}/task.json`), /task\.json: scorer: /);
  });
  await withTask({ name: "x", data: "data", scorer: { module: "./nope.ts" } }, {}, async (dir) => {
    await assert.rejects(() => loadCustomTask(`${dir}/task.json`), /scorer\.module: cannot import/);
  });
  await withTask({ name: "x", data: "data", scorer: "exact" }, {}, async (dir) => {
    await Deno.writeTextFile(
      `${dir}/data/dev.jsonl`,
      '{"input": "a", "answer": "b", "id": "1"}\n{"input": "c", "answer": "d", "id": 1}\n{"answer": "x"}\n',
    );
    const task = await loadCustomTask(`${dir}/task.json`);
    await assert.rejects(
      () => task.load("dev"),
      (e: Error) =>
        e.message ===
          `${dir}/data/dev.jsonl:3: input: missing (expected string)`,
    );
    // A union field (answer: string or number) says "missing" too, not "Invalid input".
    await Deno.writeTextFile(
      `${dir}/data/dev.jsonl`,
      '{"input": "a"}\n{"input": "b", "answer": null}\n',
    );
    await assert.rejects(
      () => task.load("dev"),
      (e: Error) =>
        e.message === `${dir}/data/dev.jsonl:1: answer: missing (expected string or number)`,
    );
    await Deno.writeTextFile(`${dir}/data/dev.jsonl`, '{"input": "b", "answer": null}\n');
    await assert.rejects(
      () => task.load("dev"),
      (e: Error) =>
        e.message === `${dir}/data/dev.jsonl:1: answer: expected string or number, received null`,
    );
    await Deno.writeTextFile(
      `${dir}/data/dev.jsonl`,
      '{"input": "a", "answer": "b", "id": "1"}\n{"input": "c", "answer": "d", "id": 1}\n',
    );
    await assert.rejects(
      () => task.load("dev"),
      /dev\.jsonl:2: id: duplicate id '1' \(first on line 1\)/,
    );
  });
  await assert.rejects(
    () => getTask("custom:/no/such/task.json"),
    /task\.json: cannot read task config: file not found/,
  );
  await assert.rejects(
    () => getTask("nope"),
    /unknown task 'nope': expected one of hotpotqa, livebench_math, formula, synthetic/,
  );
});
