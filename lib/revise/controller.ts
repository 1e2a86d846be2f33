/**
 * The optimizer's system instructions (the "controller", DESIGN section 1, "Revision
 * loop") and the fixed user messages of the loop protocol (CONTRACTS). The messages'
 * beginnings, the tool name and the prompt block come from `protocol_names.ts`, which the
 * simulator reads too.
 *
 * @module
 */
import type { MemoryPayload } from "./memory.ts";
import {
  DIAGNOSE_TOOL,
  ITERATION_PREFIX,
  memoryMessage,
  MISSING_TOOL_PREFIX,
  PATCH_REJECTED_PREFIX,
  promptBlock,
} from "../protocol_names.ts";
import type { PromptProgram } from "../prompt.ts";
import type { Protocol } from "../run/config.ts";

/** What the controller instructions depend on. */
export interface ControllerOptions {
  /** Task name, for orientation only. */
  task: string;
  iterations: number;
  confidenceAware: boolean;
  protocol: Protocol;
  /** Diagnose calls per iteration in `explore`. */
  exploreCalls: number;
  /** The prompt-length cap; absent: none. */
  maxPromptChars?: number;
  /** Whether memory entries carry the patch that followed each report (default true). */
  memoryPatches?: boolean;
  /** Where memory arrives (default in the tool result). */
  memoryPlacement?: "tool_result" | "user_message";
}

/**
 * The controller instructions. The goal is the task metric on the optimization set;
 * calibration (Brier) is named as the second goal only in the confidence-aware setting,
 * where selection weighs it too.
 *
 * @example
 * ```ts
 * import { controllerInstructions } from "./controller.ts";
 * const text = controllerInstructions({ task: "hotpotqa", iterations: 10, confidenceAware: true,
 *   protocol: "paper", exploreCalls: 1, maxPromptChars: 8000 });
 * if (!text.includes("diagnose") || !/calibration/i.test(text)) throw new Error(text);
 * ```
 */
export function controllerInstructions(o: ControllerOptions): string {
  const goal = o.confidenceAware
    ? "Goal: raise the task metric on the optimization set first; second, improve " +
      "calibration (a lower Brier score: stated confidence should match how often answers " +
      "are right)."
    : "Goal: raise the task metric on the optimization set.";
  const tool = o.protocol === "explore"
    ? `Call the \`${DIAGNOSE_TOOL}\` tool first with empty arguments: it diagnoses the current prompt. ` +
      `Before deciding you may call it again with a candidate \`system\` and/or \`instruction\` ` +
      `to diagnose that candidate instead (at most ${o.exploreCalls} diagnose calls in an ` +
      `iteration, the first included); each call costs a full run of the target model.`
    : `Call the \`${DIAGNOSE_TOOL}\` tool once with empty arguments: it runs the target model ` +
      "on the optimization set with the current prompt and returns a diagnostic report.";
  return [
    `You are the optimizer of Reflective Prompt Tuning. You revise the prompt program ` +
    `(fields \`system\` and \`instruction\`) that a target model uses on the task ` +
    `"${o.task}". Each iteration (${o.iterations} in all) is a fresh conversation.`,
    "",
    goal,
    "",
    "Each iteration:",
    `1. ${tool}`,
    `2. ${toolResultDescription(o)}`,
    '3. Return a decision as JSON: `{"action": "patch", "patch": {"system"?, "instruction"?, ' +
    '"rationale"}}` or `{"action": "stop", "stop_reason": "..."}`.',
    "",
    "How to revise:",
    "- Make targeted edits that address the most prevalent failure topics; each field you " +
    "give replaces the old field whole, so write its complete new text. Omit a field to " +
    "keep it.",
    "- Revise, merge or delete existing rules rather than piling on new ones; keep the " +
    (o.maxPromptChars === undefined
      ? "prompt short."
      : `prompt short (at most ${o.maxPromptChars} characters in all).`),
    "- Keep the output contract stable: the target must still answer with one JSON object " +
    "holding its reasoning field, `answer` and `confidence` in [0, 1].",
    "- Write general instructions. Never put answers of specific examples into the prompt, " +
    "and never write about the edit itself (no 'apply this patch', no '[revised ...]').",
    "- Use memory: do not repeat an edit that did not help; undo one that hurt.",
    "- Stop when the metric has plateaued (memory shows the non-improving streak) or " +
    "nothing worth fixing remains.",
  ].join("\n");
}

function toolResultDescription(o: ControllerOptions): string {
  const reports = o.memoryPatches === false
    ? "past reports"
    : "past reports, each with the patch that followed it and its rationale";
  const memory = `(${reports}, and a summary of where the current prompt stands)`;
  const report = "(metrics, counts and the recurring failure topics with representative examples)";
  return o.memoryPlacement === "user_message"
    ? `The tool result is the diagnostic report ${report}, with \`warnings\`. A user message ` +
      `then gives the memory ${memory} and asks for your decision.`
    : `The tool result holds \`report\` ${report}, \`memory\` ${memory} and \`warnings\`.`;
}

/**
 * The first user message of an iteration: "Iteration t of T" and the current prompt
 * program as a JSON code block.
 */
export function iterationMessage(t: number, total: number, prompt: PromptProgram): string {
  return `${ITERATION_PREFIX} ${t} of ${total}\n\nThe current prompt program:\n\n${
    promptBlock(prompt)
  }\n\nCall the ${DIAGNOSE_TOOL} tool to diagnose it.`;
}

/** The re-ask when the optimizer answered without calling the tool. */
export function missingToolMessage(detail?: string): string {
  return `${MISSING_TOOL_PREFIX} before deciding${detail ? ` (${detail})` : ""}. ` +
    `Call it now with empty arguments to diagnose the current prompt.`;
}

/** The re-ask after a rejected patch. */
export function patchRejectedMessage(reason: string): string {
  return `${PATCH_REJECTED_PREFIX} ${reason}. Return a corrected decision as JSON matching the ` +
    `decision schema (or stop).`;
}

const MEMORY_HINTS: Record<MemoryPayload["mode"], string> = {
  all_reports: "The history holds every report so far, the current one last: use it to avoid " +
    "oscillating edits and to keep fixed failures fixed.",
  last_report: "Only the summary of the current report is given; earlier reports are not shown.",
  history_summary: "The history holds the past reports and the current summary says where the " +
    "current prompt stands (best so far, deltas, streak): read the history for the trajectory " +
    "and decide on the summary.",
  last_k: "The history holds the most recent reports, the current one last.",
  none: "",
};

/**
 * The user message that carries memory after the tool result (the reference's placement):
 * the mode, what the payload is, the request for the decision, then the payload as JSON.
 */
export function memoryUserMessage(payload: MemoryPayload): string {
  return memoryMessage(
    payload.mode,
    `${MEMORY_HINTS[payload.mode]} The ${DIAGNOSE_TOOL} result above is the current report. ` +
      "Return your decision as JSON: patch or stop.",
    payload,
  );
}
