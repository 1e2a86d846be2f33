/**
 * Translation between the provider-neutral {@linkcode ChatRequest}/{@linkcode ChatResponse}
 * and the OpenAI Chat Completions and Gemini `generateContent` wire bodies, for the local
 * model server (`serve.ts`). Only the subset of each format that rpt uses is understood;
 * anything else is ignored, and a body that does not fit is answered with HTTP 400.
 *
 * @module
 */
import { z } from "zod";
import { ChatRequest, type ChatResponse, type ToolCall } from "./schema.ts";
import { ProviderError } from "./model.ts";

/** A request the server refuses, with the HTTP status to answer. */
export class WireError extends Error {
  /** HTTP status to answer. */
  readonly status: number;
  /** Creates a wire error. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "WireError";
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------------
// OpenAI

const OpenAIContent = z.union([
  z.string(),
  z.null(),
  z.array(z.object({ type: z.string(), text: z.string().optional() })),
]);

const OpenAIMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: OpenAIContent.optional(),
  name: z.string().optional(),
  tool_call_id: z.string().optional(),
  tool_calls: z.array(z.object({
    id: z.string(),
    function: z.object({ name: z.string(), arguments: z.string() }),
  })).optional(),
});

const OpenAIChatBody = z.object({
  model: z.string(),
  messages: z.array(OpenAIMessage),
  tools: z.array(z.object({
    function: z.object({
      name: z.string(),
      description: z.string().optional(),
      parameters: z.record(z.string(), z.unknown()).optional(),
    }),
  })).optional(),
  tool_choice: z.union([z.string(), z.object({})]).optional(),
  response_format: z.object({
    type: z.string(),
    json_schema: z.object({
      name: z.string(),
      schema: z.record(z.string(), z.unknown()).optional(),
    }).optional(),
  }).optional(),
  temperature: z.number().nullable().optional(),
  max_tokens: z.number().nullable().optional(),
  max_completion_tokens: z.number().nullable().optional(),
  seed: z.number().nullable().optional(),
  reasoning_effort: ChatRequest.shape.reasoningEffort.nullable(),
});

/** The OpenAI embeddings request body (text inputs only). */
export const OpenAIEmbedBody = z.object({
  model: z.string(),
  input: z.union([z.string(), z.array(z.string())]),
  encoding_format: z.enum(["float", "base64"]).optional(),
});

function contentText(content: z.infer<typeof OpenAIContent> | undefined): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text ?? "").join("");
}

/** Converts an OpenAI Chat Completions body into a validated {@linkcode ChatRequest}. */
export function fromOpenAIRequest(body: unknown): ChatRequest {
  const parsed = OpenAIChatBody.safeParse(body);
  if (!parsed.success) {
    throw new WireError(400, `bad chat completions body: ${z.prettifyError(parsed.error)}`);
  }
  const b = parsed.data;
  const toolNames = new Map<string, string>();
  const messages = b.messages.map((m) => {
    const content = contentText(m.content);
    if (m.role === "system" || m.role === "developer") return { role: "system" as const, content };
    if (m.role === "assistant") {
      const toolCalls = m.tool_calls?.map((c) => {
        toolNames.set(c.id, c.function.name);
        return { id: c.id, name: c.function.name, arguments: c.function.arguments };
      });
      return { role: "assistant" as const, content, ...(toolCalls?.length ? { toolCalls } : {}) };
    }
    if (m.role === "tool") {
      const name = m.name ?? (m.tool_call_id ? toolNames.get(m.tool_call_id) : undefined);
      return {
        role: "tool" as const,
        content,
        ...(m.tool_call_id ? { toolCallId: m.tool_call_id } : {}),
        ...(name ? { name } : {}),
      };
    }
    return { role: "user" as const, content };
  });
  const choice = b.tool_choice;
  const schema = b.response_format?.type === "json_schema"
    ? b.response_format.json_schema
    : undefined;
  return validated({
    messages,
    tools: b.tools?.map((t) => ({
      name: t.function.name,
      description: t.function.description ?? "",
      parameters: t.function.parameters ?? { type: "object", properties: {} },
    })),
    toolChoice: choice === undefined
      ? undefined
      : typeof choice === "string"
      ? (choice === "none" || choice === "required" ? choice : "auto")
      : "required",
    outputSchema: schema ? { name: schema.name, schema: schema.schema ?? {} } : undefined,
    temperature: b.temperature ?? undefined,
    maxTokens: b.max_completion_tokens ?? b.max_tokens ?? undefined,
    seed: b.seed ?? undefined,
    reasoningEffort: b.reasoning_effort ?? undefined,
  });
}

const OPENAI_FINISH = new Set(["stop", "length", "tool_calls", "content_filter", "function_call"]);

function openAIFinish(response: ChatResponse): string {
  if (response.toolCalls.length > 0) return "tool_calls";
  const raw = response.finishReason;
  if (raw && OPENAI_FINISH.has(raw)) return raw;
  if (raw === "MAX_TOKENS") return "length";
  if (raw === "SAFETY" || raw === "RECITATION" || raw === "PROHIBITED_CONTENT") {
    return "content_filter";
  }
  return "stop";
}

/** The OpenAI Chat Completions response body for a {@linkcode ChatResponse}. */
export function toOpenAIResponse(response: ChatResponse, model: string, id: number): unknown {
  const calls = response.toolCalls;
  return {
    id: `chatcmpl-${id}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: calls.length > 0 && response.text === "" ? null : response.text,
        refusal: null,
        ...(calls.length > 0
          ? {
            tool_calls: calls.map((c) => ({
              id: c.id,
              type: "function",
              function: { name: c.name, arguments: c.arguments },
            })),
          }
          : {}),
      },
      logprobs: null,
      finish_reason: openAIFinish(response),
    }],
    usage: {
      prompt_tokens: response.usage.inputTokens,
      completion_tokens: response.usage.outputTokens,
      total_tokens: response.usage.inputTokens + response.usage.outputTokens,
      prompt_tokens_details: { cached_tokens: response.usage.cachedTokens },
      completion_tokens_details: { reasoning_tokens: response.usage.reasoningTokens ?? 0 },
    },
  };
}

const OPENAI_ERROR_TYPE: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  404: "not_found_error",
  429: "rate_limit_exceeded",
};

/** An error body in OpenAI's shape. */
export function openAIErrorBody(status: number, message: string): unknown {
  return {
    error: {
      message,
      type: OPENAI_ERROR_TYPE[status] ?? (status >= 500 ? "server_error" : "invalid_request_error"),
      param: null,
      code: status === 404 ? "model_not_found" : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Gemini

const GeminiPart = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  functionCall: z.object({
    id: z.string().optional(),
    name: z.string(),
    args: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  functionResponse: z.object({
    id: z.string().optional(),
    name: z.string(),
    response: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
});

const GeminiContent = z.object({
  role: z.string().optional(),
  parts: z.array(GeminiPart),
});

const GeminiChatBody = z.object({
  contents: z.array(GeminiContent),
  systemInstruction: GeminiContent.optional(),
  tools: z.array(z.object({
    functionDeclarations: z.array(z.object({
      name: z.string(),
      description: z.string().optional(),
      parametersJsonSchema: z.record(z.string(), z.unknown()).optional(),
      parameters: z.record(z.string(), z.unknown()).optional(),
    })).optional(),
  })).optional(),
  toolConfig: z.object({
    functionCallingConfig: z.object({ mode: z.string().optional() }).optional(),
  }).optional(),
  generationConfig: z.object({
    temperature: z.number().optional(),
    maxOutputTokens: z.number().optional(),
    seed: z.number().optional(),
    responseMimeType: z.string().optional(),
    responseJsonSchema: z.record(z.string(), z.unknown()).optional(),
    responseSchema: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
});

/** The Gemini `embedContent` / `batchEmbedContents` body (text parts only). */
export const GeminiEmbedBody = z.object({
  content: z.object({ parts: z.array(z.object({ text: z.string().optional() })) }).optional(),
  requests: z.array(z.object({
    content: z.object({ parts: z.array(z.object({ text: z.string().optional() })) }),
  })).optional(),
});

/**
 * A tool result travels as a `functionResponse.response` object: JSON objects as they are,
 * anything else as `{output: text}` (the key Gemini documents for function output).
 */
export function toolResultToGemini(content: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(content);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Not JSON: wrapped below.
  }
  return { output: content };
}

/** Inverse of {@linkcode toolResultToGemini} (JSON objects come back re-serialised). */
export function toolResultFromGemini(response: Record<string, unknown> | undefined): string {
  if (!response) return "";
  const keys = Object.keys(response);
  if (keys.length === 1 && typeof response.output === "string") return response.output;
  return JSON.stringify(response);
}

/** Converts a Gemini `generateContent` body into a validated {@linkcode ChatRequest}. */
export function fromGeminiRequest(body: unknown): ChatRequest {
  const parsed = GeminiChatBody.safeParse(body);
  if (!parsed.success) {
    throw new WireError(400, `bad generateContent body: ${z.prettifyError(parsed.error)}`);
  }
  const b = parsed.data;
  const messages: ChatRequest["messages"] = [];
  const system = b.systemInstruction?.parts.map((p) => p.text ?? "").join("");
  if (system) messages.push({ role: "system", content: system });
  // Gemini may omit call ids: a response is then matched to the oldest open call of its name.
  const open = new Map<string, string[]>();
  let synthetic = 0;
  for (const content of b.contents) {
    if (content.role === "model") {
      const text = content.parts.filter((p) => !p.thought).map((p) => p.text ?? "").join("");
      const toolCalls: ToolCall[] = [];
      for (const part of content.parts) {
        const call = part.functionCall;
        if (!call) continue;
        const id = call.id ?? `call_${synthetic++}`;
        open.set(call.name, [...(open.get(call.name) ?? []), id]);
        toolCalls.push({ id, name: call.name, arguments: JSON.stringify(call.args ?? {}) });
      }
      messages.push({
        role: "assistant",
        content: text,
        ...(toolCalls.length ? { toolCalls } : {}),
      });
      continue;
    }
    let text = "";
    for (const part of content.parts) {
      const result = part.functionResponse;
      if (!result) {
        text += part.text ?? "";
        continue;
      }
      const id = result.id ?? open.get(result.name)?.shift() ?? `call_${synthetic++}`;
      messages.push({
        role: "tool",
        content: toolResultFromGemini(result.response),
        toolCallId: id,
        name: result.name,
      });
    }
    if (text !== "" || !content.parts.some((p) => p.functionResponse)) {
      messages.push({ role: "user", content: text });
    }
  }
  const declarations = b.tools?.flatMap((t) => t.functionDeclarations ?? []);
  const mode = b.toolConfig?.functionCallingConfig?.mode;
  const g = b.generationConfig;
  const schema = g?.responseJsonSchema ?? g?.responseSchema;
  return validated({
    messages,
    tools: declarations?.length
      ? declarations.map((d) => ({
        name: d.name,
        description: d.description ?? "",
        parameters: d.parametersJsonSchema ?? d.parameters ?? { type: "object", properties: {} },
      }))
      : undefined,
    toolChoice: mode === "ANY" ? "required" : mode === "NONE" ? "none" : mode ? "auto" : undefined,
    // Gemini schemas carry no name; the client puts it in `title` so that it survives.
    outputSchema: schema
      ? { name: typeof schema.title === "string" ? schema.title : "response", schema }
      : undefined,
    temperature: g?.temperature,
    maxTokens: g?.maxOutputTokens,
    seed: g?.seed,
  });
}

function geminiFinish(raw: string | null): string {
  if (raw === null || raw === "stop" || raw === "tool_calls") return "STOP";
  if (raw === "length") return "MAX_TOKENS";
  if (raw === "content_filter") return "SAFETY";
  return raw === raw.toUpperCase() ? raw : "STOP";
}

function argsObject(call: ToolCall): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(call.arguments);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Reported as MALFORMED_FUNCTION_CALL below.
  }
  return undefined;
}

/**
 * The Gemini `generateContent` response body for a {@linkcode ChatResponse}. Function calls
 * carry no id (as the Gemini API sends them); arguments that are not a JSON object cannot
 * be expressed on this wire and become Gemini's own `MALFORMED_FUNCTION_CALL` with no parts.
 */
export function toGeminiResponse(response: ChatResponse, model: string, id: number): unknown {
  const args = response.toolCalls.map(argsObject);
  const malformed = args.some((a) => a === undefined);
  const parts: Record<string, unknown>[] = [];
  if (!malformed) {
    if (response.text !== "") parts.push({ text: response.text });
    response.toolCalls.forEach((call, i) => {
      parts.push({ functionCall: { name: call.name, args: args[i] } });
    });
  }
  const u = response.usage;
  return {
    candidates: [{
      content: { role: "model", parts },
      finishReason: malformed ? "MALFORMED_FUNCTION_CALL" : geminiFinish(response.finishReason),
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount: u.inputTokens,
      // Gemini counts thoughts apart from the candidates; the client adds them back.
      candidatesTokenCount: u.outputTokens - (u.reasoningTokens ?? 0),
      ...(u.reasoningTokens ? { thoughtsTokenCount: u.reasoningTokens } : {}),
      totalTokenCount: u.inputTokens + u.outputTokens,
      ...(u.cachedTokens > 0 ? { cachedContentTokenCount: u.cachedTokens } : {}),
    },
    modelVersion: model,
    responseId: `resp-${id}`,
  };
}

const GEMINI_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  408: "DEADLINE_EXCEEDED",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** An error body in Gemini's (Google RPC) shape. */
export function geminiErrorBody(status: number, message: string): unknown {
  return { error: { code: status, message, status: GEMINI_STATUS[status] ?? "UNKNOWN" } };
}

function validated(request: Record<string, unknown>): ChatRequest {
  const clean = Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined));
  const parsed = ChatRequest.safeParse(clean);
  if (!parsed.success) throw new WireError(400, `bad request: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** How a served model's failure is answered on the wire: status, message, retry headers. */
export interface WireFailure {
  /** HTTP status. */
  status: number;
  /** Error message. */
  message: string;
  /** `retry-after` and `retry-after-ms` when the model asked for a delay. */
  headers: Record<string, string>;
}

/**
 * The wire form of anything a served model throws: a {@linkcode WireError} keeps its status;
 * a {@linkcode ProviderError} its status (else 503 when retryable, 500 when not) and its
 * `Retry-After`; anything else is a 500. Used for whole responses and for batch lines alike.
 */
export function wireFailure(error: unknown): WireFailure {
  if (error instanceof WireError) {
    return { status: error.status, message: error.message, headers: {} };
  }
  if (error instanceof ProviderError) {
    const headers: Record<string, string> = {};
    if (error.retryAfterMs !== undefined) {
      headers["retry-after-ms"] = String(error.retryAfterMs);
      headers["retry-after"] = String(Math.ceil(error.retryAfterMs / 1000));
    }
    return {
      status: error.status ?? (error.retryable ? 503 : 500),
      message: error.message,
      headers,
    };
  }
  return {
    status: 500,
    message: error instanceof Error ? error.message : String(error),
    headers: {},
  };
}
