/**
 * The shape of the house, checked: no import cycle among `lib/` files (computed from Deno's
 * module graph, type-only and dynamic imports included), and notebooks that use the library
 * only through `lib/mod.ts` and never talk to a model themselves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const LIB = new URL("../lib/", import.meta.url).href;
const NOTEBOOKS = join(REPO_ROOT, "notebooks");

interface GraphModule {
  specifier: string;
  dependencies?: {
    specifier: string;
    code?: { specifier: string };
    type?: { specifier: string };
  }[];
}

/** The `lib/` import edges of the module graph rooted at `entry`, from `deno info --json`. */
async function libEdges(entry: string): Promise<Map<string, Set<string>>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: GraphModule[] };
  const edges = new Map<string, Set<string>>();
  for (const m of graph.modules) {
    if (!m.specifier.startsWith(LIB)) continue;
    const to = edges.get(m.specifier) ?? new Set<string>();
    for (const dep of m.dependencies ?? []) {
      for (const target of [dep.code?.specifier, dep.type?.specifier]) {
        if (target?.startsWith(LIB)) to.add(target);
      }
    }
    edges.set(m.specifier, to);
  }
  return edges;
}

/** Every cycle a depth-first search meets (each as the path that closes it). */
export function findCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    path.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

Deno.test("findCycles finds a cycle through a module and none in a tree", () => {
  const tree = new Map([["a", new Set(["b", "c"])], ["b", new Set(["c"])], [
    "c",
    new Set<string>(),
  ]]);
  assert.deepEqual(findCycles(tree), []);
  const loop = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])]]);
  assert.deepEqual(findCycles(loop), [["a", "b", "c", "a"]]);
});

Deno.test("no import cycle among lib/ files (the library and the command line)", async () => {
  const edges = new Map<string, Set<string>>();
  for (const entry of ["lib/mod.ts", "lib/cli.ts"]) {
    for (const [from, to] of await libEdges(entry)) {
      edges.set(from, new Set([...(edges.get(from) ?? []), ...to]));
    }
  }
  assert.ok(edges.size > 50, `only ${edges.size} lib modules in the graph`);
  const short = (s: string) => s.slice(LIB.length);
  const cycles = findCycles(edges).map((c) => c.map(short).join(" -> "));
  assert.deepEqual(cycles, []);
});

interface NotebookCell {
  cell_type: string;
  source: string | string[];
}

/** The code of every code cell of every notebook, by notebook name. */
function notebookCode(): Map<string, string> {
  const code = new Map<string, string>();
  for (const entry of Deno.readDirSync(NOTEBOOKS)) {
    if (!entry.isFile || !entry.name.endsWith(".ipynb")) continue;
    const nb = JSON.parse(Deno.readTextFileSync(join(NOTEBOOKS, entry.name))) as {
      cells: NotebookCell[];
    };
    code.set(
      entry.name,
      nb.cells.filter((c) => c.cell_type === "code")
        .map((c) => Array.isArray(c.source) ? c.source.join("") : c.source).join("\n"),
    );
  }
  return code;
}

/** Module specifiers a piece of code imports (static and dynamic). */
export function importedSpecifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/\bfrom\s+["']([^"']+)["']/g)) found.push(m[1] as string);
  for (const m of code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']/g)) found.push(m[1] as string);
  for (const m of code.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) found.push(m[1] as string);
  return found;
}

Deno.test("importedSpecifiers sees static, side-effect and dynamic imports", () => {
  const code =
    'import { a } from "../lib/mod.ts";\nimport "x";\nconst m = await import("../lib/run.ts");\n' +
    'import type { T } from "npm:zod";';
  assert.deepEqual(importedSpecifiers(code).sort(), [
    "../lib/mod.ts",
    "../lib/run.ts",
    "npm:zod",
    "x",
  ]);
});

Deno.test("notebooks import only ../lib/mod.ts and never call a model's chat themselves", () => {
  const notebooks = notebookCode();
  assert.ok(notebooks.size >= 7, `${notebooks.size} notebooks`);
  for (const [name, code] of notebooks) {
    const imports = importedSpecifiers(code);
    assert.ok(imports.length > 0, `${name} imports nothing`);
    assert.deepEqual(imports.filter((s) => s !== "../lib/mod.ts"), [], `${name} imports`);
    assert.ok(!/\.chat\s*\(/.test(code), `${name} calls .chat( itself`);
  }
});
