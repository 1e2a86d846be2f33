/**
 * The prompt program (DESIGN section 1): the editable fields the target sees, and every
 * operation on it: its fields in a stable order, its size (characters for the selection
 * function and the length cap, estimated tokens for the analyses), its text, a patch
 * applied to it, and the diff between two versions (a unified line diff for files and
 * model messages, a word-refined diff for display).
 *
 * @module
 */
import { z } from "zod";
import { estimateTokens } from "./util/tokens.ts";

/**
 * The editable prompt program the target sees. `system` and `instruction` always exist;
 * a task may add string fields of its own.
 */
export const PromptProgram = z.object({
  system: z.string(),
  instruction: z.string(),
}).catchall(z.string());
/** The editable prompt program. */
export type PromptProgram = z.infer<typeof PromptProgram>;

/** The fields a patch (and a `diagnose` candidate) may replace. */
export const PATCHABLE_FIELDS = ["system", "instruction"] as const;

/** New text for some patchable fields; a field left out (or undefined) keeps its text. */
export type PromptEdit = { [F in (typeof PATCHABLE_FIELDS)[number]]?: string | undefined };

/**
 * The prompt's fields in a stable order: `system`, `instruction`, then the rest by name.
 *
 * @example
 * ```ts
 * import { promptFields } from "./prompt.ts";
 * const fields = promptFields({ topic: "T", instruction: "I", system: "S" });
 * if (fields.map(([k]) => k).join() !== "system,instruction,topic") throw new Error();
 * ```
 */
export function promptFields(prompt: PromptProgram): [string, string][] {
  const rest = Object.keys(prompt).filter((k) => k !== "system" && k !== "instruction").sort();
  return ["system", "instruction", ...rest].map((k) => [k, prompt[k] ?? ""]);
}

/**
 * Total characters of a prompt program's fields: the selection function's length input
 * and what the prompt-length cap limits.
 *
 * @example
 * ```ts
 * import { promptChars } from "./prompt.ts";
 * if (promptChars({ system: "ab", instruction: "cde" }) !== 5) throw new Error();
 * ```
 */
export function promptChars(prompt: PromptProgram): number {
  return Object.values(prompt).reduce((n, v) => n + v.length, 0);
}

/**
 * Estimated tokens of a prompt program (all fields, one newline between them).
 *
 * @example
 * ```ts
 * import { promptTokens } from "./prompt.ts";
 * // "abcd\nefg" is 8 characters: 2 tokens at 4 characters a token.
 * if (promptTokens({ system: "abcd", instruction: "efg" }) !== 2) throw new Error();
 * ```
 */
export function promptTokens(prompt: PromptProgram): number {
  return estimateTokens(promptFields(prompt).map(([, v]) => v).join("\n"));
}

/** Options of {@linkcode promptText}. */
export interface PromptTextOptions {
  /** Put before every line of a field's text (default none). */
  indent?: string;
  /** Between fields (default a blank line). */
  separator?: string;
}

/**
 * A prompt program as text, one `[field]` header per field, in {@linkcode promptFields}
 * order.
 *
 * @example
 * ```ts
 * import { promptText } from "./prompt.ts";
 * const p = { system: "S", instruction: "I1\nI2" };
 * if (promptText(p) !== "[system]\nS\n\n[instruction]\nI1\nI2") throw new Error(promptText(p));
 * const indented = promptText(p, { indent: "  ", separator: "\n" });
 * if (indented !== "[system]\n  S\n[instruction]\n  I1\n  I2") throw new Error(indented);
 * ```
 */
export function promptText(prompt: PromptProgram, opts: PromptTextOptions = {}): string {
  const indent = opts.indent ?? "";
  return promptFields(prompt).map(([k, v]) =>
    `[${k}]\n${indent === "" ? v : v.split("\n").map((l) => `${indent}${l}`).join("\n")}`
  ).join(opts.separator ?? "\n\n");
}

/**
 * The prompt with the edit applied: each field the edit gives replaces the old one whole;
 * the others (and any task-specific field) are kept.
 *
 * @example
 * ```ts
 * import { applyPatch } from "./prompt.ts";
 * const next = applyPatch({ system: "S", instruction: "I" }, { instruction: "J", system: undefined });
 * if (next.system !== "S" || next.instruction !== "J") throw new Error(JSON.stringify(next));
 * ```
 */
export function applyPatch(prompt: PromptProgram, edit: PromptEdit): PromptProgram {
  const next: PromptProgram = { ...prompt };
  for (const field of PATCHABLE_FIELDS) {
    const text = edit[field];
    if (text !== undefined) next[field] = text;
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// Diffs

/** One piece of a diff: text both sides share, or text deleted or inserted. */
export interface DiffPart {
  kind: "same" | "ins" | "del";
  text: string;
}

/** Token lists whose alignment table would exceed this many cells are not aligned. */
const MAX_LCS_CELLS = 4_000_000;

/**
 * The longest-common-subsequence alignment of two token lists, one part per token.
 * Deletions come before insertions, so a replaced passage reads old-then-new (as diff(1)
 * prints a replaced line).
 */
function alignTokens(a: readonly string[], b: readonly string[]): DiffPart[] {
  if (a.length * b.length > MAX_LCS_CELLS) {
    // Too large to align cheaply: one replacement rather than a stalled notebook or report.
    return [
      ...a.map((text) => ({ kind: "del" as const, text })),
      ...b.map((text) => ({ kind: "ins" as const, text })),
    ];
  }
  const n = a.length;
  const m = b.length;
  // at(i, j): LCS length of a[i..] and b[j..].
  const table = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => table[i * (m + 1) + j]!;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[i] === b[j]
        ? at(i + 1, j + 1) + 1
        : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const parts: DiffPart[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      parts.push({ kind: "same", text: a[i++]! });
      j++;
    } else if (i < n && (j === m || at(i + 1, j) >= at(i, j + 1))) {
      parts.push({ kind: "del", text: a[i++]! });
    } else {
      parts.push({ kind: "ins", text: b[j++]! });
    }
  }
  return parts;
}

function mergeParts(parts: readonly DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  for (const part of parts) {
    if (part.text === "") continue;
    const last = out[out.length - 1];
    if (last && last.kind === part.kind) last.text += part.text;
    else out.push({ ...part });
  }
  return out;
}

function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function splitWords(text: string): string[] {
  return text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/**
 * A line diff refined to words: unchanged lines stay whole; a run of changed lines is diffed
 * word by word, so a one-word edit shows as one `del` and one `ins`.
 *
 * @example
 * ```ts
 * import { diffText } from "./prompt.ts";
 * const parts = diffText("Answer briefly.\nBe precise.", "Answer briefly.\nBe very precise.");
 * if (JSON.stringify(parts) !== JSON.stringify([
 *   { kind: "same", text: "Answer briefly.\nBe " },
 *   { kind: "ins", text: "very " },
 *   { kind: "same", text: "precise." },
 * ])) throw new Error(JSON.stringify(parts));
 * ```
 */
export function diffText(before: string, after: string): DiffPart[] {
  const lineParts = mergeParts(alignTokens(splitLines(before), splitLines(after)));
  const out: DiffPart[] = [];
  for (let k = 0; k < lineParts.length; k++) {
    const part = lineParts[k]!;
    const next = lineParts[k + 1];
    if (part.kind !== "same" && next !== undefined && next.kind !== "same") {
      const [del, ins] = part.kind === "del" ? [part, next] : [next, part];
      out.push(...alignTokens(splitWords(del.text), splitWords(ins.text)));
      k++;
    } else {
      out.push(part);
    }
  }
  return mergeParts(out);
}

/** Options of {@linkcode unifiedDiff}. */
export interface UnifiedDiffOptions {
  /** Label of the old side (default `old`). */
  from?: string;
  /** Label of the new side (default `new`). */
  to?: string;
  /** Unchanged lines shown around each change (default 3). */
  context?: number;
}

/**
 * A unified diff of two texts by lines, with `context` lines around each change; empty
 * when the texts are equal.
 *
 * @example
 * ```ts
 * import { unifiedDiff } from "./prompt.ts";
 * const diff = unifiedDiff("a\nb\nc", "a\nB\nc", { from: "old", to: "new" });
 * if (diff !== "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c") throw new Error(diff);
 * ```
 */
export function unifiedDiff(
  oldText: string,
  newText: string,
  opts: UnifiedDiffOptions = {},
): string {
  if (oldText === newText) return "";
  const context = opts.context ?? 3;
  type Op = { kind: " " | "-" | "+"; line: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  for (const part of alignTokens(oldText.split("\n"), newText.split("\n"))) {
    if (part.kind === "same") ops.push({ kind: " ", line: part.text, ai: i++, bi: j++ });
    else if (part.kind === "del") ops.push({ kind: "-", line: part.text, ai: i++, bi: j });
    else ops.push({ kind: "+", line: part.text, ai: i, bi: j++ });
  }
  const hunks: [number, number][] = [];
  ops.forEach((op, n) => {
    if (op.kind === " ") return;
    const lo = Math.max(0, n - context);
    const hi = Math.min(ops.length - 1, n + context);
    const last = hunks.at(-1);
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else hunks.push([lo, hi]);
  });
  const out = [`--- ${opts.from ?? "old"}`, `+++ ${opts.to ?? "new"}`];
  for (const [lo, hi] of hunks) {
    const slice = ops.slice(lo, hi + 1);
    const first = slice[0] as Op;
    const aLen = slice.filter((o) => o.kind !== "+").length;
    const bLen = slice.filter((o) => o.kind !== "-").length;
    const aStart = aLen === 0 ? first.ai : first.ai + 1;
    const bStart = bLen === 0 ? first.bi : first.bi + 1;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of slice) out.push(`${o.kind}${o.line}`);
  }
  return out.join("\n");
}

/**
 * The unified diff of two prompt programs' {@linkcode promptText}; empty when equal.
 *
 * @example
 * ```ts
 * import { promptDiff } from "./prompt.ts";
 * const diff = promptDiff({ system: "S", instruction: "a" }, { system: "S", instruction: "b" }, {
 *   from: "step 1", to: "step 2",
 * });
 * if (!diff.startsWith("--- step 1\n+++ step 2\n") || !diff.endsWith("-a\n+b")) throw new Error(diff);
 * ```
 */
export function promptDiff(
  before: PromptProgram,
  after: PromptProgram,
  opts: UnifiedDiffOptions = {},
): string {
  return unifiedDiff(promptText(before), promptText(after), opts);
}
