/**
 * The revision loop as a steppable session (DESIGN section 1, "Revision loop"): the one
 * unit `rpt optimize`, `rpt resume`, the comparison harness and the notebooks all drive.
 *
 * ```ts ignore
 * const s = await openSession(config, { runDir, models });
 * const report = (await s.diagnose()).report;   // the current prompt's report, no optimizer call
 * const step = await s.step();                  // one iteration, exactly as `rpt optimize` runs it
 * await s.tryPrompt(candidate);                 // diagnose a candidate without committing it
 * await s.accept(handEdited, { rationale });    // a hand edit, recorded like a patch
 * const summary = await s.finish();             // selection, test, comparison, summary.json
 * ```
 *
 * Every step is saved before the next begins (folder, checkpoint, events), so a session
 * stopped anywhere continues with `reopenSession` (`continueRun`, `rpt resume`).
 *
 * @module
 */
import type { DiagnosticRecord } from "../diagnose.ts";
import { BudgetExceededError } from "../llm/model.ts";
import type { RunConfig } from "../run/config.ts";
import type { UsageSnapshot } from "../llm/usage.ts";
import type { PromptProgram } from "../prompt.ts";
import type {
  CandidateRecord,
  MemoryEntry,
  RunState,
  RunSummary,
  StepSummary,
  Stop,
} from "../run/schema.ts";
import type { Task } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import { isAbort, releaseContext, type RunContext } from "./context.ts";
import { converse } from "./conversation.ts";
import type { RunData } from "./data.ts";
import { diagnoseTrain } from "./evaluate.ts";
import { finalize } from "./finish.ts";
import {
  handDecision,
  handOutcome,
  type SessionStep,
  sessionStep,
  type StepOutcome,
} from "./outcome.ts";
import { guardSettings } from "./guards.ts";
import { runStep } from "./step.ts";
import { IncompleteError } from "../incomplete.ts";

/** A run being driven one step at a time. */
export class Session implements AsyncDisposable {
  readonly #ctx: RunContext;
  #state: RunState;
  readonly #prompts: Map<number, PromptProgram>;
  /** The diagnosis of the current prompt, made ahead of its step by `diagnose()`. */
  #current: { step: number; record: DiagnosticRecord } | null = null;
  /** Candidates tried by hand since the last step, recorded with the next one. */
  #tried: CandidateRecord[] = [];
  #closed = false;

  /** The run directory (absolute). */
  readonly dir: string;
  /** The full config, as `config.json` holds it. */
  readonly config: RunConfig;
  /** The task. */
  readonly task: Task;
  /** The examples of the three splits. */
  readonly data: RunData;

  /** Sessions come from `openSession` and `reopenSession` (`open.ts`). */
  constructor(ctx: RunContext, state: RunState, prompts: Map<number, PromptProgram>) {
    this.#ctx = ctx;
    this.#state = state;
    this.#prompts = prompts;
    this.dir = ctx.writer.dir;
    this.config = ctx.config;
    this.task = ctx.task;
    this.data = ctx.data;
  }
  /** A copy of the checkpoint: what `state.json` holds after the last complete step. */
  get state(): RunState {
    return structuredClone(this.#state);
  }
  /** The prompt the next step works on. */
  get prompt(): PromptProgram {
    return { ...this.#state.prompt };
  }
  /** The steps so far. */
  get steps(): readonly StepSummary[] {
    return this.#state.steps;
  }
  /** The optimizer's memory: one entry per diagnosed step, with what followed it. */
  get memory(): readonly MemoryEntry[] {
    return this.#state.memory;
  }
  /** The best step so far by the selection value on dev, with its prompt. */
  get best(): { step: StepSummary; prompt: PromptProgram } | null {
    const best = this.#state.best;
    const step = best && this.#state.steps.find((s) => s.step === best.step);
    const prompt = step && this.#prompts.get(step.step);
    return step && prompt ? { step, prompt } : null;
  }
  /** True once no further step will run (`finish()` is what is left). */
  get finished(): boolean {
    return this.#state.finished;
  }
  /** Why the run stops, once it does. */
  get stop(): Stop | null {
    return this.#state.stop;
  }
  /** Calls, tokens and dollars of this session so far. */
  usage(): UsageSnapshot {
    return this.#ctx.ledger.snapshot();
  }
  /** The prompt step `step` worked on. */
  promptOf(step: number): PromptProgram | undefined {
    return this.#prompts.get(step);
  }

  /**
   * The diagnostic report (with traces, critiques and clustering) of the current prompt on
   * train, without an optimizer call. The next step reuses it.
   */
  async diagnose(): Promise<DiagnosticRecord> {
    this.#assertOpen();
    return await this.#diagnoseCurrent(this.#state.completedSteps + 1);
  }

  /**
   * Diagnoses a candidate prompt on train (fields left out are the current prompt's)
   * without committing it; it is recorded among the next step's candidates.
   */
  async tryPrompt(candidate: Partial<PromptProgram>): Promise<DiagnosticRecord> {
    this.#assertOpen();
    const step = this.#state.completedSteps + 1;
    const prompt = { ...this.#state.prompt, ...candidate } as PromptProgram;
    const record = await diagnoseTrain(this.#ctx, prompt, step);
    const args = { system: prompt.system, instruction: prompt.instruction };
    this.#tried.push({ args, prompt, report: record.report, by: "hand" });
    await this.#ctx.writer.event({
      type: "candidate_diagnosed",
      step,
      metrics: record.report.metrics,
      by: "hand",
    });
    return record;
  }

  /**
   * One full step, exactly as `rpt optimize` runs it: the current prompt scored on dev
   * (and test when scheduled), then, for an iteration, one optimizer conversation with
   * the diagnose call, the guards and their retries; the step is saved. After the last
   * iteration's patch the step is the dev-only final one. Null when the budget ran out
   * before the step completed (the run then stops with kind `budget`).
   */
  async step(): Promise<SessionStep | null> {
    this.#assertCanStep();
    const step = this.#state.completedSteps + 1;
    const kind = step <= this.#ctx.config.iterations ? "iteration" : "final";
    return await this.#run(step, kind, async () => {
      if (kind === "final") return null;
      const state = this.#state;
      const outcome: StepOutcome = await converse({
        ctx: this.#ctx,
        step,
        prompt: state.prompt,
        memory: state.memory,
        lastTrain: state.lastTrain,
        diagnoseCurrent: () => this.#diagnoseCurrent(step),
      });
      return outcome;
    });
  }

  /**
   * Takes a hand-edited prompt as this step's decision: the current prompt is scored and
   * diagnosed like any step's, and the edit enters memory and the run record as a patch
   * with `rationale` (marked `by: "hand"`), checked by the same guards as the optimizer's.
   * The edited prompt is scored on dev by the next step (or by `finish()`).
   */
  async accept(
    edited: Partial<PromptProgram>,
    opts: { rationale: string },
  ): Promise<SessionStep | null> {
    this.#assertCanStep();
    const step = this.#state.completedSteps + 1;
    const { config } = this.#ctx;
    if (step > config.iterations) {
      throw new ConfigError(
        `accept: all ${config.iterations} iterations ran; open the session with more iterations`,
      );
    }
    const decision = handDecision(edited, opts.rationale, {
      current: this.#state.prompt,
      trainAnswers: this.#ctx.trainAnswers,
      ...guardSettings(config),
    });
    return await this.#run(step, "iteration", async () => {
      const record = await this.#diagnoseCurrent(step);
      return handOutcome(record, decision.decision, decision.prompt);
    });
  }

  /**
   * Ends the run: an unfinished session first scores its current prompt on dev (the final
   * step; stop kind `manual` when iterations were left); then the selected prompt is scored on
   * test, compared with the seed, and `summary.json` written. The session is closed.
   */
  async finish(): Promise<RunSummary> {
    this.#assertOpen();
    if (!this.#state.finished) {
      const { iterations } = this.#ctx.config;
      const done = this.#state.steps.filter((s) => s.kind === "iteration").length;
      // After the last iteration this is the ordinary final step; before it, a stop by hand.
      const stop: Stop | undefined = this.#state.completedSteps >= iterations ? undefined : {
        kind: "manual",
        reason: `finished by hand after ${done} of ${iterations} iterations`,
      };
      await this.#run(this.#state.completedSteps + 1, "final", () => Promise.resolve(null), stop);
    }
    if (this.#state.steps.length === 0) {
      throw new BudgetExceededError(
        `the budget ran out before the first step completed (${this.#state.stop?.reason ?? ""})`,
      );
    }
    const summary = await finalize(this.#ctx, this.#state, (s) => this.#prompts.get(s));
    await this.#ctx.usage.save("finished");
    this.#release();
    return summary;
  }

  /**
   * Closes a session that will not be finished now: the log says it was interrupted (or,
   * given the error that stopped it, that it failed) and `usage.json` records the session.
   * Completed steps stay; `reopenSession` continues. Closing twice does nothing.
   */
  async close(error?: unknown): Promise<void> {
    if (this.#closed) return;
    const { writer, usage, signal } = this.#ctx;
    try {
      if (error === undefined || isAbort(error, signal)) {
        await writer.event({ type: "interrupted", completedSteps: this.#state.completedSteps });
        await usage.save("interrupted");
      } else if (error instanceof IncompleteError) {
        // Its `incomplete` event and file were written where the work stopped.
        await usage.save("incomplete").catch(() => {});
      } else {
        const message = error instanceof Error ? error.message : String(error);
        await writer.event({ type: "failed", message }).catch(() => {});
        await usage.save("failed").catch(() => {});
      }
    } finally {
      this.#release();
    }
  }

  /** `await using session = ...` closes it (as interrupted when it was not finished). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    releaseContext(this.#ctx);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("the session is closed");
  }

  #assertCanStep(): void {
    this.#assertOpen();
    const { finished, stop } = this.#state;
    if (finished) {
      throw new Error(`the run has stopped (${stop?.kind}: ${stop?.reason}); call finish()`);
    }
  }

  async #diagnoseCurrent(step: number): Promise<DiagnosticRecord> {
    if (this.#current?.step !== step) {
      const record = await diagnoseTrain(this.#ctx, this.#state.prompt, step);
      this.#current = { step, record };
    }
    return this.#current.record;
  }

  /** Runs one step (see `runStep`) and keeps what it produced. */
  async #run(
    step: number,
    kind: StepSummary["kind"],
    decide: () => Promise<StepOutcome | null>,
    stop?: Stop,
  ): Promise<SessionStep | null> {
    const prompt = this.#state.prompt;
    const tried = this.#tried;
    const r = await runStep(this.#ctx, this.#state, { step, kind, decide, tried, stop });
    this.#state = r.state;
    if (r.outcome === undefined) return null;
    this.#prompts.set(step, prompt);
    this.#tried = [];
    this.#current = null;
    return sessionStep(this.#state.steps.at(-1) as StepSummary, r.outcome);
  }
}
