/**
 * The response cache can never change a result (issue 14, item 2): whatever is wrong with
 * the cache file, an evaluation through it scores exactly as one without a cache, and no
 * example counts as a provider error. A file that cannot be used is moved aside with one
 * warning naming both paths; a path that cannot hold a cache is a typed error raised when
 * the cache is opened, before any call.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { evaluatePrompt } from "../lib/diagnose.ts";
import { UsageLedger } from "../lib/llm/accounting.ts";
import { CacheUnusableError, type ResponseCache, SqliteResponseCache } from "../lib/llm/cache.ts";
import { moveAside, openCacheDatabase } from "../lib/llm/cache_file.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { createChatModel } from "../lib/llm/spec.ts";
import { resetProviderLimiters, wrapChatModel } from "../lib/llm/wrap.ts";
import { getTask } from "../lib/tasks/registry.ts";
import type { Example } from "../lib/tasks/schema.ts";
import { tempDir } from "./support/toy_loop.ts";

const task = await getTask("synthetic");
const examples: Example[] = (await task.load("train")).slice(0, 60);

interface Outcome {
  scores: string;
  errors: number;
  sent: number;
  failures: number;
}

/** The simulated target, counting the calls that reach it. */
async function countedTarget(): Promise<ChatModel & { sent: number }> {
  const inner = await createChatModel("sim:target", { env: {}, sim: { seed: 3 } });
  const counted = {
    provider: inner.provider,
    model: inner.model,
    baseURL: (inner as { baseURL?: string }).baseURL,
    sent: 0,
    chat: (...args: Parameters<ChatModel["chat"]>) => {
      counted.sent++;
      return inner.chat(...args);
    },
  };
  return counted;
}

/** One evaluation of the seed prompt, through `cache` when given. */
async function evaluate(cache?: ResponseCache): Promise<Outcome> {
  resetProviderLimiters();
  const target = await countedTarget();
  const ledger = new UsageLedger();
  const wrapped = wrapChatModel(target, { cache, ledger, maxRetries: 0, concurrency: 8 });
  const { traces } = await evaluatePrompt(task.seedPrompt, examples, {
    task,
    target: wrapped,
    concurrency: 8,
  });
  return {
    scores: traces.map((t) => `${t.exampleId}=${t.score}:${t.rawText.length}`).join(" "),
    errors: traces.filter((t) => t.error !== undefined).length,
    sent: target.sent,
    failures: ledger.snapshot().total.failures,
  };
}

const reference = await evaluate();

/** Asserts an evaluation scored like the uncached reference, with no provider error. */
function assertSameAsUncached(outcome: Outcome): void {
  assert.equal(outcome.scores, reference.scores);
  assert.equal(outcome.errors, 0);
  assert.equal(outcome.failures, 0);
}

function openCache(
  path: string,
  extra: Partial<ConstructorParameters<typeof SqliteResponseCache>[0]> = {},
) {
  const warnings: string[] = [];
  const cache = new SqliteResponseCache({ path, onWarning: (m) => warnings.push(m), ...extra });
  return { cache, warnings };
}

/** A real cache file holding the reference evaluation's responses, checkpointed and closed. */
async function filledCache(path: string): Promise<number> {
  const { cache } = openCache(path);
  const outcome = await evaluate(cache);
  assert.equal(outcome.sent, examples.length);
  cache.checkpoint();
  const count = cache.count();
  cache.close();
  return count;
}

async function asideFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.includes(".corrupt-")) names.push(e.name);
  return names.sort();
}

Deno.test("the reference evaluation has no provider error and varied scores", () => {
  assert.equal(reference.errors, 0);
  assert.equal(reference.sent, examples.length);
  assert.ok(new Set(reference.scores.split(" ").map((s) => s.split(/[=:]/)[1])).size > 1);
});

Deno.test("a garbage cache file is moved aside with one warning, and a fresh cache serves", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cache.sqlite`;
  const garbage = "this is not an SQLite database\n".repeat(300);
  await Deno.writeTextFile(path, garbage);
  await Deno.writeTextFile(`${path}-wal`, "stale log");
  const { cache, warnings } = openCache(path);
  try {
    const [aside] = await asideFiles(dir.path);
    assert.ok(aside !== undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /could not be used \(file is not a database\)/);
    assert.ok(warnings[0]!.includes(path) && warnings[0]!.includes(`${dir.path}/${aside}`));
    assert.equal(await Deno.readTextFile(`${dir.path}/${aside}`), garbage);
    assert.equal(await Deno.readTextFile(`${dir.path}/${aside}-wal`), "stale log");
    assert.deepEqual(cache.health().movedAside, [`${dir.path}/${aside}`]);
    assertSameAsUncached(await evaluate(cache));
    const again = await evaluate(cache);
    assertSameAsUncached(again);
    assert.equal(again.sent, 0);
  } finally {
    cache.close();
  }
});

Deno.test("a truncated cache file is moved aside; results equal an uncached run", async () => {
  await using dir = await tempDir();
  for (const keep of [0.5, 40 / 1e9]) {
    const path = `${dir.path}/cache-${keep}.sqlite`;
    await filledCache(path);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, Math.max(40, Math.floor(bytes.length * keep))));
    const { cache, warnings } = openCache(path);
    try {
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0]!, keep === 0.5 ? /truncated: \d+ of \d+ bytes/ : /not a database/);
      const outcome = await evaluate(cache);
      assertSameAsUncached(outcome);
      assert.equal(outcome.sent, examples.length);
    } finally {
      cache.close();
    }
  }
  assert.equal((await asideFiles(dir.path)).filter((n) => !/-(wal|shm)$/.test(n)).length, 2);
});

Deno.test("corrupt pages in the middle: lookups are misses, the file is replaced, results equal", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cache.sqlite`;
  const stored = await filledCache(path);
  assert.equal(stored, examples.length);
  const bytes = await Deno.readFile(path);
  const pageSize = new DataView(bytes.buffer).getUint16(16);
  const pages = bytes.length / pageSize;
  assert.ok(pages >= 12, `only ${pages} pages`);
  // The middle third (past the schema and the tables' root pages), overwritten with a
  // pattern: the file still opens, and lookups of what those pages held fail mid-run.
  for (let p = Math.floor(pages / 3); p < Math.floor((2 * pages) / 3); p++) {
    bytes.fill(0xa5, p * pageSize, (p + 1) * pageSize);
  }
  await Deno.writeFile(path, bytes);
  const { cache, warnings } = openCache(path);
  try {
    const outcome = await evaluate(cache);
    assertSameAsUncached(outcome);
    const health = cache.health();
    assert.ok(health.readErrors >= 1, JSON.stringify(health));
    assert.equal(health.movedAside.length, 1, warnings.join("\n"));
    assert.ok(warnings.some((w) => w.includes(health.movedAside[0]!) && w.includes(path)));
    // The fresh file took the responses: a second evaluation sends nothing.
    const again = await evaluate(cache);
    assertSameAsUncached(again);
    assert.equal(again.sent, 0);
  } finally {
    cache.close();
  }
});

/** Overwrites the middle third of a database file's pages. */
async function corruptMiddle(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  const pageSize = new DataView(bytes.buffer).getUint16(16);
  const pages = bytes.length / pageSize;
  for (let p = Math.floor(pages / 3); p < Math.floor((2 * pages) / 3); p++) {
    bytes.fill(0xa5, p * pageSize, (p + 1) * pageSize);
  }
  await Deno.writeFile(path, bytes);
}

Deno.test("a damaged file another process already replaced is reopened, not moved again", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cache.sqlite`;
  await filledCache(path);
  const { cache: mine, warnings } = openCache(path);
  // Another process finds the file damaged first, moves it aside and starts a fresh one.
  const aside = moveAside(path, "damaged", () => {});
  const { cache: theirs } = openCache(path);
  await corruptMiddle(aside);
  try {
    assertSameAsUncached(await evaluate(mine));
    assert.ok(mine.health().readErrors >= 1);
    assert.deepEqual(mine.health().movedAside, [], warnings.join("\n"));
    assert.equal((await asideFiles(dir.path)).filter((n) => !/-(wal|shm)$/.test(n)).length, 1);
    // Both handles now share the fresh file: what this one stored, the other one serves.
    const served = await evaluate(theirs);
    assertSameAsUncached(served);
    assert.equal(served.sent, 0);
  } finally {
    mine.close();
    theirs.close();
  }
});

Deno.test("a damaged entry (not JSON, wrong shape) is a miss and the call is sent", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cache.sqlite`;
  await filledCache(path);
  const db = new DatabaseSync(path);
  db.exec(`UPDATE responses SET value = 'not json' WHERE rowid % 3 = 0`);
  db.exec(`UPDATE responses SET value = '{"shape":"wrong"}' WHERE rowid % 3 = 1`);
  db.close();
  const { cache, warnings } = openCache(path);
  try {
    const outcome = await evaluate(cache);
    assertSameAsUncached(outcome);
    assert.ok(outcome.sent >= examples.length / 2, `sent ${outcome.sent}`);
    assert.ok(cache.health().readErrors >= outcome.sent);
    assert.equal(warnings.length, 1, "one warning for all failed lookups");
    assert.match(warnings[0]!, /a lookup failed .*; such lookups are misses/);
  } finally {
    cache.close();
  }
});

Deno.test("a full disk mid-run is warned once and the run goes on uncached", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cache.sqlite`;
  const { cache, warnings } = openCache(path, { maxBytes: 40_000, flushDelayMs: 0 });
  try {
    const outcome = await evaluate(cache);
    assertSameAsUncached(outcome);
    cache.flush();
    const health = cache.health();
    assert.equal(health.writesDisabled, true);
    assert.ok(health.writeErrors > 0);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /storing responses failed \(database or disk is full\)/);
    assertSameAsUncached(await evaluate(cache));
  } finally {
    cache.close();
  }
});

Deno.test("a cache locked by another process mid-run is warned once, never a provider error", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cache.sqlite`;
  const { cache, warnings } = openCache(path, { busyTimeoutMs: 20, flushDelayMs: 0 });
  const other = new DatabaseSync(path);
  try {
    other.exec("PRAGMA busy_timeout = 1000");
    other.exec("BEGIN IMMEDIATE");
    const outcome = await evaluate(cache);
    assertSameAsUncached(outcome);
    cache.flush();
    other.exec("COMMIT");
    assert.equal(cache.health().writesDisabled, true);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /storing responses failed \(database is locked\)/);
  } finally {
    cache.close();
    other.close();
  }
});

Deno.test("a cache that throws on every lookup and store changes nothing (wrapper guard)", async () => {
  const broken: ResponseCache = {
    getChat: () => {
      throw new Error("disk I/O error");
    },
    putChat: () => {
      throw new Error("disk I/O error");
    },
    getEmbed: () => undefined,
    putEmbed: () => false,
    stats: () => ({ hits: 0, misses: 0, writes: 0, skipped: 0 }),
  };
  const warned: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warned.push(m);
  try {
    const outcome = await evaluate(broken);
    assertSameAsUncached(outcome);
    assert.equal(outcome.sent, examples.length);
  } finally {
    console.warn = warn;
  }
  assert.equal(warned.length, 2, warned.join("\n"));
  assert.match(warned[0]!, /lookup failed \(disk I\/O error\); treated as a miss/);
  assert.match(warned[1]!, /store failed \(disk I\/O error\); response not cached/);
});

Deno.test("a cache path that is a directory is a typed error naming the path", async () => {
  await using dir = await tempDir();
  const error = (() => {
    try {
      new SqliteResponseCache({ path: dir.path });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof CacheUnusableError, String(error));
  assert.equal(error.path, dir.path);
  assert.equal(
    error.message,
    `response cache ${dir.path}: is a directory, not a file; give a writable file path with ` +
      `--cache FILE (or RPT_CACHE)`,
  );
  assert.deepEqual(await asideFiles(dir.path), []);
});

Deno.test("a cache path under a regular file is a typed error", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/plain`, "a file");
  const path = `${dir.path}/plain/cache.sqlite`;
  assert.throws(
    () => new SqliteResponseCache({ path }),
    (e: unknown) =>
      e instanceof CacheUnusableError &&
      e.message.startsWith(`response cache ${path}: cannot create its directory ${dir.path}/plain`),
  );
  assert.equal(await Deno.readTextFile(`${dir.path}/plain`), "a file");
});

// As root, permission bits do not stop writes, so root is shown a directory no one may write
// in: sysfs, mounted read-only (creating a file there fails even for root).
Deno.test("a read-only cache directory is a typed error", async () => {
  await using dir = await tempDir();
  const asRoot = Deno.uid() === 0;
  const ro = asRoot ? "/sys" : `${dir.path}/ro`;
  if (!asRoot) {
    await Deno.mkdir(ro);
    await Deno.chmod(ro, 0o555);
  }
  try {
    const path = `${ro}/rpt-cache-${crypto.randomUUID()}.sqlite`;
    assert.throws(
      () => new SqliteResponseCache({ path }),
      (e: unknown) =>
        e instanceof CacheUnusableError &&
        e.message.startsWith(`response cache ${path}: cannot be opened for writing`),
    );
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    if (!asRoot) await Deno.chmod(ro, 0o755);
  }
});

Deno.test("a cache file another process is still writing is not taken for a damaged one", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cache.sqlite`;
  const ready = new DatabaseSync(`${dir.path}/whole.sqlite`);
  ready.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)");
  ready.close();
  const whole = await Deno.readFile(`${dir.path}/whole.sqlite`);
  // What a reader without SQLite's locks can see while a file is being written: a short header.
  await Deno.writeFile(path, whole.subarray(0, 50));
  const writer = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `console.log("ready"); await new Promise((r) => setTimeout(r, 20));
       Deno.writeFileSync(${JSON.stringify(path)}, Deno.readFileSync(${
        JSON.stringify(`${dir.path}/whole.sqlite`)
      }));`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = writer.stdout.getReader();
  await reader.read(); // "ready": the whole file lands 20 ms from now, well within the settle time
  const warnings: string[] = [];
  const moved: string[] = [];
  const db = openCacheDatabase(path, {
    busyTimeoutMs: 1000,
    warn: (m) => warnings.push(m),
    onMovedAside: (a) => moved.push(a),
    settleMs: 2000,
  });
  reader.releaseLock();
  await writer.stdout.cancel();
  await writer.status;
  const rows = db.prepare("SELECT count(*) AS n FROM t").get() as { n: number };
  db.close();
  assert.deepEqual({ warnings, moved, rows: rows.n }, { warnings: [], moved: [], rows: 3 });
});
