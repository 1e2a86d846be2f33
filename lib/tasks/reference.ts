/**
 * Pieces of the reference protocol (`protocol: "reference"`, see `task.ts`) that the three
 * built-in tasks share: the two chat messages the reference sends, its user-message blocks,
 * and its output contract (the pydantic `TargetAnswer` of each task file: a strict JSON
 * Schema in the reference's field order, and a parser that accepts what pydantic's default
 * (lax) validation accepts and nothing else).
 *
 * Deviation, by necessity: the schema's field descriptions are in our words (the reference's
 * are its own text and are not copied).
 *
 * @module
 */
import { pyStrip } from "../data/python.ts";
import type { ChatMessage, JsonSchema } from "../llm/schema.ts";
import type { ParseResult, TargetOutput } from "./schema.ts";
import { extractFirstJsonObject } from "../util/json.ts";
import type { Task } from "./task.ts";

/**
 * The reference's two messages: the system text (sent even when empty, as the reference
 * does) and the user text.
 */
export function referenceMessages(system: string, user: string): ChatMessage[] {
  return [{ role: "system", content: system }, { role: "user", content: user }];
}

/**
 * The reference's user text: the instruction exactly as written, then each block as a blank
 * line, `Label:` on its own line and the text, then one newline.
 *
 * @example
 * ```ts
 * import { referenceUserText } from "./reference.ts";
 * const u = referenceUserText("Do it.\n", [["Context", "c"], ["Question", "q"]]);
 * if (u !== "Do it.\n\n\nContext:\nc\n\nQuestion:\nq\n") throw new Error(JSON.stringify(u));
 * ```
 */
export function referenceUserText(instruction: string, blocks: [string, string][]): string {
  return `${instruction}${blocks.map(([label, text]) => `\n\n${label}:\n${text}`).join("")}\n`;
}

/** One task's `TargetAnswer`: field order and whether the reasoning may be left out. */
export interface ReferenceContract {
  /** The reasoning field's name (`justification` for HotPotQA, else `reasoning`). */
  reasoningField: string;
  /** The fields in the reference's declaration order (the schema's property order). */
  order: readonly string[];
  /** True when the reference gives the reasoning a default (Formula: `""`). */
  reasoningOptional: boolean;
  /**
   * `whole`: the output text must be the JSON object (structured output, which
   * `responses.parse` validates whole); `first_object`: the first JSON object found in free
   * text, after a leading Markdown fence is removed (the reference's
   * `extract_json_object_text`).
   */
  extraction: "whole" | "first_object";
}

const DESCRIPTIONS: Record<string, string> = {
  answer: "the final answer only",
  confidence: "your probability, from 0 to 1, that the answer is correct",
};

/**
 * The strict JSON Schema of a reference contract: the properties in the reference's order,
 * all required, nothing else allowed (what the OpenAI SDK sends for a pydantic model).
 *
 * @example
 * ```ts
 * import { referenceOutputSchema } from "./reference.ts";
 * const s = referenceOutputSchema({
 *   reasoningField: "justification", order: ["answer", "confidence", "justification"],
 *   reasoningOptional: false, extraction: "whole",
 * }) as { required: string[] };
 * if (s.required.join() !== "answer,confidence,justification") throw new Error();
 * ```
 */
export function referenceOutputSchema(contract: ReferenceContract): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of contract.order) {
    properties[field] = field === "confidence"
      ? { type: "number", minimum: 0, maximum: 1, description: DESCRIPTIONS.confidence }
      : {
        type: "string",
        description: DESCRIPTIONS[field] ?? "your reasoning, step by step, for the answer",
      };
  }
  return {
    type: "object",
    properties,
    required: [...contract.order],
    additionalProperties: false,
  };
}

// The JSON text the reference would validate, or undefined when it would find none.
function referenceJson(rawText: string, extraction: ReferenceContract["extraction"]): unknown {
  let text = pyStrip(rawText);
  if (text === "") return undefined;
  if (extraction === "whole") {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  if (text.startsWith("```")) {
    const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```/i.exec(text);
    if (fenced) text = pyStrip(fenced[1] ?? "");
  }
  try {
    // Whatever the whole text parses to is used, even when it is not an object (as upstream).
    return JSON.parse(text);
  } catch {
    return extractFirstJsonObject(text);
  }
}

// pydantic's lax `float`: numbers, booleans and numeric strings.
function laxFloat(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") {
    const s = pyStrip(value);
    if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return Number(s);
    if (/^[+-]?(?:inf|infinity|nan)$/i.test(s)) return NaN;
  }
  return undefined;
}

function describe(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * Parses a target output under a reference contract, accepting exactly what the reference's
 * pydantic validation accepts: `answer` and the reasoning must be JSON strings (a number as
 * the answer is a format error, as pydantic does not turn numbers into strings); the
 * confidence a number, boolean or numeric string within [0, 1]; extra keys ignored.
 *
 * @example
 * ```ts
 * import { parseReferenceOutput } from "./reference.ts";
 * const c = { reasoningField: "reasoning", order: ["answer", "confidence", "reasoning"],
 *   reasoningOptional: false, extraction: "first_object" } as const;
 * const ok = parseReferenceOutput('Sure: {"answer": "7", "confidence": "0.5", "reasoning": "r"}', c);
 * if (!ok.ok || ok.value.confidence !== 0.5) throw new Error(JSON.stringify(ok));
 * if (parseReferenceOutput('{"answer": 7, "confidence": 0.5, "reasoning": "r"}', c).ok) throw new Error();
 * ```
 */
export function parseReferenceOutput(rawText: string, contract: ReferenceContract): ParseResult {
  const value = referenceJson(rawText, contract.extraction);
  if (value === undefined) return { ok: false, error: "no JSON object in the output" };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, error: "the output's JSON is not an object" };
  }
  const object = value as Record<string, unknown>;
  const out: Partial<TargetOutput> = {};
  for (const field of contract.order) {
    const present = Object.hasOwn(object, field);
    if (!present && field === contract.reasoningField && contract.reasoningOptional) {
      out.reasoning = "";
      continue;
    }
    if (!present) return { ok: false, error: `missing field '${field}'` };
    const raw = object[field];
    if (field === "confidence") {
      const n = laxFloat(raw);
      if (n === undefined || !(n >= 0 && n <= 1)) {
        return {
          ok: false,
          error: `field 'confidence' must be a number in [0, 1], got ${describe(raw)}`,
        };
      }
      out.confidence = n;
    } else if (typeof raw !== "string") {
      return { ok: false, error: `field '${field}' must be a string, got ${describe(raw)}` };
    } else if (field === "answer") out.answer = raw;
    else out.reasoning = raw;
  }
  return { ok: true, value: out as TargetOutput };
}

/**
 * The output-contract part of a task under the reference protocol, to spread into the task
 * object: the reasoning field, the schema, the output mode (`structured` for `whole`,
 * `text` for `first_object`) and the parser.
 */
export function referenceOutputContract(
  contract: ReferenceContract,
): Pick<Task, "reasoningField" | "outputSchema" | "outputMode" | "parse"> {
  return {
    reasoningField: contract.reasoningField,
    outputSchema: referenceOutputSchema(contract),
    outputMode: contract.extraction === "whole" ? "structured" : "text",
    parse: (rawText: string): ParseResult => parseReferenceOutput(rawText, contract),
  };
}
