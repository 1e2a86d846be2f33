/**
 * RPT as an {@linkcode Optimizer}: the real revision loop (a session of `lib/revise/`) run
 * in the comparison harness on the harness's task object, train and dev splits and metered
 * models, so its target calls count against the same budget in the same ledger as every
 * other method's. Every prompt the session scores on dev (one per step, the seed first)
 * becomes a harness candidate the moment it is scored, through the same
 * {@linkcode CandidateTracker} the other methods use. The session writes its ordinary run
 * record under the method's work directory (`rpt show` reads it).
 *
 * The harness holds test out, so the session has no test split: it scores nothing on test
 * (no curve points, no final score; the harness scores the selected prompt itself). The
 * iteration count defaults to what the budget can pay for, so the budget, not T, ends the
 * run (a step costs |train| + |dev| target calls).
 *
 * @module
 */
import type { MemoryMode, Protocol } from "../run/config.ts";
import { openSession } from "../revise/open.ts";
import { ConfigError } from "../util/errors.ts";
import type { Optimizer, OptimizerContext, OptimizerResult } from "./optimizer.ts";
import { CandidateTracker, untilBudget } from "./optimizer.ts";

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
  const workDir = ctx.workDir;
  if (workDir === undefined) {
    throw new ConfigError("rpt baseline: the harness must give a work directory for the run");
  }
  const perStep = ctx.data.train.length + ctx.data.dev.length;
  const iterations = options.iterations ??
    Math.max(1, Math.min(40, Math.ceil(ctx.budgetCalls / perStep)));
  const tracker = new CandidateTracker("rpt", ctx);
  const session = await openSession({
    iterations,
    confidenceAware: ctx.confidenceAware,
    seed: ctx.seed,
    concurrency: ctx.concurrency,
    cache: `${workDir}/rpt-cache.sqlite`,
    ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
    ...(options.memory !== undefined ? { memory: options.memory } : {}),
    ...(options.k !== undefined ? { k: options.k } : {}),
  }, {
    runDir: `${workDir}/rpt-run`,
    task: ctx.task,
    data: ctx.data,
    models: {
      target: ctx.target,
      optimizer: ctx.optimizer,
      critic: ctx.critic,
      ...(ctx.embedder !== undefined ? { embedder: ctx.embedder } : {}),
    },
    signal: ctx.signal,
    onEvent: (e) => {
      if (e.type === "evaluated" && e.split === "dev") {
        tracker.add(e.prompt, e.metrics, e.step === 1 ? "seed" : `step ${e.step}`);
      }
      if (e.type === "progress") tracker.progress(e.phase);
    },
  });
  let stopReason: string;
  try {
    stopReason = await untilBudget(async () => {
      while (!session.finished) await session.step();
      const stop = (await session.finish()).stop;
      // The ledger's refusal names its internals (calls in flight, the model); the table
      // says what it means, as the other methods' stop reasons do.
      return stop.kind === "budget"
        ? `budget: not enough target calls left for another step (${session.steps.length} complete)`
        : `${stop.kind}: ${stop.reason}`;
    });
  } finally {
    await session.close();
  }
  return tracker.result(stopReason, {
    steps: session.steps.length,
    iterations: session.steps.filter((s) => s.kind === "iteration").length,
    rejections: session.steps.reduce((n, s) => n + s.rejections.length, 0),
  });
}
