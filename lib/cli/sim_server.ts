/**
 * `rpt sim-server`: serves the simulated models on 127.0.0.1 in the OpenAI (Chat
 * Completions, embeddings) and Gemini REST wire formats, so the whole pipeline can run
 * through the real SDKs with no network, e.g.
 * `--target openai-compatible:sim-target@http://127.0.0.1:P/v1`. Served models:
 * `sim-target`, `sim-optimizer`, `sim-critic` (chat) and `sim-embed` (embeddings).
 *
 * @module
 */
import { createSimChatModel, createSimEmbedder } from "../llm/sim/mod.ts";
import { type FaultPlan, type ModelServer, serveModels } from "../llm/serve.ts";
import { ConfigError } from "../util/errors.ts";
import { parseCommandArgs } from "./args.ts";

const HELP = `usage: rpt sim-server [--port P] [--latency-ms N] [--seed S] [--data-dir D]
                      [--fault-429 R] [--fault-500 R] [--fault-timeout R]

Serves SIMULATED models on 127.0.0.1 (OpenAI base URL http://127.0.0.1:P/v1, Gemini REST
at http://127.0.0.1:P/v1beta): sim-target, sim-optimizer, sim-critic, sim-embed.
  --port P           port to bind (default 0: a free port)
  --latency-ms N     delay added before every answer (default 0)
  --seed S           seed of the simulation and of the fault draws (default 0)
  --data-dir D       task data directory (default RPT_DATA_DIR, ../shared/data, data/)
  --fault-429 R      probability per request of a 429 (Retry-After: 1)
  --fault-500 R      probability per request of a 500
  --fault-timeout R  probability per request of a request that never answers
Stop with Ctrl-C.`;

/** Options of {@linkcode startSimServer}. */
export interface SimServerOptions {
  port?: number;
  latencyMs?: number;
  seed?: number;
  dataDir?: string;
  /** Fault probabilities per request. */
  faultRates?: { status429?: number; status500?: number; hang?: number };
}

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
  const sim = { seed: opts.seed ?? 0, dataDir: opts.dataDir };
  const faults: FaultPlan = { rates: { ...opts.faultRates }, seed: opts.seed ?? 0 };
  return serveModels({
    models: {
      "sim-target": createSimChatModel("target", sim),
      "sim-optimizer": createSimChatModel("optimizer", sim),
      "sim-critic": createSimChatModel("critic", sim),
    },
    embedders: { "sim-embed": createSimEmbedder(sim) },
    port: opts.port ?? 0,
    latencyMs: opts.latencyMs,
    faults,
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

/** Runs `rpt sim-server` until SIGINT / SIGTERM. */
export async function run(args: string[]): Promise<number> {
  const { values }: { values: Record<string, unknown> } = parseCommandArgs({
    args,
    options: {
      port: { type: "string" },
      "latency-ms": { type: "string" },
      seed: { type: "string" },
      "data-dir": { type: "string" },
      "fault-429": { type: "string" },
      "fault-500": { type: "string" },
      "fault-timeout": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  }, `\n\n${HELP}`);
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
  const isRate = (n: number) => n >= 0 && n <= 1;
  const server = startSimServer({
    port: numberFlag(values, "port", isPort, "an integer port 0-65535"),
    latencyMs: numberFlag(values, "latency-ms", (n) => n >= 0, "a non-negative number"),
    seed: numberFlag(values, "seed", Number.isInteger, "an integer"),
    dataDir: values["data-dir"] as string | undefined,
    faultRates: {
      status429: numberFlag(values, "fault-429", isRate, "a probability in [0, 1]"),
      status500: numberFlag(values, "fault-500", isRate, "a probability in [0, 1]"),
      hang: numberFlag(values, "fault-timeout", isRate, "a probability in [0, 1]"),
    },
  });
  console.log(`rpt sim-server: serving SIMULATED models at ${server.url}`);
  console.log(`  OpenAI base URL: ${server.url}/v1   Gemini base URL: ${server.url}`);
  console.log(`  models: sim-target, sim-optimizer, sim-critic, sim-embed (embeddings)`);
  console.log(`  example: --target openai-compatible:sim-target@${server.url}/v1`);
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
