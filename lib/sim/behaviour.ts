/**
 * What a simulated behaviour is: a recurring failure that an instruction in the prompt can
 * address (the phrasings that neutralise it), with the critic's words for it and the
 * optimizer's instructions; a per-example {@linkcode Trap} adds which examples it catches
 * and the wrong answer it produces. The bundled tasks' traps are in `traps.ts`, the ones
 * that serve any task with gold answers in `generic_traps.ts`.
 *
 * @module
 */
import type { SimExample } from "./examples.ts";

/** The task name generic traps list: they apply to the examples of a served task. */
export const GENERIC_TASK = "generic";

/** An instruction-addressable behaviour, with its wording for critic and optimizer. */
export interface Behaviour {
  /** Stable id, `<task>.<name>`. */
  id: string;
  /** Canonical topic name, used by the simulated critic when it groups diagnoses. */
  topic: string;
  /** Canonical one-sentence description of the topic. */
  description: string;
  /** Prompt phrasings that neutralise it (any one suffices). */
  fixes: RegExp[];
  /** Recognises the critic's wording for it (labels, definitions, topic names). */
  vocabulary: RegExp;
  /** Critic label variants: 2-6 words, generic, no entity names. */
  labels: string[];
  /** Critic definition variants. */
  definitions: string[];
  /** Instructions the optimizer writes that do neutralise it. */
  instructions: string[];
  /** Plausible but vague instructions that do not neutralise it. */
  weakInstructions: string[];
}

/** A wrong answer produced by a trap, with the reasoning sentence that leads to it. */
export interface WrongAnswer {
  answer: string;
  reasoning: string;
}

/** A per-example trap. */
export interface Trap extends Behaviour {
  /** Task names it belongs to. */
  tasks: string[];
  /** Share of applicable examples that are susceptible when the prompt does not address it. */
  rate: number;
  /** Per-task overrides of `rate`. */
  taskRates?: Record<string, number>;
  /**
   * True when the trap changes only the form: its wrong answer may equal the gold text
   * (an unboxed expression), because the task's correct form differs from the gold.
   */
  formOnly?: boolean;
  /** The wrong answer for `ex`, or undefined when the trap does not apply to it. */
  wrong(ex: SimExample): WrongAnswer | undefined;
}

/** Whether `promptText` carries an instruction that neutralises `behaviour`. */
export function addresses(promptText: string, behaviour: Behaviour): boolean {
  return behaviour.fixes.some((re) => re.test(promptText));
}
