/**
 * The one interface every prompt optimizer implements (RPT, GEPA, MIPRO-style, ACE), and
 * the harness pieces they share so that a comparison is fair: the same target rendering,
 * parser and scorer (`evaluatePrompt`), the same splits, every candidate scored on the
 * whole dev split with the task's selection function (strictly-greater replacement), and
 * the budget counted in target ("metric") calls at the provider level, by the
 * {@linkcode UsageLedger} the metered target is wrapped with — never by the method itself.
 *
 * @module
 */
import { evaluatePrompt } from "../diagnose.ts";
import { assertComplete, failuresOf } from "../incomplete.ts";
import { BudgetExceededError, type ChatModel, type Embedder } from "../llm/model.ts";
import { promptChars, type PromptProgram } from "../prompt.ts";
import { selectionValue, updateBest } from "../revise/select.ts";
import type { Task } from "../tasks/task.ts";
import type { Example, Metrics } from "../tasks/schema.ts";
import type { TraceItem } from "../trace.ts";
import { ConfigError } from "../util/errors.ts";

/** The splits an optimizer may use: test is held out by the harness. */
export interface OptimizerData {
  /** The optimization set D_opt (feedback, demos, reflections). */
  train: Example[];
  /** The development set D_dev (selection; GEPA's Pareto validation set). */
  dev: Example[];
}

/** Progress of an optimizer, in target calls. */
export interface OptimizerProgress {
  method: string;
  /** What the method is doing (`dev`, `minibatch`, `reflect`, ...). */
  phase: string;
  /** Target calls made so far (provider level). */
  calls: number;
  /** The budget in target calls. */
  budget: number;
}

/** Everything an optimizer run gets from the harness. */
export interface OptimizerContext {
  task: Task;
  data: OptimizerData;
  /** The target, metered: every provider call counts against `budgetCalls`. */
  target: ChatModel;
  /** The optimizer LLM (reflection, proposals, curation). Its calls are not metric calls. */
  optimizer: ChatModel;
  /** The critic LLM (feedback text); often the optimizer's model. */
  critic: ChatModel;
  /** Embedder for methods that cluster or de-duplicate (optional). */
  embedder?: Embedder;
  /** Budget in target calls (= metric calls), dev evaluations included. */
  budgetCalls: number;
  /** Target calls made so far, as the provider-level ledger counts them. */
  callsUsed(): number;
  seed: number;
  /** Selection with the Brier term (w = 0.05) when true. */
  confidenceAware: boolean;
  /** Target calls in flight. */
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (p: OptimizerProgress) => void;
  /** Appends an event to the comparison's run record. */
  record?: (kind: string, data: Record<string, unknown>) => void;
  /** A directory the method may keep its own record in (RPT writes its run directory). */
  workDir?: string;
}

/** A prompt scored on the whole dev split. */
export interface ScoredCandidate {
  /** 0-based, in the order the method scored them. */
  index: number;
  prompt: PromptProgram;
  dev: Metrics;
  /** The task's selection function on dev. */
  selection: number;
  /** Target calls made when this candidate's dev score was known. */
  calls: number;
  /** How the method produced it (`seed`, `mutation of 3`, `trial 7`, `playbook after 12`). */
  origin: string;
}

/** One point of a score-vs-calls curve: the selected-so-far prompt after `calls` calls. */
export interface CurvePoint {
  calls: number;
  /** Dev score of the candidate just scored. */
  devScore: number;
  /** Dev score of the best candidate so far (by the selection function). */
  bestDevScore: number;
  bestSelection: number;
}

/** What an optimizer returns. */
export interface OptimizerResult {
  method: string;
  /** Every prompt scored on dev, the seed first. */
  candidates: ScoredCandidate[];
  /** The candidate with the highest selection value (first one on a tie). */
  selected: ScoredCandidate;
  curve: CurvePoint[];
  /** Why the method stopped (budget, iterations, no proposals ...). */
  stopReason: string;
  /** Method-specific counts (accepted/rejected children, trials, playbook size ...). */
  stats: Record<string, number>;
}

/** A prompt optimizer run in the shared harness. */
export interface Optimizer {
  readonly name: string;
  run(ctx: OptimizerContext): Promise<OptimizerResult>;
}

/** Raised when a method cannot score even its seed prompt within the budget. */
export class BudgetTooSmallError extends ConfigError {
  /** Creates the error naming the method and what it needed. */
  constructor(method: string, needed: number, budget: number) {
    super(
      `${method}: a budget of ${budget} target calls cannot score the seed prompt on dev ` +
        `(${needed} calls needed); raise --budget-calls or lower --limit-dev`,
    );
    this.name = "BudgetTooSmallError";
  }
}

/**
 * Keeps a method's dev-scored candidates, the selected one and the score-vs-calls curve,
 * and runs every target evaluation the same way. Methods call {@linkcode scoreOnDev} for
 * every prompt they want considered, and {@linkcode evaluate} for other (train or
 * minibatch) evaluations.
 *
 * @example
 * ```ts
 * import { CandidateTracker } from "./optimizer.ts";
 * import { ScriptedChatModel } from "../llm/scripted.ts";
 * import { synthetic } from "../tasks/synthetic.ts";
 * const dev = (await synthetic.load("dev")).slice(0, 2);
 * const target = new ScriptedChatModel(() => '{"reasoning": "", "answer": "0", "confidence": 0.5}');
 * const tracker = new CandidateTracker("demo", {
 *   task: synthetic, data: { train: [], dev }, target, optimizer: target, critic: target,
 *   budgetCalls: 10, callsUsed: () => target.requests.length, seed: 0,
 *   confidenceAware: false, concurrency: 2,
 * });
 * const seed = await tracker.scoreOnDev(synthetic.seedPrompt, "seed");
 * if (seed === null || tracker.remaining() !== 8) throw new Error("unexpected");
 * ```
 */
export class CandidateTracker {
  readonly candidates: ScoredCandidate[] = [];
  readonly curve: CurvePoint[] = [];
  #best: { step: number; selection: number; candidate: ScoredCandidate } | null = null;
  readonly #byPrompt = new Map<string, ScoredCandidate>();

  /** A tracker for `method` in `ctx`. */
  constructor(readonly method: string, readonly ctx: OptimizerContext) {}

  /** Target calls left in the budget. */
  remaining(): number {
    return Math.max(0, this.ctx.budgetCalls - this.ctx.callsUsed());
  }

  /** Whether `calls` more target calls fit in the budget. */
  canAfford(calls: number): boolean {
    return calls <= this.remaining();
  }

  /** The best candidate so far (null before the seed is scored). */
  get best(): ScoredCandidate | null {
    return this.#best?.candidate ?? null;
  }

  /** Reports progress in target calls. */
  progress(phase: string): void {
    this.ctx.onProgress?.({
      method: this.method,
      phase,
      calls: this.ctx.callsUsed(),
      budget: this.ctx.budgetCalls,
    });
  }

  /**
   * Runs the target on `examples` with `prompt` (the harness's rendering and scoring). A
   * failed call is never a score: a target call that failed after its retries makes the
   * evaluation an {@linkcode IncompleteError} (a failed call does not count against the call
   * budget, so a method scoring it as 0 would go on against a dead endpoint).
   */
  async evaluate(
    prompt: PromptProgram,
    examples: readonly Example[],
    phase: string,
  ): Promise<{ traces: TraceItem[]; metrics: Metrics }> {
    this.progress(phase);
    const out = await evaluatePrompt(prompt, examples, {
      task: this.ctx.task,
      target: this.ctx.target,
      concurrency: this.ctx.concurrency,
      signal: this.ctx.signal,
    });
    assertComplete(failuresOf(phase === "dev" ? "dev" : "train", out.traces), 0, out.traces);
    this.progress(phase);
    return out;
  }

  /**
   * Scores `prompt` on the whole dev split and records it as a candidate; null when the
   * budget cannot pay for it (nothing is spent then). A prompt scored before is not
   * scored again (the earlier candidate is returned with its traces unknown).
   */
  async scoreOnDev(
    prompt: PromptProgram,
    origin: string,
  ): Promise<(ScoredCandidate & { traces: TraceItem[] | null }) | null> {
    const key = JSON.stringify(prompt);
    const seen = this.#byPrompt.get(key);
    if (seen !== undefined) return { ...seen, traces: null };
    if (!this.canAfford(this.ctx.data.dev.length)) return null;
    const { traces, metrics } = await this.evaluate(prompt, this.ctx.data.dev, "dev");
    return { ...this.add(prompt, metrics, origin), traces };
  }

  /**
   * Records a prompt the method scored on the whole dev split itself (RPT scores every
   * step's prompt in its own loop) as the next candidate, with the calls made so far.
   */
  add(prompt: PromptProgram, metrics: Metrics, origin: string): ScoredCandidate {
    const key = JSON.stringify(prompt);
    const candidate: ScoredCandidate = {
      index: this.candidates.length,
      prompt,
      dev: metrics,
      selection: selectionValue(this.ctx.task, metrics, prompt, this.ctx.confidenceAware),
      calls: this.ctx.callsUsed(),
      origin,
    };
    this.candidates.push(candidate);
    this.#byPrompt.set(key, candidate);
    this.#best = updateBest(this.#best, {
      step: candidate.index,
      selection: candidate.selection,
      candidate,
    }).best;
    const best = this.#best.candidate;
    this.curve.push({
      calls: candidate.calls,
      devScore: metrics.score,
      bestDevScore: best.dev.score,
      bestSelection: best.selection,
    });
    this.ctx.record?.("candidate", {
      method: this.method,
      index: candidate.index,
      origin,
      calls: candidate.calls,
      chars: promptChars(prompt),
      dev: { score: metrics.score, brier: metrics.brier },
      selection: candidate.selection,
      best: best.index,
    });
    return candidate;
  }

  /** The method's result; throws {@linkcode BudgetTooSmallError} when nothing was scored. */
  result(stopReason: string, stats: Record<string, number>): OptimizerResult {
    const selected = this.#best?.candidate ?? null;
    if (selected === null) {
      throw new BudgetTooSmallError(
        this.method,
        this.ctx.data.dev.length,
        this.ctx.budgetCalls,
      );
    }
    return {
      method: this.method,
      candidates: this.candidates,
      selected,
      curve: this.curve,
      stopReason,
      stats,
    };
  }
}

/**
 * Runs `body` and turns a budget stop into a stop reason: the metered target throws
 * {@linkcode BudgetExceededError} when a method overshoots, which ends the method cleanly
 * with the candidates it has.
 */
export async function untilBudget(body: () => Promise<string>): Promise<string> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof BudgetExceededError) return `budget: ${error.message}`;
    throw error;
  }
}
