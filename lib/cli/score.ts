/**
 * `rpt score`: scores a predictions file against a task split with the task's own parser
 * and scorer, without calling any model.
 *
 * ```
 * rpt score --task hotpotqa --split dev --predictions preds.jsonl [--out scored.jsonl]
 *           [--data-dir DIR] [--json] [--strict]
 * ```
 *
 * Each predictions line is `{"id": ..., "output": "<raw model text>"}`. Problems in the
 * file (lines that are not such JSON, ids not in the split, repeated ids, split items with
 * no prediction) are reported on stderr; a missing item scores 0 like a format error, so
 * the summary always covers the whole split. `--strict` makes any problem exit 1.
 *
 * @module
 */
import { computeMetrics, type TraceLike } from "../metrics.ts";
import { getTask } from "../tasks/registry.ts";
import { type Metrics, PredictionLine, Split } from "../tasks/schema.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";
import { flagHelp, parseCommandArgs } from "./args.ts";
import { fixed } from "../util/format.ts";
import { writeTextAtomic } from "../util/fs.ts";
import { hint } from "./hints.ts";

const HELP = `usage: rpt score --task T --split S --predictions FILE.jsonl [--out FILE.jsonl]
                 [--data-dir DIR] [--json] [--strict]

  --task T              hotpotqa | livebench_math | formula | custom:<path-to-task.json>
  --split S             train | dev | test
  --predictions FILE    JSON Lines: {"id": ..., "output": "<raw model text>"} per line
  --out FILE            write one line per split item: {id, score, full, format_error,
                        details}
${flagHelp("data-dir", " (default RPT_DATA_DIR, then data/)")}
${flagHelp("json", ": the summary, not the table")}
  --strict              exit 1 when the predictions file has any problem`;

/** One scored line of `--out`. */
export interface ScoredLine {
  id: string;
  score: number;
  full: boolean;
  format_error: string | null;
  details: Record<string, unknown>;
}

/** What `rpt score` found wrong with a predictions file. */
export interface PredictionProblems {
  /** `file:line: problem` for lines that are not valid prediction JSON. */
  garbage: string[];
  /** Ids not in the split, with their line. */
  unknown: { id: string; line: number }[];
  /** Repeated ids (the first occurrence is scored), with the repeating line. */
  duplicates: { id: string; line: number }[];
  /** Split ids without a prediction. */
  missing: string[];
}

/** The result of scoring a predictions file. */
export interface ScoreRun {
  lines: ScoredLine[];
  metrics: Metrics;
  problems: PredictionProblems;
}

/** Options of {@linkcode scorePredictions}. */
export interface ScorePredictionsOptions {
  task: string;
  split: Split;
  predictionsPath: string;
  dataDir?: string;
}

/**
 * Scores a predictions file; the library form of `rpt score`.
 */
export async function scorePredictions(options: ScorePredictionsOptions): Promise<ScoreRun> {
  const task = await getTask(options.task);
  const examples = await task.load(options.split, { dataDir: options.dataDir });
  const known = new Set(examples.map((e) => e.id));
  let text: string;
  try {
    text = await Deno.readTextFile(options.predictionsPath);
  } catch (error) {
    throw new ConfigError(`${options.predictionsPath}: cannot read: ${(error as Error).message}`);
  }
  const problems: PredictionProblems = { garbage: [], unknown: [], duplicates: [], missing: [] };
  const outputs = new Map<string, string>();
  text.split("\n").forEach((raw, index) => {
    const lineText = raw.replace(/\r$/, "");
    if (lineText.trim() === "") return;
    const line = index + 1;
    const where = `${options.predictionsPath}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (error) {
      problems.garbage.push(`${where}: invalid JSON: ${(error as Error).message}`);
      return;
    }
    const parsed = PredictionLine.safeParse(value);
    if (!parsed.success) {
      problems.garbage.push(`${where}: ${describeSchemaIssue(parsed.error, "(line)")}`);
      return;
    }
    const { id, output } = parsed.data;
    if (!known.has(id)) problems.unknown.push({ id, line });
    else if (outputs.has(id)) problems.duplicates.push({ id, line });
    else outputs.set(id, output);
  });

  const lines: ScoredLine[] = [];
  const traces: TraceLike[] = [];
  for (const example of examples) {
    const output = outputs.get(example.id);
    if (output === undefined) {
      problems.missing.push(example.id);
      const error = "missing prediction";
      lines.push({ id: example.id, score: 0, full: false, format_error: error, details: {} });
      traces.push({
        score: 0,
        full: false,
        parsed: null,
        formatError: error,
        subtask: example.subtask,
        details: {},
      });
      continue;
    }
    const parsed = task.parse(output);
    const result = task.score(example, parsed, output);
    const formatError = parsed.ok ? undefined : parsed.error;
    lines.push({
      id: example.id,
      score: result.score,
      full: result.full,
      format_error: formatError ?? null,
      details: result.details,
    });
    traces.push({
      score: result.score,
      full: result.full,
      parsed: parsed.ok ? parsed.value : null,
      formatError,
      subtask: example.subtask,
      details: result.details,
    });
  }
  return { lines, metrics: computeMetrics(traces), problems };
}

// `rpt score` prints 4 decimals and "-" for a missing figure.
const fmt = (v: number | null | undefined, digits = 4) => fixed(v, digits, "-");

/** The summary table `rpt score` prints. */
export function formatSummary(taskName: string, split: string, m: Metrics): string {
  const rows: [string, string][] = [
    ["items", String(m.n)],
    ["score", fmt(m.score)],
    ["full credit", fmt(m.fullCredit)],
    ...Object.entries(m.extra).map(([k, v]): [string, string] => [k, fmt(v)]),
    ["avg confidence", fmt(m.avgConfidence)],
    ["Brier", fmt(m.brier)],
    ["ECE (10 bins)", fmt(m.ece)],
    ["format errors", `${fmt(m.formatErrorRate)} (${m.n - m.parsed} of ${m.n})`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [`${taskName} / ${split}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  const subtasks = Object.entries(m.perSubtask);
  if (subtasks.length > 0) {
    const w = Math.max(7, ...subtasks.map(([k]) => k.length));
    out.push("", `  ${"subtask".padEnd(w)}  ${"n".padStart(4)}  score`);
    for (const [name, s] of subtasks) {
      out.push(`  ${name.padEnd(w)}  ${String(s.n).padStart(4)}  ${fmt(s.score)}`);
    }
  }
  return out.join("\n");
}

function reportProblems(p: PredictionProblems): number {
  const show = <T>(items: T[], limit = 10) => items.slice(0, limit);
  for (const line of show(p.garbage)) console.error(`warning: ${line}`);
  if (p.garbage.length > 10) console.error(`warning: ... ${p.garbage.length - 10} more bad lines`);
  for (const u of show(p.unknown)) {
    console.error(`warning: line ${u.line}: unknown id '${u.id}' (not in the split)`);
  }
  for (const d of show(p.duplicates)) {
    console.error(`warning: line ${d.line}: duplicate id '${d.id}' (first prediction kept)`);
  }
  if (p.missing.length > 0) {
    console.error(
      `warning: ${p.missing.length} split item(s) have no prediction and score 0: ` +
        `${show(p.missing, 5).join(", ")}${p.missing.length > 5 ? ", ..." : ""}`,
    );
  }
  const total = p.garbage.length + p.unknown.length + p.duplicates.length + p.missing.length;
  if (total > 0) {
    console.error(
      `predictions: ${p.garbage.length} bad line(s), ${p.unknown.length} unknown id(s), ` +
        `${p.duplicates.length} duplicate(s), ${p.missing.length} missing`,
    );
  }
  return total;
}

/** Runs `rpt score`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      task: { type: "string" },
      split: { type: "string" },
      predictions: { type: "string" },
      out: { type: "string" },
      "data-dir": { type: "string" },
      json: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  }, `\n\n${HELP}`);
  if (values.help) {
    console.log(hint(HELP));
    return 0;
  }
  for (const flag of ["task", "split", "predictions"] as const) {
    if (values[flag] === undefined) throw new ConfigError(`missing --${flag}\n\n${HELP}`);
  }
  const split = Split.safeParse(values.split);
  if (!split.success) {
    throw new ConfigError(`--split: expected train, dev or test, got '${values.split}'`);
  }
  const result = await scorePredictions({
    task: values.task as string,
    split: split.data,
    predictionsPath: values.predictions as string,
    dataDir: values["data-dir"],
  });
  if (values.out !== undefined) {
    const text = result.lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
    await writeTextAtomic(values.out, text);
  }
  const problemCount = reportProblems(result.problems);
  if (values.json) {
    console.log(JSON.stringify({ metrics: result.metrics, problems: result.problems }, null, 2));
  } else {
    console.log(formatSummary(values.task as string, split.data, result.metrics));
  }
  return values.strict && problemCount > 0 ? 1 : 0;
}
