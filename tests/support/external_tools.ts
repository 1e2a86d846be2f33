/**
 * The tests that drive programs outside Deno (Jupyter's nbconvert on the Deno kernel, headless
 * Chromium) are the slowest of the suite. `.ci/run` runs them in its first pass and sets
 * `RPT_SKIP_EXTERNAL_TOOL_TESTS=1` for its second, fresh-clone pass, where they would only
 * repeat the same work; Deno then reports them as ignored, never as passed.
 *
 * @module
 */

/** Whether the tests that drive Jupyter or Chromium are switched off for this run. */
export const SKIP_EXTERNAL_TOOL_TESTS = Deno.env.get("RPT_SKIP_EXTERNAL_TOOL_TESTS") === "1";

/** The marker such tests carry in their names. */
export const EXTERNAL_TOOL_TAG = "[jupyter/chromium]";
