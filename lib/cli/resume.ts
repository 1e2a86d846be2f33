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
import { ConfigError } from "../util/errors.ts";

const HELP = `usage: rpt resume RUN_DIR [--quiet] [--max-error-rate R] [--timeout S] [--retries N]
                          [--max-backoff S] [--[no-]batch] [--batch-poll S]

Continues an interrupted or incomplete run from its last complete step (the config is read
from RUN_DIR/config.json, API keys from the environment; each model goes to the server the
run used, with a warning when the environment now names another). Answers already received
come from the response cache: only calls that never completed are sent.
  --max-error-rate R  from now on, count up to a share R (0-1) of failed calls as failures
  --timeout S         per-attempt timeout of a model call, in seconds
  --retries N         retries of a failed model call
  --max-backoff S     longest wait between two attempts of a call, in seconds
  --[no-]batch        from now on, send full-split evaluations and critiques as batch jobs
                      (or not); a batch in flight when the run stopped is polled again,
                      never submitted twice
  --batch-poll S      wait between two polls of a batch job, in seconds (default 30)
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
      batch: { type: "boolean" },
      "no-batch": { type: "boolean" },
      "batch-poll": { type: "string" },
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
