/**
 * Writing a run directory (the layout is in `schema.ts`). Every file is written atomically
 * (`util/fs.ts`: temporary file, then rename); a step folder is built under `iter-NNN.tmp/` and renamed
 * into place before the checkpoint moves past it, so a run killed at any point resumes from
 * its last complete step. Events are appended line by line: a kill can tear only the last
 * line, which the reader skips.
 *
 * @module
 */
import { join, resolve as resolvePath } from "node:path";
import type { PromptProgram } from "../prompt.ts";
import type { DiagnosticReport } from "../report.ts";
import type { RunEventInput } from "./events.ts";
import {
  type Evaluation,
  RUN_FILES,
  STEP_FILES,
  type StepDecisionFile,
  stepDirName,
  type StepRecordFile,
} from "./schema.ts";
import { writeJsonAtomic, writeTextAtomic } from "../util/fs.ts";
import { fileAccessError } from "../util/fs_errors.ts";

/** The files of one step folder, typed (see `STEP_FILES` for their names). */
export interface StepFiles {
  prompt: PromptProgram;
  dev: Evaluation;
  test?: Evaluation;
  report?: DiagnosticReport;
  reportMarkdown?: string;
  record?: StepRecordFile;
  decision?: StepDecisionFile;
}

/**
 * Writes one run directory. Events are appended line by line; everything else is written
 * atomically.
 */
export class RunWriter {
  /** The run directory (absolute). */
  readonly dir: string;

  /** A writer for `dir` (created when missing). */
  constructor(dir: string) {
    this.dir = resolvePath(dir);
  }

  /**
   * What to do after fixing a file problem: resume (completed steps are saved) once the
   * directory holds a run, that is once config.json is written; before, run it again.
   */
  get resumeHint(): string {
    try {
      Deno.statSync(join(this.dir, RUN_FILES.config));
    } catch {
      return "then run the same command again";
    }
    return `then continue with: rpt resume ${this.dir}`;
  }

  /**
   * Runs one write; a failure a user can fix (read-only, a full disk, a file in the way) is
   * a `FileAccessError` naming `path` and how to go on, never a stack trace.
   */
  async #guard(path: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      throw fileAccessError(error, path, "write", this.resumeHint);
    }
  }

  /** Appends one event line, stamped with the time. */
  async event(event: RunEventInput): Promise<void> {
    const line = JSON.stringify({ time: new Date().toISOString(), ...event });
    const path = join(this.dir, RUN_FILES.events);
    await this.#guard(path, async () => {
      await Deno.mkdir(this.dir, { recursive: true });
      await Deno.writeTextFile(path, line + "\n", { append: true });
    });
  }

  /** Writes any file of the run atomically (JSON unless `text` is a string). */
  async write(relative: string, value: unknown): Promise<void> {
    const path = join(this.dir, relative);
    await this.#guard(path, async () => {
      if (typeof value === "string") await writeTextAtomic(path, value);
      else await writeJsonAtomic(path, value);
    });
  }

  /** Removes a file of the run; one that is not there is fine. */
  async remove(relative: string): Promise<void> {
    await Deno.remove(join(this.dir, relative)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /**
   * Writes a step folder: every file into `iter-NNN.tmp/`, then one rename, replacing a
   * folder left by an earlier, interrupted attempt at the same step.
   */
  async writeStep(step: number, files: Record<string, unknown>): Promise<void> {
    const final = join(this.dir, stepDirName(step));
    const tmp = `${final}.tmp`;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    for (const [name, value] of Object.entries(files)) {
      const text = typeof value === "string" ? value : JSON.stringify(value, null, 2) + "\n";
      await this.#guard(join(tmp, name), async () => {
        await Deno.mkdir(tmp, { recursive: true });
        await Deno.writeTextFile(join(tmp, name), text);
      });
    }
    await Deno.remove(final, { recursive: true }).catch(() => {});
    await this.#guard(final, () => Deno.rename(tmp, final));
  }

  /** Writes a step folder from its typed files. */
  async writeStepFiles(step: number, files: StepFiles): Promise<void> {
    const named: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(files)) {
      if (value !== undefined) named[STEP_FILES[key as keyof StepFiles]] = value;
    }
    await this.writeStep(step, named);
  }

  /** Removes leftovers of an interrupted write (`*.tmp` folders and files). */
  async clean(): Promise<void> {
    for await (const entry of Deno.readDir(this.dir)) {
      if (/\.tmp(-\d+-\d+)?$/.test(entry.name)) {
        await Deno.remove(join(this.dir, entry.name), { recursive: true }).catch(() => {});
      }
    }
  }
}
