/**
 * The worker side of {@linkcode LatexChecker} (`latex.ts`): compares two LaTeX expressions
 * with the Cortex compute engine in its own thread, so the main thread can abandon a slow
 * comparison by terminating the worker. Requests arrive as messages; each carries a shared
 * buffer where the verdict is written (state word, byte length, JSON), then signalled with
 * `Atomics.notify`.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { type BoxedExpression, ComputeEngine } from "@cortex-js/compute-engine";
import type { LatexCheckRequest, LatexVerdict } from "./latex_protocol.ts";
import { compareNumerically, type ComplexValue } from "./latex_protocol.ts";

const engine = new ComputeEngine();
engine.precision = "machine";

// What sympy's LaTeX parser (upstream) reads differently from the compute engine:
// `\log` is the natural log; a space between two numbers multiplies (the engine would
// concatenate `16 2` into 162); `\ ` is a space.
function toEngineLatex(latex: string): string {
  return latex
    .replace(/\\log(?![a-zA-Z])/g, "\\ln")
    .replaceAll("\\ ", " ")
    .replace(/(\d)\s+(?=\d)/g, "$1\\cdot ");
}

function parse(latex: string): BoxedExpression | undefined {
  if (latex.trim() === "") return undefined;
  // Upstream retries with doubled backslashes undone (some models escape twice).
  for (const candidate of [latex, latex.replaceAll("\\\\", "\\")]) {
    const expr = engine.parse(toEngineLatex(candidate));
    if (expr.isValid && !JSON.stringify(expr.json).includes('"Error"')) return expr;
  }
  return undefined;
}

function valueOf(expr: BoxedExpression, at: Record<string, number>): ComplexValue | undefined {
  const n = (Object.keys(at).length === 0 ? expr : expr.subs(at)).N();
  const re = n.re;
  const im = n.im;
  if (typeof re !== "number" || typeof im !== "number") return undefined;
  if (!Number.isFinite(re) || !Number.isFinite(im)) return undefined;
  return [re, im];
}

function compare(request: LatexCheckRequest): LatexVerdict {
  const gold = parse(request.gold);
  if (gold === undefined) return { equivalent: false, method: "parse_error", detail: "gold" };
  const predicted = parse(request.predicted);
  if (predicted === undefined) {
    return { equivalent: false, method: "parse_error", detail: "predicted" };
  }
  if (gold.isSame(predicted)) return { equivalent: true, method: "same" };
  return compareNumerically(
    { unknowns: [...gold.unknowns], value: (at) => valueOf(gold, at) },
    { unknowns: [...predicted.unknowns], value: (at) => valueOf(predicted, at) },
  );
}

// Warm the engine up (dictionaries, JIT) before the first request: that cost then counts
// as start-up, which the caller waits out separately, not against a comparison's timeout.
compare({
  buffer: new SharedArrayBuffer(8),
  gold: "\\frac{1}{2}x+\\sin(x)",
  predicted: "x/2+\\sin x",
});

parentPort?.on("message", (request: LatexCheckRequest) => {
  const header = new Int32Array(request.buffer, 0, 2);
  Atomics.store(header, 0, 1);
  Atomics.notify(header, 0);
  let verdict: LatexVerdict;
  try {
    verdict = compare(request);
  } catch (error) {
    verdict = { equivalent: false, method: "engine_error", detail: String(error).slice(0, 300) };
  }
  const bytes = new TextEncoder().encode(JSON.stringify(verdict));
  const room = new Uint8Array(request.buffer, 8);
  const length = Math.min(bytes.length, room.length);
  room.set(bytes.subarray(0, length));
  Atomics.store(header, 1, length);
  Atomics.store(header, 0, 2);
  Atomics.notify(header, 0);
});
