/**
 * A minimal revision loop over the simulated models, speaking the CONTRACTS protocol, for
 * the simulator's own tests and figures (the real loop lives in `lib/revise.ts`). It keeps
 * the memory as a list of past reports with the patch that followed, plus the
 * non-improving streak.
 *
 * @module
 */
import { diagnose, evaluatePrompt } from "../lib/diagnose.ts";
import { createSimChatModel, createSimEmbedder } from "../lib/sim/mod.ts";
import { checkDecision } from "../lib/guards.ts";
import { reportForOptimizer } from "../lib/report.ts";
import type { Task } from "../lib/tasks/task.ts";
import {
  type ChatMessage,
  Decision,
  DiagnoseArgs,
  type Metrics,
  type PromptProgram,
  toJsonSchema,
} from "../lib/types.ts";

/** One iteration of the mini loop. */
export interface MiniStep {
  prompt: PromptProgram;
  train: Metrics;
  dev: Metrics;
  topics: string[];
  decision: Decision;
}

/** Runs `iterations` steps of the simulated loop; every tool call is schema-checked. */
export async function runMiniLoop(
  task: Task,
  opts: {
    seed: number;
    iterations: number;
    memory?: boolean;
    trainLimit?: number;
    /** Whether the controller names calibration (Brier) as a goal (default true). */
    confidenceAware?: boolean;
  },
): Promise<{ steps: MiniStep[]; seedDev: Metrics; bestDev: Metrics; bestPrompt: PromptProgram }> {
  const sim = { seed: opts.seed };
  const target = createSimChatModel("target", sim);
  const critic = createSimChatModel("critic", sim);
  const optimizer = createSimChatModel("optimizer", sim);
  const embedder = createSimEmbedder(sim);
  const train = (await task.load("train")).slice(0, opts.trainLimit);
  const dev = await task.load("dev");
  const tools = [{
    name: "diagnose",
    description: "Diagnose a prompt on the optimization set.",
    parameters: toJsonSchema(DiagnoseArgs),
  }];
  const memory: { reports: unknown[]; non_improving_streak: number } = {
    reports: [],
    non_improving_streak: 0,
  };
  const controller = opts.confidenceAware === false
    ? "You revise prompts. Goal: the task score."
    : "You revise prompts. Goal: task score first, then calibration (Brier).";
  const selection = (metrics: Metrics, p: PromptProgram) =>
    task.selectionScore({
      metrics,
      promptChars: Object.values(p).reduce((n, v) => n + v.length, 0),
      brierWeight: opts.confidenceAware === false ? 0 : 0.05,
    });
  let prompt = task.seedPrompt;
  let best = -Infinity;
  const steps: MiniStep[] = [];
  const seedDev = (await evaluatePrompt(prompt, dev, { task, target })).metrics;
  let bestDev = seedDev;
  let bestPrompt = prompt;
  for (let t = 1; t <= opts.iterations; t++) {
    const messages: ChatMessage[] = [
      { role: "system", content: controller },
      {
        role: "user",
        content: `Iteration ${t} of ${opts.iterations}\n\n\`\`\`json\n${
          JSON.stringify(prompt, null, 2)
        }\n\`\`\``,
      },
    ];
    const first = await optimizer.chat({ messages, tools, toolChoice: "required" });
    const call = first.toolCalls[0];
    if (call === undefined || call.name !== "diagnose") throw new Error("no diagnose call");
    const args = DiagnoseArgs.parse(JSON.parse(call.arguments));
    const candidate = { ...prompt, ...args };
    const record = await diagnose(candidate, "train", {
      task,
      target,
      critic,
      embedder,
      examples: train,
      iteration: t,
      seed: opts.seed,
    });
    const score = record.report.metrics.score;
    memory.non_improving_streak = score > best + 1e-9 ? 0 : memory.non_improving_streak + 1;
    best = Math.max(best, score);
    messages.push({ role: "assistant", content: "", toolCalls: first.toolCalls });
    messages.push({
      role: "tool",
      name: "diagnose",
      toolCallId: call.id,
      content: JSON.stringify({
        report: reportForOptimizer(record.report, { showPrevalence: true }),
        memory: opts.memory === false ? {} : memory,
        warnings: [],
      }),
    });
    const second = await optimizer.chat({
      messages,
      tools,
      toolChoice: "auto",
      outputSchema: { name: "decision", schema: toJsonSchema(Decision) },
    });
    const decision = Decision.parse(second.parsed);
    // The same guards the real loop applies to a real optimizer's patch.
    const guarded = checkDecision(second.parsed, {
      current: candidate,
      trainAnswers: train.map((e) => e.answer),
      maxPromptChars: 8000,
    });
    if (!guarded.ok) throw new Error(`patch rejected by the guards: ${guarded.reason}`);
    const devMetrics = (await evaluatePrompt(candidate, dev, { task, target })).metrics;
    if (selection(devMetrics, candidate) > selection(bestDev, bestPrompt)) {
      bestDev = devMetrics;
      bestPrompt = candidate;
    }
    steps.push({
      prompt: candidate,
      train: record.report.metrics,
      dev: devMetrics,
      topics: record.report.topics.map((x) => x.name),
      decision,
    });
    memory.reports.push({
      iteration: t,
      metrics: { score },
      topics: record.report.topics.map((x) => x.name),
      patch: decision.patch ?? null,
    });
    if (decision.action === "stop") break;
    prompt = {
      ...candidate,
      ...(decision.patch?.system !== undefined ? { system: decision.patch.system } : {}),
      ...(decision.patch?.instruction !== undefined
        ? { instruction: decision.patch.instruction }
        : {}),
    };
  }
  const lastStep = steps.at(-1);
  if (lastStep !== undefined && lastStep.decision.action === "patch") {
    const final = (await evaluatePrompt(prompt, dev, { task, target })).metrics;
    if (selection(final, prompt) > selection(bestDev, bestPrompt)) {
      bestDev = final;
      bestPrompt = prompt;
    }
  }
  return { steps, seedDev, bestDev, bestPrompt };
}
