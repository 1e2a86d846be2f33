/**
 * The paper's seed prompts, read from the data directory: `<data-dir>/<task>/seed_prompt.json`
 * holds the reference implementation's `make_seed_prompt()` (megagonlabs/RPT at the pinned
 * commit) as data: `system`, `instruction`, the reference's prompt knobs and `source`. The
 * texts are never kept in this repository; `deno task rpt data:fetch` rebuilds the file from
 * the pinned reference file, and loading checks it against the manifest's sha256, because
 * the paper's gains are gains over these exact texts.
 *
 * The project's own seeds (`seeds.ts`) stay the tasks' default; these are what the `paper`
 * preset starts from (see `paper.ts`).
 *
 * @module
 */
import { z } from "zod";
import { verifyAgainstManifest } from "../data/manifest.ts";
import { SEED_SOURCE_FILES, type SeedTask } from "../data/seed_source.ts";
import type { PromptProgram } from "../prompt.ts";
import { ConfigError, describeSchemaIssue } from "../util/errors.ts";
import { resolveDataDir } from "./common.ts";

/** A task that has a paper seed prompt. */
export type PaperSeedTask = SeedTask;
/** The tasks that have a paper seed prompt. */
export const PAPER_SEED_TASKS = Object.keys(SEED_SOURCE_FILES) as readonly PaperSeedTask[];

/** The `source` record of a seed: where in the reference it was taken from. */
export const SeedPromptSource = z.object({
  repository: z.string().min(1),
  commit: z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-hex-digit commit"),
  file: z.string().min(1),
  function: z.string().min(1),
  license: z.string().min(1),
}).strict();
/** The `source` record of a seed. */
export type SeedPromptSource = z.infer<typeof SeedPromptSource>;

/**
 * `seed_prompt.json`: the reference's `PromptProgram` fields. `enforce_json_only` is read by
 * the reference LiveBench rendering (the JSON-only line); `max_justification_sentences`
 * (HotPotQA only) is never rendered by the reference, only shown to the optimizer, which
 * may patch it (bounds 1-10 in the reference's tool schema). Unknown fields are refused so a
 * changed file is noticed.
 */
export const SeedPromptFile = z.object({
  system: z.string(),
  instruction: z.string(),
  enforce_json_only: z.boolean(),
  max_justification_sentences: z.number().int().min(1).max(10).optional(),
  source: SeedPromptSource,
}).strict();
/** A parsed `seed_prompt.json`. */
export type SeedPromptFile = z.infer<typeof SeedPromptFile>;

/** The reference's prompt knobs: typed, unlike the prompt program's string fields. */
export interface SeedKnobs {
  /** LiveBench renders the JSON-only line when true; HotPotQA and Formula ignore it. */
  enforce_json_only: boolean;
  /** HotPotQA only; never rendered by the reference. */
  max_justification_sentences?: number;
}

/** A paper seed prompt: the prompt program, its knobs and where it came from. */
export interface PaperSeedPrompt {
  /** `system` and `instruction`, byte for byte as the reference wrote them. */
  prompt: PromptProgram;
  knobs: SeedKnobs;
  source: SeedPromptSource;
  /** The file it was read from. */
  path: string;
}

/** Options for {@linkcode paperSeedPrompt}. */
export interface PaperSeedOptions {
  /** Data directory; defaults to `--data-dir`, then `RPT_DATA_DIR`, then `data/`. */
  dataDir?: string;
  /** Check the file against the manifest's sha256 (default true). */
  verify?: boolean;
}

/**
 * Validates the text of a `seed_prompt.json`; `path` names it in errors (`path: field:
 * problem`).
 *
 * @example
 * ```ts
 * import { parseSeedPromptFile } from "./paper_seed.ts";
 * try {
 *   parseSeedPromptFile('{"system": "S", "instruction": 3}', "seed_prompt.json");
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!(e as Error).message.startsWith("seed_prompt.json: instruction: ")) throw e;
 * }
 * ```
 */
export function parseSeedPromptFile(text: string, path: string): SeedPromptFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: invalid JSON: ${(error as Error).message}`);
  }
  const parsed = SeedPromptFile.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(`${path}: ${describeSchemaIssue(parsed.error, "(file)")}`);
  }
  return parsed.data;
}

/**
 * The paper's seed prompt of `task` from `<data-dir>/<task>/seed_prompt.json`, checked
 * against the manifest. A missing file is a {@linkcode ConfigError} that names it and the
 * command that rebuilds it; so is a file whose checksum or fields are wrong.
 */
export async function paperSeedPrompt(
  task: PaperSeedTask,
  options: PaperSeedOptions = {},
): Promise<PaperSeedPrompt> {
  if (!(PAPER_SEED_TASKS as readonly string[]).includes(task)) {
    throw new ConfigError(
      `task '${task}' has no paper seed prompt: expected one of ${PAPER_SEED_TASKS.join(", ")}`,
    );
  }
  const relative = `${task}/seed_prompt.json`;
  const path = `${resolveDataDir(options.dataDir).replace(/\/+$/, "")}/${relative}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
    throw new ConfigError(
      `${path}: cannot read the paper's seed prompt: ${reason} (rebuild it with ` +
        `'deno task rpt data:fetch --task ${task}', or point --data-dir or RPT_DATA_DIR at a ` +
        `directory holding ${relative})`,
      { cause: error },
    );
  }
  if (options.verify !== false) await verifyAgainstManifest(relative, path, bytes);
  const file = parseSeedPromptFile(new TextDecoder().decode(bytes), path);
  const knobs: SeedKnobs = { enforce_json_only: file.enforce_json_only };
  if (file.max_justification_sentences !== undefined) {
    knobs.max_justification_sentences = file.max_justification_sentences;
  }
  return {
    prompt: { system: file.system, instruction: file.instruction },
    knobs,
    source: file.source,
    path,
  };
}
