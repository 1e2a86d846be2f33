/**
 * Resume goes where the run went. A new run records, per role, the server its model is sent
 * to (a spec's `@URL`, or the provider's environment variable, or its default), credentials
 * stripped, in `config.json`'s `endpoints`; a resumed run sends there again. When the
 * environment now names another server, the run still goes to the recorded one, with a
 * warning, so that the rest of a run never goes silently to another endpoint.
 *
 * @module
 */
import { BASE_URL_ENV, DEFAULT_BASE_URLS } from "../llm/endpoints.ts";
import { parseModelSpec, specEndpoint } from "../llm/spec.ts";
import type { RunConfig } from "../run/config.ts";
import { redactURL } from "../util/redact.ts";

/** The models of a run that may go to a server: the chat roles and the embedder. */
export type EndpointRole = "target" | "optimizer" | "critic" | "cluster" | "embedder";

/** The server each role's model goes to (credentials stripped); absent for local models. */
export type RunEndpoints = Partial<Record<EndpointRole, string>>;

/**
 * Each role's spec (the critic's defaults to the optimizer's, ClusterFusion's model to the
 * critic's).
 */
export function roleSpecs(config: RunConfig): Record<EndpointRole, string> {
  const critic = config.critic ?? config.optimizer;
  return {
    target: config.target,
    optimizer: config.optimizer,
    critic,
    cluster: config.clusterModel ?? critic,
    embedder: config.embedder,
  };
}

/**
 * Where each role's model is sent, credentials stripped: from the spec and the environment,
 * or, for a model given as an object, its own `baseURL`.
 *
 * @example
 * ```ts
 * import { endpointsOf } from "./endpoints.ts";
 * import { parseRunConfig } from "../run/config.ts";
 * const config = parseRunConfig({ task: "synthetic", target: "openai:gpt-4.1",
 *   optimizer: "sim:optimizer" });
 * const e = endpointsOf(config, { OPENAI_BASE_URL: "https://u:sk-1@proxy.example/v1" });
 * if (e.target !== "https://proxy.example/v1" || e.optimizer !== undefined) throw new Error();
 * ```
 */
export function endpointsOf(
  config: RunConfig,
  env?: Record<string, string | undefined>,
  given: Partial<Record<EndpointRole, object | undefined>> = {},
): RunEndpoints {
  const out: RunEndpoints = {};
  // Roles that default to another's model go where it goes (the critic to the optimizer's,
  // ClusterFusion's model to the critic's); given objects say where they go themselves.
  const inherits: Partial<Record<EndpointRole, EndpointRole>> = {
    ...(config.critic === undefined ? { critic: "optimizer" as const } : {}),
    ...(config.clusterModel === undefined ? { cluster: "critic" as const } : {}),
  };
  const order: EndpointRole[] = ["target", "optimizer", "critic", "cluster", "embedder"];
  const specs = roleSpecs(config);
  for (const role of order) {
    const model = given[role];
    const from = inherits[role];
    const url = model !== undefined
      ? ownBaseURL(model)
      : from !== undefined
      ? out[from]
      : endpointOfSpec(specs[role], env);
    if (url !== undefined) out[role] = redactURL(url);
  }
  return out;
}

/** A spec's server; none for a name that is no spec (a given model's `provider:model`). */
function endpointOfSpec(
  spec: string,
  env: Record<string, string | undefined> | undefined,
): string | undefined {
  try {
    return specEndpoint(spec, env);
  } catch {
    return undefined;
  }
}

/** How to create a role's model so that it goes to the recorded server. */
export interface Followed {
  /** The spec to create the model from. */
  spec: string;
  /** The environment to create it with. */
  env?: Record<string, string | undefined>;
  /** Set when the environment now names another server than the run used. */
  warning?: string;
}

/**
 * How to create a resumed run's model for `role` so that it goes where the run went: the
 * spec unchanged when the environment still names the recorded server (its credentials
 * then come from the environment as before); otherwise the recorded server, with a warning.
 *
 * @example
 * ```ts
 * import { followRecorded } from "./endpoints.ts";
 * const f = followRecorded("target", "openai:gpt-4.1", "http://127.0.0.1:9/v1",
 *   { OPENAI_BASE_URL: "http://127.0.0.1:8/v1" });
 * if (f.spec !== "openai:gpt-4.1@http://127.0.0.1:9/v1" || !f.warning?.includes("127.0.0.1:8")) {
 *   throw new Error(JSON.stringify(f));
 * }
 * ```
 */
export function followRecorded(
  role: EndpointRole,
  spec: string,
  recorded: string | undefined,
  env?: Record<string, string | undefined>,
): Followed {
  const same = { spec, ...(env ? { env } : {}) };
  if (recorded === undefined) return same;
  const parsed = parseModelSpec(spec);
  if (parsed.baseURL !== undefined) return same; // the spec itself names the server
  const now = specEndpoint(spec, env);
  if (now === undefined || redactURL(now) === recorded) return same;
  const family = parsed.provider === "gemini" ? "gemini" : "openai";
  const variable = BASE_URL_ENV[family];
  const set = (env ? env[variable] : Deno.env.get(variable))?.trim();
  const nowText = set
    ? `now points to ${redactURL(now)}`
    : `is not set now (the default is ${now})`;
  const warning = `rpt: ${variable} ${nowText}, but this run's ${role} (${spec}) went to ` +
    `${recorded}; the rest of the run goes there too`;
  if (recorded === DEFAULT_BASE_URLS[family]) {
    // The default server: created without the variable (a spec naming the URL would change
    // the model's cache keys, which leave the default server out).
    const base = env ?? Deno.env.toObject();
    return { spec, env: { ...base, [variable]: "" }, warning };
  }
  return { spec: `${spec}@${recorded}`, ...(env ? { env } : {}), warning };
}

/** The `baseURL` a model object carries (network providers and wrapped models have one). */
function ownBaseURL(model: object): string | undefined {
  const url = (model as { baseURL?: unknown }).baseURL;
  return typeof url === "string" ? url : undefined;
}
