/**
 * The paper's tables rebuilt from an experiment's finished runs (`rpt table`):
 *
 * - **Table 1**: a row per method x optimizer (and target or settings group when the plan
 *   varies them), a column per task with `initial → optimized` of the task's headline figure
 *   on test (accuracy (EM) for HotPotQA, task score for LiveBench-Math, accuracy for Formula:
 *   `taskHeadline`), and the Aggregate, the mean over the tasks;
 * - **Table 2**: the confidence-aware methods (`rpt-ca`, `gepa-ca`), score and Brier per task;
 * - **paired tests** between methods of the same row group on the same test examples: the
 *   paired bootstrap of `lib/metrics.ts` (as `rpt compare` and the run summary use it) over
 *   every (seed, test example) pair;
 * - **overfitting checks** per run: the dev-vs-test gap of the selected prompt, prompt growth,
 *   patches the guard rejected for quoting training answers, training answers in the
 *   selected prompt.
 *
 * A cell with several seeds shows their mean and a 95% Student t-interval over seeds; a cell
 * of one run, the percentile bootstrap interval over its test examples (`stats.ts`). With the
 * plan's `preset: "paper"`, the paper's reported figures (`paper.ts`) are added as rows
 * labelled "paper (reported)". This module computes; `render.ts` writes Markdown, LaTeX, CSV
 * and HTML.
 *
 * @module
 */
import { pairedBootstrap } from "../metrics.ts";
import { batchBaselineNote } from "./methods.ts";
import { PAPER_REPORTED, paperOptimizerName } from "./paper.ts";
import type { ExperimentPlan } from "./plan.ts";
import type { CellResult, ItemOutcome } from "./result.ts";
import { type MeanInterval, meanInterval } from "./stats.ts";

/** A task column: the plan's entry, the task's name and its headline figure. */
export interface TaskColumn {
  task: string;
  name: string;
  headline: string;
}

/** A figure of a table cell: initial (the seed prompt) and optimized (the selected prompt). */
export interface Figure {
  initial: MeanInterval;
  optimized: MeanInterval;
}

/** A row of the experiment's own results. */
export interface ResultRow {
  /** `RPT · openai:gpt-5` (and target / settings when the plan varies them). */
  label: string;
  method: string;
  optimizer: string;
  /** What else tells rows of one method and optimizer apart (target, settings), or "". */
  group: string;
  seeds: number[];
}

/** A Table 1 row: a headline figure per task and the Aggregate. */
export interface Table1Row extends ResultRow {
  cells: (Figure | null)[];
  aggregate: Figure | null;
}

/** A row of the paper's reported figures. */
export interface ReportedRow {
  label: string;
  /** Per task (null where the paper gives none). */
  cells: (number | null)[];
  aggregate: number | null;
  /** `gain`: the cells are RPT's largest gain over the initial prompt; `aggregate`: RPT's Aggregate. */
  kind: "gain" | "aggregate";
}

/** A Table 2 row: score and Brier per task. */
export interface Table2Row extends ResultRow {
  cells: ({ score: Figure; brier: Figure } | null)[];
}

/** A paired test between two methods of a row group on one task. */
export interface PairedTest {
  task: string;
  /** The row group: optimizer (and target / settings). */
  group: string;
  a: string;
  b: string;
  statistic: "headline" | "brier";
  /** (seed, example) pairs. */
  n: number;
  /** Mean of a minus mean of b, with its 95% paired bootstrap interval. */
  delta: number;
  lo: number;
  hi: number;
  /** Share of resamples in which a's mean is higher. */
  probabilityAGreater: number;
}

/** One run's overfitting checks. */
export interface RunCheck {
  id: string;
  task: string;
  label: string;
  optimizer: string;
  seed: number;
  devTestGap: number | null;
  initialChars: number;
  selectedChars: number;
  maxChars: number;
  copiedAnswerRejections: number | null;
  copiedAnswersInSelected: number;
  stop: string;
}

/** Everything `rpt table` shows. */
export interface ExperimentTables {
  name: string;
  simulated: boolean;
  preset: string | null;
  columns: TaskColumn[];
  table1: Table1Row[];
  reported: ReportedRow[];
  table2: Table2Row[];
  paired: PairedTest[];
  checks: RunCheck[];
  /** Cells of the plan that have no result (not finished), by id. */
  missing: string[];
  /** How the intervals were made, for the notes. */
  intervals: string;
  /** With batch on and baseline rows: that they ran interactive (`batchBaselineNote`). */
  baselineNote: string | null;
}

interface Group {
  key: string;
  row: ResultRow;
  results: CellResult[];
}

/**
 * A model spec as tables show it: without its base URL (a local server's port is no part of
 * what was compared), unless two specs of the plan differ only there.
 *
 * @example
 * ```ts
 * import { specLabel } from "./table.ts";
 * const specs = ["openai-compatible:q@http://127.0.0.1:1/v1", "openai:gpt-5"];
 * if (specLabel(specs[0]!, specs) !== "openai-compatible:q") throw new Error();
 * ```
 */
export function specLabel(spec: string, all: readonly string[]): string {
  const bare = (s: string) => {
    const colon = s.indexOf(":");
    const at = s.indexOf("@", colon + 1);
    return at < 0 ? s : s.slice(0, at);
  };
  const short = bare(spec);
  return all.some((other) => other !== spec && bare(other) === short) ? spec : short;
}

function groupResults(plan: ExperimentPlan, results: readonly CellResult[]): Group[] {
  const specs = (role: "target" | "optimizer" | "critic" | "embedder") => [
    ...new Set(results.map((r) => r.models[role])),
  ];
  const shown = (role: "target" | "optimizer" | "critic" | "embedder", spec: string) =>
    specLabel(spec, specs(role));
  const varies = {
    target: plan.models.target.length > 1,
    critic: (plan.models.critic?.length ?? 0) > 1,
    embedder: (plan.models.embedder?.length ?? 0) > 1,
    settings: Array.isArray(plan.settings) && plan.settings.length > 1,
  };
  const groups = new Map<string, Group>();
  for (const r of results) {
    const extra = [
      varies.target ? `target ${shown("target", r.models.target)}` : "",
      varies.critic ? `critic ${shown("critic", r.models.critic)}` : "",
      varies.embedder ? `embedder ${shown("embedder", r.models.embedder)}` : "",
      varies.settings ? r.settings : "",
    ].filter((x) => x !== "").join(", ");
    const key = JSON.stringify([r.label, r.models.optimizer, extra]);
    let g = groups.get(key);
    if (g === undefined) {
      const optimizer = shown("optimizer", r.models.optimizer);
      const label = `${r.label} · ${optimizer}${extra ? ` (${extra})` : ""}`;
      g = {
        key,
        row: { label, method: r.label, optimizer, group: extra, seeds: [] },
        results: [],
      };
      groups.set(key, g);
    }
    g.results.push(r);
    if (!g.row.seeds.includes(r.seed)) g.row.seeds.push(r.seed);
  }
  for (const g of groups.values()) g.row.seeds.sort((a, b) => a - b);
  return [...groups.values()];
}

function figure(
  runs: readonly CellResult[],
  value: (r: CellResult, which: "initial" | "optimized") => number | null,
  items: (r: CellResult, which: "initial" | "optimized") => number[] | undefined,
): Figure | null {
  const of = (which: "initial" | "optimized") => {
    const kept = runs.filter((r) => value(r, which) !== null);
    if (kept.length === 0) return null;
    const values = kept.map((r) => value(r, which) as number);
    return meanInterval(values, kept.length === 1 ? items(kept[0]!, which) : undefined);
  };
  const initial = of("initial");
  const optimized = of("optimized");
  return initial === null || optimized === null ? null : { initial, optimized };
}

const headlineOf = (r: CellResult, which: "initial" | "optimized") =>
  r[which].test?.headline ?? null;
const headlineItems = (r: CellResult, which: "initial" | "optimized") =>
  r.testItems?.[which].map((i) => i.headline);
const brierOf = (r: CellResult, which: "initial" | "optimized") => r[which].test?.brier ?? null;
const brierItems = (r: CellResult, which: "initial" | "optimized") =>
  r.testItems?.[which].flatMap((i) => i.brier === null ? [] : [i.brier]);

function aggregate(runs: readonly CellResult[], columns: readonly TaskColumn[]): Figure | null {
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const perSeed = (which: "initial" | "optimized") =>
    seeds.flatMap((seed) => {
      const values = columns.map((c) => {
        const r = runs.find((x) => x.seed === seed && x.task === c.task);
        return r === undefined ? null : headlineOf(r, which);
      });
      return values.every((v) => v !== null)
        ? [(values as number[]).reduce((a, b) => a + b, 0) / values.length]
        : [];
    });
  const initial = perSeed("initial");
  const optimized = perSeed("optimized");
  if (initial.length === 0 || optimized.length === 0) return null;
  return { initial: meanInterval(initial), optimized: meanInterval(optimized) };
}

function pairs(
  a: readonly CellResult[],
  b: readonly CellResult[],
  pick: (i: ItemOutcome) => number | null,
): [number[], number[]] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const ra of a) {
    const rb = b.find((r) => r.seed === ra.seed);
    if (ra.testItems === null || rb?.testItems == null) continue;
    const byId = new Map(rb.testItems.optimized.map((i) => [i.id, i]));
    for (const ia of ra.testItems.optimized) {
      const ib = byId.get(ia.id);
      const va = pick(ia);
      const vb = ib === undefined ? null : pick(ib);
      if (va === null || vb === null) continue;
      xs.push(va);
      ys.push(vb);
    }
  }
  return [xs, ys];
}

const meanOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function pairedTests(groups: readonly Group[], columns: readonly TaskColumn[]): PairedTest[] {
  const out: PairedTest[] = [];
  // Rows compared are those of one optimizer (and target / settings): methods differ only.
  const byContext = new Map<string, Group[]>();
  for (const g of groups) {
    const context = JSON.stringify([g.row.optimizer, g.row.group]);
    byContext.set(context, [...(byContext.get(context) ?? []), g]);
  }
  for (const members of byContext.values()) {
    const [reference, ...others] = members;
    if (reference === undefined) continue;
    for (const column of columns) {
      const runsOf = (g: Group) => g.results.filter((r) => r.task === column.task);
      const test = (a: Group, b: Group, statistic: PairedTest["statistic"]) => {
        const [xs, ys] = pairs(
          runsOf(a),
          runsOf(b),
          statistic === "headline" ? (i) => i.headline : (i) => i.brier,
        );
        if (xs.length === 0) return;
        const r = pairedBootstrap(xs, ys, meanOf, { seed: 0 });
        out.push({
          task: column.name,
          group: [a.row.optimizer, a.row.group].filter((x) => x).join(", "),
          a: a.row.method,
          b: b.row.method,
          statistic,
          n: xs.length,
          delta: r.estimate,
          lo: r.lo,
          hi: r.hi,
          probabilityAGreater: r.probabilityAGreater,
        });
      };
      for (const other of others) test(other, reference, "headline");
      const aware = members.filter((g) => g.results.some((r) => r.confidenceAware));
      for (let i = 1; i < aware.length; i++) test(aware[i]!, aware[0]!, "brier");
    }
  }
  return out;
}

function reportedRows(plan: ExperimentPlan, columns: readonly TaskColumn[]): ReportedRow[] {
  if (plan.preset !== "paper") return [];
  const p = PAPER_REPORTED.rpt;
  const gains = p.largestGainOverInitial as unknown as Record<string, number | undefined>;
  const used = new Set(plan.models.optimizer.map(paperOptimizerName).filter((n) => n));
  const aggregates = p.aggregate.values.filter((v) => used.size === 0 || used.has(v.optimizer));
  return [
    {
      label: "paper (reported): RPT, largest gain over the initial prompt",
      cells: columns.map((c) => gains[c.name] ?? null),
      aggregate: null,
      kind: "gain",
    },
    ...aggregates.map((v): ReportedRow => ({
      label: `paper (reported): RPT · ${v.optimizer}`,
      cells: columns.map(() => null),
      aggregate: v.value,
      kind: "aggregate",
    })),
  ];
}

/**
 * The tables of an experiment from its plan and the results of its finished cells
 * (`cellIds`: every cell of the plan, to list those still missing).
 */
export function buildTables(
  plan: ExperimentPlan,
  results: readonly CellResult[],
  cellIds: readonly string[] = [],
): ExperimentTables {
  const columns: TaskColumn[] = plan.tasks.flatMap((task) => {
    const r = results.find((x) => x.task === task);
    return r === undefined ? [] : [{ task, name: r.taskName, headline: r.headline }];
  });
  const groups = groupResults(plan, results);
  const table1 = groups.map((g): Table1Row => ({
    ...g.row,
    cells: columns.map((c) =>
      figure(g.results.filter((r) => r.task === c.task), headlineOf, headlineItems)
    ),
    aggregate: columns.length > 1 ? aggregate(g.results, columns) : null,
  }));
  const table2 = groups.filter((g) => g.results.some((r) => r.confidenceAware)).map((g) => ({
    ...g.row,
    cells: columns.map((c) => {
      const runs = g.results.filter((r) => r.task === c.task);
      const score = figure(runs, headlineOf, headlineItems);
      const brier = figure(runs, brierOf, brierItems);
      return score === null || brier === null ? null : { score, brier };
    }),
  }));
  const counts = groups.map((g) => g.row.seeds.length);
  const intervals = [
    ...(counts.some((n) => n > 1)
      ? [
        "several seeds: mean over seeds, 95% Student t-interval over seeds (mean ± t(0.975, n-1) · s / √n)",
      ]
      : []),
    ...(counts.some((n) => n === 1)
      ? [
        "one run: its value, 95% percentile bootstrap interval over its test examples (1,000 resamples)",
      ]
      : []),
    "Aggregate: the mean over the tasks per seed, its interval over seeds",
  ].join("; ");
  const done = new Set(results.map((r) => r.id));
  return {
    name: plan.name ?? "experiment",
    simulated: results.some((r) => r.simulated),
    preset: plan.preset ?? null,
    columns,
    table1,
    reported: reportedRows(plan, columns),
    table2,
    paired: pairedTests(groups, columns),
    checks: results.map((r) => ({
      id: r.id,
      task: r.taskName,
      label: r.label,
      optimizer: specLabel(r.models.optimizer, results.map((x) => x.models.optimizer)),
      seed: r.seed,
      devTestGap: r.checks.devTestGap,
      initialChars: r.checks.promptChars.initial,
      selectedChars: r.checks.promptChars.selected,
      maxChars: r.checks.promptChars.max,
      copiedAnswerRejections: r.checks.copiedAnswerRejections,
      copiedAnswersInSelected: r.checks.copiedAnswersInSelected,
      stop: r.stop,
    })),
    missing: cellIds.filter((id) => !done.has(id)),
    intervals,
    baselineNote: batchBaselineNote(plan.batch, results.map((r) => r.method)) ?? null,
  };
}
