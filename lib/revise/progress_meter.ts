/**
 * Time and money from a session's {@linkcode LoopEvent}s: elapsed time, an ETA for the step
 * and for the run, and the calls, tokens and dollars spent so far, as one line of text. The
 * command line redraws it in place on a terminal (or prints it as a heartbeat every 30 s
 * when output is not a terminal) and the notebooks' progress display shows it, so both say
 * the same thing. The clock is injected, so the text at a given time is testable.
 *
 * A resumed run goes on from the elapsed time and spend of its earlier sessions (the `open`
 * event's `earlier`), so neither starts again at zero.
 *
 * The ETAs are estimates: a step is expected to take as long as the completed steps of this
 * session did on average (until one has completed, only the current phase's rate is known),
 * and the run to take that for every iteration left; the optimizer may stop earlier.
 *
 * @module
 */
import { compactCount, duration, usd } from "../util/format.ts";
import {
  addSpend,
  type LoopBatch,
  type LoopEvent,
  type LoopProgress,
  type LoopSpend,
} from "./progress.ts";

/** How often a heartbeat line is due when output is not a terminal. */
export const HEARTBEAT_MS = 30_000;

/** Options of a {@linkcode ProgressMeter}. */
export interface ProgressMeterOptions {
  /** The clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Width of the bar in characters (default 16; 0 for none). */
  barWidth?: number;
}

/**
 * Spend as text: `12 calls (+3 cached), 3.4k tokens, $0.0123` (tokens of paid calls);
 * dollars of models without a price are
 * not known, which the text says (`+ unpriced: <model>`, or `unpriced` when no model is
 * priced).
 *
 * @example
 * ```ts
 * import { spendText } from "./progress_meter.ts";
 * const spend = { calls: 12, cacheHits: 3, inputTokens: 3000, outputTokens: 400, usd: 0.0123, unpriced: [] };
 * if (spendText(spend) !== "12 calls (+3 cached), 3.4k tokens, $0.0123") throw new Error(spendText(spend));
 * const local = { ...spend, cacheHits: 0, usd: 0, unpriced: ["openai-compatible:qwen3"] };
 * if (spendText(local) !== "12 calls, 3.4k tokens, unpriced (openai-compatible:qwen3)") throw new Error();
 * ```
 */
export function spendText(spend: LoopSpend): string {
  const tokens = compactCount(spend.inputTokens + spend.outputTokens);
  const cached = spend.cacheHits > 0 ? ` (+${spend.cacheHits} cached)` : "";
  const head = `${spend.calls} calls${cached}, ${tokens} tokens`;
  if (spend.unpriced.length === 0) return `${head}, ${usd(spend.usd)}`;
  const names = spend.unpriced.join(", ");
  return spend.usd > 0
    ? `${head}, ${usd(spend.usd)} + unpriced (${names})`
    : `${head}, unpriced (${names})`;
}

/** Watches a session's events and renders its progress line at any time. */
export class ProgressMeter {
  readonly #now: () => number;
  readonly #barWidth: number;
  #started: number | undefined;
  #resumedFrom = 0;
  /** The earlier sessions of a resumed run: their elapsed time and spend go on. */
  #earlierMs = 0;
  #earlierSpend: LoopSpend | undefined;
  #iterations: number | undefined;
  /** The step under way once a step was saved and before its first progress event. */
  #nextStep: number | undefined;
  #progress: LoopProgress | undefined;
  #phaseStarted = 0;
  #stepStarted = 0;
  #stepDurations: number[] = [];
  #spend: LoopSpend | undefined;
  #batch: LoopBatch | undefined;
  #lastBeat = 0;

  /** A meter on the given clock. */
  constructor(options: ProgressMeterOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#barWidth = options.barWidth ?? 16;
  }

  /** Takes in one event (at the clock's time unless `at` is given). */
  observe(event: LoopEvent, at = this.#now()): void {
    this.#start(at);
    if (event.type === "open") {
      this.#resumedFrom = event.completedSteps;
      this.#iterations = event.config.iterations;
      this.#earlierMs = event.earlier?.elapsedMs ?? 0;
      this.#earlierSpend = event.earlier?.spend;
      return;
    }
    if (event.type === "step") {
      // The step just saved took from its start to now; the next one starts now.
      this.#stepDurations.push(at - this.#stepStarted);
      this.#stepStarted = at;
      this.#nextStep = event.summary.step + 1;
      this.#progress = undefined;
      this.#batch = undefined;
      return;
    }
    if (event.type === "batch") {
      this.#batch = event.stage === "done" ? undefined : event;
      return;
    }
    if (event.type !== "progress") return;
    const { type: _type, ...p } = event;
    const before = this.#progress;
    if (before === undefined || before.step !== p.step || before.phase !== p.phase) {
      this.#phaseStarted = at;
    }
    this.#progress = p;
    this.#iterations = p.iterations;
    this.#nextStep = undefined;
    if (p.spend !== undefined) this.#spend = p.spend;
  }

  /**
   * Milliseconds the run has taken: since this session's first event, plus what the earlier
   * sessions of a resumed run took.
   */
  elapsed(at = this.#now()): number {
    return this.#earlierMs + (this.#started === undefined ? 0 : at - this.#started);
  }

  /**
   * The run's spend so far: this session's (from its latest progress event) plus the earlier
   * sessions'; undefined before either is known.
   */
  spend(): LoopSpend | undefined {
    const now = this.#spend;
    const before = this.#earlierSpend;
    if (now === undefined || before === undefined) return now ?? before;
    return addSpend(before, now);
  }

  /**
   * Expected milliseconds left in the current step: the mean step time of this session
   * less the time spent in it, and no less than what the current phase's rate leaves;
   * undefined before anything can be estimated.
   */
  stepEta(at = this.#now()): number | undefined {
    const phase = this.#phaseEta(at);
    const mean = this.#meanStep();
    if (mean === undefined) return phase;
    return Math.max(phase ?? 0, mean - (at - this.#stepStarted));
  }

  /** Expected milliseconds until the last iteration is done; undefined until a step is. */
  runEta(at = this.#now()): number | undefined {
    const current = this.#progress?.step ?? this.#nextStep;
    const mean = this.#meanStep();
    const step = this.stepEta(at);
    if (current === undefined || this.#iterations === undefined) return undefined;
    if (mean === undefined || step === undefined) return undefined;
    return step + Math.max(0, this.#iterations - current) * mean;
  }

  /**
   * The progress line: step, phase, a bar and counts, elapsed time, the ETAs, and the
   * spend, e.g. `step 3/10 target [########--------] 150/300 · 2m05s elapsed · step ~40s,
   * run ~5m20s left · 812 calls, 1.1M tokens, $0.4210`; in batch mode the phase's job
   * follows the counts (`dev [--------] 0/300 (batch running 120/300)`).
   */
  line(at = this.#now()): string {
    const p = this.#progress;
    const parts: string[] = [];
    if (p === undefined) {
      parts.push(this.#nextStep === undefined ? "starting" : this.#stepLabel(this.#nextStep));
    } else {
      const bar = this.#barWidth > 0 && p.total > 0
        ? ` [${
          "#".repeat(Math.round((p.done / p.total) * this.#barWidth)).padEnd(this.#barWidth, "-")
        }]`
        : "";
      // The step after the last iteration scores the last patch on dev only.
      const step = p.step > p.iterations
        ? `final step ${p.step}`
        : `step ${p.step}/${p.iterations}`;
      parts.push(`${step} ${p.phase}${bar} ${p.done}/${p.total}${this.#batchText(p)}`);
    }
    parts.push(this.status(at));
    return parts.join(" · ");
  }

  /**
   * The line without the step and phase: elapsed time, the ETAs (unless `eta` is false, as
   * at the end) and the spend, e.g. `2m05s elapsed · step ~40s, run ~5m20s left · ...`.
   */
  status(at = this.#now(), opts: { eta?: boolean } = {}): string {
    const parts = [`${duration(this.elapsed(at))} elapsed`];
    if (opts.eta !== false) parts.push(this.#etaText(at));
    const spend = this.spend();
    if (spend !== undefined) parts.push(spendText(spend));
    return parts.join(" · ");
  }

  /**
   * A heartbeat line when one is due (every {@linkcode HEARTBEAT_MS} since the last line
   * printed, see {@linkcode ProgressMeter.printed}), else undefined: what a log that is not
   * a terminal gets between step lines.
   */
  heartbeat(at = this.#now()): string | undefined {
    this.#start(at);
    if (at - this.#lastBeat < HEARTBEAT_MS) return undefined;
    this.#lastBeat = at;
    return this.line(at);
  }

  /** Notes that a line was printed at `at` (the next heartbeat is due 30 s later). */
  printed(at = this.#now()): void {
    this.#start(at);
    this.#lastBeat = at;
  }

  #start(at: number): void {
    if (this.#started !== undefined) return;
    this.#started = at;
    this.#stepStarted = at;
    this.#phaseStarted = at;
    this.#lastBeat = at;
  }

  #stepLabel(step: number): string {
    const t = this.#iterations;
    if (t === undefined) return `step ${step}`;
    // The step after the last iteration scores the last patch on dev only.
    return step > t ? `final step ${step}` : `step ${step}/${t}`;
  }

  /** The phase's batch job, e.g. ` (batch running 120/300, 2 failed)`; empty without one. */
  #batchText(p: LoopProgress): string {
    const b = this.#batch;
    if (b === undefined || b.step !== p.step || b.phase !== p.phase) return "";
    const what = b.stage === "ordinary"
      ? `batch ${b.state}: ${b.fallbacks} line${b.fallbacks === 1 ? "" : "s"} as ordinary calls`
      : `batch ${b.state} ${b.done}/${b.total}${b.failed > 0 ? `, ${b.failed} failed` : ""}`;
    return ` (${what})`;
  }

  #meanStep(): number | undefined {
    const d = this.#stepDurations;
    return d.length === 0 ? undefined : d.reduce((a, b) => a + b, 0) / d.length;
  }

  #phaseEta(at: number): number | undefined {
    const p = this.#progress;
    if (p === undefined || p.done <= 0 || p.total <= p.done) return undefined;
    const spent = at - this.#phaseStarted;
    return (spent / p.done) * (p.total - p.done);
  }

  #etaText(at: number): string {
    const first = `step ${this.#resumedFrom + 1}`;
    if (this.#meanStep() === undefined) {
      // Before a step has completed only the current phase's rate is known.
      const phase = this.#phaseEta(at);
      return phase === undefined
        ? `ETA after ${first}`
        : `phase ~${duration(phase)} left, run ETA after ${first}`;
    }
    return `step ~${duration(this.stepEta(at) ?? 0)}, run ~${duration(this.runEta(at) ?? 0)} left`;
  }
}
