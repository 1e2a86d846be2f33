/**
 * The traps that let the simulator serve any task with gold answers (a user's own task):
 * failures that do not depend on what the task is about, each addressed by an instruction in
 * the prompt in any of several phrasings, as the bundled tasks' traps are:
 *
 * - the answer wrapped in a sentence ("The answer is Paris.");
 * - extra words around it (hedges such as "approximately 42", "Paris (I think)");
 * - a unit written into a numeric answer ("2500 grams");
 * - the letter case changed ("PARIS");
 * - an answer not checked against the question (a plausible wrong value, or another
 *   question's answer).
 *
 * A trap catches an example only when the task's own scorer refuses its wrong answer
 * (`served.accepts`), so a case-insensitive task never shows a casing failure. The two
 * behaviours of every task, overconfidence and broken JSON, are in `traps.ts`.
 *
 * @module
 */
import { hashUnit } from "../util/random.ts";
import { GENERIC_TASK, type Trap, type WrongAnswer } from "./behaviour.ts";
import type { SimExample } from "./examples.ts";

/** A gold answer read as a number (commas, `$`, `%` and spaces ignored), else undefined. */
export function goldAsNumber(answer: string): number | undefined {
  const cleaned = answer.trim().replace(/[$,%\s]/g, "");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

function pick<T>(items: readonly T[], ...key: (string | number)[]): T {
  return items[Math.floor(hashUnit(...key) * items.length)] as T;
}

const NOT_UNITS = new Set([
  "are",
  "is",
  "was",
  "were",
  "times",
  "do",
  "does",
  "did",
  "the",
  "a",
  "an",
  "of",
  "it",
  "them",
]);

/** The unit a question asks its number in ("How many grams ...", "... to metres?"), if any. */
export function unitAsked(question: string): string | undefined {
  const patterns = [
    /\bhow many ([A-Za-z]+)\b/i,
    /\b(?:in|into|to|as) ([A-Za-z]+)\s*[?.!]?\s*$/i,
    /\bnumber of ([A-Za-z]+)\b/i,
  ];
  for (const re of patterns) {
    const word = re.exec(question.trim())?.[1]?.toLowerCase();
    if (word !== undefined && !NOT_UNITS.has(word) && word.length > 1) return word;
  }
  return undefined;
}

/** Keeps a trap's wrong answer only when the task's scorer does not give it full credit. */
function refused(ex: SimExample, wrong: WrongAnswer): WrongAnswer | undefined {
  return ex.served !== undefined && ex.served.accepts(wrong.answer) ? undefined : wrong;
}

const sentence: Trap = {
  id: "generic.sentence",
  tasks: [GENERIC_TASK],
  rate: 0.3,
  topic: "Answer wrapped in a sentence",
  description:
    'The answer field holds a whole sentence ("The answer is ...") instead of the bare answer.',
  fixes: [
    /\b(no|not an?|never an?|without an?|instead of an?) (full |complete |whole )?sentences?\b/i,
    /\b(bare|plain) (answer|value|result)\b/i,
    /\b(do not|don't|never) (restate|repeat) the question\b/i,
    /\b(only|just) the (final )?(answer|value|result) itself\b/i,
  ],
  vocabulary: /sentence|restat|wrapped in|wraps the answer|prose around/i,
  // No "answer" in the labels: the wrapped reply itself says it, so the critique's label check
  // would strip it as one of the example's own words.
  labels: [
    "Reply wrapped in a sentence",
    "Full sentence instead of value",
    "Restates the question in prose",
  ],
  definitions: [
    'The answer field holds a whole sentence ("The answer is ...") instead of the bare answer, so it does not match.',
    "The model restates the question in a full sentence around the answer rather than giving the answer alone.",
    "Instead of the value itself, the answer is wrapped in a sentence of prose around it.",
  ],
  instructions: [
    'Write only the answer itself in the answer field, never a full sentence such as "The answer is ...".',
    "The answer field holds the bare answer: do not restate the question or wrap it in a sentence.",
  ],
  weakInstructions: ["Make the answer easy to read."],
  wrong(ex) {
    if (ex.answer.trim().split(/\s+/).length > 8) return undefined;
    const answer = `The answer is ${ex.answer.trim()}.`;
    return refused(ex, { answer, reasoning: `Putting it together, the answer is ${ex.answer}.` });
  },
};

const hedged: Trap = {
  id: "generic.extra_words",
  tasks: [GENERIC_TASK],
  rate: 0.3,
  topic: "Hedges and extra words around the answer",
  description:
    'The answer carries extra words besides the answer itself: a hedge such as "approximately" or "I think".',
  fixes: [
    /\b(no|without|never add|do not add|don't add)\b.{0,20}\b(hedg\w*|extra words|additional words|filler)\b/i,
    /\bnothing (else )?(but|except|besides) the answer\b/i,
    /\b(omit|drop|leave out|remove) (any |all )?(hedges?|hedging|filler words?)\b/i,
  ],
  vocabulary: /hedg|extra words|filler|additional words|besides the answer/i,
  labels: [
    "Hedged answer",
    "Answer with hedging words",
    "Extra words around answer",
    "Filler words added to answer",
  ],
  definitions: [
    'The answer carries a hedge such as "approximately" or "I think" around the answer, so it does not match.',
    "Extra words besides the answer itself are written into the answer field.",
    "The model adds filler or hedging words to an otherwise correct answer.",
  ],
  instructions: [
    'Give nothing but the answer: no hedges such as "approximately" or "I think", and no extra words.',
    "Leave out hedging: the answer field holds the answer and no additional words.",
  ],
  weakInstructions: ["Answer clearly."],
  wrong(ex) {
    const gold = ex.answer.trim();
    const numeric = goldAsNumber(gold) !== undefined;
    const answer = numeric
      ? `${pick(["approximately", "about", "roughly"], "hedge", ex.id)} ${gold}`
      : `${gold} ${pick(["(I think)", "(most likely)", "probably"], "hedge", ex.id)}`;
    return refused(ex, { answer, reasoning: `It should be ${gold}, give or take.` });
  },
};

const unitInAnswer: Trap = {
  id: "generic.units",
  tasks: [GENERIC_TASK],
  rate: 0.35,
  topic: "Unit written into a numeric answer",
  description:
    "A numeric answer is written with its unit name (2500 grams) where the number alone is expected.",
  fixes: [
    /\b(no|without|omit|drop|leave out|never (add|include|write))\b.{0,25}\bunits?\b/i,
    /\b(number|numeral|numeric value|digits) only\b/i,
    /\b(only|just) the (number|numeral|numeric value)\b/i,
    /\bbare number\b/i,
  ],
  vocabulary: /\bunit\b|unit (name|word|symbol)|measure word|number alone/i,
  labels: [
    "Unit name in numeric answer",
    "Number given with its unit",
    "Measure word added to number",
  ],
  definitions: [
    "The numeric answer is followed by a unit name, so it is not the number alone that is expected.",
    "The answer writes the unit after the number instead of giving the bare value.",
    "A measure word is appended to the number, which the expected answer does not have.",
  ],
  instructions: [
    "For numeric answers, write only the number in the answer field, without units (2500, not 2500 grams).",
    "The answer must be a bare number: leave out unit names and symbols.",
  ],
  weakInstructions: ["Take care with numeric answers."],
  wrong(ex) {
    const gold = ex.answer.trim();
    const unit = unitAsked(ex.question);
    if (goldAsNumber(gold) === undefined || unit === undefined) return undefined;
    return refused(ex, { answer: `${gold} ${unit}`, reasoning: `That comes to ${gold} ${unit}.` });
  },
};

const casing: Trap = {
  id: "generic.casing",
  tasks: [GENERIC_TASK],
  rate: 0.35,
  topic: "Letter case changed",
  description:
    "The answer has the right words in the wrong letter case (all capitals or all lower case).",
  fixes: [
    /\b(capitali[sz]ation|letter case|casing)\b.{0,40}\b(exactly|as (given|written|spelled)|unchanged|usual|standard|normal)/i,
    /\b(standard|usual|normal|proper|original) (capitali[sz]ation|letter case|casing)\b/i,
    /\bcase[- ]sensitive\b/i,
    /\b(do not|don't|never) (write|use|answer) in (all )?(upper|lower)[- ]?case\b/i,
  ],
  vocabulary: /capitali[sz]|letter case|casing|upper[- ]?case|lower[- ]?case|all capitals/i,
  labels: [
    "Wrong letter case",
    "Answer in all capitals",
    "Capitalization not preserved",
  ],
  definitions: [
    "The answer has the right words but in the wrong letter case, which the case-sensitive check refuses.",
    "The answer is written in all capitals or all lower case instead of its usual capitalization.",
    "Capitalization of the answer differs from the expected spelling.",
  ],
  instructions: [
    "Write the answer with its standard capitalization, exactly as it is normally spelled (Paris, not PARIS or paris).",
    "Answers are case-sensitive: keep the usual letter case of names and words.",
  ],
  weakInstructions: ["Spell the answer correctly."],
  wrong(ex) {
    const gold = ex.answer.trim();
    if (!/\p{L}/u.test(gold)) return undefined;
    const answer = gold.toUpperCase() !== gold ? gold.toUpperCase() : gold.toLowerCase();
    if (answer === gold) return undefined;
    return refused(ex, { answer, reasoning: `The answer is ${answer}.` });
  },
};

/** A plausible wrong answer that a check against the question would catch. */
function uncheckedAnswer(ex: SimExample): WrongAnswer | undefined {
  const gold = ex.answer.trim();
  const n = goldAsNumber(gold);
  if (n !== undefined) {
    const u = hashUnit("unchecked", ex.id);
    const factor = 1 + (0.1 + 0.2 * u) * (hashUnit("unchecked-sign", ex.id) < 0.5 ? -1 : 1);
    let wrong = Math.round(n * factor * 100) / 100;
    if (wrong === n) wrong = n + 1;
    return { answer: String(wrong), reasoning: `A quick estimate gives ${wrong}.` };
  }
  const others = ex.served?.others ?? [];
  if (others.length === 0) return undefined;
  const other = pick(others, "unchecked-other", ex.id);
  return { answer: other, reasoning: `This looks like the case where the answer is ${other}.` };
}

const unchecked: Trap = {
  id: "generic.unchecked",
  tasks: [GENERIC_TASK],
  rate: 0.25,
  topic: "Answer not checked against the question",
  description:
    "A plausible but wrong answer is given without checking it against what the question asks.",
  fixes: [
    /\b(verify|double[- ]check|re-?check|confirm)\b.{0,20}\b(the|your) (final )?(answer|result)\b/i,
    /\b(re-?read|go back to) the question\b/i,
    /\bcheck\b.{0,30}\bagainst the (question|input|context)\b/i,
  ],
  vocabulary: /unchecked|not verified|without checking|verif|re-?check|hasty|rushed/i,
  labels: [
    "Unchecked final answer",
    "Hasty answer, not verified",
    "Rushed to a wrong answer",
  ],
  definitions: [
    "The answer was not checked against the question; a quick recheck would have caught the wrong value.",
    "The model commits to the first plausible answer without verifying it against what was asked.",
    "A hasty answer is given without checking it, so an avoidable wrong value gets through.",
  ],
  instructions: [
    "Before you reply, verify the answer against the question: re-read it and confirm the answer is what it asks for.",
    "Double-check your final answer by going back to the question and recomputing it.",
  ],
  weakInstructions: ["Think carefully."],
  wrong(ex) {
    const wrong = uncheckedAnswer(ex);
    return wrong === undefined ? undefined : refused(ex, wrong);
  },
};

/** The generic traps, in the order the target falls into them. */
export const GENERIC_TRAPS: readonly Trap[] = [casing, sentence, hedged, unitInAnswer, unchecked];
