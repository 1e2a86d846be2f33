/**
 * `usage.json`: calls, tokens and dollars per session (process) that worked on a run, and
 * their total. {@linkcode UsageLog} keeps the current session's line up to date; earlier
 * sessions (a resumed run) are carried over unchanged.
 *
 * @module
 */
import { join } from "node:path";
import type { UsageSnapshot } from "../llm/usage.ts";
import { readRunJson } from "./reader.ts";
import { RUN_FILES, RunUsage, totalUsage, type UsageSession } from "./schema.ts";
import type { RunWriter } from "./writer.ts";

/** The sessions recorded in a run's `usage.json`; none when it is missing or unreadable. */
export async function previousSessions(dir: string): Promise<UsageSession[]> {
  try {
    return (await readRunJson(join(dir, RUN_FILES.usage), RunUsage)).sessions;
  } catch {
    // A session killed before its first save leaves no file; the run itself is intact.
    return [];
  }
}

/** Writes the current session's usage into `usage.json`, after the earlier sessions'. */
export class UsageLog {
  readonly #started = new Date().toISOString();
  readonly #t0 = performance.now();

  /** A log for the session now starting, with what `before` sessions spent. */
  constructor(
    readonly writer: RunWriter,
    readonly before: readonly UsageSession[],
    readonly snapshot: () => UsageSnapshot,
    readonly cacheHealth?: () => NonNullable<UsageSession["cache"]>,
  ) {}

  /** Dollars the earlier sessions spent (what a dollar budget has left is the rest). */
  spentBefore(): number {
    return totalUsage(this.before).usd;
  }

  /** Saves the current session with `status` (`running` until it ends). */
  async save(status: UsageSession["status"]): Promise<void> {
    const sessions = [...this.before, {
      started: this.#started,
      ended: status === "running" ? null : new Date().toISOString(),
      status,
      elapsedMs: Math.round(performance.now() - this.#t0),
      usage: this.snapshot(),
      ...(this.cacheHealth !== undefined ? { cache: this.cacheHealth() } : {}),
    }];
    await this.writer.write(RUN_FILES.usage, { sessions, total: totalUsage(sessions) });
  }
}
