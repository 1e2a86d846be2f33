/**
 * One optimizer conversation, the heart of an iteration (DESIGN section 1, "Revision
 * loop"; CONTRACTS, "The revision loop protocol"). A fresh conversation each iteration:
 *
 * 1. system: the controller instructions; user: "Iteration t of T" and the current prompt;
 * 2. the optimizer must call the `diagnose` tool (`toolChoice: required`); a turn without a
 *    valid call is re-asked (at most `maxToolAttempts` requests), then the run stops;
 * 3. the tool result (report, memory, warnings) is sent back, or the report alone followed by
 *    a user message with memory (`memoryPlacement: "user_message"`, the reference's way), and
 *    the decision is asked for with the decision schema; in `explore` the optimizer may
 *    diagnose candidates first;
 * 4. the decision goes through the patch guards; a rejection is fed back ("Patch
 *    rejected: ...") for a corrected decision, at most `maxPatchAttempts` decisions.
 *
 * @module
 */
import type { DiagnosticRecord } from "../diagnose.ts";
import { type ChatModel, ProviderError } from "../llm/model.ts";
import { IncompleteError } from "../incomplete.ts";
import { Decision, type Stop } from "../run/schema.ts";
import { type ChatMessage, type ChatResponse, toJsonSchema, type ToolSpec } from "../llm/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import { DECISION_SCHEMA_NAME, DIAGNOSE_TOOL } from "../protocol_names.ts";
import { progress } from "./context.ts";
import {
  controllerInstructions,
  iterationMessage,
  memoryUserMessage,
  missingToolMessage,
  patchRejectedMessage,
} from "./controller.ts";
import { checkDecision, guardSettings, readDecision } from "./guards.ts";
import { answerToolCalls, diagnoseTool, type ToolTally, type ToolTurn } from "./tools.ts";
import { stamped } from "./evaluate.ts";

/** Everything one conversation produced. */
export interface ConversationOutcome extends ToolTally {
  /** The accepted decision; null when none passed the guards (or none came). */
  decision: Decision | null;
  /** The prompt a patch produces; null for a stop or without a decision. */
  nextPrompt: PromptProgram | null;
  rejections: string[];
  decisionAttempts: number;
  optimizerCalls: number;
  /** Input tokens of the largest optimizer request (the context size). */
  optimizerPromptTokens: number;
  /** Set when the run stops after this iteration (a stop decision, a guard, the tool). */
  stop: Stop | null;
  messages: ChatMessage[];
}

type Request = Omit<Parameters<ChatModel["chat"]>[0], "messages">;

/** The state of one conversation: its messages, what it produced, and the tool turn. */
class Conversation {
  readonly out: ConversationOutcome;
  readonly tool: ToolSpec;

  constructor(readonly turn: Omit<ToolTurn, "tally">) {
    const { config, task } = turn.ctx;
    this.tool = diagnoseTool(config.protocol);
    const messages: ChatMessage[] = [
      {
        role: "system",
        content: controllerInstructions({
          task: task.name,
          iterations: config.iterations,
          confidenceAware: config.confidenceAware,
          protocol: config.protocol,
          exploreCalls: config.exploreCalls,
          ...(config.maxPromptChars !== undefined ? { maxPromptChars: config.maxPromptChars } : {}),
          memoryPatches: config.memoryPatches,
          memoryPlacement: config.memoryPlacement,
        }),
      },
      { role: "user", content: iterationMessage(turn.step, config.iterations, turn.prompt) },
    ];
    this.out = {
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
  }

  /** Sends the conversation so far with `request`; counts the call and its context size. */
  async ask(request: Request): Promise<ChatResponse> {
    const { ctx, step } = this.turn;
    const out = this.out;
    progress(ctx, step, "optimizer", out.optimizerCalls, out.optimizerCalls + 1);
    let res: ChatResponse;
    try {
      res = await ctx.models.optimizer.chat({ messages: [...out.messages], ...request }, {
        signal: ctx.signal,
      });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      // The conversation cannot go on without the answer: the step is incomplete, and a
      // resume replays it (every answer so far comes from the cache).
      throw stamped(
        ctx,
        step,
        new IncompleteError(
          {
            phase: "optimizer",
            failed: 1,
            total: out.optimizerCalls + 1,
            lastError: error.message,
          },
          { cause: error },
        ),
      );
    }
    out.optimizerCalls++;
    out.optimizerPromptTokens = Math.max(out.optimizerPromptTokens, res.usage.inputTokens);
    return res;
  }

  /** Appends the assistant's turn as the provider-neutral message. */
  pushAssistant(res: ChatResponse): void {
    this.out.messages.push({
      role: "assistant",
      content: res.text !== "" || res.parsed === undefined ? res.text : JSON.stringify(res.parsed),
      ...(res.toolCalls.length > 0 ? { toolCalls: res.toolCalls } : {}),
      // Reasoning items the provider wants back with the next turn (OpenAI Responses).
      ...(res.providerState ? { providerState: res.providerState } : {}),
    });
  }

  /**
   * Appends the assistant's turn and the answers to its tool calls; then, when memory goes
   * in a user message (the reference's placement), that message, once.
   */
  async pushToolTurn(res: ChatResponse): Promise<void> {
    this.pushAssistant(res);
    this.out.messages.push(
      ...await answerToolCalls({ ...this.turn, tally: this.out }, res.toolCalls),
    );
    const { config } = this.turn.ctx;
    const memory = this.out.memory;
    if (
      config.memoryPlacement === "user_message" && memory !== undefined && !this.#memorySent &&
      memory.mode !== "none"
    ) {
      this.#memorySent = true;
      this.out.messages.push({ role: "user", content: memoryUserMessage(memory) });
    }
  }

  #memorySent = false;
}

/** Phase 1: asks until the optimizer made a valid diagnose call; false when it never did. */
async function requestDiagnosis(c: Conversation): Promise<boolean> {
  const { config } = c.turn.ctx;
  for (let attempt = 1;; attempt++) {
    const res = await c.ask({ tools: [c.tool], toolChoice: "required", temperature: 0 });
    let problem: string;
    if (res.toolCalls.length > 0) {
      await c.pushToolTurn(res);
      if (c.out.record !== null) return true;
      problem = res.toolCalls.some((call) => call.name === DIAGNOSE_TOOL)
        ? "its arguments were malformed"
        : "no diagnose call was made";
    } else {
      problem = "the answer held no tool call";
      c.pushAssistant(res);
    }
    await c.turn.ctx.writer.event({
      type: "tool_call_missing",
      step: c.turn.step,
      attempt,
      problem,
    });
    if (attempt >= config.maxToolAttempts) {
      c.out.stop = {
        kind: "tool",
        reason: `the optimizer did not make a valid diagnose call in ${attempt} request(s) ` +
          `(last: ${problem})`,
      };
      return false;
    }
    c.out.messages.push({ role: "user", content: missingToolMessage(problem) });
  }
}

/** Phase 2: the decision, with candidate diagnoses in `explore` and guarded patches. */
async function requestDecision(c: Conversation): Promise<void> {
  const { ctx, step, prompt } = c.turn;
  const { config } = ctx;
  const out = c.out;
  const schema = { name: DECISION_SCHEMA_NAME, schema: toJsonSchema(Decision) };
  let toolRounds = 0;
  for (;;) {
    const explore = config.protocol === "explore" && out.diagnoseCalls < config.exploreCalls;
    const res = await c.ask({
      tools: [c.tool],
      toolChoice: explore ? "auto" : "none",
      outputSchema: schema,
      temperature: 0,
    });
    if (res.toolCalls.length > 0) {
      await c.pushToolTurn(res);
      // A model that keeps calling tools after its budget is spent is stopped, not looped.
      if (++toolRounds > config.exploreCalls + config.maxToolAttempts) {
        out.stop = { kind: "tool", reason: "the optimizer kept calling tools instead of deciding" };
        return;
      }
      continue;
    }
    out.decisionAttempts++;
    const checked = checkDecision(readDecision(res.parsed, res.text), {
      current: prompt,
      trainAnswers: ctx.trainAnswers,
      ...guardSettings(config),
    });
    c.pushAssistant(res);
    if (checked.ok) {
      out.decision = checked.decision;
      out.nextPrompt = checked.prompt;
      if (checked.decision.action === "stop") {
        out.stop = {
          kind: "decision",
          reason: checked.decision.stop_reason?.trim() || "the optimizer decided to stop",
        };
      }
      return;
    }
    out.rejections.push(checked.reason);
    await ctx.writer.event({
      type: "patch_rejected",
      step,
      attempt: out.decisionAttempts,
      reason: checked.reason,
    });
    if (out.decisionAttempts >= config.maxPatchAttempts) {
      out.stop = {
        kind: "guard",
        reason: `the patch was rejected ${out.decisionAttempts} times (last: ${checked.reason})`,
      };
      return;
    }
    out.messages.push({ role: "user", content: patchRejectedMessage(checked.reason) });
  }
}

/**
 * Holds one optimizer conversation on the current prompt and returns what it produced:
 * the diagnosis, the decision that passed the guards (or the reason the run stops), and
 * every message.
 */
export async function converse(
  turn: Omit<ToolTurn, "tally"> & { diagnoseCurrent(): Promise<DiagnosticRecord> },
): Promise<ConversationOutcome> {
  const c = new Conversation(turn);
  if (await requestDiagnosis(c)) await requestDecision(c);
  return c.out;
}
