/**
 * The simulator's answer to `patch_edits` requests of the trace analyses (`lib/analysis.ts`):
 * it rewrites the change from an old prompt to a new one as 3-12 atomic edits
 * `{change_type, edit, evidence}`.
 *
 * It reads the two prompts from the `<old_prompt>` and `<new_prompt>` blocks of the user
 * message and diffs their lines itself. Each added line is matched to the simulated trap (or
 * common behaviour) it addresses: by being one of the optimizer's own instructions for it,
 * else by the trap's fix phrasings, else by the critic's vocabulary. The edit names that
 * behaviour's topic, so edits for one trap read alike and cluster together, and quotes the
 * line itself as evidence (always a real substring of the new prompt). A line that replaces
 * a vague line for the same behaviour is a `tighten`; a removed line with no replacement is a
 * `relax`. Small diffs are split into clause-level edits, then padded with placement edits,
 * to reach the 3 edits the request asks for.
 *
 * Like a real model it sometimes paraphrases a quote: for {@linkcode INVENTED_EVIDENCE_RATE}
 * of requests (seeded by the prompts) one extra edit carries evidence that is not in the new
 * prompt, which the analysis must drop and count.
 *
 * @module
 */
import type { ChatRequest, ChatResponse } from "../llm/schema.ts";
import { hashUnit } from "../util/random.ts";
import { simResponse } from "./respond.ts";
import { addresses, BASE_ERROR, type Behaviour, BEHAVIOURS, classifyText } from "./traps.ts";

/** Share of requests whose answer includes one edit with a paraphrased (invented) quote. */
export const INVENTED_EVIDENCE_RATE = 0.15;

/** One atomic edit, as the `patch_edits` structured output carries it. */
export interface SimPatchEdit {
  change_type: "add" | "tighten" | "relax" | "refactor";
  edit: string;
  evidence: string;
}

const MIN_EDITS = 3;
const MAX_EDITS = 12;
const MAX_EVIDENCE_CHARS = 160;

function block(text: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>\\n?([\\s\\S]*?)\\n?</${tag}>`).exec(text);
  return m?.[1];
}

/** Content lines of a rendered prompt: trimmed, non-empty, field headers (`[system]`) left out. */
function contentLines(rendered: string): string[] {
  return rendered.split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !/^\[[A-Za-z_][\w-]*\]$/.test(l)
  );
}

/** Lines of `a` not matched by a line of `b` (a multiset difference, order kept). */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const l of b) left.set(l, (left.get(l) ?? 0) + 1);
  return a.filter((l) => {
    const n = left.get(l) ?? 0;
    if (n === 0) return true;
    left.set(l, n - 1);
    return false;
  });
}

const ALL: readonly Behaviour[] = [...BEHAVIOURS, BASE_ERROR];

/** The behaviour a prompt line is about, or undefined when it addresses none. */
export function behaviourOfLine(line: string): Behaviour | undefined {
  const own = ALL.find((b) => b.instructions.includes(line) || b.weakInstructions.includes(line));
  if (own !== undefined) return own;
  const fixed = BEHAVIOURS.find((b) => addresses(line, b));
  if (fixed !== undefined) return fixed;
  const named = classifyText(line);
  return named === BASE_ERROR ? undefined : named;
}

/** A quote of `line` short enough to be evidence: its first sentence or a word-bounded prefix. */
function quote(line: string): string {
  const sentence = /^(.{12,}?[.!?])(\s|$)/.exec(line)?.[1] ?? line;
  if (sentence.length <= MAX_EVIDENCE_CHARS) return sentence;
  const cut = sentence.slice(0, MAX_EVIDENCE_CHARS);
  const space = cut.lastIndexOf(" ");
  return space > 40 ? cut.slice(0, space) : cut;
}

function topicPhrase(b: Behaviour): string {
  return b === BASE_ERROR ? "careless reasoning slips" : `"${b.topic.toLowerCase()}"`;
}

/** Clauses of an instruction worth an edit of their own (at least three words each). */
function clauses(line: string): string[] {
  return line.split(/:\s+|;\s+|,\s+(?:then|and|but)\s+|\s+then\s+|\s+\(|\)\s*/)
    .map((c) => c.trim().replace(/[.,]$/, ""))
    .filter((c) => c.split(/\s+/).length >= 3);
}

interface Change {
  line: string;
  behaviour: Behaviour | undefined;
  replaced: string[];
}

/** The atomic edits for the change from `oldText` to `newText` (rendered prompts). */
export function patchEditsFor(oldText: string, newText: string): SimPatchEdit[] {
  const oldLines = contentLines(oldText);
  const newLines = contentLines(newText);
  const added = minus(newLines, oldLines);
  const removed = minus(oldLines, newLines);
  const unpaired = new Set(removed);
  const changes: Change[] = added.map((line) => {
    const behaviour = behaviourOfLine(line);
    const replaced = behaviour === undefined
      ? []
      : removed.filter((r) => unpaired.has(r) && behaviourOfLine(r) === behaviour);
    for (const r of replaced) unpaired.delete(r);
    return { line, behaviour, replaced };
  });

  const edits: SimPatchEdit[] = [];
  for (const c of changes) {
    const about = c.behaviour === undefined ? "" : ` against ${topicPhrase(c.behaviour)}`;
    edits.push(
      c.replaced.length > 0
        ? {
          change_type: "tighten",
          edit: `Replace the vague line "${
            c.replaced.join(" ")
          }" with a specific instruction${about}.`,
          evidence: quote(c.line),
        }
        : { change_type: "add", edit: `Add an instruction${about}.`, evidence: quote(c.line) },
    );
  }
  for (const r of unpaired) {
    // A deleted line cannot be quoted from the new prompt: the line now in its place is.
    const at = oldLines.indexOf(r);
    const neighbour = oldLines.slice(at + 1).find((l) => newLines.includes(l)) ?? newLines[0];
    if (neighbour === undefined) continue;
    const b = behaviourOfLine(r);
    edits.push({
      change_type: "relax",
      edit: `Remove the instruction "${r}"${b === undefined ? "" : ` about ${topicPhrase(b)}`}.`,
      evidence: quote(neighbour),
    });
  }
  // Small diffs: one edit per further clause of each new instruction, then placement edits.
  for (const c of changes) {
    if (edits.length >= MIN_EDITS) break;
    for (const clause of clauses(c.line).slice(1)) {
      if (edits.length >= MIN_EDITS) break;
      const about = c.behaviour === undefined ? "" : ` to avoid ${topicPhrase(c.behaviour)}`;
      edits.push({
        change_type: "tighten",
        edit: `Spell out a condition${about}.`,
        evidence: clause,
      });
    }
  }
  const placements = [
    (about: string) => `Place the new instruction${about} with the other answer rules.`,
    (about: string) => `Leave the rest of the prompt as it was beside the instruction${about}.`,
  ];
  for (const place of placements) {
    const c = changes[0];
    if (edits.length >= MIN_EDITS || c === undefined) break;
    const about = c.behaviour === undefined ? "" : ` against ${topicPhrase(c.behaviour)}`;
    edits.push({ change_type: "refactor", edit: place(about), evidence: quote(c.line) });
  }
  return edits.slice(0, MAX_EDITS);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The simulated answer to a `patch_edits` request.
 *
 * @example
 * ```ts
 * import { answerPatchEdits } from "./patch_edits.ts";
 * const rule = "Round the final numeric answer to two decimal places (hundredths), e.g. 8.3333 -> 8.33.";
 * const res = answerPatchEdits({
 *   messages: [{
 *     role: "user",
 *     content: `<old_prompt>\n[instruction]\nSolve it.\n</old_prompt>\n` +
 *       `<new_prompt>\n[instruction]\nSolve it.\n${rule}\n</new_prompt>`,
 *   }],
 *   outputSchema: { name: "patch_edits", schema: {} },
 * });
 * const edits = (res.parsed as { edits: { change_type: string; edit: string }[] }).edits;
 * if (edits.length < 3 || edits[0]?.change_type !== "add") throw new Error("unexpected");
 * if (!edits[0].edit.includes("not rounded to hundredths")) throw new Error("trap not named");
 * ```
 */
export function answerPatchEdits(request: ChatRequest, model = "sim-critic"): ChatResponse {
  const user = [...request.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const oldText = block(user, "old_prompt") ?? "";
  const newText = block(user, "new_prompt") ?? "";
  const edits = patchEditsFor(oldText, newText);
  const first = edits.find((e) => e.change_type === "add" || e.change_type === "tighten");
  if (
    first !== undefined && edits.length < MAX_EDITS &&
    hashUnit("sim-patch-invented", oldText, newText) < INVENTED_EVIDENCE_RATE
  ) {
    edits.push({
      change_type: "refactor",
      edit: `Restate the new instruction more firmly.`,
      evidence: `Always ${lowerFirst(first.evidence)}`,
    });
  }
  return simResponse(model, request, { parsed: { edits } });
}
