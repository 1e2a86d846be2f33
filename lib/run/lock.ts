/**
 * A run directory has one owner. {@linkcode RunLock.acquire} creates `run.lock` (process id,
 * host, start time) with an exclusive create, so two processes cannot both take it; a second
 * one is refused with "DIR is in use by process PID since TIME". A lock left by a process that
 * is gone (same host: killed, crashed) is taken over with a note. The lock is released by
 * {@linkcode RunLock.release} (a session's finish or close) and when the process exits.
 *
 * @module
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../util/errors.ts";
import { fileAccessError } from "../util/fs_errors.ts";
import { RUN_FILES } from "./schema.ts";

/** `run.lock`: who holds a run directory. */
export const LockInfo = z.object({
  pid: z.number().int(),
  host: z.string(),
  /** ISO time the holder took the lock. */
  since: z.string(),
});
/** Who holds a run directory. */
export type LockInfo = z.infer<typeof LockInfo>;

/** Raised when another live process (or an open session of this one) holds the run directory. */
export class RunInUseError extends ConfigError {
  /** The holder. */
  readonly holder: LockInfo;

  /** Creates the error naming the directory and its holder. */
  constructor(dir: string, holder: LockInfo, self: boolean) {
    super(
      self
        ? `${dir} is in use by a session of this process since ${holder.since}: ` +
          `finish() or close() it first`
        : `${dir} is in use by process ${holder.pid} since ${holder.since}` +
          (holder.host === hostname() ? "" : ` (on host ${holder.host})`) +
          `; wait for it to end, or stop it (if no rpt process is running, remove ${
            join(dir, RUN_FILES.lock)
          })`,
    );
    this.name = "RunInUseError";
    this.holder = holder;
  }
}

/** Locks held by this process, released on exit. */
const held = new Set<RunLock>();
let exitHook = false;

function releaseAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  globalThis.addEventListener("unload", () => {
    for (const lock of [...held]) lock.release();
  });
}

/**
 * Whether process `pid` runs on this host. Linux answers through `/proc`; elsewhere `kill -0`
 * (which sends no signal) does. When neither can tell, the process is taken to be alive, so
 * a lock is never stolen from a live run.
 */
export function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && procMounted()) return false;
  }
  try {
    return new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" }).outputSync()
      .success;
  } catch {
    return true;
  }
}

function procMounted(): boolean {
  try {
    return Deno.statSync("/proc/self").isDirectory;
  } catch {
    return false;
  }
}

/** The exclusive hold of one run directory by this process. */
export class RunLock {
  readonly #path: string;
  readonly #info: LockInfo;
  #released = false;

  private constructor(path: string, info: LockInfo) {
    this.#path = path;
    this.#info = info;
  }

  /** Who holds the lock (this process). */
  get info(): LockInfo {
    return { ...this.#info };
  }

  /**
   * Takes `dir` (created when missing) for this process. Refused with a
   * {@linkcode RunInUseError} when a live process holds it; a lock whose process is gone is
   * taken over, and `note` (default `console.warn`) says so. A directory that cannot hold the
   * lock (a file, read-only, a full disk) is a `FileAccessError` naming the path.
   *
   * @example
   * ```ts
   * import { RunLock } from "./lock.ts";
   * const dir = await Deno.makeTempDir();
   * const lock = await RunLock.acquire(dir);
   * const second = await RunLock.acquire(dir).then(() => "taken", (e) => e.name);
   * lock.release();
   * await Deno.remove(dir, { recursive: true });
   * if (second !== "RunInUseError") throw new Error(second);
   * ```
   */
  static async acquire(dir: string, note: (line: string) => void = console.warn): Promise<RunLock> {
    const path = join(dir, RUN_FILES.lock);
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (error) {
      throw fileAccessError(error, dir, "create the run directory");
    }
    const info: LockInfo = { pid: Deno.pid, host: hostname(), since: new Date().toISOString() };
    for (let tries = 0;; tries++) {
      if (await RunLock.#create(path, info)) break;
      const holder = await RunLock.#read(path);
      if (holder === null) {
        // Removed, or created and not yet written, by its holder between our two looks.
        if (tries < 5) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        throw new ConfigError(`${path}: cannot take the lock (it keeps changing); try again`);
      }
      const mine = [...held].some((l) => l.#path === path);
      if (mine || (holder.host === info.host && processAlive(holder.pid))) {
        throw new RunInUseError(dir, holder, mine);
      }
      if (holder.host !== info.host) throw new RunInUseError(dir, holder, false);
      note(
        `rpt: ${dir} was locked by process ${holder.pid} (since ${holder.since}), which is ` +
          `gone; taking it over`,
      );
      await Deno.remove(path).catch(() => {});
      if (tries >= 5) throw new RunInUseError(dir, holder, false);
    }
    const lock = new RunLock(path, info);
    held.add(lock);
    releaseAllOnExit();
    return lock;
  }

  /** Gives the directory up (idempotent); the file goes only if it is still this lock. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    held.delete(this);
    try {
      const text = Deno.readTextFileSync(this.#path);
      const now = LockInfo.safeParse(JSON.parse(text));
      if (now.success && now.data.pid === this.#info.pid && now.data.since === this.#info.since) {
        Deno.removeSync(this.#path);
      }
    } catch {
      // Already gone, or the directory went away: nothing to release.
    }
  }

  /** Creates the lock file exclusively; false when it exists. */
  static async #create(path: string, info: LockInfo): Promise<boolean> {
    try {
      const file = await Deno.open(path, { createNew: true, write: true });
      try {
        await file.write(new TextEncoder().encode(JSON.stringify(info) + "\n"));
      } finally {
        file.close();
      }
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) return false;
      await Deno.remove(path).catch(() => {});
      throw fileAccessError(error, path, "create the run's lock file");
    }
  }

  /** The holder, or null when the file is gone or not (yet) a complete lock. */
  static async #read(path: string): Promise<LockInfo | null> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch {
      return null;
    }
    if (text === "") return null;
    try {
      const parsed = LockInfo.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // A lock torn by a crash mid-write: its holder is gone.
    }
    return { pid: -1, host: hostname(), since: "an unknown time (damaged lock file)" };
  }
}
