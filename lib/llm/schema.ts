/**
 * The schemas of the model interface (`model.ts`): chat messages, tools, structured-output
 * requests, requests, responses and embeddings, in the provider-neutral form every
 * `ChatModel` and `Embedder` speaks, and {@linkcode toJsonSchema}, which turns a zod schema
 * into the JSON Schema providers are sent.
 *
 * @module
 */
import { z } from "zod";
import { Usage } from "./usage.ts";

/** A JSON Schema object, as sent to providers for tools and structured output. */
export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema for a zod schema, without the `$schema` key (Gemini rejects it and
 * OpenAI ignores it).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { toJsonSchema } from "./schema.ts";
 * const schema = toJsonSchema(z.object({ answer: z.string() }));
 * if (schema.type !== "object" || "$schema" in schema) throw new Error("unexpected");
 * ```
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  let json = jsonSchemas.get(schema);
  if (json === undefined) {
    json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) as JsonSchema;
    delete json.$schema;
    jsonSchemas.set(schema, json);
  }
  // A copy, so no caller can change another's schema; converting costs ~6x a copy and ran
  // on every critic call.
  return structuredClone(json);
}

const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

/** One tool call requested by a model; `arguments` is the raw JSON text (it may be malformed). */
export const ToolCall = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.string(),
});
/** One tool call requested by a model. */
export type ToolCall = z.infer<typeof ToolCall>;

/**
 * Opaque state a provider attached to its own reply and wants back when the conversation is
 * replayed (the OpenAI Responses API's encrypted reasoning items). `origin` names the
 * provider, API and model that produced it; every other model ignores it, and its producer
 * echoes it only while the message it rides on is unchanged.
 */
export const ProviderState = z.object({
  /** Who produced it, e.g. `responses:openai:gpt-5`. */
  origin: z.string(),
  /** The provider's own items, kept verbatim. */
  items: z.array(z.record(z.string(), z.unknown())),
});
/** Opaque provider state on an assistant message. */
export type ProviderState = z.infer<typeof ProviderState>;

/** A chat message in the provider-neutral form every `ChatModel` accepts. */
export const ChatMessage = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
  /** On assistant messages: the tool calls the model made. */
  toolCalls: z.array(ToolCall).optional(),
  /** On tool messages: the id of the call this message answers. */
  toolCallId: z.string().optional(),
  /** On tool messages: the name of the tool that produced it. */
  name: z.string().optional(),
  /** On assistant messages: the reply's {@linkcode ProviderState}, copied from the response. */
  providerState: ProviderState.optional(),
});
/** A chat message. */
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A tool the model may call; `parameters` is a JSON Schema object. */
export const ToolSpec = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
});
/** A tool the model may call. */
export type ToolSpec = z.infer<typeof ToolSpec>;

/** A structured-output request: the model must answer with JSON matching `schema`. */
export const OutputSchema = z.object({
  name: z.string(),
  schema: z.record(z.string(), z.unknown()),
});
/** A structured-output request. */
export type OutputSchema = z.infer<typeof OutputSchema>;

/** Reasoning effort of OpenAI reasoning models (the Responses API's `reasoning.effort`). */
export const ReasoningEffort = z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]);
/** A reasoning effort. */
export type ReasoningEffort = z.infer<typeof ReasoningEffort>;

/** Thinking level of Gemini thinking models (`thinkingConfig.thinkingLevel`). */
export const ThinkingLevel = z.enum(["minimal", "low", "medium", "high"]);
/** A thinking level. */
export type ThinkingLevel = z.infer<typeof ThinkingLevel>;

/**
 * Everything that determines a model's response. It is plain JSON so that it can be
 * hashed for the cache, recorded in the run record and sent over the wire.
 */
export const ChatRequest = z.object({
  messages: z.array(ChatMessage).min(1),
  tools: z.array(ToolSpec).optional(),
  /** `required` forces a tool call; `none` forbids one. */
  toolChoice: z.enum(["auto", "required", "none"]).optional(),
  outputSchema: OutputSchema.optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
  /**
   * Reasoning effort of OpenAI reasoning models (gpt-5*, o*); other models ignore it. Part
   * of the request, and so of the cache key, because it changes the answer.
   */
  reasoningEffort: ReasoningEffort.optional(),
  /**
   * Thinking level of Gemini thinking models (`thinkingConfig.thinkingLevel`); other
   * providers ignore it. Part of the cache key, like the reasoning effort.
   */
  thinkingLevel: ThinkingLevel.optional(),
  /** Distinguishes repeated samples of the same request (part of the cache key). */
  sampleIndex: z.number().int().min(0).optional(),
});
/** A chat request. */
export type ChatRequest = z.infer<typeof ChatRequest>;

/** A model's answer: text, a parsed object (structured output), or tool calls. */
export const ChatResponse = z.object({
  text: z.string(),
  /** Set when the request asked for structured output and the text parsed as JSON. */
  parsed: z.unknown().optional(),
  toolCalls: z.array(ToolCall),
  usage: Usage,
  /** The provider's own finish reason, unchanged (`stop`, `tool_calls`, `STOP`, ...). */
  finishReason: z.string().nullable(),
  provider: z.string(),
  model: z.string(),
  /** True when served from the on-disk cache. */
  cached: z.boolean().optional(),
  /** State to copy onto the assistant message that records this reply (see ProviderState). */
  providerState: ProviderState.optional(),
});
/** A model's answer. */
export type ChatResponse = z.infer<typeof ChatResponse>;

/** Result of embedding a batch of texts. */
export const EmbedResponse = z.object({
  vectors: z.array(z.array(z.number())),
  usage: z.object({ inputTokens: z.number().int().min(0) }),
});
/** Result of embedding a batch of texts. */
export type EmbedResponse = z.infer<typeof EmbedResponse>;
