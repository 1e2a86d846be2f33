/**
 * Executes the notebooks and writes their outputs back in place, cleaned so they read well on
 * GitHub and do not churn: no ANSI codes, no absolute or temporary paths, no execution
 * timings.
 *
 *     deno run -A scripts/notebooks_render.ts            # every notebook
 *     deno run -A scripts/notebooks_render.ts 02 04      # notebooks whose name starts so
 *
 * Runs on the simulator unless the environment configures providers (see the notebooks'
 * first cells); at most two notebooks execute at a time.
 *
 * Why several executions: Deno's kernel (2.9) sometimes publishes a cell's outputs after
 * reporting the cell idle, and `nbconvert` then drops them (a cell error is still caught: it
 * travels on the shell channel). The simulator is deterministic, so the script executes each
 * notebook `RENDER_ATTEMPTS` times and keeps, for every cell, the most complete outputs.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { mapConcurrent } from "../lib/util/limit.ts";
import { executeNotebook, NOTEBOOK_DIR } from "./notebook_exec.ts";

const REPO_ROOT = fromFileUrl(new URL("../", import.meta.url)).replace(/\/$/, "");
const RENDER_ATTEMPTS = 3;
// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Removes ANSI codes, machine paths and temp paths from one output string. */
export function cleanText(text: string): string {
  return text
    .replace(ANSI, "")
    .split(`${REPO_ROOT}/`).join("")
    .split(REPO_ROOT).join(".")
    .replace(/\/tmp\/[^\s"'`)<]*/g, "<tmp>")
    .replace(/\/(root|home\/[^/\s]+)\/[^\s"'`)<]*/g, "<home>");
}

function cleanValue(value: unknown): unknown {
  if (typeof value === "string") return cleanText(value);
  if (Array.isArray(value)) return value.map(cleanValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cleanValue(v)]));
  }
  return value;
}

/** A notebook cell, as far as this script reads it. */
export interface Cell {
  cell_type: string;
  id?: string;
  metadata?: Record<string, unknown>;
  outputs?: unknown[];
  execution_count?: number | null;
}

/** A notebook, as far as this script reads it. */
export interface Notebook {
  cells: Cell[];
  metadata?: Record<string, unknown>;
}

/** Cleans an executed notebook's outputs and drops per-cell execution timings. */
export function cleanNotebook<N extends Notebook>(nb: N): N {
  for (const cell of nb.cells) {
    if (cell.metadata) delete cell.metadata.execution;
    if (cell.outputs) cell.outputs = cell.outputs.map(cleanValue) as unknown[];
  }
  return nb;
}

/** Number of output entries of a cell (a stream's lines count once). */
function outputCount(cell: Cell | undefined): number {
  return cell?.outputs?.length ?? 0;
}

/**
 * Merges executions of one notebook: every cell takes its outputs from the execution where
 * it has the most; the first execution supplies everything else.
 */
export function mergeExecutions<N extends Notebook>(runs: readonly N[]): N {
  const [first, ...rest] = runs;
  if (first === undefined) throw new Error("mergeExecutions: no execution given");
  const merged = structuredClone(first);
  merged.cells.forEach((cell, i) => {
    for (const other of rest) {
      const candidate = other.cells[i];
      if (candidate !== undefined && outputCount(candidate) > outputCount(cell)) {
        cell.outputs = structuredClone(candidate.outputs);
      }
    }
  });
  return merged;
}

async function execute(name: string, outDir: string): Promise<Notebook> {
  return await executeNotebook(name, outDir) as Notebook;
}

async function render(name: string): Promise<number> {
  const path = join(NOTEBOOK_DIR, name);
  const started = performance.now();
  const outDir = await Deno.makeTempDir({ prefix: "rpt-nb-render-" });
  const runs: Notebook[] = [];
  try {
    for (let attempt = 1; attempt <= RENDER_ATTEMPTS; attempt++) {
      runs.push(await execute(name, outDir));
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
  const nb = cleanNotebook(mergeExecutions(runs));
  await Deno.writeTextFile(path, JSON.stringify(nb, null, 1) + "\n");
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${runs.length} execution(s), ${seconds.toFixed(1)} s`);
  return 0;
}

if (import.meta.main) {
  const prefixes = Deno.args;
  const names = [...Deno.readDirSync(NOTEBOOK_DIR)]
    .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
    .map((e) => e.name)
    .filter((n) => prefixes.length === 0 || prefixes.some((p) => n.startsWith(p)))
    .sort();
  const started = performance.now();
  const failures = (await mapConcurrent(names, 2, render)).reduce((a, b) => a + b, 0);
  console.log(
    `${names.length} notebook(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  Deno.exit(failures === 0 ? 0 : 1);
}
