/**
 * GEPA (Agrawal et al. 2025, "GEPA: Reflective Prompt Evolution Can Outperform
 * Reinforcement Learning"), written for this harness after reading gepa-ai/gepa:
 *
 * - a pool of candidate prompts, each scored on every dev example; a per-example
 *   **Pareto front** keeps, for each dev example, the best score and the candidates that
 *   reach it;
 * - a parent is sampled from the front: dominated candidates are removed, and each
 *   survivor is drawn with probability proportional to the number of examples on whose
 *   front it sits;
 * - **reflective mutation**: one component of the parent (`instruction` or `system`,
 *   round-robin per candidate) is rewritten by the optimizer LLM from a minibatch of
 *   training traces with feedback (the score, the gold answer and the critic's diagnosis);
 * - the child is kept only when its minibatch score is strictly higher than the parent's
 *   on the same minibatch; a kept child is scored on the whole dev split and joins the pool;
 * - optional **merge** (after a kept child, at most `maxMerges` times): two front
 *   candidates that descend from a common ancestor no better than either are combined
 *   component by component (each takes the side that changed since the ancestor, the
 *   better parent's when both did); the merge is scored on a small dev subsample drawn
 *   from where each parent wins and where they tie, and kept (then scored on all of dev)
 *   if it is at least as good as both parents there.
 *
 * Budget: every target call counts (minibatches, merge subsamples, dev scoring).
 *
 * **Confidence-aware GEPA** (`gepa({ confidenceAware: true })`, method `gepa-ca`; the paper's
 * Table 2 baseline, with calibration as GEPA's auxiliary feedback): the feedback on each
 * answer also gives the stated confidence against the outcome it is calibrated against
 * (the task's calibration target: EM for HotPotQA, the score elsewhere) and the squared
 * error; the reflection request states the minibatch's Brier score, mean confidence and
 * mean score and asks for calibrated confidence besides correct answers; a child is kept
 * when it raises the minibatch's confidence-aware objective (mean score - w * Brier, with
 * the selection function's w = 0.05), and candidates are selected on dev with the Brier
 * term, as confidence-aware RPT selects.
 *
 * @module
 */
import { critiqueFailure } from "../critique.ts";
import { calibrationTarget, computeMetrics } from "../metrics.ts";
import { brierWeight } from "../revise/select.ts";
import type { ChatModel } from "../llm/model.ts";
import type { ChatMessage } from "../llm/schema.ts";
import type { Example } from "../tasks/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { TraceItem } from "../trace.ts";
import { seededRandom, shuffled } from "../util/random.ts";
import { mapConcurrent } from "../util/limit.ts";
import {
  CandidateTracker,
  type Optimizer,
  type OptimizerContext,
  type OptimizerResult,
  untilBudget,
} from "./optimizer.ts";
import { structuredValue } from "../llm/structured.ts";
import {
  GEPA_CALIBRATION_PREFIX,
  GEPA_CONFIDENCE_PREFIX,
  GEPA_REFLECTION_SCHEMA,
  OVERCONFIDENT,
} from "../protocol_names.ts";

/** JSON Schema of the reflection answer `{new_text}`. */
export const GEPA_REFLECTION_JSON_SCHEMA = {
  type: "object",
  properties: {
    new_text: { type: "string", description: "the complete new text of the component" },
  },
  required: ["new_text"],
  additionalProperties: false,
};

/** Options of {@linkcode gepa}. */
export interface GepaOptions {
  /** Training examples per reflective minibatch (default 3, as GEPA). */
  minibatchSize?: number;
  /** Prompt fields GEPA may rewrite (default: the seed's non-empty fields). */
  components?: string[];
  /** Try merges of front candidates (default true). */
  useMerge?: boolean;
  /** Most merge attempts (default 5). */
  maxMerges?: number;
  /** Dev examples a merge is checked on before full scoring (default 5). */
  mergeSubsample?: number;
  /** Ask the critic for a diagnosis of each minibatch failure (default true). */
  critique?: boolean;
  /** Stop after this many iterations even if budget remains (default 200). */
  maxIterations?: number;
  /**
   * The confidence-aware variant (method `gepa-ca`, see the module doc): calibration in the
   * feedback and the reflection request, acceptance and selection with the Brier term.
   */
  confidenceAware?: boolean;
}

/**
 * The per-example Pareto front over candidate score vectors.
 *
 * @example
 * ```ts
 * import { ParetoFront } from "./gepa.ts";
 * const front = new ParetoFront(2);
 * front.add(0, [1, 0]);
 * front.add(1, [0, 1]);
 * front.add(2, [0, 0]);
 * if (front.nonDominated().join() !== "0,1") throw new Error("2 is dominated");
 * ```
 */
export class ParetoFront {
  readonly best: number[];
  readonly members: Set<number>[];
  readonly #totals = new Map<number, number>();

  /** A front over `instances` examples, empty. */
  constructor(readonly instances: number) {
    this.best = Array.from({ length: instances }, () => -Infinity);
    this.members = Array.from({ length: instances }, () => new Set<number>());
  }

  /** Adds candidate `program` with its per-example scores. */
  add(program: number, scores: readonly number[]): void {
    if (scores.length !== this.instances) {
      throw new Error(`ParetoFront: ${scores.length} scores for ${this.instances} instances`);
    }
    this.#totals.set(program, scores.reduce((a, b) => a + b, 0));
    scores.forEach((s, i) => {
      const best = this.best[i] as number;
      const members = this.members[i] as Set<number>;
      if (s > best) {
        this.best[i] = s;
        members.clear();
        members.add(program);
      } else if (s === best) members.add(program);
    });
  }

  /**
   * Candidates on some front that are not dominated: in ascending order of total score, a
   * candidate is dropped when every front it sits on also holds another surviving one.
   */
  nonDominated(): number[] {
    const onFront = new Set<number>();
    for (const m of this.members) for (const p of m) onFront.add(p);
    const order = [...onFront].sort((a, b) =>
      (this.#totals.get(a) ?? 0) - (this.#totals.get(b) ?? 0) || a - b
    );
    const dropped = new Set<number>();
    let changed = true;
    while (changed) {
      changed = false;
      for (const y of order) {
        if (dropped.has(y)) continue;
        const fronts = this.members.filter((m) => m.has(y));
        const dominated = fronts.every((m) => [...m].some((p) => p !== y && !dropped.has(p)));
        if (dominated && fronts.length > 0) {
          dropped.add(y);
          changed = true;
        }
      }
    }
    return order.filter((p) => !dropped.has(p)).sort((a, b) => a - b);
  }

  /** How many fronts each surviving candidate sits on. */
  frequencies(): Map<number, number> {
    const alive = new Set(this.nonDominated());
    const out = new Map<number, number>();
    for (const m of this.members) {
      for (const p of m) if (alive.has(p)) out.set(p, (out.get(p) ?? 0) + 1);
    }
    return out;
  }

  /** Samples a parent with probability proportional to its front frequency. */
  sample(random: () => number): number {
    const freq = [...this.frequencies()].sort((a, b) => a[0] - b[0]);
    const total = freq.reduce((n, [, f]) => n + f, 0);
    let r = random() * total;
    for (const [p, f] of freq) {
      r -= f;
      if (r < 0) return p;
    }
    const last = freq.at(-1);
    if (last === undefined) throw new Error("ParetoFront: no candidate to sample");
    return last[0];
  }
}

/** One member of GEPA's pool. */
export interface GepaProgram {
  prompt: PromptProgram;
  /** Pool indices of the parents (one for a mutation, two for a merge). */
  parents: number[];
  /** Per-dev-example scores. */
  devScores: number[];
  /** Index of the harness candidate. */
  candidate: number;
}

/** The input side of an example as the reflection LLM sees it (context cut to `max`). */
export function exampleInputText(example: Example, max = 1500): string {
  const context = example.context === undefined
    ? ""
    : example.context.length > max
    ? `Context:\n${example.context.slice(0, max)} [...]\n`
    : `Context:\n${example.context}\n`;
  return `${context}Question: ${example.question}`;
}

/**
 * The calibration line of confidence-aware feedback: the stated confidence against the
 * outcome it is calibrated against, and the squared error; null for an unparsed answer.
 *
 * @example
 * ```ts
 * import { confidenceFeedback } from "./gepa.ts";
 * const line = confidenceFeedback({ score: 0, details: {}, parsed: { reasoning: "", answer: "x", confidence: 0.9 } });
 * if (line !== "Confidence: 0.90 stated, outcome 0.00: squared error 0.81, overconfident") throw new Error(line!);
 * ```
 */
export function confidenceFeedback(
  trace: Pick<TraceItem, "score" | "details" | "parsed"> & { error?: string; formatError?: string },
): string | null {
  if (trace.parsed === null || trace.error !== undefined || trace.formatError !== undefined) {
    return null;
  }
  const confidence = trace.parsed.confidence;
  const outcome = calibrationTarget(trace);
  const gap = confidence - outcome;
  const verdict = Math.abs(gap) < 0.2
    ? "well calibrated"
    : gap > 0
    ? OVERCONFIDENT
    : "underconfident";
  return `${GEPA_CONFIDENCE_PREFIX} ${confidence.toFixed(2)} stated, outcome ${
    outcome.toFixed(2)
  }: squared error ${(gap * gap).toFixed(2)}, ${verdict}`;
}

/**
 * Feedback on one trace: the score, the gold answer, and (for failures) the critic's
 * failure modes. This is GEPA's "feedback function": text, not only a number. With
 * `calibration`, the confidence line of {@linkcode confidenceFeedback} too.
 */
export async function traceFeedback(
  critic: ChatModel | null,
  ctx: Pick<OptimizerContext, "task" | "signal">,
  example: Example,
  trace: TraceItem,
  options: { calibration?: boolean } = {},
): Promise<string> {
  const lines = [
    `Score: ${trace.score.toFixed(2)} (${trace.full ? "full credit" : "not full credit"})`,
    `Gold answer: ${example.answer}`,
  ];
  if (trace.error !== undefined) lines.push(`Provider error: ${trace.error}`);
  else if (trace.formatError !== undefined) {
    lines.push(`Format error: ${trace.formatError} (the output must be the JSON object asked for)`);
  }
  const confidence = options.calibration ? confidenceFeedback(trace) : null;
  if (confidence !== null) lines.push(confidence);
  if (critic !== null && !trace.full && trace.parsed !== null && trace.error === undefined) {
    const outcome = await critiqueFailure(critic, { task: ctx.task, example, trace }, {
      signal: ctx.signal,
    });
    for (const m of outcome.modes) lines.push(`Diagnosis: ${m.label}: ${m.definition} (${m.why})`);
  }
  return lines.join("\n");
}

/** The calibration of the examples a reflection request shows (confidence-aware GEPA). */
export interface ReflectionCalibration {
  /** Brier score over the parsed answers (null when none parsed). */
  brier: number | null;
  avgConfidence: number | null;
  /** Mean task score. */
  score: number;
  /** Answers shown. */
  n: number;
}

/**
 * The calibration line of a confidence-aware reflection request.
 *
 * @example
 * ```ts
 * import { calibrationLine } from "./gepa.ts";
 * const line = calibrationLine({ brier: 0.41, avgConfidence: 0.9, score: 1 / 3, n: 3 });
 * if (!line.startsWith("Calibration on these examples: Brier 0.410 over 3 answers")) throw new Error(line);
 * ```
 */
export function calibrationLine(c: ReflectionCalibration): string {
  const brier = c.brier === null ? "not measurable (no parsed answer)" : c.brier.toFixed(3);
  const conf = c.avgConfidence === null ? "none" : c.avgConfidence.toFixed(2);
  return `${GEPA_CALIBRATION_PREFIX} Brier ${brier} over ${c.n} answers (mean stated ` +
    `confidence ${conf}, mean score ${c.score.toFixed(2)}; lower Brier is better)`;
}

/**
 * The reflection request for one component (exported for tests and the simulator). With
 * `calibration` (confidence-aware GEPA) it states the examples' calibration and asks for
 * confidence that matches how likely the answer is right.
 */
export function reflectionMessages(
  taskName: string,
  component: string,
  currentText: string,
  records: { input: string; output: string; feedback: string }[],
  calibration?: ReflectionCalibration,
): ChatMessage[] {
  const system = [
    "You improve one component of a prompt that a language model answers task examples with.",
    "You see the component's current text and examples the model answered with it: the input,",
    "the model's output and feedback on it. Find the recurring causes of the failures and write",
    "a new complete text for the component that fixes them, keeps what already works, and keeps",
    "the required output format unchanged. Generalise: do not copy answers of these examples.",
    ...(calibration === undefined ? [] : [
      "Besides correct answers, the model's stated confidence should match how likely its answer",
      "is to be right (a low Brier score): the feedback gives each answer's confidence against",
      "its outcome; fix systematic over- or underconfidence too.",
    ]),
    'Answer with JSON {"new_text": "..."}.',
  ].join(" ");
  const examples = records.map((r, i) =>
    `### Example ${i + 1}\nInput:\n${r.input}\nOutput:\n${r.output}\nFeedback:\n${r.feedback}`
  ).join("\n\n");
  const calibrationText = calibration === undefined ? "" : `${calibrationLine(calibration)}\n\n`;
  const user = `Task: ${taskName}\nPrompt component: ${component}\nCurrent text:\n\`\`\`\n` +
    `${currentText}\n\`\`\`\n\n${calibrationText}Examples with feedback:\n\n${examples}`;
  return [{ role: "system", content: system }, { role: "user", content: user }];
}

/**
 * Whether a child is kept: its minibatch score must be strictly higher than the parent's
 * on the same minibatch (GEPA's acceptance test).
 *
 * @example
 * ```ts
 * import { acceptChild } from "./gepa.ts";
 * if (!acceptChild([0, 1, 0], [1, 1, 0]) || acceptChild([1, 0, 0], [0, 1, 0])) throw new Error();
 * ```
 */
export function acceptChild(parentScores: readonly number[], childScores: readonly number[]) {
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  return sum(childScores) > sum(parentScores) + 1e-12;
}

/**
 * Confidence-aware GEPA's objective on a minibatch: mean score - w * Brier (a minibatch
 * with no parsed answer has the worst Brier, 1).
 *
 * @example
 * ```ts
 * import { calibratedObjective } from "./gepa.ts";
 * const v = calibratedObjective({ score: 0.5, brier: 0.2 }, 0.05);
 * if (Math.abs(v - 0.49) > 1e-12) throw new Error(String(v));
 * ```
 */
export function calibratedObjective(
  metrics: { score: number; brier: number | null },
  weight: number,
): number {
  return metrics.score - weight * (metrics.brier ?? 1);
}

/**
 * Combines two prompts descending from `ancestor`: each field takes the side that changed
 * since the ancestor (the better parent's when both changed). Null when the merge equals
 * either parent.
 *
 * @example
 * ```ts
 * import { mergePrompts } from "./gepa.ts";
 * const a = { system: "S", instruction: "I" };
 * const m = mergePrompts(a, { system: "S2", instruction: "I" }, { system: "S", instruction: "I2" }, true);
 * if (m?.system !== "S2" || m.instruction !== "I2") throw new Error(JSON.stringify(m));
 * ```
 */
export function mergePrompts(
  ancestor: PromptProgram,
  a: PromptProgram,
  b: PromptProgram,
  aIsBetter: boolean,
): PromptProgram | null {
  const out: Record<string, string> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const base = ancestor[key] ?? "";
    const va = a[key] ?? "";
    const vb = b[key] ?? "";
    out[key] = va === base ? vb : vb === base ? va : aIsBetter ? va : vb;
  }
  const merged = out as PromptProgram;
  const same = (p: PromptProgram) => JSON.stringify(p) === JSON.stringify(merged);
  return same(a) || same(b) ? null : merged;
}

function ancestors(pool: readonly GepaProgram[], index: number): Set<number> {
  const out = new Set<number>();
  const stack = [...(pool[index]?.parents ?? [])];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    if (out.has(p)) continue;
    out.add(p);
    stack.push(...(pool[p]?.parents ?? []));
  }
  return out;
}

const sumOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * The dev examples a merge is checked on: up to `size`, drawn in equal shares from those
 * where the first parent is better, where the second is, and where they tie (then topped
 * up from all), so the check covers what each parent brings.
 *
 * @example
 * ```ts
 * import { mergeSample } from "./gepa.ts";
 * const s = mergeSample([1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 1, 0], 3, () => 0);
 * if (s.length !== 3 || new Set(s).size !== 3) throw new Error(String(s));
 * ```
 */
export function mergeSample(
  a: readonly number[],
  b: readonly number[],
  size: number,
  random: () => number,
): number[] {
  const ids = a.map((_, n) => n);
  const buckets = [
    ids.filter((n) => (a[n] ?? 0) > (b[n] ?? 0)),
    ids.filter((n) => (b[n] ?? 0) > (a[n] ?? 0)),
    ids.filter((n) => a[n] === b[n]),
  ];
  const share = Math.max(1, Math.ceil(size / 3));
  const chosen: number[] = [];
  for (const bucket of buckets) {
    chosen.push(...shuffled(bucket, random).slice(0, Math.min(share, size - chosen.length)));
  }
  const rest = shuffled(ids.filter((n) => !chosen.includes(n)), random);
  chosen.push(...rest.slice(0, size - chosen.length));
  return chosen.sort((x, y) => x - y);
}

/** A GEPA optimizer with `options` (`gepa-ca` with `confidenceAware`). */
export function gepa(options: GepaOptions = {}): Optimizer {
  const name = options.confidenceAware ? "gepa-ca" : "gepa";
  return {
    name,
    // The variant selects with the Brier term whatever the harness's setting.
    run: (ctx) =>
      runGepa(options.confidenceAware ? { ...ctx, confidenceAware: true } : ctx, options, name),
  };
}

async function runGepa(
  ctx: OptimizerContext,
  options: GepaOptions,
  name: string,
): Promise<OptimizerResult> {
  const calibration = options.confidenceAware === true;
  const weight = brierWeight(true);
  const tracker = new CandidateTracker(name, ctx);
  const random = seededRandom(ctx.seed ^ 0x6e9a);
  const k = Math.max(1, options.minibatchSize ?? 3);
  const seed = ctx.task.seedPrompt;
  const components = options.components ??
    Object.keys(seed).filter((key) => (seed[key] ?? "").trim() !== "");
  const useMerge = options.useMerge ?? true;
  const maxMerges = options.maxMerges ?? 5;
  const mergeSubsample = options.mergeSubsample ?? 5;
  const critic = options.critique === false ? null : ctx.critic;
  const maxIterations = options.maxIterations ?? 200;
  const stats = {
    iterations: 0,
    accepted: 0,
    rejected: 0,
    unchanged: 0,
    skippedPerfect: 0,
    mergesTried: 0,
    mergesAccepted: 0,
  };
  const pool: GepaProgram[] = [];
  const front = new ParetoFront(ctx.data.dev.length);
  const nextComponent = new Map<number, number>();
  const triedMerges = new Set<string>();
  let mergesDue = 0;
  let order: Example[] = [];
  let cursor = 0;
  const minibatch = (): Example[] => {
    const out: Example[] = [];
    while (out.length < Math.min(k, ctx.data.train.length)) {
      if (cursor >= order.length) {
        order = shuffled(ctx.data.train, random);
        cursor = 0;
      }
      out.push(order[cursor++] as Example);
    }
    return out;
  };

  const addProgram = async (prompt: PromptProgram, parents: number[], origin: string) => {
    const scored = await tracker.scoreOnDev(prompt, origin);
    if (scored === null) return "budget" as const;
    // A prompt already in the pool (a child equal to an earlier candidate) adds nothing.
    if (scored.traces === null) return "duplicate" as const;
    const program: GepaProgram = {
      prompt,
      parents,
      devScores: scored.traces.map((t) => t.score),
      candidate: scored.index,
    };
    pool.push(program);
    front.add(pool.length - 1, program.devScores);
    ctx.record?.("gepa_program", { index: pool.length - 1, parents, origin });
    return program;
  };

  const tryMerge = async (): Promise<boolean> => {
    const alive = front.nonDominated();
    const total = (p: number) => sumOf((pool[p] as GepaProgram).devScores);
    const triples: [number, number, number][] = [];
    for (const i of alive) {
      for (const j of alive) {
        if (j <= i) continue;
        const ai = ancestors(pool, i);
        const aj = ancestors(pool, j);
        if (ai.has(j) || aj.has(i)) continue;
        // As GEPA: an ancestor better than either descendant has nothing to teach a merge.
        for (const a of ai) {
          if (!aj.has(a) || triedMerges.has(`${i}+${j}@${a}`)) continue;
          if (total(a) > total(i) || total(a) > total(j)) continue;
          triples.push([i, j, a]);
        }
      }
    }
    if (triples.length === 0) return false;
    const [i, j, common] = triples[Math.floor(random() * triples.length)] as [
      number,
      number,
      number,
    ];
    triedMerges.add(`${i}+${j}@${common}`);
    const pi = pool[i] as GepaProgram;
    const pj = pool[j] as GepaProgram;
    const merged = mergePrompts(
      (pool[common] as GepaProgram).prompt,
      pi.prompt,
      pj.prompt,
      total(i) >= total(j),
    );
    if (merged === null) return false;
    const sample = mergeSample(pi.devScores, pj.devScores, mergeSubsample, random);
    if (!tracker.canAfford(sample.length + ctx.data.dev.length)) return false;
    stats.mergesTried++;
    const { traces } = await tracker.evaluate(
      merged,
      sample.map((n) => ctx.data.dev[n] as Example),
      "merge",
    );
    const mergedSum = sumOf(traces.map((t) => t.score));
    const parentBest = Math.max(
      sumOf(sample.map((n) => pi.devScores[n] ?? 0)),
      sumOf(sample.map((n) => pj.devScores[n] ?? 0)),
    );
    const kept = mergedSum >= parentBest;
    ctx.record?.("gepa_merge", { parents: [i, j], ancestor: common, kept, mergedSum, parentBest });
    if (!kept) return true;
    const added = await addProgram(merged, [i, j], `merge of ${pi.candidate} and ${pj.candidate}`);
    if (typeof added !== "string") stats.mergesAccepted++;
    return true;
  };

  const iterate = async (): Promise<string> => {
    if (await addProgram(seed, [], "seed") === "budget") {
      return "budget: the seed prompt could not be scored on dev";
    }
    while (stats.iterations < maxIterations) {
      ctx.signal?.throwIfAborted();
      if (useMerge && mergesDue > 0 && stats.mergesTried < maxMerges) {
        mergesDue--;
        if (await tryMerge()) continue;
      }
      // A mutation costs 2k minibatch calls plus, when kept, a dev scoring.
      if (!tracker.canAfford(2 * k + ctx.data.dev.length)) {
        return "budget: not enough target calls left for another mutation and its dev scoring";
      }
      stats.iterations++;
      const parentIndex = front.sample(random);
      const parent = pool[parentIndex] as GepaProgram;
      const turn = nextComponent.get(parentIndex) ?? 0;
      nextComponent.set(parentIndex, turn + 1);
      const component = components[turn % components.length] as string;
      const batch = minibatch();
      const before = await tracker.evaluate(parent.prompt, batch, "minibatch");
      if (before.traces.every((t) => t.full)) {
        stats.skippedPerfect++;
        continue;
      }
      tracker.progress("reflect");
      const records = await mapConcurrent(batch, ctx.concurrency, async (ex, n) => {
        const trace = before.traces[n] as TraceItem;
        return {
          input: exampleInputText(ex),
          output: trace.rawText,
          feedback: await traceFeedback(critic, ctx, ex, trace, { calibration }),
        };
      });
      const current = parent.prompt[component] ?? "";
      const shown = calibration ? computeMetrics(before.traces) : undefined;
      const response = await ctx.optimizer.chat({
        messages: reflectionMessages(
          ctx.task.name,
          component,
          current,
          records,
          shown && {
            brier: shown.brier,
            avgConfidence: shown.avgConfidence,
            score: shown.score,
            n: shown.n,
          },
        ),
        outputSchema: { name: GEPA_REFLECTION_SCHEMA, schema: GEPA_REFLECTION_JSON_SCHEMA },
        temperature: 1,
        seed: ctx.seed,
        sampleIndex: stats.iterations,
      }, { signal: ctx.signal });
      const value = structuredValue(response) as { new_text?: unknown } | undefined;
      const text = typeof value?.new_text === "string" ? value.new_text.trim() : "";
      if (text === "" || text === current.trim()) {
        stats.unchanged++;
        ctx.record?.("gepa_child", { parent: parentIndex, component, outcome: "unchanged" });
        continue;
      }
      const child: PromptProgram = { ...parent.prompt, [component]: text };
      const after = await tracker.evaluate(child, batch, "minibatch");
      const parentScores = before.traces.map((t) => t.score);
      const childScores = after.traces.map((t) => t.score);
      const accepted = calibration
        ? calibratedObjective(after.metrics, weight) >
          calibratedObjective(before.metrics, weight) + 1e-12
        : acceptChild(parentScores, childScores);
      ctx.record?.("gepa_child", {
        parent: parentIndex,
        component,
        outcome: accepted ? "accepted" : "rejected",
        parentSum: sumOf(parentScores),
        childSum: sumOf(childScores),
      });
      if (!accepted) {
        stats.rejected++;
        continue;
      }
      stats.accepted++;
      const added = await addProgram(child, [parentIndex], `mutation of ${parent.candidate}`);
      if (added === "budget") return "budget: the last accepted child could not be scored on dev";
      if (added !== "duplicate") mergesDue++;
    }
    return `iterations: reached ${maxIterations}`;
  };

  const stopReason = await untilBudget(iterate);
  return tracker.result(stopReason, { ...stats, pool: pool.length });
}
