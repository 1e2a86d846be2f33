/**
 * What `rpt optimize` and `rpt resume` print while a run works, on stderr: on a terminal one
 * line redrawn in place (step, phase, bar, elapsed, ETAs, calls, tokens, dollars: the
 * {@linkcode ProgressMeter}'s line); otherwise a heartbeat line every 30 s, and on both one
 * line per saved step.
 *
 * @module
 */
import { ProgressMeter } from "../revise/progress_meter.ts";
import type { LoopEvent } from "../revise/progress.ts";
import type { StepSummary } from "../run/schema.ts";
import { duration } from "../util/format.ts";
import { failedCallsText } from "../incomplete.ts";

/** Where and how the reporter writes (the defaults are the process's stderr and clock). */
export interface ReporterOptions {
  /** No output at all. */
  quiet?: boolean;
  /** Redraw one line in place (default: whether stderr is a terminal). */
  tty?: boolean;
  /** Writes text as is (default: to stderr). */
  write?: (text: string) => void;
  /** The clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Terminal width, to keep the redrawn line on one row (default: the console's). */
  columns?: () => number;
  /** How often the reporter looks at the clock between events, in ms (default 1000; 0: never). */
  tickMs?: number;
}

/** A progress reporter: feed it the session's events, call `done` at the end. */
export interface ProgressReporter {
  onEvent(event: LoopEvent): void;
  done(): void;
}

/** One plain line for a saved step. */
export function stepLine(s: StepSummary, elapsedMs: number): string {
  const train = s.train ? ` train ${s.train.score.toFixed(3)}` : "";
  const test = s.test ? ` test ${s.test.score.toFixed(3)}` : "";
  const what = s.stopReason ? `stop: ${s.stopReason}` : s.action;
  const failed = failedCallsText(s.failedCalls);
  return `step ${s.step} (${s.kind}):${train} dev ${s.dev.score.toFixed(3)}${test} ` +
    `selection ${s.selection.toFixed(4)}${s.selected ? " *best*" : ""}; ${what}` +
    `${s.rejections.length ? ` (${s.rejections.length} rejected)` : ""}` +
    `${failed ? `; ${failed}` : ""} [${duration(elapsedMs)}]`;
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 120;
  }
}

function stderrWriter(): (text: string) => void {
  const encoder = new TextEncoder();
  return (text) => void Deno.stderr.writeSync(encoder.encode(text));
}

/**
 * The reporter for a run's events. On a terminal the live line is redrawn at most every
 * 100 ms and once a second for the clock; without one a heartbeat line is written when 30 s
 * passed since the last line.
 *
 * @example
 * ```ts
 * import { progressReporter } from "./progress.ts";
 * let t = 0;
 * const out: string[] = [];
 * const r = progressReporter({ tty: false, write: (s) => out.push(s), now: () => t, tickMs: 0 });
 * r.onEvent({ type: "progress", step: 1, iterations: 2, phase: "target", done: 1, total: 4 });
 * t = 31_000;
 * r.onEvent({ type: "progress", step: 1, iterations: 2, phase: "target", done: 2, total: 4 });
 * r.done();
 * if (!out[0]?.startsWith("step 1/2 target [########--------] 2/4 · 31s elapsed")) throw new Error(out[0]);
 * ```
 */
export function progressReporter(options: ReporterOptions = {}): ProgressReporter {
  if (options.quiet) return { onEvent() {}, done() {} };
  const tty = options.tty ?? Deno.stderr.isTerminal();
  const write = options.write ?? stderrWriter();
  const now = options.now ?? Date.now;
  const columns = options.columns ?? consoleColumns;
  const meter = new ProgressMeter({ now });
  let drawn = false;
  let lastDraw = -Infinity;
  const clear = () => {
    if (drawn) write("\r\x1b[2K");
    drawn = false;
  };
  const draw = (force: boolean) => {
    const at = now();
    if (!force && at - lastDraw < 100) return;
    lastDraw = at;
    const width = Math.max(20, columns() - 1);
    const text = meter.line(at);
    write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    drawn = true;
  };
  const beat = () => {
    const line = meter.heartbeat(now());
    if (line !== undefined) write(`${line}\n`);
  };
  const tick = () => (tty ? draw(true) : beat());
  const timer = (options.tickMs ?? 1000) > 0
    ? setInterval(tick, options.tickMs ?? 1000)
    : undefined;
  // The clock must not keep a finished process alive.
  if (timer !== undefined) Deno.unrefTimer(timer);
  return {
    onEvent(event) {
      meter.observe(event, now());
      if (event.type === "step") {
        clear();
        write(`${stepLine(event.summary, meter.elapsed())}\n`);
        meter.printed();
      } else if (event.type === "progress") {
        if (tty) draw(event.done === event.total);
        else beat();
      } else if (event.type === "batch") {
        // Without a terminal the log gets one line per job submitted; the heartbeat shows its state.
        if (!tty && event.stage === "submitted") {
          write(
            `step ${event.step} ${event.phase}: batch ${event.batchId ?? ""} submitted ` +
              `(${event.total} lines)\n`,
          );
          meter.printed();
        } else if (tty) draw(event.stage !== "polling");
        else beat();
      }
    },
    done() {
      if (timer !== undefined) clearInterval(timer);
      clear();
    },
  };
}
