/**
 * Printed once by `deno task test` before the tests start: whether the tests that need the
 * paper's data will run (and from where) or are ignored, and how to get the data.
 *
 * @module
 */
import { PAPER_DATA_NOTICE, paperDataDir } from "../tests/support/paper_data.ts";

const dir = paperDataDir();
console.error(dir === null ? PAPER_DATA_NOTICE : `tests that need the paper's data read ${dir}`);
