import assert from "node:assert/strict";
import { scorePredictions } from "../lib/cli/score.ts";
import { hotpotqa } from "../lib/tasks/hotpotqa.ts";
import { formula } from "../lib/tasks/formula.ts";
import { paperDataTest } from "./support/paper_data.ts";

const CLI = new URL("../lib/cli.ts", import.meta.url).pathname;

const json = (reasoningField: string, answer: string, confidence: number) =>
  JSON.stringify({ [reasoningField]: "because", answer, confidence });

/** Runs `rpt score` as a user does; `dataDir` is given as `--data-dir` when set. */
async function rptScore(args: string[], dataDir?: string) {
  const dataArgs = dataDir === undefined ? [] : ["--data-dir", dataDir];
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "score", ...dataArgs, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

async function withFiles(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

paperDataTest(
  "rpt score hotpotqa: garbage line, unknown id, duplicate, missing items",
  async (DATA_DIR) => {
    const dev = await hotpotqa.load("dev", { dataDir: DATA_DIR });
    const [a, b, c] = dev as [typeof dev[0], typeof dev[0], typeof dev[0]];
    const lines = [
      JSON.stringify({ id: a!.id, output: json("justification", a!.answer, 0.9) }),
      JSON.stringify({ id: b!.id, output: json("justification", "zzzz qqqq", 0.2) }),
      JSON.stringify({ id: c!.id, output: "I am not sure." }),
      "this is not json",
      JSON.stringify({ id: "no-such-id", output: json("justification", "x", 0.5) }),
      JSON.stringify({ id: a!.id, output: json("justification", "wrong", 0.5) }),
      JSON.stringify({ id: 5 }),
    ];
    await withFiles(async (dir) => {
      const preds = `${dir}/preds.jsonl`;
      await Deno.writeTextFile(preds, lines.join("\n") + "\n");
      const run = await scorePredictions({
        task: "hotpotqa",
        split: "dev",
        predictionsPath: preds,
        dataDir: DATA_DIR,
      });
      assert.equal(run.lines.length, 300);
      assert.deepEqual(run.problems.garbage.map((g) => g.slice(preds.length)), [
        ":4: invalid JSON: Unexpected token 'h', \"this is not json\" is not valid JSON",
        ":7: output: missing (expected string)",
      ]);
      assert.deepEqual(run.problems.unknown, [{ id: "no-such-id", line: 5 }]);
      assert.deepEqual(run.problems.duplicates, [{ id: a!.id, line: 6 }]);
      assert.equal(run.problems.missing.length, 297);
      assert.deepEqual(run.lines[0], {
        id: a!.id,
        score: 1,
        full: true,
        format_error: null,
        details: { em: 1, f1: 1, precision: 1, recall: 1, calibration_target: 1 },
      });
      assert.equal(run.lines[2]?.format_error, "no JSON object in the output");
      assert.equal(run.lines[3]?.format_error, "missing prediction");
      const m = run.metrics;
      assert.equal(m.n, 300);
      assert.equal(m.parsed, 2);
      assert.ok(Math.abs(m.score - 1 / 300) < 1e-12);
      assert.ok(Math.abs((m.brier ?? NaN) - 0.025) < 1e-12); // ((0.9-1)^2 + 0.2^2) / 2
      assert.ok(Math.abs((m.extra.em ?? NaN) - 1 / 300) < 1e-12);
      assert.ok(Math.abs(m.formatErrorRate - 298 / 300) < 1e-12);

      const out = `${dir}/scored.jsonl`;
      const cli = await rptScore([
        "--task",
        "hotpotqa",
        "--split",
        "dev",
        "--predictions",
        preds,
        "--out",
        out,
      ], DATA_DIR);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /hotpotqa \/ dev\n {2}items +300\n {2}score +0\.0033/);
      assert.match(cli.stdout, /Brier +0\.0250/);
      assert.match(cli.stdout, /bridge|comparison/);
      assert.match(cli.stderr, /preds\.jsonl:4: invalid JSON/);
      assert.match(cli.stderr, /line 5: unknown id 'no-such-id'/);
      assert.match(cli.stderr, /line 6: duplicate id/);
      assert.match(cli.stderr, /297 split item\(s\) have no prediction/);
      const written = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(written.length, 300);
      assert.deepEqual(Object.keys(written[0]), ["id", "score", "full", "format_error", "details"]);
      const strict = await rptScore([
        "--task",
        "hotpotqa",
        "--split",
        "dev",
        "--predictions",
        preds,
        "--strict",
        "--json",
      ], DATA_DIR);
      assert.equal(strict.code, 1);
      assert.equal(JSON.parse(strict.stdout).metrics.n, 300);
    });
  },
);

paperDataTest("rpt score formula: split-line ids, numeric equality", async (DATA_DIR) => {
  const test = await formula.load("test", { dataDir: DATA_DIR });
  await withFiles(async (dir) => {
    const preds = `${dir}/p.jsonl`;
    const lines = test.map((e, i) =>
      JSON.stringify({
        id: e.id,
        output: json("reasoning", i % 2 === 0 ? `${e.answer}0` : "n/a", 0.75),
      })
    );
    await Deno.writeTextFile(preds, lines.join("\n"));
    const run = await scorePredictions({
      task: "formula",
      split: "test",
      predictionsPath: preds,
      dataDir: DATA_DIR,
    });
    assert.equal(run.lines[0]?.id, "test-0");
    assert.equal(run.metrics.score, 0.5); // "15.00" == "15.0" on even lines, "n/a" on odd
    assert.equal(run.metrics.brier, 0.5 * 0.0625 + 0.5 * 0.5625);
    assert.deepEqual(run.problems, { garbage: [], unknown: [], duplicates: [], missing: [] });
    const cli = await rptScore(
      ["--task", "formula", "--split", "test", "--predictions", preds],
      DATA_DIR,
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /score +0\.5000/);
    assert.equal(cli.stderr, "");
  });
});

paperDataTest(
  "rpt score livebench_math: ids are question_ids, per-subtask scores",
  async (DATA_DIR) => {
    await withFiles(async (dir) => {
      const rows = (await Deno.readTextFile(`${DATA_DIR}/livebench_math/dev.jsonl`)).trim()
        .split("\n").map((l) => JSON.parse(l) as { question_id: string });
      const preds = `${dir}/p.jsonl`;
      await Deno.writeTextFile(
        preds,
        [
          ...rows.slice(1).map((r) =>
            JSON.stringify({ id: r.question_id, output: json("reasoning", "no idea", 0.1) })
          ),
          "{garbage",
        ].join("\n"),
      );
      const cli = await rptScore([
        "--task",
        "livebench_math",
        "--split",
        "dev",
        "--predictions",
        preds,
      ], DATA_DIR);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /items +123/);
      assert.match(cli.stdout, /AMPS_Hard|math_comp|olympiad/);
      assert.match(cli.stderr, /p\.jsonl:123: invalid JSON/);
      assert.match(cli.stderr, /1 split item\(s\) have no prediction/);
    });
  },
);

Deno.test("rpt score: bad flags are configuration errors", async () => {
  const r = await rptScore(["--task", "hotpotqa", "--split", "validation", "--predictions", "x"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--split: expected train, dev or test, got 'validation'/);
  // A task of our own, so the split loads on any machine and the missing file is the error.
  await withFiles(async (dir) => {
    const row = JSON.stringify({ input: "2 + 2?", answer: "4" });
    for (const split of ["train", "dev", "test"]) {
      await Deno.writeTextFile(`${dir}/${split}.jsonl`, `${row}\n`);
    }
    await Deno.writeTextFile(
      `${dir}/task.json`,
      JSON.stringify({ name: "sums", data: ".", scorer: "exact" }),
    );
    const missing = await rptScore([
      "--task",
      `custom:${dir}/task.json`,
      "--split",
      "dev",
      "--predictions",
      "/no/file",
    ]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^rpt score: \/no\/file: cannot read: /);
  });
});
