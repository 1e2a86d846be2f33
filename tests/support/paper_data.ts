/**
 * Where the tests find the paper's data (the three tasks' splits, `SHA256SUMS`, the upstream
 * files), and {@linkcode paperDataTest}: a `Deno.test` that Deno reports as *ignored*, never as
 * passed, when that data is absent. A fresh clone has no data directory, so its test run must
 * still pass with these tests visibly skipped.
 *
 * The directory is the first of `RPT_DATA_DIR`, `../shared/data` beside the repository, and
 * the repository's `data/` (where `deno task rpt data:fetch` writes) that holds the paper's
 * splits. It is looked up lazily: no test module reads the data at load time.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

const REPO = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** The line a run prints once when the paper's data is absent (see `scripts/paper_data_notice.ts`). */
export const PAPER_DATA_NOTICE = "tests that need the paper's data are ignored: set " +
  "RPT_DATA_DIR to its directory, or run `deno task rpt data:fetch`";

/** The marker every paper-data test carries in its name, whether it runs or is ignored. */
export const PAPER_DATA_TAG = "[paper data]";

/** The file whose presence marks a directory as holding the paper's splits. */
const MARKER = "hotpotqa/train.jsonl";

function candidates(): string[] {
  const fromEnv = Deno.env.get("RPT_DATA_DIR");
  return [
    ...(fromEnv ? [fromEnv] : []),
    join(REPO, "../shared/data"),
    join(REPO, "data"),
  ];
}

let found: string | null | undefined;

/**
 * The paper's data directory, or `null` when no candidate holds the splits. `needs` are
 * further files (relative to it) a test needs, e.g. `upstream/python_shuffle_vectors.json`,
 * which a directory rebuilt by `data:fetch` does not have.
 */
export function paperDataDir(needs: readonly string[] = []): string | null {
  if (found === undefined) {
    found = candidates().find((dir) => existsSync(join(dir, MARKER))) ?? null;
  }
  if (found === null) return null;
  const dir = found;
  return needs.every((file) => existsSync(join(dir, file))) ? dir : null;
}

/**
 * The paper's data directory for a test body that {@linkcode paperDataTest} only runs when it
 * exists.
 */
export function requirePaperData(needs: readonly string[] = []): string {
  const dir = paperDataDir(needs);
  if (dir === null) throw new Error(`the paper's data is not available (${PAPER_DATA_NOTICE})`);
  return dir;
}

/** Options of {@linkcode paperDataTest} beyond Deno's own. */
export interface PaperDataTestOptions {
  /** Files (relative to the data directory) the test needs beyond the splits. */
  needs?: readonly string[];
  /** Deno's sanitizers and other test options. */
  sanitizeResources?: boolean;
  sanitizeOps?: boolean;
}

/**
 * Registers a test that needs the paper's data: it receives the data directory, carries
 * {@linkcode PAPER_DATA_TAG} in its name, and is ignored (reported as such) without the data.
 */
export function paperDataTest(
  name: string,
  fn: (dataDir: string) => Promise<void> | void,
  options: PaperDataTestOptions = {},
): void {
  const { needs = [], ...rest } = options;
  const dir = paperDataDir(needs);
  Deno.test({
    ...rest,
    name: `${name} ${PAPER_DATA_TAG}`,
    ignore: dir === null,
    fn: () => fn(requirePaperData(needs)),
  });
}
