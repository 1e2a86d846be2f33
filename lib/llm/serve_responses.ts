/**
 * The OpenAI Responses API wire format for the local model server (`serve.ts`): a
 * `POST /v1/responses` body into a {@linkcode ChatRequest}, and a {@linkcode ChatResponse}
 * into a Responses API body. Only the subset rpt uses is understood (message, function_call,
 * function_call_output and reasoning input items; function tools; `text.format`
 * `json_schema`); a body outside it is answered with HTTP 400, as is anything that needs
 * server-side state, which this server never keeps (`previous_response_id`, a reasoning item
 * without its encrypted content).
 *
 * Like the real API with `include: ["reasoning.encrypted_content"]`, a reply carries a
 * reasoning item whose encrypted content only this server can read back, so a client's
 * stateless replay of reasoning items is exercised (and checked) offline.
 *
 * @module
 */
import { z } from "zod";
import { ChatRequest, type ChatResponse, type ToolCall } from "./schema.ts";
import { WireError } from "./serve_wire.ts";

const Part = z.object({
  type: z.string(),
  text: z.string().optional(),
  refusal: z.string().optional(),
});

const Content = z.union([z.string(), z.array(Part)]);

const MessageItem = z.object({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: Content,
});

const CallItem = z.object({
  type: z.literal("function_call"),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
});

const CallOutputItem = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string(),
  output: Content,
});

const ReasoningItem = z.object({
  type: z.literal("reasoning"),
  id: z.string().optional(),
  encrypted_content: z.string().nullable().optional(),
});

const InputItem = z.union([CallItem, CallOutputItem, ReasoningItem, MessageItem]);

const ResponsesBody = z.object({
  model: z.string(),
  input: z.union([z.string(), z.array(InputItem)]),
  instructions: z.string().nullable().optional(),
  tools: z.array(z.object({
    type: z.literal("function"),
    name: z.string(),
    description: z.string().nullable().optional(),
    parameters: z.record(z.string(), z.unknown()).nullable().optional(),
    strict: z.boolean().nullable().optional(),
  })).optional(),
  tool_choice: z.union([z.string(), z.object({ type: z.string() })]).optional(),
  text: z.object({
    format: z.object({
      type: z.string(),
      name: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
    }).optional(),
  }).optional(),
  temperature: z.number().nullable().optional(),
  max_output_tokens: z.number().nullable().optional(),
  reasoning: z.object({ effort: z.string().nullable().optional() }).nullable().optional(),
  include: z.array(z.string()).nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
});

type ResponsesBody = z.infer<typeof ResponsesBody>;

const ENCRYPTED_REASONING = "reasoning.encrypted_content";
const SEAL = "rpt-serve-reasoning";

function text(content: z.infer<typeof Content>): string {
  if (typeof content === "string") return content;
  return content.map((part) => part.text ?? "").join("");
}

/** The opaque content of a reasoning item this server issued for `model`. */
function seal(model: string, id: number): string {
  return btoa(JSON.stringify({ seal: SEAL, model, response: id }));
}

/** Refuses a reasoning item this server cannot read back for `model`, as the real API does. */
function checkReasoning(item: z.infer<typeof ReasoningItem>, model: string): void {
  if (!item.encrypted_content) {
    throw new WireError(
      400,
      `reasoning item ${item.id ?? "(no id)"} has no encrypted_content: this server stores ` +
        `nothing, so reasoning must be replayed with include: ["${ENCRYPTED_REASONING}"]`,
    );
  }
  let sealed: { seal?: unknown; model?: unknown } | undefined;
  try {
    sealed = JSON.parse(atob(item.encrypted_content));
  } catch {
    sealed = undefined;
  }
  if (sealed?.seal !== SEAL || sealed.model !== model) {
    throw new WireError(
      400,
      `the encrypted content of reasoning item ${item.id ?? "(no id)"} could not be verified ` +
        `for model ${model}`,
    );
  }
}

/** Input items as neutral messages: function calls join the assistant turn before them. */
function toMessages(b: ResponsesBody): ChatRequest["messages"] {
  const messages: ChatRequest["messages"] = [];
  if (b.instructions) messages.push({ role: "system", content: b.instructions });
  if (typeof b.input === "string") return [...messages, { role: "user", content: b.input }];
  const names = new Map<string, string>();
  let turn: { role: "assistant"; content: string; toolCalls?: ToolCall[] } | undefined;
  for (const item of b.input) {
    if (item.type === "reasoning") {
      checkReasoning(item, b.model);
      continue;
    }
    if (item.type === "function_call") {
      names.set(item.call_id, item.name);
      if (!turn) {
        turn = { role: "assistant", content: "" };
        messages.push(turn);
      }
      turn.toolCalls = [
        ...(turn.toolCalls ?? []),
        { id: item.call_id, name: item.name, arguments: item.arguments },
      ];
      continue;
    }
    turn = undefined;
    if (item.type === "function_call_output") {
      const name = names.get(item.call_id);
      messages.push({
        role: "tool",
        content: text(item.output),
        toolCallId: item.call_id,
        ...(name ? { name } : {}),
      });
      continue;
    }
    const content = text(item.content);
    if (item.role === "assistant") {
      turn = { role: "assistant", content };
      messages.push(turn);
    } else {
      messages.push({ role: item.role === "user" ? "user" : "system", content });
    }
  }
  return messages;
}

/** Converts a Responses API body into a validated {@linkcode ChatRequest}. */
export function fromResponsesRequest(body: unknown): ChatRequest {
  const parsed = ResponsesBody.safeParse(body);
  if (!parsed.success) {
    throw new WireError(400, `bad responses body: ${z.prettifyError(parsed.error)}`);
  }
  const b = parsed.data;
  if (b.previous_response_id) {
    throw new WireError(
      400,
      "previous_response_id is not supported: this server stores no responses; send the " +
        "conversation as input items",
    );
  }
  const choice = b.tool_choice;
  const format = b.text?.format?.type === "json_schema" ? b.text.format : undefined;
  const effort = ChatRequest.shape.reasoningEffort.safeParse(b.reasoning?.effort ?? undefined);
  if (!effort.success) {
    throw new WireError(400, `bad reasoning.effort: ${z.prettifyError(effort.error)}`);
  }
  const request = {
    messages: toMessages(b),
    tools: b.tools?.map((t) => ({
      name: t.name,
      description: t.description ?? "",
      parameters: t.parameters ?? { type: "object", properties: {} },
    })),
    toolChoice: choice === undefined
      ? undefined
      : typeof choice === "string"
      ? (choice === "none" || choice === "required" ? choice : "auto")
      : "required",
    outputSchema: format
      ? { name: format.name ?? "response", schema: format.schema ?? {} }
      : undefined,
    temperature: b.temperature ?? undefined,
    maxTokens: b.max_output_tokens ?? undefined,
    reasoningEffort: effort.data,
  };
  const clean = Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined));
  const checked = ChatRequest.safeParse(clean);
  if (!checked.success) {
    throw new WireError(400, `bad request: ${z.prettifyError(checked.error)}`);
  }
  return checked.data;
}

/** `completed`, or `incomplete` with the reason, from a provider-neutral finish reason. */
function status(raw: string | null): { status: string; incomplete_details: unknown } {
  if (raw === "length" || raw === "MAX_TOKENS" || raw === "max_output_tokens") {
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  }
  if (raw === "content_filter" || raw === "SAFETY") {
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  }
  return { status: "completed", incomplete_details: null };
}

/**
 * The Responses API body for a {@linkcode ChatResponse} to `body`: a reasoning item first
 * (when the client asked for encrypted reasoning or the model reports reasoning tokens),
 * then the message, then one `function_call` item per tool call.
 */
export function toResponsesResponse(
  response: ChatResponse,
  model: string,
  id: number,
  body: unknown,
): unknown {
  const b = (body ?? {}) as Partial<ResponsesBody>;
  const include = b.include?.includes(ENCRYPTED_REASONING) ?? false;
  const u = response.usage;
  const output: Record<string, unknown>[] = [];
  if (include || (u.reasoningTokens ?? 0) > 0) {
    output.push({
      type: "reasoning",
      id: `rs_${id}`,
      summary: [],
      ...(include ? { encrypted_content: seal(model, id) } : {}),
    });
  }
  const calls = response.toolCalls;
  if (response.text !== "" || calls.length === 0) {
    output.push({
      type: "message",
      id: `msg_${id}`,
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: response.text, annotations: [] }],
    });
  }
  calls.forEach((call, i) => {
    output.push({
      type: "function_call",
      id: `fc_${id}_${i}`,
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
      status: "completed",
    });
  });
  return {
    id: `resp_${id}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    model,
    ...status(response.finishReason),
    error: null,
    instructions: b.instructions ?? null,
    output,
    tools: b.tools ?? [],
    tool_choice: b.tool_choice ?? "auto",
    parallel_tool_calls: true,
    temperature: b.temperature ?? null,
    top_p: null,
    text: b.text ?? { format: { type: "text" } },
    reasoning: b.reasoning ?? null,
    store: false,
    metadata: {},
    usage: {
      input_tokens: u.inputTokens,
      input_tokens_details: { cached_tokens: u.cachedTokens },
      output_tokens: u.outputTokens,
      output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
      total_tokens: u.inputTokens + u.outputTokens,
    },
  };
}
