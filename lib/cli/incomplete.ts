/**
 * An incomplete stop (calls that failed after their retries) on the command line: the one
 * paragraph `rpt optimize` / `rpt resume` print before exiting with
 * {@linkcode EXIT_INCOMPLETE}, its command written the way the CLI was started.
 *
 * @module
 */
import {
  failedCallsText,
  type IncompleteInfo,
  incompleteText,
  runFailedCallsText,
} from "../incomplete.ts";
import { hint } from "./hints.ts";

/** Re-exported for the command line's modules. */
export { failedCallsText, runFailedCallsText };

/** Exit code of a run that stopped incomplete (2 is a user error, 1 anything else). */
export const EXIT_INCOMPLETE = 3;

/**
 * The one paragraph a person reads when a run stops incomplete ({@linkcode incompleteText}),
 * with the command to go on written the way this CLI was started.
 *
 * @example
 * ```ts
 * import { incompleteParagraph } from "./incomplete.ts";
 * const text = incompleteParagraph({ step: 1, endpoint: "http://127.0.0.1:9/v1",
 *   failures: { phase: "dev", failed: 20, total: 20, lastError: "HTTP 503" } }, "runs/x");
 * if (!text.startsWith("rpt: step 1 is incomplete: 20 of 20 target calls on dev failed")) {
 *   throw new Error(text);
 * }
 * if (!/continue with: \S.* resume runs\/x /.test(text)) throw new Error(text);
 * ```
 */
export function incompleteParagraph(info: IncompleteInfo, dir: string): string {
  return hint(`rpt: ${incompleteText(info, dir)}`);
}
