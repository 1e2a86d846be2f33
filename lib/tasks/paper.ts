/**
 * The built-in tasks as the paper's reference implementation runs them: the reference
 * protocol (rendering and output contract, `task.ts`), the paper's seed prompt from the data
 * directory (`paper_seed.ts`) with its knobs applied (LiveBench's `enforce_json_only`), and
 * the reference's olympiad rule (the positional fraction). This is the task half of the
 * `paper` preset; the loop's settings (selection weights, memory, clustering, iterations)
 * are the preset's own.
 *
 * @module
 */
import type { BuiltInTask } from "./common.ts";
import type { OlympiadScoring } from "./livebench/olympiad.ts";
import {
  PAPER_SEED_TASKS,
  type PaperSeedPrompt,
  paperSeedPrompt,
  type PaperSeedTask,
} from "./paper_seed.ts";

/** Options of {@linkcode paperTask}. */
export interface PaperTaskOptions {
  /** Data directory; defaults to `--data-dir`, then `RPT_DATA_DIR`, then `data/`. */
  dataDir?: string;
  /**
   * LiveBench's olympiad rule: `positional` by default, as the reference's code scores it
   * (the paper does not say; upstream's judge uses `edit_distance`).
   */
  olympiadScoring?: OlympiadScoring;
}

/** A task as the reference runs it, with the seed it starts from. */
export interface PaperTask {
  /** The task: reference protocol, `seedPrompt` = the paper's seed. */
  task: BuiltInTask;
  /** The seed with its knobs and source, as read from the data directory. */
  seed: PaperSeedPrompt;
}

/**
 * The task `name` (`hotpotqa`, `livebench_math` or `formula`) as the paper's reference
 * implementation runs it. Throws a `ConfigError` naming the file and `deno task rpt
 * data:fetch` when `<data-dir>/<name>/seed_prompt.json` is missing or differs from the
 * manifest.
 */
export async function paperTask(
  name: PaperSeedTask,
  options: PaperTaskOptions = {},
): Promise<PaperTask> {
  const seed = await paperSeedPrompt(name, { dataDir: options.dataDir });
  let task: BuiltInTask;
  if (name === "hotpotqa") {
    task = (await import("./hotpotqa.ts")).createHotpotqa({ protocol: "reference" });
  } else if (name === "livebench_math") {
    task = (await import("./livebench_math.ts")).createLivebenchMath({
      protocol: "reference",
      enforceJsonOnly: seed.knobs.enforce_json_only,
      olympiadScoring: options.olympiadScoring ?? "positional",
    });
  } else {
    task = (await import("./formula.ts")).createFormula({ protocol: "reference" });
  }
  return { task: { ...task, seedPrompt: seed.prompt }, seed };
}

/** The tasks {@linkcode paperTask} knows. */
export const PAPER_TASKS: readonly PaperSeedTask[] = PAPER_SEED_TASKS;
