/**
 * Structured output, read and retried the same way everywhere: the providers' reading of a
 * JSON answer, the target's output, the optimizer's decision, the critic's critiques,
 * ClusterFusion's topic extraction and assignment, the trace analyses' patch edits and the
 * baselines' steps.
 *
 * A malformed answer is retried as a new sample (`sampleIndex` 1, 2, ...), so that a
 * response cache, which keys on the sample index, does not return the same answer again.
 * A provider error (the wrapper has already retried it) ends the attempts and is reported,
 * never thrown; a spent budget or an abort is thrown, because it stops the whole job.
 *
 * @module
 */
import type { z } from "zod";
import { type ChatMessage, type ChatResponse, toJsonSchema } from "./schema.ts";
import { extractFirstJsonObject } from "../util/json.ts";
import { type ChatModel, isFatalCallError } from "./model.ts";

/**
 * The JSON value of a structured-output reply: the whole text when it parses, else the
 * first JSON object in it (compatible servers without schema support may wrap the JSON in
 * prose or fences). Undefined for blank text or when nothing parses.
 *
 * @example
 * ```ts
 * import { parseStructuredText } from "./structured.ts";
 * const v = parseStructuredText('Here: {"ok": true}') as { ok: boolean };
 * if (v.ok !== true || parseStructuredText("  ") !== undefined) throw new Error("unexpected");
 * ```
 */
export function parseStructuredText(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return extractFirstJsonObject(text);
  }
}

/**
 * The JSON value of a structured answer: `parsed` when the provider set it, else the first
 * JSON object in the text (models without schema support wrap JSON in prose or fences).
 * Undefined when there is none.
 *
 * @example
 * ```ts
 * import { structuredValue } from "./structured.ts";
 * const v = structuredValue({ text: 'Sure: {"ok": true}' }) as { ok: boolean };
 * if (v.ok !== true) throw new Error();
 * if ((structuredValue({ parsed: { a: 1 }, text: "" }) as { a: number }).a !== 1) throw new Error();
 * if (structuredValue({ text: "no JSON here" }) !== undefined) throw new Error();
 * ```
 */
export function structuredValue(response: Pick<ChatResponse, "parsed" | "text">): unknown {
  return response.parsed ?? extractFirstJsonObject(response.text);
}

/** What the caller makes of one answer: a value, or why the answer is not acceptable. */
export type Judgement<T> = { ok: true; value: T } | { ok: false; error: string };

/** Options of {@linkcode callStructured}. */
export interface StructuredCallOptions {
  /** `outputSchema.name` of the request. */
  name: string;
  /** The schema the answer must match (sent as JSON Schema). */
  schema: z.ZodType;
  /** Attempts at most (at least 1). */
  maxAttempts: number;
  /** Sampling temperature (default 0). */
  temperature?: number;
  /** What a malformed answer is called in the error (default `output`). */
  what?: string;
  signal?: AbortSignal;
}

/** The outcome of {@linkcode callStructured}. */
export interface StructuredOutcome<T> {
  /** The accepted value; absent when no answer was accepted. */
  value?: T;
  /** Model calls made. */
  attempts: number;
  /**
   * Why no answer was accepted: the provider's error message, or
   * `malformed <what> (attempt n): <judgement>` for the last rejected answer.
   */
  error?: string;
  /** True when the attempts ended on a provider error rather than a malformed answer. */
  providerFailed?: boolean;
}

/**
 * Asks `model` for structured output until `judge` accepts an answer, at most
 * `maxAttempts` times; each retry is a new sample. `judge` receives the answer's
 * {@linkcode structuredValue} and the attempt number.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { callStructured } from "./structured.ts";
 * import { ScriptedChatModel } from "./scripted.ts";
 * const model = new ScriptedChatModel(['{"n": "x"}', '{"n": 2}']);
 * const out = await callStructured(model, [{ role: "user", content: "a number" }], {
 *   name: "number", schema: z.object({ n: z.number() }), maxAttempts: 3,
 * }, (v) => {
 *   const n = (v as { n?: unknown }).n;
 *   return typeof n === "number" ? { ok: true, value: n } : { ok: false, error: "n is not a number" };
 * });
 * if (out.value !== 2 || out.attempts !== 2) throw new Error(JSON.stringify(out));
 * if (model.requests[1]?.sampleIndex !== 1) throw new Error("a retry is a new sample");
 * ```
 */
export async function callStructured<T>(
  model: ChatModel,
  messages: ChatMessage[],
  opts: StructuredCallOptions,
  judge: (value: unknown, attempt: number) => Judgement<T>,
): Promise<StructuredOutcome<T>> {
  const maxAttempts = Math.max(1, opts.maxAttempts);
  const outputSchema = { name: opts.name, schema: toJsonSchema(opts.schema) };
  let error = "";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let response: ChatResponse;
    try {
      response = await model.chat({
        messages,
        outputSchema,
        temperature: opts.temperature ?? 0,
        ...(attempt > 1 ? { sampleIndex: attempt - 1 } : {}),
      }, { signal: opts.signal });
    } catch (e) {
      if (isFatalCallError(e, opts.signal)) throw e;
      const message = e instanceof Error ? e.message : String(e);
      return { attempts: attempt, error: message, providerFailed: true };
    }
    const judged = judge(structuredValue(response), attempt);
    if (judged.ok) return { value: judged.value, attempts: attempt };
    error = `malformed ${opts.what ?? "output"} (attempt ${attempt})` +
      (judged.error === "" ? "" : `: ${judged.error}`);
  }
  return { attempts: maxAttempts, error };
}
