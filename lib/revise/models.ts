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
import { type RequestSettings, withRequestSettings } from "../llm/request_settings.ts";
import { createChatModel, createEmbedder, isSimulatedModel } from "../llm/spec.ts";
import { wrapChatModel, wrapEmbedder, type WrapOptions } from "../llm/wrap.ts";
import { type Role, ROLES, type RunConfig } from "../run/config.ts";
import {
  serveTask,
  type SimServedTask,
  simServesNatively,
  type SplitExamples,
} from "../sim/served.ts";
import type { Task } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import { type EndpointRole, followRecorded, type RunEndpoints } from "./endpoints.ts";

/** The models of a run. */
export interface RunModels {
  target: ChatModel;
  optimizer: ChatModel;
  critic: ChatModel;
  embedder: Embedder;
  /** ClusterFusion's LLM (topic extraction and assignment); absent: the critic. */
  cluster?: ChatModel;
}

/**
 * The per-role request settings of a config (temperature, output-token limit, reasoning
 * effort, thinking level), as `wrapRunModels` applies them.
 */
export function roleSettings(config: RunConfig): Record<Role, RequestSettings> {
  const out = {} as Record<Role, RequestSettings>;
  for (const role of ROLES) {
    out[role] = {
      temperature: config.temperature[role],
      maxTokens: config.maxOutputTokens[role],
      reasoningEffort: config.reasoningEffort[role],
      thinkingLevel: config.thinkingLevel[role],
    };
  }
  return out;
}

/** Options of {@linkcode createRunModels}. */
export interface RunModelOptions {
  /** Environment for API keys (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Models to use instead of creating them from their specs. */
  given?: Partial<RunModels>;
  /**
   * The task and its examples: a task the simulator does not know by itself is handed to
   * the simulated models created here (a simulated target that cannot serve it is a
   * {@linkcode ConfigError}).
   */
  task?: { task: Task; data: SplitExamples };
  /**
   * The servers a resumed run's roles went to (`config.json`'s `endpoints`): each model goes
   * there again, and a different server in the environment now is warned about.
   */
  endpoints?: RunEndpoints;
  /** Where such a warning goes (default `console.warn`). */
  warn?: (line: string) => void;
}

/** The chat model specs of a run's roles. */
export interface RoleSpecs {
  target: string;
  optimizer: string;
  critic?: string;
}

/**
 * The task as simulated models get it ({@linkcode serveTask}), or undefined when no chat role
 * is simulated or the simulator knows the task by itself. A simulated target must be able to
 * answer every row (else a {@linkcode ConfigError} at start); a given simulated target must
 * have been handed the task.
 */
export function simTaskFor(
  specs: RoleSpecs,
  task: Task,
  data: SplitExamples,
  given?: ChatModel,
): SimServedTask | undefined {
  if (simServesNatively(task.name)) return undefined;
  if (given !== undefined && isSimulatedModel(given)) {
    if ((given as { servedTask?: string }).servedTask !== task.name) {
      throw new ConfigError(
        `the given simulated target was not handed task '${task.name}': create it with ` +
          `createSimChatModel("target", { task: serveTask(task, data, { strict: true }) })`,
      );
    }
  }
  const roles = [specs.target, specs.optimizer, specs.critic ?? specs.optimizer];
  if (!roles.some((s) => isSimulatedModel(s))) return undefined;
  return serveTask(task, data, { strict: given === undefined && isSimulatedModel(specs.target) });
}

/**
 * Creates the run's models from its specs (keys checked here, before any call); with
 * `endpoints`, each goes to the server the run recorded for its role.
 */
export async function createRunModels(
  config: RunConfig,
  opts: RunModelOptions = {},
): Promise<RunModels> {
  const served = opts.task === undefined
    ? undefined
    : simTaskFor(config, opts.task.task, opts.task.data, opts.given?.target);
  const sim = {
    seed: config.seed,
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    ...(served !== undefined ? { task: served } : {}),
  };
  const follow = (role: EndpointRole, spec: string) => {
    const f = followRecorded(role, spec, opts.endpoints?.[role], opts.env);
    if (f.warning) (opts.warn ?? console.warn)(f.warning);
    return f;
  };
  const make = (role: EndpointRole, spec: string) => {
    const f = follow(role, spec);
    return createChatModel(f.spec, { env: f.env, sim });
  };
  const given = opts.given ?? {};
  const target = given.target ?? await make("target", config.target);
  const optimizer = given.optimizer ?? await make("optimizer", config.optimizer);
  const criticSpec = config.critic ?? config.optimizer;
  const sameAsOptimizer = criticSpec === config.optimizer &&
    opts.endpoints?.critic === opts.endpoints?.optimizer;
  const critic = given.critic ??
    (sameAsOptimizer && given.optimizer ? given.optimizer : await make("critic", criticSpec));
  const embedder = given.embedder ?? await (async () => {
    const f = follow("embedder", config.embedder);
    return await createEmbedder(f.spec, { env: f.env, sim });
  })();
  const cluster = given.cluster ??
    (config.clusterModel === undefined || config.clusterModel === criticSpec
      ? undefined
      : await make("cluster", config.clusterModel));
  return { target, optimizer, critic, embedder, ...(cluster ? { cluster } : {}) };
}

/** What every model of a run is wrapped with. */
export interface RunWrapping {
  cache: ResponseCache;
  ledger: UsageLedger;
  concurrency: number;
  timeoutMs?: number;
  maxRetries?: number;
  /** Request settings per role, put on every request of that role. */
  settings?: Partial<Record<Role, RequestSettings>>;
  backoff?: WrapOptions["backoff"];
  /**
   * Put in front of a role's wrapped model, under its request settings (batch mode's gates:
   * they see the requests exactly as the wrapper and its cache do).
   */
  around?: Partial<Record<"target" | "critic", (wrapped: ChatModel) => ChatModel>>;
}

/**
 * Wraps the raw models once each. A model in two roles (the optimizer as its own critic)
 * gets one wrapper, so both roles share its accounting entry; each role's request settings
 * go on top.
 */
export function wrapRunModels(raw: RunModels, wrap: RunWrapping): RunModels {
  const { settings = {}, around = {}, ...common } = wrap;
  const optimizer = wrapChatModel(raw.optimizer, common);
  const critic = raw.critic === raw.optimizer ? optimizer : wrapChatModel(raw.critic, common);
  const cluster = raw.cluster === undefined || raw.cluster === raw.critic
    ? critic
    : raw.cluster === raw.optimizer
    ? optimizer
    : wrapChatModel(raw.cluster, common);
  const as = (role: Role, model: ChatModel) => withRequestSettings(model, settings[role] ?? {});
  const front = (role: "target" | "critic", model: ChatModel) => around[role]?.(model) ?? model;
  return {
    target: as("target", front("target", wrapChatModel(raw.target, common))),
    optimizer: as("optimizer", optimizer),
    critic: as("critic", front("critic", critic)),
    embedder: wrapEmbedder(raw.embedder, common),
    cluster: as("cluster", cluster),
  };
}
