/**
 * `rpt sim-server`: serves the simulated models on 127.0.0.1 in the OpenAI (Chat
 * Completions, Responses, embeddings) and Gemini REST wire formats, so the whole pipeline can
 * run through the real SDKs with no network, e.g.
 * `--target openai-compatible:sim-target@http://127.0.0.1:P/v1` (Chat Completions) or
 * `--target openai:sim-target@http://127.0.0.1:P/v1` (Responses). Served models:
 * `sim-target`, `sim-optimizer`, `sim-critic` (chat) and `sim-embed` (embeddings), plus any
 * `--model NAME=ROLE` alias, so that an OpenAI model name such as `gpt-5` (a reasoning model:
 * no temperature, reasoning effort, encrypted reasoning items) can be exercised offline.
 * Both providers' batch APIs are served too (OpenAI files + batches, Gemini batch mode).
 * `--task custom:<task.json>` hands a task of the user's own to the served models, so it is
 * answered over the wire as `sim:target` answers it in process.
 *
 * @module
 */
import {
  createSimChatModel,
  createSimEmbedder,
  serveTask,
  type SimServedTask,
  simServesNatively,
} from "../sim/mod.ts";
import { getTask } from "../tasks/registry.ts";
import { type FaultPlan, type ModelServer, serveModels } from "../llm/serve.ts";
import type { ChatModel } from "../llm/model.ts";
import { ConfigError } from "../util/errors.ts";
import { flagHelp, parseCommandArgs } from "./args.ts";
import { hint } from "./hints.ts";

const HELP = `usage: rpt sim-server [--port P] [--latency-ms N] [--seed S] [--data-dir DIR]
                      [--task custom:<task.json>]
                      [--fault-429 R] [--retry-after S] [--fault-500 R] [--fault-timeout R]
                      [--fault-truncate R] [--model NAME=ROLE]...
                      [--batch-delay-ms N] [--log]

Serves SIMULATED models on 127.0.0.1 (OpenAI base URL http://127.0.0.1:P/v1 for Chat
Completions and the Responses API, Gemini REST at http://127.0.0.1:P/v1beta): sim-target,
sim-optimizer, sim-critic, sim-embed.
  --port P              port to bind (default 0: a free port)
  --task custom:FILE    also serve your own task (task.json, as for rpt optimize --task):
                        the simulated target answers it from its gold answers, as sim:target
                        does in process (the bundled tasks are always served)
  --latency-ms N        delay added before every answer (default 0)
${flagHelp("seed", ": the simulation, the fault draws\n(default 0)")}
${flagHelp("data-dir", "\n(default RPT_DATA_DIR, then ../shared/data, then data/)")}
  --fault-429 R         probability per request of a 429 (with Retry-After, see
                        --retry-after)
  --retry-after S       the Retry-After of those 429s, in seconds (default 1)
  --fault-500 R         probability per request of a 500
  --fault-timeout R     probability per request of a request that never answers
  --fault-truncate R    probability per request of a 200 whose JSON body stops halfway
                        (faults apply to every chat and embedding endpoint, each request
                        drawn once, seeded by --seed)
  --model NAME=ROLE     also serve the simulated ROLE (target, optimizer, critic) as NAME,
                        e.g. --model gpt-5=optimizer for
                        --optimizer openai:gpt-5@http://127.0.0.1:P/v1 (openai: specs still
                        need OPENAI_API_KEY set; any value does locally)
  --batch-delay-ms N    every batch job stays in progress at least N ms (default 0)
  --log                 print one line per request: method, path, status, model=NAME and
                        fault=KIND when a fault was injected
Batch APIs: OpenAI POST /v1/files, POST /v1/batches, GET /v1/batches[/ID]; Gemini
models/M:batchGenerateContent, GET batches/ID.
Stop with Ctrl-C.`;

/** Options of {@linkcode startSimServer}. */
export interface SimServerOptions {
  port?: number;
  latencyMs?: number;
  seed?: number;
  dataDir?: string;
  /** Fault probabilities per request (and the Retry-After of the 429s). */
  faultRates?: FaultPlan["rates"];
  /** Extra served names, each for one simulated role (e.g. `{ "gpt-5": "optimizer" }`). */
  aliases?: Record<string, SimRole>;
  /** Every batch job stays in progress at least this long, in ms. */
  batchDelayMs?: number;
  /** A task of the user's own, handed to the simulated models ({@linkcode serveTask}). */
  task?: SimServedTask;
  /** Called with one line per request (method, path, status). */
  log?: (line: string) => void;
}

/** The simulated chat roles a served name can stand for. */
export type SimRole = "target" | "optimizer" | "critic";

const SIM_ROLES: readonly SimRole[] = ["target", "optimizer", "critic"];

/**
 * Starts serving the simulated models; close the returned server when done.
 *
 * @example
 * ```ts
 * import { startSimServer } from "./sim_server.ts";
 * const server = startSimServer({ port: 0, seed: 1 });
 * const res = await fetch(`${server.url}/v1/embeddings`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ model: "sim-embed", input: ["hello"] }),
 * });
 * const body = await res.json();
 * await server.close();
 * if (body.data[0].embedding.length !== 256) throw new Error("unexpected");
 * ```
 */
export function startSimServer(opts: SimServerOptions = {}): ModelServer {
  const sim = {
    seed: opts.seed ?? 0,
    dataDir: opts.dataDir,
    ...(opts.task !== undefined ? { task: opts.task } : {}),
  };
  const faults: FaultPlan = { rates: { ...opts.faultRates }, seed: opts.seed ?? 0 };
  const models: Record<string, ChatModel> = Object.fromEntries(
    SIM_ROLES.map((role) => [`sim-${role}`, createSimChatModel(role, sim)]),
  );
  for (const [name, role] of Object.entries(opts.aliases ?? {})) {
    models[name] = models[`sim-${role}`]!;
  }
  return serveModels({
    models,
    embedders: { "sim-embed": createSimEmbedder(sim) },
    port: opts.port ?? 0,
    latencyMs: opts.latencyMs,
    faults,
    batchFaults: { always: { delayMs: opts.batchDelayMs ?? 0 } },
    log: opts.log,
    recordLimit: 100,
  });
}

function numberFlag(
  values: Record<string, unknown>,
  name: string,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (String(raw).trim() === "" || !Number.isFinite(n) || !check(n)) {
    throw new ConfigError(`--${name}: expected ${expected}, got '${raw}'`);
  }
  return n;
}

function retryAfter(values: Record<string, unknown>): { retryAfter?: string } {
  const n = numberFlag(
    values,
    "retry-after",
    (x) => Number.isInteger(x) && x >= 0,
    "a whole number of seconds >= 0",
  );
  return n === undefined ? {} : { retryAfter: String(n) };
}

/**
 * The task `--task` names, loaded with its splits and handed to the simulator; a bundled
 * task needs no flag, and a task the simulated target cannot answer is a ConfigError.
 */
export async function servedTaskFlag(
  value: string | undefined,
  dataDir?: string,
): Promise<SimServedTask | undefined> {
  if (value === undefined) return undefined;
  if (!value.startsWith("custom:")) {
    const bundled = simServesNatively(value) ? `'${value}' is always served; ` : "";
    throw new ConfigError(`--task: ${bundled}expected custom:<task.json>, got '${value}'`);
  }
  const task = await getTask(value);
  const load = (split: "train" | "dev" | "test") => task.load(split, { dataDir });
  const data = { train: await load("train"), dev: await load("dev"), test: await load("test") };
  return serveTask(task, data, { strict: true });
}

/** `--model NAME=ROLE` values as aliases; a bad one is a ConfigError naming it. */
function aliasFlags(raw: unknown): Record<string, SimRole> {
  const aliases: Record<string, SimRole> = {};
  for (const value of (raw as string[] | undefined) ?? []) {
    const eq = value.indexOf("=");
    const name = value.slice(0, eq).trim();
    const role = value.slice(eq + 1).trim();
    if (eq <= 0 || !name || !(SIM_ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(
        `--model: expected NAME=ROLE with ROLE one of ${SIM_ROLES.join(", ")}, got '${value}'`,
      );
    }
    aliases[name] = role as SimRole;
  }
  return aliases;
}

/** Runs `rpt sim-server` until SIGINT / SIGTERM. */
export async function run(args: string[]): Promise<number> {
  const { values }: { values: Record<string, unknown> } = parseCommandArgs({
    args,
    options: {
      port: { type: "string" },
      "latency-ms": { type: "string" },
      seed: { type: "string" },
      "data-dir": { type: "string" },
      task: { type: "string" },
      "fault-429": { type: "string" },
      "fault-500": { type: "string" },
      "fault-timeout": { type: "string" },
      "fault-truncate": { type: "string" },
      "retry-after": { type: "string" },
      model: { type: "string", multiple: true },
      "batch-delay-ms": { type: "string" },
      log: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }, `\n\n${HELP}`);
  if (values.help === true) {
    console.log(hint(HELP));
    return 0;
  }
  const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
  const isRate = (n: number) => n >= 0 && n <= 1;
  const aliases = aliasFlags(values.model);
  const dataDir = values["data-dir"] as string | undefined;
  const task = await servedTaskFlag(values.task as string | undefined, dataDir);
  const server = startSimServer({
    ...(task !== undefined ? { task } : {}),
    port: numberFlag(values, "port", isPort, "an integer port 0-65535"),
    latencyMs: numberFlag(values, "latency-ms", (n) => n >= 0, "a non-negative number"),
    seed: numberFlag(values, "seed", Number.isInteger, "an integer"),
    dataDir,
    faultRates: {
      status429: numberFlag(values, "fault-429", isRate, "a probability in [0, 1]"),
      status500: numberFlag(values, "fault-500", isRate, "a probability in [0, 1]"),
      hang: numberFlag(values, "fault-timeout", isRate, "a probability in [0, 1]"),
      truncated: numberFlag(values, "fault-truncate", isRate, "a probability in [0, 1]"),
      ...retryAfter(values),
    },
    aliases,
    batchDelayMs: numberFlag(values, "batch-delay-ms", (n) => n >= 0, "a non-negative number"),
    log: values.log === true ? (line) => console.log(line) : undefined,
  });
  console.log(`rpt sim-server: serving SIMULATED models at ${server.url}`);
  console.log(`  OpenAI base URL: ${server.url}/v1   Gemini base URL: ${server.url}`);
  console.log(
    `  models: sim-target, sim-optimizer, sim-critic, sim-embed (embeddings)` +
      Object.keys(aliases).map((name) => `, ${name}`).join(""),
  );
  if (task !== undefined) {
    console.log(
      `  task: ${task.name} (${task.examples.length} examples), besides the bundled ones`,
    );
  }
  console.log(
    `  example: --target openai-compatible:sim-target@${server.url}/v1 (Chat Completions)`,
  );
  console.log(`           --target openai:sim-target@${server.url}/v1 (Responses API)`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  await server.close();
  console.log("rpt sim-server: stopped");
  return 0;
}
