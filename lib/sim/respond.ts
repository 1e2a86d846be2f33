/**
 * The one place simulated models build a {@linkcode ChatResponse}: text, parsed value or
 * tool calls, with usage estimated from the request and the answer (the simulator has no
 * tokenizer, and its calls cost nothing).
 *
 * @module
 */
import type { ChatRequest, ChatResponse, ToolCall } from "../llm/schema.ts";
import { estimateTokens } from "../util/tokens.ts";

/**
 * A simulated response: `text` defaults to the JSON of `parsed`.
 *
 * @example
 * ```ts
 * import { simResponse } from "./respond.ts";
 * const r = simResponse("sim-critic", { messages: [{ role: "user", content: "hi" }] }, {
 *   parsed: { ok: true },
 * });
 * if (r.text !== '{"ok":true}' || r.provider !== "sim") throw new Error();
 * ```
 */
export function simResponse(
  model: string,
  request: ChatRequest,
  body: { text?: string; parsed?: unknown; toolCalls?: ToolCall[] },
): ChatResponse {
  const text = body.text ?? (body.parsed !== undefined ? JSON.stringify(body.parsed) : "");
  const input = request.messages.reduce((n, m) => n + estimateTokens(m.content), 0) +
    estimateTokens(JSON.stringify(request.tools ?? []));
  const toolCalls = body.toolCalls ?? [];
  return {
    text,
    ...(body.parsed !== undefined ? { parsed: body.parsed } : {}),
    toolCalls,
    usage: {
      inputTokens: input,
      cachedTokens: 0,
      outputTokens: estimateTokens(text) +
        toolCalls.reduce((n, c) => n + estimateTokens(c.arguments), 0),
    },
    finishReason: toolCalls.length > 0 ? "tool_calls" : "stop",
    provider: "sim",
    model,
  };
}
