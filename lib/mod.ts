/**
 * rpt: Reflective Prompt Tuning. The public face of the library.
 *
 * @module
 */
export * from "./types.ts";
export * from "./llm/model.ts";
export type * from "./tasks/task.ts";
