/**
 * A trace: one example's run through the target model, with everything needed to audit it.
 * The diagnostic function records traces (`diagnose.ts`), the critic reads failed ones
 * (`critique.ts`), metrics aggregate them (`metrics.ts`) and the baselines learn from them.
 *
 * @module
 */
import { z } from "zod";
import { ChatMessage } from "./llm/schema.ts";
import { Usage } from "./llm/usage.ts";
import { TargetOutput } from "./tasks/schema.ts";

/** One example's run through the target model: everything needed to audit it. */
export const TraceItem = z.object({
  exampleId: z.string(),
  subtask: z.string().optional(),
  messages: z.array(ChatMessage),
  rawText: z.string(),
  parsed: TargetOutput.nullable(),
  formatError: z.string().optional(),
  /**
   * The target call failed after its retries: the example is *unscored* (see
   * {@linkcode isUnscored}). An evaluation holding one is incomplete unless the run allows a
   * share of failed calls, in which case it counts as a failure (score 0) and is shown.
   */
  error: z.string().optional(),
  score: z.number(),
  full: z.boolean(),
  impact: z.number(),
  details: z.record(z.string(), z.unknown()),
  usage: Usage,
  latencyMs: z.number(),
});
/** One example's trace. */
export type TraceItem = z.infer<typeof TraceItem>;

/**
 * Whether the example's call failed, so nothing was scored: what any evaluation path
 * (interactive calls, batch jobs) records for an example whose call failed after its retries.
 *
 * @example
 * ```ts
 * import { isUnscored } from "./trace.ts";
 * if (!isUnscored({ error: "openai: HTTP 500" }) || isUnscored({})) throw new Error();
 * ```
 */
export function isUnscored(trace: Pick<TraceItem, "error">): boolean {
  return trace.error !== undefined;
}
