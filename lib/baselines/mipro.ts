/**
 * A MIPRO-style optimizer (Opsahl-Ong et al. 2024, MIPROv2 in stanfordnlp/dspy
 * `teleprompt/mipro_optimizer_v2.py`), written for this harness:
 *
 * 1. **Demo bootstrap**: the seed prompt is run on a shuffled slice of the training set;
 *    the fully correct traces become demonstrations. Demo set 0 is zero-shot, set 1 holds
 *    labelled examples (gold answers), the others random draws of 1..`maxBootstrapped`
 *    bootstrapped demos.
 * 2. **Grounded instruction proposal**: one optimizer call summarises the dataset; then
 *    each candidate instruction is proposed from the summary, the program description (the
 *    seed prompt), a demo set and a randomly drawn style tip. Candidate 0 is the seed's.
 * 3. **Search** over (instruction, demo set) with a TPE-like sampler
 *    ({@linkcode TpeSampler}; DSPy uses Optuna's TPE, which has no well-kept npm
 *    counterpart, so a small documented one is written here): each trial scores a
 *    combination on a random dev minibatch; every `fullEvalEvery` trials the combination
 *    with the best mean minibatch score that has not been fully scored is scored on the
 *    whole dev split (a harness candidate).
 *
 * Budget: bootstrap runs, minibatches and full dev scoring all count as target calls.
 *
 * @module
 */
import type { Example } from "../tasks/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { TraceItem } from "../trace.ts";
import { seededRandom, shuffled } from "../util/random.ts";
import {
  CandidateTracker,
  type Optimizer,
  type OptimizerContext,
  type OptimizerResult,
  untilBudget,
} from "./optimizer.ts";
import { structuredValue } from "../llm/structured.ts";
import { MIPRO_INSTRUCTION_SCHEMA, MIPRO_SUMMARY_SCHEMA } from "../protocol_names.ts";

const SUMMARY_JSON_SCHEMA = {
  type: "object",
  properties: { summary: { type: "string" } },
  required: ["summary"],
  additionalProperties: false,
};
const INSTRUCTION_JSON_SCHEMA = {
  type: "object",
  properties: { instruction: { type: "string" } },
  required: ["instruction"],
  additionalProperties: false,
};

/** Style tips drawn for each proposal, as MIPRO varies its proposer. */
export const PROPOSAL_TIPS: readonly string[] = [
  "Write the instruction in your own words.",
  "Be creative: think about what would help the model most.",
  "Keep the instruction short and simple.",
  "Describe the task and what a good answer looks like precisely.",
  "Stress that mistakes are costly and answers must be exact.",
  "Give the model a persona that fits the task.",
];

/** One demonstration: a training question with an answer (and reasoning when bootstrapped). */
export interface Demo {
  exampleId: string;
  question: string;
  answer: string;
  /** Set for bootstrapped demos (the target's own correct output). */
  reasoning?: string;
  confidence?: number;
}

/** Options of {@linkcode mipro}. */
export interface MiproOptions {
  /** Instruction candidates, the seed's included (default 5). */
  numInstructions?: number;
  /** Demo sets: zero-shot, labelled, then bootstrapped (default 4). */
  numDemoSets?: number;
  /** Most bootstrapped demos per set (default 3). */
  maxBootstrapped?: number;
  /** Labelled demos in set 1 (default 3). */
  maxLabeled?: number;
  /** Training examples run for bootstrapping (default 12). */
  bootstrapExamples?: number;
  /** Dev examples per trial (default 10). */
  minibatchSize?: number;
  /** Trials between full dev scorings (default 4). */
  fullEvalEvery?: number;
  /** Most trials (default 100). */
  maxTrials?: number;
}

/** Options of {@linkcode TpeSampler}. */
export interface TpeOptions {
  seed?: number;
  /** Random trials before the model is used (default 4). */
  startupTrials?: number;
  /** Share of trials counted as good (default 0.25). */
  gamma?: number;
  /** Draws from the good density per dimension; the best ratio wins (default 24). */
  candidates?: number;
  /** Pseudo-count per category in both densities (default 1). */
  prior?: number;
}

/**
 * A Tree-structured Parzen Estimator for independent categorical parameters (the case
 * here: which instruction, which demo set). After `startupTrials` random trials, the
 * trials are split into the best `gamma` share ("good") and the rest ("bad"); per
 * dimension, l(k) and g(k) are the smoothed category frequencies among good and bad
 * trials; `candidates` values are drawn from l and the one with the largest l(k)/g(k) is
 * suggested (the expected-improvement criterion of TPE).
 *
 * @example
 * ```ts
 * import { TpeSampler } from "./mipro.ts";
 * const tpe = new TpeSampler([3], { seed: 1, startupTrials: 3 });
 * for (const k of [0, 1, 2]) tpe.tell([k], k === 2 ? 1 : 0);
 * if (tpe.suggest()[0] !== 2) throw new Error("TPE should exploit the good category");
 * ```
 */
export class TpeSampler {
  readonly trials: { params: number[]; score: number }[] = [];
  readonly #random: () => number;
  readonly #startup: number;
  readonly #gamma: number;
  readonly #candidates: number;
  readonly #prior: number;

  /** A sampler over dimensions with the given numbers of categories. */
  constructor(readonly cardinalities: readonly number[], opts: TpeOptions = {}) {
    this.#random = seededRandom(opts.seed ?? 0);
    this.#startup = opts.startupTrials ?? 4;
    this.#gamma = opts.gamma ?? 0.25;
    this.#candidates = opts.candidates ?? 24;
    this.#prior = opts.prior ?? 1;
  }

  /** Records a trial's score (higher is better). */
  tell(params: readonly number[], score: number): void {
    this.trials.push({ params: [...params], score });
  }

  /** The parameters to try next. */
  suggest(): number[] {
    if (this.trials.length < this.#startup) {
      return this.cardinalities.map((k) => Math.floor(this.#random() * k));
    }
    const sorted = [...this.trials].sort((a, b) => b.score - a.score);
    const nGood = Math.max(1, Math.ceil(this.#gamma * sorted.length));
    const good = sorted.slice(0, nGood);
    const bad = sorted.slice(nGood);
    return this.cardinalities.map((k, d) => {
      const density = (trials: typeof good) =>
        Array.from(
          { length: k },
          (_, c) =>
            (this.#prior + trials.filter((t) => t.params[d] === c).length) /
            (k * this.#prior + trials.length),
        );
      const l = density(good);
      const g = density(bad);
      let best = 0;
      let bestRatio = -Infinity;
      for (let n = 0; n < this.#candidates; n++) {
        let r = this.#random();
        let c = 0;
        while (c < k - 1 && r >= (l[c] as number)) r -= l[c++] as number;
        const ratio = (l[c] as number) / (g[c] as number);
        if (ratio > bestRatio) {
          bestRatio = ratio;
          best = c;
        }
      }
      return best;
    });
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)} [...]` : text;
}

/**
 * The prompt with demos appended to its instruction. Each demo line starts with `#n`, so a
 * demo question never starts a line the way the example under test does.
 *
 * @example
 * ```ts
 * import { withDemos } from "./mipro.ts";
 * const p = withDemos({ system: "", instruction: "Solve." }, [{ exampleId: "a", question: "1+1?", answer: "2" }], "reasoning");
 * if (!p.instruction.includes("#1 Question: 1+1?\n#1 Answer: 2")) throw new Error(p.instruction);
 * ```
 */
export function withDemos(
  prompt: PromptProgram,
  demos: readonly Demo[],
  reasoningField: string,
): PromptProgram {
  if (demos.length === 0) return prompt;
  const blocks = demos.map((d, i) => {
    const n = `#${i + 1}`;
    const q = `${n} Question: ${truncate(d.question.replace(/\s*\n\s*/g, " "), 600)}`;
    if (d.reasoning === undefined) return `${q}\n${n} Answer: ${d.answer}`;
    const output = JSON.stringify({
      [reasoningField]: truncate(d.reasoning, 400),
      answer: d.answer,
      confidence: d.confidence ?? 1,
    });
    return `${q}\n${n} Output: ${output}`;
  });
  return {
    ...prompt,
    instruction: `${prompt.instruction.trimEnd()}\n\nWorked examples:\n${blocks.join("\n\n")}`,
  };
}

/**
 * Bootstraps demo sets: runs the seed prompt on `n` shuffled training examples and keeps
 * the fully correct traces. Set 0 is empty (zero-shot), set 1 labelled, the rest draws of
 * bootstrapped demos (labelled ones when no trace was correct).
 */
export async function bootstrapDemoSets(
  tracker: CandidateTracker,
  opts: {
    sets: number;
    maxBootstrapped: number;
    maxLabeled: number;
    examples: number;
    random: () => number;
  },
): Promise<{ sets: Demo[][]; successes: Demo[]; tried: number }> {
  const { ctx } = tracker;
  const pool = shuffled(ctx.data.train, opts.random);
  const tryOn = pool.slice(0, Math.min(opts.examples, tracker.remaining()));
  const successes: Demo[] = [];
  if (tryOn.length > 0) {
    const { traces } = await tracker.evaluate(ctx.task.seedPrompt, tryOn, "bootstrap");
    traces.forEach((t: TraceItem, i) => {
      const ex = tryOn[i] as Example;
      if (t.full && t.parsed !== null) {
        successes.push({
          exampleId: ex.id,
          question: ex.question,
          answer: t.parsed.answer,
          reasoning: t.parsed.reasoning,
          confidence: t.parsed.confidence,
        });
      }
    });
  }
  const labeled: Demo[] = pool.slice(tryOn.length, tryOn.length + opts.maxLabeled)
    .map((ex) => ({ exampleId: ex.id, question: ex.question, answer: ex.answer }));
  const sets: Demo[][] = [[]];
  if (opts.sets > 1) sets.push(labeled);
  while (sets.length < opts.sets) {
    const source = successes.length > 0 ? successes : labeled;
    const size = 1 + Math.floor(opts.random() * Math.min(opts.maxBootstrapped, source.length));
    sets.push(shuffled(source, opts.random).slice(0, size));
  }
  return { sets, successes, tried: tryOn.length };
}

/** The dataset-summary request: a sample of training examples. */
export function summaryMessages(taskName: string, examples: readonly Example[]) {
  const lines = examples.map((ex, i) =>
    `[${i + 1}] Question: ${truncate(ex.question.replace(/\s*\n\s*/g, " "), 400)}\n` +
    `[${i + 1}] Answer: ${ex.answer}`
  );
  return [
    {
      role: "system" as const,
      content: "You describe datasets for prompt engineers. Read the examples and summarise, " +
        'in a few sentences, what the task asks, the answer formats and the traps. JSON {"summary": "..."}.',
    },
    { role: "user" as const, content: `Task: ${taskName}\nExamples:\n${lines.join("\n")}` },
  ];
}

/** One instruction-proposal request (exported for tests and the simulator). */
export function proposalMessages(input: {
  taskName: string;
  summary: string;
  seed: PromptProgram;
  demos: readonly Demo[];
  tip: string;
  index: number;
}) {
  const demos = input.demos.length === 0
    ? "(none)"
    : input.demos.map((d) => `Question: ${truncate(d.question, 300)}\nAnswer: ${d.answer}`)
      .join("\n---\n");
  return [
    {
      role: "system" as const,
      content: "You write the instruction of a prompt that a language model answers task " +
        "examples with. Use the dataset summary, the program description and the examples. " +
        "The instruction must keep the output format the current one asks for (a JSON object " +
        'with reasoning, answer and confidence). JSON {"instruction": "..."}.',
    },
    {
      role: "user" as const,
      content: [
        `Task: ${input.taskName}`,
        `Proposal: ${input.index}`,
        `Dataset summary: ${input.summary}`,
        `Program description: the model receives a system message and an instruction followed by the example.`,
        `System message:\n\`\`\`\n${input.seed.system}\n\`\`\``,
        `Current instruction:\n\`\`\`\n${input.seed.instruction}\n\`\`\``,
        `Examples:\n${demos}`,
        `Tip: ${input.tip}`,
      ].join("\n\n"),
    },
  ];
}

/** Proposes `n` instructions (the seed's first) with the optimizer LLM. */
export async function proposeInstructions(
  ctx: OptimizerContext,
  opts: { n: number; sets: Demo[][]; random: () => number },
): Promise<{ instructions: string[]; summary: string }> {
  const sample = shuffled(ctx.data.train, opts.random).slice(0, 10);
  const summaryResponse = await ctx.optimizer.chat({
    messages: summaryMessages(ctx.task.name, sample),
    outputSchema: { name: MIPRO_SUMMARY_SCHEMA, schema: SUMMARY_JSON_SCHEMA },
    temperature: 0,
    seed: ctx.seed,
  }, { signal: ctx.signal });
  const s = structuredValue(summaryResponse) as { summary?: unknown } | undefined;
  const summary = typeof s?.summary === "string" ? s.summary : "";
  const instructions = [ctx.task.seedPrompt.instruction];
  for (let i = 1; i < opts.n; i++) {
    const tip = PROPOSAL_TIPS[Math.floor(opts.random() * PROPOSAL_TIPS.length)] as string;
    const response = await ctx.optimizer.chat({
      messages: proposalMessages({
        taskName: ctx.task.name,
        summary,
        seed: ctx.task.seedPrompt,
        demos: opts.sets[i % opts.sets.length] ?? [],
        tip,
        index: i,
      }),
      outputSchema: { name: MIPRO_INSTRUCTION_SCHEMA, schema: INSTRUCTION_JSON_SCHEMA },
      temperature: 1,
      seed: ctx.seed,
      sampleIndex: i,
    }, { signal: ctx.signal });
    const v = structuredValue(response) as { instruction?: unknown } | undefined;
    const text = typeof v?.instruction === "string" ? v.instruction.trim() : "";
    if (text !== "" && !instructions.includes(text)) instructions.push(text);
  }
  return { instructions, summary };
}

/** A MIPRO-style optimizer with `options`. */
export function mipro(options: MiproOptions = {}): Optimizer {
  return { name: "mipro", run: (ctx) => runMipro(ctx, options) };
}

async function runMipro(ctx: OptimizerContext, options: MiproOptions): Promise<OptimizerResult> {
  const tracker = new CandidateTracker("mipro", ctx);
  const random = seededRandom(ctx.seed ^ 0x313f);
  const m = Math.max(1, Math.min(options.minibatchSize ?? 10, ctx.data.dev.length));
  const fullEvalEvery = Math.max(1, options.fullEvalEvery ?? 4);
  const maxTrials = options.maxTrials ?? 100;
  const stats = { trials: 0, fullEvals: 0, instructions: 0, demoSets: 0, bootstrapped: 0 };
  const devLength = ctx.data.dev.length;

  const search = async (): Promise<string> => {
    if (await tracker.scoreOnDev(ctx.task.seedPrompt, "seed (zero-shot)") === null) {
      return "budget: the seed prompt could not be scored on dev";
    }
    const boot = await bootstrapDemoSets(tracker, {
      sets: Math.max(1, options.numDemoSets ?? 4),
      maxBootstrapped: options.maxBootstrapped ?? 3,
      maxLabeled: options.maxLabeled ?? 3,
      // Leave room for at least one trial and one full scoring.
      examples: Math.max(0, Math.min(options.bootstrapExamples ?? 12, tracker.remaining() - m)),
      random,
    });
    stats.bootstrapped = boot.successes.length;
    stats.demoSets = boot.sets.length;
    tracker.progress("propose");
    const { instructions, summary } = await proposeInstructions(ctx, {
      n: Math.max(1, options.numInstructions ?? 5),
      sets: boot.sets,
      random,
    });
    stats.instructions = instructions.length;
    ctx.record?.("mipro_proposals", { summary, instructions, demoSets: boot.sets });
    const build = ([i, d]: number[]): PromptProgram =>
      withDemos(
        { ...ctx.task.seedPrompt, instruction: instructions[i ?? 0] as string },
        boot.sets[d ?? 0] ?? [],
        ctx.task.reasoningField,
      );
    const sampler = new TpeSampler([instructions.length, boot.sets.length], { seed: ctx.seed });
    const combos = new Map<string, { params: number[]; sum: number; n: number; full: boolean }>();
    combos.set("0,0", { params: [0, 0], sum: 0, n: 0, full: true });
    const fullEval = async (): Promise<boolean> => {
      const open = [...combos.values()].filter((c) => !c.full && c.n > 0)
        .sort((a, b) => b.sum / b.n - a.sum / a.n);
      const best = open[0];
      if (best === undefined) return true;
      const scored = await tracker.scoreOnDev(build(best.params), `trial best ${best.params}`);
      if (scored === null) return false;
      best.full = true;
      stats.fullEvals++;
      return true;
    };
    while (stats.trials < maxTrials && tracker.canAfford(m + devLength)) {
      ctx.signal?.throwIfAborted();
      const params = sampler.suggest();
      const batch = shuffled(ctx.data.dev, random).slice(0, m);
      const { metrics } = await tracker.evaluate(build(params), batch, "trial");
      stats.trials++;
      sampler.tell(params, metrics.score);
      const key = params.join(",");
      const entry = combos.get(key) ?? { params, sum: 0, n: 0, full: false };
      entry.sum += metrics.score;
      entry.n++;
      combos.set(key, entry);
      ctx.record?.("mipro_trial", { trial: stats.trials, params, minibatchScore: metrics.score });
      if (stats.trials % fullEvalEvery === 0 && !await fullEval()) {
        return "budget: no room for a full dev scoring";
      }
    }
    if (stats.trials % fullEvalEvery !== 0) await fullEval();
    return stats.trials >= maxTrials
      ? `trials: reached ${maxTrials}`
      : "budget: not enough target calls left for another trial and a full scoring";
  };

  const stopReason = await untilBudget(search);
  return tracker.result(stopReason, stats);
}
