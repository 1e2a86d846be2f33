import assert from "node:assert/strict";
import {
  applyPatch,
  diffText,
  promptChars,
  promptDiff,
  promptFields,
  PromptProgram,
  promptText,
  promptTokens,
  unifiedDiff,
} from "../lib/prompt.ts";

Deno.test("PromptProgram: system and instruction required, other string fields kept", () => {
  assert.deepEqual(PromptProgram.parse({ system: "S", instruction: "I", format: "F" }), {
    system: "S",
    instruction: "I",
    format: "F",
  });
  assert.equal(PromptProgram.safeParse({ system: "S" }).success, false);
  assert.equal(PromptProgram.safeParse({ system: "S", instruction: "I", n: 1 }).success, false);
});

Deno.test("size, fields and text of a prompt program", () => {
  const p = { instruction: "Be brief.\nCite.", system: "You answer.", format: "JSON" };
  assert.deepEqual(promptFields(p).map(([k]) => k), ["system", "instruction", "format"]);
  assert.equal(promptChars(p), 11 + 15 + 4);
  // 32 characters with the two joining newlines: 8 tokens at 4 characters a token.
  assert.equal(promptTokens(p), 8);
  assert.equal(
    promptText(p),
    "[system]\nYou answer.\n\n[instruction]\nBe brief.\nCite.\n\n[format]\nJSON",
  );
  assert.equal(
    promptText(p, { indent: "  ", separator: "\n" }),
    "[system]\n  You answer.\n[instruction]\n  Be brief.\n  Cite.\n[format]\n  JSON",
  );
});

Deno.test("applyPatch replaces given fields whole and keeps the rest", () => {
  const p = { system: "S", instruction: "I", format: "F" };
  assert.deepEqual(applyPatch(p, { instruction: "J" }), {
    system: "S",
    instruction: "J",
    format: "F",
  });
  assert.deepEqual(applyPatch(p, { system: "T", instruction: undefined }), {
    system: "T",
    instruction: "I",
    format: "F",
  });
  assert.deepEqual(p, { system: "S", instruction: "I", format: "F" }, "the input is not changed");
});

Deno.test("unifiedDiff: hunks with context and line numbers", () => {
  const a = ["1", "2", "3", "4", "5", "6", "7", "8", "9"].join("\n");
  const b = ["1", "2", "3", "4", "five", "6", "7", "8", "9", "10"].join("\n");
  assert.equal(
    unifiedDiff(a, b, { context: 1 }),
    "--- old\n+++ new\n@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\n@@ -9,1 +9,2 @@\n 9\n+10",
  );
  assert.equal(unifiedDiff(a, a), "");
});

Deno.test("diffText: whole unchanged lines, changed lines refined to words", () => {
  assert.deepEqual(diffText("same\n", "same\n"), [{ kind: "same", text: "same\n" }]);
  assert.deepEqual(diffText("", "new line"), [{ kind: "ins", text: "new line" }]);
  assert.deepEqual(diffText("a\nb\nc\n", "a\nc\n"), [
    { kind: "same", text: "a\n" },
    { kind: "del", text: "b\n" },
    { kind: "same", text: "c\n" },
  ]);
  assert.deepEqual(diffText("a\nc\n", "a\nb\nc\n"), [
    { kind: "same", text: "a\n" },
    { kind: "ins", text: "b\n" },
    { kind: "same", text: "c\n" },
  ]);
  assert.deepEqual(
    diffText("Keep.\nGive the answer in meters.\n", "Keep.\nGive the answer in kilometers.\n"),
    [
      { kind: "same", text: "Keep.\nGive the answer in " },
      { kind: "del", text: "meters" },
      { kind: "ins", text: "kilometers" },
      { kind: "same", text: ".\n" },
    ],
  );
  // Every part concatenates back to both sides exactly.
  const before = "Think step by step.\nAnswer with JSON.\nBe concise.";
  const after = "Think carefully, step by step.\nCheck units.\nAnswer with JSON.";
  const parts = diffText(before, after);
  assert.equal(parts.filter((p) => p.kind !== "ins").map((p) => p.text).join(""), before);
  assert.equal(parts.filter((p) => p.kind !== "del").map((p) => p.text).join(""), after);
});

Deno.test("promptDiff diffs the prompts' text with step labels", () => {
  const a = { system: "S", instruction: "one\ntwo" };
  const b = { system: "S", instruction: "one\n2" };
  assert.equal(
    promptDiff(a, b, { from: "step 1", to: "step 2" }),
    // Three lines of context before the change at line 6: lines 3 to 6.
    "--- step 1\n+++ step 2\n@@ -3,4 +3,4 @@\n \n [instruction]\n one\n-two\n+2",
  );
  assert.equal(promptDiff(a, a), "");
});
