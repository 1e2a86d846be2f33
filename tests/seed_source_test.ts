import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_UPSTREAM, fetchSeedPrompt } from "../lib/data/fetch.ts";
import { MANIFEST, sha256Hex } from "../lib/data/manifest.ts";
import {
  parseSeedArguments,
  rebuildSeedPromptText,
  SEED_SOURCE_FILES,
  seedPromptJsonText,
  type SeedTask,
} from "../lib/data/seed_source.ts";
import { ConfigError } from "../lib/util/errors.ts";
import { paperDataTest } from "./support/paper_data.ts";

/**
 * A Python file of our own with the structure of the reference's task files: an unrelated
 * `PromptProgram(...)` before, `make_seed_prompt` returning one with implicit concatenation
 * over lines, comments between the pieces, escapes, a column-0 comment inside the body and
 * a commented-out knob, then another top-level definition.
 */
const OWN_SOURCE = String.raw`from pydantic import BaseModel

def make_other_prompt() -> PromptProgram:
    return PromptProgram(system="not this one", instruction="nor this")


def make_seed_prompt() -> PromptProgram:
    return PromptProgram(
        system="You check sums carefully.",
        instruction=(
            "**Steps:**\n"
            "- Add the numbers.\t(twice)\n"  # a comment after a piece
            # a comment on its own line
            'It\'s "quoted", a \\ backslash, \x41\u00e9\101, \d kept.\n'
            r"raw \n stays"
            """ and a triple-quoted "piece"."""
        ),
# a column-0 comment inside the body
        enforce_json_only=True,
        max_justification_sentences=3,
        # max_reasoning_sentences=8,
        offset=-2,
    )


def main():
    return PromptProgram(system="no")
`;

/** What OWN_SOURCE's `make_seed_prompt` holds, written independently of the parser. */
const OWN_INSTRUCTION = "**Steps:**\n- Add the numbers.\t(twice)\n" +
  'It\'s "quoted", a \\ backslash, A\u00e9A, \\d kept.\n' +
  "raw \\n stays" + ' and a triple-quoted "piece".';

Deno.test("parseSeedArguments reads make_seed_prompt's keyword arguments in order", () => {
  assert.deepEqual(parseSeedArguments(OWN_SOURCE, "own.py"), [
    ["system", "You check sums carefully."],
    ["instruction", OWN_INSTRUCTION],
    ["enforce_json_only", true],
    ["max_justification_sentences", 3],
    ["offset", -2],
  ]);
});

Deno.test("parseSeedArguments: what it cannot read is an error naming line and column", () => {
  const wrap = (args: string) =>
    `def make_seed_prompt():\n    return PromptProgram(\n        ${args}\n    )\n`;
  const cases: [string, RegExp][] = [
    ['"positional"', /^x\.py:3:9: expected a keyword argument/],
    ['system=f"{x}"', /^x\.py:3:16: unsupported string prefix 'f'/],
    ["system=SEED", /^x\.py:3:16: expected a string, True, False or an integer, found 'SEED'/],
    ['system=("a", "b")', /^x\.py:3:20: tuples are not supported/],
    ['system="open', /^x\.py:3:16: unterminated string literal/],
    ['system="a", system="b"', /^x\.py:3:21: keyword argument 'system' repeated/],
    ["n=007", /^x\.py:3:11: integer '007' with a leading zero/],
    ['system="a" instruction="b"', /^x\.py:3:20: expected ',' or '\)'/],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(
      () => parseSeedArguments(wrap(args), "x.py"),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      args,
    );
  }
  assert.throws(() => parseSeedArguments("x = 1\n", "x.py"), /no top-level 'def make_seed_prompt/);
  assert.throws(
    () => parseSeedArguments("def make_seed_prompt():\n    return make()\n", "x.py"),
    /does not 'return PromptProgram/,
  );
});

Deno.test("seed_prompt.json layout: Python's json.dumps(indent=2) plus a newline", () => {
  const text = rebuildSeedPromptText("hotpotqa", OWN_SOURCE);
  const expected = [
    "{",
    '  "system": "You check sums carefully.",',
    `  "instruction": ${JSON.stringify(OWN_INSTRUCTION).replace("\u00e9", "\\u00e9")},`,
    '  "enforce_json_only": true,',
    '  "max_justification_sentences": 3,',
    '  "offset": -2,',
    '  "source": {',
    '    "repository": "megagonlabs/RPT",',
    '    "commit": "3158d7b927e83fe326a2d6b0a57f49170457f2c1",',
    '    "file": "rpt/tasks/hotpotqa.py",',
    '    "function": "make_seed_prompt",',
    '    "license": "BSD-3-Clause"',
    "  }",
    "}",
    "",
  ].join("\n");
  assert.equal(text, expected);
  assert.equal(seedPromptJsonText({ a: "\u{1F600}\n" }), '{\n  "a": "\\ud83d\\ude00\\n"\n}\n');
  assert.throws(
    () =>
      rebuildSeedPromptText(
        "formula",
        'def make_seed_prompt():\n  return PromptProgram(system="s")\n',
      ),
    /'instruction' must be given as a string literal/,
  );
});

/** A fetch that serves `files` by URL and records what was asked for. */
function fakeFetch(files: Record<string, string>, asked: string[]): typeof fetch {
  return ((input: string | URL | Request) => {
    const url = String(input);
    asked.push(url);
    const body = files[url];
    return Promise.resolve(
      body === undefined ? new Response("not found", { status: 404 }) : new Response(body),
    );
  }) as typeof fetch;
}

Deno.test("fetchSeedPrompt: the pinned reference file, parsed and written offline", async () => {
  assert.equal(
    DEFAULT_UPSTREAM.referenceFiles,
    "https://raw.githubusercontent.com/megagonlabs/RPT/3158d7b927e83fe326a2d6b0a57f49170457f2c1",
  );
  const dir = await Deno.makeTempDir();
  try {
    const asked: string[] = [];
    const url = `${DEFAULT_UPSTREAM.referenceFiles}/rpt/tasks/xbrl_formula.py`;
    const written = await fetchSeedPrompt("formula", dir, {
      fetch: fakeFetch({ [url]: OWN_SOURCE }, asked),
      retries: 0,
    });
    assert.deepEqual(asked, [url]);
    const text = await Deno.readTextFile(join(dir, "formula/seed_prompt.json"));
    assert.equal(text, rebuildSeedPromptText("formula", OWN_SOURCE));
    assert.deepEqual(JSON.parse(text).source.file, "rpt/tasks/xbrl_formula.py");
    // Our own file is not the paper's seed: the checksum says so.
    assert.deepEqual(written, {
      path: "formula/seed_prompt.json",
      sha256: await sha256Hex(new TextEncoder().encode(text)),
      matches: false,
    });
    await assert.rejects(
      () => fetchSeedPrompt("hotpotqa", dir, { fetch: fakeFetch({}, []), retries: 0 }),
      /GET https:\/\/raw\.githubusercontent\.com\/megagonlabs\/RPT\/3158d7b.*\/rpt\/tasks\/hotpotqa\.py failed: HTTP 404/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Python source that spells a seed the way the reference's files do: per-line literals
// concatenated inside parentheses, with comments between them.
function pythonLiteral(text: string): string {
  return `"${
    text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")
  }"`;
}

function seedAsPython(seed: Record<string, unknown>): string {
  const args = Object.entries(seed).filter(([k]) => k !== "source").map(([key, value]) => {
    if (typeof value !== "string") {
      return `        ${key}=${value === true ? "True" : value === false ? "False" : value},`;
    }
    const pieces = value.split(/(?<=\n)/).map((p) => `            ${pythonLiteral(p)}`);
    return `        ${key}=(\n${pieces.join("\n            # between pieces\n")}\n        ),`;
  });
  return `def make_seed_prompt() -> PromptProgram:\n    return PromptProgram(\n${
    args.join("\n")
  }\n    )\n`;
}

paperDataTest(
  "data:fetch rebuilds every seed_prompt.json byte for byte (checked against the manifest)",
  async (dataDir) => {
    const out = await Deno.makeTempDir();
    try {
      const files: Record<string, string> = {};
      for (const [task, file] of Object.entries(SEED_SOURCE_FILES)) {
        const seed = JSON.parse(await Deno.readTextFile(join(dataDir, task, "seed_prompt.json")));
        files[`http://mirror.invalid/${file}`] = seedAsPython(seed);
        // The splits are already there, so only the seed is fetched.
        for (const split of ["train", "dev", "test"]) {
          await Deno.mkdir(join(out, task), { recursive: true });
          await Deno.copyFile(
            join(dataDir, task, `${split}.jsonl`),
            join(out, task, `${split}.jsonl`),
          );
        }
      }
      const asked: string[] = [];
      const { run } = await import("../lib/cli/data_fetch.ts");
      const log = console.log;
      const lines: string[] = [];
      console.log = (...args: unknown[]) => lines.push(args.join(" "));
      let code: number;
      try {
        code = await run(["--data-dir", out], {
          fetch: fakeFetch(files, asked),
          retries: 0,
          upstream: {
            datasetsServer: "http://datasets.invalid",
            aceFinanceData: "http://ace.invalid",
            referenceFiles: "http://mirror.invalid",
          },
        });
      } finally {
        console.log = log;
      }
      assert.equal(code, 0, lines.join("\n"));
      assert.deepEqual(
        asked,
        Object.values(SEED_SOURCE_FILES).map((f) => `http://mirror.invalid/${f}`),
      );
      for (const task of Object.keys(SEED_SOURCE_FILES) as SeedTask[]) {
        assert.ok(lines.includes(`  ${task}/seed_prompt.json: matches manifest`), lines.join("\n"));
        const bytes = await Deno.readFile(join(out, task, "seed_prompt.json"));
        assert.equal(await sha256Hex(bytes), MANIFEST[`${task}/seed_prompt.json`]?.sha256);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);
