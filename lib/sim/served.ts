/**
 * Serving a task the simulator has no model of (a user's own task, `custom:<task.json>`):
 * the simulated target answers its examples from their gold answers, right for a base
 * share and wrong through the generic, prompt-addressable traps of `generic_traps.ts`, and
 * the simulated critic names those failures. What the simulator needs of the task is its
 * examples and its scorer (whether an answer gets full credit), handed over once at start
 * by {@linkcode serveTask}.
 *
 * A task whose rows have no gold answer the scorer accepts cannot be served: that is a
 * {@linkcode ConfigError} at start, never a run that scores 0.
 *
 * @module
 */
import type { Example, Split } from "../tasks/schema.ts";
import type { Task } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import { hashString } from "../util/random.ts";
import { type ExampleIndex, rememberedFinder, type SimExample } from "./examples.ts";

/** The tasks the simulator knows by themselves (their traps are in `traps.ts`). */
export const NATIVE_SIM_TASKS: readonly string[] = [
  "hotpotqa",
  "livebench_math",
  "formula",
  "synthetic",
];

/** A task handed to the simulated models: its examples, each with its scoring. */
export interface SimServedTask {
  /** The task's name. */
  name: string;
  /** Every example of every split, with `served` set. */
  examples: readonly SimExample[];
  /** A hash of the examples (ids, texts, gold answers): part of the models' cache identity. */
  fingerprint: string;
  /** Finds the example a rendered conversation is about (question and context). */
  find(text: string): SimExample | undefined;
}

/** A task's examples by split. */
export type SplitExamples = Readonly<Record<Split, readonly Example[]>>;

/** Whether the simulator answers `taskName` without being handed its examples. */
export function simServesNatively(taskName: string): boolean {
  return NATIVE_SIM_TASKS.includes(taskName);
}

function acceptsFn(task: Task, ex: Example): (answer: string) => boolean {
  return (answer) => {
    const value = { reasoning: "", answer, confidence: 1 };
    const raw = JSON.stringify({ [task.reasoningField]: "", answer, confidence: 1 });
    try {
      return task.score(ex, { ok: true, value }, raw).full;
    } catch {
      return false; // A scorer that fails on an answer does not give it credit.
    }
  };
}

/** Why the simulator cannot answer `ex` right, or undefined when it can. */
function unservable(ex: Example, accepts: (answer: string) => boolean): string | undefined {
  if (ex.answer.trim() === "") return "no gold answer";
  if (!accepts(ex.answer)) return "the task's scorer gives its own gold answer no full credit";
  return undefined;
}

function keyOf(line: string): string {
  return line.replace(/^[A-Za-z][A-Za-z ]{0,30}:\s*/, "").trim().slice(0, 60);
}

/** An index of served examples by the first line of their question, context-aware. */
function servedFinder(examples: readonly SimExample[]): (text: string) => SimExample | undefined {
  const byKey = new Map<string, SimExample[]>();
  for (const ex of examples) {
    const key = keyOf(ex.question.split("\n")[0] ?? "");
    byKey.set(key, [...(byKey.get(key) ?? []), ex]);
  }
  const size = (ex: SimExample) => ex.question.length + (ex.context?.length ?? 0);
  return (text) => {
    let best: SimExample | undefined;
    for (const line of text.split("\n")) {
      for (const ex of byKey.get(keyOf(line)) ?? []) {
        if (!text.includes(ex.question)) continue;
        if (ex.context !== undefined && !text.includes(ex.context)) continue;
        if (best === undefined || size(ex) > size(best)) best = ex;
      }
    }
    return best;
  };
}

/**
 * Hands `task` to the simulator. With `strict` (the target is simulated), a row the
 * simulator cannot answer right (no gold answer, or one the task's own scorer refuses) is
 * a {@linkcode ConfigError} naming how many and the first; otherwise such rows are left out
 * (a simulated critic only loses its knowledge of them).
 *
 * @example
 * ```ts
 * import { serveTask } from "./served.ts";
 * import { loadCustomTask } from "../tasks/custom.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/task.json`, JSON.stringify({ name: "t", data: ".", scorer: "exact" }));
 *   const task = await loadCustomTask(`${dir}/task.json`);
 *   const ex = { id: "a", question: "Capital of Peru?", answer: "Lima", row: {} };
 *   const served = serveTask(task, { train: [ex], dev: [], test: [] }, { strict: true });
 *   if (served.find("Question: Capital of Peru?")?.id !== "a") throw new Error("not found");
 *   if (served.examples[0]?.served?.accepts("lima") !== true) throw new Error("exact ignores case");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function serveTask(
  task: Task,
  data: SplitExamples,
  opts: { strict: boolean },
): SimServedTask {
  const examples: SimExample[] = [];
  const problems: string[] = [];
  let rows = 0;
  const golds = [...new Set(Object.values(data).flat().map((e) => e.answer.trim()))];
  for (const split of ["train", "dev", "test"] as const) {
    for (const ex of data[split]) {
      rows++;
      const accepts = acceptsFn(task, ex);
      const why = unservable(ex, accepts);
      if (why !== undefined) {
        problems.push(`${ex.id} in ${split}: ${why}`);
        continue;
      }
      // A handful of other answers, from around this row's, is enough for a plausible wrong
      // one (and keeps this linear in the rows).
      const near = Array.from(
        { length: Math.min(24, golds.length) },
        (_, k) => golds[(rows + k) % golds.length] as string,
      );
      const others = near.filter((g) => g !== "" && !accepts(g));
      examples.push({ ...ex, task: task.name, split, served: { accepts, others } });
    }
  }
  if (opts.strict && problems.length > 0) {
    throw new ConfigError(
      `the simulated target cannot serve task '${task.name}': it answers from the gold ` +
        `answers, and ${problems.length} of ${rows} rows have none it can give (first: ` +
        `${problems[0]}). Give every row an answer its scorer accepts, or use a real target model`,
    );
  }
  const fingerprint = hashString(
    JSON.stringify(examples.map((e) => [e.split, e.id, e.question, e.context ?? "", e.answer])),
  ).toString(16);
  return { name: task.name, examples, fingerprint, find: servedFinder(examples) };
}

/** An example index that looks in `served` first, then in the simulator's own `index`. */
export function withServed(index: ExampleIndex, served: SimServedTask | undefined): ExampleIndex {
  if (served === undefined) return index;
  const servedIn = rememberedFinder(served.find);
  return {
    examples: [...served.examples, ...index.examples],
    tasks: [served.name, ...index.tasks],
    find: (text) => served.find(text) ?? index.find(text),
    findIn: (texts) => servedIn(texts) ?? index.findIn(texts),
  };
}
