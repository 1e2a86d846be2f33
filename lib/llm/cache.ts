/**
 * The on-disk response cache: chat and embedding responses keyed by a hash of everything
 * that affects them, stored in SQLite (`node:sqlite`) so that several processes (parallel
 * runs, a notebook next to a CLI run) can share one file safely.
 *
 * Only successful, non-empty responses are stored; errors never reach the cache because
 * the wrapper (`wrap.ts`) only calls `put*` with a response in hand, and `put*` itself
 * refuses empty ones. Keys are hashes and values are model outputs: no API key is part of
 * either (base URLs are stripped of credentials and query strings before hashing).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { ChatResponse, EmbedResponse } from "./schema.ts";
import { stableStringify } from "../util/json.ts";
import { redactURL } from "../util/redact.ts";

/** What kind of call a cache entry answers. */
export type CacheKind = "chat" | "embed";

/** Everything that identifies a response: the parts hashed into a cache key. */
export interface CacheKeyParts {
  /** Chat or embedding call. */
  kind: CacheKind;
  /** Provider id (`openai`, `gemini`, `openai-compatible`, `sim`, ...). */
  provider: string;
  /** Model name. */
  model: string;
  /** Server base URL, when the provider has one; credentials and query are removed. */
  baseURL?: string;
  /** The provider-neutral request: a `ChatRequest` (incl. sample index) or `{ texts }`. */
  request: unknown;
}

/** Hit and miss counts of one cache handle (this process only). */
export interface CacheStats {
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups not found. */
  misses: number;
  /** Responses stored. */
  writes: number;
  /** Responses refused because they were empty. */
  skipped: number;
}

/** A response cache as the wrapper uses it. */
export interface ResponseCache {
  /** Looks up a chat response; a hit comes back with `cached: true`. */
  getChat(key: string): ChatResponse | undefined;
  /** Stores a chat response; returns false (and stores nothing) when it is empty. */
  putChat(key: string, parts: CacheKeyParts, response: ChatResponse): boolean;
  /** Looks up an embedding response. */
  getEmbed(key: string): EmbedResponse | undefined;
  /** Stores an embedding response; returns false when it is empty. */
  putEmbed(key: string, parts: CacheKeyParts, response: EmbedResponse): boolean;
  /** Hit/miss counts of this handle. */
  stats(): CacheStats;
}

/**
 * The cache key of a call: sha256 (hex) of the stable JSON of its parts, so key order in
 * the request does not matter and any change that can change the answer does.
 *
 * @example
 * ```ts
 * import { cacheKey } from "./cache.ts";
 * const request = { messages: [{ role: "user", content: "hi" }], sampleIndex: 0 };
 * const a = cacheKey({ kind: "chat", provider: "openai", model: "gpt-4.1", request });
 * const b = cacheKey({ kind: "chat", provider: "openai", model: "gpt-4.1",
 *   request: { ...request, sampleIndex: 1 } });
 * if (a === b || a.length !== 64) throw new Error("keys must differ");
 * ```
 */
export function cacheKey(parts: CacheKeyParts): string {
  const baseURL = parts.baseURL === undefined ? undefined : redactURL(parts.baseURL);
  return createHash("sha256")
    .update(stableStringify({ ...parts, baseURL }))
    .digest("hex");
}

/** True when a chat response carries something: text, a parsed object or a tool call. */
export function isCacheableChat(response: ChatResponse): boolean {
  return response.text.trim() !== "" || response.toolCalls.length > 0 ||
    response.parsed !== undefined;
}

/** True when an embedding response has at least one vector and no empty vector. */
export function isCacheableEmbed(response: EmbedResponse): boolean {
  return response.vectors.length > 0 && response.vectors.every((v) => v.length > 0);
}

/** Options of {@linkcode SqliteResponseCache}. */
export interface SqliteCacheOptions {
  /** Database file; `:memory:` for a private in-memory cache. Default: see {@linkcode defaultCachePath}. */
  path?: string;
  /** How long a writer waits for another process's lock, in ms (default 10 000). */
  busyTimeoutMs?: number;
  /** Environment to read `RPT_CACHE` from (default: `Deno.env`, when permitted). */
  env?: Record<string, string | undefined>;
}

/**
 * The default cache file: `RPT_CACHE` when set, else `.rpt/cache.sqlite` under the
 * current directory.
 *
 * @example
 * ```ts
 * import { defaultCachePath } from "./cache.ts";
 * if (defaultCachePath({ RPT_CACHE: "/tmp/c.sqlite" }) !== "/tmp/c.sqlite") throw new Error("env ignored");
 * ```
 */
export function defaultCachePath(env?: Record<string, string | undefined>): string {
  const fromEnv = env ? env.RPT_CACHE : readEnv("RPT_CACHE");
  return fromEnv && fromEnv.trim() !== "" ? fromEnv : resolve(".rpt", "cache.sqlite");
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    // Without --allow-env the default path is the only sensible answer.
    return undefined;
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS responses (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * A {@linkcode ResponseCache} in one SQLite file. WAL mode lets readers in other processes
 * proceed while one writes; `busy_timeout` makes concurrent writers wait instead of
 * failing; each write is a single atomic upsert, so two processes storing the same key
 * race harmlessly (both values answer the same request).
 *
 * @example
 * ```ts
 * import { cacheKey, SqliteResponseCache } from "./cache.ts";
 * const cache = new SqliteResponseCache({ path: ":memory:" });
 * const parts = { kind: "chat" as const, provider: "echo", model: "e1",
 *   request: { messages: [{ role: "user", content: "hi" }] } };
 * const key = cacheKey(parts);
 * cache.putChat(key, parts, { text: "hello", toolCalls: [], finishReason: "stop",
 *   provider: "echo", model: "e1", usage: { inputTokens: 1, cachedTokens: 0, outputTokens: 1 } });
 * const hit = cache.getChat(key);
 * cache.close();
 * if (hit?.text !== "hello" || hit.cached !== true) throw new Error("not served");
 * ```
 */
export class SqliteResponseCache implements ResponseCache {
  /** The database file (or `:memory:`). */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #stats: CacheStats = { hits: 0, misses: 0, writes: 0, skipped: 0 };

  /** Opens (creating when needed) the cache file. */
  constructor(options: SqliteCacheOptions = {}) {
    this.path = options.path ?? defaultCachePath(options.env);
    if (this.path !== ":memory:") mkdirSync(dirname(resolve(this.path)), { recursive: true });
    this.#db = new DatabaseSync(this.path);
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    this.#db.exec(
      `PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`,
    );
    if (this.path !== ":memory:") this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec(SCHEMA);
    this.#get = this.#db.prepare("SELECT value FROM responses WHERE key = ? AND kind = ?");
    this.#put = this.#db.prepare(
      `INSERT INTO responses (key, kind, provider, model, value, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at`,
    );
  }

  /** Looks up a chat response; a hit comes back with `cached: true`. */
  getChat(key: string): ChatResponse | undefined {
    const value = this.#lookup(key, "chat") as ChatResponse | undefined;
    return value === undefined ? undefined : { ...value, cached: true };
  }

  /** Stores a chat response unless it is empty; the `cached` flag is not stored. */
  putChat(key: string, parts: CacheKeyParts, response: ChatResponse): boolean {
    if (!isCacheableChat(response)) {
      this.#stats.skipped++;
      return false;
    }
    const { cached: _cached, ...value } = response;
    this.#store(key, parts, value);
    return true;
  }

  /** Looks up an embedding response. */
  getEmbed(key: string): EmbedResponse | undefined {
    return this.#lookup(key, "embed") as EmbedResponse | undefined;
  }

  /** Stores an embedding response unless it is empty. */
  putEmbed(key: string, parts: CacheKeyParts, response: EmbedResponse): boolean {
    if (!isCacheableEmbed(response)) {
      this.#stats.skipped++;
      return false;
    }
    this.#store(key, parts, response);
    return true;
  }

  /** Hit/miss/write counts of this handle (other processes keep their own). */
  stats(): CacheStats {
    return { ...this.#stats };
  }

  /** Number of stored responses (all processes). */
  count(): number {
    const row = this.#db.prepare("SELECT COUNT(*) AS n FROM responses").get() as { n: number };
    return Number(row.n);
  }

  /** Bytes on disk: the database plus its WAL and shared-memory files (0 in memory). */
  sizeBytes(): number {
    if (this.path === ":memory:") return 0;
    let total = 0;
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        total += statSync(this.path + suffix).size;
      } catch {
        // The WAL and shm files come and go with checkpoints.
      }
    }
    return total;
  }

  /**
   * Moves the write-ahead log into the database file and truncates it. SQLite does this
   * by itself every 1000 pages and on the last close; call it to measure or ship the file.
   */
  checkpoint(): void {
    if (this.path !== ":memory:") this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /** Closes the database; the handle cannot be used afterwards. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #lookup(key: string, kind: CacheKind): unknown {
    const row = this.#get.get(key, kind) as { value: string } | undefined;
    if (row === undefined) {
      this.#stats.misses++;
      return undefined;
    }
    this.#stats.hits++;
    return JSON.parse(row.value);
  }

  #store(key: string, parts: CacheKeyParts, value: unknown): void {
    this.#put.run(
      key,
      parts.kind,
      parts.provider,
      parts.model,
      JSON.stringify(value),
      new Date().toISOString(),
    );
    this.#stats.writes++;
  }
}
