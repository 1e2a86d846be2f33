import assert from "node:assert/strict";
import { TfidfEmbedder, tokenize } from "../lib/llm/tfidf.ts";
import { estimateTokens } from "../lib/util/tokens.ts";

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));

const TEXTS = [
  "The answer used the wrong unit: kilometres instead of metres.",
  "Wrong unit in the final answer (metres vs kilometres).",
  "The model was overconfident about a guessed entity.",
  "",
];

Deno.test("tokenize lower-cases words of any script and drops punctuation", () => {
  assert.deepEqual(tokenize("Größe: 3.5 km, ÉCOLE; 東京!"), [
    "größe",
    "3",
    "5",
    "km",
    "école",
    "東京",
  ]);
  assert.deepEqual(tokenize(" ,;"), []);
});

Deno.test("stopwords alone make no vector; keeping them is an option", async () => {
  const [dropped] = (await new TfidfEmbedder({ dimension: 8 }).embed(["The and of it"])).vectors;
  assert.deepEqual(dropped, new Array(8).fill(0));
  const [kept] = (await new TfidfEmbedder({ dimension: 8, stopwords: false }).embed(["The and"]))
    .vectors;
  assert.ok(Math.abs(norm(kept!) - 1) < 1e-12);
});

Deno.test("vectors are deterministic, L2-normalised, of the given dimension; empty text is zero", async () => {
  const embedder = new TfidfEmbedder({ dimension: 256 });
  assert.equal(embedder.model, "tfidf-hash-256");
  assert.equal(embedder.provider, "tfidf");
  const a = await embedder.embed(TEXTS);
  const b = await new TfidfEmbedder({ dimension: 256 }).embed(TEXTS);
  assert.deepEqual(a, b);
  assert.equal(a.vectors.length, 4);
  for (const v of a.vectors.slice(0, 3)) {
    assert.equal(v.length, 256);
    assert.ok(Math.abs(norm(v) - 1) < 1e-12);
  }
  assert.deepEqual(a.vectors[3], new Array(256).fill(0));
  assert.equal(a.usage.inputTokens, TEXTS.reduce((n, t) => n + estimateTokens(t), 0));
});

Deno.test("similar texts are closer than unrelated ones", async () => {
  const [unit1, unit2, confident] = (await new TfidfEmbedder().embed(TEXTS)).vectors as number[][];
  assert.ok(dot(unit1!, unit2!) > 0.3, `unit pair ${dot(unit1!, unit2!)}`);
  assert.ok(dot(unit1!, unit2!) > dot(unit1!, confident!) + 0.2);
  assert.ok(Math.abs(dot(unit2!, confident!)) < 0.1);
});

Deno.test("IDF comes from the call by default; fit() fixes it so calls are comparable", async () => {
  const embedder = new TfidfEmbedder();
  const alone = (await embedder.embed([TEXTS[0]!])).vectors[0];
  const inBatch = (await embedder.embed(TEXTS)).vectors[0];
  assert.notDeepEqual(alone, inBatch);

  const fitted = new TfidfEmbedder().fit(TEXTS);
  assert.match(fitted.model, /^tfidf-hash-2048-fit-[0-9a-f]{8}$/);
  assert.notEqual(fitted.model, new TfidfEmbedder().fit(["other corpus"]).model);
  const one = (await fitted.embed([TEXTS[0]!])).vectors[0];
  const many = (await fitted.embed(TEXTS)).vectors[0];
  assert.deepEqual(one, many);
  assert.equal(new TfidfEmbedder({ corpus: TEXTS }).model, fitted.model);
  assert.equal(new TfidfEmbedder({ bigrams: false }).model, "tfidf-hash-2048-uni");
  assert.equal(new TfidfEmbedder({ stopwords: false }).model, "tfidf-hash-2048-all");
});

Deno.test("bad dimension and an aborted signal are rejected", async () => {
  assert.throws(() => new TfidfEmbedder({ dimension: 0 }), RangeError);
  const controller = new AbortController();
  controller.abort(new Error("stopped"));
  await assert.rejects(new TfidfEmbedder().embed(["x"], { signal: controller.signal }), /stopped/);
});
