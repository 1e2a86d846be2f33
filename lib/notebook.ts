/**
 * Notebook helpers that work in Deno's Jupyter kernel and outside it: rich display (Markdown,
 * HTML, charts), a live progress display updated in place, and HTML renderers for tables,
 * prompt diffs, diagnostic reports and run summaries.
 *
 * Outside the kernel every display falls back to plain text on stdout, so the same code runs
 * in a script, a test or a notebook.
 *
 * @module
 */
import { failedCallsText, runFailedCallsText } from "./incomplete.ts";
import type { RunSummary } from "./run/schema.ts";
import type { LoopEvent } from "./revise/progress.ts";
import { ProgressMeter } from "./revise/progress_meter.ts";
import { type DiffPart, diffText, type PromptProgram } from "./prompt.ts";
import type { DiagnosticReport } from "./report.ts";
import type { Metrics } from "./tasks/schema.ts";
import { probability } from "./util/format.ts";

/** The symbol Deno's kernel looks up to display an object (`Deno.jupyter.$display`). */
export const jupyterDisplay: unique symbol = Symbol.for("Jupyter.display") as never;

/** A Jupyter MIME bundle: MIME type to content. */
export type MediaBundle = Record<string, string | object>;

/** Anything with a Jupyter display method. */
export interface Displayable {
  [jupyterDisplay](): MediaBundle;
}

/** The part of `Deno.jupyter` these helpers use; tests inject a fake. */
export interface JupyterLike {
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void>;
}

/**
 * True inside Deno's Jupyter kernel. Reading `Deno.jupyter` elsewhere throws, so it is
 * probed inside a try.
 *
 * @example
 * ```ts
 * import { isJupyter } from "./notebook.ts";
 * if (isJupyter()) throw new Error("doc tests do not run in a kernel");
 * ```
 */
export function isJupyter(): boolean {
  return kernel() !== undefined;
}

function kernel(): JupyterLike | undefined {
  try {
    const jupyter = (Deno as unknown as { jupyter?: JupyterLike }).jupyter;
    return typeof jupyter?.broadcast === "function" ? jupyter : undefined;
  } catch {
    return undefined;
  }
}

function isDisplayable(value: unknown): value is Displayable {
  return typeof value === "object" && value !== null &&
    typeof (value as Record<symbol, unknown>)[jupyterDisplay] === "function";
}

/** The MIME bundle of a value: its own display method, else its plain text. */
export function mediaBundle(value: unknown): MediaBundle {
  if (isDisplayable(value)) return value[jupyterDisplay]();
  if (typeof value === "string") return { "text/plain": value };
  return { "text/plain": Deno.inspect(value, { colors: false, depth: 6 }) };
}

/** The text a bundle prints as outside the kernel: plain text, else Markdown, else a note. */
export function plainText(bundle: MediaBundle): string {
  for (const type of ["text/plain", "text/markdown"]) {
    const text = bundle[type];
    if (typeof text === "string") return text;
  }
  return `[${Object.keys(bundle).join(", ")}]`;
}

/** Where displays go: the kernel when present, else lines on stdout. Tests inject both. */
export interface DisplayTarget {
  jupyter?: JupyterLike;
  print?: (line: string) => void;
}

function resolveTarget(target: DisplayTarget | undefined): {
  jupyter: JupyterLike | undefined;
  print: (line: string) => void;
} {
  return {
    jupyter: target?.jupyter ?? (target?.print ? undefined : kernel()),
    print: target?.print ?? ((line) => console.log(line)),
  };
}

/**
 * Displays a value: rich output in the kernel (charts, Markdown, HTML), plain text outside.
 *
 * @example
 * ```ts
 * import { display, md } from "./notebook.ts";
 * const lines: string[] = [];
 * await display(md`**score** ${0.5}`, { print: (l) => lines.push(l) });
 * if (lines[0] !== "**score** 0.5") throw new Error(lines[0]);
 * ```
 */
export async function display(
  value: unknown,
  target?: DisplayTarget & { displayId?: string; update?: boolean },
): Promise<void> {
  const { jupyter, print } = resolveTarget(target);
  const bundle = mediaBundle(value);
  if (!jupyter) {
    print(plainText(bundle));
    return;
  }
  await jupyter.broadcast(target?.update ? "update_display_data" : "display_data", {
    data: bundle,
    metadata: {},
    transient: target?.displayId ? { display_id: target.displayId } : {},
  });
  await yieldToKernel();
}

/**
 * Deno's kernel can report a cell finished before a display message sent at its very end
 * is flushed, and headless runners (nbconvert) then drop that output: one macrotask turn
 * lets the message go out first.
 */
function yieldToKernel(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Displays Markdown text (printed verbatim outside the kernel). */
export function showMarkdown(text: string, target?: DisplayTarget): Promise<void> {
  return display(new Markdown(text), target);
}

/** Displays an HTML fragment (its tag-stripped text is printed outside the kernel). */
export function showHtml(html: string, target?: DisplayTarget): Promise<void> {
  return display(new HtmlFragment(html), target);
}

/** Markdown text that displays as Markdown in the kernel. */
export class Markdown implements Displayable {
  /** Wraps Markdown text. */
  constructor(readonly text: string) {}
  /** The Markdown text. */
  toString(): string {
    return this.text;
  }
  /** The kernel's display hook. */
  [jupyterDisplay](): MediaBundle {
    return { "text/markdown": this.text, "text/plain": this.text };
  }
}

/** An HTML fragment that displays as HTML in the kernel; `toString()` is the HTML. */
export class HtmlFragment implements Displayable {
  /** Wraps an HTML fragment (trusted: callers escape their data). */
  constructor(readonly html: string) {}
  /** The HTML. */
  toString(): string {
    return this.html;
  }
  /** The kernel's display hook. */
  [jupyterDisplay](): MediaBundle {
    return { "text/html": this.html, "text/plain": htmlToText(this.html) };
  }
}

/**
 * Markdown from a template: numbers print with at most 4 decimals, null/undefined as `–`,
 * other values as their string form.
 *
 * @example
 * ```ts
 * import { md } from "./notebook.ts";
 * if (md`Brier ${0.123456} ${null}`.text !== "Brier 0.1235 –") throw new Error();
 * ```
 */
export function md(strings: TemplateStringsArray, ...values: unknown[]): Markdown {
  return new Markdown(interleave(strings, values, formatValue));
}

/** HTML from a template: interpolated values are escaped unless they are `HtmlFragment`s. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): HtmlFragment {
  return new HtmlFragment(
    interleave(
      strings,
      values,
      (v) => v instanceof HtmlFragment ? v.html : escapeHtml(formatValue(v)),
    ),
  );
}

function interleave(
  strings: TemplateStringsArray,
  values: unknown[],
  format: (v: unknown) => string,
): string {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += format(v) + (strings[i + 1] ?? "");
  });
  return out;
}

function formatValue(value: unknown, digits = 4): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(digits)));
  }
  return String(value);
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function htmlToText(html: string): string {
  return html.replace(/<(br|\/p|\/tr|\/h\d|\/li|\/pre|\/div)\b[^>]*>/gi, "\n")
    .replace(/<\/t[dh]>/gi, "\t").replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&").replace(/\n{3,}/g, "\n\n").trim();
}

// ---------------------------------------------------------------------------------------------
// Live progress

/** A progress display updated in place (kernel) or printed as a few lines (elsewhere). */
export interface Progress {
  /** Sets the progress; `phase` names what is being counted (e.g. `target`, `critique`). */
  update(done: number, total: number, phase?: string): Promise<void>;
  /** Marks the work finished with an optional closing note. */
  finish(note?: string): Promise<void>;
}

let progressCounter = 0;

/** One display line updated in place in the kernel; its updates run one after another. */
function liveLine(target: DisplayTarget | undefined) {
  const { jupyter, print } = resolveTarget(target);
  const displayId = `rpt-progress-${Date.now().toString(36)}-${++progressCounter}`;
  let shown = false;
  let chain: Promise<void> = Promise.resolve();
  const send = (bundle: MediaBundle): Promise<void> => {
    const update = shown;
    shown = true;
    // Awaited through Promise.resolve: some kernel versions return nothing from broadcast.
    return Promise.resolve(
      jupyter!.broadcast(update ? "update_display_data" : "display_data", {
        data: bundle,
        metadata: {},
        transient: { display_id: displayId },
      }),
    ).then(yieldToKernel);
  };
  return {
    inKernel: jupyter !== undefined,
    print,
    /** Shows `text` with a bar (kernel only). */
    show: (text: string, done: number, total: number) => send(progressBundle(text, done, total)),
    /** Queues `work` after the updates before it. */
    enqueue(work: () => Promise<void> | void): Promise<void> {
      chain = chain.then(work);
      return chain;
    },
  };
}

/**
 * A live progress display. In the kernel it shows one line updated in place by display id
 * (`update_display_data`); elsewhere it prints a line per phase start, each further 25%, and
 * the end. Feed it from an `onProgress` callback; calls are serialised, so a callback may fire
 * without awaiting. For a session, {@linkcode createRunProgress} adds time and money.
 *
 * @example
 * ```ts
 * import { createProgress } from "./notebook.ts";
 * const lines: string[] = [];
 * const bar = createProgress("diagnose", { print: (l) => lines.push(l) });
 * for (let i = 0; i <= 4; i++) await bar.update(i, 4, "target");
 * await bar.finish("done");
 * if (lines.join("|") !== "diagnose · target 0/4|diagnose · target 1/4|diagnose · target 2/4|" +
 *   "diagnose · target 3/4|diagnose · target 4/4|diagnose · done") throw new Error(lines.join("|"));
 * ```
 */
export function createProgress(label: string, target?: DisplayTarget): Progress {
  const line = liveLine(target);
  let lastPhase: string | undefined;
  let lastQuarter = -1;
  return {
    update(done, total, phase) {
      return line.enqueue(() => {
        const text = `${label}${phase ? ` · ${phase}` : ""} ${done}/${total}`;
        if (line.inKernel) return line.show(text, done, total);
        // Outside the kernel a line per update would flood logs: print phase starts and quarters.
        const quarter = total > 0 ? Math.floor((4 * done) / total) : 4;
        if (phase !== lastPhase || quarter > lastQuarter) line.print(text);
        lastPhase = phase;
        lastQuarter = quarter;
      });
    },
    finish(note) {
      return line.enqueue(() => {
        const text = `${label} · ${note ?? "finished"}`;
        if (line.inKernel) return line.show(text, 1, 1);
        line.print(text);
      });
    },
  };
}

/** A session's live progress: give `onEvent` to `optimize` or `openSession`. */
export interface RunProgress {
  /** Takes one of the session's events (no need to await). */
  onEvent(event: LoopEvent): void;
  /** Shows the closing line, with elapsed time and spend, and an optional note. */
  finish(note?: string): Promise<void>;
}

/**
 * Live progress of a session with elapsed time, ETAs for the step and the run, and calls,
 * tokens and dollars so far ({@linkcode ProgressMeter}, the line the command line shows).
 * In the kernel one line is updated in place (at most every 250 ms); elsewhere a line is
 * printed per saved step and as a heartbeat every 30 s.
 *
 * @example
 * ```ts
 * import { createRunProgress } from "./notebook.ts";
 * let t = 0;
 * const lines: string[] = [];
 * const p = createRunProgress("RPT", { print: (l) => lines.push(l) }, { now: () => t });
 * p.onEvent({ type: "progress", step: 1, iterations: 3, phase: "target", done: 10, total: 40 });
 * t = 30_000;
 * p.onEvent({ type: "progress", step: 1, iterations: 3, phase: "target", done: 20, total: 40 });
 * await p.finish("done");
 * if (!lines[0]?.startsWith("RPT · step 1/3 target [########--------] 20/40 · 30s elapsed · phase ~30s left")) {
 *   throw new Error(lines[0]);
 * }
 * ```
 */
export function createRunProgress(
  label: string,
  target?: DisplayTarget,
  options: { now?: () => number } = {},
): RunProgress {
  const now = options.now ?? Date.now;
  const meter = new ProgressMeter({ now });
  const line = liveLine(target);
  let lastShown = -Infinity;
  let current: { done: number; total: number } = { done: 0, total: 1 };
  return {
    onEvent(event) {
      // The text is taken now; only showing it waits for the updates before it.
      const at = now();
      meter.observe(event, at);
      if (event.type === "progress") current = { done: event.done, total: event.total };
      if (line.inKernel) {
        if (event.type !== "step" && at - lastShown < 250) return;
        lastShown = at;
        const text = `${label} · ${meter.line(at)}`;
        const { done, total } = current;
        void line.enqueue(() => line.show(text, done, total));
        return;
      }
      let text: string | undefined;
      if (event.type === "step") {
        const s = event.summary;
        text = `${label} · step ${s.step} (${s.kind}) saved: dev ${s.dev.score.toFixed(3)}` +
          `${s.selected ? ", best so far" : ""} · ${meter.status(at)}`;
        meter.printed(at);
      } else {
        const beat = meter.heartbeat(at);
        if (beat !== undefined) text = `${label} · ${beat}`;
      }
      if (text !== undefined) void line.enqueue(() => line.print(text));
    },
    finish(note) {
      const text = `${label} · ${note ?? "finished"} · ${meter.status(now(), { eta: false })}`;
      return line.enqueue(() => {
        if (line.inKernel) return line.show(text, 1, 1);
        line.print(text);
      });
    },
  };
}

function progressBundle(text: string, done: number, total: number): MediaBundle {
  const max = Math.max(total, 1);
  return {
    "text/html": `<div style="font-family:monospace"><progress value="${
      Math.min(done, max)
    }" max="${max}" style="width:16em;vertical-align:middle"></progress> ${escapeHtml(text)}</div>`,
    "text/plain": text,
  };
}

// ---------------------------------------------------------------------------------------------
// Prompt diff

const DEL_STYLE = "background:#ffd7d5;color:#82071e;text-decoration:line-through";
const INS_STYLE = "background:#ccffd8;color:#055d20;text-decoration:none";

function diffPartsHtml(parts: readonly DiffPart[]): string {
  return parts.map((p) => {
    const text = escapeHtml(p.text);
    if (p.kind === "same") return text;
    return `<${p.kind} style="${p.kind === "del" ? DEL_STYLE : INS_STYLE}">${text}</${p.kind}>`;
  }).join("");
}

const PRE_STYLE = "white-space:pre-wrap;font-size:12px;line-height:1.4;margin:0 0 0.6em 0";

/**
 * A prompt diff as HTML: deleted text in `<del>`, inserted text in `<ins>`. Prompt programs
 * are diffed field by field (`system`, `instruction`, then other fields), unchanged fields
 * marked as such.
 *
 * @example
 * ```ts
 * import { renderPromptDiff } from "./notebook.ts";
 * const diff = renderPromptDiff("Be brief.", "Be very brief.").html;
 * if (!diff.includes(">very </ins>") || diff.includes("<del")) throw new Error(diff);
 * ```
 */
export function renderPromptDiff(
  before: string | PromptProgram,
  after: string | PromptProgram,
): HtmlFragment {
  if (typeof before === "string" && typeof after === "string") {
    return new HtmlFragment(
      `<pre class="rpt-diff" style="${PRE_STYLE}">${diffPartsHtml(diffText(before, after))}</pre>`,
    );
  }
  const a: Record<string, string> = typeof before === "string" ? { instruction: before } : before;
  const b: Record<string, string> = typeof after === "string" ? { instruction: after } : after;
  const fields = [...new Set(["system", "instruction", ...Object.keys(a), ...Object.keys(b)])]
    .filter((f) => f in a || f in b);
  const blocks = fields.map((field) => {
    const x = a[field] ?? "";
    const y = b[field] ?? "";
    const head = `<div class="rpt-diff-field" style="font-weight:bold">${escapeHtml(field)}${
      x === y ? ' <span style="font-weight:normal;color:#777">(unchanged)</span>' : ""
    }</div>`;
    return `${head}<pre class="rpt-diff" style="${PRE_STYLE}">${
      diffPartsHtml(diffText(x, y))
    }</pre>`;
  });
  return new HtmlFragment(`<div class="rpt-prompt-diff">${blocks.join("")}</div>`);
}

// ---------------------------------------------------------------------------------------------
// Tables and reports

/** Options of {@linkcode renderTable}. */
export interface TableOptions {
  /** Columns in order; default: the keys of all rows in first-seen order. */
  columns?: string[];
  /** Decimals for non-integer numbers (default 3). */
  digits?: number;
  caption?: string;
  /** Cut cell text longer than this with an ellipsis (default 200). */
  maxChars?: number;
}

/**
 * An HTML table of plain rows: text escaped, numbers right-aligned with fixed decimals,
 * null/undefined as `–`, objects as JSON.
 *
 * @example
 * ```ts
 * import { renderTable } from "./notebook.ts";
 * const table = renderTable([{ topic: "a<b", p: 0.5 }]).html;
 * if (!table.includes("<td>a&lt;b</td>") || !table.includes(">0.500</td>")) throw new Error();
 * ```
 */
export function renderTable(
  rows: readonly Record<string, unknown>[],
  options: TableOptions = {},
): HtmlFragment {
  const digits = options.digits ?? 3;
  const maxChars = options.maxChars ?? 200;
  const columns = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (value: unknown): string => {
    if (typeof value === "number") {
      const text = Number.isInteger(value) ? String(value) : value.toFixed(digits);
      return `<td style="text-align:right;font-variant-numeric:tabular-nums">${text}</td>`;
    }
    if (value === null || value === undefined) return `<td style="color:#999">–</td>`;
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return `<td>${escapeHtml(truncate(text, maxChars))}</td>`;
  };
  const caption = options.caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${
      escapeHtml(options.caption)
    }</caption>`
    : "";
  const head = `<thead><tr>${
    columns.map((c) => `<th style="text-align:left">${escapeHtml(c)}</th>`).join("")
  }</tr></thead>`;
  const body = `<tbody>${
    rows.map((row) => `<tr>${columns.map((c) => cell(row[c])).join("")}</tr>`).join("")
  }</tbody>`;
  return new HtmlFragment(
    `<table class="rpt-table" style="border-collapse:collapse;font-size:13px">${caption}${head}${body}</table>`,
  );
}

/** Cuts text to at most `max` characters, ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

function metricRows(metrics: Metrics): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [
    { metric: "score", value: metrics.score },
    { metric: "full credit", value: metrics.fullCredit },
    ...Object.entries(metrics.extra).map(([metric, value]) => ({ metric, value })),
    { metric: "mean confidence", value: metrics.avgConfidence },
    { metric: "Brier", value: metrics.brier },
    { metric: "ECE", value: metrics.ece },
    { metric: "format-error rate", value: metrics.formatErrorRate },
    { metric: "error rate", value: metrics.errorRate },
  ];
  for (const [name, s] of Object.entries(metrics.perSubtask)) {
    rows.push({ metric: `score on ${name} (n=${s.n})`, value: s.score });
  }
  return rows;
}

function promptHtml(prompt: PromptProgram): string {
  return Object.entries(prompt).map(([field, text]) =>
    `<div style="font-weight:bold">${escapeHtml(field)}</div><pre style="${PRE_STYLE}">${
      escapeHtml(text)
    }</pre>`
  ).join("");
}

/** Options shared by the report renderers. */
export interface ReportHtmlOptions {
  /** Labels the output "(simulated)" when the figures come from the offline simulator. */
  simulated?: boolean;
  /** Include the prompt program (default true). */
  showPrompt?: boolean;
}

/**
 * A diagnostic report as HTML: metrics, counts, warnings, retained failure topics with their
 * prevalence, description and examples, and the prompt.
 *
 * @example
 * ```ts
 * import { renderReportHtml } from "./notebook.ts";
 * const html = renderReportHtml({
 *   iteration: 2, prompt: { system: "S", instruction: "I" },
 *   metrics: { n: 2, parsed: 2, score: 0.5, fullCredit: 0.5, avgConfidence: 0.9, brier: 0.41,
 *     ece: 0.4, formatErrorRate: 0, errorRate: 0, perSubtask: {}, extra: {} },
 *   topics: [{ name: "Overconfidence", description: "Too sure.", examples: ["said 0.9"] }],
 *   counts: { examples: 2, failures: 1, diagnoses: 1, formatErrors: 0, errors: 0 },
 *   warnings: [],
 * }, { simulated: true }).html;
 * if (!html.includes("Overconfidence") || !html.includes("(simulated)")) throw new Error();
 * ```
 */
export function renderReportHtml(
  report: DiagnosticReport,
  options: ReportHtmlOptions = {},
): HtmlFragment {
  const sim = options.simulated ? " (simulated)" : "";
  const c = report.counts;
  const parts = [
    `<h3>Diagnostic report · iteration ${report.iteration}${sim}</h3>`,
    `<p>${c.examples} examples · ${c.failures} failures · ${c.diagnoses} diagnoses · ${c.formatErrors} format errors · ${c.errors} provider errors</p>`,
    renderTable(metricRows(report.metrics), { caption: `Metrics${sim}` }).html,
  ];
  if (report.warnings.length) {
    parts.push(
      `<ul class="rpt-warnings">${
        report.warnings.map((w) => `<li style="color:#9a6700">⚠ ${escapeHtml(w)}</li>`).join("")
      }</ul>`,
    );
  }
  parts.push(`<h4>Failure topics (${report.topics.length})</h4>`);
  if (report.topics.length === 0) parts.push("<p><i>No failure topics.</i></p>");
  for (const topic of report.topics) {
    const prevalence = topic.prevalence === undefined
      ? ""
      : ` <span style="color:#555">(prevalence ${topic.prevalence.toFixed(2)})</span>`;
    parts.push(
      `<div class="rpt-topic"><b>${escapeHtml(topic.name)}</b>${prevalence}<div>${
        escapeHtml(topic.description)
      }</div>${
        topic.examples.length
          ? `<ul>${topic.examples.map((e) => `<li>${escapeHtml(e)}</li>`).join("")}</ul>`
          : ""
      }</div>`,
    );
  }
  if (options.showPrompt ?? true) parts.push(`<h4>Prompt</h4>${promptHtml(report.prompt)}`);
  return new HtmlFragment(`<div class="rpt-report">${parts.join("\n")}</div>`);
}

/**
 * A run summary as HTML: how it stopped, the selected prompt against the seed on dev and test,
 * and one row per step (train/dev score and Brier, selection value, topics, action).
 */
export function renderRunHtml(summary: RunSummary, options: ReportHtmlOptions = {}): HtmlFragment {
  const sim = (options.simulated ?? summary.simulated) ? " (simulated)" : "";
  const num = (x: number | null | undefined) => x ?? null;
  const steps = summary.steps.map((s) => ({
    step: s.step,
    "train score": num(s.train?.score),
    "train Brier": num(s.train?.brier),
    "dev score": s.dev.score,
    "dev Brier": num(s.dev.brier),
    selection: s.selection,
    selected: s.selected ? "★" : "",
    topics: s.topics.join("; "),
    action: s.by === "hand" ? `${s.action} (by hand)` : s.action,
    ...(summary.steps.some((x) => x.failedCalls)
      ? { "failed calls": failedCallsText(s.failedCalls) }
      : {}),
  }));
  const failed = runFailedCallsText(summary);
  const sel = summary.selected;
  const compare = [
    {
      prompt: "seed",
      "dev score": summary.seed.dev.score,
      "dev Brier": summary.seed.dev.brier,
      "test score": num(summary.seed.test?.score),
      "test Brier": num(summary.seed.test?.brier),
    },
    {
      prompt: `selected (step ${sel.step})`,
      "dev score": sel.dev.score,
      "dev Brier": sel.dev.brier,
      "test score": num(sel.test?.score),
      "test Brier": num(sel.test?.brier),
    },
  ];
  const cmp = summary.comparison;
  const parts = [
    `<h3>Run · ${escapeHtml(summary.task)}${sim}</h3>`,
    `<p>${summary.iterationsRun} iterations · stopped (${summary.stop.kind}): ${
      escapeHtml(summary.stop.reason)
    }</p>`,
    failed
      ? `<p class="rpt-warnings" style="color:#9a6700">⚠ ${
        escapeHtml(failed)
      }: calls that failed ` +
        `after their retries, scored 0 (allowed by the run's maxErrorRate)</p>`
      : "",
    renderTable(compare, { caption: `Seed vs selected${sim}` }).html,
    cmp
      ? `<p>Selected (step ${sel.step}) - seed on test: ${cmp.delta.toFixed(3)} [${
        cmp.lo.toFixed(3)
      }, ${cmp.hi.toFixed(3)}] (paired bootstrap, n=${cmp.n}, P(selected better) = ${
        escapeHtml(probability(cmp.probabilityFinalGreater))
      })</p>`
      : "",
    renderTable(steps, { caption: `Steps${sim}` }).html,
    `<h4>Selected prompt (step ${sel.step})</h4>${promptHtml(sel.prompt)}`,
  ];
  return new HtmlFragment(`<div class="rpt-run">${parts.join("\n")}</div>`);
}
