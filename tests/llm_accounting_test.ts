import assert from "node:assert/strict";
import { batchPrice, costOf, DEFAULT_PRICES, UsageLedger } from "../lib/llm/accounting.ts";
import { BudgetExceededError } from "../lib/llm/model.ts";
import { UsageSnapshot } from "../lib/llm/usage.ts";
import { totalUsage } from "../lib/run/schema.ts";

const usage = (inputTokens: number, cachedTokens: number, outputTokens: number) => ({
  inputTokens,
  cachedTokens,
  outputTokens,
});

Deno.test("costOf bills cached input at the cached price", () => {
  const price = { inputPerMTok: 2, cachedInputPerMTok: 0.5, outputPerMTok: 8 };
  assert.equal(costOf(usage(1_000_000, 400_000, 500_000), price), 0.6 * 2 + 0.4 * 0.5 + 4);
  // Without a cached price, cached tokens cost the input price.
  assert.equal(costOf(usage(1_000_000, 1_000_000, 0), { inputPerMTok: 3, outputPerMTok: 0 }), 3);
});

Deno.test("the default table lists the main models", () => {
  for (
    const m of [
      "gpt-4.1",
      "gpt-4.1-mini",
      "gpt-5",
      "gpt-5-mini",
      "gemini-2.5-pro",
      "gemini-2.5-flash",
      "text-embedding-3-small",
      "gemini-embedding-001",
    ]
  ) {
    assert.ok(DEFAULT_PRICES[m], m);
  }
  assert.deepEqual(DEFAULT_PRICES["gpt-4.1"], {
    inputPerMTok: 2,
    cachedInputPerMTok: 0.5,
    outputPerMTok: 8,
  });
});

Deno.test("priceFor: provider:model override, model, dated and models/ names, free and unknown", () => {
  const ledger = new UsageLedger({
    prices: {
      "openai-compatible:gpt-4.1": { inputPerMTok: 0, outputPerMTok: 0 },
      "gpt-5": { inputPerMTok: 1, outputPerMTok: 2 },
    },
  });
  assert.equal(ledger.priceFor("openai", "gpt-4.1").price.inputPerMTok, 2);
  assert.equal(ledger.priceFor("openai-compatible", "gpt-4.1").price.inputPerMTok, 0);
  assert.equal(ledger.priceFor("openai", "gpt-5").price.outputPerMTok, 2);
  assert.equal(ledger.priceFor("openai", "gpt-4.1-mini-2025-04-14").price.inputPerMTok, 0.4);
  assert.equal(ledger.priceFor("gemini", "models/gemini-2.5-flash").price.outputPerMTok, 2.5);
  assert.deepEqual(ledger.priceFor("sim", "target").priced, true);
  assert.deepEqual(ledger.priceFor("openai-compatible", "qwen3"), {
    price: { inputPerMTok: 0, cachedInputPerMTok: 0, outputPerMTok: 0 },
    priced: false,
  });
});

Deno.test("the ledger accounts calls, failures, cache hits and flags unpriced models", () => {
  const ledger = new UsageLedger();
  const r1 = ledger.reserve("openai", "gpt-4.1", { inputTokens: 50 });
  ledger.commit(r1, usage(1000, 200, 100));
  const r2 = ledger.reserve("openai", "gpt-4.1", { inputTokens: 50 });
  ledger.release(r2);
  ledger.recordCacheHit("openai", "gpt-4.1");
  const r3 = ledger.reserve("openai-compatible", "qwen3", { inputTokens: 5 });
  ledger.commit(r3, usage(10, 0, 10));
  const snap = ledger.snapshot();
  assert.equal(UsageSnapshot.safeParse(snap).success, true);
  assert.deepEqual(snap.models["openai:gpt-4.1"], {
    calls: 1,
    cacheHits: 1,
    failures: 1,
    inputTokens: 1000,
    cachedTokens: 200,
    outputTokens: 100,
    reasoningTokens: 0,
    usd: (800 * 2 + 200 * 0.5 + 100 * 8) / 1e6,
    priced: true,
  });
  assert.deepEqual(snap.unpriced, ["openai-compatible:qwen3"]);
  assert.equal(snap.total.calls, 2);
  assert.equal(snap.total.priced, false);
  // The snapshot is a copy.
  snap.total.calls = 99;
  assert.equal(ledger.snapshot().total.calls, 2);
});

Deno.test("the call budget counts calls in flight", () => {
  const ledger = new UsageLedger({ budget: { calls: 2 } });
  const a = ledger.reserve("openai", "gpt-5", { inputTokens: 1 });
  ledger.reserve("openai", "gpt-5", { inputTokens: 1 });
  assert.throws(
    () => ledger.reserve("openai", "gpt-5", { inputTokens: 1 }),
    (e: Error) =>
      e instanceof BudgetExceededError &&
      e.message ===
        "call budget of 2 reached (0 calls made, 2 in flight); not sending openai:gpt-5",
  );
  // A failed attempt gives its place back.
  ledger.release(a);
  ledger.reserve("openai", "gpt-5", { inputTokens: 1 });
});

Deno.test("token and dollar budgets include this call's estimated input", () => {
  const tokens = new UsageLedger({ budget: { tokens: 1000 } });
  tokens.commit(tokens.reserve("openai", "gpt-4.1", { inputTokens: 1 }), usage(900, 0, 50));
  tokens.reserve("openai", "gpt-4.1", { inputTokens: 50 });
  assert.throws(
    () => tokens.reserve("openai", "gpt-4.1", { inputTokens: 1 }),
    /^BudgetExceededError: token budget of 1000 would be exceeded \(1000 used or in flight \+ ~1 for this call\); not sending openai:gpt-4.1$/,
  );

  const dollars = new UsageLedger({ budget: { usd: 1 } });
  dollars.commit(dollars.reserve("openai", "gpt-4.1", { inputTokens: 0 }), usage(0, 0, 100_000));
  assert.throws(
    () => dollars.reserve("openai", "gpt-4.1", { inputTokens: 200_000 }),
    /dollar budget of \$1 would be exceeded \(\$0\.8000 spent or in flight \+ ~\$0\.4000 for this call\)/,
  );
  // Free and unpriced models never hit a dollar budget.
  dollars.reserve("sim", "target", { inputTokens: 10_000_000 });
});

Deno.test("estimate multiplies calls by tokens by price", () => {
  const ledger = new UsageLedger({ prices: { "my-model": { inputPerMTok: 1, outputPerMTok: 4 } } });
  assert.deepEqual(
    ledger.estimate({
      provider: "x",
      model: "my-model",
      calls: 10,
      inputTokens: 1000,
      outputTokens: 500,
    }),
    { usd: 10 * (1000 * 1 + 500 * 4) / 1e6, tokens: 15_000, priced: true },
  );
  assert.equal(
    ledger.estimate({ provider: "x", model: "nope", calls: 1, inputTokens: 1, outputTokens: 1 })
      .priced,
    false,
  );
});

Deno.test("batch calls cost half by default, or the price's own batch multiplier", () => {
  assert.deepEqual(batchPrice({ inputPerMTok: 3, outputPerMTok: 12 }), {
    inputPerMTok: 1.5,
    cachedInputPerMTok: 1.5,
    outputPerMTok: 6,
    batchMultiplier: 1,
  });
  const ledger = new UsageLedger({
    prices: { "cheap-batch": { inputPerMTok: 10, outputPerMTok: 20, batchMultiplier: 0.25 } },
  });
  const r = ledger.reserve("x", "cheap-batch", { inputTokens: 100_000, batch: true });
  // The reservation holds the batch estimate: 100k input tokens at $2.50 per million.
  assert.equal(r.usd, 0.25);
  ledger.commit(r, usage(1_000_000, 0, 1_000_000));
  ledger.commit(ledger.reserve("x", "cheap-batch", { inputTokens: 1 }), usage(1_000_000, 0, 0));
  const snap = ledger.snapshot();
  assert.equal(UsageSnapshot.safeParse(snap).success, true);
  // Batch: (10 + 20) * 0.25 = 7.5; interactive: 10.
  assert.deepEqual(snap.models["x:cheap-batch"]?.batch, {
    calls: 1,
    inputTokens: 1_000_000,
    cachedTokens: 0,
    outputTokens: 1_000_000,
    usd: 7.5,
  });
  assert.equal(snap.models["x:cheap-batch"]?.usd, 17.5);
  assert.equal(snap.models["x:cheap-batch"]?.calls, 2);
  assert.deepEqual(snap.total.batch?.usd, 7.5);
  // Models without batch calls carry no batch part.
  const plain = new UsageLedger();
  plain.commit(plain.reserve("openai", "gpt-4.1", { inputTokens: 1 }), usage(1, 0, 1));
  assert.equal("batch" in plain.snapshot().models["openai:gpt-4.1"]!, false);
  assert.equal(plain.snapshot().total.batch, undefined);
});

Deno.test("batchSaving compares one workload at list and batch prices", () => {
  const ledger = new UsageLedger();
  const plan = { provider: "openai", model: "gpt-4.1-mini", calls: 600, inputTokens: 2000 };
  // 600 * (2000 * 0.4 + 250 * 1.6) / 1e6 = 0.72 at list price.
  const s = ledger.batchSaving({ ...plan, outputTokens: 250 });
  assert.ok(Math.abs(s.interactiveUsd - 0.72) < 1e-12, `${s.interactiveUsd}`);
  assert.ok(Math.abs(s.batchUsd - 0.36) < 1e-12);
  assert.ok(Math.abs(s.savingUsd - 0.36) < 1e-12);
  assert.equal(s.priced, true);
  assert.equal(ledger.batchSaving({ ...plan, model: "nope", outputTokens: 1 }).priced, false);
  const e = ledger.estimate({ ...plan, outputTokens: 250, batch: true });
  assert.ok(Math.abs(e.usd - 0.36) < 1e-12);
});

Deno.test("unreserve gives a place back without counting a failure", () => {
  const ledger = new UsageLedger({ budget: { calls: 1 } });
  ledger.unreserve(ledger.reserve("openai", "gpt-5", { inputTokens: 1, batch: true }));
  const r = ledger.reserve("openai", "gpt-5", { inputTokens: 1 });
  ledger.release(r);
  assert.equal(ledger.snapshot().total.failures, 1);
  assert.equal(ledger.snapshot().total.calls, 0);
});

Deno.test("a model without a price is unpriced once a request went out, answered or not; cache hits alone send none", () => {
  const ledger = new UsageLedger();
  ledger.release(ledger.reserve("openai-compatible", "down", { inputTokens: 5 }));
  ledger.recordCacheHit("openai-compatible", "cached");
  const snap = ledger.snapshot();
  assert.equal(snap.models["openai-compatible:down"]?.calls, 0);
  assert.equal(snap.models["openai-compatible:down"]?.failures, 1);
  assert.deepEqual(snap.unpriced, ["openai-compatible:down"]);
  assert.deepEqual(ledger.totals().unpriced, ["openai-compatible:down"]);
  // A session saved before (its `unpriced` left the model out) is read off its models.
  const old = { started: "", ended: null, status: "incomplete" as const, elapsedMs: 0 };
  const total = totalUsage([{ ...old, usage: { ...snap, unpriced: [] } }]);
  assert.deepEqual(total.unpriced, ["openai-compatible:down"]);
});
