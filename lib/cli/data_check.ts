/**
 * `rpt data:check [--data-dir DIR]`: compares every data file in the data directory with
 * the manifest (sha256, and the row count of the splits) and prints one line per file.
 *
 * @module
 */
import { MANIFEST, sha256Hex } from "../data/manifest.ts";
import { resolveDataDir } from "../tasks/common.ts";
import { flagHelp, parseCommandArgs } from "./args.ts";
import { hint } from "./hints.ts";

const HELP = `usage: rpt data:check [--data-dir DIR]

Checks the split files and seed prompts (seed_prompt.json) of hotpotqa, livebench_math and
formula against data/manifest.json.
Exit code 0 when every file matches, 1 otherwise (rebuild with 'rpt data:fetch').

${flagHelp("data-dir", " (default RPT_DATA_DIR, then data/)")}`;

/** The state of one data file. */
export interface FileCheck {
  /** Path relative to the data directory. */
  path: string;
  status: "ok" | "missing" | "mismatch";
  rows?: number;
  sha256?: string;
}

/**
 * Checks every manifest file under `dataDir`.
 *
 * @example
 * ```ts
 * import { checkDataDir } from "./data_check.ts";
 * const dir = await Deno.makeTempDir();
 * const checks = await checkDataDir(dir);
 * await Deno.remove(dir);
 * if (!checks.every((c) => c.status === "missing")) throw new Error("unexpected");
 * ```
 */
export async function checkDataDir(dataDir: string): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const [path, entry] of Object.entries(MANIFEST)) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(`${dataDir.replace(/\/+$/, "")}/${path}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        out.push({ path, status: "missing" });
        continue;
      }
      throw error;
    }
    const sha256 = await sha256Hex(bytes);
    if (entry.rows === undefined) {
      out.push({ path, status: sha256 === entry.sha256 ? "ok" : "mismatch", sha256 });
      continue;
    }
    const rows = new TextDecoder().decode(bytes).split("\n").filter((l) => l.trim() !== "").length;
    const ok = sha256 === entry.sha256 && rows === entry.rows;
    out.push({ path, status: ok ? "ok" : "mismatch", rows, sha256 });
  }
  return out;
}

/** Runs `rpt data:check`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  }, `\n\n${HELP}`);
  if (values.help) {
    console.log(hint(HELP));
    return 0;
  }
  const dataDir = resolveDataDir(values["data-dir"]);
  const checks = await checkDataDir(dataDir);
  console.log(`data directory: ${dataDir}`);
  const width = Math.max(...checks.map((c) => c.path.length));
  for (const c of checks) {
    const expected = MANIFEST[c.path];
    const rows = c.rows === undefined ? "" : `rows ${c.rows}/${expected?.rows}, `;
    const detail = c.status === "mismatch"
      ? ` (${rows}sha256 ${c.sha256?.slice(0, 12)}... expected ${expected?.sha256.slice(0, 12)}...)`
      : c.status === "ok" && c.rows !== undefined
      ? ` (${c.rows} rows)`
      : "";
    console.log(`  ${c.path.padEnd(width)}  ${c.status}${detail}`);
  }
  const bad = checks.filter((c) => c.status !== "ok").length;
  if (bad > 0) console.error(hint(`${bad} file(s) missing or different: run 'rpt data:fetch'`));
  return bad === 0 ? 0 : 1;
}
