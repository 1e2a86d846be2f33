/**
 * Reading an experiment directory (its plan, index and the results of finished cells) and
 * writing its tables: what `rpt table` and notebook 08 use.
 *
 * @module
 */
import { join, resolve as resolvePath } from "node:path";
import { readRunJson } from "../run/reader.ts";
import { writeTextAtomic } from "../util/fs.ts";
import { EXPERIMENT_FILES, type ExperimentIndex, readIndex } from "./index_file.ts";
import { ExperimentPlan } from "./plan.ts";
import { tablesCsv, tablesHtml, tablesLatex, tablesMarkdown } from "./render.ts";
import { CellResult } from "./result.ts";
import { buildTables, type ExperimentTables } from "./table.ts";

/** An experiment directory, read. */
export interface ExperimentRecord {
  dir: string;
  plan: ExperimentPlan;
  index: ExperimentIndex;
  /** Results of the finished cells, in the plan's order. */
  results: CellResult[];
  tables: ExperimentTables;
}

/**
 * Reads `dir`: plan, index and the finished cells' results (each file validated; a problem
 * names the file and field), and builds the tables.
 *
 * @example
 * ```ts ignore
 * import { loadExperiment } from "./load.ts";
 * const exp = await loadExperiment("runs/experiment_sim");
 * console.log(exp.tables.table1.map((r) => r.label));
 * ```
 */
export async function loadExperiment(dir: string): Promise<ExperimentRecord> {
  const abs = resolvePath(dir);
  const plan = await readRunJson(join(abs, EXPERIMENT_FILES.plan), ExperimentPlan);
  const index = await readIndex(abs);
  const results: CellResult[] = [];
  for (const cell of index.cells) {
    if (cell.state !== "finished") continue;
    results.push(
      await readRunJson(join(abs, EXPERIMENT_FILES.results, `${cell.id}.json`), CellResult),
    );
  }
  const tables = buildTables(plan, results, index.cells.map((c) => c.id));
  return { dir: abs, plan, index, results, tables };
}

/** The files `rpt table` writes, by format. */
export const TABLE_FILES = {
  markdown: "tables.md",
  latex: "tables.tex",
  csv: "tables.csv",
  html: "tables.html",
} as const;

/** A format of {@linkcode TABLE_FILES}. */
export type TableFormat = keyof typeof TABLE_FILES;

/** Every format's text of an experiment's tables. */
export function renderTables(exp: ExperimentRecord): Record<TableFormat, string> {
  return {
    markdown: tablesMarkdown(exp.tables),
    latex: tablesLatex(exp.tables),
    csv: tablesCsv(exp.tables),
    html: tablesHtml(exp.tables, exp.results),
  };
}

/** Writes every format into `outDir` (atomic writes); returns the paths by format. */
export async function writeTables(
  exp: ExperimentRecord,
  outDir: string,
): Promise<Record<TableFormat, string>> {
  await Deno.mkdir(outDir, { recursive: true });
  const texts = renderTables(exp);
  const paths = {} as Record<TableFormat, string>;
  for (const format of Object.keys(TABLE_FILES) as TableFormat[]) {
    paths[format] = join(outDir, TABLE_FILES[format]);
    await writeTextAtomic(paths[format], texts[format]);
  }
  return paths;
}
