/**
 * OpenAI provider on the Responses API (`client.responses.create` in `npm:openai`): the path of
 * `openai:` specs, as in the paper's reference code, and the API OpenAI's reasoning models
 * (gpt-5*, o*) are meant to be used through. Chat Completions stays in `openai.ts` for
 * OpenAI-compatible servers and `openai-chat:` specs; both share one client set-up and one
 * error mapping, so failures reach the wrapper (`wrap.ts`) as the same
 * {@linkcode ProviderError}s.
 *
 * How a {@linkcode ChatRequest} maps onto the API, and why:
 * - **Stateless.** Every request has `store: false` and carries the whole conversation as
 *   input items, so the request is a function of the `ChatRequest` alone and the response
 *   cache key (which hashes the `ChatRequest`) stays exact; no `previous_response_id`.
 * - **Reasoning items.** Reasoning models are asked for `include:
 *   ["reasoning.encrypted_content"]`. A reply with reasoning items carries its whole `output`
 *   as {@linkcode ProviderState} (origin `responses:<provider>:<model>`); the caller copies it
 *   onto the assistant message, and the next request echoes those items verbatim, as OpenAI
 *   asks for multi-turn tool loops. Only the same provider and model echo them, and only while
 *   the message's text and tool calls still match the items; otherwise the message is rebuilt
 *   from its neutral fields. Other providers never read the state.
 * - **System messages.** The leading system messages become `instructions` (joined by blank
 *   lines), which is how the reference passes the optimizer's instructions; a system message
 *   later in the conversation becomes a `system` input item in its place, keeping the order.
 * - **Tools** are `{type: "function", name, description, parameters, strict}` and **structured
 *   output** is `text.format` `json_schema`; `strict` is always sent (the Responses API
 *   defaults tools to strict) and is true exactly when {@linkcode isStrictCompatible}.
 * - **`create`, not `parse`.** Structured text is parsed as on the chat path
 *   (`parseStructuredText`), so a model's invalid JSON is `parsed: undefined` (a format error
 *   the caller counts) instead of an exception, and truncated function-call arguments come
 *   back as they are.
 * - **Sampling.** `temperature` is omitted for reasoning models, which reject it;
 *   `maxTokens` is `max_output_tokens`; `reasoningEffort` is `reasoning.effort` (reasoning
 *   models only). The Responses API has no `seed`: it is not sent.
 * - **Usage.** `input_tokens` (with `input_tokens_details.cached_tokens`) and
 *   `output_tokens` (with `output_tokens_details.reasoning_tokens`, which it includes).
 * - **Finish reason.** The response's own `status` (`completed`), or for an incomplete
 *   response its `incomplete_details.reason` (`max_output_tokens`, `content_filter`).
 *
 * @module
 */
import type OpenAI from "openai";
import type { ChatMessage, ChatRequest, ChatResponse, ProviderState, ToolCall } from "./schema.ts";
import { type CallOptions, type ChatModel, ProviderError } from "./model.ts";
import {
  isReasoningModel,
  isStrictCompatible,
  makeClient,
  type OpenAIOptions,
  toProviderError,
} from "./openai.ts";
import { parseStructuredText } from "./structured.ts";

type CreateParams = OpenAI.Responses.ResponseCreateParamsNonStreaming;
type InputItem = OpenAI.Responses.ResponseInputItem;
type ApiResponse = OpenAI.Responses.Response;

interface Who {
  provider: string;
  model: string;
}

/**
 * A {@linkcode ChatModel} on the OpenAI Responses API.
 *
 * @example
 * ```ts
 * import { OpenAIResponsesModel } from "./openai_responses.ts";
 * const model = new OpenAIResponsesModel({ model: "gpt-5", apiKey: "sk-..." });
 * const params = model.toParams({
 *   messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }],
 *   temperature: 0, reasoningEffort: "high",
 * });
 * if (params.instructions !== "Be brief." || params.temperature !== undefined) throw new Error();
 * if (params.reasoning?.effort !== "high" || params.store !== false) throw new Error();
 * ```
 */
export class OpenAIResponsesModel implements ChatModel {
  /** Provider id (`openai`). */
  readonly provider: string;
  /** Model name. */
  readonly model: string;
  /** The server's base URL when not api.openai.com (the wrapper keys its limiter on it). */
  readonly baseURL?: string;
  /** The {@linkcode ProviderState} origin of this model's replies. */
  readonly origin: string;
  readonly #client: OpenAI;
  readonly #reasoning: boolean;
  readonly #apiKey: string;

  /** Creates a model; nothing is sent until {@linkcode chat}. */
  constructor(opts: OpenAIOptions) {
    this.provider = opts.provider ?? "openai";
    this.model = opts.model;
    this.baseURL = opts.baseURL;
    this.origin = `responses:${this.provider}:${this.model}`;
    this.#client = makeClient(opts);
    this.#reasoning = opts.reasoning ?? isReasoningModel(opts.model);
    this.#apiKey = opts.apiKey;
  }

  /** The Responses API body for a request (exposed for tests and dry runs). */
  toParams(request: ChatRequest): CreateParams {
    const { instructions, input } = toInput(request.messages, this.origin, this);
    const params: CreateParams = { model: this.model, input, store: false };
    if (instructions !== undefined) params.instructions = instructions;
    if (request.tools?.length) {
      params.tools = request.tools.map((tool) => ({
        type: "function" as const,
        name: tool.name,
        description: tool.description,
        parameters: tool.parameters,
        strict: isStrictCompatible(tool.parameters),
      }));
      if (request.toolChoice) params.tool_choice = request.toolChoice;
    }
    if (request.outputSchema) {
      const schema = request.outputSchema.schema;
      params.text = {
        format: {
          type: "json_schema",
          name: request.outputSchema.name,
          schema,
          strict: isStrictCompatible(schema),
        },
      };
    }
    if (request.temperature !== undefined && !this.#reasoning) {
      params.temperature = request.temperature;
    }
    if (request.maxTokens !== undefined) params.max_output_tokens = request.maxTokens;
    if (this.#reasoning) {
      if (request.reasoningEffort !== undefined) {
        params.reasoning = { effort: request.reasoningEffort };
      }
      params.include = ["reasoning.encrypted_content"];
    }
    return params;
  }

  /** Sends one Responses API request. */
  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const params = this.toParams(request);
    let response: ApiResponse;
    try {
      response = await this.#client.responses.create(params, { signal: options.signal });
    } catch (error) {
      throw toProviderError(error, this.provider, this.model, options.signal, this.#apiKey);
    }
    return this.fromResponse(request, response);
  }

  /**
   * The {@linkcode ChatResponse} of a Responses API body answering `request`: used for
   * interactive calls and for the lines of a batch job alike, so both read the same.
   */
  fromResponse(request: ChatRequest, response: ApiResponse): ChatResponse {
    return readResponse(response, request, this);
  }
}

function malformed(who: Who, what: string): ProviderError {
  return new ProviderError({ ...who, message: `malformed response: ${what}`, retryable: true });
}

/** The SDK's response as our {@linkcode ChatResponse}; a body without `output` is malformed. */
function readResponse(
  response: ApiResponse,
  request: ChatRequest,
  model: Who & { origin: string },
): ChatResponse {
  const who = { provider: model.provider, model: model.model };
  if (!response || !Array.isArray(response.output)) throw malformed(who, "no output array");
  if (response.status === "failed") {
    const detail = response.error ? `${response.error.code}: ${response.error.message}` : "";
    throw new ProviderError({ ...who, message: `response failed ${detail}`, retryable: true });
  }
  const { text, toolCalls, reasoning } = readOutput(response.output as unknown[]);
  const parsed = request.outputSchema ? parseStructuredText(text) : undefined;
  const usage = response.usage;
  const reasoningTokens = usage?.output_tokens_details?.reasoning_tokens ?? 0;
  const finishReason = response.status === "incomplete"
    ? response.incomplete_details?.reason ?? "incomplete"
    : response.status ?? null;
  const answer: ChatResponse = {
    text,
    ...(parsed !== undefined ? { parsed } : {}),
    toolCalls,
    usage: {
      inputTokens: usage?.input_tokens ?? 0,
      cachedTokens: usage?.input_tokens_details?.cached_tokens ?? 0,
      outputTokens: usage?.output_tokens ?? 0,
      ...(reasoningTokens > 0 ? { reasoningTokens } : {}),
    },
    finishReason,
    provider: who.provider,
    model: who.model,
  };
  if (reasoning) {
    const items = structuredClone(response.output) as unknown as ProviderState["items"];
    answer.providerState = { origin: model.origin, items };
  }
  return answer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The answer text, the function calls, and whether replayable reasoning came back. */
function readOutput(items: unknown[]): { text: string; toolCalls: ToolCall[]; reasoning: boolean } {
  let text = "";
  const toolCalls: ToolCall[] = [];
  let reasoning = false;
  for (const item of items) {
    if (!isRecord(item)) continue;
    // Only encrypted reasoning can be replayed to a server that stores nothing.
    if (item.type === "reasoning" && typeof item.encrypted_content === "string") reasoning = true;
    if (item.type === "function_call") {
      toolCalls.push({
        id: String(item.call_id ?? ""),
        name: String(item.name ?? ""),
        arguments: typeof item.arguments === "string" ? item.arguments : "",
      });
    }
    if (item.type === "message" && Array.isArray(item.content)) {
      for (const part of item.content) {
        if (isRecord(part) && part.type === "output_text" && typeof part.text === "string") {
          text += part.text;
        }
      }
    }
  }
  return { text, toolCalls, reasoning };
}

/** Our messages as `instructions` plus input items (see the module doc for the choices). */
function toInput(
  messages: ChatMessage[],
  origin: string,
  who: Who,
): { instructions?: string; input: InputItem[] } {
  let lead = 0;
  while (messages[lead]?.role === "system") lead++;
  // With nothing after them, system messages stay input items: the input is never empty.
  if (lead === messages.length) lead = 0;
  const input: InputItem[] = [];
  for (const message of messages.slice(lead)) {
    switch (message.role) {
      case "system":
        input.push({ role: "system", content: message.content });
        break;
      case "user":
        input.push({ role: "user", content: message.content });
        break;
      case "assistant":
        input.push(...(replayed(message, origin) ?? assistantItems(message)));
        break;
      case "tool":
        if (!message.toolCallId) {
          throw new ProviderError({
            ...who,
            message: "a tool message needs toolCallId (the id of the call it answers)",
            retryable: false,
          });
        }
        input.push({
          type: "function_call_output",
          call_id: message.toolCallId,
          output: message.content,
        });
    }
  }
  const instructions = lead > 0
    ? messages.slice(0, lead).map((m) => m.content).join("\n\n")
    : undefined;
  return { ...(instructions !== undefined ? { instructions } : {}), input };
}

/** An assistant message from its neutral fields: its text, then one item per tool call. */
function assistantItems(message: ChatMessage): InputItem[] {
  const items: InputItem[] = [];
  const calls = message.toolCalls ?? [];
  if (message.content !== "" || calls.length === 0) {
    items.push({ role: "assistant", content: message.content });
  }
  for (const call of calls) {
    items.push({
      type: "function_call",
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
    });
  }
  return items;
}

/**
 * The reply's own output items, reasoning included, when the message carries this model's
 * state and still says what those items say; undefined otherwise.
 */
function replayed(message: ChatMessage, origin: string): InputItem[] | undefined {
  const state = message.providerState;
  if (state?.origin !== origin) return undefined;
  const { text, toolCalls } = readOutput(state.items);
  const calls = message.toolCalls ?? [];
  const same = text === message.content && toolCalls.length === calls.length &&
    toolCalls.every((c, i) =>
      c.id === calls[i]?.id && c.name === calls[i]?.name && c.arguments === calls[i]?.arguments
    );
  return same ? state.items as unknown as InputItem[] : undefined;
}
