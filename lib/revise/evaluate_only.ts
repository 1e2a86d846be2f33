/**
 * Scoring one prompt without optimizing (`rpt evaluate`, the reference's `--evaluate_only`):
 * the prompt (the config's seed prompt: the task's own, the paper's, or a given one) is
 * scored on train, dev and test through the session's evaluation code, with metrics and the
 * task's headline figure per split; with `diagnose`, the train split gets the full
 * diagnostic call instead (critique and ClusterFusion), and its report. The result goes to
 * a small directory: `config.json`, `evaluation.json` ({@linkcode PromptEvaluation}) and,
 * with `diagnose`, `train/report.json`, `train/report.md` and `train/record.json`.
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import { z } from "zod";
import { UsageSnapshot } from "../llm/usage.ts";
import { PromptProgram } from "../prompt.ts";
import { DiagnosticReport, reportToMarkdown } from "../report.ts";
import { configForDisk, type RunConfig } from "../run/config.ts";
import { Metrics, Split } from "../tasks/schema.ts";
import { taskHeadline } from "../tasks/task.ts";
import { writeJsonAtomic, writeTextAtomic } from "../util/fs.ts";
import { ConfigError } from "../util/errors.ts";
import { resolveRunConfig, type SessionConfigInput } from "./config.ts";
import { resolveSeedPrompt } from "./data.ts";
import { diagnoseTrain, evaluateSplit, scoredItems } from "./evaluate.ts";
import { openContext, type SessionOptions } from "./open.ts";
import { releaseContext } from "./context.ts";

/** One split's result. */
export const SplitEvaluation = z.object({
  split: Split,
  n: z.number().int().min(0),
  metrics: Metrics,
  /** The task's headline figure (HotPotQA: accuracy (EM)). */
  headline: z.object({ name: z.string(), value: z.number() }),
});
/** One split's result. */
export type SplitEvaluation = z.infer<typeof SplitEvaluation>;

/** `evaluation.json`: a prompt scored on the splits, with the train report when diagnosed. */
export const PromptEvaluation = z.object({
  version: z.literal(1),
  task: z.string(),
  /** True when any model is the offline simulator. */
  simulated: z.boolean(),
  prompt: PromptProgram,
  splits: z.array(SplitEvaluation),
  /** The diagnostic report on train (`diagnose`), else null. */
  report: DiagnosticReport.nullable(),
  usage: UsageSnapshot,
});
/** `evaluation.json`. */
export type PromptEvaluation = z.infer<typeof PromptEvaluation>;

/** Options of {@linkcode evaluatePromptOnly}. */
export interface EvaluateOnlyOptions
  extends Pick<SessionOptions, "models" | "task" | "data" | "signal" | "env" | "onProgress"> {
  /** Where the result is written (created; must not hold an evaluation yet). */
  dir: string;
  /** Give train the full diagnostic call (critique, ClusterFusion, the report). */
  diagnose?: boolean;
  /** The splits to score, in order (default train, dev, test). */
  splits?: readonly Split[];
}

async function assertEmpty(dir: string): Promise<void> {
  try {
    await Deno.stat(`${dir}/evaluation.json`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  throw new ConfigError(`${dir} already holds an evaluation: give another --out`);
}

/**
 * Scores the config's seed prompt on the splits (see the module doc) and writes the result
 * to `options.dir`. The config is resolved as a session's (preset, seed prompt, budget).
 */
export async function evaluatePromptOnly(
  input: SessionConfigInput,
  options: EvaluateOnlyOptions,
): Promise<{ config: RunConfig; dir: string; evaluation: PromptEvaluation }> {
  const config = await resolveSeedPrompt(resolveRunConfig(input, options));
  const dir = resolvePath(options.dir);
  await assertEmpty(dir);
  const ctx = await openContext(config, dir, options, []);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await writeJsonAtomic(`${dir}/config.json`, configForDisk(config));
    const prompt = ctx.task.seedPrompt;
    const splits: SplitEvaluation[] = [];
    let report: DiagnosticReport | null = null;
    for (const split of options.splits ?? ["train", "dev", "test"]) {
      if (ctx.data[split].length === 0) continue;
      let metrics: Metrics;
      if (split === "train" && options.diagnose === true) {
        const record = await diagnoseTrain(ctx, prompt, 1);
        report = record.report;
        metrics = record.report.metrics;
        await Deno.mkdir(`${dir}/train`, { recursive: true });
        await writeJsonAtomic(`${dir}/train/report.json`, record.report);
        await writeTextAtomic(`${dir}/train/report.md`, reportToMarkdown(record.report));
        await writeJsonAtomic(`${dir}/train/record.json`, {
          items: scoredItems(record.traces),
          critiques: record.critiques,
          clustering: record.clustering,
        });
      } else {
        metrics = (await evaluateSplit(ctx, prompt, split, 1)).metrics;
      }
      splits.push({
        split,
        n: ctx.data[split].length,
        metrics,
        headline: taskHeadline(ctx.task, metrics),
      });
    }
    const evaluation: PromptEvaluation = {
      version: 1,
      task: ctx.task.name,
      simulated: ctx.simulated,
      prompt,
      splits,
      report,
      usage: ctx.ledger.snapshot(),
    };
    await writeJsonAtomic(`${dir}/evaluation.json`, evaluation);
    return { config, dir, evaluation };
  } finally {
    releaseContext(ctx);
  }
}
