/**
 * The names the product and the models it talks to share: the tool the optimizer calls,
 * the `outputSchema.name` of every structured request, the beginnings of the loop's fixed
 * messages and the prompt block of the iteration message. The loop, the diagnostic
 * steps, the analyses and the baselines write them from here, and the offline simulator
 * (`lib/sim/`) recognises requests by them, so rewording a message cannot silently
 * break the simulator. This module imports nothing, so the simulator can use it without
 * importing the loop.
 *
 * @module
 */

/** The tool the optimizer calls to diagnose a prompt (the paper's `evaluate_prompt`). */
export const DIAGNOSE_TOOL = "diagnose";

/** `outputSchema.name` of target requests (the schema itself is the task's). */
export const TARGET_SCHEMA_NAME = "answer";
/** `outputSchema.name` of the optimizer's decision request. */
export const DECISION_SCHEMA_NAME = "decision";
/** `outputSchema.name` of critic requests. */
export const CRITIQUE_SCHEMA_NAME = "critique";
/** `outputSchema.name` of ClusterFusion's topic-extraction call. */
export const TOPIC_EXTRACTION_SCHEMA_NAME = "topic_extraction";
/** `outputSchema.name` of ClusterFusion's topic-assignment calls. */
export const TOPIC_ASSIGNMENT_SCHEMA_NAME = "topic_assignment";
/** `outputSchema.name` of the trace analyses' patch-edit calls. */
export const PATCH_EDITS_SCHEMA_NAME = "patch_edits";
/** `outputSchema.name` of GEPA's reflection request (`{new_text}`). */
export const GEPA_REFLECTION_SCHEMA = "gepa_reflection";
/**
 * How a line of confidence-aware GEPA's feedback on one answer begins: the stated
 * confidence against the outcome it is calibrated against (`Confidence: 0.90 stated,
 * outcome 0.00: squared error 0.81, overconfident`).
 */
export const GEPA_CONFIDENCE_PREFIX = "Confidence:";
/**
 * How confidence-aware GEPA's reflection request states the calibration of the examples it
 * shows (`Calibration on these examples: Brier 0.41 ...`).
 */
export const GEPA_CALIBRATION_PREFIX = "Calibration on these examples:";
/** The word a {@linkcode GEPA_CONFIDENCE_PREFIX} line ends with when confidence was too high. */
export const OVERCONFIDENT = "overconfident";
/** `outputSchema.name` of MIPRO's dataset-summary request (`{summary}`). */
export const MIPRO_SUMMARY_SCHEMA = "mipro_dataset_summary";
/** `outputSchema.name` of a MIPRO instruction proposal (`{instruction}`). */
export const MIPRO_INSTRUCTION_SCHEMA = "mipro_instructions";
/** `outputSchema.name` of an ACE reflector request. */
export const ACE_REFLECTION_SCHEMA = "ace_reflection";
/** `outputSchema.name` of an ACE curator request. */
export const ACE_CURATION_SCHEMA = "ace_curation";

/** How the re-ask after a rejected patch begins. */
export const PATCH_REJECTED_PREFIX = "Patch rejected:";
/** How the re-ask begins when the optimizer answered without calling the tool. */
export const MISSING_TOOL_PREFIX = `You must call the ${DIAGNOSE_TOOL} tool`;
/**
 * How the user message that carries memory begins when memory follows the tool result
 * (`memoryPlacement: "user_message"`, as the reference sends it): {@linkcode memoryMessage}
 * writes it, {@linkcode readMemoryMessage} reads its payload back.
 */
export const MEMORY_MESSAGE_PREFIX = "Memory of this run";
/** `outputSchema.name` of the trace analyses' topic-labelling call. */
export const TOPIC_LABELS_SCHEMA_NAME = "topic_labels";
/** How the first user message of an iteration begins (`Iteration t of T`). */
export const ITERATION_PREFIX = "Iteration";

const PROMPT_BLOCK = /```json\s*([\s\S]*?)```/;

/**
 * The prompt program as the iteration message shows it: a fenced JSON block of `system`
 * and `instruction`. {@linkcode readPromptBlock} reads it back.
 *
 * @example
 * ```ts
 * import { promptBlock, readPromptBlock } from "./protocol_names.ts";
 * const p = { system: "S", instruction: "Answer.\nBe brief." };
 * const block = promptBlock(p);
 * if (!block.startsWith("`".repeat(3) + "json\n{")) throw new Error(block);
 * if (JSON.stringify(readPromptBlock(`Here:\n\n${block}\n\nGo.`)) !== JSON.stringify(p)) {
 *   throw new Error("round trip");
 * }
 * ```
 */
export function promptBlock(prompt: { system: string; instruction: string }): string {
  return `\`\`\`json\n${
    JSON.stringify({ system: prompt.system, instruction: prompt.instruction }, null, 2)
  }\n\`\`\``;
}

/** The JSON value of the first prompt block in `text`; undefined when there is none or it is not JSON. */
export function readPromptBlock(text: string): unknown {
  const block = PROMPT_BLOCK.exec(text)?.[1];
  if (block === undefined) return undefined;
  try {
    return JSON.parse(block);
  } catch {
    return undefined;
  }
}

/**
 * The user message that carries memory: the prefix and the mode on the first line, `text`
 * (what to do with it), a blank line, then the payload as indented JSON, last.
 *
 * @example
 * ```ts
 * import { memoryMessage, readMemoryMessage } from "./protocol_names.ts";
 * const m = memoryMessage("history_summary", "Decide.", { history: [], note: "a {b}" });
 * if (JSON.stringify(readMemoryMessage(m)) !== '{"history":[],"note":"a {b}"}') throw new Error(m);
 * if (readMemoryMessage("Iteration 1 of 2") !== undefined) throw new Error();
 * ```
 */
export function memoryMessage(mode: string, text: string, payload: unknown): string {
  return `${MEMORY_MESSAGE_PREFIX} (mode ${mode}).\n${text}\n\n${JSON.stringify(payload, null, 2)}`;
}

/** The payload of a {@linkcode memoryMessage}; undefined for any other text. */
export function readMemoryMessage(text: string): unknown {
  if (!text.startsWith(MEMORY_MESSAGE_PREFIX)) return undefined;
  const at = text.indexOf("\n\n{");
  if (at < 0) return undefined;
  try {
    return JSON.parse(text.slice(at + 2));
  } catch {
    return undefined;
  }
}
