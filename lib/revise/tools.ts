/**
 * The optimizer's one tool, `diagnose` (the paper's `evaluate_prompt`): its spec, and the
 * answers to the calls of one assistant turn. The project runs the tool loop itself, so
 * OpenAI- and Gemini-style function calls are answered the same way and recorded alike.
 *
 * The first valid call of an iteration always diagnoses the current prompt; its result is
 * the report, the memory payload (unless memory goes in a user message after it,
 * `memoryPlacement: "user_message"`) and the warnings. In the `explore` protocol later calls
 * may diagnose a candidate prompt (fields left out are the current prompt's), up to
 * `exploreCalls` calls in all. Anything else is answered with an error the optimizer can
 * act on, never silently ignored.
 *
 * @module
 */
import type { DiagnosticRecord } from "../diagnose.ts";
import { defaultMemoryBudget } from "../llm/context_windows.ts";
import type { Protocol } from "../run/config.ts";
import { type CandidateRecord, DiagnoseArgs, type MemoryEntry } from "../run/schema.ts";
import { reportForOptimizer } from "../report.ts";
import { type ChatMessage, toJsonSchema, type ToolCall, type ToolSpec } from "../llm/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import { DIAGNOSE_TOOL } from "../protocol_names.ts";
import type { Metrics } from "../tasks/schema.ts";
import { describeSchemaIssue } from "../util/errors.ts";
import type { RunContext } from "./context.ts";
import { diagnoseTrain } from "./evaluate.ts";
import { formatCollapseWarning } from "./guards.ts";
import { buildMemoryPayload, type MemoryPayload, payloadTokens } from "./memory.ts";
import { selectionWeights, trainScore } from "./select.ts";

/** The `diagnose` tool as the optimizer sees it, worded for the protocol. */
export function diagnoseTool(protocol: Protocol): ToolSpec {
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

/** What the tool calls of an iteration produced so far. */
export interface ToolTally {
  /** The diagnosis of the current prompt, once the first valid call came. */
  record: DiagnosticRecord | null;
  /** Candidate prompts diagnosed in `explore`. */
  candidates: CandidateRecord[];
  diagnoseCalls: number;
  /** Estimated tokens of the memory payload sent with the report. */
  memoryTokens: number;
  /** The memory payload of this iteration, once built (the conversation may send it apart). */
  memory?: MemoryPayload;
  /** Warnings added to the report (format collapse, ignored candidate fields). */
  warnings: string[];
}

/** One iteration's tool context. */
export interface ToolTurn {
  ctx: RunContext;
  step: number;
  /** The current prompt. */
  prompt: PromptProgram;
  memory: readonly MemoryEntry[];
  /** Train metrics of the previous diagnosis (for the format-collapse warning). */
  lastTrain: Metrics | null;
  /** The diagnosis of the current prompt (a session may have made it already). */
  diagnoseCurrent(): Promise<DiagnosticRecord>;
  tally: ToolTally;
}

function toolMessage(call: ToolCall, content: unknown): ChatMessage {
  return { role: "tool", name: call.name, toolCallId: call.id, content: JSON.stringify(content) };
}

function parseArgs(call: ToolCall): { args: DiagnoseArgs } | { error: string } {
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

/** The first diagnose call: the current prompt's report, with memory and warnings. */
async function answerFirst(turn: ToolTurn, call: ToolCall, args: DiagnoseArgs) {
  const { config } = turn.ctx;
  const warnings: string[] = [];
  if (!isEmptyArgs(args, turn.prompt)) {
    warnings.push(
      "The first diagnose call of an iteration always diagnoses the current prompt; the " +
        "candidate fields given were ignored" +
        (config.protocol === "explore" ? " (call diagnose again to try a candidate)." : "."),
    );
  }
  turn.tally.diagnoseCalls++;
  const base = await turn.diagnoseCurrent();
  const collapse = config.formatCollapseWarning
    ? formatCollapseWarning(base.report.metrics, turn.lastTrain)
    : undefined;
  if (collapse !== undefined) warnings.unshift(collapse);
  const record: DiagnosticRecord = {
    ...base,
    report: { ...base.report, warnings: [...warnings, ...base.report.warnings] },
  };
  turn.tally.warnings.push(...warnings);
  turn.tally.record = record;
  const payload = buildMemoryPayload(turn.memory, record.report, {
    mode: config.memory,
    k: config.memoryK,
    tokenBudget: config.memoryTokenBudget ?? defaultMemoryBudget(config.optimizer),
    patches: config.memoryPatches,
    score: trainScore(turn.ctx.task, selectionWeights(config)),
  });
  turn.tally.memoryTokens = payloadTokens(payload);
  turn.tally.memory = payload;
  if (payload.compacted > 0 || payload.omitted > 0) {
    await turn.ctx.writer.event({
      type: "memory_compacted",
      step: turn.step,
      compacted: payload.compacted,
      omitted: payload.omitted,
      tokens: turn.tally.memoryTokens,
      budget: config.memoryTokenBudget ?? defaultMemoryBudget(config.optimizer),
    });
  }
  const report = reportForOptimizer(record.report, { showPrevalence: config.showPrevalence });
  // With memory in a user message after the tool result (the reference), the result is the report.
  return toolMessage(
    call,
    config.memoryPlacement === "user_message"
      ? { report, warnings: record.report.warnings }
      : { report, memory: payload, warnings: record.report.warnings },
  );
}

/** A later call in `explore`: a candidate's report, without memory. */
async function answerCandidate(turn: ToolTurn, call: ToolCall, args: DiagnoseArgs) {
  const { ctx, step } = turn;
  const candidate = { ...turn.prompt, ...args } as PromptProgram;
  turn.tally.diagnoseCalls++;
  const record = await diagnoseTrain(ctx, candidate, step);
  turn.tally.candidates.push({ args, prompt: candidate, report: record.report });
  await ctx.writer.event({ type: "candidate_diagnosed", step, metrics: record.report.metrics });
  return toolMessage(call, {
    report: reportForOptimizer(record.report, { showPrevalence: ctx.config.showPrevalence }),
    candidate: true,
    warnings: [],
  });
}

async function answerCall(turn: ToolTurn, call: ToolCall): Promise<ChatMessage> {
  const { config } = turn.ctx;
  if (call.name !== DIAGNOSE_TOOL) {
    return toolMessage(call, { error: `unknown tool '${call.name}'; the only tool is diagnose` });
  }
  const parsed = parseArgs(call);
  if ("error" in parsed) {
    return toolMessage(call, {
      error: `${parsed.error}. Call diagnose with {} or {system?, instruction?}.`,
    });
  }
  if (turn.tally.record === null) return await answerFirst(turn, call, parsed.args);
  if (config.protocol !== "explore" || turn.tally.diagnoseCalls >= config.exploreCalls) {
    return toolMessage(call, {
      error: config.protocol === "explore"
        ? `the diagnose budget of this iteration (${config.exploreCalls} calls) is spent; return your decision`
        : "the diagnose tool runs once per iteration; return your decision",
    });
  }
  return await answerCandidate(turn, call, parsed.args);
}

/** Answers every tool call of one assistant turn, in order. */
export async function answerToolCalls(
  turn: ToolTurn,
  calls: readonly ToolCall[],
): Promise<ChatMessage[]> {
  const replies: ChatMessage[] = [];
  for (const call of calls) replies.push(await answerCall(turn, call));
  return replies;
}
