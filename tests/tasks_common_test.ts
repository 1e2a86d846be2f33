import assert from "node:assert/strict";
import { z } from "zod";
import {
  parseJsonlText,
  parseTargetOutput,
  readJsonl,
  renderChat,
  selectionPenalty,
  targetOutputSchema,
} from "../lib/tasks/common.ts";
import { promptChars } from "../lib/prompt.ts";

Deno.test("parseTargetOutput: accepted forms", () => {
  const cases: [string, string, { reasoning: string; answer: string; confidence: number }][] = [
    ['{"reasoning": "r", "answer": "a", "confidence": 0.5}', "reasoning", {
      reasoning: "r",
      answer: "a",
      confidence: 0.5,
    }],
    ['{"justification": "j", "answer": "a", "confidence": 1}', "reasoning", {
      reasoning: "j",
      answer: "a",
      confidence: 1,
    }],
    [
      'Sure!\n```json\n{"justification": "j", "answer": 12.5, "confidence": "0.25"}\n```',
      "justification",
      {
        reasoning: "j",
        answer: "12.5",
        confidence: 0.25,
      },
    ],
    ['{"answer": "a", "confidence": 0}', "reasoning", {
      reasoning: "",
      answer: "a",
      confidence: 0,
    }],
    ['{"steps": "s", "reasoning": "r", "answer": "a", "confidence": 0.1}', "steps", {
      reasoning: "s",
      answer: "a",
      confidence: 0.1,
    }],
  ];
  for (const [text, field, want] of cases) {
    const r = parseTargetOutput(text, field);
    assert.ok(r.ok, `${text}: ${r.ok ? "" : r.error}`);
    assert.deepEqual(r.value, want);
  }
});

Deno.test("parseTargetOutput: format errors with reasons", () => {
  const cases: [string, RegExp][] = [
    ["The answer is 4.", /no JSON object/],
    ["[1, 2]", /no JSON object/],
    ['{"reasoning": "r", "confidence": 0.5}', /missing field 'answer'/],
    ['{"reasoning": "r", "answer": "a"}', /missing field 'confidence'/],
    ['{"reasoning": "r", "answer": "a", "confidence": 85}', /confidence.*\[0, 1\], got 85/],
    ['{"reasoning": "r", "answer": "a", "confidence": "85%"}', /confidence/],
    ['{"reasoning": "r", "answer": "a", "confidence": -0.1}', /confidence/],
    ['{"reasoning": "r", "answer": null, "confidence": 0.5}', /'answer' must be a string/],
    ['{"reasoning": ["r"], "answer": "a", "confidence": 0.5}', /'reasoning' must be a string/],
    ['{"reasoning": "r", "answer": "a", "confidence": "high"}', /confidence/],
  ];
  for (const [text, pattern] of cases) {
    const r = parseTargetOutput(text, "reasoning");
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.error, pattern, text);
  }
});

Deno.test("targetOutputSchema: strict and ordered", () => {
  const s = targetOutputSchema("reasoning") as {
    properties: Record<string, unknown>;
    additionalProperties: boolean;
  };
  assert.deepEqual(Object.keys(s.properties), ["reasoning", "answer", "confidence"]);
  assert.equal(s.additionalProperties, false);
});

Deno.test("renderChat and selection helpers", () => {
  assert.deepEqual(renderChat({ system: " ", instruction: "" }, "Question: q"), [
    { role: "user", content: "Question: q" },
  ]);
  assert.equal(promptChars({ system: "ab", instruction: "cde" }), 5);
  const metrics = {
    n: 0,
    parsed: 0,
    score: 0,
    fullCredit: 0,
    avgConfidence: null,
    brier: null,
    ece: null,
    formatErrorRate: 1,
    errorRate: 0,
    perSubtask: {},
    extra: {},
  };
  // no parsed item: Brier counts as 1, so format collapse is never rewarded
  assert.equal(selectionPenalty({ metrics, promptChars: 0, brierWeight: 0.05 }), 0.05);
});

Deno.test("readJsonl decodes line by line exactly as decoding the whole file did", async () => {
  const enc = (text: string) => new TextEncoder().encode(text);
  const join = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
  const cases: [string, Uint8Array][] = [
    ["plain", enc('{"a": "x"}\n{"a": "y"}\n')],
    ["no final newline, CRLF, blank lines", enc('{"a": "x"}\r\n\r\n\n{"a": "y"}')],
    ["multi-byte characters", enc('{"a": "caf\u00e9 \u{1F600} \u6771\u4eac"}\n{"a": "\u00fc"}\n')],
    ["a byte order mark on the first line", enc('\ufeff{"a": "x"}\n{"a": "y"}\n')],
    ["a byte order mark on a later line", enc('{"a": "x"}\n\ufeff{"a": "y"}\n')],
    [
      "invalid UTF-8 before a newline",
      join(enc('{"a": "x'), new Uint8Array([0xe2, 0x82]), enc('"}\n{"a": "y"}')),
    ],
    ["a bad row", enc('{"a": "x"}\n{"a": 5}\n')],
    ["empty", new Uint8Array()],
  ];
  const schema = z.object({ a: z.string() });
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    for (const [what, bytes] of cases) {
      await Deno.writeFile(path, bytes);
      const outcome = (f: () => unknown) => {
        try {
          return { rows: f() };
        } catch (error) {
          return { error: (error as Error).message };
        }
      };
      const before = outcome(() => parseJsonlText(new TextDecoder().decode(bytes), path, schema));
      let now: unknown;
      try {
        now = { rows: await readJsonl(path, schema) };
      } catch (error) {
        now = { error: (error as Error).message };
      }
      assert.deepEqual(now, before, what);
    }
  } finally {
    await Deno.remove(path);
  }
});
