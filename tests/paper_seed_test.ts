import assert from "node:assert/strict";
import { join } from "node:path";
import { SEED_SOURCE_FILES } from "../lib/data/seed_source.ts";
import { paperTask } from "../lib/tasks/paper.ts";
import { PAPER_SEED_TASKS, paperSeedPrompt } from "../lib/tasks/paper_seed.ts";
import { HOTPOTQA_SEED } from "../lib/tasks/seeds.ts";
import { getTask } from "../lib/tasks/registry.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { paperDataTest } from "./support/paper_data.ts";

paperDataTest("paperSeedPrompt: the data directory's seeds, fields byte for byte", async (dir) => {
  for (const task of PAPER_SEED_TASKS) {
    const file = JSON.parse(await Deno.readTextFile(join(dir, task, "seed_prompt.json")));
    const seed = await paperSeedPrompt(task, { dataDir: dir });
    assert.deepEqual(seed.prompt, { system: file.system, instruction: file.instruction });
    assert.equal(seed.knobs.enforce_json_only, true);
    assert.equal(seed.knobs.max_justification_sentences, task === "hotpotqa" ? 3 : undefined);
    assert.deepEqual(seed.source, {
      repository: "megagonlabs/RPT",
      commit: "3158d7b927e83fe326a2d6b0a57f49170457f2c1",
      file: SEED_SOURCE_FILES[task],
      function: "make_seed_prompt",
      license: "BSD-3-Clause",
    });
    assert.equal(seed.path, `${dir}/${task}/seed_prompt.json`);
    // The project's own seeds are not the paper's.
    assert.notEqual(seed.prompt.instruction, (await getTask(task)).seedPrompt.instruction);
  }
});

paperDataTest("paperTask: the reference protocol starting from the paper's seed", async (dir) => {
  for (const name of PAPER_SEED_TASKS) {
    const { task, seed } = await paperTask(name, { dataDir: dir });
    assert.equal(task.name, name);
    assert.deepEqual(task.seedPrompt, seed.prompt);
    assert.equal(task.outputMode, name === "livebench_math" ? "text" : "structured");
    const [example] = await task.load("dev", { dataDir: dir });
    assert.ok(example);
    const [system, user] = task.render(task.seedPrompt, example);
    assert.equal(system?.content, seed.prompt.system);
    if (name === "livebench_math") {
      assert.ok(user?.content.startsWith(seed.prompt.instruction.trim()));
    } else {
      // The reference keeps the instruction as written, trailing newline included.
      assert.ok(user?.content.startsWith(`${seed.prompt.instruction}\n\n`));
    }
    const content = user?.content ?? "";
    assert.ok(content.endsWith(`Question:\n${example.question.trim()}\n`), content);
  }
  // The olympiad rule is the reference's unless chosen otherwise.
  const { task } = await paperTask("livebench_math", { dataDir: dir });
  const olympiad = (await task.load("train", { dataDir: dir })).find((e) =>
    e.subtask === "olympiad"
  );
  assert.ok(olympiad);
  const gold = olympiad.answer.split(",");
  const partial = [...gold.slice(0, 2), ...gold.slice(2).reverse()].join(",");
  const raw = JSON.stringify({ answer: partial, confidence: 0.5, reasoning: "r" });
  const positional = task.score(olympiad, task.parse(raw), raw);
  assert.ok(typeof positional.details.matches === "number");
  const { task: byEdit } = await paperTask("livebench_math", {
    dataDir: dir,
    olympiadScoring: "edit_distance",
  });
  assert.ok(typeof byEdit.score(olympiad, byEdit.parse(raw), raw).details.distance === "number");
});

async function withSeedFile(
  task: string,
  text: string | undefined,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    if (text !== undefined) {
      await Deno.mkdir(join(dir, task));
      await Deno.writeTextFile(join(dir, task, "seed_prompt.json"), text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const SOURCE = {
  repository: "someone/else",
  commit: "0".repeat(40),
  file: "mine.py",
  function: "make_seed_prompt",
  license: "MIT",
};

Deno.test("paperSeedPrompt: a missing file names it and data:fetch", async () => {
  await withSeedFile("formula", undefined, async (dir) => {
    await assert.rejects(
      () => paperSeedPrompt("formula", { dataDir: dir }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.message.startsWith(`${dir}/formula/seed_prompt.json: cannot read the paper's seed`) &&
        e.message.includes("'deno task rpt data:fetch --task formula'"),
    );
    await assert.rejects(
      () => paperTask("formula", { dataDir: dir }),
      /formula\/seed_prompt\.json: cannot read the paper's seed prompt: file not found/,
    );
  });
  await assert.rejects(
    () => paperSeedPrompt("synthetic" as "formula"),
    /task 'synthetic' has no paper seed prompt: expected one of hotpotqa, livebench_math, formula/,
  );
});

Deno.test("paperSeedPrompt: a file that is not the paper's is refused; fields are named", async () => {
  const own = { system: "S", instruction: "I\n", enforce_json_only: false, source: SOURCE };
  await withSeedFile("hotpotqa", JSON.stringify(own), async (dir) => {
    await assert.rejects(
      () => paperSeedPrompt("hotpotqa", { dataDir: dir }),
      /hotpotqa\/seed_prompt\.json: checksum mismatch: expected sha256 982fa41e/,
    );
    const seed = await paperSeedPrompt("hotpotqa", { dataDir: dir, verify: false });
    assert.deepEqual(seed.prompt, { system: "S", instruction: "I\n" });
    assert.deepEqual(seed.knobs, { enforce_json_only: false });
  });
  const bad: [unknown, RegExp][] = [
    [{ ...own, instruction: 3 }, /seed_prompt\.json: instruction: /],
    [{ ...own, enforce_json_only: "yes" }, /seed_prompt\.json: enforce_json_only: /],
    [
      { ...own, max_justification_sentences: 0 },
      /seed_prompt\.json: max_justification_sentences: /,
    ],
    [{ ...own, source: { ...SOURCE, commit: "abc" } }, /source\.commit: expected a 40-hex-digit/],
    [{ ...own, temperature: 0 }, /seed_prompt\.json: \(file\): .*temperature/],
  ];
  for (const [value, pattern] of bad) {
    await withSeedFile("hotpotqa", JSON.stringify(value), async (dir) => {
      await assert.rejects(
        () => paperSeedPrompt("hotpotqa", { dataDir: dir, verify: false }),
        (e: Error) => e instanceof ConfigError && pattern.test(e.message),
        JSON.stringify(value),
      );
    });
  }
  await withSeedFile("hotpotqa", "{not json", async (dir) => {
    await assert.rejects(
      () => paperSeedPrompt("hotpotqa", { dataDir: dir, verify: false }),
      /hotpotqa\/seed_prompt\.json: invalid JSON: /,
    );
  });
});

Deno.test("the project's own seeds stay the default outside the paper preset", async () => {
  assert.deepEqual((await getTask("hotpotqa")).seedPrompt, HOTPOTQA_SEED);
  assert.deepEqual(
    (await getTask("hotpotqa", { protocol: "reference" })).seedPrompt,
    HOTPOTQA_SEED,
  );
});
