/**
 * A tiny task for the baselines' tests: each example has a kind (A, B, C ...), and the
 * scripted target answers it correctly exactly when the prompt carries `RULE-<kind>`, so a
 * test knows which prompt edits help.
 *
 * @module
 */
import type { OptimizerContext } from "../../lib/baselines/optimizer.ts";
import { ScriptedChatModel } from "../../lib/llm/scripted.ts";
import { parseTargetOutput, renderChat, selectionPenalty } from "../../lib/tasks/common.ts";
import type { Task } from "../../lib/tasks/task.ts";
import type { ChatRequest } from "../../lib/llm/schema.ts";
import type { Example } from "../../lib/tasks/schema.ts";
import type { PromptProgram } from "../../lib/prompt.ts";

/** Examples `q-<kind>-<n>` with gold answers `ans-<kind>-<n>`. */
export function ruleExamples(kinds: string, prefix = "q"): Example[] {
  return [...kinds].map((kind, n) => ({
    id: `${prefix}-${kind}-${n}`,
    question: `${prefix}-${kind}-${n}: which rule applies here?`,
    answer: `ans-${kind}-${n}`,
    subtask: kind,
    row: {},
  }));
}

/** The rule task with `seed` as its seed prompt. */
export function ruleTask(seed: PromptProgram = { system: "", instruction: "Answer." }): Task {
  return {
    name: "rules",
    reasoningField: "reasoning",
    seedPrompt: seed,
    outputSchema: { type: "object" },
    load: () => Promise.resolve([]),
    render: (prompt, ex) => renderChat(prompt, `Question: ${ex.question}`),
    parse: (raw) => parseTargetOutput(raw, "reasoning"),
    score: (ex, parsed) => {
      const full = parsed.ok && parsed.value.answer === ex.answer;
      return { score: full ? 1 : 0, full, impact: full ? 0 : 1, details: {} };
    },
    selectionScore: (input) => input.metrics.score - selectionPenalty(input),
  };
}

/** Whether a target request is about an example (its question line). */
function questionOf(request: ChatRequest): { kind: string; n: string; prefix: string } | null {
  const text = request.messages.map((m) => m.content).join("\n");
  const m = /^Question: (\w+)-([A-Z])-(\d+):/m.exec(text);
  return m ? { prefix: m[1] as string, kind: m[2] as string, n: m[3] as string } : null;
}

/**
 * The scripted target: right exactly when the prompt holds `RULE-<kind>`, except for kind
 * N ("no rules"), which it gets right only when the prompt holds no rule at all.
 */
export function ruleTarget(): ScriptedChatModel {
  return new ScriptedChatModel((request) => {
    const q = questionOf(request);
    if (q === null) throw new Error("ruleTarget: no question in the request");
    const prompt = request.messages.map((m) => m.content).join("\n");
    const right = q.kind === "N" ? !prompt.includes("RULE-") : prompt.includes(`RULE-${q.kind}`);
    return JSON.stringify({
      reasoning: right ? "the rule says so" : "guessing",
      answer: right ? `ans-${q.kind}-${q.n}` : "wrong",
      confidence: 0.9,
    });
  }, { provider: "scripted", model: "rule-target" });
}

/** An optimizer context over the rule task; `callsUsed` counts the target's requests. */
export function ruleContext(
  target: ScriptedChatModel,
  optimizer: ScriptedChatModel,
  fields: Partial<OptimizerContext> & Pick<OptimizerContext, "data" | "budgetCalls">,
): OptimizerContext {
  return {
    task: ruleTask(),
    target,
    optimizer,
    critic: optimizer,
    callsUsed: () => target.requests.length,
    seed: 0,
    confidenceAware: false,
    concurrency: 4,
    ...fields,
  };
}
