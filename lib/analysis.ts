/**
 * The trace analyses of the paper's section 4.3, computed from one or several run records:
 * what RPT learns from its diagnostics.
 *
 * 1. Failure corpus: every topic of every step's full (unfiltered) clustering that has at
 *    least one diagnosis assigned (padding topics with none describe nothing observed). A
 *    record's text is `name: description`, NFKC-normalised, lowercased, whitespace collapsed;
 *    its weight is the topic's prevalence at its step.
 * 2. Patch corpus: for every transition t -> t+1 whose prompt changed, one LLM call
 *    (structured output `patch_edits`) rewrites the diff as 3-12 atomic edits
 *    `{change_type, edit, evidence}`; the message gives the old prompt, the new prompt, a
 *    unified diff and the patch rationale (context only). An edit is kept only when its
 *    evidence occurs in the new prompt ({@linkcode evidenceOccurs}); others are dropped and
 *    counted. A record's text is `<change_type> - <edit>`, normalised like the failures.
 * 3. ClusterFusion (k = 10 by default) over each corpus.
 * 4. Tables (`analysis_tables.ts`): per transition the failure topics present at t (by
 *    default those retained at t, see {@linkcode AnalysisOptions.failurePresence}) and the
 *    patch topics of the edit t -> t+1; alignment P(patch | failure); per topic the mean
 *    next-step change of the task metric ({@linkcode AnalysisOptions.deltaMetric}) and Brier
 *    on the optimization split with bootstrap intervals; persistence of failure topics;
 *    repeated / resolved / new failure topics per pair of diagnosed steps; prompt length
 *    (estimated tokens) vs dev score.
 * 5. Optionally, readable topic labels ({@linkcode AnalysisOptions.labelTopics}).
 *
 * The reference's choices (megagonlabs/RPT `rpt/analysis/`): presence `every`, deltas of the
 * task's headline (HotPotQA EM), labels on; `rpt analyze --preset paper` sets them, and so
 * does analysing a run made with the `paper` preset.
 *
 * A transition needs the optimization-split metrics of both steps, so the last patch of a
 * run (never diagnosed) is not one. Several runs are pooled: topics are found over the
 * union of their corpora, and every table pools their transitions.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { z } from "zod";
import {
  alignmentTable,
  type LengthPoint,
  lengthVsScore,
  persistenceTable,
  topicChangeTable,
  topicDeltas,
  type Transition,
} from "./analysis_tables.ts";
import { labelTopics } from "./analysis_labels.ts";
import { clusterFusion, type ClusterRecord, ClusterResult } from "./cluster.ts";
import type { ChatModel, Embedder } from "./llm/model.ts";
import { specsAreSimulated } from "./llm/spec.ts";
import { callStructured } from "./llm/structured.ts";
import { PATCH_EDITS_SCHEMA_NAME } from "./protocol_names.ts";
import {
  promptFields,
  type PromptProgram,
  promptText,
  promptTokens,
  unifiedDiff,
} from "./prompt.ts";
import { loadRun, type RunRecord, type StepRecord } from "./run/reader.ts";
import {
  type AnalysisResult,
  type CorpusRecord,
  type PatchEdit,
  PatchEdits,
  type TransitionEdits,
} from "./analysis_schema.ts";
import type { ChatMessage } from "./llm/schema.ts";
import type { Metrics } from "./tasks/schema.ts";
import { writeJsonAtomic } from "./util/fs.ts";
import { mapConcurrent } from "./util/limit.ts";
import { fixed, signed as signedFigure } from "./util/format.ts";

// ---------------------------------------------------------------------------------------------
// Input: a run reduced to what the analyses read

/** One diagnosed step of a run. */
export interface TraceStep {
  /** The step (iteration) number; steps are analysed in increasing order. */
  step: number;
  /** The prompt diagnosed at this step. */
  prompt: PromptProgram;
  /** Metrics on the optimization split (the diagnostic report's), if diagnosed. */
  train: Metrics | null;
  /** Metrics on the dev split, if scored. */
  dev: Metrics | null;
  /** The full, unfiltered clustering of the step's diagnoses (null when there were none). */
  clustering: ClusterResult | null;
  /** Rationale of the patch that followed this step, if any. */
  rationale?: string;
}

/** A run reduced to what the analyses read; {@linkcode traceFromRunRecord} builds one. */
export interface RunTrace {
  /** A short unique name (the run directory's base name by default). */
  name: string;
  dir?: string;
  task?: string;
  /** Whether the run used the offline simulator. */
  simulated: boolean;
  steps: TraceStep[];
}

// ---------------------------------------------------------------------------------------------
// Options

/** Progress of {@linkcode analyzeTraces}. */
export interface AnalysisProgress {
  phase: "patch_edits" | "failure_topics" | "patch_topics";
  done: number;
  total: number;
}

/** Options of {@linkcode analyzeTraces}. */
export interface AnalysisOptions {
  /** The LLM that rewrites diffs as edits and names and assigns topics. */
  model: ChatModel;
  /** Embeds corpus records for ClusterFusion. */
  embedder: Embedder;
  /** A different LLM for ClusterFusion (default: `model`). */
  clusterModel?: ChatModel;
  /** Topics per corpus (default 10). */
  k?: number;
  /** Seed of ClusterFusion and the bootstrap (default 0). */
  seed?: number;
  /** Calls in flight (default 4). */
  concurrency?: number;
  /** Bootstrap resamples for the delta intervals (default 1000). */
  bootstrapIterations?: number;
  /**
   * Which failure topics are present at a step (default `retained`): only the topics the
   * step's clustering retained, which are what the optimizer's report showed and so what a
   * patch can respond to; or `all` topics with a diagnosis, below the retention threshold
   * included (with k = 10 nearly every topic then shows at nearly every step, which flattens
   * alignment and persistence); or `every` topic of the step's clustering, those with no
   * diagnosis included, as the reference's corpus holds them (the corpus then holds them too).
   */
  failurePresence?: "all" | "retained" | "every";
  /**
   * The metric of the next-step deltas (default the metrics' `score`): the reference measures
   * the task's headline (HotPotQA EM, not F1); `name` is recorded in the settings.
   */
  deltaMetric?: { name: string; of: (metrics: Metrics) => number };
  /**
   * Ask the LLM for a short readable label of every analysis topic, one call per topic set
   * (failure topics, patch topics): the reference's labelling step (whose output its
   * figures never read; the topic names stay the analysis's keys).
   */
  labelTopics?: boolean;
  /** Attempts per `patch_edits` call when the output is malformed (default 2). */
  maxAttempts?: number;
  onProgress?: (p: AnalysisProgress) => void;
  signal?: AbortSignal;
}

const MAX_EDITS = 12;
const MIN_EDITS = 3;
const MIN_EVIDENCE_CHARS = 4;

// ---------------------------------------------------------------------------------------------
// Text helpers

/**
 * The normal form of corpus texts: NFKC, lowercase, whitespace collapsed.
 *
 * @example
 * ```ts
 * import { normalizeCorpusText } from "./analysis.ts";
 * if (normalizeCorpusText(" Wrong  UNIT:\n too big ") !== "wrong unit: too big") throw new Error();
 * ```
 */
export function normalizeCorpusText(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

function normalizeForEvidence(text: string): string {
  return normalizeCorpusText(text)
    .replace(/[\u2018\u2019\u201a\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u2033]/g, '"');
}

/**
 * Whether `evidence` occurs in `promptText`, compared case- and whitespace-insensitively
 * (quotes straightened). Quotes around the evidence are ignored; an ellipsis (`...` or `…`)
 * splits it into pieces that must all occur, in order. Evidence shorter than 4 characters
 * proves nothing and is rejected.
 *
 * @example
 * ```ts
 * import { evidenceOccurs } from "./analysis.ts";
 * const prompt = "Answer with a number.\nRound to two   decimal places.";
 * if (!evidenceOccurs('"round to TWO decimal places"', prompt)) throw new Error("missed");
 * if (evidenceOccurs("Always round to two decimal places", prompt)) throw new Error("invented");
 * ```
 */
export function evidenceOccurs(evidence: string, promptText: string): boolean {
  const haystack = normalizeForEvidence(promptText);
  let quote = normalizeForEvidence(evidence);
  while (/^["'`]/.test(quote) && /["'`]$/.test(quote) && quote.length >= 2) {
    quote = quote.slice(1, -1).trim();
  }
  const pieces = quote.split(/\.\.\.|\u2026/).map((p) => p.trim()).filter((p) => p !== "");
  if (pieces.join(" ").length < MIN_EVIDENCE_CHARS) return false;
  let from = 0;
  for (const piece of pieces) {
    const at = haystack.indexOf(piece, from);
    if (at < 0) return false;
    from = at + piece.length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Patch edits

const EditLax = z.object({
  change_type: z.string(),
  edit: z.string(),
  evidence: z.string(),
});
const EditsLax = z.object({ edits: z.array(z.unknown()) });
const CHANGE_TYPES = new Set(["add", "tighten", "relax", "refactor"]);

/** The messages of a `patch_edits` request for the change `oldPrompt` -> `newPrompt`. */
export function patchEditsMessages(
  oldPrompt: PromptProgram,
  newPrompt: PromptProgram,
  rationale: string | undefined,
  labels: { from: string; to: string } = { from: "old", to: "new" },
): ChatMessage[] {
  const oldText = promptText(oldPrompt);
  const newText = promptText(newPrompt);
  return [
    {
      role: "system",
      content: `You describe how a prompt was revised. Rewrite the change from the old prompt ` +
        `to the new prompt as ${MIN_EDITS}-${MAX_EDITS} atomic edits. For each edit give ` +
        `change_type (add: a new instruction or requirement; tighten: an existing one made ` +
        `stricter or more specific; relax: one removed or loosened; refactor: reworded or ` +
        `reorganised without changing what is asked), edit (one sentence in generic terms, ` +
        `no task-specific names or numbers), and evidence (a short verbatim quote, at most ` +
        `20 words, copied exactly from the NEW prompt, that shows the edit). Describe what the ` +
        `diff changes; the rationale is context only and is not evidence.`,
    },
    {
      role: "user",
      content: `<old_prompt>\n${oldText}\n</old_prompt>\n\n<new_prompt>\n${newText}\n` +
        `</new_prompt>\n\n<diff>\n${unifiedDiff(oldText, newText, labels)}\n</diff>\n\n` +
        `<rationale>\n${rationale?.trim() || "(none given)"}\n</rationale>\n\n` +
        `Return ${MIN_EDITS}-${MAX_EDITS} atomic edits.`,
    },
  ];
}

/**
 * Checks a `patch_edits` answer against the new prompt: malformed edits and edits whose
 * evidence does not occur in the new prompt are dropped (with the reason), edits beyond 12
 * are ignored and counted.
 *
 * @example
 * ```ts
 * import { checkPatchEdits } from "./analysis.ts";
 * const out = checkPatchEdits({ edits: [
 *   { change_type: "add", edit: "Add a rounding rule.", evidence: "Round to two decimals" },
 *   { change_type: "add", edit: "Add a unit rule.", evidence: "Answer in metres" },
 * ] }, { system: "", instruction: "Round to two decimals." });
 * if (out.edits.length !== 1 || out.dropped[0]?.reason !== "evidence not in the new prompt") throw new Error();
 * ```
 */
export function checkPatchEdits(
  value: unknown,
  newPrompt: PromptProgram,
): { edits: PatchEdit[]; dropped: { edit: unknown; reason: string }[]; truncated: number } {
  const parsed = EditsLax.safeParse(value);
  if (!parsed.success) {
    return {
      edits: [],
      dropped: [{ edit: value, reason: "not an {edits: [...]} object" }],
      truncated: 0,
    };
  }
  const fieldsText = promptFields(newPrompt).map(([, v]) => v).join("\n");
  const edits: PatchEdit[] = [];
  const dropped: { edit: unknown; reason: string }[] = [];
  const considered = parsed.data.edits.slice(0, MAX_EDITS);
  for (const raw of considered) {
    const e = EditLax.safeParse(raw);
    if (!e.success) {
      dropped.push({ edit: raw, reason: "malformed edit" });
      continue;
    }
    const changeType = e.data.change_type.trim().toLowerCase();
    if (!CHANGE_TYPES.has(changeType)) {
      dropped.push({ edit: raw, reason: `unknown change_type "${e.data.change_type}"` });
    } else if (e.data.edit.trim() === "") {
      dropped.push({ edit: raw, reason: "empty edit" });
    } else if (!evidenceOccurs(e.data.evidence, fieldsText)) {
      dropped.push({ edit: raw, reason: INVENTED });
    } else {
      edits.push({
        change_type: changeType as PatchEdit["change_type"],
        edit: e.data.edit.trim(),
        evidence: e.data.evidence.trim(),
      });
    }
  }
  return { edits, dropped, truncated: parsed.data.edits.length - considered.length };
}

const INVENTED = "evidence not in the new prompt";

async function editsForTransition(
  model: ChatModel,
  run: string,
  from: TraceStep,
  to: TraceStep,
  opts: { maxAttempts: number; signal?: AbortSignal },
): Promise<TransitionEdits> {
  const base = { run, step: from.step, edits: [], dropped: [], truncated: 0, attempts: 0 };
  if (promptText(from.prompt) === promptText(to.prompt)) {
    return { ...base, promptChanged: false };
  }
  const messages = patchEditsMessages(from.prompt, to.prompt, from.rationale, {
    from: `step ${from.step}`,
    to: `step ${to.step}`,
  });
  let last: TransitionEdits = { ...base, promptChanged: true };
  const out = await callStructured(model, messages, {
    name: PATCH_EDITS_SCHEMA_NAME,
    schema: PatchEdits,
    maxAttempts: opts.maxAttempts,
    what: "patch_edits output",
    signal: opts.signal,
  }, (value, attempt) => {
    last = {
      ...base,
      promptChanged: true,
      ...checkPatchEdits(value, to.prompt),
      attempts: attempt,
    };
    return EditsLax.safeParse(value).success ? { ok: true, value: last } : { ok: false, error: "" };
  });
  if (out.value !== undefined) return out.value;
  return { ...last, attempts: out.attempts, error: out.error };
}

// ---------------------------------------------------------------------------------------------
// The analysis

function stepsInOrder(trace: RunTrace): TraceStep[] {
  return [...trace.steps].sort((a, b) => a.step - b.step);
}

function failureRecords(
  trace: RunTrace,
  every: boolean,
): (ClusterRecord & { run: string; step: number; retained: boolean })[] {
  return stepsInOrder(trace).flatMap((s) =>
    (s.clustering?.topics ?? []).filter((t) => every || t.count > 0).map((t) => ({
      run: trace.name,
      step: s.step,
      text: normalizeCorpusText(`${t.name}: ${t.description}`),
      example: t.examples[0],
      impact: t.prevalence,
      retained: t.retained,
    }))
  );
}

function topicNamesOf(clustering: ClusterResult): string[] {
  return clustering.assignments.map((t) => clustering.topics[t]?.name ?? "");
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function uniqueNames(traces: readonly RunTrace[]): RunTrace[] {
  const seen = new Map<string, number>();
  return traces.map((t) => {
    const n = (seen.get(t.name) ?? 0) + 1;
    seen.set(t.name, n);
    return n === 1 ? t : { ...t, name: `${t.name}#${n}` };
  });
}

/**
 * Runs the trace analyses over runs already reduced to {@linkcode RunTrace}s.
 *
 * @example
 * ```ts
 * import { analyzeTraces } from "./analysis.ts";
 * import { TfidfEmbedder } from "./llm/tfidf.ts";
 * import { ScriptedChatModel } from "./llm/scripted.ts";
 * // One step, so no transition and no LLM call.
 * const result = await analyzeTraces([{ name: "r", simulated: false, steps: [{
 *   step: 1, prompt: { system: "", instruction: "Answer." }, train: null, dev: null, clustering: null,
 * }] }], { model: new ScriptedChatModel([]), embedder: new TfidfEmbedder() });
 * if (result.transitions.length !== 0 || result.runs[0]?.steps !== 1) throw new Error();
 * ```
 */
export async function analyzeTraces(
  input: readonly RunTrace[],
  opts: AnalysisOptions,
): Promise<AnalysisResult> {
  const traces = uniqueNames(input);
  const k = opts.k ?? 10;
  const seed = opts.seed ?? 0;
  const concurrency = opts.concurrency ?? 4;
  const iterations = opts.bootstrapIterations ?? 1000;
  const warnings: string[] = [];

  // (b) Patch edits, one call per changed transition.
  const pairs = traces.flatMap((trace) => {
    const steps = stepsInOrder(trace);
    return steps.slice(0, -1).map((from, i) => ({ trace, from, to: steps[i + 1] as TraceStep }))
      .filter(({ from, to }) => from.train !== null && to.train !== null);
  });
  let done = 0;
  const transitionEdits = await mapConcurrent(pairs, concurrency, async (p) => {
    const out = await editsForTransition(opts.model, p.trace.name, p.from, p.to, {
      maxAttempts: Math.max(1, opts.maxAttempts ?? 2),
      signal: opts.signal,
    });
    opts.onProgress?.({ phase: "patch_edits", done: ++done, total: pairs.length });
    return out;
  });
  for (const t of transitionEdits) {
    if (t.error !== undefined) warnings.push(`${t.run} step ${t.step}: ${t.error}`);
  }

  // (a), (c) Corpora and their topics.
  const failurePresence = opts.failurePresence ?? "retained";
  const failures = traces.flatMap((t) => failureRecords(t, failurePresence === "every"));
  const patches = transitionEdits.flatMap((t) =>
    t.edits.map((e) => ({
      run: t.run,
      step: t.step,
      text: normalizeCorpusText(`${e.change_type} - ${e.edit}`),
      example: e.evidence,
      impact: 1,
    }))
  );
  const cluster = (records: ClusterRecord[], subject: string, phase: AnalysisProgress["phase"]) =>
    clusterFusion(records, {
      embedder: opts.embedder,
      model: opts.clusterModel ?? opts.model,
      k,
      seed,
      concurrency,
      subject,
      signal: opts.signal,
      onProgress: (p) => opts.onProgress?.({ phase, ...p }),
    });
  const failureClustering = await cluster(failures, "failure topics", "failure_topics");
  const patchClustering = await cluster(patches, "atomic prompt edits", "patch_topics");
  for (const [name, c] of [["failure", failureClustering], ["patch", patchClustering]] as const) {
    for (const e of c.errors) warnings.push(`${name} topics: ${e}`);
    if (c.fallbacks.count > 0) {
      warnings.push(`${name} topics: ${c.fallbacks.count} record(s) placed by embedding fallback`);
    }
  }
  const failureTopicOf = topicNamesOf(failureClustering);
  const patchTopicOf = topicNamesOf(patchClustering);
  const failureCorpus: CorpusRecord[] = failures.map((r, i) => ({
    run: r.run,
    step: r.step,
    text: r.text,
    ...(r.example !== undefined ? { example: r.example } : {}),
    impact: r.impact ?? 1,
    retained: r.retained,
    topic: failureTopicOf[i] ?? "",
  }));
  const patchCorpus: CorpusRecord[] = patches.map((r, i) => ({
    ...r,
    topic: patchTopicOf[i] ?? "",
  }));

  // (d)-(g) Tables.
  const counted = failurePresence === "retained"
    ? failureCorpus.filter((r) => r.retained === true)
    : failureCorpus;
  const present = (records: CorpusRecord[], run: string, step: number) =>
    [...new Set(records.filter((r) => r.run === run && r.step === step).map((r) => r.topic))]
      .sort();
  const stepTopics = traces.flatMap((trace) =>
    stepsInOrder(trace).map((s) => ({
      run: trace.name,
      step: s.step,
      // A step without a diagnosis (the final, dev-only step) says nothing about its topics.
      diagnosed: s.train !== null,
      failureTopics: present(counted, trace.name, s.step),
    }))
  );
  const metricOf = opts.deltaMetric?.of ?? ((m: Metrics) => m.score);
  const transitions: Transition[] = pairs.map((p) => {
    const from = p.from.train as Metrics;
    const to = p.to.train as Metrics;
    return {
      run: p.trace.name,
      step: p.from.step,
      failureTopics: present(counted, p.trace.name, p.from.step),
      patchTopics: present(patchCorpus, p.trace.name, p.from.step),
      deltaScore: metricOf(to) - metricOf(from),
      deltaBrier: from.brier === null || to.brier === null ? null : to.brier - from.brier,
    };
  });
  const persistenceInput: Record<string, string[][]> = {};
  for (const trace of traces) {
    persistenceInput[trace.name] = stepTopics.filter((s) => s.run === trace.name && s.diagnosed)
      .map((s) => s.failureTopics);
  }
  const points: LengthPoint[] = traces.flatMap((trace) =>
    stepsInOrder(trace).flatMap((s) =>
      s.dev === null ? [] : [{
        run: trace.name,
        step: s.step,
        promptTokens: promptTokens(s.prompt),
        devScore: s.dev.score,
      }]
    )
  );
  const length = lengthVsScore(points);
  const bootstrap = { iterations, seed };

  const editCounts = transitionEdits.reduce(
    (c, t) => {
      const invented = t.dropped.filter((d) => d.reason === INVENTED).length;
      return {
        calls: c.calls + t.attempts,
        returned: c.returned + t.edits.length + t.dropped.length + t.truncated,
        kept: c.kept + t.edits.length,
        inventedEvidence: c.inventedEvidence + invented,
        otherDropped: c.otherDropped + t.dropped.length - invented,
        truncated: c.truncated + t.truncated,
        failedCalls: c.failedCalls + (t.error !== undefined && t.edits.length === 0 ? 1 : 0),
      };
    },
    {
      calls: 0,
      returned: 0,
      kept: 0,
      inventedEvidence: 0,
      otherDropped: 0,
      truncated: 0,
      failedCalls: 0,
    },
  );
  const shortEdits = transitionEdits.filter((t) => t.promptChanged && t.edits.length < MIN_EDITS);
  if (shortEdits.length > 0) {
    warnings.push(`${shortEdits.length} changed transition(s) kept fewer than ${MIN_EDITS} edits`);
  }
  if (transitions.length === 0) warnings.push("no transition with both steps diagnosed");
  const topicLabels = opts.labelTopics === true
    ? {
      failure: await labelTopics(opts.clusterModel ?? opts.model, failureClustering.topics, opts),
      patch: await labelTopics(opts.clusterModel ?? opts.model, patchClustering.topics, opts),
    }
    : null;
  if (topicLabels !== null) {
    for (const [kind, labels] of Object.entries(topicLabels)) {
      const missing = (kind === "failure" ? failureClustering : patchClustering).topics
        .filter((t) => labels[t.name] === undefined).length;
      if (missing > 0) warnings.push(`${kind} topic labels: ${missing} topic(s) left unlabelled`);
    }
  }

  return {
    version: 1,
    simulated: traces.some((t) => t.simulated) || specsAreSimulated([opts.model, opts.embedder]),
    settings: {
      k,
      seed,
      model: `${opts.model.provider}:${opts.model.model}`,
      embedder: `${opts.embedder.provider}:${opts.embedder.model}`,
      bootstrapIterations: iterations,
      failurePresence,
      deltaMetric: opts.deltaMetric?.name ?? "score",
      labels: opts.labelTopics === true,
    },
    runs: traces.map((t) => ({
      name: t.name,
      ...(t.dir !== undefined ? { dir: t.dir } : {}),
      ...(t.task !== undefined ? { task: t.task } : {}),
      simulated: t.simulated,
      steps: t.steps.length,
      transitions: transitions.filter((x) => x.run === t.name).length,
    })),
    failureCorpus: { records: failureCorpus, clustering: failureClustering },
    patchCorpus: {
      records: patchCorpus,
      clustering: patchClustering,
      transitions: transitionEdits,
      counts: editCounts,
    },
    stepTopics,
    transitions,
    topicChanges: topicChangeTable(
      traces.map((trace) => {
        const diagnosed = new Set(
          trace.steps.filter((st) => st.clustering !== null).map((st) => st.step),
        );
        return {
          run: trace.name,
          steps: stepTopics.filter((st) => st.run === trace.name && diagnosed.has(st.step))
            .map((st) => ({ step: st.step, topics: st.failureTopics })),
        };
      }),
    ),
    topicLabels,
    alignment: alignmentTable(transitions),
    deltas: {
      failure: topicDeltas(transitions, "failure", bootstrap),
      patch: topicDeltas(transitions, "patch", bootstrap),
    },
    persistence: persistenceTable(persistenceInput),
    lengthVsScore: {
      points: length.points,
      pearson: finiteOrNull(length.pearson),
      spearman: finiteOrNull(length.spearman),
    },
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// Run records

function clusteringOf(step: StepRecord): ClusterResult | null {
  return step.record?.clustering ?? null;
}

/**
 * Reduces a loaded run (`loadRun(dir, { records: true })`) to what the analyses read: per
 * step folder, the prompt, the report's metrics (optimization split), the dev metrics, the
 * full clustering from `record.json`, and the rationale of the decision that followed.
 */
export function traceFromRunRecord(run: RunRecord, name = runNameOf(run.dir)): RunTrace {
  return {
    name,
    dir: run.dir,
    task: run.config.task,
    simulated: specsAreSimulated(run.config),
    steps: run.steps.map((s) => {
      const rationale = s.decision?.decision?.patch?.rationale;
      return {
        step: s.step,
        prompt: s.prompt,
        train: s.report?.metrics ?? null,
        dev: s.dev?.metrics ?? null,
        clustering: clusteringOf(s),
        ...(rationale !== undefined ? { rationale } : {}),
      };
    }),
  };
}

/**
 * The trace analyses of run directories (or runs already loaded with `records: true`),
 * pooled. Nothing is written: see {@linkcode writeAnalysis}.
 *
 * @example
 * ```ts ignore
 * import { analyzeRuns, writeAnalysis } from "./analysis.ts";
 * import { createChatModel, createEmbedder } from "./llm/spec.ts";
 * const result = await analyzeRuns(["runs/my-run"], {
 *   model: await createChatModel("sim:critic"),
 *   embedder: await createEmbedder("sim:embed"),
 * });
 * await writeAnalysis(result, "runs/my-run/analysis");
 * ```
 */
export async function analyzeRuns(
  runs: readonly (string | RunRecord)[],
  opts: AnalysisOptions,
): Promise<AnalysisResult> {
  const traces: RunTrace[] = [];
  const warnings: string[] = [];
  for (const run of runs) {
    const record = typeof run === "string" ? await loadRun(run, { records: true }) : run;
    const trace = traceFromRunRecord(record);
    const diagnosed = record.steps.filter((s) => s.report !== null);
    const missing = diagnosed.filter((s) => clusteringOf(s) === null).length;
    if (missing > 0) {
      warnings.push(
        `${trace.name}: ${missing} diagnosed step(s) without a clustering in record.json ` +
          `(load the run with records: true)`,
      );
    }
    traces.push(trace);
  }
  const result = await analyzeTraces(traces, opts);
  return { ...result, warnings: [...warnings, ...result.warnings] };
}

// ---------------------------------------------------------------------------------------------
// Output

/**
 * Writes the analysis to `dir` (created if needed), each file atomically: `analysis.json`
 * (everything) and one file per table: `alignment.json`, `deltas.json`, `persistence.json`,
 * `length_vs_score.json`, `patch_edits.json`, `topics.json`. Returns the paths written.
 */
export async function writeAnalysis(result: AnalysisResult, dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const topics = (c: ClusterResult) =>
    c.topics.map((t) => ({ name: t.name, description: t.description, count: t.count }));
  const files: Record<string, unknown> = {
    "analysis.json": result,
    "alignment.json": { simulated: result.simulated, alignment: result.alignment },
    "deltas.json": { simulated: result.simulated, ...result.deltas },
    "persistence.json": { simulated: result.simulated, persistence: result.persistence },
    "length_vs_score.json": { simulated: result.simulated, ...result.lengthVsScore },
    "patch_edits.json": {
      simulated: result.simulated,
      counts: result.patchCorpus.counts,
      transitions: result.patchCorpus.transitions,
    },
    "topics.json": {
      simulated: result.simulated,
      failure: topics(result.failureCorpus.clustering),
      patch: topics(result.patchCorpus.clustering),
    },
  };
  const paths: string[] = [];
  for (const [name, value] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await writeJsonAtomic(path, value);
    paths.push(path);
  }
  return paths;
}

// The Markdown tables write a missing figure as "n/a".
const fmt = (x: number | null, digits = 3) => fixed(x, digits, "n/a");
const signed = (x: number | null, digits = 3) => signedFigure(x, digits, "n/a");

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * A topic's runs of consecutive diagnosed steps, read as such: `1 (4 steps)`,
 * `2 (3 + 1 steps)`.
 */
function stretches(runs: readonly number[]): string {
  if (runs.length === 0) return "0";
  const steps = runs.length === 1 && runs[0] === 1 ? "step" : "steps";
  return `${runs.length} (${runs.join(" + ")} ${steps})`;
}

/**
 * The tables as Markdown, headed `SIMULATED` when the analysis involved the simulator.
 * Alignment lists, per failure topic, the patch topics with P > 0 (most likely first).
 */
export function analysisToMarkdown(result: AnalysisResult): string {
  const sim = result.simulated ? "SIMULATED " : "";
  const out: string[] = [];
  out.push(
    `# ${sim}Trace analyses`,
    "",
    `Runs: ${
      result.runs.map((r) => `${r.name} (${r.steps} steps, ${r.transitions} transitions)`).join(
        ", ",
      )
    }. ` +
      `k = ${result.settings.k}, model ${result.settings.model}, embedder ${result.settings.embedder}.`,
    `Patch edits: ${result.patchCorpus.counts.kept} kept of ${result.patchCorpus.counts.returned} returned; ` +
      `${result.patchCorpus.counts.inventedEvidence} dropped for invented evidence, ` +
      `${result.patchCorpus.counts.otherDropped} malformed, ${result.patchCorpus.counts.truncated} beyond 12.`,
  );
  out.push("", `## ${sim}Alignment P(patch topic | failure topic)`, "");
  const byFailure = new Map<string, typeof result.alignment>();
  for (const c of result.alignment) {
    if (c.both === 0) continue;
    byFailure.set(c.failureTopic, [...(byFailure.get(c.failureTopic) ?? []), c]);
  }
  out.push(table(
    ["failure topic", "transitions", "patch topic", "both", "P", "lift"],
    [...byFailure.entries()].flatMap(([f, cells]) =>
      cells.sort((a, b) =>
        b.probability - a.probability || a.patchTopic.localeCompare(b.patchTopic)
      )
        .map((c) => [
          f,
          String(c.failureCount),
          c.patchTopic,
          String(c.both),
          fmt(c.probability, 2),
          fmt(c.lift, 2),
        ])
    ),
  ));
  for (const kind of ["failure", "patch"] as const) {
    out.push("", `## ${sim}Next-step change on the optimization split, by ${kind} topic`, "");
    const labels = result.topicLabels?.[kind] ?? {};
    out.push(table(
      [
        "topic",
        "n",
        `mean d ${result.settings.deltaMetric}`,
        "95% CI",
        "n (Brier)",
        "mean d Brier",
        "95% CI",
      ],
      result.deltas[kind].map((d) => [
        labels[d.topic] !== undefined && labels[d.topic] !== d.topic
          ? `${labels[d.topic]} (${d.topic})`
          : d.topic,
        String(d.count),
        signed(d.meanDeltaScore),
        `[${signed(d.scoreInterval[0])}, ${signed(d.scoreInterval[1])}]`,
        String(d.brierCount),
        signed(d.meanDeltaBrier),
        d.brierInterval === null
          ? "n/a"
          : `[${signed(d.brierInterval[0])}, ${signed(d.brierInterval[1])}]`,
      ]),
    ));
  }
  out.push("", `## ${sim}Persistence of failure topics`, "");
  out.push(table(
    [
      "topic",
      "steps present",
      "stretches (steps in each)",
      "mean run",
      "longest",
      "resolved",
      "reappeared",
    ],
    result.persistence.map((p) => [
      p.topic,
      String(p.stepsPresent),
      stretches(p.runs),
      fmt(p.meanRunLength, 2),
      String(p.longestRun),
      String(p.resolved),
      String(p.reappeared),
    ]),
  ));
  if (result.topicChanges.length > 0) {
    out.push("", `## ${sim}Failure topics repeated, resolved and new per transition`, "");
    out.push(table(
      ["run", "step", "next", "repeated", "resolved", "new"],
      result.topicChanges.map((c) => [
        c.run,
        String(c.step),
        String(c.next),
        String(c.repeated),
        String(c.resolved),
        String(c.new),
      ]),
    ));
  }
  const l = result.lengthVsScore;
  out.push(
    "",
    `## ${sim}Prompt length vs dev score`,
    "",
    `${l.points.length} prompts; Pearson ${fmt(l.pearson)}, Spearman ${fmt(l.spearman)}.`,
  );
  if (result.warnings.length > 0) {
    out.push("", "## Warnings", "", ...result.warnings.map((w) => `- ${w}`));
  }
  return out.join("\n") + "\n";
}

/** A default short name for a run directory. */
export function runNameOf(dir: string): string {
  return basename(resolve(dir));
}
