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
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ChatResponse, EmbedResponse } from "./schema.ts";
import { type StableSink, writeStableTo } from "../util/json.ts";
import { redactURL } from "../util/redact.ts";
import {
  isCorruptionError,
  moveAside,
  openCacheDatabase,
  type OpenCacheOptions,
} from "./cache_file.ts";

export { CacheUnusableError } from "./cache_file.ts";

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
  const baseURL = parts.baseURL === undefined ? undefined : redactedOnce(parts.baseURL);
  const sink = new HashSink();
  writeStableTo({ ...parts, baseURL }, sink);
  return sink.digest();
}

/**
 * Hashes the stable text as it is written, so the whole text (a rope of hundreds of
 * pieces, flattened by the hash) is never built: short pieces are gathered, long ones
 * (rendered contexts) go to the hash as they are. Every piece is whole JSON tokens, so
 * the UTF-8 of the pieces in turn is the UTF-8 of the text.
 */
class HashSink implements StableSink {
  readonly #hash = createHash("sha256");
  #short = "";

  write(piece: string): void {
    if (piece.length < 512) {
      this.#short += piece;
      return;
    }
    if (this.#short !== "") {
      this.#hash.update(this.#short);
      this.#short = "";
    }
    this.#hash.update(piece);
  }

  digest(): string {
    if (this.#short !== "") this.#hash.update(this.#short);
    return this.#hash.digest("hex");
  }
}

/** Base URLs seen by {@linkcode cacheKey}, redacted: every call of a model has the same one. */
const redacted = new Map<string, string>();

function redactedOnce(url: string): string {
  let clean = redacted.get(url);
  if (clean === undefined) {
    if (redacted.size >= 64) redacted.clear();
    redacted.set(url, clean = redactURL(url));
  }
  return clean;
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
  /**
   * Largest size of the file in bytes (default: no limit). Past it, storing fails as on a
   * full disk: warned once, and the run goes on without storing.
   */
  maxBytes?: number;
  /**
   * Longest time a response waits in memory before it is written, in ms. The default, 0,
   * writes at the end of the current task (a microtask): every response stored in one turn
   * of the event loop goes in one transaction, and all of them are on disk before the
   * process does anything else, so a run killed with SIGKILL never pays twice for a call
   * that had completed. A positive delay batches more, but a kill loses what waits.
   */
  flushDelayMs?: number;
  /** Receives the cache's one-line warnings (default: `console.warn` with an `rpt:` prefix). */
  onWarning?: (message: string) => void;
}

/** What went wrong with a cache handle: read and write failures, files moved aside. */
export interface CacheHealth {
  /** Lookups that failed and were answered as misses. */
  readErrors: number;
  /** Responses that could not be stored. */
  writeErrors: number;
  /** True once writing failed: the rest of the run goes on without storing. */
  writesDisabled: boolean;
  /** Damaged files this handle moved aside (their new paths). */
  movedAside: string[];
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

/** A stored value that can be trusted: anything else read from the file is a miss. */
function isChatValue(value: unknown): value is ChatResponse {
  const v = value as Partial<ChatResponse> | null;
  return typeof v === "object" && v !== null && typeof v.text === "string" &&
    Array.isArray(v.toolCalls) && typeof v.usage === "object" && v.usage !== null &&
    typeof v.usage.inputTokens === "number" && typeof v.usage.outputTokens === "number";
}

function isEmbedValue(value: unknown): value is EmbedResponse {
  const v = value as Partial<EmbedResponse> | null;
  return typeof v === "object" && v !== null && Array.isArray(v.vectors) &&
    v.vectors.every((vector) => Array.isArray(vector)) && typeof v.usage === "object" &&
    v.usage !== null && typeof v.usage.inputTokens === "number";
}

/** `dev:ino` of a file, or undefined when it is not there. */
function fileIdentity(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** A response waiting to be written. */
interface PendingRow {
  kind: CacheKind;
  provider: string;
  model: string;
  value: string;
  createdAt: string;
}

/** Pending rows that trigger a flush at once rather than after the delay. */
const FLUSH_ROWS = 256;

/**
 * A {@linkcode ResponseCache} in one SQLite file. WAL mode lets readers in other processes
 * proceed while one writes; `busy_timeout` makes concurrent writers wait instead of
 * failing; rows are upserts, so two processes storing the same key race harmlessly (both
 * values answer the same request).
 *
 * Stores are queued and written in one transaction per flush: at the end of the current
 * task by default (see {@linkcode SqliteCacheOptions.flushDelayMs}), at once past 256 rows,
 * and on {@linkcode close}, {@linkcode flush} and process exit. One commit per response
 * (and rows stored in a `WITHOUT ROWID` table) cost ~110 us per response; batched, ~30.
 * Lookups see queued rows, so the process reads its own writes at once; other processes see
 * them after the flush.
 *
 * The cache never changes a result: a lookup that fails (or reads a value of the wrong
 * shape) is a miss; a write that fails is warned once and the run goes on without storing;
 * a file found damaged, when opened or in the middle of a run, is moved aside and a fresh
 * one started (see `cache_file.ts`). {@linkcode health} counts all of it.
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
  readonly #options: OpenCacheOptions;
  readonly #flushDelayMs: number;
  #db: DatabaseSync | undefined;
  #get: StatementSync | undefined;
  #put: StatementSync | undefined;
  #begin: StatementSync | undefined;
  #commit: StatementSync | undefined;
  readonly #pending = new Map<string, PendingRow>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Device and inode of the file this handle opened, to tell it from a replacement. */
  #identity: string | undefined;
  #recovered = false;
  readonly #stats: CacheStats = { hits: 0, misses: 0, writes: 0, skipped: 0 };
  readonly #health: CacheHealth = {
    readErrors: 0,
    writeErrors: 0,
    writesDisabled: false,
    movedAside: [],
  };
  readonly #warned = new Set<string>();
  readonly #onUnload = () => this.flush();

  /**
   * Opens (creating when needed) the cache file. A damaged file is moved aside with a
   * warning; a path that cannot hold a cache throws {@linkcode CacheUnusableError}.
   */
  constructor(options: SqliteCacheOptions = {}) {
    this.path = options.path ?? defaultCachePath(options.env);
    const onWarning = options.onWarning ?? ((m: string) => console.warn(`rpt: ${m}`));
    this.#options = {
      busyTimeoutMs: options.busyTimeoutMs ?? 10_000,
      maxBytes: options.maxBytes,
      warn: onWarning,
      onMovedAside: (aside) => this.#health.movedAside.push(aside),
    };
    this.#flushDelayMs = Math.max(0, options.flushDelayMs ?? 0);
    this.#attach(openCacheDatabase(this.path, this.#options));
    // What waits at exit is written then (an in-memory cache has nothing to keep).
    if (this.path !== ":memory:") globalThis.addEventListener?.("unload", this.#onUnload);
  }

  /** Looks up a chat response; a hit comes back with `cached: true`. */
  getChat(key: string): ChatResponse | undefined {
    const value = this.#lookup(key, "chat", isChatValue);
    return value === undefined ? undefined : { ...value, cached: true };
  }

  /** Queues a chat response for storing unless it is empty; the `cached` flag is not stored. */
  putChat(key: string, parts: CacheKeyParts, response: ChatResponse): boolean {
    if (!isCacheableChat(response)) {
      this.#stats.skipped++;
      return false;
    }
    const { cached: _cached, ...value } = response;
    return this.#enqueue(key, parts, value);
  }

  /** Looks up an embedding response. */
  getEmbed(key: string): EmbedResponse | undefined {
    return this.#lookup(key, "embed", isEmbedValue);
  }

  /** Queues an embedding response for storing unless it is empty. */
  putEmbed(key: string, parts: CacheKeyParts, response: EmbedResponse): boolean {
    if (!isCacheableEmbed(response)) {
      this.#stats.skipped++;
      return false;
    }
    return this.#enqueue(key, parts, response);
  }

  /** Hit/miss/write counts of this handle (other processes keep their own); flushes first. */
  stats(): CacheStats {
    this.flush();
    return { ...this.#stats };
  }

  /** Read and write failures of this handle and the damaged files it moved aside. */
  health(): CacheHealth {
    return { ...this.#health, movedAside: [...this.#health.movedAside] };
  }

  /** Number of stored responses (all processes); flushes first. */
  count(): number {
    this.flush();
    const row = this.#open().prepare("SELECT COUNT(*) AS n FROM responses").get() as {
      n: number;
    };
    return Number(row.n);
  }

  /** Bytes on disk: the database plus its WAL and shared-memory files (0 in memory). */
  sizeBytes(): number {
    this.flush();
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
    this.flush();
    if (this.path !== ":memory:") this.#open().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /** Writes every queued response now, in one transaction. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.size === 0 || this.#db === undefined) return;
    const rows = [...this.#pending];
    this.#pending.clear();
    let failure = this.#tryWrite(rows);
    // A file found damaged is replaced by a fresh one, which gets the same rows.
    if (failure !== undefined && isCorruptionError(failure) && this.#recover(failure)) {
      failure = this.#tryWrite(rows);
    }
    if (failure !== undefined) this.#writeFailed(failure, rows.length);
  }

  /** Writes what is queued and closes the database; the handle cannot be used afterwards. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    globalThis.removeEventListener?.("unload", this.#onUnload);
    this.#detach();
  }

  #attach(db: DatabaseSync): void {
    this.#db = db;
    this.#identity = this.path === ":memory:" ? undefined : fileIdentity(this.path);
    this.#get = db.prepare("SELECT key, value FROM responses WHERE key = ? AND kind = ?");
    this.#put = db.prepare(
      `INSERT INTO responses (key, kind, provider, model, value, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at`,
    );
    // Prepared once: a run commits once per turn of the event loop with a response in it.
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
  }

  #detach(): void {
    const db = this.#db;
    this.#db =
      this.#get =
      this.#put =
      this.#begin =
      this.#commit =
        undefined;
    try {
      if (db?.isOpen) db.close();
    } catch {
      // A damaged database may fail to close cleanly; it is not used again.
    }
  }

  #open(): DatabaseSync {
    if (this.#db === undefined) throw new Error(`response cache ${this.path} is closed`);
    return this.#db;
  }

  #lookup<T>(key: string, kind: CacheKind, valid: (value: unknown) => value is T): T | undefined {
    const queued = this.#pending.get(key);
    let text = queued?.kind === kind ? queued.value : undefined;
    let value: unknown;
    try {
      if (text === undefined && this.#get !== undefined) {
        const row = this.#get.get(key, kind) as { key: string; value: string } | undefined;
        // A damaged index could point at another request's row: never answer with it.
        if (row !== undefined && row.key !== key) throw new Error("stored key does not match");
        text = row?.value;
      }
      if (text !== undefined) {
        value = JSON.parse(text);
        if (!valid(value)) throw new Error("stored value has the wrong shape");
      }
    } catch (error) {
      this.#health.readErrors++;
      this.#warnOnce(
        "read",
        `response cache ${this.path}: a lookup failed ` +
          `(${(error as Error).message}); such lookups are misses and the calls are sent`,
      );
      if (isCorruptionError(error)) this.#recover(error);
      this.#stats.misses++;
      return undefined;
    }
    if (text === undefined) {
      this.#stats.misses++;
      return undefined;
    }
    this.#stats.hits++;
    return value as T;
  }

  #enqueue(key: string, parts: CacheKeyParts, value: unknown): boolean {
    if (this.#health.writesDisabled || this.#closed) return false;
    this.#pending.set(key, {
      kind: parts.kind,
      provider: parts.provider,
      model: parts.model,
      value: JSON.stringify(value),
      createdAt: new Date().toISOString(),
    });
    if (this.#pending.size >= FLUSH_ROWS) this.flush();
    else if (this.#flushDelayMs === 0) {
      if (this.#pending.size === 1) queueMicrotask(() => this.flush());
    } else if (this.#timer === undefined) {
      const timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#flushDelayMs);
      // A queued write must not keep the process alive; exit flushes (unload).
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    return true;
  }

  /** Writes rows in one transaction; returns the error instead of throwing it. */
  #tryWrite(rows: [string, PendingRow][]): unknown {
    try {
      this.#writeRows(rows);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  #writeRows(rows: [string, PendingRow][]): void {
    const db = this.#open();
    const put = this.#put as StatementSync;
    (this.#begin as StatementSync).run();
    try {
      for (const [key, row] of rows) {
        put.run(key, row.kind, row.provider, row.model, row.value, row.createdAt);
      }
      (this.#commit as StatementSync).run();
    } catch (error) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // SQLite may already have rolled back (e.g. on a full disk).
      }
      throw error;
    }
    this.#stats.writes += rows.length;
  }

  #writeFailed(error: unknown, rows: number): void {
    this.#health.writeErrors += rows;
    this.#health.writesDisabled = true;
    this.#pending.clear();
    this.#warnOnce(
      "write",
      `response cache ${this.path}: storing responses failed ` +
        `(${(error as Error).message}); the run goes on without storing them`,
    );
  }

  /**
   * Moves a file found damaged aside and starts a fresh one; false when that fails too.
   * Once per handle: a fresh file that is damaged again means something below SQLite is
   * failing, and the run goes on without a cache. When another process has already
   * replaced the file (not the one this handle opened), it is reopened, not moved.
   */
  #recover(error: unknown): boolean {
    if (this.path === ":memory:" || this.#closed) return false;
    const opened = this.#identity;
    this.#detach();
    try {
      if (this.#recovered) throw new Error("it was damaged again after being replaced");
      this.#recovered = true;
      if (opened === fileIdentity(this.path)) {
        const aside = moveAside(this.path, (error as Error).message, this.#options.warn);
        this.#health.movedAside.push(aside);
      }
      this.#attach(openCacheDatabase(this.path, this.#options));
      return true;
    } catch (failure) {
      this.#health.writesDisabled = true;
      this.#pending.clear();
      this.#warnOnce(
        "recover",
        `response cache ${this.path} is damaged and could not be ` +
          `replaced (${(failure as Error).message}); the run goes on without a cache`,
      );
      return false;
    }
  }

  #warnOnce(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#options.warn(message);
  }
}
