/**
 * ACE, Agentic Context Engineering (Zhang et al. 2025, ace-agent/ace), written for this
 * harness. The prompt is a fixed template, the seed prompt followed by a **playbook**: a
 * list of bullets, each with an id, a section, its text and helpful/harmful counters.
 *
 * Offline adaptation over the training set, one batch at a time:
 * - **generator**: the target answers the batch with the current playbook prompt (its
 *   output contract is the harness's, so bullets used are judged by the reflector);
 * - **reflector**: the optimizer LLM reads each trace with its gold answer and score and
 *   returns what went wrong, the root cause, the key insight, and a helpful / harmful /
 *   neutral tag for the playbook bullets (the counters are updated from the tags);
 * - **curator**: the optimizer LLM turns the batch's reflections into small edits of the
 *   playbook: ADD a bullet, UPDATE a bullet's text, REMOVE a bullet;
 * - grow-and-refine: a new bullet that nearly repeats one already there is not added,
 *   near-duplicates are merged (token Jaccard similarity, counters summed), and bullets
 *   whose harmful count exceeds their helpful count by 2 are dropped.
 *
 * Every `evalEvery` batches the playbook prompt is scored on dev (a harness candidate).
 *
 * Differences from the reference code: it applies only ADD operations (UPDATE and removal
 * are on its to-do list, and its paper describes them), while this curator may also
 * UPDATE and REMOVE; de-duplication here is lexical (token Jaccard) where the paper uses
 * embeddings; and the reference generator reports the bullet ids it used, which the
 * harness's fixed output contract has no field for, so the reflector tags bullets itself.
 *
 * @module
 */
import type { ChatMessage } from "../llm/schema.ts";
import type { Example } from "../tasks/schema.ts";
import type { PromptProgram } from "../prompt.ts";
import type { TraceItem } from "../trace.ts";
import { mapConcurrent } from "../util/limit.ts";
import { seededRandom, shuffled } from "../util/random.ts";
import { exampleInputText } from "./gepa.ts";
import {
  CandidateTracker,
  type Optimizer,
  type OptimizerContext,
  type OptimizerResult,
  untilBudget,
} from "./optimizer.ts";
import { structuredValue } from "../llm/structured.ts";
import { ACE_CURATION_SCHEMA, ACE_REFLECTION_SCHEMA } from "../protocol_names.ts";

/** Playbook sections and their id prefixes. */
export const ACE_SECTIONS: Readonly<Record<string, string>> = {
  strategies: "str",
  common_mistakes: "mis",
  formatting: "fmt",
  confidence: "cnf",
  other: "oth",
};

const REFLECTION_JSON_SCHEMA = {
  type: "object",
  properties: {
    reasoning: { type: "string" },
    error_identification: { type: "string" },
    root_cause_analysis: { type: "string" },
    correct_approach: { type: "string" },
    key_insight: { type: "string" },
    bullet_tags: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          tag: { type: "string", enum: ["helpful", "harmful", "neutral"] },
        },
        required: ["id", "tag"],
      },
    },
  },
  required: ["reasoning", "key_insight", "bullet_tags"],
};

const CURATION_JSON_SCHEMA = {
  type: "object",
  properties: {
    reasoning: { type: "string" },
    operations: {
      type: "array",
      items: {
        type: "object",
        properties: {
          type: { type: "string", enum: ["ADD", "UPDATE", "REMOVE"] },
          section: { type: "string", enum: Object.keys(ACE_SECTIONS) },
          content: { type: "string" },
          bullet_id: { type: "string" },
        },
        required: ["type"],
      },
    },
  },
  required: ["reasoning", "operations"],
};

/** One playbook bullet. */
export interface Bullet {
  id: string;
  section: string;
  content: string;
  helpful: number;
  harmful: number;
}

/** A curator edit. */
export type PlaybookOp =
  | { type: "ADD"; section?: string; content: string }
  | { type: "UPDATE"; bullet_id: string; content: string }
  | { type: "REMOVE"; bullet_id: string };

/** Options of {@linkcode Playbook}. */
export interface PlaybookOptions {
  /** Token Jaccard similarity at or above which two bullets are duplicates (default 0.7). */
  similarity?: number;
  /** Most bullets kept (default 40): an ADD beyond it is refused. */
  maxBullets?: number;
}

function tokens(text: string): Set<string> {
  return new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1));
}

/** Token Jaccard similarity of two texts (1 for two empty texts). */
export function jaccard(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.size === 0 && tb.size === 0) return 1;
  let both = 0;
  for (const t of ta) if (tb.has(t)) both++;
  return both / (ta.size + tb.size - both);
}

/**
 * ACE's playbook: bullets with ids and counters, small edits, de-duplication.
 *
 * @example
 * ```ts
 * import { Playbook } from "./ace.ts";
 * const book = new Playbook();
 * const a = book.add("strategies", "Convert amounts in millions to full numbers.");
 * const dup = book.add("strategies", "Convert amounts in millions to full numbers!");
 * if (a.bullet?.id !== "str-00001" || dup.duplicateOf !== "str-00001") throw new Error();
 * if (book.bullets.length !== 1) throw new Error("the duplicate must not be added");
 * ```
 */
export class Playbook {
  bullets: Bullet[] = [];
  readonly #similarity: number;
  readonly #maxBullets: number;
  #next = 1;

  /** An empty playbook. */
  constructor(opts: PlaybookOptions = {}) {
    this.#similarity = opts.similarity ?? 0.7;
    this.#maxBullets = opts.maxBullets ?? 40;
  }

  /** The bullet with `id`. */
  get(id: string): Bullet | undefined {
    return this.bullets.find((b) => b.id === id);
  }

  /** Adds a bullet unless it nearly repeats one (then `duplicateOf` names it). */
  add(section: string, content: string): { bullet: Bullet | null; duplicateOf?: string } {
    const text = content.trim();
    if (text === "") return { bullet: null };
    const dup = this.bullets.find((b) => jaccard(b.content, text) >= this.#similarity);
    if (dup !== undefined) return { bullet: null, duplicateOf: dup.id };
    if (this.bullets.length >= this.#maxBullets) return { bullet: null };
    const key = Object.hasOwn(ACE_SECTIONS, section) ? section : "other";
    const bullet: Bullet = {
      id: `${ACE_SECTIONS[key]}-${String(this.#next++).padStart(5, "0")}`,
      section: key,
      content: text,
      helpful: 0,
      harmful: 0,
    };
    this.bullets.push(bullet);
    return { bullet };
  }

  /** Replaces a bullet's text; false when there is no such bullet or the text is empty. */
  update(id: string, content: string): boolean {
    const b = this.get(id);
    if (b === undefined || content.trim() === "") return false;
    b.content = content.trim();
    return true;
  }

  /** Removes a bullet; false when there is no such bullet. */
  remove(id: string): boolean {
    const before = this.bullets.length;
    this.bullets = this.bullets.filter((b) => b.id !== id);
    return this.bullets.length < before;
  }

  /** Counts a reflector's tag on a bullet (unknown ids and `neutral` change nothing). */
  tag(id: string, tag: string): void {
    const b = this.get(id);
    if (b === undefined) return;
    if (tag === "helpful") b.helpful++;
    else if (tag === "harmful") b.harmful++;
  }

  /** Applies curator edits in order; returns what was applied and why others were not. */
  apply(ops: readonly PlaybookOp[]): { applied: number; skipped: string[] } {
    let applied = 0;
    const skipped: string[] = [];
    for (const op of ops) {
      if (op.type === "ADD") {
        const r = this.add(op.section ?? "other", op.content);
        if (r.bullet) applied++;
        else skipped.push(r.duplicateOf ? `duplicate of ${r.duplicateOf}` : "not added");
      } else if (op.type === "UPDATE") {
        if (this.update(op.bullet_id, op.content)) applied++;
        else skipped.push(`no bullet ${op.bullet_id} to update`);
      } else if (this.remove(op.bullet_id)) applied++;
      else skipped.push(`no bullet ${op.bullet_id} to remove`);
    }
    return { applied, skipped };
  }

  /**
   * Grow-and-refine: merges near-duplicates into the earlier bullet (counters summed) and
   * drops bullets marked harmful at least twice more often than helpful. Returns the
   * number of bullets removed.
   */
  refine(): number {
    const before = this.bullets.length;
    const kept: Bullet[] = [];
    for (const b of this.bullets) {
      const dup = kept.find((k) => jaccard(k.content, b.content) >= this.#similarity);
      if (dup === undefined) kept.push(b);
      else {
        dup.helpful += b.helpful;
        dup.harmful += b.harmful;
      }
    }
    this.bullets = kept.filter((b) => b.harmful - b.helpful < 2);
    return before - this.bullets.length;
  }

  /** The playbook as text, one `[id] helpful=H harmful=K :: content` line per bullet. */
  render(): string {
    const out: string[] = [];
    for (const section of Object.keys(ACE_SECTIONS)) {
      const items = this.bullets.filter((b) => b.section === section);
      if (items.length === 0) continue;
      out.push(`## ${section}`);
      for (const b of items) {
        out.push(`[${b.id}] helpful=${b.helpful} harmful=${b.harmful} :: ${b.content}`);
      }
    }
    return out.join("\n");
  }
}

/**
 * The fixed prompt template: the seed with the playbook after its instruction (the seed
 * itself when the playbook is empty).
 */
export function playbookPrompt(seed: PromptProgram, playbook: Playbook): PromptProgram {
  if (playbook.bullets.length === 0) return seed;
  return {
    ...seed,
    instruction: `${seed.instruction.trimEnd()}\n\nPlaybook (strategies learned from past ` +
      `examples; apply the ones that fit):\n${playbook.render()}`,
  };
}

/** The reflector's request for one trace (exported for tests and the simulator). */
export function reflectionMessages(
  taskName: string,
  example: Example,
  trace: TraceItem,
  playbook: Playbook,
): ChatMessage[] {
  const system = "You are the reflector of an agent that learns a playbook of strategies. " +
    "Given one answered example with the gold answer, identify what went wrong (or what " +
    "worked), its root cause, the correct approach and one key insight worth remembering, " +
    "phrased as a general rule. Tag each playbook bullet that bears on this example as " +
    "helpful, harmful or neutral. Answer with JSON.";
  const user = [
    `Task: ${taskName}`,
    exampleInputText(example),
    `Model reasoning: ${trace.parsed?.reasoning ?? "(none)"}`,
    `Model answer: ${trace.parsed?.answer ?? "(unparseable output)"}`,
    `Stated confidence: ${trace.parsed?.confidence ?? "(none)"}`,
    `Gold answer: ${example.answer}`,
    `Score: ${trace.score.toFixed(2)} (${trace.full ? "correct" : "not correct"})` +
    (trace.formatError ? `\nFormat error: ${trace.formatError}` : ""),
    `Playbook:\n${playbook.render() || "(empty)"}`,
  ].join("\n");
  return [{ role: "system", content: system }, { role: "user", content: user }];
}

/** A reflector's answer, as the curator sees it. */
export interface Reflection {
  exampleId: string;
  correct: boolean;
  error_identification: string;
  root_cause_analysis: string;
  key_insight: string;
}

/** The curator's request (exported for tests and the simulator). */
export function curationMessages(
  taskName: string,
  playbook: Playbook,
  reflections: readonly Reflection[],
): ChatMessage[] {
  const system = "You are the curator of a playbook of strategies for a task. From the " +
    "reflections on recent examples, make small edits: ADD a bullet for a new insight (in a " +
    `section: ${Object.keys(ACE_SECTIONS).join(", ")}), UPDATE a bullet that is incomplete ` +
    "or wrong, REMOVE a bullet that is harmful or redundant. Do not repeat what a bullet " +
    "already says. Make no edit when nothing new was learned. Answer with JSON " +
    '{"reasoning": "...", "operations": [...]}.';
  const user = [
    `Task: ${taskName}`,
    `Playbook (${playbook.bullets.length} bullets):\n${playbook.render() || "(empty)"}`,
    `Reflections:\n${JSON.stringify(reflections, null, 1)}`,
  ].join("\n\n");
  return [{ role: "system", content: system }, { role: "user", content: user }];
}

function readOps(value: unknown): PlaybookOp[] {
  const ops = (value as { operations?: unknown } | null)?.operations;
  if (!Array.isArray(ops)) return [];
  const out: PlaybookOp[] = [];
  for (const raw of ops) {
    const op = raw as Record<string, unknown>;
    const type = String(op.type ?? "").toUpperCase();
    const content = typeof op.content === "string" ? op.content : "";
    const id = typeof op.bullet_id === "string" ? op.bullet_id : "";
    if (type === "ADD" && content !== "") {
      out.push({
        type: "ADD",
        content,
        ...(typeof op.section === "string" ? { section: op.section } : {}),
      });
    } else if (type === "UPDATE" && id !== "" && content !== "") {
      out.push({ type: "UPDATE", bullet_id: id, content });
    } else if (type === "REMOVE" && id !== "") out.push({ type: "REMOVE", bullet_id: id });
  }
  return out;
}

/** Options of {@linkcode ace}. */
export interface AceOptions {
  /** Training examples per generator/reflector/curator round (default 4). */
  batchSize?: number;
  /** Rounds between dev scorings of the playbook prompt (default 3). */
  evalEvery?: number;
  /** Passes over the training set at most (default 5). */
  epochs?: number;
  playbook?: PlaybookOptions;
}

/** An ACE optimizer with `options`. */
export function ace(options: AceOptions = {}): Optimizer {
  return { name: "ace", run: (ctx) => runAce(ctx, options) };
}

async function runAce(ctx: OptimizerContext, options: AceOptions): Promise<OptimizerResult> {
  const tracker = new CandidateTracker("ace", ctx);
  const random = seededRandom(ctx.seed ^ 0xace);
  const batchSize = Math.max(1, options.batchSize ?? 4);
  const evalEvery = Math.max(1, options.evalEvery ?? 3);
  const epochs = Math.max(1, options.epochs ?? 5);
  const playbook = new Playbook(options.playbook);
  const seed = ctx.task.seedPrompt;
  const stats = { rounds: 0, reflections: 0, added: 0, updated: 0, removed: 0, skipped: 0 };
  const devLength = ctx.data.dev.length;
  let dirty = false;

  const scorePlaybook = async () => {
    const scored = await tracker.scoreOnDev(
      playbookPrompt(seed, playbook),
      `playbook after round ${stats.rounds}`,
    );
    if (scored !== null) dirty = false;
    return scored !== null;
  };

  const adapt = async (): Promise<string> => {
    if (await tracker.scoreOnDev(seed, "seed (empty playbook)") === null) {
      return "budget: the seed prompt could not be scored on dev";
    }
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = shuffled(ctx.data.train, random);
      for (let start = 0; start < order.length; start += batchSize) {
        ctx.signal?.throwIfAborted();
        const batch = order.slice(start, start + batchSize);
        // A round must leave room for the dev scoring of what it learns.
        if (!tracker.canAfford(batch.length + devLength)) {
          if (dirty) await scorePlaybook();
          return "budget: not enough target calls left for another round and its dev scoring";
        }
        stats.rounds++;
        const { traces } = await tracker.evaluate(
          playbookPrompt(seed, playbook),
          batch,
          "generate",
        );
        tracker.progress("reflect");
        const reflections = await mapConcurrent(batch, ctx.concurrency, async (ex, i) => {
          const trace = traces[i] as TraceItem;
          const response = await ctx.optimizer.chat({
            messages: reflectionMessages(ctx.task.name, ex, trace, playbook),
            outputSchema: { name: ACE_REFLECTION_SCHEMA, schema: REFLECTION_JSON_SCHEMA },
            temperature: 0,
            seed: ctx.seed,
          }, { signal: ctx.signal });
          return {
            ex,
            trace,
            value: structuredValue(response) as Record<string, unknown> | undefined,
          };
        });
        const forCurator: Reflection[] = [];
        for (const { ex, trace, value } of reflections) {
          stats.reflections++;
          const tags = Array.isArray(value?.bullet_tags) ? value.bullet_tags : [];
          for (const t of tags as { id?: unknown; tag?: unknown }[]) {
            playbook.tag(String(t.id ?? ""), String(t.tag ?? ""));
          }
          forCurator.push({
            exampleId: ex.id,
            correct: trace.full,
            error_identification: String(value?.error_identification ?? ""),
            root_cause_analysis: String(value?.root_cause_analysis ?? ""),
            key_insight: String(value?.key_insight ?? ""),
          });
        }
        tracker.progress("curate");
        const response = await ctx.optimizer.chat({
          messages: curationMessages(ctx.task.name, playbook, forCurator),
          outputSchema: { name: ACE_CURATION_SCHEMA, schema: CURATION_JSON_SCHEMA },
          temperature: 0,
          seed: ctx.seed,
        }, { signal: ctx.signal });
        const ops = readOps(structuredValue(response));
        const before = JSON.stringify(playbook.bullets.map((b) => [b.id, b.content]));
        const { applied, skipped } = playbook.apply(ops);
        stats.added += ops.filter((o) => o.type === "ADD").length -
          skipped.filter((s) => s.startsWith("duplicate") || s === "not added").length;
        stats.updated += ops.filter((o) => o.type === "UPDATE").length;
        stats.removed += playbook.refine() + ops.filter((o) => o.type === "REMOVE").length;
        stats.skipped += skipped.length;
        ctx.record?.("ace_round", {
          round: stats.rounds,
          operations: ops,
          applied,
          skipped,
          bullets: playbook.bullets.length,
        });
        if (JSON.stringify(playbook.bullets.map((b) => [b.id, b.content])) !== before) {
          dirty = true;
        }
        if (stats.rounds % evalEvery === 0 && dirty && !await scorePlaybook()) {
          return "budget: no room to score the playbook on dev";
        }
      }
    }
    if (dirty && tracker.canAfford(devLength)) await scorePlaybook();
    return `epochs: ${epochs} passes over the training set`;
  };

  const stopReason = await untilBudget(adapt);
  return tracker.result(stopReason, { ...stats, bullets: playbook.bullets.length });
}
