/**
 * `rpt data:fetch`: rebuilds the paper's splits from the public upstream sources
 * (Hugging Face datasets-server for HotPotQA and LiveBench, GitHub for the ACE formula
 * files) and each task's `seed_prompt.json` from the reference implementation's file at the
 * pinned commit, and checks them against the manifest. Needs internet access.
 *
 * @module
 */
import { FETCHABLE_TASKS, type FetchOptions, fetchSeedPrompt, fetchTask } from "../data/fetch.ts";
import { resolveDataDir } from "../tasks/common.ts";
import { ConfigError } from "../util/errors.ts";
import { flagHelp, parseCommandArgs } from "./args.ts";
import { checkDataDir } from "./data_check.ts";
import { hint } from "./hints.ts";

const HELP = `usage: rpt data:fetch [--data-dir DIR] [--task T]... [--force]

Downloads the upstream data and writes <data-dir>/<task>/{train,dev,test}.jsonl:
  hotpotqa        HotPotQA distractor validation (CC BY-SA 4.0), 300 / 300 / 500
  livebench_math  LiveBench math (Apache-2.0), 123 / 123 / 122
  formula         ACE finance formula files (Apache-2.0), 500 / 300 / 200
and <data-dir>/<task>/seed_prompt.json, the paper's seed prompt, rebuilt from the reference
implementation (megagonlabs/RPT at its pinned commit, BSD-3-Clause).
Files that already match the manifest are skipped unless --force.
Exit code 0 when every written file matches the manifest's sha256.

${flagHelp("data-dir", " (default RPT_DATA_DIR, then data/)")}
  --task T              only this task (repeatable; default all three)
  --force               write files that already match the manifest again`;

type FetchableTask = (typeof FETCHABLE_TASKS)[number];

/** Runs `rpt data:fetch`; `fetchOptions` substitutes the network (tests, mirrors). */
export async function run(args: string[], fetchOptions: FetchOptions = {}): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      "data-dir": { type: "string" },
      task: { type: "string", multiple: true },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }, `\n\n${HELP}`);
  if (values.help) {
    console.log(hint(HELP));
    return 0;
  }
  const tasks = (values.task ?? [...FETCHABLE_TASKS]) as string[];
  for (const t of tasks) {
    if (!(FETCHABLE_TASKS as readonly string[]).includes(t)) {
      throw new ConfigError(`--task: unknown task '${t}', expected ${FETCHABLE_TASKS.join(", ")}`);
    }
  }
  const dataDir = resolveDataDir(values["data-dir"]);
  const existing = await checkDataDir(dataDir);
  let mismatches = 0;
  const options = { log: (l: string) => console.log(l), ...fetchOptions };
  for (const task of tasks as FetchableTask[]) {
    const mine = existing.filter((c) => c.path.startsWith(`${task}/`));
    const seedPath = `${task}/seed_prompt.json`;
    const needSplits = values.force ||
      mine.some((c) => c.path !== seedPath && c.status !== "ok");
    const needSeed = values.force || mine.some((c) => c.path === seedPath && c.status !== "ok");
    if (!needSplits && !needSeed) {
      console.log(`${task}: already present and matching the manifest (use --force to refetch)`);
      continue;
    }
    console.log(`${task}: fetching...`);
    const written = [
      ...(needSplits ? await fetchTask(task, dataDir, options) : []),
      ...(needSeed ? [await fetchSeedPrompt(task, dataDir, options)] : []),
    ];
    for (const w of written) {
      const rows = w.rows === undefined ? "" : `${w.rows} rows, `;
      console.log(`  ${w.path}: ${rows}${w.matches ? "matches" : "DIFFERS FROM"} manifest`);
      if (!w.matches) mismatches++;
    }
  }
  if (mismatches > 0) {
    console.error(
      `${mismatches} file(s) differ from the paper's splits (the upstream data may have changed)`,
    );
  }
  return mismatches === 0 ? 0 : 1;
}
