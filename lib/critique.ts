/**
 * The critic: one structured call per failure that names 0-3 generic failure modes
 * `{label, definition, why, basis}` and (unless `judgeConfidence` is off; the reference's
 * critic does not) judges the stated confidence.
 *
 * Labels must cluster across examples, so they are checked: no digits, no month names, no
 * words that look like this example's entities (capitalised words of the question and of
 * the two answers), at most 6 words. A malformed answer or an offending label is retried
 * (as a new sample, so a response cache does not hand back the same answer); after the
 * last attempt offending labels are cleaned, and a malformed answer is recorded with its
 * error and no modes.
 *
 * @module
 */
import { z } from "zod";
import type { ChatModel } from "./llm/model.ts";
import { callStructured } from "./llm/structured.ts";
import { CRITIQUE_SCHEMA_NAME } from "./protocol_names.ts";
import type { Task } from "./tasks/task.ts";
import type { ChatMessage } from "./llm/schema.ts";
import type { Example } from "./tasks/schema.ts";
import type { TraceItem } from "./trace.ts";

/** `outputSchema.name` of critic requests (defined in `protocol_names.ts`, which the simulator reads). */
export { CRITIQUE_SCHEMA_NAME };

/** One failure mode named by the critic. */
export const FailureMode = z.object({
  label: z.string().describe(
    "2-6 words, generic and clusterable: no entity names, numbers or dates",
  ),
  definition: z.string().describe("one sentence defining the failure mode in general terms"),
  why: z.string().describe("why this example shows the failure mode"),
  basis: z.string().describe("the evidence in the trace"),
});
/** One failure mode. */
export type FailureMode = z.infer<typeof FailureMode>;

/** The critic's structured output for one failure. */
export const Critique = z.object({
  failure_modes: z.array(FailureMode).max(3),
});
/** The critic's structured output. */
export type Critique = z.infer<typeof Critique>;

/** Most failure modes kept per failure. */
export const MAX_FAILURE_MODES = 3;
const MAX_LABEL_WORDS = 6;

/** What the critic sees about one failure. */
export interface CritiqueInput {
  task: Task;
  example: Example;
  trace: TraceItem;
}

/** The critic's result for one failure, as kept in the run record. */
export interface CritiqueOutcome {
  exampleId: string;
  /** 0-3 modes; empty when the critic found none or its output stayed malformed. */
  modes: FailureMode[];
  /** Why no usable critique came back (malformed output, provider error). */
  error?: string;
  /** True when the critic's call failed after its retries (no answer at all, not a bad one). */
  callFailed?: boolean;
  /** Critic calls made. */
  attempts: number;
  /** Labels that were cleaned after the last attempt, as `before -> after`. */
  labelFixes?: string[];
}

/** Options of {@linkcode critiqueFailure}. */
export interface CritiqueOptions {
  /** Attempts when the output is malformed or a label is not generic (default 2). */
  maxAttempts?: number;
  /** Sampling temperature (default 0). */
  temperature?: number;
  /** Ask the critic to judge the stated confidence too (default true). */
  judgeConfidence?: boolean;
  /** Aborts the call. */
  signal?: AbortSignal;
}

const SYSTEM_MODES = [
  "You are a critic. A language model answered one example of a task and did not get full " +
  "credit. Diagnose why, as failure modes that recur across examples.",
  "",
  `Return 0 to ${MAX_FAILURE_MODES} failure modes. Each has:`,
  "- label: 2-6 words naming the kind of mistake, generic and clusterable. Never use names " +
  "of people, places, works or organisations, numbers, dates or answer strings from this " +
  "example.",
  "- definition: one sentence defining the mode in general terms.",
  "- why: how this example shows the mode.",
  "- basis: the evidence in the reasoning, answer or confidence (quote briefly).",
  "",
];
const CONFIDENCE_JUDGEMENT = "Also judge the stated confidence against the outcome. A high " +
  "confidence on a wrong answer is a failure mode of its own (label it, for example, " +
  "'overconfident wrong answer'). ";
const ACCEPTABLE = "Return no modes when the prediction is in fact acceptable (for example, " +
  "equivalent to the gold answer).";

function systemPrompt(judgeConfidence: boolean): string {
  return [...SYSTEM_MODES, `${judgeConfidence ? CONFIDENCE_JUDGEMENT : ""}${ACCEPTABLE}`]
    .join("\n");
}

/**
 * The critic's chat messages for one failure. The user message carries, at line starts,
 * `Question:`, `Context:` (when the example has one), `Gold answer:`, `Predicted answer:`,
 * `Reasoning:`, `Stated confidence:` and `Score:`.
 *
 * @example
 * ```ts
 * import { critiqueMessages } from "./critique.ts";
 * import type { Task } from "./tasks/task.ts";
 * const messages = critiqueMessages({
 *   task: { name: "demo" } as Task,
 *   example: { id: "1", question: "What is 2+2?", answer: "4", row: {} },
 *   trace: {
 *     exampleId: "1", messages: [], rawText: "", score: 0, full: false, impact: 1, details: {},
 *     parsed: { reasoning: "2+2=5", answer: "5", confidence: 0.9 },
 *     usage: { inputTokens: 0, cachedTokens: 0, outputTokens: 0 }, latencyMs: 0,
 *   },
 * });
 * if (!/^Stated confidence: 0\.9$/m.test(messages[1]?.content ?? "")) throw new Error("unexpected");
 * ```
 */
export function critiqueMessages(input: CritiqueInput, judgeConfidence = true): ChatMessage[] {
  const { example, trace, task } = input;
  const parsed = trace.parsed;
  const lines = [`Task: ${task.name}`, `Question: ${example.question}`];
  if (example.context !== undefined && example.context.trim() !== "") {
    lines.push(`Context:\n${example.context}`);
  }
  lines.push(
    `Gold answer: ${example.answer}`,
    `Predicted answer: ${parsed?.answer ?? "(none)"}`,
    `Reasoning: ${parsed?.reasoning ?? "(none)"}`,
    `Stated confidence: ${parsed?.confidence ?? "(none)"}`,
    `Score: ${trace.score} (full credit: ${trace.full ? "yes" : "no"})`,
  );
  return [
    { role: "system", content: systemPrompt(judgeConfidence) },
    { role: "user", content: lines.join("\n") },
  ];
}

/**
 * Problems that make a label unfit for clustering, given words that look like the
 * example's entities (lower-cased). Empty when the label is fine.
 *
 * @example
 * ```ts
 * import { labelProblems } from "./critique.ts";
 * if (labelProblems("wrong unit conversion").length !== 0) throw new Error("should pass");
 * if (labelProblems("confused 1990 with 1989").length === 0) throw new Error("digits pass");
 * if (labelProblems("confused Paris with capital", new Set(["paris"])).length === 0) throw new Error();
 * ```
 */
export function labelProblems(
  label: string,
  entityWords: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  const words = labelWords(label);
  if (words.length === 0) problems.push("empty label");
  if (words.length > MAX_LABEL_WORDS) problems.push(`more than ${MAX_LABEL_WORDS} words`);
  if (/\p{N}/u.test(label)) problems.push("contains a number");
  if (words.some((w) => MONTHS.has(w.toLowerCase()))) problems.push("contains a date");
  const entities = words.filter((w) => entityWords.has(w.toLowerCase()));
  if (entities.length > 0) problems.push(`names this example's entities (${entities.join(", ")})`);
  return problems;
}

/**
 * A label with numbers, dates and entity words removed and cut to 6 words; empty when
 * nothing generic is left.
 *
 * @example
 * ```ts
 * import { cleanLabel } from "./critique.ts";
 * if (cleanLabel("confused 1990s with March dates") !== "confused with dates") throw new Error();
 * ```
 */
export function cleanLabel(label: string, entityWords: ReadonlySet<string> = new Set()): string {
  return labelWords(label)
    .filter((w) =>
      !/\p{N}/u.test(w) && !MONTHS.has(w.toLowerCase()) && !entityWords.has(w.toLowerCase())
    )
    .slice(0, MAX_LABEL_WORDS)
    .join(" ");
}

const MONTHS = new Set([
  "january",
  "february",
  "march",
  "april",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
]);

const FUNCTION_WORDS = new Set(
  ("the and for from with into onto over under about after before than that this these those " +
    "which what who whom whose when where why how are was were has have had not but nor yet " +
    "its his her their our your all any some one").split(" "),
);

function labelWords(label: string): string[] {
  return label.trim().split(/\s+/).filter((w) => w !== "");
}

/**
 * Words that look like the example's entities: capitalised words (not opening a sentence)
 * of the question, and the words of the gold and predicted answers when they hold a capital
 * or a digit. Words under 3 letters and common function words ("The" opening a title) are
 * ignored.
 */
export function entityWordsOf(example: Example, trace: TraceItem): Set<string> {
  const out = new Set<string>();
  const add = (w: string) => {
    const bare = w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
    const lower = bare.toLowerCase();
    if (bare.length >= 3 && !FUNCTION_WORDS.has(lower)) out.add(lower);
  };
  const sentences = example.question.split(/(?<=[.?!])\s+/);
  for (const sentence of sentences) {
    const words = sentence.split(/\s+/).filter((w) => w !== "");
    words.slice(1).forEach((w) => {
      if (/^\p{Lu}/u.test(w.replace(/^[^\p{L}]+/u, ""))) add(w);
    });
  }
  for (const answer of [example.answer, trace.parsed?.answer ?? ""]) {
    if (/[\p{Lu}\p{N}]/u.test(answer)) answer.split(/\s+/).forEach(add);
  }
  return out;
}

// Parsing is lax where repair is safe: extra modes are dropped, missing why/basis become "".
const LaxCritique = z.object({
  failure_modes: z.array(z.object({
    label: z.string(),
    definition: z.string(),
    why: z.string().default(""),
    basis: z.string().default(""),
  })),
});

/**
 * Asks the critic about one failure. Never throws for a bad critic answer or a provider
 * error (both are recorded in `error`); budget and abort errors propagate.
 */
export async function critiqueFailure(
  critic: ChatModel,
  input: CritiqueInput,
  opts: CritiqueOptions = {},
): Promise<CritiqueOutcome> {
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 2);
  const messages = critiqueMessages(input, opts.judgeConfidence ?? true);
  const entities = entityWordsOf(input.example, input.trace);
  const exampleId = input.example.id;
  // The modes of the last well-formed answer whose labels were not all generic.
  let lastModes: FailureMode[] | undefined;
  const out = await callStructured(critic, messages, {
    name: CRITIQUE_SCHEMA_NAME,
    schema: Critique,
    maxAttempts,
    temperature: opts.temperature,
    what: "critique",
    signal: opts.signal,
  }, (value) => {
    const parsed = LaxCritique.safeParse(value);
    if (!parsed.success) {
      lastModes = undefined;
      return { ok: false, error: z.prettifyError(parsed.error) };
    }
    const modes = parsed.data.failure_modes.slice(0, MAX_FAILURE_MODES).map(trimMode);
    if (modes.every((m) => labelProblems(m.label, entities).length === 0)) {
      return { ok: true, value: modes };
    }
    lastModes = modes;
    return { ok: false, error: "labels not generic" };
  });
  if (out.value !== undefined) return { exampleId, modes: out.value, attempts: out.attempts };
  if (out.providerFailed) {
    return { exampleId, modes: [], error: out.error, attempts: out.attempts, callFailed: true };
  }
  if (lastModes === undefined) {
    return { exampleId, modes: [], error: out.error, attempts: out.attempts };
  }
  const labelFixes: string[] = [];
  const modes = lastModes.flatMap((m) => {
    if (labelProblems(m.label, entities).length === 0) return [m];
    const label = cleanLabel(m.label, entities);
    labelFixes.push(`${m.label} -> ${label === "" ? "(dropped)" : label}`);
    return label === "" ? [] : [{ ...m, label }];
  });
  return { exampleId, modes, attempts: maxAttempts, labelFixes };
}

function trimMode(m: FailureMode): FailureMode {
  return {
    label: m.label.replace(/\s+/g, " ").trim(),
    definition: m.definition.trim(),
    why: m.why.trim(),
    basis: m.basis.trim(),
  };
}
