/**
 * Patch guards (DESIGN section 1, "Revision loop"): a decision from the optimizer is
 * checked before it changes the prompt: schema-valid, non-empty, free of meta-edit text
 * ("apply this patch", "[revised ..."), free of training answers copied verbatim, and
 * within the prompt-length cap. A rejection carries a reason written for the optimizer,
 * which is fed back so it can correct the patch. Also: the format-collapse warning.
 *
 * @module
 */
import { structuredValue } from "../llm/structured.ts";
import { applyPatch, promptChars, type PromptProgram } from "../prompt.ts";
import type { RunConfig } from "../run/config.ts";
import { Decision } from "../run/schema.ts";
import type { Metrics } from "../tasks/schema.ts";
import { percent } from "../util/format.ts";

/** What the guards need to know besides the decision. */
export interface GuardContext {
  /** The prompt the patch applies to. */
  current: PromptProgram;
  /** Gold answers of the training examples (the optimizer saw them in failure examples). */
  trainAnswers: readonly string[];
  /** Largest prompt program allowed, in characters over all fields; absent: no cap. */
  maxPromptChars?: number;
  /** Reject meta-edit text (default true). */
  metaEdit?: boolean;
  /** Reject training answers copied into the patch (default true). */
  copiedAnswers?: boolean;
}

/** The guard settings of a run config (the cap, the meta-edit and copied-answer guards). */
export function guardSettings(
  config: Pick<RunConfig, "maxPromptChars" | "metaEditGuard" | "copiedAnswerGuard">,
): Pick<GuardContext, "maxPromptChars" | "metaEdit" | "copiedAnswers"> {
  return {
    ...(config.maxPromptChars !== undefined ? { maxPromptChars: config.maxPromptChars } : {}),
    metaEdit: config.metaEditGuard,
    copiedAnswers: config.copiedAnswerGuard,
  };
}

/** A checked decision: the decision and, for a patch, the prompt it produces. */
export type GuardResult =
  | { ok: true; decision: Decision; prompt: PromptProgram | null }
  | { ok: false; reason: string };

/** Phrases that are instructions about editing, not instructions for the target model. */
const META_EDIT_PATTERNS: readonly { pattern: RegExp; what: string }[] = [
  {
    pattern: /\bapply (this|the following|the above|the) (patch|edit|change)/i,
    what: "apply this patch",
  },
  {
    pattern: /\[\s*(revised|updated|new|edited|modified|insert|unchanged)\b/i,
    what: "[revised ...]",
  },
  {
    pattern: /<\s*(previous|existing|original|old) (prompt|instruction|system|text)\s*>/i,
    what: "<previous ...>",
  },
  {
    pattern: /\b(rest|remainder) of (the )?(prompt|instruction|system message) (is )?unchanged/i,
    what: "rest unchanged",
  },
  {
    pattern: /\b(same as|as in) (the )?(previous|prior|old|original) (prompt|instruction|version)/i,
    what: "same as previous",
  },
  { pattern: /\.\.\.\s*\((unchanged|as before|same as before)\)/i, what: "... (unchanged)" },
  {
    pattern: /\b(replace|change) the (system|instruction) (field|prompt) (with|to)\b/i,
    what: "replace the field with",
  },
  { pattern: /\bpatch rationale\b/i, what: "patch rationale" },
];

/**
 * The first meta-edit phrase in `text`, or undefined. Such text means the optimizer wrote
 * about the edit instead of writing the edited prompt.
 *
 * @example
 * ```ts
 * import { findMetaEditText } from "./guards.ts";
 * if (findMetaEditText("[Revised instruction] Answer briefly.") === undefined) throw new Error();
 * if (findMetaEditText("Answer briefly, citing the context.") !== undefined) throw new Error();
 * ```
 */
export function findMetaEditText(text: string): string | undefined {
  for (const { pattern } of META_EDIT_PATTERNS) {
    const match = pattern.exec(text);
    if (match) return match[0];
  }
  return undefined;
}

/** Answers too generic to signal copying: they occur in ordinary instructions. */
const GENERIC_ANSWERS = new Set([
  "yes",
  "no",
  "none",
  "true",
  "false",
  "unknown",
  "n/a",
  "null",
  "noanswer",
]);

/**
 * Whether an answer is specific enough that finding it verbatim in a patch means it was
 * copied: at least 4 characters, not a generic word (yes/no/none ...), and, when it is a
 * number, at least 4 digits (so "2" or "12.5" never trigger, "1234.57" does).
 */
export function isDistinctiveAnswer(answer: string): boolean {
  const a = answer.trim().toLowerCase();
  if (a.length < 4 || GENERIC_ANSWERS.has(a)) return false;
  if (/^[-+$€£]?[\d.,\s%]+$/.test(a)) return (a.match(/\d/g)?.length ?? 0) >= 4;
  return /[\p{L}\d]/u.test(a);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Distinctive training answers that occur in `text` as whole words (case-insensitive)
 * and not already in `before` (a patch is not blamed for text it kept).
 *
 * @example
 * ```ts
 * import { findCopiedAnswers } from "./guards.ts";
 * const found = findCopiedAnswers("If asked about the band, say Radiohead.", ["Radiohead", "yes", "2"]);
 * if (found.join() !== "Radiohead") throw new Error(found.join());
 * ```
 */
export function findCopiedAnswers(
  text: string,
  answers: readonly string[],
  before = "",
): string[] {
  const found = new Set<string>();
  const lower = text.toLowerCase();
  const lowerBefore = before.toLowerCase();
  for (const answer of answers) {
    if (!isDistinctiveAnswer(answer)) continue;
    const needle = answer.trim().toLowerCase();
    if (!lower.includes(needle) || found.has(answer.trim())) continue;
    const word = new RegExp(`(^|[^\\p{L}\\d])${escapeRegExp(needle)}($|[^\\p{L}\\d])`, "u");
    if (word.test(lower) && !word.test(lowerBefore)) found.add(answer.trim());
  }
  return [...found];
}

/** How the guard's rejection of a patch with copied training answers begins. */
export const COPIED_ANSWERS_REASON = "the patch contains gold answers of training examples";

/**
 * Whether a recorded rejection reason is the copied-training-answers guard's (the
 * experiment tables count them as an overfitting check).
 *
 * @example
 * ```ts
 * import { isCopiedAnswersRejection } from "./guards.ts";
 * if (!isCopiedAnswersRejection('the patch contains gold answers of training examples ("Paris")')) {
 *   throw new Error();
 * }
 * ```
 */
export function isCopiedAnswersRejection(reason: string): boolean {
  return reason.startsWith(COPIED_ANSWERS_REASON);
}

function zodReason(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.slice(0, 3).map((i) =>
    `${i.path.length > 0 ? i.path.map(String).join(".") : "(decision)"}: ${i.message}`
  ).join("; ");
}

/**
 * Reads a decision from a model response: the structured `parsed` value when present,
 * else the first JSON object in the text.
 */
export function readDecision(parsed: unknown, text: string): unknown {
  return structuredValue({ parsed, text });
}

/**
 * Checks a raw decision against every guard. A stop passes as it is; a patch must give at
 * least one field, change the prompt, leave no field empty, carry a rationale, and (each
 * guard a setting) contain no meta-edit text or copied training answer and keep the prompt
 * within the cap when there is one.
 *
 * @example
 * ```ts
 * import { checkDecision } from "./guards.ts";
 * const ctx = { current: { system: "S", instruction: "I" }, trainAnswers: [], maxPromptChars: 1000 };
 * const bad = checkDecision({ action: "patch", patch: { instruction: "Apply this patch: be brief", rationale: "r" } }, ctx);
 * if (bad.ok || !bad.reason.includes("meta-edit")) throw new Error("should reject");
 * const good = checkDecision({ action: "patch", patch: { instruction: "Be brief.", rationale: "r" } }, ctx);
 * if (!good.ok || good.prompt?.instruction !== "Be brief.") throw new Error("should accept");
 * ```
 */
export function checkDecision(raw: unknown, ctx: GuardContext): GuardResult {
  if (raw === undefined) {
    return { ok: false, reason: "the answer holds no JSON decision object" };
  }
  const parsed = Decision.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      reason: `the decision does not match the schema: ${zodReason(parsed.error)}`,
    };
  }
  const decision = parsed.data;
  if (decision.action === "stop") return { ok: true, decision, prompt: null };
  const patch = decision.patch;
  if (patch === undefined) {
    return {
      ok: false,
      reason: 'action "patch" needs a patch object with system and/or instruction',
    };
  }
  const fields = (["system", "instruction"] as const).filter((f) => patch[f] !== undefined);
  if (fields.length === 0) {
    return { ok: false, reason: "the patch gives neither system nor instruction" };
  }
  for (const field of fields) {
    if ((patch[field] ?? "").trim() === "") {
      return {
        ok: false,
        reason: `the patch's ${field} is empty; give the whole new text of the field`,
      };
    }
  }
  if (patch.rationale.trim() === "") {
    return { ok: false, reason: "the patch has no rationale" };
  }
  const next = applyPatch(ctx.current, patch);
  if (fields.every((f) => next[f] === ctx.current[f])) {
    return { ok: false, reason: "the patch does not change the prompt" };
  }
  for (const field of ctx.metaEdit === false ? [] : fields) {
    const meta = findMetaEditText(next[field] as string);
    if (meta !== undefined) {
      return {
        ok: false,
        reason: `the patch's ${field} contains meta-edit text ("${meta}"): give the full new ` +
          `text of the field as the target model should read it, not instructions about editing`,
      };
    }
  }
  const newText = fields.map((f) => next[f]).join("\n");
  const oldText = fields.map((f) => ctx.current[f]).join("\n");
  const copied = ctx.copiedAnswers === false
    ? []
    : findCopiedAnswers(newText, ctx.trainAnswers, oldText);
  if (copied.length > 0) {
    const shown = copied.slice(0, 3).map((a) => `"${a}"`).join(", ");
    return {
      ok: false,
      reason: `${COPIED_ANSWERS_REASON} (${shown}${
        copied.length > 3 ? ", ..." : ""
      }): write general instructions, never answers of specific examples`,
    };
  }
  const total = promptChars(next);
  if (ctx.maxPromptChars !== undefined && total > ctx.maxPromptChars) {
    return {
      ok: false,
      reason:
        `the patched prompt has ${total} characters, over the cap of ${ctx.maxPromptChars}: ` +
        `merge, shorten or delete rules instead of adding`,
    };
  }
  return { ok: true, decision, prompt: next };
}

/** Format-error rate at or above which the warning fires regardless of the past. */
export const FORMAT_COLLAPSE_RATE = 0.5;
/** Rise of the format-error rate since the previous report that fires the warning. */
export const FORMAT_COLLAPSE_RISE = 0.25;

/**
 * The format-collapse warning for the optimizer, or undefined: the format-error rate is
 * at least 0.5, or rose by at least 0.25 since the previous report.
 *
 * @example
 * ```ts
 * import { formatCollapseWarning } from "./guards.ts";
 * const m = (formatErrorRate: number) => ({ n: 10, parsed: 10, score: 0, fullCredit: 0,
 *   avgConfidence: null, brier: null, ece: null, formatErrorRate, errorRate: 0, perSubtask: {}, extra: {} });
 * if (formatCollapseWarning(m(0.3), m(0.0)) === undefined) throw new Error("rise of 0.3 should warn");
 * if (formatCollapseWarning(m(0.3), m(0.2)) !== undefined) throw new Error("rise of 0.1 should not");
 * ```
 */
export function formatCollapseWarning(
  current: Metrics,
  previous?: Metrics | null,
): string | undefined {
  const rate = current.formatErrorRate;
  const rise = previous ? rate - previous.formatErrorRate : 0;
  // A small epsilon keeps 0.25 exactly (after float subtraction) on the warning side.
  if (rate < FORMAT_COLLAPSE_RATE && rise < FORMAT_COLLAPSE_RISE - 1e-9) return undefined;
  const since = previous
    ? ` (was ${percent(previous.formatErrorRate)} in the previous report)`
    : "";
  return `FORMAT COLLAPSE: ${percent(rate)} of the target's outputs could not be parsed${since}. ` +
    `Unparsed outputs score 0. Restore the output contract: one JSON object with the ` +
    `reasoning field, answer and confidence in [0, 1], before any other change.`;
}
