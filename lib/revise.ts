/**
 * The revision loop (DESIGN section 1, "Revision loop" and "Selection"; CONTRACTS, "The
 * revision loop protocol"): {@linkcode optimize} runs RPT end to end and writes the run
 * record; {@linkcode continueRun} resumes an interrupted run.
 *
 * A run is a sequence of steps. Step s works on the prompt p(s-1) (p0 is the task's seed):
 * it scores it on dev (every prompt, the seed included, for selection), on test at step 1
 * and every `testEvery` steps (curves only), and, for s <= T, holds one fresh optimizer
 * conversation: the optimizer must call the `diagnose` tool (the project runs the tool loop
 * itself, so OpenAI- and Gemini-style function calls go the same way), receives the report
 * and the memory payload, and returns a decision, which the patch guards check (rejections
 * are fed back, at most `maxPatchAttempts` decisions). A patch at step T adds a last,
 * dev-only step for the final prompt. The selected prompt is scored once on test, and
 * compared with the seed by a paired bootstrap.
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import {
  controllerInstructions,
  iterationMessage,
  missingToolMessage,
  patchRejectedMessage,
} from "./controller.ts";
import { diagnose, type DiagnosticRecord, evaluatePrompt } from "./diagnose.ts";
import { checkDecision, formatCollapseWarning, readDecision } from "./guards.ts";
import { UsageLedger } from "./llm/accounting.ts";
import { defaultCachePath, SqliteResponseCache } from "./llm/cache.ts";
import { BudgetExceededError, type ChatModel, type Embedder } from "./llm/model.ts";
import { createChatModel, createEmbedder, parseModelSpec } from "./llm/spec.ts";
import { wrapChatModel, wrapEmbedder } from "./llm/wrap.ts";
import { buildMemoryPayload, memoryEntry, payloadTokens } from "./memory.ts";
import { reportForOptimizer, reportToMarkdown } from "./report.ts";
import {
  configForDisk,
  readRunJson,
  RUN_FILES,
  RunUsage,
  RunWriter,
  stepDirName,
  totalUsage,
} from "./run.ts";
import { compareWithSeed, selectionValue, updateBest } from "./select.ts";
import { promptChars } from "./tasks/common.ts";
import { getTask } from "./tasks/registry.ts";
import type { Task } from "./tasks/task.ts";
import {
  type ChatMessage,
  type ChatResponse,
  Decision,
  DiagnoseArgs,
  type DiagnosticReport,
  Evaluation,
  type Example,
  type MemoryEntry,
  type Metrics,
  PromptProgram,
  RunConfig,
  type RunConfigInput,
  RunState,
  type RunSummary,
  type ScoredItem,
  type Split,
  type StepSummary,
  type StopKind,
  toJsonSchema,
  type ToolCall,
  type ToolSpec,
  type TraceItem,
  type UsageSnapshot,
} from "./types.ts";
import { ConfigError, describeSchemaIssue } from "./util/errors.ts";
import { estimateTokens } from "./util/tokens.ts";

/** The models of a run. */
export interface RunModels {
  target: ChatModel;
  optimizer: ChatModel;
  critic: ChatModel;
  embedder: Embedder;
}

/** Progress of a run, for a progress bar or log lines. */
export interface LoopProgress {
  step: number;
  /** Iterations T (a final dev-only step may follow T). */
  iterations: number;
  phase: "dev" | "test" | "optimizer" | "target" | "critique" | "cluster" | "final";
  done: number;
  total: number;
}

/** Options of {@linkcode optimize} and {@linkcode continueRun}. */
export interface OptimizeOptions {
  /** Run directory (default `runs/<task>-<time>`); must not hold a run already. */
  runDir?: string;
  /**
   * Models to use instead of creating them from the config's specs (tests, notebooks).
   * They are wrapped with the run's cache and ledger like created ones.
   */
  models?: Partial<RunModels>;
  /** Stops the run cleanly (Ctrl-C): completed steps stay, `resume` continues. */
  signal?: AbortSignal;
  onProgress?: (p: LoopProgress) => void;
  /** Called once the run directory is known (before any call). */
  onRunDir?: (dir: string) => void;
  /** Called after each step is saved. */
  onStep?: (step: StepSummary) => void;
  /** Environment for API keys (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Per-attempt timeout of model calls in ms (wrapper default when absent). */
  timeoutMs?: number;
  /** Retries of failed model calls (wrapper default when absent). */
  maxRetries?: number;
}

/** What a run returned. */
export interface OptimizeResult {
  dir: string;
  /** Null when the run was interrupted before it finished. */
  summary: RunSummary | null;
  state: RunState;
  interrupted: boolean;
  usage: UsageSnapshot;
}

/** Name of the optimizer's tool. */
export const DIAGNOSE_TOOL = "diagnose";
/** `outputSchema.name` of the decision request. */
export const DECISION_SCHEMA_NAME = "decision";

function diagnoseTool(protocol: RunConfig["protocol"]): ToolSpec {
  return {
    name: DIAGNOSE_TOOL,
    description: protocol === "explore"
      ? "Run the target model on the optimization set and diagnose its failures. Empty " +
        "arguments diagnose the current prompt; give system and/or instruction to diagnose " +
        "a candidate prompt (fields left out are taken from the current prompt)."
      : "Run the target model on the optimization set with the current prompt and return " +
        "the diagnostic report (metrics and recurring failure topics) with the memory of " +
        "past iterations. Call it with empty arguments.",
    parameters: toJsonSchema(DiagnoseArgs),
  };
}

// ---------------------------------------------------------------------------------------------
// Configuration and set-up (everything checked before any call)

/**
 * Parses a run config; a problem is a {@linkcode ConfigError} naming the field.
 *
 * @example
 * ```ts
 * import { parseRunConfig } from "./revise.ts";
 * const c = parseRunConfig({ task: "synthetic", target: "sim:target", optimizer: "sim:optimizer" });
 * if (c.iterations !== 10 || c.memory !== "history_summary") throw new Error();
 * ```
 */
export function parseRunConfig(input: unknown, source = "config"): RunConfig {
  const parsed = RunConfig.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(`${source}: ${describeSchemaIssue(parsed.error, "(config)")}`);
  }
  return parsed.data;
}

/** The examples of a run's three splits. */
export interface RunData {
  train: Example[];
  dev: Example[];
  test: Example[];
}

/** Loads the task and its three splits (cut to `limits`). */
export async function loadRunData(config: RunConfig): Promise<{ task: Task; data: RunData }> {
  const task = await getTask(config.task);
  const load = async (split: Split) => {
    const all = await task.load(split, { dataDir: config.dataDir });
    const limit = config.limits[split];
    if (all.length === 0) throw new ConfigError(`task '${task.name}': the ${split} split is empty`);
    return limit === undefined ? all : all.slice(0, limit);
  };
  return {
    task,
    data: { train: await load("train"), dev: await load("dev"), test: await load("test") },
  };
}

/** True when any model spec of the config is the offline simulator. */
export function isSimulated(config: RunConfig): boolean {
  return [config.target, config.optimizer, config.critic ?? config.optimizer, config.embedder]
    .some((s) => s.trim().startsWith("sim:"));
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

// ---------------------------------------------------------------------------------------------
// Run context

interface Context {
  config: RunConfig;
  task: Task;
  data: RunData;
  models: RunModels;
  writer: RunWriter;
  ledger: UsageLedger;
  cache: SqliteResponseCache;
  options: OptimizeOptions;
  trainAnswers: string[];
  usageBefore: RunUsage["sessions"];
  sessionStarted: string;
  started: number;
}

function progress(
  ctx: Context,
  step: number,
  phase: LoopProgress["phase"],
  done: number,
  total: number,
) {
  ctx.options.onProgress?.({ step, iterations: ctx.config.iterations, phase, done, total });
}

async function openContext(
  config: RunConfig,
  dir: string,
  options: OptimizeOptions,
  usageBefore: RunUsage["sessions"],
): Promise<Context> {
  const { task, data } = await loadRunData(config);
  const raw = await createRunModels(config, { env: options.env, given: options.models });
  const spent = totalUsage(usageBefore).usd;
  const ledger = new UsageLedger({
    budget: config.budgetUsd !== undefined ? { usd: Math.max(0, config.budgetUsd - spent) } : {},
  });
  const cache = new SqliteResponseCache({ path: config.cache ?? defaultCachePath() });
  const wrap = {
    cache,
    ledger,
    concurrency: config.concurrency,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
  };
  const optimizer = wrapChatModel(raw.optimizer, wrap);
  const models: RunModels = {
    target: wrapChatModel(raw.target, wrap),
    optimizer,
    // One wrapper for a model in two roles, so both roles share its accounting entry.
    critic: raw.critic === raw.optimizer ? optimizer : wrapChatModel(raw.critic, wrap),
    embedder: wrapEmbedder(raw.embedder, wrap),
  };
  return {
    config,
    task,
    data,
    models,
    writer: new RunWriter(dir),
    ledger,
    cache,
    options,
    trainAnswers: data.train.map((e) => e.answer),
    usageBefore,
    sessionStarted: new Date().toISOString(),
    started: performance.now(),
  };
}

async function saveUsage(ctx: Context, status: RunUsage["sessions"][number]["status"]) {
  const sessions = [...ctx.usageBefore, {
    started: ctx.sessionStarted,
    ended: status === "running" ? null : new Date().toISOString(),
    status,
    elapsedMs: Math.round(performance.now() - ctx.started),
    usage: ctx.ledger.snapshot(),
  }];
  await ctx.writer.write(RUN_FILES.usage, { sessions, total: totalUsage(sessions) });
}

function defaultRunDir(config: RunConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/Z$/, "");
  const task = config.task.replace(/^custom:/, "").replace(/[^A-Za-z0-9_.-]+/g, "_").slice(-40);
  return `runs/${task}-${stamp}`;
}

// ---------------------------------------------------------------------------------------------
// Evaluations

function scoredItems(traces: readonly TraceItem[]): ScoredItem[] {
  return traces.map((t) => ({
    exampleId: t.exampleId,
    ...(t.subtask !== undefined ? { subtask: t.subtask } : {}),
    answer: t.parsed?.answer ?? null,
    confidence: t.parsed?.confidence ?? null,
    score: t.score,
    full: t.full,
    ...(t.formatError !== undefined ? { formatError: t.formatError } : {}),
    ...(t.error !== undefined ? { error: t.error } : {}),
  }));
}

async function evaluate(
  ctx: Context,
  prompt: PromptProgram,
  split: "dev" | "test",
  step: number,
): Promise<Evaluation> {
  const examples = ctx.data[split];
  const { traces, metrics } = await evaluatePrompt(prompt, examples, {
    task: ctx.task,
    target: ctx.models.target,
    concurrency: ctx.config.concurrency,
    signal: ctx.options.signal,
    onProgress: (p) => progress(ctx, step, split, p.done, p.total),
  });
  return { split, step, metrics, items: scoredItems(traces) };
}

// ---------------------------------------------------------------------------------------------
// One optimizer conversation

interface Candidate {
  args: DiagnoseArgs;
  prompt: PromptProgram;
  report: DiagnosticReport;
}

interface ConversationOutcome {
  record: DiagnosticRecord | null;
  candidates: Candidate[];
  decision: Decision | null;
  nextPrompt: PromptProgram | null;
  rejections: string[];
  decisionAttempts: number;
  diagnoseCalls: number;
  optimizerCalls: number;
  optimizerPromptTokens: number;
  memoryTokens: number;
  warnings: string[];
  stop: { kind: StopKind; reason: string } | null;
  messages: ChatMessage[];
}

function argsError(call: ToolCall): { args: DiagnoseArgs } | { error: string } {
  let value: unknown;
  try {
    value = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
  } catch (error) {
    return { error: `the arguments are not valid JSON (${(error as Error).message})` };
  }
  const parsed = DiagnoseArgs.strict().safeParse(value);
  if (!parsed.success) {
    return {
      error: `the arguments do not match the schema: ${
        describeSchemaIssue(parsed.error, "(arguments)")
      }`,
    };
  }
  return { args: parsed.data };
}

function isEmptyArgs(args: DiagnoseArgs, current: PromptProgram): boolean {
  return (args.system === undefined || args.system === current.system) &&
    (args.instruction === undefined || args.instruction === current.instruction);
}

async function converse(
  ctx: Context,
  step: number,
  prompt: PromptProgram,
  memory: readonly MemoryEntry[],
  lastTrain: Metrics | null,
): Promise<ConversationOutcome> {
  const { config, models, options } = ctx;
  const tool = diagnoseTool(config.protocol);
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: controllerInstructions({
        task: ctx.task.name,
        iterations: config.iterations,
        confidenceAware: config.confidenceAware,
        protocol: config.protocol,
        exploreCalls: config.exploreCalls,
        maxPromptChars: config.maxPromptChars,
      }),
    },
    { role: "user", content: iterationMessage(step, config.iterations, prompt) },
  ];
  const out: ConversationOutcome = {
    record: null,
    candidates: [],
    decision: null,
    nextPrompt: null,
    rejections: [],
    decisionAttempts: 0,
    diagnoseCalls: 0,
    optimizerCalls: 0,
    optimizerPromptTokens: 0,
    memoryTokens: 0,
    warnings: [],
    stop: null,
    messages,
  };
  const ask = async (request: Omit<Parameters<ChatModel["chat"]>[0], "messages">) => {
    progress(ctx, step, "optimizer", out.optimizerCalls, out.optimizerCalls + 1);
    const res = await models.optimizer.chat({ messages: [...messages], ...request }, {
      signal: options.signal,
    });
    out.optimizerCalls++;
    out.optimizerPromptTokens = Math.max(out.optimizerPromptTokens, res.usage.inputTokens);
    return res;
  };
  const assistant = (res: ChatResponse): ChatMessage => ({
    role: "assistant",
    content: res.text !== "" || res.parsed === undefined ? res.text : JSON.stringify(res.parsed),
    ...(res.toolCalls.length > 0 ? { toolCalls: res.toolCalls } : {}),
    // Reasoning items the provider wants back with the next turn (OpenAI Responses).
    ...(res.providerState ? { providerState: res.providerState } : {}),
  });
  const toolMessage = (call: ToolCall, content: unknown): ChatMessage => ({
    role: "tool",
    name: call.name,
    toolCallId: call.id,
    content: JSON.stringify(content),
  });
  const runDiagnose = (candidate: PromptProgram) =>
    diagnose(candidate, "train", {
      task: ctx.task,
      target: models.target,
      critic: models.critic,
      embedder: models.embedder,
      examples: ctx.data.train,
      iteration: step,
      k: config.k,
      seed: config.seed,
      concurrency: config.concurrency,
      showPrevalence: config.showPrevalence,
      signal: options.signal,
      onProgress: (p) => progress(ctx, step, p.phase, p.done, p.total),
    });

  /** Answers every tool call of one assistant turn; the first diagnose call ever is the main one. */
  const answerCalls = async (calls: readonly ToolCall[]): Promise<ChatMessage[]> => {
    const replies: ChatMessage[] = [];
    for (const call of calls) {
      if (call.name !== DIAGNOSE_TOOL) {
        replies.push(
          toolMessage(call, { error: `unknown tool '${call.name}'; the only tool is diagnose` }),
        );
        continue;
      }
      const parsed = argsError(call);
      if ("error" in parsed) {
        replies.push(
          toolMessage(call, {
            error: `${parsed.error}. Call diagnose with {} or {system?, instruction?}.`,
          }),
        );
        continue;
      }
      if (out.record === null) {
        const warnings: string[] = [];
        if (!isEmptyArgs(parsed.args, prompt)) {
          warnings.push(
            "The first diagnose call of an iteration always diagnoses the current prompt; the " +
              "candidate fields given were ignored" +
              (config.protocol === "explore" ? " (call diagnose again to try a candidate)." : "."),
          );
        }
        out.diagnoseCalls++;
        const record = await runDiagnose(prompt);
        const collapse = formatCollapseWarning(record.report.metrics, lastTrain);
        if (collapse !== undefined) warnings.unshift(collapse);
        record.report.warnings = [...warnings, ...record.report.warnings];
        out.warnings.push(...warnings);
        out.record = record;
        const payload = buildMemoryPayload(memory, record.report, {
          mode: config.memory,
          k: config.memoryK,
          tokenBudget: config.memoryTokenBudget,
        });
        out.memoryTokens = payloadTokens(payload);
        replies.push(toolMessage(call, {
          report: reportForOptimizer(record.report, { showPrevalence: config.showPrevalence }),
          memory: payload,
          warnings: record.report.warnings,
        }));
        continue;
      }
      if (config.protocol !== "explore" || out.diagnoseCalls >= config.exploreCalls) {
        replies.push(toolMessage(call, {
          error: config.protocol === "explore"
            ? `the diagnose budget of this iteration (${config.exploreCalls} calls) is spent; return your decision`
            : "the diagnose tool runs once per iteration; return your decision",
        }));
        continue;
      }
      const candidate = { ...prompt, ...parsed.args } as PromptProgram;
      out.diagnoseCalls++;
      const record = await runDiagnose(candidate);
      out.candidates.push({ args: parsed.args, prompt: candidate, report: record.report });
      await ctx.writer.event("candidate_diagnosed", { step, metrics: record.report.metrics });
      replies.push(toolMessage(call, {
        report: reportForOptimizer(record.report, { showPrevalence: config.showPrevalence }),
        candidate: true,
        warnings: [],
      }));
    }
    return replies;
  };

  // Phase 1: the diagnose call on the current prompt.
  for (let attempt = 1; out.record === null; attempt++) {
    const res = await ask({ tools: [tool], toolChoice: "required", temperature: 0 });
    const hasDiagnose = res.toolCalls.some((c) => c.name === DIAGNOSE_TOOL);
    let problem: string | undefined;
    if (res.toolCalls.length > 0) {
      messages.push(assistant(res));
      messages.push(...await answerCalls(res.toolCalls));
      if (out.record === null) {
        problem = hasDiagnose ? "its arguments were malformed" : "no diagnose call was made";
      }
    } else {
      problem = "the answer held no tool call";
      messages.push(assistant(res));
    }
    if (out.record !== null) break;
    await ctx.writer.event("tool_call_missing", { step, attempt, problem });
    if (attempt >= config.maxToolAttempts) {
      out.stop = {
        kind: "tool",
        reason: `the optimizer did not make a valid diagnose call in ${attempt} request(s) ` +
          `(last: ${problem})`,
      };
      return out;
    }
    messages.push({ role: "user", content: missingToolMessage(problem) });
  }

  // Phase 2: the decision, with candidate diagnoses in `explore` and guarded patches.
  const schema = { name: DECISION_SCHEMA_NAME, schema: toJsonSchema(Decision) };
  let toolRounds = 0;
  for (;;) {
    const explore = config.protocol === "explore" && out.diagnoseCalls < config.exploreCalls;
    const res = await ask({
      tools: [tool],
      toolChoice: explore ? "auto" : "none",
      outputSchema: schema,
      temperature: 0,
    });
    if (res.toolCalls.length > 0) {
      messages.push(assistant(res));
      messages.push(...await answerCalls(res.toolCalls));
      // A model that keeps calling tools after its budget is spent is stopped, not looped.
      if (++toolRounds > config.exploreCalls + config.maxToolAttempts) {
        out.stop = { kind: "tool", reason: "the optimizer kept calling tools instead of deciding" };
        return out;
      }
      continue;
    }
    out.decisionAttempts++;
    const checked = checkDecision(readDecision(res.parsed, res.text), {
      current: prompt,
      trainAnswers: ctx.trainAnswers,
      maxPromptChars: config.maxPromptChars,
    });
    messages.push(assistant(res));
    if (checked.ok) {
      out.decision = checked.decision;
      out.nextPrompt = checked.prompt;
      if (checked.decision.action === "stop") {
        out.stop = {
          kind: "decision",
          reason: checked.decision.stop_reason?.trim() || "the optimizer decided to stop",
        };
      }
      return out;
    }
    out.rejections.push(checked.reason);
    await ctx.writer.event("patch_rejected", {
      step,
      attempt: out.decisionAttempts,
      reason: checked.reason,
    });
    if (out.decisionAttempts >= config.maxPatchAttempts) {
      out.stop = {
        kind: "guard",
        reason: `the patch was rejected ${out.decisionAttempts} times (last: ${checked.reason})`,
      };
      return out;
    }
    messages.push({ role: "user", content: patchRejectedMessage(checked.reason) });
  }
}

// ---------------------------------------------------------------------------------------------
// Steps

function storedTrace({ messages: _messages, ...rest }: TraceItem) {
  return rest;
}

async function runStep(ctx: Context, state: RunState): Promise<RunState> {
  const { config } = ctx;
  const step = state.completedSteps + 1;
  const kind: StepSummary["kind"] = step <= config.iterations ? "iteration" : "final";
  const prompt = state.prompt;
  await ctx.writer.event("step_start", { step, kind });

  const dev = await evaluate(ctx, prompt, "dev", step);
  const selection = selectionValue(ctx.task, dev.metrics, prompt, config.confidenceAware);
  const { best, replaced } = updateBest(state.best, { step, selection });
  const test = step === 1 || step % config.testEvery === 0
    ? await evaluate(ctx, prompt, "test", step)
    : null;

  const files: Record<string, unknown> = { "prompt.json": prompt, "dev.json": dev };
  if (test) files["test.json"] = test;
  let outcome: ConversationOutcome | null = null;
  if (kind === "iteration") {
    outcome = await converse(ctx, step, prompt, state.memory, state.lastTrain);
    const record = outcome.record;
    if (record) {
      files["report.json"] = record.report;
      files["report.md"] = reportToMarkdown(record.report);
      files["record.json"] = {
        traces: record.traces.map(storedTrace),
        critiques: record.critiques,
        clustering: record.clustering,
        candidates: outcome.candidates,
      };
    }
    files["decision.json"] = {
      decision: outcome.decision,
      accepted: outcome.decision !== null,
      rejections: outcome.rejections,
      nextPrompt: outcome.nextPrompt,
      stop: outcome.stop,
      messages: outcome.messages,
    };
  }

  const decision = outcome?.decision ?? null;
  const action: StepSummary["action"] = decision?.action ?? "none";
  const summary: StepSummary = {
    step,
    kind,
    promptChars: promptChars(prompt),
    train: outcome?.record?.report.metrics ?? null,
    dev: dev.metrics,
    test: test?.metrics ?? null,
    selection,
    selected: replaced,
    topics: outcome?.record?.report.topics.map((t) => t.name) ?? [],
    action,
    ...(decision?.patch?.rationale !== undefined ? { rationale: decision.patch.rationale } : {}),
    ...(outcome?.stop ? { stopReason: outcome.stop.reason } : {}),
    decisionAttempts: outcome?.decisionAttempts ?? 0,
    rejections: outcome?.rejections ?? [],
    diagnoseCalls: outcome?.diagnoseCalls ?? 0,
    optimizerCalls: outcome?.optimizerCalls ?? 0,
    optimizerPromptTokens: outcome?.optimizerPromptTokens ?? 0,
    memoryTokens: outcome?.memoryTokens ?? 0,
    warnings: outcome?.warnings ?? [],
  };
  await ctx.writer.writeStep(step, files);
  await logStepEvents(ctx, step, { prompt, dev, test, outcome, selection, best, replaced });

  const memory = outcome?.record
    ? [
      ...state.memory,
      memoryEntry(outcome.record.report, {
        action,
        patch: decision?.patch ?? null,
        ...(decision?.stop_reason !== undefined ? { stopReason: decision.stop_reason } : {}),
      }),
    ]
    : state.memory;
  let stop = outcome?.stop ?? null;
  if (stop === null && kind === "final") {
    stop = { kind: "iterations", reason: `all ${config.iterations} iterations ran` };
  }
  const next: RunState = {
    version: 1,
    completedSteps: step,
    prompt: outcome?.nextPrompt ?? prompt,
    memory,
    steps: [...state.steps, summary],
    lastTrain: outcome?.record?.report.metrics ?? state.lastTrain,
    best,
    stop,
    finished: stop !== null,
  };
  await ctx.writer.write(RUN_FILES.state, next);
  await ctx.writer.event("step_end", {
    step,
    kind,
    dir: stepDirName(step),
    devScore: dev.metrics.score,
    selection,
    selected: replaced,
    trainScore: summary.train?.score ?? null,
    testScore: test?.metrics.score ?? null,
    action,
    rejections: summary.rejections.length,
    ...(stop ? { stop } : {}),
  });
  await saveUsage(ctx, "running");
  ctx.options.onStep?.(summary);
  return next;
}

/** The step's events: what a person scanning `events.jsonl` wants, files for the bulk. */
async function logStepEvents(
  ctx: Context,
  step: number,
  e: {
    prompt: PromptProgram;
    dev: Evaluation;
    test: Evaluation | null;
    outcome: ConversationOutcome | null;
    selection: number;
    best: { step: number; selection: number };
    replaced: boolean;
  },
): Promise<void> {
  const dir = stepDirName(step);
  const w = ctx.writer;
  await w.event("prompt", { step, chars: promptChars(e.prompt), file: `${dir}/prompt.json` });
  for (const ev of [e.dev, e.test]) {
    if (ev) {
      await w.event("evaluation", {
        step,
        split: ev.split,
        metrics: ev.metrics,
        file: `${dir}/${ev.split}.json`,
      });
    }
  }
  const record = e.outcome?.record;
  if (record) {
    await w.event("traces", {
      step,
      split: "train",
      n: record.traces.length,
      file: `${dir}/record.json`,
    });
    await w.event("critiques", {
      step,
      n: record.critiques.length,
      failed: record.critiques.filter((c) => c.error !== undefined).length,
      file: `${dir}/record.json`,
    });
    await w.event("clustering", {
      step,
      records: record.clustering?.records ?? 0,
      topics: record.clustering?.topics.map((t) => ({
        name: t.name,
        prevalence: t.prevalence,
        retained: t.retained,
      })) ?? [],
      file: `${dir}/record.json`,
    });
    await w.event("report", {
      step,
      metrics: record.report.metrics,
      topics: record.report.topics.map((t) => t.name),
      warnings: record.report.warnings,
      file: `${dir}/report.json`,
    });
  }
  if (e.outcome) {
    await w.event("decision", {
      step,
      action: e.outcome.decision?.action ?? null,
      rationale: e.outcome.decision?.patch?.rationale ?? null,
      stopReason: e.outcome.decision?.stop_reason ?? e.outcome.stop?.reason ?? null,
      rejections: e.outcome.rejections,
      optimizerCalls: e.outcome.optimizerCalls,
      file: `${dir}/decision.json`,
    });
  }
  await w.event("selection", { step, selection: e.selection, best: e.best, replaced: e.replaced });
  await w.event("usage", { step, total: ctx.ledger.snapshot().total });
}

async function readEvaluation(ctx: Context, relative: string): Promise<Evaluation | null> {
  try {
    return await readRunJson(`${ctx.writer.dir}/${relative}`, Evaluation);
  } catch {
    return null;
  }
}

async function finalize(ctx: Context, state: RunState): Promise<RunSummary> {
  const { config } = ctx;
  const first = state.steps[0];
  const bestStep = state.best?.step ?? 1;
  const selected = state.steps.find((s) => s.step === bestStep) ?? first;
  if (first === undefined || selected === undefined) {
    throw new Error("finalize: the run has no complete step");
  }
  const selectedPrompt = (await readRunJsonPrompt(ctx, selected.step)) ?? state.prompt;
  let finalTest: Evaluation | null = await readEvaluation(ctx, RUN_FILES.finalTest);
  if (finalTest === null || finalTest.step !== selected.step) {
    try {
      finalTest = {
        ...await evaluate(ctx, selectedPrompt, "test", selected.step),
        step: selected.step,
      };
      await ctx.writer.write(RUN_FILES.finalTest, finalTest);
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      finalTest = null;
      await ctx.writer.event("budget_exceeded", { phase: "final test", message: error.message });
    }
  }
  const seedTest = await readEvaluation(ctx, `${stepDirName(1)}/test.json`);
  const comparison = finalTest && seedTest
    ? compareWithSeed(finalTest.items, seedTest.items, { seed: config.seed })
    : null;
  const summary: RunSummary = {
    version: 1,
    task: ctx.task.name,
    simulated: isSimulated(config),
    iterationsRun: state.steps.filter((s) => s.kind === "iteration").length,
    stop: state.stop ?? { kind: "iterations", reason: "finished" },
    steps: state.steps,
    selected: {
      step: selected.step,
      prompt: selectedPrompt,
      selection: selected.selection,
      dev: selected.dev,
      test: finalTest?.metrics ?? null,
    },
    seed: { dev: first.dev, test: seedTest?.metrics ?? null },
    comparison,
    testCurve: state.steps.flatMap((s) => s.test ? [{ step: s.step, test: s.test }] : []),
  };
  await ctx.writer.write(RUN_FILES.summary, summary);
  await ctx.writer.event("run_end", {
    selectedStep: selected.step,
    stop: summary.stop,
    testScore: finalTest?.metrics.score ?? null,
  });
  return summary;
}

async function readRunJsonPrompt(ctx: Context, step: number): Promise<PromptProgram | null> {
  try {
    return await readRunJson(`${ctx.writer.dir}/${stepDirName(step)}/prompt.json`, PromptProgram);
  } catch {
    return null;
  }
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true ||
    (error instanceof Error && (error.name === "AbortError"));
}

async function drive(ctx: Context, initial: RunState): Promise<OptimizeResult> {
  let state = initial;
  const signal = ctx.options.signal;
  try {
    while (!state.finished) {
      signal?.throwIfAborted();
      try {
        state = await runStep(ctx, state);
      } catch (error) {
        if (!(error instanceof BudgetExceededError)) throw error;
        // The partial step is dropped; completed steps and selection stand.
        state = {
          ...state,
          stop: { kind: "budget", reason: error.message },
          finished: true,
        };
        await ctx.writer.write(RUN_FILES.state, state);
        await ctx.writer.event("budget_exceeded", {
          step: state.completedSteps + 1,
          message: error.message,
        });
      }
    }
    signal?.throwIfAborted();
    if (state.steps.length === 0) {
      throw new BudgetExceededError(
        `the budget ran out before the first step completed (${state.stop?.reason ?? ""})`,
      );
    }
    const summary = await finalize(ctx, state);
    await saveUsage(ctx, "finished");
    return {
      dir: ctx.writer.dir,
      summary,
      state,
      interrupted: false,
      usage: ctx.ledger.snapshot(),
    };
  } catch (error) {
    if (isAbort(error, signal)) {
      await ctx.writer.event("interrupted", { completedSteps: state.completedSteps });
      await saveUsage(ctx, "interrupted");
      return {
        dir: ctx.writer.dir,
        summary: null,
        state,
        interrupted: true,
        usage: ctx.ledger.snapshot(),
      };
    }
    await ctx.writer.event("failed", {
      message: error instanceof Error ? error.message : String(error),
    })
      .catch(() => {});
    await saveUsage(ctx, "failed").catch(() => {});
    throw error;
  } finally {
    ctx.cache.close();
  }
}

/**
 * Runs RPT with `config` and writes the run record. Everything that can be wrong with the
 * configuration (unknown task, bad model spec, missing key, unreadable data) raises a
 * {@linkcode ConfigError} before any call is made. With an aborted signal the run stops
 * after saving its last complete step (`interrupted: true`); {@linkcode continueRun}
 * (or `rpt resume`) continues it.
 *
 * @example
 * ```ts ignore
 * import { optimize } from "./revise.ts";
 * const { summary } = await optimize({
 *   task: "synthetic", target: "sim:target", optimizer: "sim:optimizer", iterations: 3,
 * }, { runDir: "runs/demo" });
 * console.log(summary?.selected.test?.score);
 * ```
 */
export async function optimize(
  input: RunConfigInput,
  options: OptimizeOptions = {},
): Promise<OptimizeResult> {
  const parsed = parseRunConfig(input);
  const config: RunConfig = {
    ...parsed,
    cache: resolvePath(parsed.cache ?? defaultCachePath(options.env)),
  };
  const dir = resolvePath(options.runDir ?? defaultRunDir(config));
  try {
    await Deno.stat(`${dir}/${RUN_FILES.config}`);
    throw new ConfigError(
      `${dir} already holds a run: use 'rpt resume ${dir}' or another --run-dir`,
    );
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const ctx = await openContext(config, dir, options, []);
  options.onRunDir?.(dir);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await ctx.writer.write(RUN_FILES.config, configForDisk(config));
    const state: RunState = {
      version: 1,
      completedSteps: 0,
      prompt: ctx.task.seedPrompt,
      memory: [],
      steps: [],
      lastTrain: null,
      best: null,
      stop: null,
      finished: false,
    };
    await ctx.writer.write(RUN_FILES.state, state);
    // A session killed before its first step still shows in usage.json (as "running").
    await saveUsage(ctx, "running");
    await ctx.writer.event("run_start", {
      task: ctx.task.name,
      simulated: isSimulated(config),
      examples: {
        train: ctx.data.train.length,
        dev: ctx.data.dev.length,
        test: ctx.data.test.length,
      },
    });
    return await drive(ctx, state);
  } catch (error) {
    ctx.cache.close();
    throw error;
  }
}

/**
 * Continues a run from its last complete step (see `resume` in `run.ts`). A finished run
 * with a summary is returned as it is; one whose final test scoring was interrupted is
 * finalised.
 */
export async function continueRun(
  runDir: string,
  options: Omit<OptimizeOptions, "runDir"> = {},
): Promise<OptimizeResult> {
  const dir = resolvePath(runDir);
  const config = await readRunJson(`${dir}/${RUN_FILES.config}`, RunConfig);
  const state = await readRunJson(`${dir}/${RUN_FILES.state}`, RunState);
  let usage: RunUsage | null = null;
  try {
    usage = await readRunJson(`${dir}/${RUN_FILES.usage}`, RunUsage);
  } catch {
    usage = null;
  }
  const ctx = await openContext(config, dir, options, usage?.sessions ?? []);
  options.onRunDir?.(dir);
  try {
    await ctx.writer.clean();
    await saveUsage(ctx, "running");
    await ctx.writer.event("resume", { completedSteps: state.completedSteps });
    return await drive(ctx, state);
  } catch (error) {
    ctx.cache.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Dry run

/** One line of a dry-run estimate. */
export interface EstimateLine {
  role: "target" | "critic" | "optimizer";
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  priced: boolean;
}

/** What a run is expected to cost at most (all T iterations, nothing cached). */
export interface RunEstimate {
  lines: EstimateLine[];
  calls: number;
  tokens: number;
  usd: number;
  /** Models without a known price (their cost is counted as 0). */
  unpriced: string[];
  assumptions: string[];
}

/**
 * Estimates the calls, tokens and dollars of a run before anything is spent: target calls
 * on train (T iterations), dev (T + 1 prompts) and test (scheduled steps and the final
 * score); critic calls for half the train examples failing; clustering calls; two
 * optimizer calls per iteration with a report and a full memory payload. Token sizes
 * come from the rendered seed prompt (about 4 characters a token).
 */
export function estimateRun(config: RunConfig, task: Task, data: RunData): RunEstimate {
  const T = config.iterations;
  const avgTokens = (examples: Example[]) =>
    examples.length === 0 ? 0 : Math.ceil(
      examples.reduce(
        (n, e) =>
          n + task.render(task.seedPrompt, e).reduce((m, x) => m + estimateTokens(x.content), 0),
        0,
      ) / examples.length,
    );
  const outTarget = 250;
  const testSteps = 1 + Math.floor((T + 1) / config.testEvery) + 1;
  const targetCalls = T * data.train.length + (T + 1) * data.dev.length +
    testSteps * data.test.length;
  const targetIn = T * data.train.length * avgTokens(data.train) +
    (T + 1) * data.dev.length * avgTokens(data.dev) +
    testSteps * data.test.length * avgTokens(data.test);
  const failures = Math.ceil(data.train.length * 0.5);
  const clusterCalls = 1 + Math.ceil(failures * 1.5 / 25);
  const criticCalls = T * (failures + clusterCalls);
  const criticIn = T * (failures * (avgTokens(data.train) + 600) + clusterCalls * 3000);
  const optimizerCalls = 2 * T;
  const optimizerIn = T * (2 * 1500 + 2 * (2500 + config.memoryTokenBudget / 2));
  const ledger = new UsageLedger();
  const line = (
    role: EstimateLine["role"],
    spec: string,
    calls: number,
    inputTokens: number,
    outputTokens: number,
  ): EstimateLine => {
    const parsed = parseModelSpec(spec);
    const e = ledger.estimate({
      provider: parsed.provider,
      model: parsed.model,
      calls: 1,
      inputTokens,
      outputTokens,
    });
    return { role, model: spec, calls, inputTokens, outputTokens, usd: e.usd, priced: e.priced };
  };
  const lines = [
    line("target", config.target, targetCalls, targetIn, targetCalls * outTarget),
    line(
      "critic",
      config.critic ?? config.optimizer,
      criticCalls,
      criticIn,
      T * (failures * 250 + clusterCalls * 800),
    ),
    line("optimizer", config.optimizer, optimizerCalls, optimizerIn, T * 1200),
  ];
  return {
    lines,
    calls: lines.reduce((n, l) => n + l.calls, 0),
    tokens: lines.reduce((n, l) => n + l.inputTokens + l.outputTokens, 0),
    usd: lines.reduce((n, l) => n + l.usd, 0),
    unpriced: lines.filter((l) => !l.priced).map((l) => l.model),
    assumptions: [
      `${T} iterations, none stopping early, no cache hits`,
      "half of the train examples fail and are critiqued",
      `${outTarget} output tokens per target answer`,
      `optimizer context up to the memory budget (${config.memoryTokenBudget} tokens)`,
    ],
  };
}
