/**
 * Batch mode of a session (`--batch`, `batch: true`): the target's full-split passes (train
 * diagnosis, dev, test) and each round of critiques go to the provider as one batch job
 * through `runBatch`, at batch prices; the optimizer's conversation and ClusterFusion stay
 * interactive. The loop's code is unchanged: the target and critic models of the context sit
 * behind a {@linkcode BatchGate}, and `evaluate.ts` announces each phase's calls.
 *
 * Each job is recorded in `events.jsonl` (`batch_submitted`, with the hash of its requests)
 * before it is polled, so a session killed while a batch is in flight is resumed by polling
 * that batch, never by submitting the same requests again. What a batch did not answer
 * (lines it failed, lines an expired or cancelled job never ran) goes as ordinary calls; what
 * still fails is a failed call like any other (`lib/incomplete.ts`). `batch_done` counts it.
 *
 * Roles on the simulator (`sim:`) or given as model objects have no batch API: they stay
 * interactive, and a note says so.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { BatchGate } from "../llm/batch/gate.ts";
import type { BatchItem, BatchProgress } from "../llm/batch/run_batch.ts";
import type { BatchClient } from "../llm/batch/types.ts";
import { cacheKey } from "../llm/cache.ts";
import { type ChatModel, isFatalCallError, ProviderError } from "../llm/model.ts";
import type { ChatRequest } from "../llm/schema.ts";
import { createBatchClient, isSimulatedModel } from "../llm/spec.ts";
import type { RunConfig } from "../run/config.ts";
import { parseEvents } from "../run/reader.ts";
import { RUN_FILES } from "../run/schema.ts";
import type { BatchLabel, RunBatching, RunContext } from "./context.ts";
import { followRecorded, type RunEndpoints } from "./endpoints.ts";
import { emit } from "./progress.ts";

/** The roles whose calls batch mode sends as batch jobs. */
export type BatchRole = "target" | "critic";

export type { BatchLabel, RunBatching };

/** The batch clients of a run's roles, and notes about roles that stay interactive. */
export interface BatchClients {
  clients: Partial<Record<BatchRole, BatchClient>>;
  notes: string[];
}

/** Seconds between polls when the config does not say. */
export const DEFAULT_BATCH_POLL_SECONDS = 30;

/**
 * The batch clients for a config with `batch: true` (none without it), created from the same
 * specs, keys and servers as the interactive models (a resumed run's recorded servers). A
 * simulated or given role gets none and a note; a spec with no batch API is a `ConfigError`.
 */
export async function createBatchClients(
  config: RunConfig,
  opts: {
    env?: Record<string, string | undefined>;
    endpoints?: RunEndpoints;
    given?: Partial<Record<BatchRole, ChatModel>>;
  } = {},
): Promise<BatchClients> {
  const out: BatchClients = { clients: {}, notes: [] };
  if (config.batch !== true) return out;
  const specs: Record<BatchRole, string> = {
    target: config.target,
    critic: config.critic ?? config.optimizer,
  };
  const interactive: string[] = [];
  for (const role of ["target", "critic"] as const) {
    const spec = specs[role];
    if (opts.given?.[role] !== undefined) {
      interactive.push(`the ${role} (a given model)`);
      continue;
    }
    if (isSimulatedModel(spec)) {
      interactive.push(`the ${role} (${spec}, SIMULATED)`);
      continue;
    }
    const f = followRecorded(role, spec, opts.endpoints?.[role], opts.env);
    out.clients[role] = await createBatchClient(f.spec, { env: f.env });
  }
  if (interactive.length > 0) {
    out.notes.push(
      `rpt: batch mode: ${interactive.join(" and ")} ${
        interactive.length > 1 ? "have" : "has"
      } no batch API; ${interactive.length > 1 ? "their" : "its"} calls stay interactive`,
    );
  }
  return out;
}

/**
 * Puts a gate in front of each wrapped model that has a batch client; `ctx` gives the
 * session (cache, ledger, writer, listeners) once it exists. Returns the gates and the
 * models to use in their place.
 */
export function batchGates(
  clients: Partial<Record<BatchRole, BatchClient>>,
  wrapped: Partial<Record<BatchRole, ChatModel>>,
  ctx: () => RunContext,
): { gates: RunBatching; models: Partial<Record<BatchRole, ChatModel>> } {
  const gates: RunBatching = {};
  const models: Partial<Record<BatchRole, ChatModel>> = {};
  for (const role of ["target", "critic"] as const) {
    const client = clients[role];
    const inner = wrapped[role];
    if (client === undefined || inner === undefined) continue;
    const gate = new BatchGate<BatchLabel>(
      inner,
      (label, requests) => sendBatch(ctx(), { role, client, model: inner }, label, requests),
    );
    gates[role] = gate;
    models[role] = gate.model;
  }
  return { gates, models };
}

/**
 * Runs `work` with its first `calls` calls of `role` gathered into one batch job when the
 * session batches that role; otherwise just runs it.
 */
export function batched<T>(
  ctx: RunContext,
  role: BatchRole,
  label: BatchLabel,
  calls: number,
  work: () => Promise<T>,
): Promise<T> {
  const gate = ctx.batch?.[role];
  return gate === undefined ? work() : gate.gather(label, calls, work);
}

/** Whether the session sends `role`'s full-split calls as batches. */
export function batchesRole(ctx: RunContext, role: BatchRole): boolean {
  return ctx.batch?.[role] !== undefined;
}

interface Side {
  role: BatchRole;
  client: BatchClient;
  model: ChatModel;
}

/** The hash naming a list of requests of one model (their cache keys, in order). */
function digestOf(model: ChatModel, requests: readonly ChatRequest[]): string {
  const baseURL = (model as { baseURL?: unknown }).baseURL;
  const hash = createHash("sha256");
  for (const request of requests) {
    hash.update(cacheKey({
      kind: "chat",
      provider: model.provider,
      model: model.model,
      baseURL: typeof baseURL === "string" ? baseURL : undefined,
      request,
    }));
  }
  return hash.digest("hex");
}

/** The batch an earlier session (or this one) submitted for these requests, if any. */
async function recordedBatch(ctx: RunContext, digest: string): Promise<string | undefined> {
  const path = `${ctx.writer.dir}/${RUN_FILES.events}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  const found = (await parseEvents(text, path)).filter((e) =>
    e.type === "batch_submitted" && e.digest === digest
  ).at(-1);
  return found?.type === "batch_submitted" ? found.batchId : undefined;
}

/** One gathered phase through `runBatch`, recorded and shown. */
async function sendBatch(
  ctx: RunContext,
  side: Side,
  label: BatchLabel,
  requests: ChatRequest[],
): Promise<BatchItem[]> {
  const digest = digestOf(side.model, requests);
  const where = {
    step: label.step,
    phase: label.phase,
    role: side.role,
    model: `${side.model.provider}:${side.model.model}`,
    digest,
  };
  const recorded = await recordedBatch(ctx, digest);
  // Loaded with the first batch: a session that sends none never pays for the module.
  const { runBatch } = await import("../llm/batch/run_batch.ts");
  const attempt = (resumeBatchId: string | undefined) =>
    runBatch({ client: side.client, model: side.model }, requests, {
      cache: ctx.cache,
      ledger: ctx.ledger,
      ...(resumeBatchId !== undefined ? { resumeBatchId } : {}),
      pollIntervalMs: (ctx.config.batchPollSeconds ?? DEFAULT_BATCH_POLL_SECONDS) * 1000,
      // The batch API's own requests (upload, create, poll, read) retry as the run's calls do.
      ...(ctx.config.retries !== undefined ? { maxRetries: ctx.config.retries } : {}),
      ...(ctx.config.backoffMaxSeconds !== undefined
        ? {
          backoff: {
            maxDelayMs: ctx.config.backoffMaxSeconds * 1000,
            baseDelayMs: Math.min(500, ctx.config.backoffMaxSeconds * 1000),
          },
        }
        : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onSubmitted: async (batchId, lines) => {
        await ctx.writer.event({ type: "batch_submitted", ...where, batchId, lines });
      },
      onProgress: (p) => showProgress(ctx, label, side.role, p),
    });
  let result;
  let resumed = recorded !== undefined;
  try {
    result = await attempt(recorded);
  } catch (error) {
    // A recorded batch the provider no longer knows (deleted, another server): send anew.
    if (
      recorded === undefined || !(error instanceof ProviderError) ||
      isFatalCallError(error, ctx.signal)
    ) {
      throw error;
    }
    console.warn(
      `rpt: batch ${recorded} (step ${label.step}, ${label.phase}) could not be polled again ` +
        `(${error.message}); submitting its requests anew`,
    );
    resumed = false;
    result = await attempt(undefined);
  }
  const s = result.stats;
  // Every request answered by the cache: no batch was sent or polled (a recorded one or not).
  const used = s.submitted > 0 && result.batchId !== undefined;
  await ctx.writer.event({
    type: "batch_done",
    ...where,
    ...(used ? { batchId: result.batchId } : {}),
    resumed: resumed && used,
    ...(s.finalState !== undefined ? { state: s.finalState } : {}),
    requests: s.requests,
    cacheHits: s.cacheHits,
    fromBatch: s.fromBatch,
    failedInBatch: s.failedInBatch,
    missing: s.missing,
    ordinary: s.ordinary,
    failures: s.failures,
    ...(s.fallback !== undefined ? { fallback: s.fallback } : {}),
  });
  return result.items;
}

function showProgress(
  ctx: RunContext,
  label: BatchLabel,
  role: BatchRole,
  p: BatchProgress,
): void {
  emit(ctx.listeners, {
    type: "batch",
    step: label.step,
    phase: label.phase,
    role,
    stage: p.phase,
    ...(p.batchId !== undefined && p.stats.submitted > 0 ? { batchId: p.batchId } : {}),
    state: p.status?.state ?? (p.phase === "submitted" ? "pending" : "none"),
    done: p.phase === "done" ? p.stats.fromBatch : p.status?.done ?? p.stats.fromBatch,
    failed: p.status?.failed ?? p.stats.failedInBatch,
    total: p.status?.total || p.stats.submitted,
    fallbacks: p.stats.failedInBatch + p.stats.missing,
  });
}
