/**
 * `rpt table EXP_DIR`: the paper's Table 1 (initial → optimized headline figure per task and
 * the Aggregate, per method x optimizer) and Table 2 (score and Brier of the confidence-aware
 * methods) rebuilt from an experiment's finished runs, with intervals over seeds, paired
 * tests between methods and overfitting checks (see `lib/experiment/table.ts`). Writes
 * Markdown, LaTeX, CSV and a self-contained HTML page with the charts, and prints one.
 *
 * @module
 */
import { join } from "node:path";
import { EXPERIMENT_FILES } from "../experiment/index_file.ts";
import {
  loadExperiment,
  renderTables,
  TABLE_FILES,
  type TableFormat,
  writeTables,
} from "../experiment/load.ts";
import { ConfigError } from "../util/errors.ts";
import { exactlyOneRunDir, flagHelp, parseCommandArgs } from "./args.ts";
import { hint } from "./hints.ts";

const HELP = `usage: rpt table EXP_DIR [--format markdown|latex|csv|html] [--out DIR] [--quiet]

Tables of an experiment directory (rpt experiment): Table 1 (initial -> optimized per task
and the Aggregate), Table 2 (score and Brier of the confidence-aware methods), paired tests
between methods, overfitting checks per run.

  --format F            what to print (default markdown)
  --out DIR             where to write tables.md, tables.tex, tables.csv and tables.html
                        (default EXP_DIR/tables)
${flagHelp("quiet", " and no table (only the files are written)")}`;

const FORMATS = Object.keys(TABLE_FILES) as TableFormat[];

/** `rpt table`. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      format: { type: "string" },
      out: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  }, " (see 'rpt table --help')");
  if (values.help) {
    console.log(hint(HELP));
    return 0;
  }
  const dir = exactlyOneRunDir(positionals, "rpt table EXP_DIR");
  const format = (values.format ?? "markdown") as TableFormat;
  if (!FORMATS.includes(format)) {
    throw new ConfigError(
      `--format: expected one of ${FORMATS.join(", ")}, got '${values.format}'`,
    );
  }
  const exp = await loadExperiment(dir);
  if (exp.results.length === 0) {
    throw new ConfigError(
      `${dir}: no run has finished yet (see ${join(dir, EXPERIMENT_FILES.index)})`,
    );
  }
  const paths = await writeTables(exp, values.out ?? join(exp.dir, EXPERIMENT_FILES.tables));
  if (!values.quiet) {
    console.log(renderTables(exp)[format].trimEnd());
    console.error(`rpt table: wrote ${Object.values(paths).join(", ")}`);
  }
  return 0;
}
