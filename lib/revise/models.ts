/**
 * The models of a run: the target, the optimizer, the critic and the embedder, created
 * from the config's specs (API keys are checked here, before any call) or given directly,
 * and wrapped once with the run's cache, ledger and limiter.
 *
 * @module
 */
import type { UsageLedger } from "../llm/accounting.ts";
import type { ResponseCache } from "../llm/cache.ts";
import type { ChatModel, Embedder } from "../llm/model.ts";
import { createChatModel, createEmbedder } from "../llm/spec.ts";
import { wrapChatModel, wrapEmbedder } from "../llm/wrap.ts";
import type { RunConfig } from "../run/config.ts";

/** The models of a run. */
export interface RunModels {
  target: ChatModel;
  optimizer: ChatModel;
  critic: ChatModel;
  embedder: Embedder;
}

/** Creates the run's models from its specs (keys checked here, before any call). */
export async function createRunModels(
  config: RunConfig,
  opts: { env?: Record<string, string | undefined>; given?: Partial<RunModels> } = {},
): Promise<RunModels> {
  const sim = { seed: config.seed, ...(config.dataDir ? { dataDir: config.dataDir } : {}) };
  const make = (spec: string) => createChatModel(spec, { env: opts.env, sim });
  const given = opts.given ?? {};
  const target = given.target ?? await make(config.target);
  const optimizer = given.optimizer ?? await make(config.optimizer);
  const criticSpec = config.critic ?? config.optimizer;
  const critic = given.critic ??
    (criticSpec === config.optimizer && given.optimizer ? given.optimizer : await make(criticSpec));
  const embedder = given.embedder ??
    await createEmbedder(config.embedder, { env: opts.env, sim });
  return { target, optimizer, critic, embedder };
}

/** What every model of a run is wrapped with. */
export interface RunWrapping {
  cache: ResponseCache;
  ledger: UsageLedger;
  concurrency: number;
  timeoutMs?: number;
  maxRetries?: number;
}

/**
 * Wraps the raw models once each. A model in two roles (the optimizer as its own critic)
 * gets one wrapper, so both roles share its accounting entry.
 */
export function wrapRunModels(raw: RunModels, wrap: RunWrapping): RunModels {
  const optimizer = wrapChatModel(raw.optimizer, wrap);
  return {
    target: wrapChatModel(raw.target, wrap),
    optimizer,
    critic: raw.critic === raw.optimizer ? optimizer : wrapChatModel(raw.critic, wrap),
    embedder: wrapEmbedder(raw.embedder, wrap),
  };
}
