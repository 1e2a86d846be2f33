/**
 * RPT as an {@linkcode Optimizer}: {@linkcode optimize} from `lib/revise.ts` run in the
 * comparison harness. It gets the same metered models as every other method (so its
 * target calls count against the same budget in the same ledger), writes its ordinary run
 * record under the comparison's work directory, and its dev-scored prompts (one per step,
 * the seed first) become the harness candidates, re-selected with the same selection
 * function.
 *
 * Two adjustments keep the budget about optimization: RPT's own test scorings (step 1 and
 * every `testEvery` steps, for its curves) are cut to one example and effectively
 * switched off (`testEvery` 1000), since the harness scores the selected prompt on test
 * itself; and the iteration count defaults to what the budget can pay for, so the budget,
 * not T, ends the run (a step costs |train| + |dev| target calls).
 *
 * @module
 */
import { loadRun } from "../run.ts";
import { optimize } from "../revise.ts";
import { selectionValue, updateBest } from "../select.ts";
import type { MemoryMode, Protocol } from "../types.ts";
import { ConfigError } from "../util/errors.ts";
import type {
  CurvePoint,
  Optimizer,
  OptimizerContext,
  OptimizerResult,
  ScoredCandidate,
} from "./optimizer.ts";
import { BudgetTooSmallError } from "./optimizer.ts";

/** Options of {@linkcode rpt}. */
export interface RptOptions {
  /** Iterations T (default: as many as the budget can pay for, at most 40). */
  iterations?: number;
  protocol?: Protocol;
  memory?: MemoryMode;
  /** Failure topics per report (default 10). */
  k?: number;
}

/** RPT in the comparison harness. */
export function rpt(options: RptOptions = {}): Optimizer {
  return { name: "rpt", run: (ctx) => runRpt(ctx, options) };
}

async function runRpt(ctx: OptimizerContext, options: RptOptions): Promise<OptimizerResult> {
  const { specs, workDir } = ctx;
  if (specs === undefined || workDir === undefined) {
    throw new ConfigError("rpt baseline: the harness must give model specs and a work directory");
  }
  const perStep = ctx.data.train.length + ctx.data.dev.length + 1;
  const iterations = options.iterations ??
    Math.max(1, Math.min(40, Math.ceil(ctx.budgetCalls / perStep)));
  const runDir = `${workDir}/rpt-run`;
  const devCalls = new Map<number, number>();
  const result = await optimize({
    task: specs.task,
    target: specs.target,
    optimizer: specs.optimizer,
    ...(specs.critic !== undefined ? { critic: specs.critic } : {}),
    ...(specs.embedder !== undefined ? { embedder: specs.embedder } : {}),
    ...(specs.dataDir !== undefined ? { dataDir: specs.dataDir } : {}),
    iterations,
    confidenceAware: ctx.confidenceAware,
    seed: ctx.seed,
    concurrency: ctx.concurrency,
    limits: { ...specs.limits, test: 1 },
    testEvery: 1000,
    cache: `${workDir}/rpt-cache.sqlite`,
    ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
    ...(options.memory !== undefined ? { memory: options.memory } : {}),
    ...(options.k !== undefined ? { k: options.k } : {}),
  }, {
    runDir,
    models: {
      target: ctx.target,
      optimizer: ctx.optimizer,
      critic: ctx.critic,
      ...(ctx.embedder !== undefined ? { embedder: ctx.embedder } : {}),
    },
    signal: ctx.signal,
    onProgress: (p) => {
      if (p.phase === "dev" && p.done === p.total) devCalls.set(p.step, ctx.callsUsed());
      ctx.onProgress?.({
        method: "rpt",
        phase: p.phase,
        calls: ctx.callsUsed(),
        budget: ctx.budgetCalls,
      });
    },
  });
  const run = await loadRun(result.dir);
  const candidates: ScoredCandidate[] = [];
  const curve: CurvePoint[] = [];
  let best: { step: number; selection: number; candidate: ScoredCandidate } | null = null;
  for (const step of run.steps) {
    if (step.dev === null) continue;
    const candidate: ScoredCandidate = {
      index: candidates.length,
      prompt: step.prompt,
      dev: step.dev.metrics,
      selection: selectionValue(ctx.task, step.dev.metrics, step.prompt, ctx.confidenceAware),
      calls: devCalls.get(step.step) ?? ctx.callsUsed(),
      origin: step.step === 1 ? "seed" : `step ${step.step}`,
    };
    candidates.push(candidate);
    best = updateBest(best, { step: candidate.index, selection: candidate.selection, candidate })
      .best;
    curve.push({
      calls: candidate.calls,
      devScore: candidate.dev.score,
      bestDevScore: best.candidate.dev.score,
      bestSelection: best.selection,
    });
    ctx.record?.("candidate", {
      method: "rpt",
      index: candidate.index,
      origin: candidate.origin,
      calls: candidate.calls,
      dev: { score: candidate.dev.score, brier: candidate.dev.brier },
      selection: candidate.selection,
      best: best.candidate.index,
    });
  }
  if (best === null) {
    throw new BudgetTooSmallError("rpt", ctx.data.dev.length, ctx.budgetCalls);
  }
  const summary = result.summary;
  const stop = summary?.stop ?? result.state.stop;
  return {
    method: "rpt",
    candidates,
    selected: best.candidate,
    curve,
    stopReason: stop ? `${stop.kind}: ${stop.reason}` : "interrupted",
    stats: {
      steps: run.steps.length,
      iterations: summary?.iterationsRun ?? result.state.steps.length,
      rejections: result.state.steps.reduce((n, s) => n + s.rejections.length, 0),
    },
  };
}
