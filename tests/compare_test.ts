import assert from "node:assert/strict";
import { compare, compareTable, meterChatModel, type RawModels } from "../lib/baselines/compare.ts";
import { UsageLedger } from "../lib/llm/accounting.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { parseCompareArgs } from "../lib/cli/compare.ts";
import { answerBaselineRequest } from "../lib/sim/baselines.ts";
import { addresses, TRAPS } from "../lib/sim/traps.ts";

/** A provider stand-in that counts the requests it really receives. */
function counting(model: ChatModel, count: { n: number }): ChatModel {
  return {
    provider: model.provider,
    model: model.model,
    chat(request, options) {
      count.n++;
      return model.chat(request, options);
    },
  };
}

Deno.test("meterChatModel books paid calls, releases failures and refuses beyond the budget", async () => {
  const inner = new ScriptedChatModel(["a", new Error("boom"), "b", "c"]);
  const ledger = new UsageLedger({ budget: { calls: 2 } });
  const model = meterChatModel(inner, ledger);
  const req = { messages: [{ role: "user" as const, content: "x" }] };
  await model.chat(req);
  await assert.rejects(model.chat(req), /boom/);
  await model.chat(req);
  await assert.rejects(model.chat(req), { name: "BudgetExceededError" });
  const total = ledger.snapshot().total;
  assert.equal(total.calls, 2);
  assert.equal(total.failures, 1);
  // The refused call never reached the provider.
  assert.equal(inner.requests.length, 3);
});

Deno.test("compare counts every method's calls at the provider, under one budget", async () => {
  const counts = new Map<string, { target: { n: number }; optimizer: { n: number } }>();
  const models = (method: string): RawModels => {
    const c = { target: { n: 0 }, optimizer: { n: 0 } };
    counts.set(method, c);
    const optimizer = createSimChatModel("optimizer", { seed: 0 });
    return {
      target: counting(createSimChatModel("target", { seed: 0 }), c.target),
      optimizer: counting(optimizer, c.optimizer),
    };
  };
  const outDir = await Deno.makeTempDir({ prefix: "rpt-compare-test-" });
  try {
    const budget = 80;
    const result = await compare({
      task: "synthetic",
      methods: ["rpt", "gepa", "mipro", "ace"],
      budgetCalls: budget,
      limits: { train: 10, dev: 10, test: 10 },
      models,
      outDir,
      concurrency: 4,
    });
    assert.equal(result.simulated, true);
    assert.deepEqual(result.rows.map((r) => r.method), ["rpt", "gepa", "mipro", "ace"]);
    for (const row of result.rows) {
      const c = counts.get(row.method)!;
      assert.equal(row.usage.target.calls, c.target.n, `${row.method} target calls`);
      assert.equal(row.usage.optimizer.calls, c.optimizer.n, `${row.method} optimizer calls`);
      assert.ok(row.usage.target.calls <= budget, `${row.method} spent ${row.usage.target.calls}`);
      assert.ok(row.usage.target.calls >= 10, `${row.method} scored at least its seed`);
      assert.ok(row.usage.optimizer.calls > 0, `${row.method} used its optimizer`);
      // The same seed prompt, scored the same way, for every method.
      assert.deepEqual(row.initial.dev, result.rows[0]!.initial.dev);
      assert.equal(row.candidates, row.curve.length);
      assert.ok(row.final.test !== null);
      assert.ok(row.final.selection >= row.curve[0]!.bestSelection);
    }
    assert.equal(result.harnessTestCalls, counts.get("(probe)")!.target.n);
    const table = compareTable(result);
    assert.match(table, /^\*\*SIMULATED\*\*/);
    assert.match(table, /^\| rpt \| 0\.\d{3} → 0\.\d{3} \|/m);
    for (const file of ["compare.json", "table.md", "events.jsonl", "curves.svg"]) {
      assert.ok((await Deno.stat(`${outDir}/${file}`)).size > 0, file);
    }
    assert.ok((await Deno.stat(`${outDir}/rpt/rpt-run/summary.json`)).isFile);
    const before = counts.get("(probe)")!.target.n;
    await assert.rejects(
      compare({ task: "synthetic", methods: ["gepa"], budgetCalls: budget, models, outDir }),
      /already holds a comparison/,
    );
    assert.equal(counts.get("(probe)")!.target.n, 0, `no call after ${before}`);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test("rpt compare flags: defaults, limits and unknown methods", () => {
  const c = parseCompareArgs(["--task", "synthetic", "--limit-dev", "all"]);
  assert.deepEqual(c.options.methods, ["rpt", "gepa", "mipro", "ace"]);
  assert.equal(c.options.budgetCalls, 400);
  assert.deepEqual(c.options.limits, { train: 40, test: 100 });
  assert.throws(
    () => parseCompareArgs(["--task", "x", "--limit-dev=-1"]),
    /positive integer or 'all'/,
  );
  assert.throws(
    () => parseCompareArgs(["--task", "x", "--methods", "rpt,dspy"]),
    /unknown method 'dspy'/,
  );
  assert.throws(() => parseCompareArgs(["--methods", "rpt"]), /--task is required/);
  assert.throws(() => parseCompareArgs(["--task", "x", "--budget-calls", "0"]), /positive integer/);
});

Deno.test("the simulator answers the baselines' requests from what they show it", () => {
  const scale = TRAPS.find((t) => t.id === "numeric.scale_words")!;
  const current = "Solve it.\nRespond with JSON: reasoning, answer and confidence.";
  const reflection = answerBaselineRequest({
    messages: [{
      role: "user",
      content:
        `Task: synthetic\nPrompt component: instruction\nCurrent text:\n\`\`\`\n${current}\n` +
        "```\n\nExamples with feedback:\n\n### Example 1\nInput:\nQuestion: q\nOutput:\n{}\n" +
        "Feedback:\nScore: 0.00 (not full credit)\nGold answer: 7000000\n" +
        `Diagnosis: ${scale.labels[0]}: ${scale.definitions[0]} (x)`,
    }],
    outputSchema: { name: "gepa_reflection", schema: {} },
  }, { seed: 0 });
  const newText = (reflection?.parsed as { new_text: string }).new_text;
  // The rule goes before the output contract, whether it is a specific or a vague one.
  assert.match(newText, /^Solve it\.\n.+\nRespond with JSON/);
  assert.ok(
    addresses(newText, scale) || scale.weakInstructions.some((w) => newText.includes(w)),
    newText,
  );

  const curation = answerBaselineRequest({
    messages: [{
      role: "user",
      content: `Task: synthetic\n\nPlaybook (0 bullets):\n(empty)\n\nReflections:\n${
        JSON.stringify([{ key_insight: scale.instructions[0] }, {
          key_insight: scale.instructions[0],
        }])
      }`,
    }],
    outputSchema: { name: "ace_curation", schema: {} },
  });
  assert.deepEqual((curation?.parsed as { operations: unknown[] }).operations, [
    { type: "ADD", section: "common_mistakes", content: scale.instructions[0] },
  ]);
  assert.equal(
    answerBaselineRequest({
      messages: [{ role: "user", content: "x" }],
      outputSchema: { name: "decision", schema: {} },
    }),
    undefined,
  );
});

Deno.test("compare with a cache file: a rerun pays for no call, spends its budget and selects as before", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rpt-compare-cache-" });
  try {
    const sent = { n: 0 };
    const models = (): RawModels => ({
      target: counting(createSimChatModel("target", { seed: 0 }), sent),
      optimizer: counting(createSimChatModel("optimizer", { seed: 0 }), sent),
    });
    const options = {
      task: "synthetic",
      methods: ["gepa", "mipro"],
      budgetCalls: 120,
      limits: { train: 12, dev: 10, test: 10 },
      models,
      cache: `${dir}/cache.sqlite`,
    };
    const first = await compare(options);
    const paid = sent.n;
    assert.ok(paid > 100);
    assert.equal(first.providerUsage?.calls, paid);
    const second = await compare(options);
    assert.equal(sent.n, paid, "the rerun is answered by the cache");
    assert.equal(second.providerUsage?.calls, 0);
    // Both methods score the seed on dev: the second one was answered by the cache already.
    assert.ok((first.providerUsage?.cacheHits ?? 0) > 0);
    assert.equal(second.providerUsage?.cacheHits, paid + (first.providerUsage?.cacheHits ?? 0));
    for (const [a, b] of first.rows.map((r, i) => [r, second.rows[i]!] as const)) {
      // The meters above the cache see the same calls: same budget spent, same selection.
      assert.equal(b.usage.target.calls, a.usage.target.calls);
      assert.deepEqual(b.selected.prompt, a.selected.prompt);
      assert.deepEqual(b.final.test, a.final.test);
      assert.equal(b.testItems.final?.length, 10);
      assert.deepEqual(b.testItems, a.testItems);
      assert.deepEqual(b.scored.map((c) => c.dev.score), a.scored.map((c) => c.dev.score));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
