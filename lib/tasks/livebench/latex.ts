/**
 * Bounded-time equivalence of two LaTeX expressions, for AMPS_Hard scoring.
 *
 * The comparison (Cortex compute engine: parse, canonical form, then numeric sampling; see
 * `latex_protocol.ts`) runs in a worker thread. {@linkcode LatexChecker.check} stays
 * synchronous, as `Task.score` is: it posts the request and blocks on a shared buffer with
 * `Atomics.wait`. A comparison that runs past `timeoutMs` is abandoned: the worker is
 * terminated, the verdict is `timeout` (scored 0) and the next check starts a fresh worker.
 * The worker is `unref`'d, so an idle checker never keeps a program alive.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import type { LatexCheckRequest, LatexVerdict } from "./latex_protocol.ts";

export type { LatexMethod, LatexVerdict } from "./latex_protocol.ts";

/** Options for a {@linkcode LatexChecker}. */
export interface LatexCheckerOptions {
  /** Longest one comparison may take, in ms (default 5000). */
  timeoutMs?: number;
  /** Longest a fresh worker may take to load the engine, in ms (default 60000). */
  startupTimeoutMs?: number;
  /** The worker module (default `latex_worker.ts`); tests substitute a faulty one. */
  workerUrl?: URL;
}

const BUFFER_BYTES = 16 * 1024;
// State word of the shared buffer; the worker moves it QUEUED -> STARTED -> done (2).
const QUEUED = 0;
const STARTED = 1;

/**
 * Compares LaTeX expressions in a worker thread, each comparison bounded in time.
 *
 * @example
 * ```ts
 * import { LatexChecker } from "./latex.ts";
 * const checker = new LatexChecker();
 * try {
 *   if (!checker.check("\\frac{1}{2}x", "x/2").equivalent) throw new Error("x/2");
 *   if (checker.check("x^2", "2x").equivalent) throw new Error("2x");
 * } finally {
 *   await checker.close();
 * }
 * ```
 */
export class LatexChecker {
  readonly #timeoutMs: number;
  readonly #startupTimeoutMs: number;
  readonly #workerUrl: URL;
  #worker: Worker | undefined;
  #warm = false;
  #unavailable: string | undefined;
  #timeouts = 0;

  /** Creates a checker; the worker starts on the first check. */
  constructor(options: LatexCheckerOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#startupTimeoutMs = options.startupTimeoutMs ?? 60_000;
    this.#workerUrl = options.workerUrl ?? new URL("./latex_worker.ts", import.meta.url);
  }

  /** How many comparisons ran out of time so far. */
  get timeouts(): number {
    return this.#timeouts;
  }

  /**
   * Whether `predicted` is equivalent to `gold`. Blocks for at most `timeoutMs` (plus
   * the engine's load time on first use, or after a timeout).
   */
  check(gold: string, predicted: string): LatexVerdict {
    if (this.#unavailable !== undefined) {
      return { equivalent: false, method: "engine_error", detail: this.#unavailable };
    }
    const worker = this.#ensureWorker();
    const buffer = new SharedArrayBuffer(BUFFER_BYTES);
    const header = new Int32Array(buffer, 0, 2);
    const request: LatexCheckRequest = { buffer, gold, predicted };
    worker.postMessage(request);
    if (!this.#waitWhile(header, QUEUED, this.#warm ? this.#timeoutMs : this.#startupTimeoutMs)) {
      this.#unavailable = this.#warm
        ? undefined
        : `the LaTeX engine did not start within ${this.#startupTimeoutMs} ms`;
      this.#discardWorker();
      if (this.#unavailable !== undefined) {
        return { equivalent: false, method: "engine_error", detail: this.#unavailable };
      }
      this.#timeouts++;
      return { equivalent: false, method: "timeout", detail: `over ${this.#timeoutMs} ms` };
    }
    this.#warm = true;
    if (!this.#waitWhile(header, STARTED, this.#timeoutMs)) {
      this.#discardWorker();
      this.#timeouts++;
      return { equivalent: false, method: "timeout", detail: `over ${this.#timeoutMs} ms` };
    }
    const length = Atomics.load(header, 1);
    const json = new TextDecoder().decode(new Uint8Array(buffer, 8, length).slice());
    try {
      return JSON.parse(json) as LatexVerdict;
    } catch {
      return { equivalent: false, method: "engine_error", detail: "unreadable verdict" };
    }
  }

  /** Stops the worker (a later check starts a new one). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#warm = false;
    if (worker !== undefined) await worker.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker === undefined) {
      this.#worker = new Worker(this.#workerUrl);
      this.#worker.unref();
      this.#warm = false;
    }
    return this.#worker;
  }

  #discardWorker(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#warm = false;
    // Termination completes in the background; the next check uses a new worker.
    if (worker !== undefined) void worker.terminate();
  }

  // Waits while the state word equals `state`; false when `ms` ran out first.
  #waitWhile(header: Int32Array, state: number, ms: number): boolean {
    const deadline = performance.now() + ms;
    while (Atomics.load(header, 0) === state) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(header, 0, state, left);
    }
    return true;
  }
}

let shared: LatexChecker | undefined;

/** The process-wide checker the LiveBench task uses (created on first use). */
export function sharedLatexChecker(): LatexChecker {
  shared ??= new LatexChecker();
  return shared;
}

/**
 * Stops the shared checker's worker, e.g. at the end of a test (Deno's sanitizers want
 * no live workers); the next use starts a new one.
 */
export async function closeSharedLatexChecker(): Promise<void> {
  await shared?.close();
}
