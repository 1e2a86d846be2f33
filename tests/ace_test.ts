import assert from "node:assert/strict";
import { ace, jaccard, Playbook, playbookPrompt } from "../lib/baselines/ace.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { ruleContext, ruleExamples, ruleTarget } from "./support/rule_task.ts";

Deno.test("Playbook add, update, remove, tag and render", () => {
  const book = new Playbook();
  const a = book.add("common_mistakes", "Apply RULE-A to every A question.");
  const b = book.add("formatting", "Output only the JSON object.");
  const c = book.add("no_such_section", "Something else entirely.");
  assert.deepEqual([a.bullet?.id, b.bullet?.id, c.bullet?.id], [
    "mis-00001",
    "fmt-00002",
    "oth-00003",
  ]);
  assert.equal(book.add("strategies", "   ").bullet, null);

  assert.equal(book.update("mis-00001", "Apply RULE-A and RULE-B."), true);
  assert.equal(book.update("mis-09999", "x"), false);
  assert.equal(book.update("mis-00001", " "), false);
  assert.equal(book.remove("oth-00003"), true);
  assert.equal(book.remove("oth-00003"), false);
  book.tag("mis-00001", "helpful");
  book.tag("mis-00001", "helpful");
  book.tag("fmt-00002", "harmful");
  book.tag("fmt-00002", "neutral");
  book.tag("nope", "harmful");
  assert.equal(
    book.render(),
    "## common_mistakes\n[mis-00001] helpful=2 harmful=0 :: Apply RULE-A and RULE-B.\n" +
      "## formatting\n[fmt-00002] helpful=0 harmful=1 :: Output only the JSON object.",
  );
  const seed = { system: "S", instruction: "Answer." };
  assert.equal(playbookPrompt(seed, new Playbook()), seed);
  assert.match(playbookPrompt(seed, book).instruction, /^Answer\.\n\nPlaybook .*\n## common/);
});

Deno.test("Playbook de-duplicates on add and merges near-duplicates on refine", () => {
  assert.equal(jaccard("Round to two decimals.", "round to TWO decimals!"), 1);
  assert.ok(jaccard("Round to two decimals.", "Convert millions to units.") < 0.2);
  const book = new Playbook({ similarity: 0.7 });
  book.add("strategies", "Round the final answer to two decimal places.");
  const dup = book.add("strategies", "Round the final answer to two decimal places!");
  assert.equal(dup.bullet, null);
  assert.equal(dup.duplicateOf, "str-00001");
  const applied = book.apply([
    { type: "ADD", section: "strategies", content: "Convert millions to full units." },
    { type: "ADD", content: "Round the final answer to two decimal places" },
    { type: "UPDATE", bullet_id: "str-00404", content: "x" },
    { type: "REMOVE", bullet_id: "str-00404" },
  ]);
  assert.equal(applied.applied, 1);
  assert.deepEqual(applied.skipped, [
    "duplicate of str-00001",
    "no bullet str-00404 to update",
    "no bullet str-00404 to remove",
  ]);
  // An UPDATE can make two bullets near-identical; refine merges them and sums counters.
  book.tag("str-00001", "helpful");
  book.tag("str-00002", "harmful");
  book.update("str-00002", "Round the final answer to two decimal places, always.");
  const extra = book.add("strategies", "A bullet that keeps misleading.");
  for (let i = 0; i < 3; i++) book.tag(extra.bullet!.id, "harmful");
  assert.equal(book.refine(), 2);
  assert.deepEqual(book.bullets.map((b) => [b.id, b.helpful, b.harmful]), [["str-00001", 1, 1]]);
});

const INSIGHTS: Record<string, string> = {
  A: "Questions about alpha need RULE-A.",
  B: "For beta items use RULE-B.",
};

Deno.test("ACE learns a bullet from a reflection and scores the playbook prompt on dev", async () => {
  const target = ruleTarget();
  const optimizer = new ScriptedChatModel((request) => {
    const text = request.messages.at(-1)!.content;
    if (request.outputSchema?.name === "ace_reflection") {
      const kind = /^Question: t-([A-Z])-/m.exec(text)?.[1] ?? "?";
      const correct = /\(correct\)$/m.test(text);
      return JSON.stringify({
        reasoning: "r",
        error_identification: correct ? "" : "missing rule",
        root_cause_analysis: "",
        correct_approach: "",
        key_insight: correct ? "" : INSIGHTS[kind],
        bullet_tags: [...text.matchAll(/^\[([\w-]+)\]/gm)].map((m) => ({
          id: m[1],
          tag: correct ? "helpful" : "neutral",
        })),
      });
    }
    assert.equal(request.outputSchema?.name, "ace_curation");
    const insights = [...text.matchAll(/"key_insight": "([^"]+)"/g)].map((m) => m[1]);
    return JSON.stringify({
      reasoning: "add what was learned",
      operations: insights.map((content) => ({ type: "ADD", section: "strategies", content })),
    });
  });
  const ctx = ruleContext(target, optimizer, {
    data: { train: ruleExamples("AB", "t"), dev: ruleExamples("AB", "d") },
    budgetCalls: 12,
  });
  const result = await ace({ batchSize: 2, evalEvery: 1, epochs: 2 }).run(ctx);
  // seed on dev (2); round 1: generate 2 (both wrong), learn both rules, dev 2; round 2:
  // generate 2 (both right), nothing new, so the playbook is not scored again.
  assert.equal(target.requests.length, 8);
  assert.deepEqual(result.candidates.map((c) => c.dev.score), [0, 1]);
  assert.match(result.selected.prompt.instruction, /^\[str-00001\] helpful=0 harmful=0 :: /m);
  assert.match(result.selected.prompt.instruction, /RULE-A[\s\S]*RULE-B|RULE-B[\s\S]*RULE-A/);
  assert.equal(result.stats.added, 2);
  assert.equal(result.stats.bullets, 2);
  assert.deepEqual(
    [...new Set(optimizer.requests.map((r) => r.outputSchema?.name))],
    ["ace_reflection", "ace_curation"],
  );
});
