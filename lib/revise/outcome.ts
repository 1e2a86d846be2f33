/**
 * What a step produced besides its scores: the decision that moves the prompt on. An
 * iteration's decision comes from the optimizer's conversation or, in a session stepped by
 * hand, from a person's edit, which goes through the same guards and is recorded the same
 * way (marked `by: "hand"`).
 *
 * @module
 */
import type { DiagnosticRecord } from "../diagnose.ts";
import type { Decision, Evaluation, StepSummary } from "../run/schema.ts";
import type { ChatMessage } from "../llm/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import { ConfigError } from "../util/errors.ts";
import type { ConversationOutcome } from "./conversation.ts";
import { checkDecision, type GuardContext } from "./guards.ts";

/** How a step's prompt scored: dev (and maybe test), its selection value, the best so far. */
export interface StepScores {
  dev: Evaluation;
  test: Evaluation | null;
  selection: number;
  best: { step: number; selection: number };
  /** True when this prompt became the best so far. */
  replaced: boolean;
}

/** What decided an iteration: the optimizer's conversation, or a hand edit (`by: "hand"`). */
export type StepOutcome = ConversationOutcome & { by?: "hand" };

/** The outcome of a hand edit: the diagnosis of the current prompt and the person's patch. */
export function handOutcome(
  record: DiagnosticRecord,
  decision: Decision,
  nextPrompt: PromptProgram,
): StepOutcome {
  return {
    record,
    candidates: [],
    decision,
    nextPrompt,
    rejections: [],
    decisionAttempts: 1,
    diagnoseCalls: 1,
    optimizerCalls: 0,
    optimizerPromptTokens: 0,
    memoryTokens: 0,
    warnings: [],
    stop: null,
    messages: [],
    by: "hand",
  };
}

/**
 * A hand edit as a patch decision: only the fields that change, with the rationale, checked
 * by the optimizer's guards (a rejection is a {@linkcode ConfigError} with the guard's reason).
 *
 * @example
 * ```ts
 * import { handDecision } from "./outcome.ts";
 * const ctx = { current: { system: "S", instruction: "I" }, trainAnswers: [], maxPromptChars: 1000 };
 * const d = handDecision({ system: "S", instruction: "I. Be brief." }, "shorter answers", ctx);
 * if (d.decision.patch?.system !== undefined || d.prompt.instruction !== "I. Be brief.") throw new Error();
 * ```
 */
export function handDecision(
  edited: Partial<PromptProgram>,
  rationale: string,
  ctx: GuardContext,
): { decision: Decision; prompt: PromptProgram } {
  const current = ctx.current;
  const extra = Object.keys(edited).filter((k) => k !== "system" && k !== "instruction");
  if (extra.length > 0) {
    throw new ConfigError(`accept: a hand edit changes system and instruction only, not ${extra}`);
  }
  const patch = {
    ...(edited.system !== undefined && edited.system !== current.system
      ? { system: edited.system }
      : {}),
    ...(edited.instruction !== undefined && edited.instruction !== current.instruction
      ? { instruction: edited.instruction }
      : {}),
    rationale,
  };
  if (patch.system === undefined && patch.instruction === undefined) {
    throw new ConfigError("accept: the hand edit does not change the prompt");
  }
  const checked = checkDecision({ action: "patch", patch }, ctx);
  if (!checked.ok) throw new ConfigError(`accept: the hand edit was rejected: ${checked.reason}`);
  if (checked.prompt === null) throw new Error("accept: a patch without a prompt");
  return { decision: checked.decision, prompt: checked.prompt };
}

/** What one step did, for a person stepping through (the step's files hold the same). */
export interface SessionStep {
  summary: StepSummary;
  /** The diagnosis of the step's prompt on train (null for a dev-only final step). */
  record: DiagnosticRecord | null;
  /** The decision that was applied (the optimizer's, or the hand edit as a patch). */
  decision: Decision | null;
  /** The prompt the next step works on (null when the decision was a stop or none came). */
  nextPrompt: PromptProgram | null;
  /** Patches the guards rejected before the decision. */
  rejections: string[];
  /** The optimizer conversation (empty for a hand edit or a final step). */
  messages: ChatMessage[];
}

/** The {@linkcode SessionStep} of a saved step and what decided it. */
export function sessionStep(summary: StepSummary, outcome: StepOutcome | null): SessionStep {
  return {
    summary,
    record: outcome?.record ?? null,
    decision: outcome?.decision ?? null,
    nextPrompt: outcome?.nextPrompt ?? null,
    rejections: outcome?.rejections ?? [],
    messages: outcome?.messages ?? [],
  };
}
