/**
 * `rpt resume RUN_DIR`: continues an interrupted run from its last complete step with the
 * config recorded in the run directory. Calls that completed before the interruption come
 * from the response cache, so none is paid twice.
 *
 * @module
 */
import { continueRun } from "../revise/optimize.ts";
import { exactlyOneRunDir, flagHelp, parseCommandArgs, runConfigFlag } from "./args.ts";
import { callFlagsHelp } from "./call_flags.ts";
import { hint } from "./hints.ts";
import { runLoop } from "./optimize.ts";
import { ConfigError } from "../util/errors.ts";

const HELP = `usage: rpt resume RUN_DIR [--quiet] [--max-error-rate R] [--timeout SECONDS]
       [--retries N] [--max-backoff SECONDS] [--[no-]batch] [--batch-poll SECONDS]

Continues an interrupted or incomplete run from its last complete step (the config is read
from RUN_DIR/config.json, API keys from the environment; each model goes to the server the
run used, with a warning when the environment now names another). Answers already received
come from the response cache: only calls that never completed are sent. Elapsed time and
spend go on from the earlier sessions'.
${callFlagsHelp(["max-error-rate", "timeout", "retries", "max-backoff"])}
  --[no-]batch          from now on, send full-split evaluations and critiques as batch
                        jobs (or not); a batch in flight when the run stopped is polled
                        again, never submitted twice
  --batch-poll SECONDS  wait between two polls of a batch job (default 30)
${flagHelp("quiet")}
The call and batch flags apply from now on and are written into RUN_DIR/config.json
(without them, the run's recorded values hold). Exit codes as for 'rpt optimize'
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
      batch: { type: "boolean" },
      "no-batch": { type: "boolean" },
      "batch-poll": { type: "string" },
    },
  }, " (see 'rpt resume --help')");
  if (parsed.values.help) {
    console.log(hint(HELP));
    return 0;
  }
  const dir = exactlyOneRunDir(parsed.positionals, "rpt resume RUN_DIR");
  const maxErrorRate = runConfigFlag(parsed.values["max-error-rate"], "max-error-rate");
  const timeoutSeconds = runConfigFlag(parsed.values.timeout, "timeout");
  const retries = runConfigFlag(parsed.values.retries, "retries", { integer: true });
  const backoffMaxSeconds = runConfigFlag(parsed.values["max-backoff"], "max-backoff");
  const batchPollSeconds = runConfigFlag(parsed.values["batch-poll"], "batch-poll");
  if (parsed.values.batch === true && parsed.values["no-batch"] === true) {
    throw new ConfigError("--batch and --no-batch contradict each other");
  }
  const batch = parsed.values.batch === true
    ? true
    : parsed.values["no-batch"] === true
    ? false
    : undefined;
  const configOverrides = {
    ...(batch !== undefined ? { batch } : {}),
    ...(batchPollSeconds !== undefined ? { batchPollSeconds } : {}),
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
