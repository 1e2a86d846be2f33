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
  /** A provider error after retries; the item scores 0 and is counted. */
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
