/**
 * Scripted test doubles: a {@linkcode ScriptedChatModel} that replays given responses (or
 * computes them from the request) and records every request, and a deterministic
 * {@linkcode ScriptedEmbedder}. They make every layer above the providers testable offline.
 *
 * @module
 */
import type { ChatRequest, ChatResponse, EmbedResponse } from "./schema.ts";
import { hashUnit } from "../util/random.ts";
import { estimateTokens } from "../util/tokens.ts";
import type { CallOptions, ChatModel, Embedder } from "./model.ts";

/** A scripted tool call; `arguments` may be given as an object (it is serialised). */
export interface ScriptedToolCall {
  /** Defaults to `call_<request index>_<call index>`. */
  id?: string;
  /** Tool name. */
  name: string;
  /** Raw JSON text (kept verbatim, even if malformed) or an object. */
  arguments: string | Record<string, unknown>;
}

/** One scripted answer; missing fields get sensible defaults. */
export interface ScriptedReply {
  /** Answer text (default ""). */
  text?: string;
  /** Parsed value; by default the text parsed as JSON when the request has an output schema. */
  parsed?: unknown;
  /** Tool calls (default none). */
  toolCalls?: ScriptedToolCall[];
  /** Usage; missing counts are estimated from the text (about 4 characters a token). */
  usage?: {
    inputTokens?: number;
    cachedTokens?: number;
    outputTokens?: number;
    reasoningTokens?: number;
  };
  /** Raw finish reason (default `tool_calls` when there are tool calls, else `stop`). */
  finishReason?: string | null;
}

/** One step of a script: a text, a reply, or an error to throw (e.g. a `ProviderError`). */
export type ScriptStep = string | ScriptedReply | Error;

/** A list of steps replayed in order, or a function computing the step for each request. */
export type Script =
  | readonly ScriptStep[]
  | ((request: ChatRequest, index: number) => ScriptStep | Promise<ScriptStep>);

/** Identity of a scripted model (default `scripted:scripted`). */
export interface ScriptedOptions {
  /** Provider id reported in responses. */
  provider?: string;
  /** Model name reported in responses. */
  model?: string;
}

/**
 * A chat model that replays a script and records every request in {@linkcode requests}.
 * It throws a clear error when the script runs out.
 *
 * @example
 * ```ts
 * import { ScriptedChatModel } from "./scripted.ts";
 * const model = new ScriptedChatModel([
 *   { toolCalls: [{ name: "diagnose", arguments: {} }] },
 *   '{"action": "stop"}',
 * ]);
 * const first = await model.chat({ messages: [{ role: "user", content: "go" }] });
 * if (first.toolCalls[0]?.name !== "diagnose") throw new Error("unexpected");
 * const second = await model.chat({
 *   messages: [{ role: "user", content: "decide" }],
 *   outputSchema: { name: "decision", schema: { type: "object" } },
 * });
 * if ((second.parsed as { action: string }).action !== "stop") throw new Error("unexpected");
 * if (model.requests.length !== 2) throw new Error("requests not recorded");
 * ```
 */
export class ScriptedChatModel implements ChatModel {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** Every request received, in order (including those that failed). */
  readonly requests: ChatRequest[] = [];
  readonly #script: Script;

  /** Creates a model replaying `script`. */
  constructor(script: Script, options: ScriptedOptions = {}) {
    this.#script = script;
    this.provider = options.provider ?? "scripted";
    this.model = options.model ?? "scripted";
  }

  /** Steps not yet consumed (Infinity for a function script). */
  get remaining(): number {
    const script = this.#script;
    return typeof script === "function"
      ? Infinity
      : Math.max(0, script.length - this.requests.length);
  }

  /** Answers with the next scripted step. */
  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const index = this.requests.length;
    this.requests.push(request);
    options.signal?.throwIfAborted();
    const script = this.#script;
    let step: ScriptStep | undefined;
    if (typeof script === "function") {
      step = await script(request, index);
    } else {
      step = script[index];
      if (step === undefined) {
        const last = request.messages.at(-1)?.content.slice(0, 120) ?? "";
        throw new Error(
          `${this.provider}:${this.model}: script exhausted: request ${index + 1} arrived but ` +
            `only ${script.length} step(s) were scripted (last message: ${JSON.stringify(last)})`,
        );
      }
    }
    if (step instanceof Error) throw step;
    return this.#respond(request, index, typeof step === "string" ? { text: step } : step);
  }

  #respond(request: ChatRequest, index: number, reply: ScriptedReply): ChatResponse {
    const text = reply.text ?? "";
    const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({
      id: call.id ?? `call_${index}_${i}`,
      name: call.name,
      arguments: typeof call.arguments === "string"
        ? call.arguments
        : JSON.stringify(call.arguments),
    }));
    let parsed = reply.parsed;
    if (parsed === undefined && request.outputSchema && text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Left undefined: the caller sees the raw text, as with a real provider.
      }
    }
    const input = request.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
    const output = estimateTokens(text) +
      toolCalls.reduce((n, c) => n + estimateTokens(c.arguments), 0);
    return {
      text,
      ...(parsed !== undefined ? { parsed } : {}),
      toolCalls,
      usage: {
        inputTokens: reply.usage?.inputTokens ?? input,
        cachedTokens: reply.usage?.cachedTokens ?? 0,
        outputTokens: reply.usage?.outputTokens ?? output,
        ...(reply.usage?.reasoningTokens !== undefined
          ? { reasoningTokens: reply.usage.reasoningTokens }
          : {}),
      },
      finishReason: reply.finishReason !== undefined
        ? reply.finishReason
        : toolCalls.length > 0
        ? "tool_calls"
        : "stop",
      provider: this.provider,
      model: this.model,
    };
  }
}

/** Maps one text to its vector, or to an error that fails the whole batch. */
export type EmbedFunction = (text: string) => number[] | Error;

/**
 * A deterministic embedder for tests: by default each text maps to a fixed L2-normalised
 * vector of `dimensions` (8) components derived from its hash. Records every batch.
 *
 * @example
 * ```ts
 * import { ScriptedEmbedder } from "./scripted.ts";
 * const embedder = new ScriptedEmbedder();
 * const { vectors } = await embedder.embed(["a", "b", "a"]);
 * if (JSON.stringify(vectors[0]) !== JSON.stringify(vectors[2])) throw new Error("unstable");
 * ```
 */
export class ScriptedEmbedder implements Embedder {
  /** Provider id. */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** Every batch received, in order. */
  readonly requests: string[][] = [];
  readonly #embedOne: EmbedFunction;

  /** Creates an embedder using `embedOne`, or the hash-based default of `dimensions`. */
  constructor(
    embedOne?: EmbedFunction,
    options: ScriptedOptions & { dimensions?: number } = {},
  ) {
    const dimensions = options.dimensions ?? 8;
    this.#embedOne = embedOne ?? ((text) => hashVector(text, dimensions));
    this.provider = options.provider ?? "scripted";
    this.model = options.model ?? "scripted-embed";
  }

  /** Embeds a batch. */
  embed(texts: string[], options: CallOptions = {}): Promise<EmbedResponse> {
    this.requests.push([...texts]);
    try {
      options.signal?.throwIfAborted();
      const vectors = texts.map((text) => {
        const vector = this.#embedOne(text);
        if (vector instanceof Error) throw vector;
        return vector;
      });
      const inputTokens = texts.reduce((n, t) => n + estimateTokens(t), 0);
      return Promise.resolve({ vectors, usage: { inputTokens } });
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

function hashVector(text: string, dimensions: number): number[] {
  const raw = Array.from({ length: dimensions }, (_, i) => hashUnit(text, i) - 0.5);
  const norm = Math.hypot(...raw) || 1;
  return raw.map((x) => x / norm);
}
