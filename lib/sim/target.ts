/**
 * The simulated target model. It recognises the task example in the rendered messages and
 * answers it as a plausible but fallible model would:
 *
 * - if a trap applies to the example, the example is susceptible to it (a seeded coin per
 *   example and trap) and the prompt does not address it, the answer is the trap's wrong
 *   answer;
 * - otherwise the answer is correct with the task's base probability (a seeded coin per
 *   example; one in ten coins is re-drawn per prompt, so edits add a little noise), else a
 *   plausible wrong answer (a distractor from the context, another letter, a nearby number);
 * - the stated confidence is high whatever the outcome, unless the prompt asks for
 *   calibrated confidence;
 * - some outputs break the JSON contract (prose, a percentage confidence, a cut-off
 *   object), 10% unless the prompt insists on JSON only (then 1%). Structured output
 *   (`outputSchema` in the request) divides these rates by three rather than removing
 *   them, as real providers' JSON modes still fail occasionally.
 *
 * An example of a served task (a user's own, `served.ts`) falls into the generic traps and
 * is otherwise right with {@linkcode SERVED_BASE_ACCURACY}.
 *
 * Only the prompt's own text counts as addressing a trap: the example's question, context
 * and format hints are removed before matching, so a question that itself says "duplicate
 * that letter five times" does not neutralise the five-letter trap.
 *
 * @module
 */
import type { ChatMessage, ChatRequest } from "../llm/schema.ts";
import { hashString, hashUnit } from "../util/random.ts";
import type { SimExample } from "./examples.ts";
import { goldAsNumber } from "./generic_traps.ts";
import {
  addresses,
  type Behaviour,
  CALIBRATION,
  JSON_ONLY,
  type Trap,
  trapsFor,
  type WrongAnswer,
} from "./traps.ts";

/** Probability of a correct answer when no trap fires, per task. */
export const BASE_ACCURACY: Record<string, number> = {
  hotpotqa: 0.8,
  livebench_math: 0.8,
  formula: 0.84,
  synthetic: 0.86,
};

/** Probability of a correct answer when no trap fires, for a served task (`served.ts`). */
export const SERVED_BASE_ACCURACY = 0.88;

const FORMAT_ERROR_RATE = 0.1;
const FORMAT_ERROR_RATE_JSON_ONLY = 0.01;
const STRUCTURED_OUTPUT_FACTOR = 1 / 3;
const REROLL_RATE = 0.1;

/** What the simulated target decided for one example under one prompt. */
export interface TargetDecision {
  /** `correct`, a `trap` that fired, or a `slip` (wrong without a trap). */
  outcome: "correct" | "trap" | "slip";
  trap?: Trap;
  answer: string;
  reasoning: string;
  confidence: number;
  /** True when the output breaks the JSON contract. */
  formatError: boolean;
}

/**
 * The prompt's own text in a rendered conversation: system and user messages with the
 * example's question, context and format hints removed.
 */
export function promptTextOf(messages: ChatMessage[], ex: SimExample | undefined): string {
  const remove: string[] = [];
  if (ex !== undefined) {
    remove.push(ex.question);
    if (ex.context !== undefined) remove.push(ex.context);
    remove.push(...(ex.contextVariants ?? []));
    for (const key of ["answer_format_hint", "raw_question", "context"]) {
      const v = ex.row[key];
      if (typeof v === "string" && v.length > 10) remove.push(v);
    }
  }
  remove.sort((a, b) => b.length - a.length);
  return messages
    .filter((m) => m.role === "system" || m.role === "user")
    .map((m) => remove.reduce((text, r) => text.split(r).join("\n"), m.content))
    .join("\n");
}

function unit(seed: number, ...parts: (string | number)[]): number {
  return hashUnit(seed, ...parts);
}

function letterAnswer(ex: SimExample): boolean {
  return /^[A-E]$/.test(ex.answer.trim());
}

/** The answer in the form the task's scorer expects. */
function correctForm(ex: SimExample): string {
  if (ex.served !== undefined) return ex.answer;
  if (ex.task === "livebench_math") {
    if (letterAnswer(ex)) return ex.answer.trim().repeat(5);
    if (ex.subtask === "AMPS_Hard") return `\\boxed{${ex.answer}}`;
  }
  return ex.answer;
}

function stripParen(title: string): string {
  return title.replace(/\s*\([^)]*\)\s*$/, "").trim();
}

/** A served task's wrong answer without a trap: a nearby number, or another row's answer. */
function servedSlip(ex: SimExample, u: number): WrongAnswer {
  const served = ex.served as NonNullable<SimExample["served"]>;
  const gold = goldAsNumber(ex.answer);
  const candidates: string[] = [];
  if (gold !== undefined) {
    for (const delta of [0.04 + 0.16 * u, -(0.05 + 0.1 * u), 1]) {
      candidates.push(String(delta === 1 ? gold + 1 : Math.round(gold * (1 + delta) * 100) / 100));
    }
  } else if (served.others.length > 0) {
    candidates.push(served.others[Math.floor(u * served.others.length)] as string);
  }
  const answer = candidates.find((c) => !served.accepts(c)) ?? "unknown";
  return { answer, reasoning: `Following the question through, it comes to ${answer}.` };
}

/** A plausible wrong answer when no trap explains the miss. */
function slipAnswer(ex: SimExample, seed: number): WrongAnswer {
  const u = unit(seed, "slip", ex.id);
  if (ex.served !== undefined) return servedSlip(ex, u);
  if (ex.task === "hotpotqa") {
    if (/^(yes|no)$/i.test(ex.answer.trim())) {
      return {
        answer: /^yes$/i.test(ex.answer.trim()) ? "no" : "yes",
        reasoning: "The two descriptions do not line up on this point.",
      };
    }
    const row = ex.row as {
      context?: { title?: string[] };
      supporting_facts?: { title?: string[] };
    };
    const support = new Set(row.supporting_facts?.title ?? []);
    const distractors = (row.context?.title ?? []).filter((t) => !support.has(t));
    const pickFrom = distractors.length > 0 ? distractors : row.context?.title ?? [];
    const title = pickFrom[Math.floor(u * pickFrom.length)];
    const answer = title === undefined ? "unknown" : stripParen(title);
    return { answer, reasoning: `The paragraph about ${answer} seems to match the question.` };
  }
  if (ex.task === "livebench_math") {
    if (letterAnswer(ex)) {
      const letters = ["A", "B", "C", "D", "E"].filter((l) => l !== ex.answer.trim());
      const l = letters[Math.floor(u * letters.length)] as string;
      return { answer: l.repeat(5), reasoning: `Option ${l} matches the computed value.` };
    }
    if (/^\d{1,3}$/.test(ex.answer.trim())) {
      let n = (Number(ex.answer) + 1 + Math.floor(u * 400)) % 1000;
      if (String(n).includes(ex.answer.trim())) n = (n + 111) % 1000;
      const answer = String(n).padStart(3, "0");
      return { answer, reasoning: `Counting the cases gives ${answer}.` };
    }
    if (ex.subtask === "olympiad") {
      // One misplaced pair: a slip, with partial credit under the edit-distance scorer.
      const items = ex.answer.split(",").map((s) => s.trim());
      const at = Math.floor(u * Math.max(1, items.length - 1));
      if (at + 1 < items.length) {
        [items[at], items[at + 1]] = [items[at + 1] as string, items[at] as string];
      }
      const answer = items.length > 1 ? items.join(",") : "0";
      return { answer, reasoning: "Filling the slots as the argument proceeds." };
    }
    return { answer: `\\boxed{${ex.answer}+1}`, reasoning: "A sign slipped in the last step." };
  }
  const gold = Number(ex.answer.replaceAll(",", ""));
  if (ex.answer.trim() !== "" && Number.isFinite(gold)) {
    const delta = (0.04 + 0.16 * u) * (unit(seed, "sign", ex.id) < 0.5 ? -1 : 1);
    let wrong = Math.round(gold * (1 + delta) * 100) / 100;
    if (wrong === gold) wrong = gold + 1;
    return { answer: String(wrong), reasoning: `Plugging in the figures gives ${wrong}.` };
  }
  return { answer: "unknown", reasoning: "The evidence is not conclusive." };
}

/**
 * A calibrated model's stated confidence given its outcome. The model is taken to hold a
 * Beta(3, 1) belief (mean 0.75) about being right; conditioning on the outcome gives
 * Beta(4, 1) when right and Beta(3, 2) when wrong, so confidence is calibrated in
 * expectation (P(right | confidence) = confidence when accuracy is near 0.75) but only
 * weakly separates right from wrong, as real verbalised confidence does. Integer Beta
 * draws are order statistics of uniforms: the k-th smallest of 4.
 */
export function calibratedConfidence(correct: boolean, uniform: (i: number) => number): number {
  const draws = [0, 1, 2, 3].map(uniform).sort((a, b) => a - b);
  return (correct ? draws[3] : draws[2]) as number;
}

/** What {@linkcode addresses} said of each behaviour, per prompt text (bounded). */
const addressedByPrompt = new Map<string, Map<Behaviour, boolean>>();

/**
 * {@linkcode addresses} for one prompt text, remembered: every example of an evaluation
 * carries the same prompt, and the behaviours' regexes (none global, so a test has no
 * state) were a sixth of a target call's CPU in the sim-server.
 */
function addressedIn(promptText: string): (behaviour: Behaviour) => boolean {
  let known = addressedByPrompt.get(promptText);
  if (known === undefined) {
    if (addressedByPrompt.size >= 64) addressedByPrompt.clear();
    addressedByPrompt.set(promptText, known = new Map());
  }
  const memo = known;
  return (behaviour) => {
    let answer = memo.get(behaviour);
    if (answer === undefined) memo.set(behaviour, answer = addresses(promptText, behaviour));
    return answer;
  };
}

/**
 * Decides the target's answer for `ex` under the prompt text `promptText`. Pure and
 * deterministic in its inputs.
 */
export function decideAnswer(
  ex: SimExample,
  promptText: string,
  opts: { seed: number; sampleIndex?: number; structured?: boolean },
): TargetDecision {
  const seed = opts.seed;
  const sample = opts.sampleIndex ?? 0;
  const promptHash = hashString(promptText);
  const addressed = addressedIn(promptText);
  let outcome: TargetDecision["outcome"] = "correct";
  let trap: Trap | undefined;
  let wrong: WrongAnswer | undefined;
  for (const candidate of trapsFor(ex)) {
    const rate = candidate.trap.taskRates?.[ex.task] ?? candidate.trap.rate;
    if (unit(seed, "susceptible", candidate.trap.id, ex.id) >= rate) continue;
    if (addressed(candidate.trap)) continue;
    outcome = "trap";
    trap = candidate.trap;
    wrong = candidate.wrong;
    break;
  }
  if (outcome === "correct") {
    let u = unit(seed, "base", ex.id, sample);
    if (unit(seed, "reroll", ex.id, promptHash, sample) < REROLL_RATE) {
      u = unit(seed, "base-rerolled", ex.id, promptHash, sample);
    }
    const base = ex.served !== undefined ? SERVED_BASE_ACCURACY : BASE_ACCURACY[ex.task] ?? 0.75;
    if (u >= base) {
      outcome = "slip";
      wrong = slipAnswer(ex, seed);
    }
  }
  const correct = outcome === "correct";
  const c = unit(seed, "confidence", ex.id, promptHash, sample);
  const confidence = addressed(CALIBRATION)
    ? calibratedConfidence(correct, (i) => unit(seed, "calibrated", i, ex.id, promptHash, sample))
    : 0.88 + 0.11 * c;
  let formatRate = addressed(JSON_ONLY) ? FORMAT_ERROR_RATE_JSON_ONLY : FORMAT_ERROR_RATE;
  if (opts.structured === true) formatRate *= STRUCTURED_OUTPUT_FACTOR;
  const formatError = unit(seed, "format", ex.id, promptHash, sample) < formatRate;
  const answer = correct ? correctForm(ex) : (wrong as WrongAnswer).answer;
  const reasoning = correct
    ? `Working from the ${
      ex.context === undefined ? "problem statement" : "context"
    } step by step, the answer is ${answer}.`
    : (wrong as WrongAnswer).reasoning;
  return {
    outcome,
    trap,
    answer,
    reasoning: `[simulated] ${reasoning}`,
    confidence: Math.round(confidence * 100) / 100,
    formatError,
  };
}

/** The reasoning field the request asks for: from the output schema, else the prompt. */
export function reasoningFieldOf(request: ChatRequest): string {
  const props = request.outputSchema?.schema.properties;
  if (props !== null && typeof props === "object") {
    const key = Object.keys(props).find((k) => k !== "answer" && k !== "confidence");
    if (key !== undefined) return key;
  }
  const text = request.messages.map((m) => m.content).join("\n");
  return /"justification"/.test(text) ? "justification" : "reasoning";
}

/** The raw text the target emits for a decision (valid JSON unless a format error). */
export function renderTargetText(
  decision: TargetDecision,
  reasoningField: string,
  seed: number,
  exampleId: string,
): string {
  const body = {
    [reasoningField]: decision.reasoning,
    answer: decision.answer,
    confidence: decision.confidence,
  };
  if (!decision.formatError) return JSON.stringify(body);
  const kind = Math.floor(unit(seed, "format-kind", exampleId) * 3);
  if (kind === 0) {
    return `${decision.reasoning}\n\nFinal answer: ${decision.answer}\nConfidence: very high`;
  }
  if (kind === 1) {
    return JSON.stringify({ ...body, confidence: `${Math.round(decision.confidence * 100)}%` });
  }
  const full = JSON.stringify(body);
  return full.slice(0, Math.max(10, full.length - 12));
}

/** The answer for a conversation the simulator cannot place: honest, and unhelpful. */
export function unknownExampleText(reasoningField: string): string {
  return JSON.stringify({
    [reasoningField]:
      "[simulated] The simulated target does not know this example, so it cannot answer it.",
    answer: "unknown",
    confidence: 0.1,
  });
}
