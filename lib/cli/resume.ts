/**
 * `rpt resume RUN_DIR`: continues an interrupted run from its last complete step with the
 * config recorded in the run directory. Calls that completed before the interruption come
 * from the response cache, so none is paid twice.
 *
 * @module
 */
import { continueRun } from "../revise/optimize.ts";
import { exactlyOneRunDir, parseCommandArgs, runConfigFlag } from "./args.ts";
import { runLoop } from "./optimize.ts";

const HELP = `usage: rpt resume RUN_DIR [--quiet] [--max-error-rate R] [--timeout S] [--retries N]
                          [--max-backoff S]

Continues an interrupted or incomplete run from its last complete step (the config is read
from RUN_DIR/config.json, API keys from the environment; each model goes to the server the
run used, with a warning when the environment now names another). Answers already received
come from the response cache: only calls that never completed are sent.
  --max-error-rate R  from now on, count up to a share R (0-1) of failed calls as failures
  --timeout S         per-attempt timeout of a model call, in seconds
  --retries N         retries of a failed model call
  --max-backoff S     longest wait between two attempts of a call, in seconds
These are written into RUN_DIR/config.json. Exit codes as for 'rpt optimize'
(3: incomplete again, 2: a problem with the command or its files).`;

/** `rpt resume`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      "max-error-rate": { type: "string" },
      timeout: { type: "string" },
      retries: { type: "string" },
      "max-backoff": { type: "string" },
    },
  }, " (see 'rpt resume --help')");
  if (parsed.values.help) {
    console.log(HELP);
    return 0;
  }
  const dir = exactlyOneRunDir(parsed.positionals, "rpt resume RUN_DIR");
  const maxErrorRate = runConfigFlag(parsed.values["max-error-rate"], "max-error-rate");
  const timeoutSeconds = runConfigFlag(parsed.values.timeout, "timeout");
  const retries = runConfigFlag(parsed.values.retries, "retries", { integer: true });
  const backoffMaxSeconds = runConfigFlag(parsed.values["max-backoff"], "max-backoff");
  const configOverrides = {
    ...(maxErrorRate !== undefined ? { maxErrorRate } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(backoffMaxSeconds !== undefined ? { backoffMaxSeconds } : {}),
  };
  return await runLoop(
    parsed.values.quiet === true,
    (options) => continueRun(dir, { ...options, configOverrides }),
  );
}
