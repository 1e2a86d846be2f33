/**
 * The first cell of every notebook: {@linkcode notebookSetup} reads the environment the
 * notebooks document (`RPT_TARGET`, `RPT_OPTIMIZER`, `RPT_CRITIC`, `RPT_EMBEDDER`,
 * `RPT_TASK`, `RPT_DATA_DIR`, `RPT_RUN_DIR`), finds the data, fills in the offline
 * simulator for whatever is not configured, and says whether the figures that follow are
 * simulated. One call instead of a prelude pasted into each notebook.
 *
 * @module
 */
import { join } from "node:path";
import { createChatModel, createEmbedder, specsAreSimulated } from "./llm/spec.ts";
import { wrapChatModel, type WrapOptions } from "./llm/wrap.ts";
import type { RunConfigInput } from "./run/config.ts";
import type { RunModels } from "./revise/models.ts";

/** What a notebook runs on. */
export interface NotebookSetup {
  /** The data directory, or undefined when none holds the paper's data (synthetic task). */
  dataDir: string | undefined;
  /** The task: `RPT_TASK`, else HotPotQA with data, else the bundled synthetic task. */
  task: string;
  /** Model specs: from the environment, else the simulator's. */
  target: string;
  optimizer: string;
  critic: string;
  embedder: string;
  /** A run directory to open (`RPT_RUN_DIR`), when one is given. */
  runDir: string | undefined;
  /** True when any model is the offline simulator: every figure must then say so. */
  simulated: boolean;
  /** `" (simulated)"` when simulated, else `""`: appended to captions and headings. */
  label: string;
  /** The seed of the simulated models, clustering and bootstrap. */
  seed: number;
  /** One Markdown line naming the task and models, with the SIMULATED notice when it applies. */
  banner: string;
  /** A run config on these specs (and data directory) with `overrides` on top. */
  config(overrides?: Partial<RunConfigInput>): RunConfigInput;
  /** Reads another variable of the environment (trimmed; undefined when empty). */
  env(name: string): string | undefined;
  /** The models, created from the specs; chat models wrapped (limiter, retries; a cache if given). */
  models(wrap?: WrapOptions): Promise<RunModels>;
}

/** Options of {@linkcode notebookSetup}. */
export interface NotebookSetupOptions {
  /** Seed of the simulated models (default 0). */
  seed?: number;
  /** Environment to read (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Where the shared data is looked for when `RPT_DATA_DIR` is unset (default: beside the repository). */
  sharedDataDir?: string;
}

function envReader(env?: Record<string, string | undefined>) {
  return (name: string): string | undefined => {
    let value: string | undefined;
    try {
      value = env ? env[name] : Deno.env.get(name);
    } catch {
      value = undefined; // no --allow-env: the defaults stand
    }
    return value?.trim() || undefined;
  };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const SHARED_DATA = decodeURIComponent(new URL("../../shared/data", import.meta.url).pathname);

/**
 * Reads the notebook environment. Without any variable set everything runs on the
 * simulator: `sim:target`, `sim:optimizer`, `sim:critic`, `sim:embed`. A real optimizer is
 * also the default critic, and then TF-IDF the default embedder.
 *
 * @example
 * ```ts
 * import { notebookSetup } from "./notebook_setup.ts";
 * const nb = notebookSetup({ env: { RPT_TASK: "synthetic" } });
 * if (!nb.simulated || nb.critic !== "sim:critic" || nb.label !== " (simulated)") throw new Error();
 * const real = notebookSetup({ env: { RPT_TARGET: "openai:gpt-4.1-mini", RPT_OPTIMIZER: "openai:gpt-4.1" } });
 * if (real.critic !== "openai:gpt-4.1" || real.embedder !== "tfidf" || real.simulated) throw new Error();
 * ```
 */
export function notebookSetup(options: NotebookSetupOptions = {}): NotebookSetup {
  const env = envReader(options.env);
  const shared = options.sharedDataDir ?? SHARED_DATA;
  const dataDir = env("RPT_DATA_DIR") ??
    (isFile(join(shared, "hotpotqa", "train.jsonl")) ? shared : undefined);
  const target = env("RPT_TARGET") ?? "sim:target";
  const optimizer = env("RPT_OPTIMIZER") ?? "sim:optimizer";
  const critic = env("RPT_CRITIC") ?? (optimizer.startsWith("sim:") ? "sim:critic" : optimizer);
  const embedder = env("RPT_EMBEDDER") ?? (critic.startsWith("sim:") ? "sim:embed" : "tfidf");
  const task = env("RPT_TASK") ?? (dataDir !== undefined ? "hotpotqa" : "synthetic");
  const seed = options.seed ?? 0;
  const simulated = specsAreSimulated({ target, optimizer, critic, embedder });
  const specs = { task, target, optimizer, critic, embedder };
  return {
    dataDir,
    ...specs,
    runDir: env("RPT_RUN_DIR"),
    simulated,
    label: simulated ? " (simulated)" : "",
    seed,
    banner: `**task** \`${task}\` · **target** \`${target}\` · **optimizer** \`${optimizer}\` · ` +
      `**critic** \`${critic}\` · **embedder** \`${embedder}\`` +
      (simulated
        ? "\n\n**SIMULATED**: every figure below comes from rpt's offline simulator."
        : ""),
    env,
    config: (overrides = {}) => ({
      ...specs,
      seed,
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...overrides,
    }),
    models: async (wrap = {}) => {
      const sim = { seed, ...(dataDir !== undefined ? { dataDir } : {}) };
      const make = async (spec: string) =>
        wrapChatModel(await createChatModel(spec, { sim }), wrap);
      const optimizerModel = await make(optimizer);
      return {
        target: await make(target),
        optimizer: optimizerModel,
        critic: critic === optimizer ? optimizerModel : await make(critic),
        embedder: await createEmbedder(embedder, { sim }),
      };
    },
  };
}
