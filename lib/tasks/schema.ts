/**
 * The schemas of task data (`task.ts` is the interface): splits, examples, the target's
 * output contract, how one example scores, the aggregate metrics over a split, and one
 * line of a predictions file scored by `rpt score`.
 *
 * @module
 */
import { z } from "zod";

/** The three splits: `train` is the optimization set D_opt, `dev` selects, `test` reports. */
export const Split = z.enum(["train", "dev", "test"]);
/** A split name. */
export type Split = z.infer<typeof Split>;

/**
 * One task example in the provider-neutral form every task maps its rows to. `row` keeps
 * the original row for task-specific scoring.
 */
export const Example = z.object({
  id: z.string(),
  question: z.string(),
  context: z.string().optional(),
  answer: z.string(),
  subtask: z.string().optional(),
  row: z.record(z.string(), z.unknown()),
});
/** One task example. */
export type Example = z.infer<typeof Example>;

/** The target's output contract: reasoning, answer, confidence in [0, 1]. */
export const TargetOutput = z.object({
  reasoning: z.string(),
  answer: z.string(),
  confidence: z.number().min(0).max(1),
});
/** The target's parsed output. */
export type TargetOutput = z.infer<typeof TargetOutput>;

/** Parsing a target output: the parsed value, or a format error with its reason. */
export type ParseResult =
  | { ok: true; value: TargetOutput }
  | { ok: false; error: string };

/** How one example scored. `impact` weighs failures in clustering (0 when full credit). */
export const ScoreResult = z.object({
  score: z.number().min(0).max(1),
  full: z.boolean(),
  impact: z.number().min(0).max(1),
  details: z.record(z.string(), z.unknown()),
});
/** How one example scored. */
export type ScoreResult = z.infer<typeof ScoreResult>;

/** Aggregate metrics over a split. Brier and ECE are over parsed items only. */
export const Metrics = z.object({
  n: z.number().int(),
  parsed: z.number().int(),
  /** Mean task score; format errors and provider errors score 0. */
  score: z.number(),
  /** Share of items with full credit (accuracy, EM). */
  fullCredit: z.number(),
  avgConfidence: z.number().nullable(),
  brier: z.number().nullable(),
  ece: z.number().nullable(),
  formatErrorRate: z.number(),
  errorRate: z.number(),
  perSubtask: z.record(z.string(), z.object({ n: z.number().int(), score: z.number() })),
  /** Task-specific means such as `em` and `f1` for HotPotQA. */
  extra: z.record(z.string(), z.number()),
});
/** Aggregate metrics over a split. */
export type Metrics = z.infer<typeof Metrics>;

/** One line of a predictions file for `rpt score`. */
export const PredictionLine = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  output: z.string(),
});
/** One line of a predictions file. */
export type PredictionLine = z.infer<typeof PredictionLine>;
