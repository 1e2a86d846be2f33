import assert from "node:assert/strict";
import { z } from "zod";
import { checkDataDir } from "../lib/cli/data_check.ts";
import { MANIFEST } from "../lib/data/manifest.ts";
import { readJsonl, readSplitRows, resolveDataDir } from "../lib/tasks/common.ts";
import { hotpotqa } from "../lib/tasks/hotpotqa.ts";
import { formula } from "../lib/tasks/formula.ts";
import { ConfigError } from "../lib/util/errors.ts";

import { paperDataTest } from "./support/paper_data.ts";

/** Two Formula rows of our own making, in the split files' shape. */
const FORMULA_ROWS = [
  '{"context": "Use formula Gross Margin to answer the question. Question: Revenue is 200 and cost is 150. What is the gross margin in percent. Answer:", "target": "25.0"}',
  '{"context": "Use formula Current Ratio to answer the question. Question: Current assets are 300 and current liabilities are 150. What is the current ratio. Answer:", "target": "2.0"}',
];
const LOOSE = z.object({}).passthrough();

paperDataTest(
  "every split has the paper's row count and matches the manifest",
  async (DATA_DIR) => {
    const counts: Record<string, number[]> = {};
    for (const task of ["hotpotqa", "livebench_math", "formula"]) {
      counts[task] = [];
      for (const split of ["train", "dev", "test"] as const) {
        const rows = await readSplitRows(task, split, LOOSE, { dataDir: DATA_DIR });
        counts[task]?.push(rows.length);
        assert.equal(rows.length, MANIFEST[`${task}/${split}.jsonl`]?.rows);
      }
    }
    assert.deepEqual(counts, {
      hotpotqa: [300, 300, 500],
      livebench_math: [123, 123, 122],
      formula: [500, 300, 200],
    });
    const checks = await checkDataDir(DATA_DIR);
    assert.equal(checks.length, 12); // 3 splits and seed_prompt.json per task
    assert.ok(checks.every((c) => c.status === "ok"), JSON.stringify(checks));
    assert.deepEqual(
      checks.filter((c) => c.path.endsWith("seed_prompt.json")).map((c) => [c.path, c.rows]),
      [
        ["hotpotqa/seed_prompt.json", undefined],
        ["livebench_math/seed_prompt.json", undefined],
        ["formula/seed_prompt.json", undefined],
      ],
    );
  },
);

async function withTempData(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/${path}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a malformed line is reported with file and line", async () => {
  const good = FORMULA_ROWS[0];
  await withTempData(
    { "formula/train.jsonl": `${good}\n\n{"context": "x", "target": 5\n` },
    async (dir) => {
      const path = `${dir}/formula/train.jsonl`;
      await assert.rejects(
        () => formula.load("train", { dataDir: dir, verify: false }),
        (e: Error) => e instanceof ConfigError && e.message.startsWith(`${path}:3: invalid JSON: `),
      );
    },
  );
  await withTempData({
    "f.jsonl": '{"context": "x", "target": "1"}\n{"context": "x", "target": 5}\n',
  }, async (dir) => {
    await assert.rejects(
      () => readJsonl(`${dir}/f.jsonl`, z.object({ context: z.string(), target: z.string() })),
      (e: Error) => e.message.startsWith(`${dir}/f.jsonl:2: target: `),
    );
  });
  await withTempData({ "h.jsonl": '{"id": "a", "question": "q"}\n' }, async (dir) => {
    await assert.rejects(
      () =>
        readJsonl(
          `${dir}/h.jsonl`,
          z.object({ id: z.string(), context: z.object({ title: z.array(z.string()) }) }),
        ),
      (e: Error) => e.message.startsWith(`${dir}/h.jsonl:1: context: `),
    );
  });
});

Deno.test("a file that differs from the manifest is refused (unless verify is off)", async () => {
  const tampered = `${FORMULA_ROWS.join("\n")}\n`;
  await withTempData({ "formula/dev.jsonl": tampered }, async (dir) => {
    await assert.rejects(
      () => formula.load("dev", { dataDir: dir }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.message.includes(
          `${dir}/formula/dev.jsonl: checksum mismatch: expected sha256 ${
            MANIFEST["formula/dev.jsonl"]?.sha256
          }`,
        ),
    );
    const rows = await formula.load("dev", { dataDir: dir, verify: false });
    assert.deepEqual(rows.map((r) => [r.id, r.subtask, r.answer]), [
      ["dev-0", "Gross Margin", "25.0"],
      ["dev-1", "Current Ratio", "2.0"],
    ]);
    const checks = await checkDataDir(dir);
    assert.equal(checks.find((c) => c.path === "formula/dev.jsonl")?.status, "mismatch");
    assert.equal(checks.find((c) => c.path === "formula/test.jsonl")?.status, "missing");
  });
});

Deno.test("a missing data directory names the file", async () => {
  await assert.rejects(
    () => hotpotqa.load("dev", { dataDir: "/nonexistent-rpt-data" }),
    /\/nonexistent-rpt-data\/hotpotqa\/dev\.jsonl: cannot read: file not found/,
  );
});

Deno.test("resolveDataDir: flag, then RPT_DATA_DIR, then the repo's data/", () => {
  const saved = Deno.env.get("RPT_DATA_DIR");
  try {
    Deno.env.set("RPT_DATA_DIR", "/from/env");
    assert.equal(resolveDataDir("/from/flag"), "/from/flag");
    assert.equal(resolveDataDir(), "/from/env");
    Deno.env.delete("RPT_DATA_DIR");
    assert.equal(resolveDataDir(), new URL("../data", import.meta.url).pathname);
  } finally {
    if (saved === undefined) Deno.env.delete("RPT_DATA_DIR");
    else Deno.env.set("RPT_DATA_DIR", saved);
  }
});

paperDataTest(
  "rpt data:check and data:fetch work offline on a complete data directory",
  async (DATA_DIR) => {
    const { run: check } = await import("../lib/cli/data_check.ts");
    const { run: fetchRun } = await import("../lib/cli/data_fetch.ts");
    const log = console.log;
    const lines: string[] = [];
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      assert.equal(await check(["--data-dir", DATA_DIR]), 0);
      assert.equal(await fetchRun(["--data-dir", DATA_DIR]), 0); // nothing to fetch: all match
    } finally {
      console.log = log;
    }
    assert.ok(
      lines.some((l) => /hotpotqa\/train\.jsonl +ok \(300 rows\)/.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      lines.includes("formula: already present and matching the manifest (use --force to refetch)"),
    );
    await assert.rejects(() => fetchRun(["--task", "squad"]), /--task: unknown task 'squad'/);
  },
);
