/**
 * A tiny bundled task for when no data directory exists: 60 / 60 / 60 generated finance
 * word problems with a numeric answer, in three kinds that carry the simulator's numeric
 * traps — amounts given with scale words ("million"), growth rates asked as percentages,
 * and ratios to be rounded to hundredths. Generation is deterministic (seeded per split),
 * so the same split always holds the same rows and no file is needed.
 *
 * Scored like Formula: correct when the numbers are equal after removing commas.
 * Selection: `acc - w * Brier - P`.
 *
 * @module
 */
import type { Example, Split } from "./schema.ts";
import { seededRandom } from "../util/random.ts";
import { renderQuestion, selectionPenalty, targetOutputContract } from "./common.ts";
import { scoreFormulaAnswer } from "./formula.ts";
import { FORMULA_SEED } from "./seeds.ts";
import type { SelectionInput, Task } from "./task.ts";

/** Examples per split. */
export const SYNTHETIC_SPLIT_SIZE = 60;

const SPLIT_SEEDS: Record<Split, number> = { train: 101, dev: 202, test: 303 };
const COMPANIES = [
  "a regional bakery chain",
  "a software start-up",
  "a furniture maker",
  "an online bookstore",
  "a logistics firm",
  "a solar installer",
  "a coffee roaster",
  "a bicycle manufacturer",
];
const ANSWER_HINT = "Answer with a plain number.";

/** The kinds of generated problems; each is the example's `subtask`. */
export type SyntheticKind = "scale" | "percent" | "ratio";

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function scaleProblem(random: () => number): { question: string; answer: number } {
  const revenue = 20 + Math.floor(random() * 80); // tenths of a million
  const costs = 5 + Math.floor(random() * (revenue - 5));
  const who = pick(COMPANIES, random);
  return {
    question:
      `${who[0]?.toUpperCase()}${who.slice(1)} reported revenue of $${
        (revenue / 10).toFixed(1)
      } million and total costs of $${(costs / 10).toFixed(1)} million. ` +
      `What was its profit in dollars? ${ANSWER_HINT}`,
    answer: (revenue - costs) * 100_000,
  };
}

function percentProblem(random: () => number): { question: string; answer: number } {
  const before = (4 + Math.floor(random() * 16)) * 25_000;
  const growth = [5, 10, 12, 15, 20, 25, 30, 40][Math.floor(random() * 8)] as number;
  const after = before * (100 + growth) / 100;
  const who = pick(COMPANIES, random);
  return {
    question: `Annual sales of ${who} rose from $${before.toLocaleString("en-US")} to $${
      after.toLocaleString("en-US")
    }. By what percentage did sales grow? ${ANSWER_HINT}`,
    answer: growth,
  };
}

function ratioProblem(random: () => number): { question: string; answer: number } {
  const assets = (100 + Math.floor(random() * 400)) * 1_000;
  let liabilities = (60 + Math.floor(random() * 240)) * 1_000;
  // Ratios that are exact to one decimal would not exercise rounding.
  while (Math.round(assets / liabilities * 100) % 10 === 0) liabilities += 1_000;
  const who = pick(COMPANIES, random);
  return {
    question: `${who[0]?.toUpperCase()}${who.slice(1)} has current assets of $${
      assets.toLocaleString("en-US")
    } and current liabilities of $${
      liabilities.toLocaleString("en-US")
    }. What is its current ratio, rounded to hundredths? ${ANSWER_HINT}`,
    answer: Math.round(assets / liabilities * 100) / 100,
  };
}

/**
 * The examples of one split, generated deterministically. Ids are `synthetic-<split>-<i>`.
 *
 * @example
 * ```ts
 * import { generateSyntheticSplit } from "./synthetic.ts";
 * const a = generateSyntheticSplit("dev"), b = generateSyntheticSplit("dev");
 * if (a.length !== 60 || a[7]?.question !== b[7]?.question) throw new Error("unexpected");
 * ```
 */
export function generateSyntheticSplit(split: Split): Example[] {
  const random = seededRandom(SPLIT_SEEDS[split]);
  const kinds: SyntheticKind[] = ["scale", "percent", "ratio"];
  const examples: Example[] = [];
  for (let i = 0; i < SYNTHETIC_SPLIT_SIZE; i++) {
    const kind = kinds[i % kinds.length] as SyntheticKind;
    const problem = kind === "scale"
      ? scaleProblem(random)
      : kind === "percent"
      ? percentProblem(random)
      : ratioProblem(random);
    const answer = String(problem.answer);
    examples.push({
      id: `synthetic-${split}-${i}`,
      question: problem.question,
      answer,
      subtask: kind,
      row: { question: problem.question, answer, kind },
    });
  }
  return examples;
}

/** The bundled synthetic task (no data files needed). */
export const synthetic: Task = {
  name: "synthetic",
  ...targetOutputContract("reasoning"),
  seedPrompt: FORMULA_SEED,
  load(split: Split): Promise<Example[]> {
    return Promise.resolve(generateSyntheticSplit(split));
  },
  render: renderQuestion,
  score: scoreFormulaAnswer,
  selectionScore(input: SelectionInput): number {
    return input.metrics.fullCredit - selectionPenalty(input);
  },
  selectionTerm: "accuracy",
};
