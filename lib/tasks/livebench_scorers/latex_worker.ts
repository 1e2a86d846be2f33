/**
 * Worker side of the LaTeX equivalence check (see `latex.ts`). It runs in its own thread so
 * that the main thread can give up on a slow expression and terminate it: the main thread
 * posts `{seq, gold, predicted}` and then blocks on a shared buffer, where this worker
 * writes the JSON verdict and bumps the sequence number.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { BoxedExpression, ComputeEngine } from "@cortex-js/compute-engine";

/** Header slots of the shared buffer (Int32 indexes). */
const DONE_SEQ = 0;
const READY = 1;
const LENGTH = 2;
const HEADER_BYTES = 16;

/** Points where expressions with unknowns are compared; fixed so scores are reproducible. */
const SAMPLE_POINTS = [0.37, 1.13, 1.71, 2.29, 0.61, 2.83, -0.43, -1.37, 3.19, -2.11];
const MIN_AGREEING_POINTS = 3;

interface Verdict {
  equivalent: boolean;
  method: "canonical" | "numeric" | "different" | "parse_error" | "not_comparable";
  detail?: string;
}

let engine: ComputeEngine | undefined;

// Two readings where the compute engine differs from sympy's LaTeX parser (upstream):
// `\log` is the natural logarithm (as in the Mathematica TeX the gold answers come from),
// not base 10; and digits separated by a space or a TeX space (`16\ 2^{2/3}`) are a
// product, not one number.
const toEngineLatex = (latex: string): string =>
  latex.replace(/\\log(?![a-zA-Z_])/g, "\\ln")
    .replace(/(\d)(?:\s|\\[ ,;:!]|\\q?quad(?![a-zA-Z]))+(?=\d)/g, "$1\\cdot ");

function parse(ce: ComputeEngine, latex: string): BoxedExpression | undefined {
  if (latex.trim() === "") return undefined; // the engine reads "" as a valid `Nothing`
  // Upstream retries with doubled backslashes undone (models that escape twice).
  for (const candidate of [latex, latex.replaceAll("\\\\", "\\")]) {
    const expr = ce.parse(toEngineLatex(candidate));
    if (expr.isValid) return expr;
  }
  return undefined;
}

function complexValue(expr: BoxedExpression): [number, number] | undefined {
  const value = expr.N();
  const re = value.re;
  const im = value.im;
  if (typeof re !== "number" || typeof im !== "number") return undefined;
  if (!Number.isFinite(re) || !Number.isFinite(im)) return undefined;
  return [re, im];
}

function close(a: [number, number], b: [number, number], absolute: number, relative: number) {
  const diff = Math.hypot(a[0] - b[0], a[1] - b[1]);
  return diff < absolute || diff <= relative * Math.max(Math.hypot(...a), Math.hypot(...b));
}

function compare(ce: ComputeEngine, gold: string, predicted: string): Verdict {
  const g = parse(ce, gold);
  if (g === undefined) return { equivalent: false, method: "parse_error", detail: "gold" };
  const p = parse(ce, predicted);
  if (p === undefined) return { equivalent: false, method: "parse_error", detail: "predicted" };
  if (g.isSame(p)) return { equivalent: true, method: "canonical" };
  const unknowns = [...new Set([...g.unknowns, ...p.unknowns])].sort();
  if (unknowns.length === 0) {
    const gv = complexValue(g);
    const pv = complexValue(p);
    if (gv === undefined || pv === undefined) {
      return { equivalent: false, method: "not_comparable", detail: "no finite value" };
    }
    // Upstream accepts |simplify(gold - predicted)| < 0.001 for constants.
    const equivalent = close(gv, pv, 1e-3, 1e-9);
    return {
      equivalent,
      method: equivalent ? "numeric" : "different",
      detail: `${gv.join("+i*")} vs ${pv.join("+i*")}`,
    };
  }
  let agreeing = 0;
  for (let i = 0; i < SAMPLE_POINTS.length && agreeing < MIN_AGREEING_POINTS + 2; i++) {
    const subs: Record<string, BoxedExpression> = {};
    unknowns.forEach((name, k) => {
      const x = SAMPLE_POINTS[(i + 3 * k) % SAMPLE_POINTS.length] ?? 1;
      subs[name] = ce.number(x + 0.1 * k);
    });
    const gv = complexValue(g.subs(subs));
    const pv = complexValue(p.subs(subs));
    if (gv === undefined || pv === undefined) continue; // outside a domain: try another point
    if (!close(gv, pv, 1e-9, 1e-6)) {
      return {
        equivalent: false,
        method: "different",
        detail: `differ at ${
          JSON.stringify(Object.fromEntries(Object.entries(subs).map(([k, v]) => [k, v.re])))
        }`,
      };
    }
    agreeing++;
  }
  if (agreeing < MIN_AGREEING_POINTS) {
    return { equivalent: false, method: "not_comparable", detail: `${agreeing} finite points` };
  }
  return {
    equivalent: true,
    method: "numeric",
    detail: `${agreeing} points, ${unknowns.join(",")}`,
  };
}

function write(sab: SharedArrayBuffer, seq: number, verdict: Verdict): void {
  const header = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const body = new Uint8Array(sab, HEADER_BYTES);
  let bytes = new TextEncoder().encode(JSON.stringify(verdict));
  if (bytes.length > body.length) {
    const short = { ...verdict, detail: (verdict.detail ?? "").slice(0, 200) };
    bytes = new TextEncoder().encode(JSON.stringify(short));
  }
  body.set(bytes);
  Atomics.store(header, LENGTH, bytes.length);
  Atomics.store(header, DONE_SEQ, seq);
  Atomics.notify(header, DONE_SEQ);
}

interface Request {
  kind: "init" | "check" | "hang";
  sab: SharedArrayBuffer;
  seq: number;
  gold: string;
  predicted: string;
}

parentPort?.on("message", async (request: Request) => {
  if (request.kind === "init") {
    const header = new Int32Array(request.sab, 0, HEADER_BYTES / 4);
    try {
      const { ComputeEngine } = await import("@cortex-js/compute-engine");
      engine = new ComputeEngine();
      Atomics.store(header, READY, 1);
    } catch (error) {
      write(request.sab, 0, {
        equivalent: false,
        method: "not_comparable",
        detail: `cannot load the engine: ${error}`,
      });
      Atomics.store(header, READY, -1);
    }
    Atomics.notify(header, READY);
    return;
  }
  if (request.kind === "hang") { for (;;) { /* fault injection: only terminate() ends this */ } }
  let verdict: Verdict;
  try {
    verdict = engine === undefined
      ? { equivalent: false, method: "not_comparable", detail: "engine not loaded" }
      : compare(engine, request.gold, request.predicted);
  } catch (error) {
    verdict = { equivalent: false, method: "not_comparable", detail: `engine error: ${error}` };
  }
  write(request.sab, request.seq, verdict);
});
