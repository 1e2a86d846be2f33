/**
 * `rpt resume RUN_DIR`: continues an interrupted run from its last complete step with the
 * config recorded in the run directory. Calls that completed before the interruption come
 * from the response cache, so none is paid twice.
 *
 * @module
 */
import { continueRun } from "../revise/optimize.ts";
import { exactlyOneRunDir, parseCommandArgs } from "./args.ts";
import { runLoop } from "./optimize.ts";

const HELP = `usage: rpt resume RUN_DIR [--quiet]

Continues an interrupted run from its last complete step (the config is read from
RUN_DIR/config.json; API keys from the environment).`;

/** `rpt resume`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs({
    args,
    allowPositionals: true,
    options: { quiet: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  }, " (see 'rpt resume --help')");
  if (parsed.values.help) {
    console.log(HELP);
    return 0;
  }
  const dir = exactlyOneRunDir(parsed.positionals, "rpt resume RUN_DIR");
  return await runLoop(parsed.values.quiet === true, (options) => continueRun(dir, options));
}
