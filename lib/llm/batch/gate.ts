/**
 * {@linkcode BatchGate}: a chat model that, inside {@linkcode BatchGate.gather}, holds the
 * calls a piece of work makes and hands them over together, as one list, to be answered by a
 * batch job; outside it (and for calls beyond the number announced) it is the model itself.
 * The work stays written as ordinary concurrent calls (the loop's evaluation and critique
 * code do not know about batches), and the requests the batch sees are exactly those the
 * wrapped model would have received, so they are cached under the same keys.
 *
 * Which calls belong to a gathering follows the async context of the work
 * (`AsyncLocalStorage`): calls made meanwhile by other work through the same model are not
 * taken.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { CallOptions, ChatModel } from "../model.ts";
import type { ChatRequest, ChatResponse } from "../schema.ts";
import type { BatchItem } from "./run_batch.ts";

/** Answers the gathered requests: one item per request, in order (`runBatch`'s items). */
export type BatchFlush<L> = (label: L, requests: ChatRequest[]) => Promise<BatchItem[]>;

interface Held {
  request: ChatRequest;
  resolve: (response: ChatResponse) => void;
  reject: (error: unknown) => void;
}

interface Gathering<L> {
  label: L;
  expected: number;
  held: Held[];
  flushed: boolean;
}

/**
 * Gathers the calls of a piece of work into one batch. `L` labels a gathering (what the
 * batch is for); the flush function receives it with the requests.
 *
 * @example
 * ```ts
 * import { BatchGate } from "./gate.ts";
 * import { ScriptedChatModel } from "../scripted.ts";
 * const inner = new ScriptedChatModel(["never used"]);
 * const seen: number[] = [];
 * const gate = new BatchGate(inner, (_label: string, requests) => {
 *   seen.push(requests.length);
 *   return Promise.resolve(requests.map((r) => ({
 *     ok: true as const, source: "batch" as const,
 *     response: { text: r.messages[0]!.content, toolCalls: [], finishReason: "stop" as const,
 *       provider: "scripted", model: "scripted", usage: { inputTokens: 1, cachedTokens: 0, outputTokens: 1 } },
 *   })));
 * });
 * const texts = await gate.gather("demo", 2, () =>
 *   Promise.all(["a", "b"].map((t) => gate.model.chat({ messages: [{ role: "user", content: t }] })))
 * );
 * if (seen.join() !== "2" || texts.map((r) => r.text).join() !== "a,b") throw new Error();
 * ```
 */
export class BatchGate<L = unknown> {
  /** The model to call: held inside a gathering, the inner model outside. */
  readonly model: ChatModel;
  readonly #inner: ChatModel;
  readonly #flush: BatchFlush<L>;
  readonly #context = new AsyncLocalStorage<Gathering<L>>();

  /** A gate in front of `inner` (the wrapped model the batch stands in for). */
  constructor(inner: ChatModel, flush: BatchFlush<L>) {
    this.#inner = inner;
    this.#flush = flush;
    const model: ChatModel & { baseURL?: string } = {
      provider: inner.provider,
      model: inner.model,
      chat: (request, options) => this.#chat(request, options),
    };
    // The limiter and the cache identity key on a model's base URL: keep it visible.
    const baseURL = (inner as { baseURL?: string }).baseURL;
    if (baseURL !== undefined) model.baseURL = baseURL;
    this.model = model;
  }

  /**
   * Runs `work`, holding its first `calls` calls through {@linkcode BatchGate.model} until all
   * of them are made, then answering them through one flush. The work must make them without
   * waiting for any answer (as many in flight as there are calls); later calls go straight
   * to the inner model (a critic's retry of a malformed answer). With `calls` 0 the work just
   * runs.
   */
  async gather<T>(label: L, calls: number, work: () => Promise<T>): Promise<T> {
    if (calls <= 0) return await work();
    const gathering: Gathering<L> = { label, expected: calls, held: [], flushed: false };
    try {
      return await this.#context.run(gathering, work);
    } finally {
      if (!gathering.flushed) {
        // The work ended before making every call it announced (it failed): nothing waits
        // for these any more, but they must not hang.
        const error = new Error("batch gathering ended before its calls were all made");
        for (const h of gathering.held) h.reject(error);
        gathering.flushed = true;
      }
    }
  }

  #chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
    const g = this.#context.getStore();
    if (g === undefined || g.flushed || g.held.length >= g.expected) {
      return this.#inner.chat(request, options);
    }
    return new Promise<ChatResponse>((resolve, reject) => {
      g.held.push({ request, resolve, reject });
      if (g.held.length === g.expected) void this.#answer(g);
    });
  }

  async #answer(g: Gathering<L>): Promise<void> {
    g.flushed = true;
    const held = g.held;
    let items: BatchItem[];
    try {
      items = await this.#flush(g.label, held.map((h) => h.request));
    } catch (error) {
      for (const h of held) h.reject(error);
      return;
    }
    held.forEach((h, i) => {
      const item = items[i];
      if (item === undefined) {
        h.reject(new Error("batch answered fewer requests than it was given"));
      } else if (item.ok) h.resolve(item.response);
      else h.reject(item.error);
    });
  }
}
