/**
 * Rebuilds the paper's splits from their public upstream sources, for users with internet
 * access (`rpt data:fetch`):
 * - HotPotQA: the distractor validation split (7,405 rows, Hugging Face `hotpotqa/hotpot_qa`)
 *   read through the Hugging Face datasets-server rows API (plain HTTPS + JSON, no Python
 *   or Parquet reader needed), drawn with CPython's `random.Random(seed).shuffle`;
 * - LiveBench math: the 368 rows of `livebench/math` (split `test`), shuffled with seed 0
 *   and cut 123 / 123 / 122;
 * - Formula: the three ACE files, unchanged;
 * - each task's `seed_prompt.json`: the paper's seed prompt, parsed from the reference
 *   implementation's task file at the pinned commit (`seed_source.ts`).
 *
 * The drawing logic is pure ({@linkcode rebuildLivebenchSplits},
 * {@linkcode rebuildHotpotSplits}) so it is tested offline; files are written the way
 * Python's `json.dumps(row, ensure_ascii=False)` wrote them and checked against the manifest.
 *
 * @module
 */
import type { Split } from "../tasks/schema.ts";
import { ConfigError } from "../util/errors.ts";
import { MANIFEST, sha256Hex } from "./manifest.ts";
import { pyJsonDumps, pyRstrip, pyStrip } from "./python.ts";
import { PyRandom, shuffledRange } from "./pyrandom.ts";
import { writeTextAtomic } from "../util/fs.ts";
import {
  rebuildSeedPromptText,
  REFERENCE_COMMIT,
  REFERENCE_REPOSITORY,
  SEED_SOURCE_FILES,
} from "./seed_source.ts";

/** A JSON row. */
export type Row = Record<string, unknown>;

/** Rows of the three splits. */
export type SplitRows = Record<Split, Row[]>;

// ---------------------------------------------------------------------------------------------
// LiveBench math

/** The upstream LiveBench math fields, in the order the split files keep them. */
export const LIVEBENCH_FIELDS = [
  "question_id",
  "category",
  "task",
  "subtask",
  "year",
  "turns",
  "ground_truth",
  "hardness",
  "expressions",
  "livebench_release_date",
  "livebench_removal_date",
  "release_date",
] as const;

/** Upstream LiveBench math row count the splits were drawn from. */
export const LIVEBENCH_ROWS = 368;

const FORMAT_MARKER = "Your final answer should be";

/**
 * Splits a LiveBench question into the question proper and its answer-format hint: the
 * trailing block from the last "Your final answer should be" on is removed (and the text
 * before it right-stripped); the hint is the text after `Answer:` in that block, or the
 * block's text after "format:" when it has no `Answer:` line. No block: hint null.
 *
 * @example
 * ```ts
 * import { splitLivebenchQuestion } from "./fetch.ts";
 * const r = splitLivebenchQuestion("Solve.\n\nYour final answer should be STRICTLY in the format:\n\n<Detailed reasoning>\n\nAnswer: <list>");
 * if (r.question !== "Solve." || r.answerFormatHint !== "<list>") throw new Error(JSON.stringify(r));
 * ```
 */
export function splitLivebenchQuestion(raw: string): {
  question: string;
  answerFormatHint: string | null;
} {
  const at = raw.lastIndexOf(FORMAT_MARKER);
  if (at === -1) return { question: raw, answerFormatHint: null };
  const block = raw.slice(at);
  const answerLine = /(?:^|\n)Answer:[ \t]*(.*)$/m.exec(block);
  let hint: string;
  if (answerLine) hint = pyStrip(block.slice(answerLine.index).replace(/^\n?Answer:/, ""));
  else {
    const format = block.indexOf("format:");
    hint = pyStrip(format === -1 ? block.slice(FORMAT_MARKER.length) : block.slice(format + 7));
  }
  return { question: pyRstrip(raw.slice(0, at)), answerFormatHint: hint === "" ? null : hint };
}

/**
 * One split-file row from an upstream row: the upstream fields (in {@linkcode LIVEBENCH_FIELDS}
 * order, any others after them) plus `id`, `raw_question`, `question`,
 * `answer_format_hint` and `answer`.
 */
export function deriveLivebenchRow(upstream: Row): Row {
  const out: Row = {};
  for (const key of LIVEBENCH_FIELDS) if (Object.hasOwn(upstream, key)) out[key] = upstream[key];
  for (const [key, value] of Object.entries(upstream)) if (!(key in out)) out[key] = value;
  const turns = upstream.turns;
  if (!Array.isArray(turns) || typeof turns[0] !== "string") {
    throw new ConfigError(`LiveBench row ${String(upstream.question_id)}: turns[0] missing`);
  }
  const raw = turns[0];
  const { question, answerFormatHint } = splitLivebenchQuestion(raw);
  out.id = upstream.question_id;
  out.raw_question = raw;
  out.question = question;
  out.answer_format_hint = answerFormatHint;
  out.answer = pyStrip(String(upstream.ground_truth ?? ""));
  return out;
}

/**
 * The LiveBench math splits from the upstream rows in upstream order:
 * `random.Random(0).shuffle(rows)`, then 123 / 123 / 122.
 */
export function rebuildLivebenchSplits(upstreamRows: readonly Row[]): SplitRows {
  if (upstreamRows.length !== LIVEBENCH_ROWS) {
    throw new ConfigError(
      `LiveBench math: expected ${LIVEBENCH_ROWS} upstream rows, got ${upstreamRows.length} ` +
        `(the upstream set changed; the paper's splits cannot be rebuilt from it)`,
    );
  }
  const rows = [...upstreamRows];
  new PyRandom(0).shuffle(rows);
  const derived = rows.map(deriveLivebenchRow);
  return { train: derived.slice(0, 123), dev: derived.slice(123, 246), test: derived.slice(246) };
}

// ---------------------------------------------------------------------------------------------
// HotPotQA

/** Rows in HotPotQA's distractor validation split. */
export const HOTPOT_VALIDATION_ROWS = 7405;

/**
 * Validation indices of the HotPotQA splits: train = first 300 of the seed-0 shuffle;
 * test = first 500 of the seed-1 shuffle not in train; dev = first 300 of the seed-2
 * shuffle in neither.
 *
 * @example
 * ```ts
 * import { hotpotSplitIndices } from "./fetch.ts";
 * const s = hotpotSplitIndices();
 * if (s.train[0] !== 35 || s.train.length !== 300 || s.test.length !== 500) throw new Error();
 * ```
 */
export function hotpotSplitIndices(total = HOTPOT_VALIDATION_ROWS): Record<Split, number[]> {
  const train = shuffledRange(total, 0).slice(0, 300);
  const taken = new Set(train);
  const test = shuffledRange(total, 1).filter((i) => !taken.has(i)).slice(0, 500);
  for (const i of test) taken.add(i);
  const dev = shuffledRange(total, 2).filter((i) => !taken.has(i)).slice(0, 300);
  return { train, dev, test };
}

const HOTPOT_FIELDS = [
  "id",
  "question",
  "answer",
  "type",
  "level",
  "supporting_facts",
  "context",
] as const;

/** The HotPotQA splits from the 7,405 validation rows in upstream order. */
export function rebuildHotpotSplits(validationRows: readonly Row[]): SplitRows {
  if (validationRows.length !== HOTPOT_VALIDATION_ROWS) {
    throw new ConfigError(
      `HotPotQA: expected ${HOTPOT_VALIDATION_ROWS} validation rows, got ${validationRows.length}`,
    );
  }
  const pick = (i: number): Row => {
    const src = validationRows[i] as Row;
    const out: Row = {};
    for (const key of HOTPOT_FIELDS) out[key] = src[key];
    return out;
  };
  const idx = hotpotSplitIndices();
  return { train: idx.train.map(pick), dev: idx.dev.map(pick), test: idx.test.map(pick) };
}

// ---------------------------------------------------------------------------------------------
// Serialisation and download

/** JSON Lines text exactly as the paper's Python scripts wrote it. */
export function toJsonlText(rows: readonly Row[], floatKeys: ReadonlySet<string> = new Set()) {
  return rows.map((row) => `${pyJsonDumps(row, { floatKeys })}\n`).join("");
}

/** Where the upstream sources live (overridable for tests and mirrors). */
export interface UpstreamUrls {
  /** Base of the datasets-server API. */
  datasetsServer: string;
  /** Base URL of the ACE finance data folder. */
  aceFinanceData: string;
  /**
   * Base URL of the reference implementation's files at the pinned commit (the seed
   * prompts); default {@linkcode REFERENCE_RAW_BASE}.
   */
  referenceFiles?: string;
}

/** The reference implementation's raw files at the commit the paper's seeds are pinned to. */
export const REFERENCE_RAW_BASE =
  `https://raw.githubusercontent.com/${REFERENCE_REPOSITORY}/${REFERENCE_COMMIT}`;

/** The public upstream locations. */
export const DEFAULT_UPSTREAM: Required<UpstreamUrls> = {
  datasetsServer: "https://datasets-server.huggingface.co",
  aceFinanceData: "https://raw.githubusercontent.com/ace-agent/ace/main/eval/finance/data",
  referenceFiles: REFERENCE_RAW_BASE,
};

/** Options for the download functions. */
export interface FetchOptions {
  upstream?: UpstreamUrls;
  /** The fetch implementation (default: global fetch). */
  fetch?: typeof fetch;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Rows per datasets-server request (at most 100). */
  pageSize?: number;
  /** Retries per request on 429 / 5xx / network errors. */
  retries?: number;
  /** First back-off delay in ms, doubled per retry (default 1000). */
  retryBaseMs?: number;
  signal?: AbortSignal;
}

async function getWithRetry(url: string, options: FetchOptions): Promise<Response> {
  const doFetch = options.fetch ?? fetch;
  const retries = options.retries ?? 5;
  for (let attempt = 0;; attempt++) {
    let reason: string;
    try {
      const response = await doFetch(url, { signal: options.signal });
      if (response.ok) return response;
      await response.body?.cancel();
      reason = `HTTP ${response.status}`;
      if (response.status !== 429 && response.status < 500) {
        throw new ConfigError(`GET ${url} failed: ${reason}`);
      }
    } catch (error) {
      if (error instanceof ConfigError || options.signal?.aborted) throw error;
      reason = (error as Error).message;
    }
    if (attempt >= retries) throw new ConfigError(`GET ${url} failed: ${reason}`);
    // Back off so the public APIs' rate limits recover.
    await new Promise((r) =>
      setTimeout(r, Math.min(30_000, (options.retryBaseMs ?? 1000) * 2 ** attempt))
    );
  }
}

/**
 * All rows of a Hugging Face dataset split through the datasets-server `/rows` API, in
 * upstream order.
 */
export async function fetchDatasetRows(
  dataset: string,
  config: string,
  split: string,
  options: FetchOptions = {},
): Promise<Row[]> {
  const base = (options.upstream ?? DEFAULT_UPSTREAM).datasetsServer;
  const pageSize = Math.min(100, options.pageSize ?? 100);
  const rows: Row[] = [];
  let total = Infinity;
  while (rows.length < total) {
    const url = `${base}/rows?dataset=${encodeURIComponent(dataset)}&config=${
      encodeURIComponent(config)
    }&split=${encodeURIComponent(split)}&offset=${rows.length}&length=${pageSize}`;
    const body = await (await getWithRetry(url, options)).json() as {
      rows?: { row_idx: number; row: Row }[];
      num_rows_total?: number;
    };
    if (!Array.isArray(body.rows) || typeof body.num_rows_total !== "number") {
      throw new ConfigError(`${url}: unexpected response (no rows / num_rows_total)`);
    }
    total = body.num_rows_total;
    if (body.rows.length === 0) break;
    for (const r of body.rows) {
      if (r.row_idx !== rows.length) {
        throw new ConfigError(`${url}: rows out of order (row_idx ${r.row_idx})`);
      }
      rows.push(r.row);
    }
    options.log?.(`  ${dataset}: ${rows.length} / ${total} rows`);
  }
  return rows;
}

/** The result for one written file. */
export interface WrittenFile {
  /** Path relative to the data directory. */
  path: string;
  /** Non-blank lines of a split file; absent for `seed_prompt.json`. */
  rows?: number;
  sha256: string;
  /** Whether the checksum matches the manifest. */
  matches: boolean;
}

async function writeSplitFile(
  dataDir: string,
  relative: string,
  text: string,
): Promise<WrittenFile> {
  await writeTextAtomic(`${dataDir}/${relative}`, text);
  const sha256 = await sha256Hex(new TextEncoder().encode(text));
  const rows = text.split("\n").filter((l) => l.trim() !== "").length;
  return { path: relative, rows, sha256, matches: MANIFEST[relative]?.sha256 === sha256 };
}

/**
 * Downloads the task's file of the reference implementation at the pinned commit, rebuilds
 * `<task>/seed_prompt.json` from its `make_seed_prompt` and writes it into `dataDir`. The
 * result says whether the bytes match the manifest.
 */
export async function fetchSeedPrompt(
  task: (typeof FETCHABLE_TASKS)[number],
  dataDir: string,
  options: FetchOptions = {},
): Promise<WrittenFile> {
  const base = options.upstream?.referenceFiles ?? DEFAULT_UPSTREAM.referenceFiles;
  const url = `${base}/${SEED_SOURCE_FILES[task]}`;
  const python = await (await getWithRetry(url, options)).text();
  const text = rebuildSeedPromptText(task, python);
  const relative = `${task}/seed_prompt.json`;
  await writeTextAtomic(`${dataDir.replace(/\/+$/, "")}/${relative}`, text);
  const sha256 = await sha256Hex(new TextEncoder().encode(text));
  return { path: relative, sha256, matches: MANIFEST[relative]?.sha256 === sha256 };
}

/** The tasks `data:fetch` can rebuild. */
export const FETCHABLE_TASKS = ["hotpotqa", "livebench_math", "formula"] as const;

/** Downloads one task's upstream data and writes its three split files into `dataDir`. */
export async function fetchTask(
  task: (typeof FETCHABLE_TASKS)[number],
  dataDir: string,
  options: FetchOptions = {},
): Promise<WrittenFile[]> {
  const dir = dataDir.replace(/\/+$/, "");
  const written: WrittenFile[] = [];
  if (task === "formula") {
    const base = (options.upstream ?? DEFAULT_UPSTREAM).aceFinanceData;
    const files: Record<Split, string> = {
      train: "formula_train_subset_500.jsonl",
      dev: "formula_val_subset_300.jsonl",
      test: "formula_test.jsonl",
    };
    for (const split of ["train", "dev", "test"] as const) {
      const text = await (await getWithRetry(`${base}/${files[split]}`, options)).text();
      written.push(await writeSplitFile(dir, `formula/${split}.jsonl`, text));
    }
    return written;
  }
  const splits = task === "hotpotqa"
    ? rebuildHotpotSplits(
      await fetchDatasetRows("hotpotqa/hotpot_qa", "distractor", "validation", options),
    )
    : rebuildLivebenchSplits(await fetchDatasetRows("livebench/math", "default", "test", options));
  const floatKeys = new Set(task === "livebench_math" ? ["hardness"] : []);
  for (const split of ["train", "dev", "test"] as const) {
    const text = toJsonlText(splits[split], floatKeys);
    written.push(await writeSplitFile(dir, `${task}/${split}.jsonl`, text));
  }
  return written;
}
