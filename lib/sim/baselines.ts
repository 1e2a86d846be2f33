/**
 * The simulator's answers to the baselines' LLM steps (lib/baselines/), recognised by
 * `outputSchema.name`:
 *
 * - `gepa_reflection` → `{new_text}`: the component's text with a rule for the most
 *   frequent failure in the feedback that the text does not address yet (answer-changing
 *   failures first; a confidence-aware request, which states the examples' calibration,
 *   counts every overconfident answer as a calibration failure ranked with the others);
 * - `mipro_dataset_summary` → `{summary}`: the task's recurring traps whose vocabulary the
 *   sampled examples show;
 * - `mipro_instructions` → `{instruction}`: the current instruction with one or two rules
 *   for traps drawn (by proposal and tip) from those the summary names;
 * - `ace_reflection` → `{reasoning, error_identification, root_cause_analysis,
 *   correct_approach, key_insight, bullet_tags}`: the trap behind a wrong answer (from the
 *   answer's relation to the gold answer, else the critic vocabulary), its rule as the key
 *   insight, and `harmful` tags for bullets that were meant to prevent it;
 * - `ace_curation` → `{reasoning, operations}`: ADD a bullet per new insight, UPDATE a
 *   weak bullet that kept failing, nothing for insights a bullet already covers.
 *
 * Rules are the phrasings of `traps.ts`, effective ones and (at the optimizer's weak-edit
 * rate) vague ones, so simulated baselines improve the way RPT's simulated optimizer does,
 * from what their own protocol shows them. Every free-text field says `[simulated]`.
 *
 * @module
 */
import type { ChatRequest, ChatResponse } from "../llm/schema.ts";
import {
  ACE_CURATION_SCHEMA,
  ACE_REFLECTION_SCHEMA,
  GEPA_CALIBRATION_PREFIX,
  GEPA_CONFIDENCE_PREFIX,
  GEPA_REFLECTION_SCHEMA,
  MIPRO_INSTRUCTION_SCHEMA,
  MIPRO_SUMMARY_SCHEMA,
  OVERCONFIDENT,
} from "../protocol_names.ts";
import { hashString, hashUnit } from "../util/random.ts";
import { insertRule, WEAK_EDIT_RATE } from "./optimizer.ts";
import { simResponse } from "./respond.ts";
import {
  addresses,
  BASE_ERROR,
  type Behaviour,
  CALIBRATION,
  classifyText,
  JSON_ONLY,
  TRAPS,
} from "./traps.ts";

/** Options of {@linkcode answerBaselineRequest}. */
export interface BaselineAnswerOptions {
  /** Seed of the simulated choices (default 0). */
  seed?: number;
  /** Model name in the response (default `sim-optimizer`). */
  model?: string;
}

function respond(request: ChatRequest, model: string, parsed: unknown): ChatResponse {
  return simResponse(model, request, { parsed });
}

function userText(request: ChatRequest): string {
  return request.messages.filter((m) => m.role === "user").map((m) => m.content).join("\n");
}

function field(text: string, label: string): string {
  const m = new RegExp(`^${label}:[ \\t]*(.*)$`, "m").exec(text);
  return m?.[1]?.trim() ?? "";
}

function fenced(text: string, label: string): string {
  const m = new RegExp(`${label}:\\n\`\`\`\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  return m?.[1] ?? "";
}

/** The behaviours a task can show: its traps, then broken JSON and overconfidence. */
export function taskBehaviours(task: string): Behaviour[] {
  const traps = TRAPS.filter((t) => t.tasks.includes(task));
  return [...traps, JSON_ONLY, CALIBRATION];
}

function byId(id: string): Behaviour | undefined {
  return [...TRAPS, JSON_ONLY, CALIBRATION].find((b) => b.id === id);
}

/** A rule for `b`: vague at the weak-edit rate (unless already tried), else effective. */
function ruleFor(b: Behaviour, seed: number, salt: string, text: string): string {
  const weakTried = b.weakInstructions.some((w) => text.includes(w));
  const weak = !weakTried && b.weakInstructions.length > 0 &&
    hashUnit(seed, "baseline-weak", b.id, salt) < WEAK_EDIT_RATE;
  const pool = weak || b.instructions.length === 0 ? b.weakInstructions : b.instructions;
  return pool[Math.floor(hashUnit(seed, "baseline-phrase", b.id, salt) * pool.length)] ?? "";
}

function relevant(b: Behaviour | undefined, task: string): b is Behaviour {
  if (b === undefined || b === BASE_ERROR) return false;
  return task === "" || taskBehaviours(task).includes(b);
}

// ---------------------------------------------------------------------------------------------
// GEPA

function gepaReflection(request: ChatRequest, seed: number): unknown {
  const text = userText(request);
  const task = field(text, "Task");
  const component = field(text, "Prompt component");
  const current = fenced(text, "Current text");
  const section = text.split("Examples with feedback:")[1] ?? "";
  const calibrationAware = text.includes(GEPA_CALIBRATION_PREFIX);
  const overconfident = new RegExp(`^${GEPA_CONFIDENCE_PREFIX} .*${OVERCONFIDENT}$`, "m");
  const counts = new Map<Behaviour, number>();
  for (const chunk of section.split(/^### Example \d+$/m).slice(1)) {
    const found: (Behaviour | undefined)[] = [];
    if (calibrationAware && overconfident.test(chunk)) found.push(CALIBRATION);
    if (/not full credit/.test(chunk)) {
      // The diagnoses name the failure; the raw output would match "confidence" every time.
      found.push(
        ...(/^Format error:/m.test(chunk)
          ? [JSON_ONLY]
          : [...chunk.matchAll(/^Diagnosis: (.*)$/gm)].map((m) => classifyText(m[1] as string))),
      );
    }
    for (const b of new Set(found)) {
      if (!relevant(b, task) || addresses(current, b)) continue;
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
  }
  // Plain GEPA keeps a child only for a higher minibatch score, which a confidence rule
  // cannot bring: answer-changing failures first. The confidence-aware objective rewards it.
  const last = (b: Behaviour) => !calibrationAware && b === CALIBRATION;
  const ranked = [...counts].sort((a, b) => Number(last(a[0])) - Number(last(b[0])) || b[1] - a[1]);
  const chosen = ranked[0]?.[0];
  if (chosen === undefined) return { new_text: current };
  const salt = `${component}:${hashString(current)}`;
  const rule = ruleFor(chosen, seed, salt, current);
  const newText = component === "system"
    ? `${current.trimEnd()} ${rule}`.trim()
    : insertRule(current, rule, chosen.weakInstructions);
  return { new_text: newText };
}

// ---------------------------------------------------------------------------------------------
// MIPRO

function datasetSummary(request: ChatRequest): unknown {
  const text = userText(request);
  const task = field(text, "Task");
  const seen = taskBehaviours(task).filter((b) =>
    b !== JSON_ONLY && b !== CALIBRATION && b.vocabulary.test(text)
  );
  const traps = seen.length > 0 ? seen : taskBehaviours(task).filter((b) => b !== CALIBRATION);
  return {
    summary: `[simulated] ${task} questions with short answers. Recurring things to watch: ` +
      traps.map((b) => `${b.topic} (${b.description})`).join("; "),
  };
}

function miproInstruction(request: ChatRequest, seed: number): unknown {
  const text = userText(request);
  const task = field(text, "Task");
  const summary = field(text, "Dataset summary");
  const tip = field(text, "Tip");
  const index = field(text, "Proposal");
  let instruction = fenced(text, "Current instruction");
  const named = taskBehaviours(task).filter((b) => summary.includes(b.topic));
  const pool = named.length > 0 ? named : taskBehaviours(task).filter((b) => b !== CALIBRATION);
  const n = hashUnit(seed, "mipro-rules", index, tip) < 0.4 ? 2 : 1;
  const start = Math.floor(hashUnit(seed, "mipro-pick", index, tip) * pool.length);
  for (let i = 0; i < Math.min(n, pool.length); i++) {
    const b = pool[(start + i) % pool.length] as Behaviour;
    instruction = insertRule(instruction, ruleFor(b, seed, `mipro:${index}:${tip}`, instruction));
  }
  return { instruction };
}

// ---------------------------------------------------------------------------------------------
// ACE

const NUMERIC_RELATIONS: { id: string; test: (answer: number, gold: number) => boolean }[] = [
  {
    id: "numeric.scale_words",
    test: (a, g) => [1e3, 1e6, 1e9].some((s) => Math.abs(a * s - g) <= 1e-6 * Math.abs(g)),
  },
  {
    id: "numeric.percent_fraction",
    test: (a, g) => Math.abs(a * 100 - g) <= 1e-6 * Math.abs(g) || Math.abs(a - g * 100) <= 1e-6,
  },
  { id: "numeric.rounding", test: (a, g) => a !== g && String(a).startsWith(String(g)) },
];

/** The behaviour behind a wrong answer, from its relation to the gold answer or its words. */
function diagnoseWrong(text: string, task: string): Behaviour | undefined {
  if (/^Format error:/m.test(text) || /unparseable output/.test(text)) return JSON_ONLY;
  const answer = Number(field(text, "Model answer").replaceAll(",", ""));
  const gold = Number(field(text, "Gold answer").replaceAll(",", ""));
  if (Number.isFinite(answer) && Number.isFinite(gold) && gold !== 0) {
    for (const r of NUMERIC_RELATIONS) {
      const b = byId(r.id);
      if (r.test(answer, gold) && relevant(b, task)) return b;
    }
  }
  const own = [field(text, "Model reasoning"), field(text, "Model answer")].join("\n");
  const fromOwn = classifyText(own);
  if (relevant(fromOwn, task) && fromOwn !== CALIBRATION) return fromOwn;
  const whole = classifyText(text.split(/^Playbook:$/m)[0] ?? text);
  return relevant(whole, task) && whole !== CALIBRATION ? whole : undefined;
}

interface BulletView {
  id: string;
  helpful: number;
  harmful: number;
  content: string;
}

function bulletsOf(text: string): BulletView[] {
  const out: BulletView[] = [];
  for (const m of text.matchAll(/^\[([\w-]+)\] helpful=(\d+) harmful=(\d+) :: (.*)$/gm)) {
    out.push({
      id: m[1] as string,
      helpful: Number(m[2]),
      harmful: Number(m[3]),
      content: m[4] as string,
    });
  }
  return out;
}

function coversWeakly(content: string, b: Behaviour): boolean {
  return b.weakInstructions.includes(content.trim()) || classifyText(content) === b;
}

function aceReflection(request: ChatRequest, seed: number): unknown {
  const text = userText(request);
  const task = field(text, "Task");
  const correct = /^Score: .*\(correct\)$/m.test(text);
  const bullets = bulletsOf(text);
  if (correct) {
    return {
      reasoning: "[simulated] The answer matches the gold answer.",
      error_identification: "",
      root_cause_analysis: "",
      correct_approach: "[simulated] The approach taken was right.",
      key_insight: "",
      bullet_tags: bullets.filter((bl) => {
        const b = classifyText(bl.content);
        return relevant(b, task) && addresses(bl.content, b);
      }).map((bl) => ({ id: bl.id, tag: "helpful" })),
    };
  }
  const b = diagnoseWrong(text, task);
  if (b === undefined) {
    return {
      reasoning: "[simulated] A wrong answer with no recurring cause visible.",
      error_identification: "[simulated] A reasoning slip.",
      root_cause_analysis: "[simulated] One step did not follow from the evidence.",
      correct_approach: "[simulated] Re-check each step against the question.",
      key_insight: BASE_ERROR.weakInstructions[0] ?? "",
      bullet_tags: [],
    };
  }
  const playbookText = bullets.map((bl) => bl.content).join("\n");
  return {
    reasoning: `[simulated] The failure matches "${b.topic}".`,
    error_identification: `[simulated] ${b.topic}.`,
    root_cause_analysis: `[simulated] ${b.description}`,
    correct_approach: `[simulated] ${b.instructions[0] ?? ""}`,
    key_insight: ruleFor(b, seed, `ace:${hashString(playbookText)}`, playbookText),
    bullet_tags: bullets.filter((bl) => coversWeakly(bl.content, b))
      .map((bl) => ({ id: bl.id, tag: "harmful" })),
  };
}

function sectionFor(b: Behaviour): string {
  return b === JSON_ONLY ? "formatting" : b === CALIBRATION ? "confidence" : "common_mistakes";
}

function behaviourOfInsight(insight: string): Behaviour | undefined {
  return [...TRAPS, JSON_ONLY, CALIBRATION].find((b) =>
    b.instructions.includes(insight) || b.weakInstructions.includes(insight)
  ) ?? classifyText(insight);
}

function aceCuration(request: ChatRequest, seed: number): unknown {
  const text = userText(request);
  const bullets = bulletsOf(text);
  const raw = text.split(/^Reflections:$/m)[1] ?? "[]";
  let reflections: { key_insight?: unknown }[] = [];
  try {
    const v = JSON.parse(raw);
    if (Array.isArray(v)) reflections = v;
  } catch {
    reflections = [];
  }
  const operations: Record<string, string>[] = [];
  const handled = new Set<string>();
  for (const r of reflections) {
    const insight = typeof r.key_insight === "string" ? r.key_insight.trim() : "";
    if (insight === "") continue;
    const b = behaviourOfInsight(insight);
    const key = b?.id ?? insight;
    if (handled.has(key)) continue;
    handled.add(key);
    if (b !== undefined && b !== BASE_ERROR) {
      if (bullets.some((bl) => addresses(bl.content, b))) continue;
      const weak = bullets.find((bl) => coversWeakly(bl.content, b) && bl.harmful > 0);
      if (weak !== undefined) {
        const effective = b.instructions[
          Math.floor(
            hashUnit(seed, "ace-fix", b.id) *
              b.instructions.length,
          )
        ];
        if (effective !== undefined) {
          operations.push({ type: "UPDATE", bullet_id: weak.id, content: effective });
        }
        continue;
      }
      operations.push({ type: "ADD", section: sectionFor(b), content: insight });
    } else if (!bullets.some((bl) => bl.content === insight)) {
      operations.push({ type: "ADD", section: "strategies", content: insight });
    }
  }
  return {
    reasoning: `[simulated] ${operations.length} edit(s) from ${reflections.length} reflection(s).`,
    operations,
  };
}

/**
 * The simulated answer to a baseline's request, or undefined when the request is not one
 * of the kinds listed in the module doc (the caller then answers it its own way).
 *
 * @example
 * ```ts
 * import { answerBaselineRequest } from "./baselines.ts";
 * const res = answerBaselineRequest({
 *   messages: [{ role: "user", content: "Task: synthetic\nExamples:\n[1] Question: Revenue of $2.0 million.\n[1] Answer: 2000000" }],
 *   outputSchema: { name: "mipro_dataset_summary", schema: {} },
 * });
 * if (!String((res?.parsed as { summary: string }).summary).includes("Scale words")) throw new Error();
 * ```
 */
export function answerBaselineRequest(
  request: ChatRequest,
  opts: BaselineAnswerOptions = {},
): ChatResponse | undefined {
  const seed = opts.seed ?? 0;
  const model = opts.model ?? "sim-optimizer";
  switch (request.outputSchema?.name) {
    case GEPA_REFLECTION_SCHEMA:
      return respond(request, model, gepaReflection(request, seed));
    case MIPRO_SUMMARY_SCHEMA:
      return respond(request, model, datasetSummary(request));
    case MIPRO_INSTRUCTION_SCHEMA:
      return respond(request, model, miproInstruction(request, seed));
    case ACE_REFLECTION_SCHEMA:
      return respond(request, model, aceReflection(request, seed));
    case ACE_CURATION_SCHEMA:
      return respond(request, model, aceCuration(request, seed));
    default:
      return undefined;
  }
}
