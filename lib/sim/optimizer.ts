/**
 * The simulated optimizer. It speaks the revision-loop protocol (CONTRACTS) the way a real
 * model does through function calling:
 *
 * 1. with no `diagnose` result in the conversation yet (or when told "You must call the
 *    diagnose tool"), it calls the `diagnose` tool with empty arguments (current prompt);
 * 2. given the tool result `{report, memory, warnings}`, it reads the retained topics (most
 *    prevalent first), maps each to a behaviour through the critic's vocabulary, and patches
 *    the prompt with an instruction for the most prevalent topic the prompt does not address
 *    yet (then format errors and overconfidence from the metrics);
 * 3. a first edit for a topic is sometimes a vague, ineffective instruction; its rationale
 *    carries a `[sim-edit <id>#<n>]` tag, so with memory of past patches the next attempt
 *    replaces it with a specific one; without that memory the topic looks handled (its
 *    rule is in the prompt) and is passed over, so the trap persists;
 * 4. overconfidence is addressed only when the controller instructions (system message)
 *    name calibration or Brier as a goal, and after every answer-changing topic;
 * 5. it stops when memory shows no improvement for {@linkcode PLATEAU_STEPS} steps, or when
 *    nothing is left to address; after `Patch rejected:` it rephrases (or shortens), and
 *    stops after three rejections.
 *
 * Every rationale and stop reason starts with `[simulated]`.
 *
 * @module
 */
import type { ChatMessage } from "../llm/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import { PATCH_REJECTED_PREFIX, readMemoryMessage, readPromptBlock } from "../protocol_names.ts";
import type { Decision } from "../run/schema.ts";
import { hashUnit } from "../util/random.ts";
import {
  addresses,
  BASE_ERROR,
  type Behaviour,
  BEHAVIOURS,
  CALIBRATION,
  classifyText,
  JSON_ONLY,
} from "./traps.ts";

/** Non-improving steps (per memory) after which the optimizer stops. */
export const PLATEAU_STEPS = 3;
/** Probability that the first edit for a topic is a weak, ineffective one. */
export const WEAK_EDIT_RATE = 0.3;

const TAG = /\[sim-edit ([\w.]+)#(\d+)\]/g;

interface TopicView {
  name: string;
  description: string;
  examples: string[];
  prevalence?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Depth-first search for the first value under a key matching `key`. */
function findKey(value: unknown, key: RegExp, depth = 0): unknown {
  if (depth > 8) return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = findKey(v, key, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  for (const [k, v] of Object.entries(value)) if (key.test(k)) return v;
  for (const v of Object.values(value)) {
    const found = findKey(v, key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function topicsOf(report: unknown): TopicView[] {
  const raw = findKey(report, /^(failure_)?topics$/);
  if (!Array.isArray(raw)) return [];
  const topics = raw.filter(isRecord).map((t) => ({
    name: String(t.name ?? ""),
    description: String(t.description ?? ""),
    examples: Array.isArray(t.examples) ? t.examples.map(String) : [],
    prevalence: typeof t.prevalence === "number" ? t.prevalence : undefined,
  }));
  // Stable sort: without prevalences the report's own order (most prevalent first) stays.
  return topics.sort((a, b) => (b.prevalence ?? 0) - (a.prevalence ?? 0));
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * The non-improving streak: the memory's own streak field (lib/revise/memory.ts writes
 * `current_summary.non_improving_streak` in `history_summary` and `last_report` modes), else
 * counted over the reports' scores followed by the current score (unless the reports end
 * with the current one, as in `all_reports`).
 */
export function plateauStreak(
  memory: unknown,
  currentScore?: number,
  currentIteration?: number,
): number {
  const explicit = num(findKey(memory, /streak/i));
  if (explicit !== undefined) return explicit;
  const scores: number[] = [];
  let lastIteration: number | undefined;
  const walk = (v: unknown, depth: number): void => {
    if (depth > 6) return;
    if (Array.isArray(v)) {
      for (const item of v) {
        const metrics = isRecord(item) ? item.metrics : undefined;
        const score = isRecord(metrics) ? num(metrics.score) : undefined;
        if (score !== undefined) {
          scores.push(score);
          lastIteration = isRecord(item) ? num(item.iteration) : undefined;
        } else walk(item, depth + 1);
      }
    } else if (isRecord(v)) { for (const x of Object.values(v)) walk(x, depth + 1); }
  };
  walk(memory, 0);
  const shown = currentIteration !== undefined && lastIteration === currentIteration;
  if (currentScore !== undefined && !shown) scores.push(currentScore);
  let best = -Infinity;
  let streak = 0;
  for (const s of scores) {
    if (s > best + 1e-9) {
      best = s;
      streak = 0;
    } else streak++;
  }
  return streak;
}

/** Past edit attempts per behaviour, from the `[sim-edit id#n]` tags memory carries. */
export function pastAttempts(memory: unknown): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of JSON.stringify(memory ?? null).matchAll(TAG)) {
    const id = m[1] as string;
    out.set(id, Math.max(out.get(id) ?? 0, Number(m[2])));
  }
  return out;
}

/** The prompt program in the user message's ```json block (or the report's). */
export function currentPrompt(messages: ChatMessage[], report: unknown): PromptProgram {
  for (const m of messages) {
    if (m.role !== "user") continue;
    const v = readPromptBlock(m.content);
    if (isRecord(v) && typeof v.instruction === "string") {
      return { ...v, system: String(v.system ?? ""), instruction: v.instruction } as PromptProgram;
    }
  }
  // No block in the conversation: the report's copy.
  const p = findKey(report, /^prompt$/);
  if (isRecord(p) && typeof p.instruction === "string") {
    return { system: String(p.system ?? ""), instruction: p.instruction };
  }
  return { system: "", instruction: "" };
}

/** The memory payload of the last memory user message, if any. */
export function memoryFromMessages(messages: ChatMessage[]): unknown {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role !== "user") continue;
    const payload = readMemoryMessage(m.content);
    if (payload !== undefined) return payload;
  }
  return undefined;
}

/** The parsed content of the last `diagnose` tool result, if any. */
export function lastToolResult(messages: ChatMessage[]): unknown {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role !== "tool") continue;
    try {
      return JSON.parse(m.content);
    } catch {
      return { error: m.content };
    }
  }
  return undefined;
}

/** Inserts `rule` before the line stating the JSON output contract (else at the end). */
export function insertRule(
  instruction: string,
  rule: string,
  remove: readonly string[] = [],
): string {
  const lines = instruction.split("\n").filter((l) => !remove.includes(l.trim()));
  // Keep the output contract last: new rules go before the line that states it.
  let at = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/\bjson\b/i.test(lines[i] as string) && /confidence/i.test(lines[i] as string)) {
      at = i;
      break;
    }
  }
  lines.splice(at, 0, rule);
  return lines.join("\n");
}

interface Choice {
  behaviour: Behaviour;
  reason: string;
}

function chooseTarget(
  topics: TopicView[],
  metrics: Record<string, unknown>,
  promptText: string,
  skipped: Set<string>,
  calibrationGoal: boolean,
): Choice | undefined {
  // Confidence is only worth an edit when the controller names calibration as a goal.
  const skip = calibrationGoal ? skipped : new Set([...skipped, CALIBRATION.id]);
  // Task score first, calibration second (the controller's goal): a confidence topic is
  // taken only when no answer-changing topic is left.
  const mapped = topics.map((t) => ({
    t,
    b: classifyText(`${t.name}: ${t.description} ${t.examples.join(" ")}`),
  }));
  const ordered = [
    ...mapped.filter((m) => m.b !== CALIBRATION),
    ...mapped.filter((m) => m.b === CALIBRATION),
  ];
  for (const { t, b } of ordered) {
    if (b === undefined || b === BASE_ERROR || skip.has(b.id) || addresses(promptText, b)) continue;
    const share = t.prevalence === undefined ? "" : ` (prevalence ${t.prevalence.toFixed(2)})`;
    return { behaviour: b, reason: `topic "${t.name}"${share} is the most prevalent failure` };
  }
  const formatRate = num(metrics.formatErrorRate) ?? 0;
  if (formatRate >= 0.04 && !skip.has(JSON_ONLY.id) && !addresses(promptText, JSON_ONLY)) {
    return {
      behaviour: JSON_ONLY,
      reason: `the format-error rate is ${(formatRate * 100).toFixed(0)}%`,
    };
  }
  const conf = num(metrics.avgConfidence);
  const score = num(metrics.score);
  if (
    conf !== undefined && score !== undefined && conf - score >= 0.15 &&
    !skip.has(CALIBRATION.id) && !addresses(promptText, CALIBRATION)
  ) {
    return {
      behaviour: CALIBRATION,
      reason: `average confidence ${conf.toFixed(2)} exceeds the score ${score.toFixed(2)}`,
    };
  }
  return undefined;
}

/** Options of {@linkcode decide}. */
export interface DecideOptions {
  seed: number;
  /** Behaviours to skip (after a rejection of an edit for them). */
  skip?: Set<string>;
  /** Drop earlier weak lines and keep the patch short (after a length rejection). */
  shorten?: boolean;
}

/**
 * The optimizer's decision for a conversation that holds a `diagnose` result.
 */
export function decide(messages: ChatMessage[], opts: DecideOptions): Decision {
  const result = lastToolResult(messages);
  const report = isRecord(result) && result.report !== undefined ? result.report : result;
  // Memory rides in the tool result, or in a user message after it (the reference's way).
  const memory = isRecord(result) && result.memory !== undefined
    ? result.memory
    : memoryFromMessages(messages);
  const prompt = currentPrompt(messages, report);
  const promptText = `${prompt.system}\n${prompt.instruction}`;
  const metricsRaw = findKey(report, /^metrics$/);
  const metrics = isRecord(metricsRaw) ? metricsRaw : {};
  const iteration = isRecord(report) ? num(report.iteration) : undefined;
  const streak = plateauStreak(memory, num(metrics.score), iteration);
  if (streak >= PLATEAU_STEPS) {
    return {
      action: "stop",
      stop_reason:
        `[simulated] Plateau: memory shows no improvement for ${streak} steps, so further edits are unlikely to help.`,
    };
  }
  const controller = messages.filter((m) => m.role === "system").map((m) => m.content).join("\n");
  // Without memory of an earlier attempt, a topic whose (weak) rule is already in the
  // prompt looks handled, so the next topic is taken: that is why memory matters.
  const attempts = pastAttempts(memory);
  const skip = new Set(opts.skip ?? []);
  let choice: Choice | undefined;
  let previous = 0;
  for (;;) {
    choice = chooseTarget(
      topicsOf(report),
      metrics,
      promptText,
      skip,
      /brier|calibrat/i.test(controller),
    );
    if (choice === undefined) break;
    const b = choice.behaviour;
    const weakPresent = b.weakInstructions.some((w) => prompt.instruction.includes(w));
    previous = attempts.get(b.id) ?? 0;
    if (!weakPresent || previous > 0) break;
    skip.add(b.id);
  }
  if (choice === undefined) {
    return {
      action: "stop",
      stop_reason:
        "[simulated] No retained failure topic is left that the prompt does not already address.",
    };
  }
  const b = choice.behaviour;
  const weak = previous === 0 && hashUnit(opts.seed, "weak-edit", b.id) < WEAK_EDIT_RATE &&
    b.weakInstructions.length > 0 && opts.shorten !== true;
  const pool = weak ? b.weakInstructions : b.instructions;
  const rule = pool[Math.floor(hashUnit(opts.seed, "phrasing", b.id, previous) * pool.length)] ??
    b.instructions[0] ?? "";
  const remove = opts.shorten === true
    ? BEHAVIOURS.flatMap((x) => x.weakInstructions)
    : b.weakInstructions;
  const instruction = insertRule(prompt.instruction, rule, remove);
  const retry = previous > 0
    ? " An earlier edit for it did not remove it, so the instruction is replaced by a more specific one."
    : "";
  return {
    action: "patch",
    patch: {
      instruction,
      rationale: `[simulated] ${choice.reason[0]?.toUpperCase()}${
        choice.reason.slice(1)
      } not yet addressed by the prompt; added: "${rule}".${retry} [sim-edit ${b.id}#${
        previous + 1
      }]`,
    },
  };
}

/** How to react to the conversation's rejections: how many, and what they ask for. */
export function rejections(messages: ChatMessage[]): { count: number; last?: string } {
  const rejected = messages.filter((m) =>
    m.role === "user" && m.content.startsWith(PATCH_REJECTED_PREFIX)
  );
  return { count: rejected.length, last: rejected.at(-1)?.content };
}

/**
 * The decision after `Patch rejected:` messages: shorten on a length complaint, otherwise
 * skip the rejected edit's behaviour and take the next topic; stop after three rejections.
 */
export function decideAfterRejection(messages: ChatMessage[], seed: number): Decision {
  const { count, last } = rejections(messages);
  if (count >= 3) {
    return {
      action: "stop",
      stop_reason: `[simulated] The patch was rejected ${count} times (last: ${
        (last ?? "").slice(0, 160)
      }).`,
    };
  }
  const skip = new Set<string>();
  for (const m of messages) {
    if (m.role !== "assistant") continue;
    for (const t of m.content.matchAll(TAG)) skip.add(t[1] as string);
  }
  const shorten = /long|length|char|cap|size/i.test(last ?? "");
  return decide(messages, { seed, skip: shorten ? new Set() : skip, shorten });
}
