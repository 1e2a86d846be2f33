/**
 * `events.jsonl`: one {@linkcode RunEvent} per line, each with its ISO `time` and a `type`
 * naming one of the kinds below. What a person scanning the log wants is in the event; the
 * bulk (traces, reports, the conversation) is in the step folder's files the event names.
 * The union is the whole vocabulary: the writer accepts nothing else, the reader checks
 * every line against it.
 *
 * @module
 */
import { z } from "zod";
import { CallFailures } from "../incomplete.ts";
import { ModelUsage } from "../llm/usage.ts";
import { Metrics, Split } from "../tasks/schema.ts";
import { DecidedBy, Stop } from "./schema.ts";

const stepNo = z.number().int().min(1);

/** One member of the union: its `type`, its time and its fields. */
function ev<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.object({ time: z.string(), type: z.literal(type), ...shape });
}

const action = z.enum(["patch", "stop", "none"]);

const batchWhere = {
  step: stepNo,
  /** The work the batch stands for: a split's target pass (`dev`, `test`, `target` = train) or `critique`. */
  phase: z.enum(["dev", "test", "target", "critique"]),
  role: z.enum(["target", "critic"]),
  /** `provider:model` of the batch. */
  model: z.string(),
  /** Hash of the requests' cache keys: a resumed run polls the batch of the same requests. */
  digest: z.string(),
};

/** Batch mode's events: a job submitted (before it is polled), and what a batched phase did. */
export const BatchEvents = [
  ev("batch_submitted", {
    ...batchWhere,
    batchId: z.string(),
    /** Lines sent (requests the cache did not answer). */
    lines: z.number().int().min(0),
  }),
  ev("batch_done", {
    ...batchWhere,
    batchId: z.string().optional(),
    /** True when the batch was one an earlier session submitted (polled again, not resent). */
    resumed: z.boolean(),
    state: z.string().optional(),
    requests: z.number().int().min(0),
    cacheHits: z.number().int().min(0),
    fromBatch: z.number().int().min(0),
    /** Lines the batch failed, each retried as an ordinary call. */
    failedInBatch: z.number().int().min(0),
    /** Lines an expired, cancelled or failed job never answered, sent as ordinary calls. */
    missing: z.number().int().min(0),
    /** Ordinary calls made for those fallbacks. */
    ordinary: z.number().int().min(0),
    /** Requests that still failed (they go through the failed-call rules). */
    failures: z.number().int().min(0),
    /** Why no batch answered at all, when none did. */
    fallback: z.string().optional(),
  }),
] as const;

/** Every kind of event the loop writes, keyed by `type`. */
export const RunEvent = z.discriminatedUnion("type", [
  ev("run_start", {
    task: z.string(),
    simulated: z.boolean(),
    examples: z.object({ train: z.number().int(), dev: z.number().int(), test: z.number().int() }),
  }),
  ev("resume", {
    completedSteps: z.number().int().min(0),
  }),
  ev("step_start", {
    step: stepNo,
    kind: z.enum(["iteration", "final"]),
  }),
  ev("prompt", {
    step: stepNo,
    chars: z.number().int(),
    file: z.string(),
  }),
  ev("evaluation", {
    step: stepNo,
    split: Split,
    metrics: Metrics,
    file: z.string(),
  }),
  ev("traces", {
    step: stepNo,
    split: Split,
    n: z.number().int(),
    file: z.string(),
  }),
  ev("critiques", {
    step: stepNo,
    n: z.number().int(),
    failed: z.number().int(),
    file: z.string(),
  }),
  ev("clustering", {
    step: stepNo,
    records: z.number().int(),
    topics: z.array(z.object({
      name: z.string(),
      prevalence: z.number(),
      retained: z.boolean(),
    })),
    file: z.string(),
  }),
  ev("report", {
    step: stepNo,
    metrics: Metrics,
    topics: z.array(z.string()),
    warnings: z.array(z.string()),
    file: z.string(),
  }),
  ev("candidate_diagnosed", {
    step: stepNo,
    metrics: Metrics,
    by: DecidedBy.optional(),
  }),
  ev("tool_call_missing", {
    step: stepNo,
    attempt: z.number().int(),
    problem: z.string(),
  }),
  ev("memory_compacted", {
    step: stepNo,
    /** Past reports shown as metrics and topic names only. */
    compacted: z.number().int().min(0),
    /** Oldest reports left out entirely. */
    omitted: z.number().int().min(0),
    /** Estimated tokens of the payload sent, and the budget it had to fit. */
    tokens: z.number().int().min(0),
    budget: z.number().int().min(0),
  }),
  ev("patch_rejected", {
    step: stepNo,
    attempt: z.number().int(),
    reason: z.string(),
  }),
  ev("decision", {
    step: stepNo,
    action: z.enum(["patch", "stop"]).nullable(),
    rationale: z.string().nullable(),
    stopReason: z.string().nullable(),
    rejections: z.array(z.string()),
    optimizerCalls: z.number().int(),
    file: z.string(),
    by: DecidedBy.optional(),
  }),
  ev("selection", {
    step: stepNo,
    selection: z.number(),
    best: z.object({ step: z.number().int(), selection: z.number() }),
    replaced: z.boolean(),
  }),
  ev("usage", {
    step: stepNo,
    total: ModelUsage,
  }),
  ev("step_end", {
    step: stepNo,
    kind: z.enum(["iteration", "final"]),
    dir: z.string(),
    devScore: z.number(),
    selection: z.number(),
    selected: z.boolean(),
    trainScore: z.number().nullable(),
    testScore: z.number().nullable(),
    action,
    rejections: z.number().int(),
    stop: Stop.optional(),
  }),
  ev("budget_exceeded", {
    /** The step that was dropped, or the phase (`final test`) that could not be paid. */
    step: stepNo.optional(),
    phase: z.string().optional(),
    message: z.string(),
  }),
  ev("run_end", {
    selectedStep: stepNo,
    stop: Stop,
    testScore: z.number().nullable(),
  }),
  ev("interrupted", {
    completedSteps: z.number().int().min(0),
  }),
  ev("failed", {
    message: z.string(),
  }),
  /** Calls failed after their retries beyond `maxErrorRate`: the step (or final test) stopped. */
  ev("incomplete", {
    step: stepNo,
    phase: z.enum(["step", "final test"]),
    failures: CallFailures,
    endpoint: z.string().optional(),
    file: z.string(),
  }),
  ...BatchEvents,
]);

/** One line of `events.jsonl`. */
export type RunEvent = z.infer<typeof RunEvent>;

/** An event as the loop hands it to the writer, which stamps its `time`. */
export type RunEventInput = RunEvent extends infer E ? E extends unknown ? Omit<E, "time"> : never
  : never;

/** The event of one `type`. */
export type RunEventOf<T extends RunEvent["type"]> = Extract<RunEvent, { type: T }>;
