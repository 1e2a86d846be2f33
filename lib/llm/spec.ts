/**
 * Model spec strings: how a user names a model on the command line and in configs, and
 * the factories that turn a spec into a {@linkcode ChatModel} or {@linkcode Embedder}.
 *
 * | Spec | Meaning |
 * | --- | --- |
 * | `openai:gpt-5` | OpenAI, Responses API (key `OPENAI_API_KEY`; base URL `OPENAI_BASE_URL` if set) |
 * | `openai-chat:gpt-4.1` | OpenAI, Chat Completions API (same key and base URL) |
 * | `gemini:gemini-2.5-pro` | Gemini API (key `GEMINI_API_KEY`, else `GOOGLE_API_KEY`; base URL `GOOGLE_GEMINI_BASE_URL` if set) |
 * | `openai-compatible:qwen3@http://127.0.0.1:8000/v1` | any OpenAI-compatible server (key `OPENAI_COMPATIBLE_API_KEY`, optional) |
 * | `sim:target`, `sim:optimizer`, `sim:critic`, `sim:embed` | the offline simulator |
 * | `scripted:<name>` | a scripted test double (script passed in code) |
 * | `tfidf` | the offline TF-IDF embedder |
 *
 * Any spec may end in `@<baseURL>` to point at another server. A missing key is a
 * {@linkcode ConfigError} raised here, before any call is made.
 *
 * `openai:` chats through the Responses API (`openai_responses.ts`), so an `openai:` spec
 * with a base URL needs a server that speaks `/v1/responses` (OpenAI, `rpt sim-server`);
 * `openai-chat:` is the same account over Chat Completions, and `openai-compatible:`
 * (vLLM, Ollama, llama.cpp, LM Studio) always uses Chat Completions. Embedders use the
 * embeddings API under `openai:` or `openai-compatible:`.
 *
 * @module
 */
import { ConfigError } from "../util/errors.ts";
import { BASE_URL_ENV, DEFAULT_BASE_URLS } from "./endpoints.ts";
import type { BatchClient } from "./batch/types.ts";
import type { ChatModel, Embedder } from "./model.ts";
import type { Script } from "./scripted.ts";
import type { SimOptions } from "../sim/mod.ts";

/** A parsed model spec. */
export interface ModelSpec {
  /** Which implementation serves the model. */
  provider:
    | "openai"
    | "openai-chat"
    | "gemini"
    | "openai-compatible"
    | "sim"
    | "scripted"
    | "tfidf";
  /** The provider's model name (for `sim`, the role; for `tfidf`, `tfidf`). */
  model: string;
  /** Server base URL, when the spec names one. */
  baseURL?: string;
}

/** Options of {@linkcode createChatModel} and {@linkcode createEmbedder}. */
export interface CreateModelOptions {
  /** Environment to read keys from (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** Options of simulated models (`sim:` specs). */
  sim?: SimOptions;
  /** The script of a `scripted:` model. */
  script?: Script;
}

const PROVIDERS = [
  "openai",
  "openai-chat",
  "gemini",
  "openai-compatible",
  "sim",
  "scripted",
] as const;
const SIM_CHAT_ROLES = ["target", "optimizer", "critic"] as const;
const FORMAT = "<provider>:<model>[@<baseURL>] with provider one of " +
  `${PROVIDERS.join(", ")} (or the embedder spec "tfidf")`;

/**
 * Parses a spec string; throws a {@linkcode ConfigError} naming the spec and what was
 * expected.
 *
 * @example
 * ```ts
 * import { parseModelSpec } from "./spec.ts";
 * const spec = parseModelSpec("openai-compatible:qwen3@http://127.0.0.1:8000/v1");
 * if (spec.model !== "qwen3" || spec.baseURL !== "http://127.0.0.1:8000/v1") throw new Error();
 * ```
 */
export function parseModelSpec(spec: string): ModelSpec {
  const text = spec.trim();
  if (text === "tfidf") return { provider: "tfidf", model: "tfidf" };
  const colon = text.indexOf(":");
  if (colon <= 0) throw new ConfigError(`bad model spec "${spec}": expected ${FORMAT}`);
  const provider = text.slice(0, colon);
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new ConfigError(
      `bad model spec "${spec}": unknown provider "${provider}"; expected ${FORMAT}`,
    );
  }
  const rest = text.slice(colon + 1);
  const at = rest.indexOf("@");
  const model = (at === -1 ? rest : rest.slice(0, at)).trim();
  const baseURL = at === -1 ? undefined : rest.slice(at + 1).trim();
  if (model === "") throw new ConfigError(`bad model spec "${spec}": the model name is empty`);
  if (baseURL !== undefined) checkURL(spec, baseURL);
  if (provider === "openai-compatible" && baseURL === undefined) {
    throw new ConfigError(
      `bad model spec "${spec}": openai-compatible needs the server's base URL, ` +
        `e.g. openai-compatible:${model}@http://127.0.0.1:8000/v1`,
    );
  }
  if (provider === "sim" && ![...SIM_CHAT_ROLES, "embed"].includes(model)) {
    throw new ConfigError(
      `bad model spec "${spec}": the simulator has sim:target, sim:optimizer, sim:critic ` +
        `and sim:embed`,
    );
  }
  return {
    provider: provider as ModelSpec["provider"],
    model,
    ...(baseURL !== undefined ? { baseURL } : {}),
  };
}

/** A model as a spec string, or a model object (whose `provider` says what serves it). */
export type ModelRef = string | { readonly provider: string };

/** The models of a run by role (the critic defaults to the optimizer, so may be absent). */
export interface RoleModels {
  target?: ModelRef;
  optimizer?: ModelRef;
  critic?: ModelRef;
  embedder?: ModelRef;
}

/**
 * Whether a model is the offline simulator: its provider is `sim` (a `sim:` spec, or a
 * model object with provider `sim`). A spec that does not name a provider is not.
 *
 * @example
 * ```ts
 * import { isSimulatedModel } from "./spec.ts";
 * if (!isSimulatedModel(" sim:target") || !isSimulatedModel({ provider: "sim" })) throw new Error();
 * if (isSimulatedModel("tfidf") || isSimulatedModel("openai:sim") || isSimulatedModel(undefined)) {
 *   throw new Error();
 * }
 * ```
 */
export function isSimulatedModel(model: ModelRef | undefined): boolean {
  if (model === undefined) return false;
  if (typeof model !== "string") return model.provider === "sim";
  const text = model.trim();
  return text.slice(0, Math.max(0, text.indexOf(":"))) === "sim";
}

/**
 * The one rule for labelling figures SIMULATED: a run (or any set of models) is simulated
 * when any of its models is ({@linkcode isSimulatedModel}), the embedder included.
 *
 * @example
 * ```ts
 * import { specsAreSimulated } from "./spec.ts";
 * if (!specsAreSimulated({ target: "openai:gpt-4.1", optimizer: "openai:gpt-4.1", embedder: "sim:embed" })) {
 *   throw new Error("the embedder counts");
 * }
 * if (specsAreSimulated(["openai:gpt-4.1", "tfidf", undefined])) throw new Error();
 * ```
 */
export function specsAreSimulated(models: RoleModels | readonly (ModelRef | undefined)[]): boolean {
  const list = isModelList(models)
    ? models
    : [models.target, models.optimizer, models.critic, models.embedder];
  return list.some(isSimulatedModel);
}

/** A model as a banner names it: the spec, or `provider:model` of a model object. */
function modelName(model: ModelRef): string {
  if (typeof model === "string") return model.trim();
  const name = (model as { model?: unknown }).model;
  return typeof name === "string" ? `${model.provider}:${name}` : model.provider;
}

function joinAnd(words: readonly string[]): string {
  return words.length <= 1
    ? words.join("")
    : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

/**
 * The SIMULATED line for a run's models: which roles are simulated and what the others are
 * (the critic defaults to the optimizer, as in a run's config); undefined when no model is
 * simulated ({@linkcode specsAreSimulated} decides, so the two never disagree).
 *
 * @example
 * ```ts
 * import { simulationBanner } from "./spec.ts";
 * const line = simulationBanner({ target: "sim:target", optimizer: "openai:gpt-5",
 *   critic: "sim:critic", embedder: "tfidf" });
 * if (line !== "SIMULATED: target and critic simulated; optimizer openai:gpt-5, embedder tfidf " +
 *   "(rpt's offline simulator: figures that involve it are not LLM results)") throw new Error(line);
 * if (simulationBanner({ target: "openai:gpt-4.1", optimizer: "openai:gpt-4.1" }) !== undefined) {
 *   throw new Error("nothing simulated");
 * }
 * ```
 */
export function simulationBanner(models: RoleModels): string | undefined {
  const roles: [string, ModelRef | undefined][] = [
    ["target", models.target],
    ["optimizer", models.optimizer],
    ["critic", models.critic ?? models.optimizer],
    ["embedder", models.embedder],
  ];
  const present = roles.filter((r): r is [string, ModelRef] => r[1] !== undefined);
  const simulated = present.filter(([, m]) => isSimulatedModel(m)).map(([role]) => role);
  if (simulated.length === 0) return undefined;
  const others = present.filter(([, m]) => !isSimulatedModel(m))
    .map(([role, m]) => `${role} ${modelName(m)}`);
  if (others.length === 0) {
    return "SIMULATED: every model is rpt's offline simulator; the figures are not LLM results";
  }
  return `SIMULATED: ${joinAnd(simulated)} simulated; ${others.join(", ")} ` +
    `(rpt's offline simulator: figures that involve it are not LLM results)`;
}

function isModelList(
  models: RoleModels | readonly (ModelRef | undefined)[],
): models is readonly (ModelRef | undefined)[] {
  return Array.isArray(models);
}

function checkURL(spec: string, baseURL: string): void {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new ConfigError(`bad model spec "${spec}": "${baseURL}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`bad model spec "${spec}": the base URL must be http(s)`);
  }
}

/** The provider family whose default server and environment variable a spec's provider uses. */
function family(provider: ModelSpec["provider"]): "openai" | "gemini" | undefined {
  if (provider === "openai" || provider === "openai-chat") return "openai";
  return provider === "gemini" ? "gemini" : undefined;
}

/**
 * Where a spec's model is sent: the spec's `@URL`, else the provider's environment variable
 * (`OPENAI_BASE_URL`, `GOOGLE_GEMINI_BASE_URL`), else its default server; undefined for
 * models that run in this process (the simulator, TF-IDF, scripted). Credentials in the URL
 * are kept: redact it before writing it anywhere.
 *
 * @example
 * ```ts
 * import { specEndpoint } from "./spec.ts";
 * const env = { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" };
 * if (specEndpoint("openai:gpt-4.1", env) !== "http://127.0.0.1:9/v1") throw new Error();
 * if (specEndpoint("gemini:gemini-2.5-pro", {}) !== "https://generativelanguage.googleapis.com") throw new Error();
 * if (specEndpoint("sim:target", env) !== undefined) throw new Error();
 * ```
 */
export function specEndpoint(
  spec: string,
  env?: Record<string, string | undefined>,
): string | undefined {
  const parsed = parseModelSpec(spec);
  if (parsed.baseURL !== undefined) return parsed.baseURL;
  const f = family(parsed.provider);
  if (f === undefined) return undefined;
  return reader(env)(BASE_URL_ENV[f]) ?? DEFAULT_BASE_URLS[f];
}

function reader(env: Record<string, string | undefined> | undefined) {
  return (name: string): string | undefined => {
    const value = env ? env[name] : Deno.env.get(name);
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
}

function requireKey(spec: string, read: (name: string) => string | undefined, names: string[]) {
  for (const name of names) {
    const value = read(name);
    if (value) return value;
  }
  throw new ConfigError(`model "${spec}" needs an API key: set ${names[0]}`);
}

/** Connection settings for a real provider, with the key checked before any call. */
function connection(spec: string, parsed: ModelSpec, opts: CreateModelOptions) {
  const read = reader(opts.env);
  switch (parsed.provider) {
    case "openai":
    case "openai-chat":
      return {
        provider: parsed.provider,
        model: parsed.model,
        apiKey: requireKey(spec, read, ["OPENAI_API_KEY"]),
        baseURL: parsed.baseURL ?? read(BASE_URL_ENV.openai),
      };
    case "openai-compatible":
      return {
        provider: "openai-compatible",
        model: parsed.model,
        // Local servers take any key; the OpenAI key is never sent to a third-party server.
        apiKey: read("OPENAI_COMPATIBLE_API_KEY") ?? "not-needed",
        baseURL: parsed.baseURL,
      };
    case "gemini":
      return {
        provider: "gemini",
        model: parsed.model,
        apiKey: requireKey(spec, read, ["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
        baseURL: parsed.baseURL ?? read(BASE_URL_ENV.gemini),
      };
    default:
      return undefined;
  }
}

/**
 * Creates the chat model a spec names. Provider SDKs and the simulator are loaded only
 * when needed.
 *
 * @example
 * ```ts
 * import { createChatModel } from "./spec.ts";
 * const model = await createChatModel("openai:gpt-4.1", { env: { OPENAI_API_KEY: "sk-x" } });
 * if (model.model !== "gpt-4.1") throw new Error("unexpected");
 * ```
 */
export async function createChatModel(
  spec: string,
  opts: CreateModelOptions = {},
): Promise<ChatModel> {
  const parsed = parseModelSpec(spec);
  const conn = connection(spec, parsed, opts);
  switch (parsed.provider) {
    case "openai": {
      const { OpenAIResponsesModel } = await import("./openai_responses.ts");
      return new OpenAIResponsesModel(conn!);
    }
    case "openai-chat":
    case "openai-compatible": {
      const { OpenAIChatModel } = await import("./openai.ts");
      return new OpenAIChatModel(conn!);
    }
    case "gemini": {
      const { GeminiChatModel } = await import("./gemini.ts");
      return new GeminiChatModel(conn!);
    }
    case "sim": {
      if (parsed.model === "embed") {
        throw new ConfigError(
          `"${spec}" is an embedder, not a chat model: use sim:target, ` +
            `sim:optimizer or sim:critic`,
        );
      }
      const { createSimChatModel } = await import("../sim/mod.ts");
      return createSimChatModel(parsed.model as (typeof SIM_CHAT_ROLES)[number], opts.sim);
    }
    case "scripted": {
      if (!opts.script) {
        throw new ConfigError(`"${spec}": scripted models are for tests and need a script in code`);
      }
      const { ScriptedChatModel } = await import("./scripted.ts");
      return new ScriptedChatModel(opts.script, { model: parsed.model });
    }
    case "tfidf":
      throw new ConfigError(`"${spec}" is an embedder, not a chat model`);
  }
}

/**
 * Creates the embedder a spec names: `tfidf`, `sim:embed`, `openai:<model>`,
 * `gemini:<model>` or `openai-compatible:<model>@<url>`.
 *
 * @example
 * ```ts
 * import { createEmbedder } from "./spec.ts";
 * const embedder = await createEmbedder("tfidf");
 * const { vectors } = await embedder.embed(["wrong unit"]);
 * if (vectors.length !== 1) throw new Error("unexpected");
 * ```
 */
export async function createEmbedder(
  spec: string,
  opts: CreateModelOptions = {},
): Promise<Embedder> {
  const parsed = parseModelSpec(spec);
  const conn = connection(spec, parsed, opts);
  switch (parsed.provider) {
    case "tfidf": {
      const { TfidfEmbedder } = await import("./tfidf.ts");
      return new TfidfEmbedder();
    }
    case "openai":
    case "openai-compatible": {
      const { OpenAIEmbedder } = await import("./openai.ts");
      return new OpenAIEmbedder(conn!);
    }
    case "openai-chat":
      throw new ConfigError(
        `"${spec}": openai-chat selects the Chat Completions API for chat models; an OpenAI ` +
          `embedder is openai:${parsed.model}`,
      );
    case "gemini": {
      const { GeminiEmbedder } = await import("./gemini.ts");
      return new GeminiEmbedder(conn!);
    }
    case "sim": {
      if (parsed.model !== "embed") {
        throw new ConfigError(`"${spec}" is a chat model; the simulated embedder is sim:embed`);
      }
      const { createSimEmbedder } = await import("../sim/mod.ts");
      return createSimEmbedder(opts.sim);
    }
    case "scripted": {
      const { ScriptedEmbedder } = await import("./scripted.ts");
      return new ScriptedEmbedder(undefined, { model: parsed.model });
    }
  }
}

/**
 * Creates the batch API client for a chat model's spec, with the same connection (key, base
 * URL) and API as {@linkcode createChatModel}: the OpenAI Batch API on `/v1/responses` for
 * `openai:`, on `/v1/chat/completions` for `openai-chat:` and `openai-compatible:` (the server
 * must implement files and batches, as `rpt sim-server` does), Gemini's batch mode for
 * `gemini:`. Other specs have no batch API: a
 * {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * import { createBatchClient } from "./spec.ts";
 * const client = await createBatchClient("gemini:gemini-2.5-flash", { env: { GEMINI_API_KEY: "k" } });
 * if (client.provider !== "gemini" || client.model !== "gemini-2.5-flash") throw new Error();
 * ```
 */
export async function createBatchClient(
  spec: string,
  opts: CreateModelOptions = {},
): Promise<BatchClient> {
  const parsed = parseModelSpec(spec);
  const conn = connection(spec, parsed, opts);
  switch (parsed.provider) {
    case "openai": {
      const { OpenAIBatchClient, responsesCodec } = await import("./batch/openai_batch.ts");
      const { OpenAIResponsesModel } = await import("./openai_responses.ts");
      return new OpenAIBatchClient({
        ...conn!,
        codec: responsesCodec(new OpenAIResponsesModel(conn!)),
      });
    }
    case "openai-chat":
    case "openai-compatible": {
      const { OpenAIBatchClient } = await import("./batch/openai_batch.ts");
      return new OpenAIBatchClient(conn!);
    }
    case "gemini": {
      const { GeminiBatchClient } = await import("./batch/gemini_batch.ts");
      return new GeminiBatchClient(conn!);
    }
    default:
      throw new ConfigError(
        `"${spec}" has no batch API: batch mode needs an openai:, openai-chat:, ` +
          `openai-compatible: or gemini: model`,
      );
  }
}
