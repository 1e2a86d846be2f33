import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../lib/data/manifest.ts";
import {
  hotpotSplitIndices,
  rebuildLivebenchSplits,
  splitLivebenchQuestion,
  toJsonlText,
} from "../lib/data/fetch.ts";
import { paperDataTest } from "./support/paper_data.ts";

const UPSTREAM = "upstream/livebench_math/hf_test_split.jsonl";
const VECTORS = "upstream/python_shuffle_vectors.json";

async function readRows(dir: string, relative: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(dir, relative));
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

paperDataTest(
  "LiveBench splits rebuilt from the upstream order, row for row and byte for byte",
  async (dir) => {
    const upstream = await readRows(dir, UPSTREAM);
    assert.equal(upstream.length, 368);
    const rebuilt = rebuildLivebenchSplits(upstream);
    const sums = await Deno.readTextFile(join(dir, "SHA256SUMS"));
    for (const split of ["train", "dev", "test"] as const) {
      const expected = await readRows(dir, `livebench_math/${split}.jsonl`);
      assert.equal(rebuilt[split].length, expected.length, split);
      rebuilt[split].forEach((row, i) => {
        assert.deepEqual(row, expected[i], `${split} row ${i}`);
        assert.deepEqual(
          Object.keys(row),
          Object.keys(expected[i] ?? {}),
          `${split} row ${i} keys`,
        );
      });
      const text = toJsonlText(rebuilt[split], new Set(["hardness"]));
      const sha = await sha256Hex(new TextEncoder().encode(text));
      assert.ok(sums.includes(`${sha}  livebench_math/${split}.jsonl`), `${split} sha256 ${sha}`);
    }
  },
  { needs: [UPSTREAM, "SHA256SUMS"] },
);

Deno.test("LiveBench rebuild refuses a changed upstream", () => {
  assert.throws(() => rebuildLivebenchSplits([]), /expected 368 upstream rows, got 0/);
});

Deno.test("splitLivebenchQuestion leaves questions without a format block alone", () => {
  assert.deepEqual(splitLivebenchQuestion("Compute $x$.  "), {
    question: "Compute $x$.  ",
    answerFormatHint: null,
  });
});

paperDataTest("HotPotQA indices follow the CPython shuffles and are disjoint", async (dir) => {
  const vectors = JSON.parse(await Deno.readTextFile(join(dir, VECTORS))) as Record<
    string,
    number[]
  >;
  const idx = hotpotSplitIndices();
  assert.deepEqual(idx.train.slice(0, 20), vectors["0:7405"]);
  const train = new Set(idx.train);
  const expectedTest = (vectors["1:7405"] ?? []).filter((i) => !train.has(i));
  assert.deepEqual(idx.test.slice(0, expectedTest.length), expectedTest);
  const all = new Set([...idx.train, ...idx.dev, ...idx.test]);
  assert.equal(all.size, 1100);
}, { needs: [VECTORS] });

paperDataTest("HotPotQA rows serialise to the exact bytes of the split files", async (dir) => {
  const sums = await Deno.readTextFile(join(dir, "SHA256SUMS"));
  const rows = await readRows(dir, "hotpotqa/train.jsonl");
  const sha = await sha256Hex(new TextEncoder().encode(toJsonlText(rows)));
  assert.ok(sums.includes(`${sha}  hotpotqa/train.jsonl`));
}, { needs: ["SHA256SUMS"] });

paperDataTest(
  "fetchTask: paged datasets-server download writes files that match the manifest",
  async (dir) => {
    const upstream = await readRows(dir, UPSTREAM);
    const requested: string[] = [];
    let failedOnce = false;
    const fakeFetch = (input: string | URL | Request): Promise<Response> => {
      const url = new URL(String(input));
      requested.push(url.search);
      if (!failedOnce) {
        failedOnce = true;
        return Promise.resolve(new Response("busy", { status: 503 }));
      }
      const offset = Number(url.searchParams.get("offset"));
      const length = Number(url.searchParams.get("length"));
      const rows = upstream.slice(offset, offset + length).map((row, i) => ({
        row_idx: offset + i,
        row,
      }));
      return Promise.resolve(Response.json({ rows, num_rows_total: upstream.length }));
    };
    const out = await Deno.makeTempDir();
    try {
      const { fetchTask } = await import("../lib/data/fetch.ts");
      const written = await fetchTask("livebench_math", out, {
        fetch: fakeFetch as typeof fetch,
        retries: 1,
        retryBaseMs: 1,
        upstream: { datasetsServer: "http://mirror.invalid", aceFinanceData: "http://x.invalid" },
      });
      assert.deepEqual(written.map((w) => [w.path, w.rows, w.matches]), [
        ["livebench_math/train.jsonl", 123, true],
        ["livebench_math/dev.jsonl", 123, true],
        ["livebench_math/test.jsonl", 122, true],
      ]);
      assert.equal(requested.length, 5); // one 503 retried, then 4 pages of 100
      assert.ok(requested[1]?.includes("dataset=livebench%2Fmath"));
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
  { needs: [UPSTREAM] },
);
