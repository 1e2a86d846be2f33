/**
 * The paper's seed prompt programs, the starting point of every optimization run
 * (DESIGN section 2). Each asks for the output contract in the same words the parser
 * expects: a JSON object with the reasoning field, `answer` and `confidence` in [0, 1].
 *
 * @module
 */
import type { PromptProgram } from "../prompt.ts";

/**
 * The output-contract sentence shared by the seeds.
 *
 * @example
 * ```ts
 * import { outputContract } from "./seeds.ts";
 * if (!outputContract("reasoning").includes('"confidence"')) throw new Error("unexpected");
 * ```
 */
export function outputContract(reasoningField: string): string {
  return `Respond with a single JSON object with exactly these fields: ` +
    `"${reasoningField}" (string), "answer" (string) and "confidence" ` +
    `(a number between 0 and 1: your probability that the answer is correct).`;
}

/** HotPotQA: answer from the provided context only, with a concise justification. */
export const HOTPOTQA_SEED: PromptProgram = {
  system: "You are a careful question-answering assistant. Answer using only the provided context.",
  instruction: [
    "Read the context paragraphs and answer the question using only the provided context.",
    "Think step by step from the context, and keep the justification concise.",
    "Before answering, verify that the context supports your answer.",
    outputContract("justification"),
  ].join("\n"),
};

/** LiveBench math: solve step by step, final answer in exactly the requested format. */
export const LIVEBENCH_MATH_SEED: PromptProgram = {
  system: "You are an expert mathematician.",
  instruction: [
    "Solve the problem step by step and give the final answer in exactly the requested format.",
    outputContract("reasoning"),
  ].join("\n"),
};

/** Formula: a financial analysis expert answering from knowledge, double-checking arithmetic. */
export const FORMULA_SEED: PromptProgram = {
  system: "You are a financial analysis expert answering questions from your knowledge.",
  instruction: [
    "Work through the problem step by step and double-check your calculations.",
    outputContract("reasoning"),
  ].join("\n"),
};

/** A neutral seed for a user's own task when its config gives none. */
export const CUSTOM_DEFAULT_SEED: PromptProgram = {
  system: "You are a careful assistant.",
  instruction: [
    "Answer the question. Think step by step.",
    outputContract("reasoning"),
  ].join("\n"),
};
