/**
 * The presets: a pure function of (preset, task) whose values flags override; the preset
 * table of `docs/reproducing.md` equals the effective config of each task; `rpt optimize
 * --preset paper` parses, dry-runs without keys, and with simulated models substituted
 * records the paper's seed prompt byte for byte and still optimizes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run as analyzeCommand } from "../lib/cli/analyze.ts";
import { parseOptimizeArgs, run as optimizeCommand } from "../lib/cli/optimize.ts";
import {
  applyPreset,
  PRESET_TABLE_FIELDS,
  presetDefaults,
  PRESETS,
} from "../lib/revise/presets.ts";
import {
  effectivePresetConfig,
  presetTableBlock,
  presetTableEnd,
  presetTableStart,
} from "../lib/revise/preset_docs.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { RunConfig } from "../lib/run/config.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { paperDataTest } from "./support/paper_data.ts";
import { tempDir } from "./support/toy_loop.ts";

Deno.test("presetDefaults: the paper's runs per task, the CLI defaults for reference-cli", () => {
  const paper = (t: string) => presetDefaults("paper", t);
  assert.deepEqual(
    ["hotpotqa", "livebench_math", "formula"].map((t) => paper(t).k),
    [10, 10, 20],
  );
  for (const t of ["hotpotqa", "livebench_math", "formula"]) {
    const p = paper(t);
    assert.equal(p.iterations, 40);
    assert.equal(p.memory, "history_summary");
    assert.equal(p.lengthPenalty, 0.0025);
    assert.equal(p.brierWeight, 0.05);
    assert.equal(p.maxPromptChars, undefined, "no prompt cap");
    assert.equal(p.critic, undefined, "critic = optimizer");
    const cli = presetDefaults("reference-cli", t);
    assert.deepEqual([cli.iterations, cli.memory, cli.lengthPenalty, cli.k], [
      20,
      "all_reports",
      0,
      10,
    ]);
  }
  assert.deepEqual(paper("formula").thinkingLevel, { optimizer: "medium", critic: "medium" });
  assert.deepEqual(paper("hotpotqa").thinkingLevel, { optimizer: "high" });
  assert.deepEqual(
    [paper("hotpotqa").maxPatchAttempts, paper("livebench_math").maxPatchAttempts],
    [1, 5],
  );
  assert.equal(paper("hotpotqa").metaEditGuard, false);
  assert.equal(paper("formula").metaEditGuard, true);
  assert.equal(paper("livebench_math").olympiadScoring, "positional");
  assert.equal(paper("hotpotqa").olympiadScoring, undefined);
  // Pure: a fresh object each time, equal for equal inputs.
  assert.notEqual(paper("hotpotqa"), paper("hotpotqa"));
  assert.deepEqual(paper("hotpotqa"), paper("hotpotqa"));
  assert.throws(() => presetDefaults("paper", "synthetic"), ConfigError);
});

Deno.test("applyPreset: given fields win, per-role settings merge, twice is once, no preset is nothing", () => {
  const input = {
    preset: "paper" as const,
    task: "formula",
    k: 7,
    thinkingLevel: { optimizer: "low" as const },
  };
  const c = applyPreset(input);
  assert.equal(c.k, 7);
  assert.equal(c.iterations, 40);
  assert.deepEqual(c.thinkingLevel, { optimizer: "low", critic: "medium" });
  assert.deepEqual(applyPreset(c), c);
  const plain = { task: "hotpotqa", k: 3 };
  assert.equal(applyPreset(plain), plain);
  assert.throws(() => applyPreset({ preset: "paper" }), /needs a task/);
});

/** The cells of a preset's table in the document: setting -> [hotpotqa, livebench, formula, source]. */
function docTable(doc: string, preset: (typeof PRESETS)[number]): Map<string, string[]> {
  const start = doc.indexOf(presetTableStart(preset));
  const end = doc.indexOf(presetTableEnd(preset));
  assert.ok(start >= 0 && end > start, `docs/reproducing.md has the ${preset} table markers`);
  return tableCells(doc.slice(start, end));
}

function tableCells(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replaceAll("\\|", "|"));
    rows.set((cells[0] ?? "").replaceAll("`", ""), cells.slice(1));
  }
  return rows;
}

Deno.test("docs/reproducing.md: the preset tables equal each task's effective config", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/reproducing.md", import.meta.url));
  for (const preset of PRESETS) {
    const documented = docTable(doc, preset);
    const expected = tableCells(presetTableBlock(preset));
    assert.deepEqual([...documented.keys()], PRESET_TABLE_FIELDS.map(String));
    assert.deepEqual(documented, expected, `${preset}: regenerate with scripts/preset_table.ts`);
  }
  // The table shows what the config records: spot checks against the effective configs.
  const formula = effectivePresetConfig("paper", "formula");
  assert.equal(docTable(doc, "paper").get("k")?.[2], String(formula.k));
  assert.equal(docTable(doc, "paper").get("memoryTokenBudget")?.[0], "240000");
  RunConfig.parse(formula);
});

Deno.test("rpt optimize --preset paper: the reference's models without --target/--optimizer; flags after it win", async () => {
  const c = await parseOptimizeArgs(["--preset", "paper", "--task", "hotpotqa"]);
  assert.equal(c.config.target, "openai:gpt-4.1");
  assert.equal(c.config.optimizer, "openai:gpt-5");
  assert.equal(c.config.embedder, "openai:text-embedding-3-large");
  assert.equal(c.config.clusterModel, "openai:gpt-4.1");
  assert.equal(c.config.seedPrompt, "paper");
  const o = await parseOptimizeArgs([
    "--preset",
    "paper",
    "--task",
    "hotpotqa",
    "--target",
    "sim:target",
    "--iterations",
    "3",
    "--temperature",
    "target=0.5",
    "--no-memory-patches",
    "--length-penalty",
    "0",
  ]);
  assert.equal(o.config.target, "sim:target");
  assert.equal(o.config.iterations, 3);
  assert.deepEqual(o.config.temperature, { target: 0.5, optimizer: 0, critic: 0, cluster: 0 });
  assert.equal(o.config.lengthPenalty, 0);
  assert.equal(o.config.k, 10);
  await assert.rejects(
    parseOptimizeArgs(["--preset", "paper", "--task", "synthetic"]),
    /applies to hotpotqa, livebench_math, formula/,
  );
});

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    const code = await fn();
    return { code, out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

paperDataTest(
  "rpt optimize --preset paper --task hotpotqa --dry-run: the reference's settings and a cost, no key needed",
  async (dataDir) => {
    const saved = Deno.env.get("OPENAI_API_KEY");
    Deno.env.delete("OPENAI_API_KEY");
    try {
      const { code, out } = await capture(() =>
        optimizeCommand([
          "--preset",
          "paper",
          "--task",
          "hotpotqa",
          "--data-dir",
          dataDir,
          "--dry-run",
        ])
      );
      assert.equal(code, 0);
      assert.match(out, /^dry run: hotpotqa, 40 iterations, train\/dev\/test 300\/300\/500/);
      assert.match(out, /preset paper; task hotpotqa \(protocol reference\)/);
      assert.match(out, /seed prompt: \d+ characters, from .*hotpotqa\/seed_prompt\.json/);
      assert.match(out, /memory: history_summary, budget 240000 tokens, in the user message/);
      assert.match(out, /ClusterFusion: k 10, sample 100, descriptions comprehensive/);
      assert.match(out, /selection: Brier weight 0\.05, length penalty 0\.0025/);
      assert.match(out, /target\s+openai:gpt-4\.1\s+29300 calls/);
      assert.match(out, /cluster\s+openai:gpt-4\.1/);
      assert.match(out, /total: \d+ calls, \d+ tokens, at most \$\d+\.\d\d/);
      assert.match(out, /note: .*OPENAI_API_KEY.*the dry run calls nothing/);
    } finally {
      if (saved !== undefined) Deno.env.set("OPENAI_API_KEY", saved);
    }
  },
);

const SIM_ROLES = {
  target: "sim:target",
  optimizer: "sim:optimizer",
  embedder: "sim:embed",
  clusterModel: "sim:critic",
};

for (const task of ["hotpotqa", "livebench_math", "formula"] as const) {
  paperDataTest(
    `the paper preset on the simulator (${task}): config.json holds seed_prompt.json's prompt byte for byte, and the loop still optimizes`,
    async (dataDir) => {
      await using dir = await tempDir();
      const result = await optimize({
        preset: "paper",
        task,
        ...SIM_ROLES,
        iterations: 4,
        dataDir,
        limits: { train: 50, dev: 50, test: 50 },
        cache: join(dir.path, "cache.sqlite"),
      }, { runDir: join(dir.path, "run") });
      const seedFile = JSON.parse(await Deno.readTextFile(join(dataDir, task, "seed_prompt.json")));
      const config = JSON.parse(await Deno.readTextFile(join(result.dir, "config.json")));
      assert.equal(config.preset, "paper");
      assert.equal(config.seedPrompt.system, seedFile.system);
      assert.equal(config.seedPrompt.instruction, seedFile.instruction);
      assert.equal(config.seedPrompt.knobs.enforce_json_only, seedFile.enforce_json_only);
      const step1 = JSON.parse(
        await Deno.readTextFile(join(result.dir, "iter-001", "prompt.json")),
      );
      assert.deepEqual(step1, { system: seedFile.system, instruction: seedFile.instruction });
      const s = result.summary;
      assert.ok(s !== null);
      assert.ok(s.steps.some((x) => x.action === "patch"), "the simulated optimizer patched");
      assert.ok(
        s.selected.selection > (s.steps[0]?.selection ?? Infinity),
        `selection improved: ${s.steps.map((x) => x.selection.toFixed(3))}`,
      );
      // Memory came as a user message after the tool result (the reference's placement).
      const decision = JSON.parse(
        await Deno.readTextFile(join(result.dir, "iter-002", "decision.json")),
      );
      const roles = decision.messages.map((m: { role: string }) => m.role);
      assert.deepEqual(roles.slice(0, 5), ["system", "user", "assistant", "tool", "user"]);
      assert.match(decision.messages[4].content, /^Memory of this run \(mode history_summary\)/);
      const headline = {
        hotpotqa: "accuracy (EM)",
        livebench_math: "task score",
        formula: "accuracy",
      };
      assert.equal(s.headline?.name, headline[task]);
      if (task !== "hotpotqa") return;
      assert.equal(s.headline?.seed.dev, s.seed.dev.extra.em);
      // `rpt analyze` of a preset run follows the reference: every topic, EM deltas, labels.
      const { code, out } = await capture(() => analyzeCommand([result.dir, "--json"]));
      assert.equal(code, 0);
      const analysis = JSON.parse(out.slice(out.indexOf("{")));
      assert.equal(analysis.settings.failurePresence, "every");
      assert.equal(analysis.settings.deltaMetric, "headline: accuracy (EM)");
      assert.equal(analysis.settings.labels, true);
      assert.equal(analysis.settings.model, "sim:sim-critic");
      const t = analysis.transitions[0];
      const [a, b] = [s.steps[0]?.train, s.steps[1]?.train];
      assert.ok(Math.abs(t.deltaScore - ((b?.extra.em ?? 0) - (a?.extra.em ?? 0))) < 1e-12);
    },
  );
}

paperDataTest(
  "acceptance: rpt optimize --preset paper --task hotpotqa with sim: models for every role records seed_prompt.json's prompt byte for byte",
  async (dataDir) => {
    await using dir = await tempDir();
    const runDir = join(dir.path, "run");
    const stderr = console.error;
    console.error = () => {};
    let code: number;
    try {
      ({ code } = await capture(() =>
        optimizeCommand([
          "--preset",
          "paper",
          "--task",
          "hotpotqa",
          "--target",
          "sim:target",
          "--optimizer",
          "sim:optimizer",
          "--embedder",
          "sim:embed",
          "--cluster-model",
          "sim:critic",
          "--iterations",
          "2",
          "--limit-train",
          "30",
          "--limit-dev",
          "30",
          "--limit-test",
          "30",
          "--data-dir",
          dataDir,
          "--run-dir",
          runDir,
          "--cache",
          join(dir.path, "cache.sqlite"),
          "--quiet",
        ])
      ));
    } finally {
      console.error = stderr;
    }
    assert.equal(code, 0);
    const file = await Deno.readTextFile(join(dataDir, "hotpotqa", "seed_prompt.json"));
    const seed = JSON.parse(file);
    const configText = await Deno.readTextFile(join(runDir, "config.json"));
    const config = JSON.parse(configText);
    assert.equal(config.seedPrompt.system, seed.system);
    assert.equal(config.seedPrompt.instruction, seed.instruction);
    // Byte for byte in the file too: the JSON-escaped texts appear verbatim.
    assert.ok(configText.includes(JSON.stringify(seed.instruction)));
    assert.equal(config.iterations, 2, "a flag after the preset wins");
    assert.equal(config.k, 10);
    assert.equal(config.target, "sim:target");
  },
);
