/**
 * The simulator's recurring, prompt-addressable traps. Each trap says which examples it can
 * catch (derived deterministically from the example), which instruction phrasings in the
 * prompt neutralise it (several regexes, so no single magic string), what the wrong answer
 * looks like when the target falls into it, how the simulated critic words it, and which
 * instructions the simulated optimizer writes for it (effective ones, and weak ones that do
 * not neutralise it, so that memory of failed edits matters).
 *
 * Two behaviours apply to every task and are not per-example traps: overconfidence
 * ({@linkcode CALIBRATION}) and broken JSON ({@linkcode JSON_ONLY}). A task the simulator
 * serves from its gold answers (a user's own task) falls into the generic traps of
 * `generic_traps.ts` instead of a bundled task's.
 *
 * @module
 */
import { hashUnit } from "../util/random.ts";
import type { SimExample } from "./examples.ts";
import { type Behaviour, GENERIC_TASK, type Trap, type WrongAnswer } from "./behaviour.ts";
import { GENERIC_TRAPS } from "./generic_traps.ts";

export type { Behaviour, Trap, WrongAnswer } from "./behaviour.ts";
export { addresses } from "./behaviour.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

function norm(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N} ]/gu, " ").replace(/\s+/g, " ").trim();
}

function stripParen(title: string): string {
  return title.replace(/\s*\([^)]*\)\s*$/, "").trim();
}

interface HotpotShape {
  supporting_facts?: { title?: string[] };
  context?: { title?: string[]; sentences?: string[][] };
}

function hotpotRow(ex: SimExample): HotpotShape {
  return ex.row as HotpotShape;
}

function paragraph(ex: SimExample, title: string): string {
  const ctx = hotpotRow(ex).context;
  const i = ctx?.title?.indexOf(title) ?? -1;
  return i < 0 ? "" : (ctx?.sentences?.[i] ?? []).join("");
}

function isYesNo(answer: string): boolean {
  return /^(yes|no)$/i.test(answer.trim());
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "0";
  const rounded = Math.round(n * 10_000) / 10_000;
  return String(rounded);
}

/** The question text without the answer instruction Formula appends to every question. */
function coreQuestion(ex: SimExample): string {
  const i = ex.question.indexOf(" Your answer should be");
  return i < 0 ? ex.question : ex.question.slice(0, i);
}

function goldNumber(ex: SimExample): number | undefined {
  const n = Number(ex.answer.replaceAll(",", "").trim());
  return ex.answer.trim() !== "" && Number.isFinite(n) ? n : undefined;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

// ---------------------------------------------------------------------------------------------
// HotPotQA

const bridgeEntity: Trap = {
  id: "hotpotqa.bridge_entity",
  tasks: ["hotpotqa"],
  rate: 0.3,
  topic: "Answers the intermediate bridge entity",
  description:
    "The answer names the intermediate entity that links the two paragraphs instead of the final entity the question asks about.",
  fixes: [
    /\bbridge\b/i,
    /intermediate (entity|answer|step|hop|link)/i,
    /(final|second|last) hop/i,
    /(resolve|follow|complete) (both|all|every|each) (hops?|steps?|links?)/i,
    /not the (entity|person|thing|place) (you )?(pass through|used|mentioned) (on the way|along the way|to get there)/i,
  ],
  vocabulary:
    /bridge|intermediate entity|intermediate answer|stops? (after|at) the first hop|first hop|linking entity|stopped one hop short/i,
  labels: [
    "Stops at the bridge entity",
    "Answers the intermediate entity",
    "Stopped one hop short",
    "Returns linking entity, not target",
  ],
  definitions: [
    "The answer is the intermediate (bridge) entity that connects the paragraphs, not the entity the question finally asks for.",
    "The model resolves only the first hop of a multi-hop question and reports the bridge entity as the answer.",
    "Instead of following the chain to the final entity, the answer repeats the intermediate entity it passed through.",
  ],
  instructions: [
    "For multi-step questions, first identify the intermediate entity, then answer about the final entity the question asks for, not the intermediate one.",
    "Resolve every hop of the question: the answer is what the question ultimately asks for, never the entity you pass through on the way.",
  ],
  weakInstructions: ["Read the question carefully and make sure you understand what it asks."],
  wrong(ex) {
    if (ex.subtask !== "bridge" || isYesNo(ex.answer)) return undefined;
    const titles = hotpotRow(ex).supporting_facts?.title ?? [];
    const gold = norm(ex.answer);
    for (const title of [...new Set(titles)]) {
      const name = stripParen(title);
      if (norm(name) === gold || norm(name).includes(gold) || gold.includes(norm(name))) continue;
      if (norm(paragraph(ex, title)).includes(gold)) continue;
      return {
        answer: name,
        reasoning:
          `The question describes ${name}, and the context confirms it, so the answer is ${name}.`,
      };
    }
    return undefined;
  },
};

function comparedEntities(ex: SimExample): [string, string] | undefined {
  const m = /(?:,|:)?\s*([^,:?]+?)\s+or\s+([^?]+?)\s*\?\s*$/.exec(ex.question);
  if (m?.[1] !== undefined && m[2] !== undefined) {
    const words = m[1].split(/\s+/);
    // "Which is older, X or Y?": the left side may carry the question's own words.
    const left = m[1].includes(",") ? m[1] : words.slice(-Math.min(words.length, 6)).join(" ");
    return [left.trim(), m[2].trim()];
  }
  const titles = [...new Set(hotpotRow(ex).supporting_facts?.title ?? [])];
  if (titles.length >= 2) return [stripParen(titles[0] as string), stripParen(titles[1] as string)];
  return undefined;
}

const comparisonDirection: Trap = {
  id: "hotpotqa.comparison_direction",
  tasks: ["hotpotqa"],
  rate: 0.6,
  topic: "Reverses the comparison direction",
  description:
    "On comparison questions the answer picks the other entity, because the direction of the comparison (earlier/later, more/fewer) was inverted.",
  fixes: [
    /\bcompar\w*\b.{0,80}\b(direction|criterion|attribute|both values)/i,
    /(check|verify|confirm|make sure)\b.{0,50}\b(direction|which (one|entity|side)|earlier|later|older|younger|larger|smaller)/i,
    /(superlative|comparative) (word|term|question|criterion)/i,
    /(pick|choose|name) the (side|one|entity) the question asks/i,
    /\bboth (entities|candidates|options|items)\b.{0,60}\b(values?|dates?|attributes?)/i,
  ],
  vocabulary: /compar|direction|reversed|inverted|wrong side|other entity|picks the other/i,
  labels: [
    "Reversed comparison direction",
    "Picks the wrong side of comparison",
    "Inverted comparison criterion",
    "Comparison answered backwards",
  ],
  definitions: [
    "When asked which of two entities is more or less of something, the model picks the other entity because it inverted the comparison.",
    "The comparison criterion (earlier/later, older/younger, larger/smaller) is applied in the wrong direction.",
    "Both attributes are found but the model returns the entity on the wrong side of the comparison.",
  ],
  instructions: [
    "For comparison questions, look up the attribute for both entities and check the direction of the comparison (earlier/later, more/fewer) before naming one.",
    "When asked which of two things is older, larger or first, state both values and make sure you pick the side the question asks for.",
  ],
  weakInstructions: ["Be careful with questions that compare two things."],
  wrong(ex) {
    if (ex.subtask !== "comparison" || isYesNo(ex.answer)) return undefined;
    const pair = comparedEntities(ex);
    if (pair === undefined) return undefined;
    const gold = norm(ex.answer);
    const [a, b] = pair;
    const other = norm(a).includes(gold) || gold.includes(norm(a))
      ? b
      : norm(b).includes(gold) || gold.includes(norm(b))
      ? a
      : undefined;
    if (other === undefined || norm(other) === gold || norm(other) === "") return undefined;
    return {
      answer: other,
      reasoning: `Comparing the two, ${other} comes out ahead on the asked attribute, so ${other}.`,
    };
  },
};

const yesNoForm: Trap = {
  id: "hotpotqa.yes_no_form",
  tasks: ["hotpotqa"],
  rate: 0.6,
  topic: "Yes/no question answered with a phrase",
  description:
    "A question that expects yes or no is answered with a sentence or an entity instead of the bare word.",
  fixes: [
    /\byes\s*(\/|or|-)\s*no\b/i,
    /(answer|reply|respond)\s+(with\s+)?(just|only|exactly|simply)\s+["'“]?yes["'”]?\s+or\s+["'“]?no/i,
    /(polar|boolean|true[- ]false|binary) questions?/i,
  ],
  vocabulary: /yes\s*\/?\s*(or\s*)?no|polar|boolean|bare (word|yes)|instead of yes/i,
  labels: [
    "Yes/no answered with phrase",
    "Verbose reply to yes/no question",
    "Polar question not answered yes/no",
  ],
  definitions: [
    "A yes/no question gets a full sentence or entity as the answer instead of exactly yes or no.",
    "The answer field restates the entities rather than committing to the bare yes or no the question expects.",
    "For a polar question the model writes an explanation where a single yes or no is required.",
  ],
  instructions: [
    'If the question can be answered with yes or no, the answer field must be exactly "yes" or "no".',
    'For polar questions (is/are/did/were both ...), reply with only "yes" or "no" in the answer.',
  ],
  weakInstructions: ["Keep answers short."],
  wrong(ex) {
    if (!isYesNo(ex.answer)) return undefined;
    const pair = comparedEntities(ex);
    const subject = pair === undefined ? "they" : `${pair[0]} and ${pair[1]}`;
    const yes = /^yes$/i.test(ex.answer.trim());
    return {
      answer: yes ? `Both ${subject} share it` : `${subject} differ on this`,
      reasoning: `Looking at ${subject}, the context describes each of them.`,
    };
  },
};

const spanTooLong: Trap = {
  id: "hotpotqa.span_too_long",
  tasks: ["hotpotqa"],
  rate: 0.35,
  topic: "Answer span too long",
  description:
    "The answer contains the right entity plus extra words copied from the context, so it is not the exact answer span.",
  fixes: [
    /(shortest|minimal|exact|concise|smallest) (answer )?(span|phrase)/i,
    /(no|without) (any )?(extra|additional|surrounding) (words|text|qualifiers|context|description)/i,
    /(only|just) the (entity|name|span|words?|phrase) (itself|that answers)/i,
    /(do not|don't|never) (add|include|pad)\b.{0,30}\b(descriptions?|qualifiers?|extra words)/i,
  ],
  vocabulary:
    /span|verbose answer|too long|extra words|padded|over-?long|surrounding words|qualifiers/i,
  labels: [
    "Answer span too long",
    "Padded answer with extra words",
    "Over-long answer phrase",
    "Adds qualifiers to answer span",
  ],
  definitions: [
    "The answer includes the correct entity but also surrounding words from the context, so it does not match the exact span.",
    "Extra descriptive words are copied into the answer field around the entity that answers the question.",
    "The answer phrase is longer than the minimal span the question asks for.",
  ],
  instructions: [
    "Put only the minimal answer span in the answer field, without extra words or qualifiers.",
    "The answer must be the shortest phrase that answers the question: no surrounding descriptions.",
  ],
  weakInstructions: ["Be concise."],
  wrong(ex) {
    if (isYesNo(ex.answer) || ex.answer.split(/\s+/).length > 4) return undefined;
    const ctx = hotpotRow(ex).context;
    for (const sentences of ctx?.sentences ?? []) {
      for (const sentence of sentences) {
        const at = sentence.indexOf(ex.answer);
        if (at < 0) continue;
        const after = sentence.slice(at + ex.answer.length).match(
          /^[ ,]*([\p{L}\p{N}'-]+(?:\s+[\p{L}\p{N}'-]+){0,2})/u,
        );
        if (after?.[1] !== undefined && after[1].length > 2) {
          const answer = `${ex.answer} ${after[1]}`.replace(/\s+/g, " ");
          return { answer, reasoning: `The context says "${sentence.trim().slice(0, 160)}".` };
        }
      }
    }
    return undefined;
  },
};

const dateGranularity: Trap = {
  id: "hotpotqa.date_granularity",
  tasks: ["hotpotqa"],
  rate: 0.6,
  topic: "Date at the wrong granularity",
  description:
    "A date answer is given at a different precision than asked: a full date when only the year is wanted, or only the year when a full date is wanted.",
  fixes: [
    /(date|time)s? (granularity|precision|format)/i,
    /(granularity|precision|level of detail) (of|that|the question)/i,
    /only the year when\b/i,
    /(match|same)\b.{0,20}\b(level of detail|precision|granularity)/i,
  ],
  vocabulary: /date|granularity|precision|year only|full date|temporal/i,
  labels: [
    "Date granularity mismatch",
    "Wrong date precision",
    "Year versus full date confusion",
  ],
  definitions: [
    "The answer gives a date at a different granularity (year, month, day) than the question asks for.",
    "Temporal answers are reported with too much or too little precision compared to the gold form.",
    "The model returns only the year where a full date is expected, or the reverse.",
  ],
  instructions: [
    "For dates, answer at the granularity the question asks for: only the year when it asks for a year, the full date when it asks for a date.",
    "Match the level of detail of the question when answering with dates or times.",
  ],
  weakInstructions: ["Double-check any dates you report."],
  wrong(ex) {
    const year = /\b(1[5-9]\d\d|20\d\d)\b/.exec(ex.answer)?.[1];
    if (year === undefined) return undefined;
    if (ex.answer.trim() !== year) {
      return { answer: year, reasoning: `The context dates it to ${year}.` };
    }
    const month = MONTHS[Math.floor(hashUnit("month", ex.id) * 12)] as string;
    return {
      answer: `${month} ${year}`,
      reasoning: `The event is placed in ${month} ${year}.`,
    };
  },
};

// ---------------------------------------------------------------------------------------------
// LiveBench math

const fiveLetter: Trap = {
  id: "livebench_math.five_letter",
  tasks: ["livebench_math"],
  rate: 0.5,
  topic: "Letter not repeated five times",
  description:
    "Multiple-choice answers are given as a single letter or option text instead of the letter written five times as the question requests.",
  fixes: [
    /(five|5)\s+times/i,
    /(repeat|duplicate|write)\w*\s+(the\s+)?(chosen\s+|answer\s+|option\s+)?letter/i,
    /\b(AAAAA|BBBBB|CCCCC|DDDDD|EEEEE|FFFFF)\b/,
    /letter\s+(repeated|duplicated)/i,
  ],
  vocabulary: /five|letter|repeat|duplicat|multiple[- ]choice format/i,
  labels: [
    "Letter not repeated five times",
    "Ignores letter duplication format",
    "Single letter instead of five",
  ],
  definitions: [
    "The question asks for the chosen letter duplicated five times, but the answer gives the letter or option once.",
    "The multiple-choice answer format (letter repeated five times) is not followed.",
    "The final answer is written as a lone option instead of the requested five-letter string.",
  ],
  instructions: [
    "For multiple-choice questions, write the chosen letter five times in a row as the answer (for example CCCCC), exactly as the question requests.",
    "When a question asks to duplicate the option letter, the answer field must be that letter repeated five times.",
  ],
  weakInstructions: ["Follow the answer format that each question specifies."],
  wrong(ex) {
    if (ex.subtask === undefined || ex.task !== "livebench_math") return undefined;
    if (!/^[A-E]$/.test(ex.answer.trim())) return undefined;
    // The right choice in the wrong form: LiveBench's scorer finds no repeated letter, and
    // its last-line rule does not read a labelled letter (a bare "(C)" line would pass).
    const letter = ex.answer.trim();
    return {
      answer: `Answer: ${letter}`,
      reasoning: `Checking the options, option ${letter} fits best.`,
    };
  },
};

const aimeInteger: Trap = {
  id: "livebench_math.aime_integer",
  tasks: ["livebench_math"],
  rate: 0.6,
  topic: "AIME answer not a three-digit integer",
  description:
    "AIME answers must be an integer from 000 to 999; the answer is left unreduced or as an expression.",
  fixes: [
    /(three|3)[- ]digit/i,
    /(integer|whole number)\s+(from|between)\s+0+\s+(to|and)\s+999/i,
    /\bAIME\b/,
    /\b0{1,3}\s*(to|-|–)\s*999\b/,
  ],
  vocabulary: /aime|three[- ]digit|0 to 999|000|unreduced|integer answer/i,
  labels: [
    "AIME answer not an integer",
    "Missing three-digit integer form",
    "Unreduced competition answer",
  ],
  definitions: [
    "The AIME-style answer is not reduced to an integer between 000 and 999.",
    "The final value is left as an expression or unreduced number instead of the three-digit integer AIME requires.",
    "The answer ignores that AIME answers are integers from 0 to 999.",
  ],
  instructions: [
    "AIME-style problems have an integer answer from 0 to 999: reduce your result to that integer and give it as three digits.",
    "If a problem expects a three-digit integer answer, report just that integer.",
  ],
  weakInstructions: ["Double-check the arithmetic in the final step."],
  wrong(ex) {
    if (ex.task !== "livebench_math" || !/^\d{1,3}$/.test(ex.answer.trim())) return undefined;
    const source = `${ex.row.subtask ?? ""} ${ex.subtask ?? ""}`;
    if (!/aime|math_comp/i.test(source) || /amc|smc/i.test(String(ex.row.subtask ?? ""))) {
      return undefined;
    }
    const gold = Number(ex.answer);
    for (let k = 1; k < 50; k++) {
      const candidate = String(1000 + ((gold * 7 + 13 * k) % 9000));
      if (!candidate.includes(ex.answer.trim())) {
        return {
          answer: candidate,
          reasoning: `The count works out to ${candidate}.`,
        };
      }
    }
    return undefined;
  },
};

const boxed: Trap = {
  id: "livebench_math.boxed",
  tasks: ["livebench_math"],
  formOnly: true,
  rate: 0.35,
  topic: "Final answer not in \\boxed{}",
  description:
    "The problem asks for the final answer inside \\boxed{}, but the answer is written without the box.",
  fixes: [
    /\\boxed/,
    /\bboxed\b/i,
    /(enclose|wrap|put|place)\b.{0,40}\bbox/i,
    /in a box\b/i,
  ],
  vocabulary: /box/i,
  labels: [
    "Missing boxed final answer",
    "Answer not in box",
    "Omits required LaTeX box",
  ],
  definitions: [
    "The final answer is not wrapped in \\boxed{} although the problem asks for it.",
    "The answer format requires a LaTeX box around the result, and the output leaves it out.",
    "No boxed expression is given, so the final answer cannot be located.",
  ],
  instructions: [
    "Put the final expression inside \\boxed{} in the answer field, as the problem asks.",
    "Enclose the final result in a LaTeX box command so it can be located.",
  ],
  weakInstructions: ["Present the final answer clearly at the end."],
  wrong(ex) {
    if (ex.subtask !== "AMPS_Hard") return undefined;
    return {
      // Unboxed and followed by words: upstream then finds no final expression (an unboxed
      // expression alone at the very end would still be read).
      answer: `${ex.answer.replace(/\\boxed\{/g, "{")} (simplified form)`,
      reasoning: "Simplifying gives the expression below.",
    };
  },
};

const orderedList: Trap = {
  id: "livebench_math.ordered_list",
  tasks: ["livebench_math"],
  rate: 0.55,
  topic: "Expression list out of order",
  description:
    "For proof-completion problems the list of expression identifiers is not in the order of the missing tags.",
  fixes: [
    /(comma[- ]separated|ordered)\s+list/i,
    /in the order\b.{0,40}\b(missing|tags?|slots?|blanks?|appear)/i,
    /<missing/i,
    /(fill|missing)\s+(tags|slots|blanks)\s+in\s+order/i,
  ],
  vocabulary: /order|list|sequence|missing tags?|permut|slots?/i,
  labels: [
    "Expression identifiers misordered",
    "List not in slot order",
    "Permuted answer sequence",
  ],
  definitions: [
    "The expression identifiers are listed, but not in the order the missing tags appear in the proof.",
    "The answer list permutes some identifiers relative to the order of the slots they fill.",
    "The ordered answer sequence is partly shuffled, so matching identifiers land in the wrong slots.",
  ],
  instructions: [
    "For proof-completion problems, list the expression identifiers in the order the <missing N> tags appear, comma-separated.",
    "Fill the missing slots in order and answer with the ordered list of expression numbers.",
  ],
  weakInstructions: ["Check each step of the proof."],
  wrong(ex) {
    if (ex.subtask !== "olympiad") return undefined;
    const items = ex.answer.split(",").map((s) => s.trim());
    if (items.length < 2) return undefined;
    // Listing the identifiers in numeric order instead of the order of the slots.
    const out = [...items].sort((a, b) => Number(a) - Number(b));
    if (out.join(",") === items.join(",")) return undefined;
    return {
      answer: out.join(","),
      reasoning: "Each expression is used once; listing the identifiers that fill the slots.",
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Formula and the synthetic task

const NUMERIC_TASKS = ["formula", "synthetic"];

const SCALE: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9 };

const scaleWords: Trap = {
  id: "numeric.scale_words",
  tasks: NUMERIC_TASKS,
  rate: 0.6,
  taskRates: { synthetic: 0.45 },
  topic: "Scale words not converted",
  description:
    "Amounts given with scale words such as million or billion are answered in those units instead of full numbers.",
  fixes: [
    /(convert|express|write|expand|give)\b.{0,50}\b(millions?|billions?|thousands?|full (units|numbers?))/i,
    /scale (words?|terms?|suffix(es)?)/i,
    /(in|as) (full|absolute|raw|plain full) (dollars?|units|numbers?|figures?)/i,
    /(all|every) (the )?zeros\b/i,
  ],
  vocabulary: /scale|million|billion|units|magnitude|zeros|order of magnitude/i,
  labels: [
    "Scale words not converted",
    "Answer in millions not units",
    "Order of magnitude dropped",
    "Unconverted magnitude suffix",
  ],
  definitions: [
    "An amount stated with a scale word (million, billion) is reported in those units instead of as a full number.",
    "The numeric answer drops the magnitude implied by a scale word, so it is off by a power of ten.",
    "The model keeps figures in millions although the answer must be a plain full number.",
  ],
  instructions: [
    "When amounts are given in millions or billions, convert them and answer in full units (7.25 million -> 7250000).",
    "Write numeric answers as plain full numbers with all zeros, never abbreviated with scale words.",
  ],
  weakInstructions: ["Be careful with units."],
  wrong(ex) {
    const gold = goldNumber(ex);
    const word = /\b(thousand|million|billion)\b/i.exec(coreQuestion(ex))?.[1]?.toLowerCase();
    if (gold === undefined || word === undefined) return undefined;
    const scale = SCALE[word] as number;
    if (Math.abs(gold) < scale) return undefined;
    const answer = formatNumber(gold / scale);
    return { answer, reasoning: `Working in ${word}s throughout, the result is ${answer}.` };
  },
};

const percentFraction: Trap = {
  id: "numeric.percent_fraction",
  tasks: NUMERIC_TASKS,
  rate: 0.55,
  taskRates: { synthetic: 0.45 },
  topic: "Percentage and fraction confused",
  description:
    "A rate is given as a decimal fraction where a percentage is expected, or the reverse, so it is off by a factor of 100.",
  fixes: [
    /(percent(age)?s?|%)\b.{0,60}\b(fractions?|decimals?)/i,
    /(fractions?|decimals?)\b.{0,60}\b(percent(age)?s?|%)/i,
    /(multiply|multiplied|multiplies|times) by 100/i,
    /[x×*] ?100\b/i,
  ],
  vocabulary: /percent|fraction|factor of (100|a hundred)|decimal (rate|form)|rate (form|scale)/i,
  labels: [
    "Percentage versus fraction confusion",
    "Rate off by factor hundred",
    "Decimal given instead of percent",
  ],
  definitions: [
    "The answer reports a rate as a decimal fraction where the question expects a percentage, or the other way round.",
    "A factor of 100 is lost or added when converting between percentages and fractions.",
    "The model gives 0.2 where 20 (percent) is expected, or 20 where 0.2 is expected.",
  ],
  instructions: [
    "Check whether the question expects a percentage or a fraction: when a formula multiplies by 100, give the percentage (20 for 20%), not the decimal fraction.",
    "Report rates as percentages when the formula includes x 100 or the question asks for a percentage, otherwise as decimals; do not mix the two.",
  ],
  weakInstructions: ["Pay attention to percentages."],
  wrong(ex) {
    const gold = goldNumber(ex);
    if (gold === undefined || gold === 0) return undefined;
    const context = typeof ex.row.context === "string" ? ex.row.context : "";
    const asksPercent = /× ?100|\* ?100|percentage/i.test(context) ||
      ex.subtask === "percent" || /percentage/i.test(coreQuestion(ex));
    if (asksPercent && Math.abs(gold) >= 1 && Math.abs(gold) <= 1000) {
      const answer = formatNumber(gold / 100);
      return { answer, reasoning: `As a rate this is ${answer}.` };
    }
    return undefined;
  },
};

const rounding: Trap = {
  id: "numeric.rounding",
  tasks: NUMERIC_TASKS,
  rate: 0.6,
  taskRates: { synthetic: 0.45 },
  topic: "Not rounded to hundredths",
  description:
    "The numeric answer is reported with more (or fewer) decimals than the two required, so it does not match.",
  fixes: [
    /(round|rounded|rounding)\b.{0,40}\b(hundredths?|two decimals?|2 decimals?|2 dp|0\.01)/i,
    /(two|2) decimal places/i,
    /nearest hundredth/i,
  ],
  vocabulary: /round|decimal|hundredth|precision of the number|digits/i,
  labels: [
    "Not rounded to hundredths",
    "Too many decimal places",
    "Rounding instruction ignored",
  ],
  definitions: [
    "The final number keeps extra decimal digits instead of being rounded to two decimal places.",
    "The answer's precision does not follow the rounding to hundredths the task expects.",
    "An unrounded intermediate value is reported as the final numeric answer.",
  ],
  instructions: [
    "Round the final numeric answer to two decimal places (hundredths), e.g. 8.3333 -> 8.33.",
    "Give numbers rounded to the nearest hundredth; never report more digits.",
  ],
  weakInstructions: ["Be precise with numbers."],
  wrong(ex) {
    if (!/^-?\d+\.\d[1-9]$/.test(ex.answer.trim())) return undefined;
    const extra = String(1 + Math.floor(hashUnit("digits", ex.id) * 98)).padStart(2, "0");
    const answer = `${ex.answer.trim()}${extra}`;
    return { answer, reasoning: `Dividing gives ${answer}.` };
  },
};

// ---------------------------------------------------------------------------------------------
// Behaviours common to every task

/** Overconfidence: stated confidence near 1 whatever the outcome. */
export const CALIBRATION: Behaviour = {
  id: "all.calibration",
  topic: "Confidently wrong answers",
  description:
    "Wrong answers are stated with very high confidence; the confidence does not track the chance of being right.",
  fixes: [
    /calibrat/i,
    /overconfiden/i,
    /(honest|realistic|well[- ]founded|accurate)\s+(confidence|probability|estimate)/i,
    /(lower|reduce|temper)\s+(your\s+)?(stated\s+)?confidence/i,
    /confidence\s+(should|must)\s+(reflect|match|track)/i,
  ],
  vocabulary: /confiden|overconfiden|calibrat|certainty/i,
  labels: [
    "Confidently wrong answer",
    "Overconfident incorrect prediction",
    "Miscalibrated high confidence",
  ],
  definitions: [
    "The answer is wrong but the stated confidence is very high, so the confidence does not reflect the real uncertainty.",
    "High confidence is reported for an incorrect answer that rested on an uncertain step.",
    "The confidence estimate is miscalibrated: near certainty on an answer that is not correct.",
  ],
  instructions: [
    "Calibrate the confidence: use high values only when the evidence is explicit, and lower your confidence when a step was a guess or ambiguous.",
    "Your stated confidence must reflect how often answers like this are right; avoid overconfidence.",
  ],
  weakInstructions: ["Think about how sure you are."],
};

/** Broken output format: prose or invalid JSON instead of the JSON object. */
export const JSON_ONLY: Behaviour = {
  id: "all.json_only",
  topic: "Output not valid JSON",
  description: "The output is prose or malformed JSON instead of the single JSON object asked for.",
  fixes: [
    /(only|just)\s+(the\s+|a\s+|one\s+)?(single\s+)?json/i,
    /json[- ]only/i,
    /json only/i,
    /no\s+(other\s+)?(text|prose|markdown|commentary)\s+(before|after|outside|around)/i,
    /nothing\s+(else\s+)?(before|after|outside)\s+the\s+(json|object)/i,
  ],
  vocabulary: /json|format error|malformed|unparseable/i,
  labels: ["Malformed JSON output", "Output not parseable"],
  definitions: ["The output cannot be parsed as the JSON object the contract requires."],
  instructions: [
    "Output only the JSON object, with no text before or after it.",
    "Reply with JSON only: no prose, no Markdown, nothing outside the object.",
  ],
  weakInstructions: ["Remember to use the output format."],
};

/** Wrong answers that no trap explains: the critic still names something. */
export const BASE_ERROR: Behaviour = {
  id: "all.reasoning_slip",
  topic: "Reasoning slip",
  description:
    "A step of the reasoning is wrong (a misread detail or a slip) with no recurring pattern behind it.",
  fixes: [],
  vocabulary: /slip|misread|unsupported|faulty step|reasoning error|careless/i,
  labels: ["Misread a key detail", "Faulty reasoning step", "Careless reasoning slip"],
  definitions: [
    "The reasoning misreads one detail of the question or evidence and reaches a wrong answer.",
    "One step in the reasoning does not follow from the evidence, leading to a wrong answer.",
    "A careless slip in an otherwise reasonable chain produces the wrong result.",
  ],
  instructions: [],
  weakInstructions: ["Double-check each step of your reasoning before answering."],
};

const BUNDLED_TRAPS: readonly Trap[] = [
  comparisonDirection,
  yesNoForm,
  bridgeEntity,
  dateGranularity,
  spanTooLong,
  fiveLetter,
  aimeInteger,
  boxed,
  orderedList,
  scaleWords,
  percentFraction,
  rounding,
];

/**
 * Every per-example trap, in the order the target falls into them: the bundled tasks'
 * traps, then the generic ones that serve any task with gold answers (`generic_traps.ts`).
 */
export const TRAPS: readonly Trap[] = [...BUNDLED_TRAPS, ...GENERIC_TRAPS];

/**
 * Every behaviour the critic can name and the optimizer can address. The generic traps come
 * last, so a tie in {@linkcode classifyText} keeps a bundled task's reading.
 */
export const BEHAVIOURS: readonly Behaviour[] = [
  ...BUNDLED_TRAPS,
  CALIBRATION,
  JSON_ONLY,
  ...GENERIC_TRAPS,
];

/**
 * The traps that can catch `ex`, each with its wrong answer, in falling order.
 *
 * @example
 * ```ts
 * import { trapsFor } from "./traps.ts";
 * const ex = { id: "x", task: "synthetic", split: "dev" as const, question: "Revenue of $2.0 million and costs of $1.0 million. Profit?", answer: "1000000", row: {} };
 * if (trapsFor(ex)[0]?.trap.id !== "numeric.scale_words") throw new Error("unexpected");
 * ```
 */
export function trapsFor(ex: SimExample): { trap: Trap; wrong: WrongAnswer }[] {
  // Every trap's wrong answer depends on the example alone, and working them out (a served
  // example's call the task's scorer) was a third of a target call's CPU in the sim-server:
  // once per example.
  const known = trapsOf.get(ex);
  if (known !== undefined) return known;
  const out: { trap: Trap; wrong: WrongAnswer }[] = [];
  const taskName = ex.served === undefined ? ex.task : GENERIC_TASK;
  for (const trap of TRAPS) {
    if (!trap.tasks.includes(taskName)) continue;
    const wrong = trap.wrong(ex);
    if (wrong === undefined) continue;
    if (trap.formOnly === true || wrong.answer.trim() !== ex.answer.trim()) {
      out.push({ trap, wrong });
    }
  }
  trapsOf.set(ex, out);
  return out;
}

const trapsOf = new WeakMap<SimExample, { trap: Trap; wrong: WrongAnswer }[]>();

/**
 * The behaviour whose critic vocabulary best matches `text` (most distinct regex hits on
 * its vocabulary, labels and topic), or undefined when none matches.
 */
export function classifyText(text: string): Behaviour | undefined {
  let best: Behaviour | undefined;
  let bestScore = 0;
  for (const b of [...BEHAVIOURS, BASE_ERROR]) {
    let score = 0;
    if (text.includes(b.topic)) score += 5;
    for (const label of b.labels) if (text.includes(label)) score += 4;
    for (const def of b.definitions) if (text.includes(def)) score += 3;
    const hits = text.match(new RegExp(b.vocabulary.source, "gi"));
    score += hits?.length ?? 0;
    if (score > bestScore) {
      best = b;
      bestScore = score;
    }
  }
  return best;
}
