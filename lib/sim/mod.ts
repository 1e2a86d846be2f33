/**
 * The offline simulator (DESIGN section 5): simulated target, critic and optimizer models
 * and a simulated embedder behind the ordinary {@linkcode ChatModel} / {@linkcode Embedder}
 * interfaces, deterministic for a seed. Specs `sim:target`, `sim:critic`,
 * `sim:optimizer`, `sim:embed` resolve here; models report provider `sim` and model
 * `sim-<role>`.
 *
 * Requests are dispatched by what they ask for, whatever the role: structured output named
 * `critique`, `topic_extraction`, `topic_assignment` or `topic_labels` gets the critic,
 * `patch_edits` (trace analyses) gets `patch_edits.ts`; `decision`, or a
 * conversation offering the `diagnose` tool to the optimizer, gets the optimizer; anything
 * else sent to the target is answered as a task example. Unknown structured-output requests
 * get a minimal schema-shaped answer whose strings say `[simulated]`.
 *
 * The bundled tasks are known from the data directory (and the synthetic task always); any
 * other task with gold answers is served when handed over as {@linkcode SimOptions.task}
 * (`served.ts`), with generic traps (`generic_traps.ts`).
 *
 * @example
 * ```ts
 * import { createSimChatModel } from "./mod.ts";
 * const critic = createSimChatModel("critic", { seed: 1, dataDir: "/nonexistent" });
 * const res = await critic.chat({
 *   messages: [{ role: "user", content: "k = 2\n[1] Scale words not converted: x\n[2] Too many decimal places: y" }],
 *   outputSchema: { name: "topic_extraction", schema: {} },
 * });
 * if ((res.parsed as { topics: unknown[] }).topics.length !== 2) throw new Error("unexpected");
 * ```
 *
 * @module
 */
import type { ChatMessage, ChatRequest, ChatResponse, JsonSchema } from "../llm/schema.ts";
import {
  CRITIQUE_SCHEMA_NAME,
  DECISION_SCHEMA_NAME,
  DIAGNOSE_TOOL,
  MISSING_TOOL_PREFIX,
  PATCH_EDITS_SCHEMA_NAME,
  PATCH_REJECTED_PREFIX,
  TOPIC_ASSIGNMENT_SCHEMA_NAME,
  TOPIC_EXTRACTION_SCHEMA_NAME,
  TOPIC_LABELS_SCHEMA_NAME,
} from "../protocol_names.ts";
import { hashString } from "../util/random.ts";
import type { CallOptions, ChatModel, Embedder } from "../llm/model.ts";
import { assignTopics, critique, extractTopics, labelTopics } from "./critic.ts";
import { embedBatch } from "./embed.ts";
import { type ExampleIndex, loadExampleIndex, simDataDir } from "./examples.ts";
import { type SimServedTask, withServed } from "./served.ts";

export { serveTask, type SimServedTask, simServesNatively } from "./served.ts";
import { decide, decideAfterRejection, lastToolResult } from "./optimizer.ts";
import { answerPatchEdits } from "./patch_edits.ts";
import { simResponse } from "./respond.ts";
import { answerBaselineRequest } from "./baselines.ts";
import {
  decideAnswer,
  promptTextOf,
  reasoningFieldOf,
  renderTargetText,
  unknownExampleText,
} from "./target.ts";

/** Options of the simulated models. */
export interface SimOptions {
  /** Seed of every simulated coin (default 0). */
  seed?: number;
  /** Data directory with the tasks' splits (default: RPT_DATA_DIR, ../shared/data, data/). */
  dataDir?: string;
  /**
   * A task the simulator has no model of, handed over with its examples and scorer
   * ({@linkcode serveTask}), so that it is answered and critiqued like a bundled one.
   */
  task?: SimServedTask;
}

/** The simulated chat roles. */
export type SimRole = "target" | "optimizer" | "critic";

/**
 * Version of the simulated behaviour. It is part of every sim model's {@linkcode
 * SimChatModel.baseURL}, which the response cache keys on, so bump it whenever the
 * simulation changes: cached answers of an older simulator are then not replayed.
 */
export const SIM_VERSION = 5;

/** A simulated chat model; `baseURL` identifies seed, data and version for caching. */
export interface SimChatModel extends ChatModel {
  /**
   * `sim://local/v<version>/seed-<seed>/data-<hash>[/task-<hash>]`: not a server, a cache
   * identity.
   */
  readonly baseURL: string;
  /** The name of the task it was handed ({@linkcode SimOptions.task}), if any. */
  readonly servedTask?: string;
}

/** A simulated embedder; `baseURL` identifies seed and version for caching. */
export interface SimEmbedder extends Embedder {
  /** `sim://local/v<version>/seed-<seed>`. */
  readonly baseURL: string;
}

function simIdentity(seed: number, dataDir?: string, task?: SimServedTask): string {
  const base = `sim://local/v${SIM_VERSION}/seed-${seed}`;
  const data = dataDir === undefined ? base : `${base}/data-${hashString(dataDir).toString(16)}`;
  return task === undefined ? data : `${data}/task-${task.fingerprint}`;
}

function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role === "user") return m.content;
  }
  return "";
}

/** A minimal value of a JSON Schema, for structured requests the simulator has no model of. */
export function fillSchema(schema: unknown, depth = 0): unknown {
  if (schema === null || typeof schema !== "object" || depth > 6) return null;
  const s = schema as JsonSchema;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const anyOf = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(anyOf) && anyOf.length > 0) return fillSchema(anyOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "object": {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(props)) out[k] = fillSchema(v, depth + 1);
      return out;
    }
    case "array": {
      const n = typeof s.minItems === "number" ? s.minItems : 1;
      return Array.from({ length: n }, () => fillSchema(s.items, depth + 1));
    }
    case "string":
      return "[simulated]";
    case "number":
    case "integer":
      return typeof s.minimum === "number" ? s.minimum : 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}

function structured(model: string, request: ChatRequest, value: unknown): ChatResponse {
  return simResponse(model, request, { parsed: value });
}

function optimizerTurn(
  model: string,
  request: ChatRequest,
  seed: number,
): ChatResponse | undefined {
  const offersTool = (request.tools ?? []).some((t) => t.name === DIAGNOSE_TOOL) &&
    request.toolChoice !== "none";
  const lastUser = lastUserText(request.messages);
  const hasResult = lastToolResult(request.messages) !== undefined;
  const wantsDecision = request.outputSchema?.name === DECISION_SCHEMA_NAME;
  const toolCall = (): ChatResponse =>
    simResponse(model, request, {
      toolCalls: [{
        id: `call_sim_${hashString(JSON.stringify(request.messages)).toString(16)}`,
        name: DIAGNOSE_TOOL,
        arguments: "{}",
      }],
    });
  if (offersTool && (lastUser.startsWith(MISSING_TOOL_PREFIX) || !hasResult)) {
    return toolCall();
  }
  if (!hasResult && !wantsDecision) return undefined;
  const decision = !hasResult
    ? {
      action: "stop" as const,
      stop_reason: "[simulated] No diagnostic report was available to act on.",
    }
    : lastUser.startsWith(PATCH_REJECTED_PREFIX)
    ? decideAfterRejection(request.messages, seed)
    : decide(request.messages, { seed });
  return wantsDecision
    ? structured(model, request, decision)
    : simResponse(model, request, { text: JSON.stringify(decision) });
}

/**
 * A simulated chat model for `role`. All roles understand every simulated request kind
 * (see the module doc); the role decides what an unmarked request means.
 */
export function createSimChatModel(role: SimRole, opts: SimOptions = {}): SimChatModel {
  const seed = opts.seed ?? 0;
  const dataDir = simDataDir(opts.dataDir);
  const model = `sim-${role}`;
  let index: Promise<ExampleIndex> | undefined;
  const examples =
    () => (index ??= loadExampleIndex(dataDir).then((i) => withServed(i, opts.task)));
  return {
    provider: "sim",
    model,
    baseURL: simIdentity(seed, dataDir, opts.task),
    ...(opts.task !== undefined ? { servedTask: opts.task.name } : {}),
    async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
      options?.signal?.throwIfAborted();
      const kind = request.outputSchema?.name;
      const userText = lastUserText(request.messages);
      if (kind === CRITIQUE_SCHEMA_NAME) {
        return structured(
          model,
          request,
          critique(userText, await examples(), seed),
        );
      }
      if (kind === TOPIC_EXTRACTION_SCHEMA_NAME) {
        return structured(model, request, extractTopics(userText));
      }
      if (kind === TOPIC_ASSIGNMENT_SCHEMA_NAME) {
        return structured(model, request, assignTopics(userText));
      }
      if (kind === PATCH_EDITS_SCHEMA_NAME) return answerPatchEdits(request, model);
      if (kind === TOPIC_LABELS_SCHEMA_NAME) {
        return structured(model, request, labelTopics(userText));
      }
      const baseline = answerBaselineRequest(request, { seed, model });
      if (baseline !== undefined) return baseline;
      if (role !== "target" || kind === DECISION_SCHEMA_NAME) {
        const turn = optimizerTurn(model, request, seed);
        if (turn !== undefined) return turn;
        if (request.outputSchema !== undefined) {
          return structured(model, request, fillSchema(request.outputSchema.schema));
        }
        return simResponse(model, request, {
          text: "[simulated] The simulated model has nothing to add to this request.",
        });
      }
      const known = await examples();
      options?.signal?.throwIfAborted();
      const ex = known.findIn(request.messages.map((m) => m.content));
      const field = reasoningFieldOf(request);
      let text: string;
      if (ex === undefined) text = unknownExampleText(field);
      else {
        const decision = decideAnswer(ex, promptTextOf(request.messages, ex), {
          seed,
          sampleIndex: request.sampleIndex,
          structured: request.outputSchema !== undefined,
        });
        text = renderTargetText(decision, field, seed, ex.id);
      }
      let parsed: unknown;
      if (request.outputSchema !== undefined) {
        try {
          parsed = JSON.parse(text);
        } catch {
          // A broken structured answer stays unparsed, as a provider would return it.
        }
      }
      return simResponse(model, request, { text, parsed });
    },
  };
}

/**
 * The simulated embedder (`sim:embed`): a deterministic hashed bag of words.
 *
 * @example
 * ```ts
 * import { createSimEmbedder } from "./mod.ts";
 * const e = createSimEmbedder({ seed: 0 });
 * const { vectors } = await e.embed(["a b", "a b"]);
 * if (vectors[0]?.join() !== vectors[1]?.join()) throw new Error("not deterministic");
 * ```
 */
export function createSimEmbedder(opts: SimOptions = {}): SimEmbedder {
  const seed = opts.seed ?? 0;
  return {
    provider: "sim",
    model: "sim-embed",
    baseURL: simIdentity(seed),
    embed(texts: string[], options?: CallOptions) {
      options?.signal?.throwIfAborted();
      return Promise.resolve(embedBatch(texts, seed));
    },
  };
}
