/**
 * LaTeX helpers shared by LiveBench's math scorers: upstream's `\boxed{}` extraction, and
 * a time-bounded equivalence check of two LaTeX expressions backed by the CortexJS
 * Compute Engine (`@cortex-js/compute-engine`), standing in for upstream's sympy.
 *
 * The check runs in a `node:worker_threads` worker while the caller blocks on a shared
 * buffer with `Atomics.wait`, so it stays synchronous (as `Task.score` is) yet a slow
 * expression is abandoned after `timeoutMs`: the worker is terminated, the check reports
 * `timeout` (scored 0) and a fresh worker serves the next check. The worker is unref'd, so
 * it never keeps a process alive.
 *
 * @module
 */
import { Worker } from "node:worker_threads";

/**
 * Upstream's `last_boxed_only_string`: the last `\boxed{...}` (or `\fbox{...}`) with
 * balanced braces and `$` removed; if `\boxed ` (with a space) occurs anywhere, the text
 * after its last occurrence up to the next `$`. Undefined when there is none or its
 * braces never close.
 *
 * @example
 * ```ts
 * import { lastBoxedOnlyString } from "./latex.ts";
 * if (lastBoxedOnlyString("so \\boxed{1} then \\boxed{\\frac{1}{2}}.") !== "\\boxed{\\frac{1}{2}}") {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function lastBoxedOnlyString(text: string): string | undefined {
  let idx = text.lastIndexOf("\\boxed");
  if (text.includes("\\boxed ")) {
    const parts = text.split("\\boxed ");
    return "\\boxed " + (parts[parts.length - 1] ?? "").split("$")[0];
  }
  if (idx < 0) {
    idx = text.lastIndexOf("\\fbox");
    if (idx < 0) return undefined;
  }
  let open = 0;
  for (let i = idx; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") open++;
    if (ch === "}") {
      open--;
      if (open === 0) {
        return text.slice(idx, i + 1).replaceAll("$", "").replaceAll("fbox", "boxed");
      }
    }
  }
  return undefined;
}

/**
 * Upstream's `remove_boxed`: the inside of `\boxed{...}` or the text after `\boxed `.
 * Where upstream's assertion would fail (e.g. `\boxedA{x}`), undefined.
 *
 * @example
 * ```ts
 * import { removeBoxed } from "./latex.ts";
 * if (removeBoxed("\\boxed{x^2}") !== "x^2" || removeBoxed("\\boxed 5") !== "5") throw new Error();
 * ```
 */
export function removeBoxed(boxed: string): string | undefined {
  if (boxed.includes("\\boxed ")) {
    return boxed.startsWith("\\boxed ") ? boxed.slice("\\boxed ".length) : undefined;
  }
  if (!boxed.startsWith("\\boxed{") || !boxed.endsWith("}")) return undefined;
  return boxed.slice("\\boxed{".length, -1);
}

/** How a LaTeX equivalence check ended. */
export type LatexMethod =
  | "canonical" // same canonical form
  | "numeric" // equal values (constants), or equal at several sample points
  | "different"
  | "parse_error"
  | "not_comparable" // no finite values to compare
  | "timeout"
  | "engine_unavailable";

/** The verdict of {@linkcode latexEquivalent}. */
export interface LatexCheck {
  equivalent: boolean;
  method: LatexMethod;
  detail?: string;
}

/** Options for {@linkcode latexEquivalent}. */
export interface LatexCheckOptions {
  /** Longest time one comparison may take (default 8000 ms, upstream's limit). */
  timeoutMs?: number;
  /** Longest time to wait for the engine to load in a new worker (default 60000 ms). */
  startupTimeoutMs?: number;
  /** Fault injection for tests: the worker spins forever on this check. */
  simulateHang?: boolean;
}

const HEADER_BYTES = 16;
const BODY_BYTES = 4096;
const DONE_SEQ = 0;
const READY = 1;
const LENGTH = 2;

interface Engine {
  worker: Worker;
  sab: SharedArrayBuffer;
  header: Int32Array;
  seq: number;
}

let current: Engine | undefined;

function startEngine(startupTimeoutMs: number): Engine | string {
  const sab = new SharedArrayBuffer(HEADER_BYTES + BODY_BYTES);
  const header = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const worker = new Worker(new URL("./latex_worker.ts", import.meta.url));
  worker.unref();
  // Errors surface through the shared buffer (the main thread is blocked while checks
  // run); the listener only keeps an uncaught worker error from crashing the process.
  worker.on("error", () => {});
  worker.postMessage({ kind: "init", sab, seq: 0, gold: "", predicted: "" });
  const deadline = performance.now() + startupTimeoutMs;
  while (Atomics.load(header, READY) === 0) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    Atomics.wait(header, READY, 0, left);
  }
  const state = Atomics.load(header, READY);
  if (state !== 1) {
    void worker.terminate();
    if (state === 0) return `engine did not load within ${startupTimeoutMs} ms`;
    return readVerdict(sab, header).detail ?? "engine failed to load";
  }
  return { worker, sab, header, seq: 0 };
}

/**
 * Whether two LaTeX expressions are mathematically equal, decided by the Compute Engine:
 * the same canonical form, else equal values (constants: within upstream's 0.001), else
 * equal values at several fixed sample points of their unknowns (relative 1e-6; points
 * outside a domain are skipped, at least 3 must agree). `\log` is read as the natural
 * logarithm, as sympy does. Blocks the caller for at most `timeoutMs` per check (plus the
 * engine's load on first use); a check that runs out of time reports `timeout`.
 *
 * @example
 * ```ts
 * import { closeLatexEngine, latexEquivalent } from "./latex.ts";
 * if (!latexEquivalent("\\frac{1}{2}x", "x/2").equivalent) throw new Error("unexpected");
 * if (latexEquivalent("x^2", "2x").equivalent) throw new Error("unexpected");
 * closeLatexEngine();
 * ```
 */
export function latexEquivalent(
  gold: string,
  predicted: string,
  options: LatexCheckOptions = {},
): LatexCheck {
  const timeoutMs = options.timeoutMs ?? 8000;
  if (current === undefined) {
    const started = startEngine(options.startupTimeoutMs ?? 60_000);
    if (typeof started === "string") {
      return { equivalent: false, method: "engine_unavailable", detail: started };
    }
    current = started;
  }
  const engine = current;
  const seq = ++engine.seq;
  const kind = options.simulateHang === true ? "hang" : "check";
  engine.worker.postMessage({ kind, sab: engine.sab, seq, gold, predicted });
  const deadline = performance.now() + timeoutMs;
  let done = Atomics.load(engine.header, DONE_SEQ);
  while (done !== seq) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    Atomics.wait(engine.header, DONE_SEQ, done, left);
    done = Atomics.load(engine.header, DONE_SEQ);
  }
  if (done !== seq) {
    closeLatexEngine();
    return { equivalent: false, method: "timeout", detail: `no verdict within ${timeoutMs} ms` };
  }
  return readVerdict(engine.sab, engine.header);
}

function readVerdict(sab: SharedArrayBuffer, header: Int32Array): LatexCheck {
  const length = Atomics.load(header, LENGTH);
  const body = new Uint8Array(sab, HEADER_BYTES, length).slice();
  return JSON.parse(new TextDecoder().decode(body)) as LatexCheck;
}

/** Terminates the engine's worker, if any (the next check starts a new one). */
export function closeLatexEngine(): void {
  if (current === undefined) return;
  void current.worker.terminate();
  current = undefined;
}
