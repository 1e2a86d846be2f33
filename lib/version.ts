/**
 * The version of rpt, printed by `rpt --version` (with Deno's) and kept in step with
 * releases.
 *
 * @module
 */

/** rpt's version (semantic versioning; no release has been made yet). */
export const RPT_VERSION = "0.1.0";
