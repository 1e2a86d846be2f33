/**
 * The dry run of an experiment: the runs, calls, tokens and dollars of the whole grid
 * before anything is spent, with no API key needed. An RPT cell is estimated by the loop's
 * own estimate (`lib/revise/estimate.ts`); a baseline cell by its budget in target calls
 * plus the harness's two test scorings, and upper bounds on its optimizer-side calls per
 * method. With batch mode, an RPT run's full-split work (target and critic lines) is priced at the
 * providers' batch prices and the saving is shown. Every figure is an upper bound: the
 * shared cache answers identical requests of different cells (the seed's evaluations) once.
 *
 * @module
 */
import { UsageLedger } from "../llm/accounting.ts";
import { parseModelSpec } from "../llm/spec.ts";
import { type EstimateLine, estimateRun } from "../revise/estimate.ts";
import type { Task } from "../tasks/task.ts";
import type { Example } from "../tasks/schema.ts";
import { estimateTokens } from "../util/tokens.ts";
import type { CellPlan } from "./cells.ts";
import { batchBaselineNote } from "./methods.ts";

/** The estimate of one cell. */
export interface CellEstimate {
  id: string;
  lines: EstimateLine[];
  calls: number;
  tokens: number;
  /** Dollars at the prices the plan runs at (batch prices for batch lines when on). */
  usd: number;
  /** Dollars if every call were interactive. */
  interactiveUsd: number;
  /** True when the plan batches but this cell runs every call interactive (a baseline). */
  interactive: boolean;
}

/** The estimate of the whole grid. */
export interface ExperimentEstimate {
  cells: CellEstimate[];
  runs: number;
  calls: number;
  tokens: number;
  usd: number;
  interactiveUsd: number;
  batch: boolean;
  /** Models without a known price (their cost is counted as 0). */
  unpriced: string[];
  assumptions: string[];
  /** With batch on and baseline cells in the grid: that they run interactive (`batchBaselineNote`). */
  baselineNote?: string;
}

const ledger = new UsageLedger();

function price(line: EstimateLine): { usd: number; priced: boolean } {
  const spec = parseModelSpec(line.model);
  const e = ledger.estimate({
    provider: spec.provider,
    model: spec.model,
    calls: 1,
    inputTokens: line.inputTokens,
    outputTokens: line.outputTokens,
  });
  return { usd: e.usd, priced: e.priced };
}

function line(
  role: EstimateLine["role"],
  model: string,
  calls: number,
  inputPerCall: number,
  outputPerCall: number,
): EstimateLine {
  const l: EstimateLine = {
    role,
    model,
    calls,
    inputTokens: calls * inputPerCall,
    outputTokens: calls * outputPerCall,
    usd: 0,
    priced: true,
    batch: false,
    interactiveUsd: 0,
  };
  const interactive = price(l);
  return { ...l, ...interactive, interactiveUsd: interactive.usd };
}

function averageTokens(task: Task, examples: readonly Example[]): number {
  if (examples.length === 0) return 0;
  const total = examples.reduce(
    (n, e) =>
      n + task.render(task.seedPrompt, e).reduce((m, x) => m + estimateTokens(x.content), 0),
    0,
  );
  return Math.ceil(total / examples.length);
}

/**
 * Optimizer-side calls of a baseline with `budget` target calls (upper bounds): GEPA one
 * reflection and up to 3 critiques per mutation of 6 minibatch calls; MIPRO a dataset
 * summary and 5 instruction proposals; ACE one reflection per training answer and one
 * curation per batch of 4.
 */
function baselineLines(p: CellPlan, budget: number): EstimateLine[] {
  const { config, task, data } = p;
  const train = averageTokens(task, data.train);
  const critic = config.critic ?? config.optimizer;
  switch (p.cell.method) {
    case "gepa":
    case "gepa-ca": {
      const mutations = Math.floor(budget / 6);
      return [
        line("critic", critic, 3 * mutations, train + 600, 250),
        line("optimizer", config.optimizer, mutations, 3 * (train + 300) + 800, 600),
      ];
    }
    case "mipro":
      return [line("optimizer", config.optimizer, 6, 2500, 400)];
    default:
      return [
        line("optimizer", config.optimizer, budget, train + 1500, 500),
        line("optimizer", config.optimizer, Math.ceil(budget / 4), 3000, 600),
      ];
  }
}

function cellLines(p: CellPlan, batch: boolean): EstimateLine[] {
  if (p.info.runner === "rpt") {
    // The run's own estimate prices what batch mode sends as batches (not the simulator's).
    return estimateRun(batch ? { ...p.config, batch: true } : p.config, p.task, p.data).lines;
  }
  const budget = p.budgetCalls ?? 0;
  const avg = Math.ceil(
    (averageTokens(p.task, p.data.dev) + averageTokens(p.task, p.data.train)) / 2,
  );
  const testCalls = 2 * p.data.test.length;
  return [
    line("target", p.config.target, budget, avg, 250),
    line("target", p.config.target, testCalls, averageTokens(p.task, p.data.test), 250),
    ...baselineLines(p, budget),
  ];
}

/**
 * Estimates every cell of a prepared grid; `batch` prices target and critic lines at batch
 * prices (optimizer conversations stay interactive).
 *
 * @example
 * ```ts ignore
 * import { estimateExperiment } from "./estimate.ts";
 * const e = estimateExperiment(plans, true);
 * console.log(e.runs, e.calls, e.usd, e.interactiveUsd - e.usd);
 * ```
 */
export function estimateExperiment(
  plans: readonly CellPlan[],
  batch: boolean,
): ExperimentEstimate {
  const unpriced = new Set<string>();
  const cells = plans.map((p): CellEstimate => {
    const lines = cellLines(p, batch);
    for (const l of lines) if (!l.priced) unpriced.add(l.model);
    return {
      id: p.cell.id,
      lines,
      calls: lines.reduce((n, l) => n + l.calls, 0),
      tokens: lines.reduce((n, l) => n + l.inputTokens + l.outputTokens, 0),
      usd: lines.reduce((n, l) => n + l.usd, 0),
      interactiveUsd: lines.reduce((n, l) => n + l.interactiveUsd, 0),
      interactive: batch && p.info.runner === "baseline",
    };
  });
  const baselineNote = batchBaselineNote(batch, plans.map((p) => p.cell.method));
  const sum = (f: (c: CellEstimate) => number) => cells.reduce((n, c) => n + f(c), 0);
  return {
    cells,
    runs: cells.length,
    calls: sum((c) => c.calls),
    tokens: sum((c) => c.tokens),
    usd: sum((c) => c.usd),
    interactiveUsd: sum((c) => c.interactiveUsd),
    batch,
    unpriced: [...unpriced].sort(),
    assumptions: [
      "RPT runs: the loop's own estimate (every iteration, no early stop, half the train examples fail)",
      "baselines: their whole budget in target calls plus two test scorings; optimizer-side calls as upper bounds",
      "no cache hits (runs that share requests, such as the seed's evaluations, pay once)",
      ...(batch
        ? [
          "batch: RPT runs' target and critic calls at batch prices; their optimizer and " +
          "clustering calls, and every call of the baselines, at interactive prices",
        ]
        : []),
    ],
    ...(baselineNote !== undefined ? { baselineNote } : {}),
  };
}
