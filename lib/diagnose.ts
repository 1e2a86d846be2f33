/**
 * The diagnostic function `diagnose(prompt, split)` (DESIGN section 1): run the target on
 * every example, compute the metrics, find the failures (parsed items below full credit),
 * have the critic name their failure modes, cluster the modes with ClusterFusion, and
 * return the report together with everything needed to audit it.
 *
 * @module
 */
import { clusterFusion, type ClusterRecord, type ClusterResult } from "./cluster.ts";
import { critiqueFailure, type CritiqueOutcome } from "./critique.ts";
import { type ChatModel, type Embedder, isFatalCallError, ProviderError } from "./llm/model.ts";
import { assertComplete, failuresOf, IncompleteError } from "./incomplete.ts";
import { TfidfEmbedder } from "./llm/tfidf.ts";
import { computeMetrics } from "./metrics.ts";
import { buildReport, type DiagnosticReport } from "./report.ts";
import { type Task, taskOutputMode } from "./tasks/task.ts";
import type { ChatMessage, ChatResponse } from "./llm/schema.ts";
import type { Example, Metrics, Split } from "./tasks/schema.ts";
import type { PromptProgram } from "./prompt.ts";
import type { TraceItem } from "./trace.ts";
import { TARGET_SCHEMA_NAME } from "./protocol_names.ts";
import { ConfigError } from "./util/errors.ts";
import { createLimiter, mapConcurrent } from "./util/limit.ts";

/** `outputSchema.name` of target requests (defined in `protocol_names.ts`). */
export { TARGET_SCHEMA_NAME };

/** Progress of one phase of {@linkcode diagnose}. */
export interface DiagnoseProgress {
  phase: "target" | "critique" | "cluster";
  done: number;
  total: number;
}

/** Options of {@linkcode evaluatePrompt}. */
export interface EvaluateOptions {
  task: Task;
  target: ChatModel;
  /** Target calls in flight (default 16); a wrapped model's provider limit still applies. */
  concurrency?: number;
  /** Target temperature (default 0). */
  temperature?: number;
  onProgress?: (p: DiagnoseProgress) => void;
  signal?: AbortSignal;
}

/** Options of {@linkcode diagnose}. */
export interface DiagnoseOptions extends EvaluateOptions {
  /** The critic; required when critiques run. */
  critic?: ChatModel;
  /** Embeds diagnoses for ClusterFusion (default: offline TF-IDF). */
  embedder?: Embedder;
  /** Extracts and assigns topics (default: the critic). */
  clusterModel?: ChatModel;
  examples: Example[];
  /** Iteration number written into the report (default 0). */
  iteration?: number;
  /** Topics ClusterFusion extracts (default 10). */
  k?: number;
  /** Critique and cluster the failures (default: only on `train`). */
  critique?: boolean;
  /** Seed of ClusterFusion (default 0). */
  seed?: number;
  /** Critic and cluster-model temperature (default 0). */
  criticTemperature?: number;
  /** Critic attempts when its output is malformed (default 2). */
  critiqueAttempts?: number;
  /** Records per topic-assignment call (default 25). */
  clusterBatchSize?: number;
  /** Records shown to ClusterFusion's topic extraction (default 100). */
  clusterSample?: number;
  /** Topic descriptions ClusterFusion asks for (default one sentence). */
  topicDescriptions?: "sentence" | "comprehensive";
  /** The critic also judges the stated confidence (default true). */
  criticConfidence?: boolean;
  /** Kept for the tool-result form; the report itself always holds prevalence. */
  showPrevalence?: boolean;
  /** Extra warnings to put in the report (e.g. the loop's format-collapse warning). */
  warnings?: string[];
  /**
   * Batch mode: runs a phase's calls (the target pass, the first attempt of every critique)
   * gathered as one batch job; the phase then has every call in flight at once.
   */
  batch?: { target?: PhaseBatcher; critique?: PhaseBatcher };
  /**
   * Share of failed calls each phase may hold (target examples, critiques, clustering
   * calls); beyond it the phase throws an {@linkcode IncompleteError} before the next one
   * starts. Undefined: failed calls are only counted (the report warns about them).
   */
  maxErrorRate?: number;
}

/**
 * Runs `work`, which makes `calls` calls of one phase without waiting for their answers, with
 * those calls gathered into one batch job (see `lib/revise/batch.ts`).
 */
export type PhaseBatcher = <T>(calls: number, work: () => Promise<T>) => Promise<T>;

/** Everything `diagnose` produced: the report and the full record behind it. */
export interface DiagnosticRecord {
  report: DiagnosticReport;
  traces: TraceItem[];
  critiques: CritiqueOutcome[];
  /** The full, unfiltered clustering; null when failures were not critiqued. */
  clustering: ClusterResult | null;
}

/**
 * A failure: a parsed item below full credit. Format errors and provider errors are
 * counted separately and are not critiqued.
 */
export function isFailure(trace: TraceItem): boolean {
  return trace.parsed !== null && trace.error === undefined && trace.formatError === undefined &&
    !trace.full;
}

/** What one target call gave: its response, or the error that ended it. */
interface Sent {
  messages: ChatMessage[];
  response?: ChatResponse;
  error?: unknown;
  latencyMs: number;
}

async function sendExample(
  prompt: PromptProgram,
  example: Example,
  opts: EvaluateOptions,
): Promise<Sent> {
  const { task, target } = opts;
  const messages = task.render(prompt, example);
  const started = performance.now();
  try {
    // A task that reads free text (the reference's LiveBench) is sent no output schema.
    const structured = taskOutputMode(task) === "structured";
    const response = await target.chat({
      messages,
      ...(structured
        ? { outputSchema: { name: TARGET_SCHEMA_NAME, schema: task.outputSchema } }
        : {}),
      temperature: opts.temperature ?? 0,
    }, { signal: opts.signal });
    return { messages, response, latencyMs: performance.now() - started };
  } catch (error) {
    if (isFatalCallError(error, opts.signal)) throw error;
    return { messages, error, latencyMs: performance.now() - started };
  }
}

function scoreExample(sent: Sent, example: Example, task: Task): TraceItem {
  const base = {
    exampleId: example.id,
    ...(example.subtask !== undefined ? { subtask: example.subtask } : {}),
    messages: sent.messages,
  };
  const { response, error, latencyMs } = sent;
  if (response === undefined) {
    return {
      ...base,
      rawText: "",
      parsed: null,
      error: error instanceof Error ? error.message : String(error),
      score: 0,
      full: false,
      impact: 0,
      details: {},
      usage: { inputTokens: 0, cachedTokens: 0, outputTokens: 0 },
      latencyMs,
    };
  }
  // Some providers return structured output only as a parsed object.
  const rawText = response.text !== "" || response.parsed === undefined
    ? response.text
    : JSON.stringify(response.parsed);
  const parse = task.parse(rawText);
  const scored = task.score(example, parse, rawText);
  return {
    ...base,
    rawText,
    parsed: parse.ok ? parse.value : null,
    ...(parse.ok ? {} : { formatError: parse.error }),
    score: scored.score,
    full: scored.full,
    impact: scored.impact,
    details: scored.details,
    usage: response.usage,
    latencyMs,
  };
}

/**
 * Runs the target on every example and computes the metrics. A call that fails after the
 * wrapper's retries leaves its example unscored (a trace with `error`, see `isUnscored`),
 * counted in `errorRate` and scoring 0 if the caller lets it count: the loop stops instead
 * unless its `maxErrorRate` allows the share (`revise/evaluate.ts`). Budget and abort errors
 * stop the work.
 *
 * @example
 * ```ts
 * import { evaluatePrompt } from "./diagnose.ts";
 * import { type Task, taskOutputMode } from "./tasks/task.ts";
 * import type { ChatModel } from "./llm/model.ts";
 * const task = {
 *   name: "demo", reasoningField: "reasoning", seedPrompt: { system: "", instruction: "" },
 *   outputSchema: { type: "object" },
 *   load: () => Promise.resolve([]),
 *   render: (_p, ex) => [{ role: "user", content: `Question: ${ex.question}` }],
 *   parse: (raw) => ({ ok: true, value: JSON.parse(raw) }),
 *   score: (ex, p) => {
 *     const full = p.ok && p.value.answer === ex.answer;
 *     return { score: full ? 1 : 0, full, impact: full ? 0 : 1, details: {} };
 *   },
 *   selectionScore: () => 0,
 * } satisfies Task;
 * const target: ChatModel = {
 *   provider: "demo", model: "demo",
 *   chat: () => Promise.resolve({
 *     text: '{"reasoning": "", "answer": "4", "confidence": 1}', toolCalls: [],
 *     finishReason: "stop", provider: "demo", model: "demo",
 *     usage: { inputTokens: 1, cachedTokens: 0, outputTokens: 1 },
 *   }),
 * };
 * const { metrics } = await evaluatePrompt(task.seedPrompt, [
 *   { id: "a", question: "2+2?", answer: "4", row: {} },
 *   { id: "b", question: "2+3?", answer: "5", row: {} },
 * ], { task, target });
 * if (metrics.score !== 0.5) throw new Error(`score ${metrics.score}`);
 * ```
 */
export async function evaluatePrompt(
  prompt: PromptProgram,
  examples: readonly Example[],
  opts: EvaluateOptions,
): Promise<{ traces: TraceItem[]; metrics: Metrics }> {
  const concurrency = opts.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  let done = 0;
  const total = examples.length;
  opts.onProgress?.({ phase: "target", done, total });
  // A call's slot is given back as soon as its answer is in, before the answer is parsed
  // and scored: the next call is built and sent first, so a slot never waits on scoring.
  const slots = createLimiter(concurrency);
  const traces = await Promise.all(examples.map(async (example) => {
    const sent = await slots.run(() => sendExample(prompt, example, opts));
    const trace = scoreExample(sent, example, opts.task);
    opts.onProgress?.({ phase: "target", done: ++done, total });
    return trace;
  }));
  return { traces, metrics: computeMetrics(traces) };
}

/**
 * The diagnostic function. On `train` (or with `critique: true`) every failure is
 * critiqued and the diagnoses are clustered into failure topics; elsewhere the report
 * holds metrics and counts only.
 *
 * Diagnosis records for ClusterFusion are `label: definition`, with `why` as the example
 * and the failure's impact as the weight.
 */
export async function diagnose(
  prompt: PromptProgram,
  split: Split,
  opts: DiagnoseOptions,
): Promise<DiagnosticRecord> {
  const doCritique = opts.critique ?? split === "train";
  if (doCritique && opts.critic === undefined) {
    throw new ConfigError(
      `diagnose: critiques run on split '${split}' but no critic model was given (options.critic)`,
    );
  }
  const n = opts.examples.length;
  const batchTarget = opts.batch?.target;
  const { traces, metrics } = batchTarget
    ? await batchTarget(n, () => evaluatePrompt(prompt, opts.examples, { ...opts, concurrency: n }))
    : await evaluatePrompt(prompt, opts.examples, opts);
  assertComplete(failuresOf(split, traces), opts.maxErrorRate, traces);
  const failures = traces.flatMap((trace, i) =>
    isFailure(trace) ? [{ trace, example: opts.examples[i] as Example }] : []
  );

  let critiques: CritiqueOutcome[] = [];
  let clustering: ClusterResult | null = null;
  const records: ClusterRecord[] = [];
  if (doCritique && opts.critic !== undefined) {
    const critic = opts.critic;
    let done = 0;
    opts.onProgress?.({ phase: "critique", done, total: failures.length });
    const batchCritique = opts.batch?.critique;
    const critiqueAll = (concurrency: number) =>
      mapConcurrent(failures, concurrency, async ({ trace, example }) => {
        const outcome = await critiqueFailure(critic, { task: opts.task, example, trace }, {
          maxAttempts: opts.critiqueAttempts,
          temperature: opts.criticTemperature,
          judgeConfidence: opts.criticConfidence,
          signal: opts.signal,
        });
        opts.onProgress?.({ phase: "critique", done: ++done, total: failures.length });
        return outcome;
      });
    critiques = batchCritique
      ? await batchCritique(failures.length, () => critiqueAll(Math.max(1, failures.length)))
      : await critiqueAll(opts.concurrency ?? 16);
    assertComplete(
      failuresOf("critique", critiques.map((c) => c.callFailed ? { error: c.error ?? "" } : {})),
      opts.maxErrorRate,
    );
    critiques.forEach((c, i) => {
      const impact = failures[i]?.trace.impact ?? 1;
      for (const m of c.modes) {
        records.push({ text: `${m.label}: ${m.definition}`, example: m.why, impact });
      }
    });
    clustering = await clusterOrIncomplete(records, {
      ...opts,
      clusterModel: opts.clusterModel ?? critic,
    });
  }

  const counts = {
    examples: traces.length,
    failures: failures.length,
    diagnoses: records.length,
    formatErrors: traces.filter((t) => t.error === undefined && t.formatError !== undefined)
      .length,
    errors: traces.filter((t) => t.error !== undefined).length,
  };
  const report = buildReport({
    iteration: opts.iteration ?? 0,
    prompt,
    metrics,
    clustering,
    counts,
    warnings: [...(opts.warnings ?? []), ...recordWarnings(counts, critiques, clustering)],
  });
  return { report, traces, critiques, clustering };
}

/**
 * ClusterFusion on the diagnoses. Under a `maxErrorRate`, failed topic calls beyond it, or a
 * failed embedding call (which has no fallback), make the diagnosis incomplete.
 */
async function clusterOrIncomplete(
  records: ClusterRecord[],
  opts: DiagnoseOptions & { clusterModel: ChatModel },
): Promise<ClusterResult> {
  let clustering: ClusterResult;
  try {
    clustering = await clusterFusion(records, {
      embedder: opts.embedder ?? new TfidfEmbedder(),
      model: opts.clusterModel,
      k: opts.k,
      seed: opts.seed,
      batchSize: opts.clusterBatchSize,
      sampleSize: opts.clusterSample,
      descriptions: opts.topicDescriptions,
      concurrency: opts.concurrency,
      temperature: opts.criticTemperature,
      signal: opts.signal,
      onProgress: (p) => opts.onProgress?.({ phase: "cluster", ...p }),
    });
  } catch (error) {
    if (opts.maxErrorRate === undefined || !(error instanceof ProviderError)) throw error;
    throw new IncompleteError(
      { phase: "cluster", failed: 1, total: 1, lastError: error.message },
      { cause: error },
    );
  }
  const { failed, of } = clustering.failedCalls;
  const lastError = clustering.errors.at(-1);
  assertComplete(
    { phase: "cluster", failed, total: of, ...(lastError ? { lastError } : {}) },
    opts.maxErrorRate,
  );
  return clustering;
}

/** Warnings the optimizer should see about the quality of this diagnosis itself. */
function recordWarnings(
  counts: DiagnosticReport["counts"],
  critiques: readonly CritiqueOutcome[],
  clustering: ClusterResult | null,
): string[] {
  const out: string[] = [];
  if (counts.errors > 0) {
    out.push(
      `${counts.errors} of ${counts.examples} examples failed with provider errors and scored 0; ` +
        `they say nothing about the prompt.`,
    );
  }
  const failed = critiques.filter((c) => c.error !== undefined).length;
  if (failed > 0) {
    out.push(`${failed} of ${critiques.length} failures could not be critiqued.`);
  }
  if (clustering !== null && clustering.errors.length > 0) {
    out.push(
      `Topic clustering met ${clustering.errors.length} failed call(s); see the run record.`,
    );
  }
  return out;
}
