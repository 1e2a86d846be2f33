/**
 * Executes every notebook in `notebooks/` through Jupyter on Deno's own kernel (as a user
 * would run it) and type-checks its code cells joined into one module. A throwing cell
 * fails the test. Committed outputs must be clean: no ANSI codes, no absolute paths.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { executeNotebook, NOTEBOOK_DIR } from "../scripts/notebook_exec.ts";
import { EXTERNAL_TOOL_TAG, SKIP_EXTERNAL_TOOL_TESTS } from "./support/external_tools.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));

interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
}

function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

const notebooks = [...Deno.readDirSync(NOTEBOOK_DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
  .map((e) => e.name)
  .sort();

Deno.test("the notebooks folder holds the documented notebooks", () => {
  for (
    const expected of [
      "01_quickstart.ipynb",
      "02_diagnostic_report.ipynb",
      "03_step_through.ipynb",
      "04_calibration.ipynb",
      "05_run_explorer.ipynb",
      "06_trace_analysis.ipynb",
      "07_baselines.ipynb",
      "08_reproduce_tables.ipynb",
    ]
  ) {
    assert.ok(notebooks.includes(expected), `missing notebooks/${expected}`);
  }
});

for (const name of notebooks) {
  const path = join(NOTEBOOK_DIR, name);
  const nb = JSON.parse(Deno.readTextFileSync(path)) as { cells: NotebookCell[] };

  Deno.test(`${name}: committed outputs are clean`, () => {
    const text = JSON.stringify(nb.cells.map((c) => c.outputs ?? []));
    assert.ok(!text.includes("\\u001b["), `${name} has ANSI escape codes in its outputs`);
    assert.ok(!text.includes(REPO_ROOT), `${name} has an absolute path in its outputs`);
    assert.ok(!/\/root\/|\/home\/|\/tmp\//.test(text), `${name} has a machine path in its outputs`);
  });

  Deno.test(`${name}: code cells type-check`, async () => {
    const code = nb.cells.filter((c) => c.cell_type === "code").map(cellSource)
      .map((src, i) => `// cell ${i + 1}\n${src}`).join("\n\n");
    // Written beside the notebook so relative imports resolve as they do in the kernel.
    const module = join(NOTEBOOK_DIR, `.check_${name.replace(/\W/g, "_")}.ts`);
    await Deno.writeTextFile(module, `${code}\nexport {};\n`);
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--quiet", module],
        cwd: REPO_ROOT,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `deno check of ${name}'s code cells failed:\n${err}`);
    } finally {
      await Deno.remove(module).catch(() => {});
    }
  });

  Deno.test({
    name: `${name}: executes top to bottom on the Deno kernel ${EXTERNAL_TOOL_TAG}`,
    ignore: SKIP_EXTERNAL_TOOL_TESTS,
  }, async () => {
    const outDir = await Deno.makeTempDir({ prefix: "rpt-nb-" });
    try {
      // A failing cell makes nbconvert exit non-zero; executeNotebook throws with its stderr.
      const executed = await executeNotebook(name, outDir) as { cells: NotebookCell[] };
      const errors = executed.cells.flatMap((c) => c.outputs ?? [])
        .filter((o) => (o as { output_type?: string }).output_type === "error");
      assert.deepEqual(errors, [], `${name} has error outputs`);
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  });
}
