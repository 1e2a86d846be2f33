/**
 * Usage of a run: calls, tokens and dollars per session (process) that worked on it. Every
 * call is appended to `usage.jsonl` as it completes ({@linkcode UsageLog.append}), so a
 * session killed without warning (SIGKILL) loses at most the calls it had in flight;
 * `usage.json` holds each session's totals, written at every step, and a later session
 * rebuilds a killed one's totals from its lines ({@linkcode previousSessions}).
 *
 * @module
 */
import { join } from "node:path";
import { type LedgerRecord, UsageLedger } from "../llm/accounting.ts";
import type { PriceTable, UsageSnapshot } from "../llm/usage.ts";
import { fileAccessError } from "../util/fs_errors.ts";
import { readRunJson } from "./reader.ts";
import { RUN_FILES, RunUsage, totalUsage, UsageLine, type UsageSession } from "./schema.ts";
import type { RunWriter } from "./writer.ts";

/** The lines of `usage.jsonl` by session id, in order; a torn last line (a kill) is skipped. */
async function linesBySession(dir: string): Promise<Map<string, UsageLine[]>> {
  const out = new Map<string, UsageLine[]>();
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, RUN_FILES.usageLog));
  } catch {
    return out;
  }
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    const line = UsageLine.safeParse(value);
    if (!line.success) continue;
    const list = out.get(line.data.s) ?? [];
    list.push(line.data);
    out.set(line.data.s, list);
  }
  return out;
}

/** A session's totals replayed from its lines. */
function replay(lines: readonly UsageLine[], prices?: PriceTable): UsageSnapshot {
  const ledger = new UsageLedger({ ...(prices ? { prices } : {}) });
  for (const l of lines) {
    ledger.apply({
      kind: l.kind,
      provider: l.provider,
      model: l.model,
      ...(l.usage ? { usage: l.usage } : {}),
      ...(l.usd !== undefined ? { usd: l.usd } : {}),
      ...(l.batch ? { batch: true } : {}),
    });
  }
  return ledger.snapshot();
}

/** When a session with this id started (the id begins with its ISO start time). */
function startOf(id: string): string {
  return id.slice(0, id.lastIndexOf("-")) || id;
}

/**
 * The sessions that worked on the run in `dir` before this one: those `usage.json` records,
 * with a session that never saved its end (killed: still `running`, or missing) rebuilt
 * from its lines in `usage.jsonl` and marked `killed`. None when there is no record.
 */
export async function previousSessions(
  dir: string,
  opts: { prices?: PriceTable } = {},
): Promise<UsageSession[]> {
  let sessions: UsageSession[] = [];
  try {
    sessions = (await readRunJson(join(dir, RUN_FILES.usage), RunUsage)).sessions;
  } catch {
    // A session killed before its first save leaves no file; its lines still count below.
  }
  const lines = await linesBySession(dir);
  const rebuilt = (id: string, base?: UsageSession): UsageSession => {
    const own = lines.get(id) ?? [];
    return {
      id,
      started: base?.started ?? startOf(id),
      ended: null,
      status: "killed",
      elapsedMs: Math.max(base?.elapsedMs ?? 0, own.at(-1)?.t ?? 0),
      usage: replay(own, opts.prices),
    };
  };
  const out = sessions.map((s) =>
    s.id !== undefined && s.status === "running" ? rebuilt(s.id, s) : s
  );
  const known = new Set(sessions.flatMap((s) => s.id === undefined ? [] : [s.id]));
  for (const id of lines.keys()) if (!known.has(id)) out.push(rebuilt(id));
  return out;
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/**
 * The current session's usage: each settled call appended to `usage.jsonl` before its result
 * is used ({@linkcode append}), and `usage.json` written after the earlier sessions' ({@linkcode save}).
 */
export class UsageLog {
  readonly #started = new Date().toISOString();
  readonly #t0 = performance.now();
  /** Names this session's lines in `usage.jsonl`. */
  readonly id = `${this.#started}-${Deno.pid}`;
  #file: Deno.FsFile | null = null;
  #path: string | undefined;
  #failure: unknown = undefined;
  /** Lines appended since the last write. */
  #pending = "";
  #flushQueued = false;
  readonly #encoder = new TextEncoder();
  /** One buffer for the lines of a write (a line is a few hundred bytes): no allocation per call. */
  readonly #buffer = new Uint8Array(16384);

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

  /** Paid calls the earlier sessions made (what a call budget has left is the rest). */
  callsBefore(): number {
    return totalUsage(this.before).calls;
  }

  /**
   * Appends one settled call to `usage.jsonl` before the call's result is used: the lines of
   * the calls settled in one pass of the microtask queue go out in one synchronous write,
   * queued as a microtask by the first of them. A result reaches its caller through promise
   * reactions queued after that write, so a session killed without warning (SIGKILL) still
   * loses only calls whose results nobody had, calls that still held their slots. A write
   * that fails (a full disk) never fails the call: it is kept and raised by the next
   * {@linkcode save}, at the step boundary.
   */
  append(record: LedgerRecord): void {
    if (this.#failure !== undefined) return;
    const line: UsageLine = {
      s: this.id,
      t: Math.round(performance.now() - this.#t0),
      ...record,
    };
    this.#pending += `${JSON.stringify(line)}\n`;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes the lines not yet written (the next microtask does it anyway). */
  flush(): void {
    this.#flushQueued = false;
    const text = this.#pending;
    this.#pending = "";
    if (text === "" || this.#failure !== undefined) return;
    // The writer's directory never changes: the path is joined once, at the first write.
    const path = this.#path ??= join(this.writer.dir, RUN_FILES.usageLog);
    try {
      this.#file ??= Deno.openSync(path, { append: true, create: true });
      writeAll(this.#file, this.#bytes(text));
    } catch (error) {
      this.#failure = fileAccessError(error, path, "write", this.writer.resumeHint);
    }
  }

  /** The UTF-8 bytes of `text`, in the shared buffer when they fit. */
  #bytes(text: string): Uint8Array {
    const { read, written } = this.#encoder.encodeInto(text, this.#buffer);
    return read === text.length ? this.#buffer.subarray(0, written) : this.#encoder.encode(text);
  }

  /** Saves the current session with `status` (`running` until it ends). */
  async save(status: UsageSession["status"]): Promise<void> {
    this.flush();
    if (this.#failure !== undefined) throw this.#failure;
    const sessions = [...this.before, {
      id: this.id,
      started: this.#started,
      ended: status === "running" ? null : new Date().toISOString(),
      status,
      elapsedMs: Math.round(performance.now() - this.#t0),
      usage: this.snapshot(),
      ...(this.cacheHealth !== undefined ? { cache: this.cacheHealth() } : {}),
    }];
    await this.writer.write(RUN_FILES.usage, { sessions, total: totalUsage(sessions) });
  }

  /** Closes `usage.jsonl` (idempotent). */
  close(): void {
    this.flush();
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = null;
  }
}
