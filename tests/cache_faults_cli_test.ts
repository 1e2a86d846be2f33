/**
 * The cache faults of issue 14 seen from the command line: a garbage cache file costs one
 * warning line and changes no result; a cache path that is a directory is one line and
 * exit code 2 before any call.
 */
import assert from "node:assert/strict";
import { rpt } from "./support/cli.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { ScriptedChatModel } from "../lib/llm/scripted.ts";
import { tempDir } from "./support/toy_loop.ts";

function optimizeArgs(runDir: string, cache: string): string[] {
  return [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    "sim:target",
    "--optimizer",
    "sim:optimizer",
    "--iterations",
    "2",
    "--limit-train",
    "16",
    "--limit-dev",
    "16",
    "--limit-test",
    "16",
    "--run-dir",
    runDir,
    "--cache",
    cache,
    "--quiet",
  ];
}

Deno.test("rpt optimize with a garbage cache file: one warning line, file moved aside, same summary", async () => {
  await using dir = await tempDir();
  const clean = await rpt(optimizeArgs(`${dir.path}/clean`, `${dir.path}/clean.sqlite`));
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(clean.stderr, "");

  const cache = `${dir.path}/cache.sqlite`;
  await Deno.writeTextFile(cache, "garbage, not a database ".repeat(100));
  const r = await rpt(optimizeArgs(`${dir.path}/run`, cache));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  const line = lines[0] ?? "";
  const aside = /moved it to (\S+) and started a fresh cache$/.exec(line)?.[1];
  assert.ok(aside !== undefined, line);
  assert.ok(line.startsWith(`rpt: response cache ${cache} could not be used (`), line);
  assert.ok(aside.startsWith(`${cache}.corrupt-`));
  assert.equal(await Deno.readTextFile(aside), "garbage, not a database ".repeat(100));
  assert.ok((await Deno.stat(cache)).size > 0, "a fresh cache was started");
  assert.equal(
    await Deno.readTextFile(`${dir.path}/run/summary.json`),
    await Deno.readTextFile(`${dir.path}/clean/summary.json`),
  );
  assert.equal(r.stdout, clean.stdout.replaceAll(`${dir.path}/clean`, `${dir.path}/run`));
});

/** Overwrites the middle third of a database file's pages with a pattern. */
async function corruptMiddle(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  const pageSize = new DataView(bytes.buffer).getUint16(16);
  const pages = bytes.length / pageSize;
  assert.ok(pages >= 6, `only ${pages} pages`);
  for (let p = Math.floor(pages / 3); p < Math.floor((2 * pages) / 3); p++) {
    bytes.fill(0xa5, p * pageSize, (p + 1) * pageSize);
  }
  await Deno.writeFile(path, bytes);
}

Deno.test("rpt optimize through a cache with corrupt pages in the middle or a truncated one: same summary, no provider error", async () => {
  await using dir = await tempDir();
  // The row of issue 14: dev 0.30 instead of 0.63, and exit 0, when damaged pages read as
  // provider errors. A filled cache, damaged, then the same run again through it.
  const cache = `${dir.path}/cache.sqlite`;
  const clean = await rpt(optimizeArgs(`${dir.path}/clean`, cache));
  assert.equal(clean.code, 0, clean.stderr);
  const expected = await Deno.readTextFile(`${dir.path}/clean/summary.json`);
  for (
    const [name, damage] of [
      ["corrupt", () => corruptMiddle(cache)],
      ["truncated", async () => {
        const bytes = await Deno.readFile(cache);
        await Deno.writeFile(cache, bytes.slice(0, Math.floor(bytes.length / 2)));
      }],
    ] as const
  ) {
    await damage();
    const r = await rpt(optimizeArgs(`${dir.path}/${name}`, cache));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(`${dir.path}/${name}/summary.json`), expected, name);
    // Warned once for a failed lookup (a miss) and once for the file moved aside, each
    // line naming the file; never a provider error.
    const lines = r.stderr.trimEnd().split("\n").filter((l) => l !== "");
    assert.ok(lines.length <= 2, r.stderr);
    for (const line of lines) assert.ok(line.startsWith(`rpt: response cache ${cache}`), line);
    const lookups = lines.filter((l) => /a lookup failed .*; such lookups are misses/.test(l));
    const moved = lines.filter((l) =>
      /moved it to \S+\.corrupt-\S+ and started a fresh cache$/.test(l)
    );
    assert.equal(moved.length, 1, r.stderr);
    assert.equal(lookups.length + moved.length, lines.length, r.stderr);
    assert.doesNotMatch(r.stdout, /failed calls?|provider error/i, name);
    const summary = JSON.parse(await Deno.readTextFile(`${dir.path}/${name}/summary.json`));
    assert.deepEqual(summary.failedCalls, {}, name);
  }
});

Deno.test("rpt optimize with a directory as the cache: one line, exit 2, no call, no run dir", async () => {
  await using dir = await tempDir();
  const server = serveModels({ models: { m: new ScriptedChatModel(() => "unused") } });
  try {
    const target = `openai-compatible:m@${server.url}/v1`;
    const r = await rpt([
      "optimize",
      "--task",
      "synthetic",
      "--target",
      target,
      "--optimizer",
      target,
      "--run-dir",
      `${dir.path}/run`,
      "--cache",
      dir.path,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `rpt optimize: response cache ${dir.path}: is a directory, not a file; give a writable ` +
        `file path with --cache FILE (or RPT_CACHE)\n`,
    );
    assert.equal(server.requests.length, 0);
    await assert.rejects(Deno.stat(`${dir.path}/run`));
  } finally {
    await server.close();
  }
});
