/**
 * Per-role request settings: a run's temperature, output-token limit, OpenAI reasoning effort
 * and Gemini thinking level for one role (target, optimizer, critic, ClusterFusion's LLM),
 * put on every request that role sends. The loop's code asks for what it needs (a tool,
 * an output schema); how the model samples is the run's setting, applied here once rather
 * than at every call site. The settings are part of the request, so they are part of the
 * cache key too.
 *
 * @module
 */
import type { CallOptions, ChatModel } from "./model.ts";
import type { ChatRequest, ChatResponse } from "./schema.ts";

/** What a role's requests are sent with; a field left out keeps the request's own value. */
export interface RequestSettings {
  temperature?: number;
  maxTokens?: number;
  reasoningEffort?: ChatRequest["reasoningEffort"];
  thinkingLevel?: ChatRequest["thinkingLevel"];
}

/**
 * `model` with `settings` put on every request (over the request's own values). With no
 * setting the model itself comes back.
 *
 * @example
 * ```ts
 * import { withRequestSettings } from "./request_settings.ts";
 * import type { ChatModel } from "./model.ts";
 * const seen: unknown[] = [];
 * const model: ChatModel = { provider: "x", model: "m", chat: (r) => {
 *   seen.push(r);
 *   return Promise.resolve({ text: "", toolCalls: [], finishReason: "stop", provider: "x",
 *     model: "m", usage: { inputTokens: 0, cachedTokens: 0, outputTokens: 0 } });
 * } };
 * await withRequestSettings(model, { temperature: 1, thinkingLevel: "high" })
 *   .chat({ messages: [{ role: "user", content: "hi" }], temperature: 0 });
 * const r = seen[0] as { temperature: number; thinkingLevel: string };
 * if (r.temperature !== 1 || r.thinkingLevel !== "high") throw new Error();
 * ```
 */
export function withRequestSettings(model: ChatModel, settings: RequestSettings): ChatModel {
  const set = Object.fromEntries(
    Object.entries(settings).filter(([, v]) => v !== undefined),
  ) as RequestSettings;
  if (Object.keys(set).length === 0) return model;
  const out: ChatModel & { baseURL?: string } = {
    provider: model.provider,
    model: model.model,
    chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
      return model.chat({ ...request, ...set }, options);
    },
  };
  // The limiter and the cache identity key on a model's base URL: keep it visible.
  const baseURL = (model as { baseURL?: string }).baseURL;
  if (baseURL !== undefined) out.baseURL = baseURL;
  return out;
}
