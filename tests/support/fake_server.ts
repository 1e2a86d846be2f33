/**
 * Test helpers: a local model server around a scripted model and embedder, closed with
 * `await using` (or `close()`), so that provider tests stay short.
 *
 * @module
 */
import {
  type Script,
  ScriptedChatModel,
  ScriptedEmbedder,
  type ScriptedOptions,
} from "../../lib/llm/scripted.ts";
import { type FaultPlan, type ModelServer, serveModels } from "../../lib/llm/serve.ts";

/** A running scripted server; `await using` closes it. */
export interface ScriptedServer extends ModelServer {
  /** The scripted model served under every name in `names` (default `m`). */
  model: ScriptedChatModel;
  /** The scripted embedder served under `e`. */
  embedder: ScriptedEmbedder;
}

/** Starts a server whose models all replay `script`. */
export function startScriptedServer(
  script: Script,
  opts: { names?: string[]; faults?: FaultPlan; latencyMs?: number } & ScriptedOptions = {},
): ScriptedServer {
  const model = new ScriptedChatModel(script, opts);
  const embedder = new ScriptedEmbedder((text) => [text.length, 1, 0]);
  const names = opts.names ?? ["m"];
  const server = serveModels({
    models: Object.fromEntries(names.map((n) => [n, model])),
    embedders: { e: embedder },
    faults: opts.faults,
    latencyMs: opts.latencyMs,
  });
  return Object.assign(server, { model, embedder });
}

/** The user message every test sends. */
export const ask = { messages: [{ role: "user" as const, content: "What is 2+2?" }] };
