/**
 * Side-by-side comparison of prompt optimizers under one budget (the paper's Table 1):
 * every method gets the same task rendering, parser and scorer, the same splits (the first
 * N examples of each), the same budget in target calls, its own fresh models, and the same
 * selection on dev; the harness then scores each method's selected prompt once on test.
 *
 * Counting is the same for every method because it happens below the methods, right on
 * top of the provider: {@linkcode meterChatModel} puts a {@linkcode UsageLedger} between
 * the raw model and everything else. The target's ledger carries the call budget (a call
 * beyond it is refused before it is sent); identical requests inside one method are
 * answered once (a response cache sits above the meter, as in an RPT run).
 *
 * With a `cache` file, a second response cache sits below the meters, right on the
 * provider: a comparison run again (after an interruption, or by an experiment) pays for
 * no call twice, while every method still counts and spends its budget exactly as on the
 * first run, because the meters above it see the same calls.
 *
 * @module
 */
import { join } from "node:path";
import { evaluatePrompt } from "../diagnose.ts";
import { UsageLedger } from "../llm/accounting.ts";
import { SqliteResponseCache } from "../llm/cache.ts";
import {
  BudgetExceededError,
  type CallOptions,
  type ChatModel,
  type Embedder,
} from "../llm/model.ts";
import { createChatModel, createEmbedder, specsAreSimulated } from "../llm/spec.ts";
import { simTaskFor } from "../revise/models.ts";
import { wrapChatModel } from "../llm/wrap.ts";
import { getTask } from "../tasks/registry.ts";
import type { Task } from "../tasks/task.ts";
import type { ChatRequest, ChatResponse } from "../llm/schema.ts";
import type { Example, Metrics } from "../tasks/schema.ts";
import { promptChars, type PromptProgram } from "../prompt.ts";
import { assertComplete, failuresOf, IncompleteError, PHASE_ROLE } from "../incomplete.ts";
import { redactURL } from "../util/redact.ts";
import { ConfigError } from "../util/errors.ts";
import { writeJsonAtomic, writeTextAtomic } from "../util/fs.ts";
import { estimateTokens } from "../util/tokens.ts";
import type { ScoredItem } from "../run/schema.ts";
import { scoredItems } from "../revise/evaluate.ts";
import { ace } from "./ace.ts";
import { gepa } from "./gepa.ts";
import { mipro } from "./mipro.ts";
import type {
  CurvePoint,
  Optimizer,
  OptimizerContext,
  OptimizerProgress,
  ScoredCandidate,
} from "./optimizer.ts";
import { rpt } from "./rpt.ts";
import { fixed } from "../util/format.ts";

/** The methods `rpt compare` knows, by name. */
export const METHODS: Readonly<Record<string, () => Optimizer>> = {
  rpt: () => rpt(),
  gepa: () => gepa(),
  "gepa-ca": () => gepa({ confidenceAware: true }),
  mipro: () => mipro(),
  ace: () => ace(),
};

/** Raw (unwrapped) models of one method. */
export interface RawModels {
  target: ChatModel;
  optimizer: ChatModel;
  /** Defaults to the optimizer. */
  critic?: ChatModel;
  embedder?: Embedder;
}

/** Options of {@linkcode compare}. */
export interface CompareOptions {
  /** A task name (see `getTask`) or the task itself (e.g. a preset's). */
  task: string | Task;
  /** Method names (see {@linkcode METHODS}) or optimizers. */
  methods: (string | Optimizer)[];
  /** Budget per method, in target calls (dev scoring included, test excluded). */
  budgetCalls: number;
  /** Model specs (default `sim:target`, `sim:optimizer`). */
  target?: string;
  optimizer?: string;
  critic?: string;
  embedder?: string;
  seed?: number;
  confidenceAware?: boolean;
  /** Target calls in flight (default 16). */
  concurrency?: number;
  dataDir?: string;
  /** First N examples of each split. */
  limits?: { train?: number; dev?: number; test?: number };
  /** Environment for API keys and base URLs of the specs (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Directory for the record (`compare.json`, `events.jsonl`, `curves.svg`, RPT's run). */
  outDir?: string;
  /**
   * A response cache file below the meters (see the module doc): a rerun pays for no call
   * twice and gives the same result. Absent: nothing outlives the comparison.
   */
  cache?: string;
  /**
   * Fresh raw models per method instead of models built from the specs (tests). They stand
   * for the provider.
   */
  models?: (method: string) => RawModels | Promise<RawModels>;
  /**
   * Retries, per-attempt timeout and longest backoff of the methods' and the harness's model
   * calls (the wrapper's defaults when absent), as a run's `retries`, `timeoutSeconds` and
   * `backoffMaxSeconds` set them for RPT.
   */
  calls?: { maxRetries?: number; timeoutMs?: number; maxBackoffMs?: number };
  signal?: AbortSignal;
  onProgress?: (p: OptimizerProgress) => void;
}

/** The wrapper options of {@linkcode CompareOptions.calls}. */
function callOptions(calls: CompareOptions["calls"]) {
  return {
    ...(calls?.maxRetries !== undefined ? { maxRetries: calls.maxRetries } : {}),
    ...(calls?.timeoutMs !== undefined ? { timeoutMs: calls.timeoutMs } : {}),
    ...(calls?.maxBackoffMs !== undefined ? { backoff: { maxDelayMs: calls.maxBackoffMs } } : {}),
  };
}

/** Calls, tokens and dollars of one role, from its provider-level ledger. */
export interface RoleUsage {
  calls: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  priced: boolean;
}

/** A dev-scored candidate as a row records it. */
export interface CandidateSummary {
  index: number;
  calls: number;
  origin: string;
  promptChars: number;
  dev: Metrics;
}

/** One row of the comparison table. */
export interface MethodRow {
  method: string;
  initial: { dev: Metrics; test: Metrics };
  final: { dev: Metrics; test: Metrics | null; selection: number };
  /** Per-example test outcomes of the seed and of the selected prompt (paired tests). */
  testItems: { initial: ScoredItem[]; final: ScoredItem[] | null };
  selected: ScoredCandidate;
  candidates: number;
  /** Every candidate scored on dev, in order (the seed first), without its prompt. */
  scored: CandidateSummary[];
  usage: { target: RoleUsage; optimizer: RoleUsage; totalTokens: number; usd: number };
  curve: CurvePoint[];
  stopReason: string;
  stats: Record<string, number>;
}

/** The whole comparison, as written to `compare.json`. */
export interface CompareResult {
  version: 1;
  task: string;
  simulated: boolean;
  budgetCalls: number;
  seed: number;
  confidenceAware: boolean;
  specs: { target: string; optimizer: string; critic: string };
  splits: { train: number; dev: number; test: number };
  seedPrompt: PromptProgram;
  rows: MethodRow[];
  /** Target calls the harness spent on test scoring (outside every budget). */
  harnessTestCalls: number;
  /** With a `cache` file: the calls that reached the providers, and those it answered. */
  providerUsage?: { calls: number; cacheHits: number; usd: number };
}

function roleUsage(ledger: UsageLedger): RoleUsage {
  const t = ledger.snapshot().total;
  return {
    calls: t.calls,
    failures: t.failures,
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    usd: t.usd,
    priced: t.priced,
  };
}

/**
 * A model that books every call in `ledger` (reserve before sending, so a budget refuses
 * the call; commit the provider's usage; release a failed attempt). Nothing else: no
 * cache, no limiter, so it can sit under any wrapper without nesting their limits.
 *
 * @example
 * ```ts
 * import { meterChatModel } from "./compare.ts";
 * import { UsageLedger } from "../llm/accounting.ts";
 * import { ScriptedChatModel } from "../llm/scripted.ts";
 * const ledger = new UsageLedger({ budget: { calls: 1 } });
 * const model = meterChatModel(new ScriptedChatModel(["a", "b"]), ledger);
 * await model.chat({ messages: [{ role: "user", content: "x" }] });
 * const refused = await model.chat({ messages: [{ role: "user", content: "y" }] }).then(() => false, () => true);
 * if (!refused || ledger.snapshot().total.calls !== 1) throw new Error("unexpected");
 * ```
 */
export function meterChatModel(model: ChatModel, ledger: UsageLedger): ChatModel {
  const baseURL = (model as { baseURL?: string }).baseURL;
  return {
    provider: model.provider,
    model: model.model,
    ...(baseURL !== undefined ? { baseURL } : {}),
    async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
      const input = request.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
      const reservation = ledger.reserve(model.provider, model.model, { inputTokens: input });
      try {
        const response = await model.chat(request, options);
        ledger.commit(reservation, response.usage);
        return response;
      } catch (error) {
        ledger.release(reservation);
        throw error;
      }
    },
  };
}

async function loadSplit(task: Task, split: "train" | "dev" | "test", opts: CompareOptions) {
  const all = await task.load(split, { dataDir: opts.dataDir });
  if (all.length === 0) throw new ConfigError(`task '${task.name}': the ${split} split is empty`);
  const limit = opts.limits?.[split];
  return limit === undefined ? all : all.slice(0, limit);
}

function resolveMethod(m: string | Optimizer): Optimizer {
  if (typeof m !== "string") return m;
  const make = METHODS[m.trim()];
  if (make === undefined) {
    throw new ConfigError(
      `unknown method '${m}': expected one of ${Object.keys(METHODS).join(", ")}`,
    );
  }
  return make();
}

/**
 * Runs every method under the same budget and scores each selected prompt once on test.
 *
 * @example
 * ```ts ignore
 * import { compare, compareTable } from "./compare.ts";
 * const result = await compare({ task: "synthetic", methods: ["gepa", "ace"], budgetCalls: 400 });
 * console.log(compareTable(result));
 * ```
 */
export async function compare(opts: CompareOptions): Promise<CompareResult> {
  if (!Number.isInteger(opts.budgetCalls) || opts.budgetCalls < 1) {
    throw new ConfigError(`--budget-calls: expected a positive integer, got ${opts.budgetCalls}`);
  }
  if (opts.methods.length === 0) throw new ConfigError("--methods: give at least one method");
  const optimizers = opts.methods.map(resolveMethod);
  const specs = {
    target: opts.target ?? "sim:target",
    optimizer: opts.optimizer ?? "sim:optimizer",
    critic: opts.critic ?? opts.optimizer ?? "sim:optimizer",
  };
  const seed = opts.seed ?? 0;
  const concurrency = opts.concurrency ?? 16;
  const task = typeof opts.task === "string" ? await getTask(opts.task) : opts.task;
  const data = {
    train: await loadSplit(task, "train", opts),
    dev: await loadSplit(task, "dev", opts),
    test: await loadSplit(task, "test", opts),
  };
  if (opts.budgetCalls < data.dev.length) {
    throw new ConfigError(
      `--budget-calls ${opts.budgetCalls} cannot pay for scoring the seed prompt on dev ` +
        `(${data.dev.length} examples): raise it or lower --limit-dev`,
    );
  }
  const served = opts.models === undefined ? simTaskFor(specs, task, data) : undefined;
  const sim = {
    seed,
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    ...(served !== undefined ? { task: served } : {}),
  };
  const makeModels = opts.models ?? (async (): Promise<RawModels> => {
    const made = { sim, ...(opts.env !== undefined ? { env: opts.env } : {}) };
    const optimizer = await createChatModel(specs.optimizer, made);
    return {
      target: await createChatModel(specs.target, made),
      optimizer,
      critic: specs.critic === specs.optimizer
        ? optimizer
        : await createChatModel(specs.critic, made),
      embedder: await createEmbedder(opts.embedder ?? "tfidf", made),
    };
  });
  // Checks specs and keys before any call.
  const probe = await makeModels("(probe)");
  // The provider-level cache: no slot, no retry, no timeout of its own (the wrappers above
  // take them), so it only answers what was answered before; a failure goes up as the
  // provider threw it, for the wrapper above to retry and report once.
  const providerCache = opts.cache === undefined
    ? null
    : new SqliteResponseCache({ path: opts.cache });
  const providerLedger = new UsageLedger();
  const provider = (m: ChatModel): ChatModel =>
    providerCache === null ? m : wrapChatModel(m, {
      cache: providerCache,
      ledger: providerLedger,
      limit: false,
      retry: false,
      timeoutMs: 0,
    });
  const simulated = specsAreSimulated([
    probe.target,
    probe.optimizer,
    probe.critic,
    probe.embedder,
  ]);

  if (opts.outDir !== undefined) await assertFreshOutDir(opts.outDir);
  const tempDir = opts.outDir === undefined;
  const outDir = opts.outDir ?? await Deno.makeTempDir({ prefix: "rpt-compare-" });
  await Deno.mkdir(outDir, { recursive: true });
  const events: string[] = [];
  const record = (kind: string, payload: Record<string, unknown>) => {
    events.push(JSON.stringify({ time: new Date().toISOString(), kind, ...payload }));
  };

  // The harness's own test scoring: one metered target outside every method's budget.
  const harnessLedger = new UsageLedger();
  const harnessCache = new SqliteResponseCache({ path: ":memory:" });
  const harnessTarget = wrapChatModel(meterChatModel(provider(probe.target), harnessLedger), {
    cache: harnessCache,
    concurrency,
    ...callOptions(opts.calls),
  });
  const testOf = new Map<string, TestScore>();
  const scoreOnTest = async (prompt: PromptProgram): Promise<TestScore> => {
    const key = JSON.stringify(prompt);
    const known = testOf.get(key);
    if (known !== undefined) return known;
    const { metrics, traces } = await evaluatePrompt(prompt, data.test, {
      task,
      target: harnessTarget,
      concurrency,
      signal: opts.signal,
    });
    // A failed call is never a score, on test either.
    assertComplete(failuresOf("test", traces), 0, traces);
    const scored = { metrics, items: scoredItems(traces) };
    testOf.set(key, scored);
    return scored;
  };

  const rows: MethodRow[] = [];
  try {
    const seedTest = await scoreOnTest(task.seedPrompt).catch(sentTo(probe.target));
    for (const optimizer of optimizers) {
      rows.push(
        await runMethod(optimizer, {
          opts,
          task,
          data,
          specs,
          seed,
          concurrency,
          makeModels,
          provider,
          outDir,
          record,
          scoreOnTest,
          seedTest,
        }).catch(sentTo(probe.target)),
      );
    }
  } finally {
    harnessCache.close();
    providerCache?.close();
  }
  const result: CompareResult = {
    version: 1,
    task: task.name,
    simulated,
    budgetCalls: opts.budgetCalls,
    seed,
    confidenceAware: opts.confidenceAware ?? false,
    specs,
    splits: { train: data.train.length, dev: data.dev.length, test: data.test.length },
    seedPrompt: task.seedPrompt,
    rows,
    harnessTestCalls: harnessLedger.snapshot().total.calls,
    ...(providerCache === null ? {} : {
      providerUsage: {
        calls: providerLedger.snapshot().total.calls,
        cacheHits: providerLedger.snapshot().total.cacheHits,
        usd: providerLedger.snapshot().total.usd,
      },
    }),
  };
  if (tempDir) await Deno.remove(outDir, { recursive: true });
  else await writeRecord(outDir, result, events);
  return result;
}

/**
 * Names the target's server in an {@linkcode IncompleteError} of the target's calls (the
 * only calls a comparison stops on), as a run's paragraph does; rethrows any error.
 */
function sentTo(target: ChatModel): (error: unknown) => never {
  const url = (target as { baseURL?: unknown }).baseURL;
  return (error) => {
    if (
      error instanceof IncompleteError && typeof url === "string" &&
      PHASE_ROLE[error.failures.phase] === "target"
    ) {
      error.sentTo(redactURL(url));
    }
    throw error;
  };
}

/** A prompt scored on the test split: metrics and per-example outcomes. */
interface TestScore {
  metrics: Metrics;
  items: ScoredItem[];
}

interface MethodSetup {
  opts: CompareOptions;
  task: Task;
  data: { train: Example[]; dev: Example[]; test: Example[] };
  specs: { target: string; optimizer: string; critic: string };
  seed: number;
  concurrency: number;
  makeModels: (method: string) => RawModels | Promise<RawModels>;
  /** Puts the provider-level cache (if any) on a raw model. */
  provider: (model: ChatModel) => ChatModel;
  outDir: string;
  record: (kind: string, payload: Record<string, unknown>) => void;
  scoreOnTest: (prompt: PromptProgram) => Promise<TestScore>;
  seedTest: TestScore;
}

async function runMethod(optimizer: Optimizer, s: MethodSetup): Promise<MethodRow> {
  const { opts, task, seed, concurrency } = s;
  const raw = await s.makeModels(optimizer.name);
  const targetLedger = new UsageLedger({ budget: { calls: opts.budgetCalls } });
  const optimizerLedger = new UsageLedger();
  const meteredTarget = meterChatModel(s.provider(raw.target), targetLedger);
  const rawCritic = raw.critic ?? raw.optimizer;
  const meteredOptimizer = meterChatModel(s.provider(raw.optimizer), optimizerLedger);
  const meteredCritic = rawCritic === raw.optimizer
    ? meteredOptimizer
    : meterChatModel(s.provider(rawCritic), optimizerLedger);
  const workDir = join(s.outDir, optimizer.name);
  await Deno.mkdir(workDir, { recursive: true });
  // RPT wraps the metered models with its own run cache; the baselines get the same kind
  // of cache here, so repeated identical requests are free for every method alike.
  const cache = optimizer.name === "rpt" ? null : new SqliteResponseCache({ path: ":memory:" });
  const wrap = (m: ChatModel) =>
    cache === null ? m : wrapChatModel(m, { cache, concurrency, ...callOptions(opts.calls) });
  const optimizerModel = wrap(meteredOptimizer);
  const ctx: OptimizerContext = {
    task,
    data: { train: s.data.train, dev: s.data.dev },
    target: wrap(meteredTarget),
    optimizer: optimizerModel,
    critic: meteredCritic === meteredOptimizer ? optimizerModel : wrap(meteredCritic),
    ...(raw.embedder !== undefined ? { embedder: raw.embedder } : {}),
    budgetCalls: opts.budgetCalls,
    callsUsed: () => targetLedger.snapshot().total.calls,
    seed,
    confidenceAware: opts.confidenceAware ?? false,
    concurrency,
    signal: opts.signal,
    onProgress: opts.onProgress,
    record: s.record,
    workDir,
  };
  s.record("method_start", { method: optimizer.name, budgetCalls: opts.budgetCalls });
  const usage = () => {
    const target = roleUsage(targetLedger);
    const opt = roleUsage(optimizerLedger);
    return {
      target,
      optimizer: opt,
      totalTokens: target.inputTokens + target.outputTokens + opt.inputTokens +
        opt.outputTokens,
      usd: target.usd + opt.usd,
    };
  };
  try {
    const result = await optimizer.run(ctx);
    const finalTest = await s.scoreOnTest(result.selected.prompt);
    const seedCandidate = result.candidates[0] ?? result.selected;
    const row: MethodRow = {
      method: optimizer.name,
      initial: { dev: seedCandidate.dev, test: s.seedTest.metrics },
      final: {
        dev: result.selected.dev,
        test: finalTest.metrics,
        selection: result.selected.selection,
      },
      testItems: { initial: s.seedTest.items, final: finalTest.items },
      selected: result.selected,
      candidates: result.candidates.length,
      scored: result.candidates.map((c) => ({
        index: c.index,
        calls: c.calls,
        origin: c.origin,
        promptChars: promptChars(c.prompt),
        dev: c.dev,
      })),
      usage: usage(),
      curve: result.curve,
      stopReason: result.stopReason,
      stats: result.stats,
    };
    s.record("method_end", {
      method: optimizer.name,
      stopReason: row.stopReason,
      targetCalls: row.usage.target.calls,
      devScore: row.final.dev.score,
      testScore: finalTest.metrics.score,
    });
    return row;
  } catch (error) {
    if (opts.signal?.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    s.record("method_failed", { method: optimizer.name, message });
    if (
      error instanceof ConfigError || error instanceof BudgetExceededError ||
      error instanceof IncompleteError
    ) {
      error.message = `${optimizer.name}: ${message}`;
      throw error;
    }
    throw new Error(`${optimizer.name}: ${message}`, { cause: error });
  } finally {
    cache?.close();
  }
}

/** A comparison never overwrites another: `--out` must be new or hold no comparison. */
async function assertFreshOutDir(dir: string): Promise<void> {
  for (const name of ["compare.json", "rpt"]) {
    try {
      await Deno.stat(join(dir, name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    throw new ConfigError(`--run-dir ${dir}: the directory already holds a comparison (${name})`);
  }
}

async function writeRecord(dir: string, result: CompareResult, events: string[]) {
  const write = (name: string, text: string) => writeTextAtomic(join(dir, name), text);
  await writeJsonAtomic(join(dir, "compare.json"), result);
  await write("events.jsonl", events.map((e) => `${e}\n`).join(""));
  await write("table.md", `${compareTable(result)}\n`);
  // Each line runs to the calls the method spent in all, at its final selected score.
  const points = result.rows.flatMap((r) => {
    const line = r.curve.map((p) => ({ method: r.method, calls: p.calls, score: p.bestDevScore }));
    const last = line.at(-1);
    if (last !== undefined && r.usage.target.calls > last.calls) {
      line.push({ method: r.method, calls: r.usage.target.calls, score: last.score });
    }
    return line;
  });
  if (points.length > 0) {
    const { scoreVsCallsChart } = await import("../plot.ts");
    const chart = scoreVsCallsChart(points, {
      simulated: result.simulated,
      scoreLabel: "dev score of the selected prompt",
      caption: `${result.task}: x = target (metric) calls; budget ${result.budgetCalls} per method`,
    });
    await write("curves.svg", chart.svg);
  }
}

/**
 * The comparison as a Markdown table in the shape of the paper's Table 1 (initial → final
 * score and Brier on dev and test per method), with the cost of each method. Simulated
 * results say so in the first line.
 */
export function compareTable(result: CompareResult): string {
  const lines: string[] = [];
  if (result.simulated) {
    lines.push("**SIMULATED** (offline simulator models: figures test the harness, not methods)");
    lines.push("");
  }
  lines.push(
    `Task ${result.task}; train/dev/test ${result.splits.train}/${result.splits.dev}/` +
      `${result.splits.test}; budget ${result.budgetCalls} target calls per method; seed ` +
      `${result.seed}${result.confidenceAware ? "; confidence-aware selection" : ""}`,
  );
  lines.push("");
  lines.push(
    "| method | dev score | dev Brier | test score | test Brier | target calls | optimizer calls | tokens | USD | candidates |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of result.rows) {
    const arrow = (a: number | null | undefined, b: number | null | undefined) =>
      `${fixed(a)} → ${fixed(b)}`;
    lines.push(
      `| ${r.method} | ${arrow(r.initial.dev.score, r.final.dev.score)} | ${
        arrow(r.initial.dev.brier, r.final.dev.brier)
      } | ${arrow(r.initial.test.score, r.final.test?.score)} | ${
        arrow(r.initial.test.brier, r.final.test?.brier)
      } | ${r.usage.target.calls} | ${r.usage.optimizer.calls} | ${r.usage.totalTokens} | ${
        r.usage.target.priced && r.usage.optimizer.priced ? fixed(r.usage.usd, 4) : "unpriced"
      } | ${r.candidates} |`,
    );
  }
  lines.push("");
  for (const r of result.rows) lines.push(`- ${r.method}: ${r.stopReason}`);
  return lines.join("\n");
}
