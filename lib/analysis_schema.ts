/**
 * The schemas of the trace analyses' output (`analysis.ts`), as written to `<run>/analysis/`:
 * the patch edits of each transition, the corpora's records, and the whole result with the
 * tables (whose row schemas live with the tables, in `analysis_tables.ts`).
 *
 * @module
 */
import { z } from "zod";
import {
  AlignmentCell,
  LengthPoint,
  Persistence,
  TopicChange,
  TopicDelta,
  Transition,
} from "./analysis_tables.ts";
import { ClusterResult } from "./cluster.ts";

/** What kind of change an atomic prompt edit is. */
export const PatchChangeType = z.enum(["add", "tighten", "relax", "refactor"]);
/** What kind of change an atomic prompt edit is. */
export type PatchChangeType = z.infer<typeof PatchChangeType>;

/** One atomic edit of a prompt revision, with a quote from the new prompt as evidence. */
export const PatchEdit = z.object({
  change_type: PatchChangeType.describe(
    "add: new requirement; tighten: stricter or more specific; relax: removed or loosened; " +
      "refactor: reworded or reorganised without changing what is asked",
  ),
  edit: z.string().describe("one sentence describing the edit in generic terms"),
  evidence: z.string().describe("a short verbatim quote from the NEW prompt showing the edit"),
});
/** One atomic edit of a prompt revision. */
export type PatchEdit = z.infer<typeof PatchEdit>;

/** The structured output `patch_edits`: a prompt diff rewritten as 3-12 atomic edits. */
export const PatchEdits = z.object({ edits: z.array(PatchEdit).min(3).max(12) });
/** The structured output `patch_edits`. */
export type PatchEdits = z.infer<typeof PatchEdits>;

/** The edits of one transition t -> t+1, with what the evidence check dropped. */
export const TransitionEdits = z.object({
  run: z.string(),
  step: z.number().int(),
  /** False when the prompt did not change (no call is made). */
  promptChanged: z.boolean(),
  /** Edits kept: well-formed, evidence found in the new prompt, at most 12. */
  edits: z.array(PatchEdit),
  /** Edits dropped, with the reason (invented evidence, bad change type, empty text). */
  dropped: z.array(z.object({ edit: z.unknown(), reason: z.string() })),
  /** Edits the model returned beyond 12 (ignored). */
  truncated: z.number().int().min(0),
  /** Model calls made (retries of malformed output included). */
  attempts: z.number().int().min(0),
  error: z.string().optional(),
});
/** The edits of one transition. */
export type TransitionEdits = z.infer<typeof TransitionEdits>;

/** One record of a trace-analysis corpus and the analysis topic it was assigned to. */
export const CorpusRecord = z.object({
  run: z.string(),
  step: z.number().int(),
  /** The normalised text that was clustered. */
  text: z.string(),
  example: z.string().optional(),
  impact: z.number().min(0),
  /** For failure records: whether the step's clustering retained the topic (the optimizer saw it). */
  retained: z.boolean().optional(),
  /** Name of the analysis topic (the corpus's ClusterFusion topic) it belongs to. */
  topic: z.string(),
});
/** One record of a trace-analysis corpus. */
export type CorpusRecord = z.infer<typeof CorpusRecord>;

/** The full result of the trace analyses (paper section 4.3), as written to `analysis/`. */
export const AnalysisResult = z.object({
  version: z.literal(1),
  /** True when any analysed run, or the analysis model, is the offline simulator. */
  simulated: z.boolean(),
  settings: z.object({
    k: z.number().int().min(1),
    seed: z.number().int(),
    /** `provider:model` of the LLM that wrote edits and topics. */
    model: z.string(),
    /** `provider:model` of the embedder. */
    embedder: z.string(),
    bootstrapIterations: z.number().int().min(1),
    /**
     * Which failure topics count as present at a step: only retained ones, all observed
     * (with a diagnosis), or every topic of the step's clustering (the reference's).
     */
    failurePresence: z.enum(["all", "retained", "every"]),
    /** The metric whose next-step change the deltas measure (`score`, or the task's headline). */
    deltaMetric: z.string().default("score"),
    /** Whether topic labels were asked for (one LLM call per topic set). */
    labels: z.boolean().default(false),
  }),
  runs: z.array(z.object({
    name: z.string(),
    dir: z.string().optional(),
    task: z.string().optional(),
    simulated: z.boolean(),
    steps: z.number().int().min(0),
    transitions: z.number().int().min(0),
  })),
  failureCorpus: z.object({ records: z.array(CorpusRecord), clustering: ClusterResult }),
  patchCorpus: z.object({
    records: z.array(CorpusRecord),
    clustering: ClusterResult,
    transitions: z.array(TransitionEdits),
    counts: z.object({
      /** Transitions whose prompt changed (one call each, plus retries). */
      calls: z.number().int().min(0),
      returned: z.number().int().min(0),
      kept: z.number().int().min(0),
      inventedEvidence: z.number().int().min(0),
      otherDropped: z.number().int().min(0),
      truncated: z.number().int().min(0),
      failedCalls: z.number().int().min(0),
    }),
  }),
  /** Failure topics present at every step of every run (persistence is computed from it). */
  stepTopics: z.array(z.object({
    run: z.string(),
    step: z.number().int(),
    failureTopics: z.array(z.string()),
  })),
  transitions: z.array(Transition),
  /**
   * Per pair of consecutive diagnosed steps, the failure topics present at both (repeated),
   * only at the first (resolved) and only at the second (new).
   */
  topicChanges: z.array(TopicChange).default([]),
  /** Readable labels of the analysis topics, by topic name (when asked for). */
  topicLabels: z.object({
    failure: z.record(z.string(), z.string()),
    patch: z.record(z.string(), z.string()),
  }).nullable().default(null),
  alignment: z.array(AlignmentCell),
  deltas: z.object({ failure: z.array(TopicDelta), patch: z.array(TopicDelta) }),
  persistence: z.array(Persistence),
  lengthVsScore: z.object({
    points: z.array(LengthPoint),
    /** Null when undefined (fewer than 2 points or a constant series). */
    pearson: z.number().nullable(),
    spearman: z.number().nullable(),
  }),
  warnings: z.array(z.string()),
});
/** The full result of the trace analyses. */
export type AnalysisResult = z.infer<typeof AnalysisResult>;
