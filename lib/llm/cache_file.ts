/**
 * Opening the response cache's SQLite file so that the cache can never change a result nor
 * stop a run it should not stop:
 *
 * - a file that is not a usable database (garbage, truncated, wrong format, damaged pages)
 *   is moved aside as `<path>.corrupt-<time>` (with its `-wal` / `-shm` companions), one
 *   warning names both paths, and a fresh cache is started in its place;
 * - a path that cannot hold a cache (a directory, a file where a directory is expected, a
 *   read-only location) is a {@linkcode CacheUnusableError}, raised when the cache is
 *   opened, which is before any paid call.
 *
 * @module
 */
import { closeSync, mkdirSync, openSync, readSync, renameSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ConfigError } from "../util/errors.ts";

/**
 * A cache path that cannot hold a cache: a directory, a location that cannot be created or
 * written. The CLI prints the message as one line (exit code 2).
 */
export class CacheUnusableError extends ConfigError {
  /** The cache path as given. */
  readonly path: string;

  /** Names the path, what is wrong and what to do. */
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(
      `response cache ${path}: ${problem}; give a writable file path with --cache FILE ` +
        `(or RPT_CACHE)`,
      options,
    );
    this.name = "CacheUnusableError";
    this.path = path;
  }
}

/**
 * Whether an SQLite error says the file itself is damaged or is not a database
 * (SQLITE_CORRUPT, SQLITE_NOTADB), as opposed to a lock, a full disk or a permission.
 *
 * @example
 * ```ts
 * import { isCorruptionError } from "./cache_file.ts";
 * if (!isCorruptionError(new Error("database disk image is malformed"))) throw new Error();
 * if (isCorruptionError(new Error("database is locked"))) throw new Error();
 * ```
 */
export function isCorruptionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /file is not a database|disk image is malformed|malformed database schema|database corrupt/i
    .test(message);
}

/** Options of {@linkcode openCacheDatabase}. */
export interface OpenCacheOptions {
  /** How long a writer waits for another process's lock, in ms. */
  busyTimeoutMs: number;
  /** Largest size the file may grow to; writes beyond fail as on a full disk. */
  maxBytes?: number;
  /** Where the one-line warning about a file moved aside goes. */
  warn: (message: string) => void;
  /** Told the new path of each damaged file moved aside. */
  onMovedAside?: (aside: string) => void;
  /** How long a damaged-looking header must stay unchanged to count (default 150 ms). */
  settleMs?: number;
}

/**
 * A rowid table with the key as a unique index: responses are 1-10 KB, and in a
 * `WITHOUT ROWID` table (as files made before kept; the same statements work on both) every
 * insert at a random hash key moves whole rows between pages: about 110 us per row against
 * 30 us in batched transactions here.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS responses (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rpt_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * Opens (creating when needed) the cache database at `path`, ready for use: WAL mode, the
 * schema, and one real write to prove the file can be written. A damaged file is moved
 * aside and replaced by a fresh one; an unusable path throws {@linkcode CacheUnusableError}.
 */
export function openCacheDatabase(path: string, options: OpenCacheOptions): DatabaseSync {
  if (path === ":memory:") return configure(new DatabaseSync(path), path, options);
  checkLocation(path);
  const damage = settledHeaderDamage(path, options.settleMs ?? SETTLE_MS);
  if (damage !== undefined) options.onMovedAside?.(moveAside(path, damage, options.warn));
  try {
    return configure(new DatabaseSync(path), path, options);
  } catch (error) {
    if (!isCorruptionError(error)) throw unusable(path, error);
    options.onMovedAside?.(moveAside(path, (error as Error).message, options.warn));
  }
  try {
    return configure(new DatabaseSync(path), path, options);
  } catch (error) {
    throw unusable(path, error);
  }
}

function configure(db: DatabaseSync, path: string, options: OpenCacheOptions): DatabaseSync {
  try {
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec(SCHEMA);
    // A read-only file or directory only shows on a write: make one now, before any call.
    db.prepare("INSERT OR REPLACE INTO rpt_meta (key, value) VALUES ('opened_at', ?)")
      .run(new Date().toISOString());
    if (options.maxBytes !== undefined) {
      const pageSize = Number(
        (db.prepare("PRAGMA page_size").get() as { page_size: number })
          .page_size,
      );
      const pages = Math.max(1, Math.floor(options.maxBytes / pageSize));
      db.exec(`PRAGMA max_page_count = ${pages}`);
    }
    return db;
  } catch (error) {
    try {
      db.close();
    } catch {
      // Closing a handle that failed to open can fail too; the first error is the one to say.
    }
    throw error;
  }
}

/** Rejects a path that is a directory or whose directory cannot be made. */
function checkLocation(path: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // Not there yet (created below) or not reachable (reported when creating it).
  }
  if (isDirectory) throw new CacheUnusableError(path, "is a directory, not a file");
  const dir = dirname(resolve(path));
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new CacheUnusableError(
      path,
      `cannot create its directory ${dir} (${(error as Error).message})`,
      { cause: error },
    );
  }
}

function unusable(path: string, error: unknown): CacheUnusableError {
  const message = error instanceof Error ? error.message : String(error);
  return new CacheUnusableError(path, `cannot be opened for writing (${message})`, {
    cause: error,
  });
}

const MAGIC = "SQLite format 3\0";

/** How long a damaged-looking header must stay unchanged before the file is moved aside. */
const SETTLE_MS = 150;

/**
 * {@linkcode headerDamage}, but only for a file nobody is writing: the header is read without
 * SQLite's locks, so a file another process is creating or checkpointing at that moment can
 * look damaged. Damage counts only when it is still there, with the same size and
 * modification time, after `settleMs`; moving a live file aside would send the
 * other writers' entries into the moved copy.
 */
function settledHeaderDamage(path: string, settleMs: number): string | undefined {
  const first = headerDamage(path);
  if (first === undefined) return undefined;
  const before = fileStamp(path);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, settleMs);
  const again = headerDamage(path);
  return again !== undefined && fileStamp(path) === before ? again : undefined;
}

function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return "gone";
  }
}

/**
 * What is visibly wrong with an existing file's header, read without SQLite: not an SQLite
 * file, or shorter than the size its header records (a truncated copy). SQLite itself would
 * notice a truncation only when it reads a missing page, in the middle of a run.
 */
function headerDamage(path: string): string | undefined {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size === 0) return undefined; // SQLite treats an empty file as a new database.
  const header = new Uint8Array(100);
  const fd = openSync(path, "r");
  let read: number;
  try {
    read = readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  const magic = new TextDecoder("latin1").decode(header.subarray(0, 16));
  if (read < 100 || magic !== MAGIC) return "file is not a database";
  const view = new DataView(header.buffer);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = view.getUint32(28);
  // The page count is valid only when the change counter matches "version-valid-for".
  const valid = view.getUint32(24) === view.getUint32(92);
  // A write-ahead log may still hold pages a checkpoint has not copied: SQLite replays it.
  if (!valid || pages === 0 || walHasContent(path)) return undefined;
  const expected = pages * pageSize;
  return size < expected ? `truncated: ${size} of ${expected} bytes` : undefined;
}

function walHasContent(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 0;
  } catch {
    return false;
  }
}

/**
 * Renames a damaged cache file and its companions to `<path>.corrupt-<time>[-wal|-shm]`,
 * warns once naming both paths, and returns the new path. A file that cannot be moved is a
 * {@linkcode CacheUnusableError}.
 */
export function moveAside(path: string, reason: string, warn: (message: string) => void): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const aside = `${path}.corrupt-${stamp}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    throw new CacheUnusableError(
      path,
      `is damaged (${reason}) and cannot be moved aside (${(error as Error).message})`,
      { cause: error },
    );
  }
  for (const suffix of ["-wal", "-shm", "-journal"]) {
    try {
      renameSync(path + suffix, aside + suffix);
    } catch {
      // Companions exist only sometimes.
    }
  }
  warn(
    `response cache ${path} could not be used (${reason}); moved it to ${aside} ` +
      `and started a fresh cache`,
  );
  return aside;
}
