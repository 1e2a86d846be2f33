/**
 * Executes one notebook through Jupyter's nbconvert on Deno's kernel, as a user would run
 * it: shared by the notebook tests and the render script.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's `notebooks/` folder. */
export const NOTEBOOK_DIR = fileURLToPath(new URL("../notebooks/", import.meta.url));

/**
 * Executes `notebooks/<name>` into `outDir` and returns the executed notebook's JSON, or
 * throws with the tail of nbconvert's stderr when a cell fails.
 */
export async function executeNotebook(name: string, outDir: string): Promise<unknown> {
  const out = await new Deno.Command("jupyter", {
    args: [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.timeout=300",
      "--ExecutePreprocessor.kernel_name=deno",
      "--output-dir",
      outDir,
      join(NOTEBOOK_DIR, name),
    ],
    cwd: NOTEBOOK_DIR,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (out.code !== 0) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`executing ${name} failed:\n${err.slice(-4000)}`);
  }
  return JSON.parse(await Deno.readTextFile(join(outDir, name)));
}
