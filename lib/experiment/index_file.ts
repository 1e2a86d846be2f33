/**
 * The experiment directory and its index. `index.json` lists every cell of the grid with
 * its state (`pending`, `running`, `finished`, `failed`), run directory, attempts and last
 * error; it is rewritten atomically after every change of state, so a killed experiment
 * leaves an index that says which cells were finished and which were under way.
 *
 * ```text
 * <exp>/plan.json            the plan (ExperimentPlan, paths made absolute)
 * <exp>/index.json           ExperimentIndex: the cells and their states
 * <exp>/cache.sqlite         the one response cache of every run (unless the plan names one)
 * <exp>/runs/<cell id>/      one run directory per cell: an RPT run record, or a baseline's
 *                            comparison record (compare.json, ...)
 * <exp>/results/<cell id>.json  CellResult of a finished cell (what `rpt table` reads)
 * <exp>/tables/              what `rpt table` writes (Markdown, LaTeX, CSV, HTML)
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { readRunJson } from "../run/reader.ts";
import { writeJsonAtomic } from "../util/fs.ts";
import { METHOD_NAMES } from "./methods.ts";
import type { Cell } from "./grid.ts";

/** File and folder names of an experiment directory. */
export const EXPERIMENT_FILES = {
  plan: "plan.json",
  index: "index.json",
  cache: "cache.sqlite",
  runs: "runs",
  results: "results",
  tables: "tables",
} as const;

/** A cell's state. */
export const CellState = z.enum(["pending", "running", "finished", "failed"]);
/** A cell's state. */
export type CellState = z.infer<typeof CellState>;

/** One cell of the index. */
export const IndexCell = z.object({
  id: z.string(),
  task: z.string(),
  method: z.enum(METHOD_NAMES),
  label: z.string(),
  models: z.object({
    target: z.string(),
    optimizer: z.string(),
    critic: z.string().optional(),
    embedder: z.string().optional(),
  }),
  settings: z.string(),
  seed: z.number().int(),
  /** The run directory, relative to the experiment directory. */
  runDir: z.string(),
  state: CellState,
  /** Times the cell was started (a resumed cell counts again). */
  attempts: z.number().int().min(0),
  /** The last failure's message (a failed cell, or one failed before and now retried). */
  error: z.string().optional(),
  started: z.string().optional(),
  ended: z.string().optional(),
});
/** One cell of the index. */
export type IndexCell = z.infer<typeof IndexCell>;

/** `index.json`. */
export const ExperimentIndex = z.object({
  version: z.literal(1),
  /** True when any cell's models are the offline simulator. */
  simulated: z.boolean(),
  cells: z.array(IndexCell),
});
/** `index.json`. */
export type ExperimentIndex = z.infer<typeof ExperimentIndex>;

/** The path of a cell's run directory, relative to the experiment directory. */
export function cellRunDir(id: string): string {
  return `${EXPERIMENT_FILES.runs}/${id}`;
}

/** A new index: every cell pending. */
export function newIndex(cells: readonly Cell[], simulated: boolean): ExperimentIndex {
  return {
    version: 1,
    simulated,
    cells: cells.map((c) => ({
      id: c.id,
      task: c.task,
      method: c.method,
      label: c.label,
      models: { ...c.models },
      settings: c.settings.label,
      seed: c.seed,
      runDir: cellRunDir(c.id),
      state: "pending",
      attempts: 0,
    })),
  };
}

/** Reads and validates `<dir>/index.json`. */
export function readIndex(dir: string): Promise<ExperimentIndex> {
  return readRunJson(join(dir, EXPERIMENT_FILES.index), ExperimentIndex);
}

/**
 * The index of a running experiment: changes are applied in memory and written in order,
 * each write atomic, so concurrent cells never interleave a half-written file.
 */
export class IndexWriter {
  #writing: Promise<void> = Promise.resolve();

  /** Keeps `index` for `dir`. */
  constructor(readonly dir: string, readonly index: ExperimentIndex) {}

  /** The cell `id`. */
  cell(id: string): IndexCell {
    const cell = this.index.cells.find((c) => c.id === id);
    if (cell === undefined) throw new Error(`experiment index: no cell ${id}`);
    return cell;
  }

  /** Applies `patch` to cell `id` (an `undefined` field is removed) and writes the index. */
  update(id: string, patch: Partial<IndexCell>): Promise<void> {
    const cell = this.cell(id);
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete (cell as Record<string, unknown>)[key];
      else (cell as Record<string, unknown>)[key] = value;
    }
    return this.save();
  }

  /** Writes the index (after the writes already queued). */
  save(): Promise<void> {
    const snapshot = structuredClone(this.index);
    this.#writing = this.#writing.then(() =>
      writeJsonAtomic(join(this.dir, EXPERIMENT_FILES.index), snapshot)
    );
    return this.#writing;
  }
}
