/**
 * How the simulated models recognise which task example a conversation is about: they load
 * every known task's splits once (per data directory) and look rendered lines up by the
 * start of the example's question, which every task renders verbatim at a line start.
 *
 * @module
 */
import type { Example, Split } from "../tasks/schema.ts";
import { chosenDataDir } from "../tasks/common.ts";
import { generateSyntheticSplit } from "../tasks/synthetic.ts";

/** A task example together with the task and split it came from. */
export interface SimExample extends Example {
  /** Task name: `hotpotqa`, `livebench_math`, `formula`, `synthetic`, or a served task's. */
  task: string;
  /** The split it was loaded from. */
  split: Split;
  /** The example's context as other protocols render it (the target ignores it as prompt text). */
  contextVariants?: string[];
  /** For an example of a served task (`served.ts`): what the simulator knows of its scoring. */
  served?: ServedScoring;
}

/** How a served task's example is scored, as far as the simulated models need it. */
export interface ServedScoring {
  /** Whether the task's own scorer gives `answer` full credit on this example. */
  accepts(answer: string): boolean;
  /** Other examples' gold answers, for plausible wrong answers. */
  others: readonly string[];
}

/** All examples the simulator knows, with a lookup from rendered text. */
export interface ExampleIndex {
  /** Every known example. */
  examples: SimExample[];
  /** Tasks whose data was found. */
  tasks: string[];
  /** The example whose question appears in `text` at a line start, if any. */
  find(text: string): SimExample | undefined;
  /**
   * {@linkcode find} over a conversation's message texts: the example with the longest
   * question found in any of them (the first on a tie), remembered per text, since a
   * prompt's text and an example's are sent again and again.
   */
  findIn(texts: readonly string[]): SimExample | undefined;
}

/** The most texts {@linkcode rememberedFinder} remembers before it starts again. */
const REMEMBERED_TEXTS = 2048;

/** Makes {@linkcode ExampleIndex.findIn} from a `find`. */
export function rememberedFinder(
  find: (text: string) => SimExample | undefined,
): (texts: readonly string[]) => SimExample | undefined {
  const known = new Map<string, SimExample | null>();
  return (texts) => {
    let best: SimExample | undefined;
    for (const text of texts) {
      let found = known.get(text);
      if (found === undefined) {
        if (known.size >= REMEMBERED_TEXTS) known.clear();
        known.set(text, found = find(text) ?? null);
      }
      if (found !== null && (best === undefined || found.question.length > best.question.length)) {
        best = found;
      }
    }
    return best;
  };
}

const KEY_CHARS = 60;
const SPLITS: Split[] = ["train", "dev", "test"];
const DATA_TASKS = ["hotpotqa", "livebench_math", "formula"];
const LABEL = /^[A-Za-z][A-Za-z ]{0,30}:\s*/;

function keyOf(line: string): string {
  return line.trim().slice(0, KEY_CHARS);
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The data directory the simulator reads: `explicit`, else `RPT_DATA_DIR`, else the
 * shared `../shared/data` next to the repository when it exists, else the repository's
 * `data/`. Undefined when none of them exists (the synthetic task still works).
 */
export function simDataDir(explicit?: string): string | undefined {
  const chosen = chosenDataDir(explicit);
  if (chosen !== undefined) return chosen;
  for (const relative of ["../../../shared/data", "../../data"]) {
    const path = decodeURIComponent(new URL(relative, import.meta.url).pathname);
    if (existsSync(path)) return path;
  }
  return undefined;
}

async function loadTaskExamples(task: string, dataDir: string): Promise<SimExample[]> {
  if (!existsSync(`${dataDir}/${task}`)) return [];
  try {
    const { getTask } = await import("../tasks/registry.ts");
    const impl = await getTask(task);
    // The reference protocol renders HotPotQA's contexts with other spacing.
    const reference = task === "hotpotqa"
      ? await getTask(task, { protocol: "reference" })
      : undefined;
    const out: SimExample[] = [];
    for (const split of SPLITS) {
      // Checksums are the loaders' business; the simulator only needs the rows.
      const options = { dataDir, verify: false } as { dataDir: string };
      const rows = await impl.load(split, options);
      const variants = reference ? await reference.load(split, options) : [];
      rows.forEach((ex, i) => {
        const other = variants[i]?.context;
        const differs = other !== undefined && other !== ex.context && other.length > 10;
        out.push({ ...ex, task, split, ...(differs ? { contextVariants: [other] } : {}) });
      });
    }
    return out;
  } catch {
    // A task whose loader is missing or fails: LiveBench rows are simple enough to read
    // directly (CONTRACTS: id = question_id, subtask = task); others stay unknown.
    return task === "livebench_math" ? await readLivebenchDirectly(dataDir) : [];
  }
}

async function readLivebenchDirectly(dataDir: string): Promise<SimExample[]> {
  const out: SimExample[] = [];
  for (const split of SPLITS) {
    let text: string;
    try {
      text = await Deno.readTextFile(`${dataDir}/livebench_math/${split}.jsonl`);
    } catch {
      return [];
    }
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const row = JSON.parse(line) as Record<string, unknown>;
      if (typeof row.question !== "string" || typeof row.answer !== "string") continue;
      out.push({
        id: String(row.question_id ?? row.id),
        question: row.question,
        answer: row.answer,
        subtask: typeof row.task === "string" ? row.task : undefined,
        row,
        task: "livebench_math",
        split,
      });
    }
  }
  return out;
}

function buildIndex(examples: SimExample[], tasks: string[]): ExampleIndex {
  const byKey = new Map<string, SimExample[]>();
  for (const ex of examples) {
    const key = keyOf(ex.question.split("\n")[0] ?? "");
    if (key.length < 8) continue;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [ex]);
    else list.push(ex);
  }
  const find = (text: string): SimExample | undefined => {
    let best: SimExample | undefined;
    for (const line of text.split("\n")) {
      const candidates = [keyOf(line), keyOf(line.replace(LABEL, ""))];
      for (const key of candidates) {
        for (const ex of byKey.get(key) ?? []) {
          if (!text.includes(ex.question)) continue;
          if (best === undefined || ex.question.length > best.question.length) best = ex;
        }
      }
    }
    return best;
  };
  return { examples, tasks, find, findIn: rememberedFinder(find) };
}

const cache = new Map<string, Promise<ExampleIndex>>();

/**
 * The example index for a data directory (loaded once per process and directory). The
 * synthetic task is always included.
 */
export function loadExampleIndex(dataDir: string | undefined): Promise<ExampleIndex> {
  const cacheKey = dataDir ?? "";
  let index = cache.get(cacheKey);
  if (index === undefined) {
    index = (async () => {
      const examples: SimExample[] = [];
      const tasks: string[] = [];
      if (dataDir !== undefined) {
        for (const task of DATA_TASKS) {
          const found = await loadTaskExamples(task, dataDir);
          if (found.length > 0) tasks.push(task);
          examples.push(...found);
        }
      }
      for (const split of SPLITS) {
        for (const ex of generateSyntheticSplit(split)) {
          examples.push({ ...ex, task: "synthetic", split });
        }
      }
      tasks.push("synthetic");
      return buildIndex(examples, tasks);
    })();
    cache.set(cacheKey, index);
  }
  return index;
}
