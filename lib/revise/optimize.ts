/**
 * RPT end to end (DESIGN section 1): {@linkcode optimize} opens a session and steps it
 * until the run stops (T iterations, the optimizer's stop, a guard, the tool, the budget),
 * then finishes it; {@linkcode continueRun} does the same from a run directory's last
 * complete step, whether the run was stepped by `optimize` or by hand. A Ctrl-C (an
 * aborted signal) stops after the last complete step, which is saved.
 *
 * @module
 */
import type { RunSummary } from "../run/schema.ts";
import type { RunState } from "../run/schema.ts";
import type { UsageSnapshot } from "../llm/usage.ts";
import type { SessionConfigInput } from "./config.ts";
import { isAbort } from "./context.ts";
import { openSession, reopenSession, type SessionOptions } from "./open.ts";
import type { Session } from "./session.ts";

/** Options of {@linkcode optimize} and {@linkcode continueRun}. */
export type OptimizeOptions = SessionOptions;

/** What a run returned. */
export interface OptimizeResult {
  dir: string;
  /** Null when the run was interrupted before it finished. */
  summary: RunSummary | null;
  state: RunState;
  interrupted: boolean;
  usage: UsageSnapshot;
}

/** Steps `session` until the run stops, then finishes it; an abort leaves it resumable. */
export async function runToEnd(session: Session, signal?: AbortSignal): Promise<OptimizeResult> {
  const result = (summary: RunSummary | null): OptimizeResult => ({
    dir: session.dir,
    summary,
    state: session.state,
    interrupted: summary === null,
    usage: session.usage(),
  });
  try {
    while (!session.finished) {
      signal?.throwIfAborted();
      await session.step();
    }
    signal?.throwIfAborted();
    return result(await session.finish());
  } catch (error) {
    await session.close(error);
    if (isAbort(error, signal)) return result(null);
    throw error;
  }
}

/**
 * Runs RPT with `config` and writes the run record. Everything that can be wrong with the
 * configuration (unknown task, bad model spec, missing key, unreadable data) raises a
 * `ConfigError` before any call is made. A task object, data and models may be given in
 * `options` instead of names and specs. With an aborted signal the run stops after saving
 * its last complete step (`interrupted: true`); {@linkcode continueRun} (or `rpt resume`)
 * continues it.
 *
 * @example
 * ```ts ignore
 * import { optimize } from "./optimize.ts";
 * const { summary } = await optimize({
 *   task: "synthetic", target: "sim:target", optimizer: "sim:optimizer", iterations: 3,
 * }, { runDir: "runs/demo" });
 * console.log(summary?.selected.test?.score);
 * ```
 */
export async function optimize(
  config: SessionConfigInput,
  options: OptimizeOptions = {},
): Promise<OptimizeResult> {
  return await runToEnd(await openSession(config, options), options.signal);
}

/**
 * Continues a run from its last complete step, with the config recorded in its directory.
 * Calls that completed before the interruption are answered by the response cache, so a
 * resumed run ends with the same `summary.json` as an uninterrupted one and pays for no
 * call twice. A finished run with a summary is returned as it is; one whose final test
 * scoring was interrupted is finished. Give the task, data or models objects the run was
 * opened with, if any.
 */
export async function continueRun(
  runDir: string,
  options: Omit<OptimizeOptions, "runDir"> = {},
): Promise<OptimizeResult> {
  return await runToEnd(await reopenSession(runDir, options), options.signal);
}
