/**
 * A user's own task offline: the example task under examples/ optimizes on the simulator
 * and improves its dev score; the simulator serves any task with gold answers through
 * generic traps its critic names, and says at start when it cannot.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { optimize } from "../lib/revise/optimize.ts";
import { critique } from "../lib/sim/critic.ts";
import { loadExampleIndex } from "../lib/sim/examples.ts";
import { GENERIC_TRAPS, unitAsked } from "../lib/sim/generic_traps.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { serveTask, withServed } from "../lib/sim/served.ts";
import { decideAnswer } from "../lib/sim/target.ts";
import { addresses, trapsFor } from "../lib/sim/traps.ts";
import { loadCustomTask } from "../lib/tasks/custom.ts";
import type { Example } from "../lib/tasks/schema.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { tempDir } from "./support/toy_loop.ts";

const EXAMPLE = fileURLToPath(new URL("../examples/unit-conversions/task.json", import.meta.url));
const SIM = {
  target: "sim:target",
  optimizer: "sim:optimizer",
  critic: "sim:critic",
  embedder: "sim:embed",
};

Deno.test("the example task optimizes on the simulator and its dev score improves", async () => {
  await using dir = await tempDir();
  const result = await optimize({
    task: `custom:${EXAMPLE}`,
    ...SIM,
    iterations: 8,
    cache: `${dir.path}/cache.sqlite`,
  }, { runDir: `${dir.path}/run` });
  const summary = result.summary!;
  assert.equal(summary.simulated, true);
  assert.equal(summary.task, "custom:unit-conversions");
  const seed = summary.steps[0]!;
  assert.equal(seed.step, 1);
  assert.ok(
    summary.selected.dev.score >= seed.dev.score + 0.1,
    `dev ${seed.dev.score} -> ${summary.selected.dev.score}`,
  );
  assert.ok(summary.selected.step > 1);
  // The seed's failures are the generic traps, named by the simulated critic.
  const generic = new Set(GENERIC_TRAPS.flatMap((t) => [t.topic, ...t.labels]));
  assert.ok(seed.topics.some((t) => generic.has(t)), seed.topics.join("; "));
  // The selected prompt carries instructions that address them.
  const text = summary.selected.prompt.instruction;
  assert.ok(GENERIC_TRAPS.filter((t) => addresses(text, t)).length >= 2, text);
});

async function customTask(
  dir: string,
  rows: Record<string, unknown>[],
  scorer: unknown,
  extra: Record<string, string> = {},
) {
  for (const split of ["train", "dev", "test"]) {
    await Deno.writeTextFile(
      `${dir}/${split}.jsonl`,
      rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
  }
  for (const [name, text] of Object.entries(extra)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  await Deno.writeTextFile(`${dir}/task.json`, JSON.stringify({ name: "mine", data: ".", scorer }));
  return `${dir}/task.json`;
}

Deno.test("a task the simulated target cannot answer is refused at start, before a run exists", async () => {
  await using dir = await tempDir();
  // A scorer that ignores the gold answer: the simulator has nothing right to say.
  const config = await customTask(
    dir.path,
    [{ input: "Pick any colour.", answer: "blue" }, { input: "Pick any shape.", answer: "" }],
    { module: "./scorer.ts" },
    { "scorer.ts": "export function score() { return 0; }\n" },
  );
  await assert.rejects(
    optimize({ task: `custom:${config}`, ...SIM, iterations: 2 }, { runDir: `${dir.path}/run` }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message.includes("the simulated target cannot serve task 'custom:mine'") &&
      e.message.includes("6 of 6 rows") && e.message.includes("first: train-0 in train"),
  );
  await assert.rejects(Deno.stat(`${dir.path}/run`));
});

function example(id: string, question: string, answer: string): Example {
  return { id, question, answer, row: {} };
}

Deno.test("generic traps: each bites only where the scorer refuses it, and an instruction removes it", async () => {
  await using dir = await tempDir();
  const rows = [
    example("a", "What is the capital of Peru?", "Lima"),
    example("b", "How many grams are in 2 kilograms?", "2000"),
  ];
  const data = { train: rows, dev: [], test: [] };
  const insensitive = serveTask(
    await loadCustomTask(await customTask(dir.path, [], "exact")),
    data,
    { strict: true },
  );
  const sensitive = serveTask(
    await loadCustomTask(await customTask(dir.path, [], { exact: { caseSensitive: true } })),
    data,
    { strict: true },
  );
  const ids = (ex: (typeof insensitive.examples)[number]) => trapsFor(ex).map((t) => t.trap.id);
  // Case-insensitive exact: no casing failure (the scorer would accept it).
  assert.deepEqual(ids(insensitive.examples[0]!), [
    "generic.sentence",
    "generic.extra_words",
    "generic.unchecked",
  ]);
  assert.deepEqual(ids(sensitive.examples[0]!), [
    "generic.casing",
    "generic.sentence",
    "generic.extra_words",
    "generic.unchecked",
  ]);
  assert.deepEqual(ids(sensitive.examples[1]!), [
    "generic.sentence",
    "generic.extra_words",
    "generic.units",
    "generic.unchecked",
  ]);
  assert.equal(unitAsked("Convert 3 miles to feet."), "feet");
  assert.equal(unitAsked("What is the capital of Peru?"), undefined);
  for (const trap of GENERIC_TRAPS) {
    for (const instruction of trap.instructions) assert.ok(addresses(instruction, trap));
  }
  // Every example susceptible to every trap: the first unaddressed trap fires, and the
  // answer is right once every trap is addressed (seeds 0-39 cover both coins).
  const ex = sensitive.examples[1]!;
  let fired = 0;
  let rightWhenAddressed = 0;
  const all = GENERIC_TRAPS.map((t) => t.instructions[0]).join("\n");
  for (let seed = 0; seed < 40; seed++) {
    const seedDecision = decideAnswer(ex, "Answer the question.", { seed });
    if (seedDecision.outcome === "trap") {
      fired++;
      assert.equal(ex.served!.accepts(seedDecision.answer), false, seedDecision.answer);
    }
    const fixed = decideAnswer(ex, all, { seed });
    assert.notEqual(fixed.outcome, "trap");
    if (fixed.outcome === "correct") rightWhenAddressed++;
  }
  assert.ok(fired >= 20, `traps fired on ${fired} of 40 seeds`);
  assert.ok(rightWhenAddressed >= 30, `${rightWhenAddressed} of 40 right when addressed`);
});

Deno.test("the simulated critic names a served task's failures by their trap, in varied words", async () => {
  await using dir = await tempDir();
  const task = await loadCustomTask(await customTask(dir.path, [], "exact"));
  const rows = [
    example("a", "How many grams are in 2 kilograms?", "2000"),
    example("b", "How many metres are in 3 kilometres?", "3000"),
    example("c", "How many seconds are in 4 minutes?", "240"),
  ];
  const served = serveTask(task, { train: rows, dev: [], test: [] }, { strict: true });
  const index = withServed(await loadExampleIndex("/nonexistent-rpt-data"), served);
  const units = GENERIC_TRAPS.find((t) => t.id === "generic.units")!;
  const labels = new Set<string>();
  for (const ex of served.examples) {
    const wrong = trapsFor(ex).find((t) => t.trap === units)!.wrong.answer;
    const text = `Task: custom:mine\nQuestion: ${ex.question}\nGold answer: ${ex.answer}\n` +
      `Predicted answer: ${wrong}\nReasoning: x\nStated confidence: 0.5\nScore: 0`;
    for (let seed = 0; seed < 4; seed++) {
      const [mode] = critique(text, index, seed).failure_modes;
      assert.ok(units.labels.includes(mode!.label), mode!.label);
      labels.add(mode!.label);
    }
  }
  assert.ok(labels.size >= 2, [...labels].join("; "));
  // The served examples are part of the simulated models' cache identity.
  const plain = createSimChatModel("target", { dataDir: "/nonexistent-rpt-data" });
  const handed = createSimChatModel("target", { dataDir: "/nonexistent-rpt-data", task: served });
  assert.notEqual(plain.baseURL, handed.baseURL);
  assert.equal(handed.servedTask, "custom:mine");
});

Deno.test("the README and optimize --help document the format and the example's command", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Your own task"));
  for (const field of ["`input`", "`answer`", "`id`", "`context`", "`subtask`", "`scorer`"]) {
    assert.ok(section.includes(field), field);
  }
  assert.match(section, /--task custom:examples\/unit-conversions\/task\.json/);
  const { run } = await import("../lib/cli/optimize.ts");
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    assert.equal(await run(["--help"]), 0);
  } finally {
    console.log = log;
  }
  const help = lines.join("\n");
  assert.match(help, /--task custom:examples\/unit-conversions\/task\.json --target sim:target/);
  for (const word of ['"input"', '"answer"', '"context"', '"subtask"', '"numeric"', '"module"']) {
    assert.ok(help.includes(word), word);
  }
});
