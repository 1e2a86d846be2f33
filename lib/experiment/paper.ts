/**
 * The paper's own reported figures (`paper_reported.json`, one data file with its source),
 * shown beside an experiment's tables as rows labelled "paper (reported)" when the plan runs
 * the paper's protocol (`preset: "paper"`). Only what the paper states is recorded: RPT's
 * largest gain over the initial prompt per task and RPT's Aggregate per optimizer model.
 *
 * @module
 */
import { z } from "zod";
import reported from "./paper_reported.json" with { type: "json" };
import { parseModelSpec } from "../llm/spec.ts";

/** The schema of `paper_reported.json`. */
export const PaperReported = z.object({
  source: z.object({
    title: z.string(),
    authors: z.string(),
    organization: z.string(),
    year: z.number().int(),
    url: z.string(),
    code: z.string(),
    recorded: z.string(),
  }),
  units: z.string(),
  rpt: z.object({
    largestGainOverInitial: z.object({
      note: z.string(),
      hotpotqa: z.number(),
      livebench_math: z.number(),
      formula: z.number(),
    }),
    aggregate: z.object({
      note: z.string(),
      values: z.array(z.object({ optimizer: z.string(), value: z.number() })),
    }),
  }),
});
/** The paper's reported figures. */
export type PaperReported = z.infer<typeof PaperReported>;

/** The paper's reported figures, validated. */
export const PAPER_REPORTED: PaperReported = PaperReported.parse(reported);

/** How the source is cited under a table. */
export function paperCitation(p: PaperReported = PAPER_REPORTED): string {
  return `${p.source.authors}, "${p.source.title}" (${p.source.organization}, ${p.source.year}), ` +
    `${p.source.url}`;
}

/**
 * The paper's name of the optimizer model a spec names (`openai:gpt-5-mini` → `GPT-5-mini`),
 * or undefined when the paper reports no figure for it. Dated snapshots and `-preview`
 * suffixes match their model.
 *
 * @example
 * ```ts
 * import { paperOptimizerName } from "./paper.ts";
 * if (paperOptimizerName("openai:gpt-5") !== "GPT-5") throw new Error();
 * if (paperOptimizerName("openai:gpt-5-mini-2025-08-07") !== "GPT-5-mini") throw new Error();
 * if (paperOptimizerName("gemini:gemini-3.1-pro-preview") !== "Gemini-3.1-Pro") throw new Error();
 * if (paperOptimizerName("sim:optimizer") !== undefined) throw new Error();
 * ```
 */
export function paperOptimizerName(spec: string): string | undefined {
  let model: string;
  try {
    model = parseModelSpec(spec).model.toLowerCase();
  } catch {
    return undefined;
  }
  const known: [RegExp, string][] = [
    [/^gpt-5-mini(-\d{4}-\d{2}-\d{2})?$/, "GPT-5-mini"],
    [/^gpt-5(-\d{4}-\d{2}-\d{2})?$/, "GPT-5"],
    [/^gemini-3\.1-pro(-preview)?$/, "Gemini-3.1-Pro"],
    [/^gemini-3\.1-flash-lite(-preview)?$/, "Gemini-3.1-Flash-Lite"],
  ];
  return known.find(([re]) => re.test(model))?.[1];
}
