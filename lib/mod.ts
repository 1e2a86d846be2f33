/**
 * rpt: Reflective Prompt Tuning. The public face of the library: import from here.
 *
 * @example
 * ```ts
 * import { createChatModel, wrapChatModel } from "./mod.ts";
 * const model = wrapChatModel(await createChatModel("scripted:echo", { script: ["hi"] }), {});
 * const res = await model.chat({ messages: [{ role: "user", content: "hello" }] });
 * if (res.text !== "hi") throw new Error(res.text);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./llm/model.ts";
export * from "./llm/spec.ts";
export * from "./llm/scripted.ts";
export * from "./llm/openai.ts";
export * from "./llm/gemini.ts";
export * from "./llm/serve.ts";
export * from "./llm/wrap.ts";
export * from "./llm/cache.ts";
export * from "./llm/accounting.ts";
export * from "./llm/batch/types.ts";
export * from "./llm/batch/run_batch.ts";
export * from "./llm/batch/openai_batch.ts";
export * from "./llm/batch/gemini_batch.ts";
export * from "./llm/serve_batch.ts";
export * from "./llm/tfidf.ts";
export * from "./util/errors.ts";
export * from "./util/limit.ts";
export * from "./util/random.ts";
export type * from "./tasks/task.ts";
export * from "./tasks/registry.ts";
export * from "./tasks/common.ts";
export { hotpotqa, hotpotScores, normalizeAnswer } from "./tasks/hotpotqa.ts";
export { formula, formulaCorrect } from "./tasks/formula.ts";
export { livebenchMath } from "./tasks/livebench_math.ts";
export { loadCustomTask } from "./tasks/custom.ts";
export * from "./tasks/seeds.ts";
export * from "./metrics.ts";
export { PyRandom } from "./data/pyrandom.ts";
export * from "./diagnose.ts";
export * from "./critique.ts";
export * from "./cluster.ts";
export * from "./report.ts";
export * from "./analysis_tables.ts";
export * from "./memory.ts";
export * from "./select.ts";
export * from "./guards.ts";
export * from "./controller.ts";
export * from "./run.ts";
export * from "./revise.ts";
export * from "./plot.ts";
export * from "./run_charts.ts";
export * from "./notebook.ts";
export * from "./analysis.ts";
export type * from "./baselines/optimizer.ts";
export { compare, compareTable, meterChatModel, METHODS } from "./baselines/compare.ts";
export { gepa } from "./baselines/gepa.ts";
export { mipro } from "./baselines/mipro.ts";
export { ace } from "./baselines/ace.ts";
export { rpt } from "./baselines/rpt.ts";
