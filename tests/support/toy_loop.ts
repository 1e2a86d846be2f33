/**
 * A toy world for the revision-loop tests and benchmark: a custom task written to a temp
 * directory, and scripted target, critic and optimizer models that are deterministic
 * functions of the request (never of call order), so a resumed run replays identically.
 *
 * Each example hides one of three traps (or none); the target answers it right only when
 * the prompt carries the trap's rule. The critic names the trap; the optimizer adds the
 * rule of the first failure topic the prompt lacks, and stops when none is left.
 *
 * @module
 */
import { ScriptedChatModel, type ScriptedReply, type ScriptStep } from "../../lib/llm/scripted.ts";
import type { ChatRequest } from "../../lib/llm/schema.ts";
import { hashString } from "../../lib/util/random.ts";

/** The traps and the rule text that avoids each. */
export const TRAPS: Record<string, string> = {
  UNITS: "Convert every quantity to the units the question asks for.",
  ROUNDING: "Round the final answer to two decimals.",
  SIGN: "Keep the sign of losses negative.",
};
const TRAP_NAMES = Object.keys(TRAPS);
/** The critic's generic label of each trap (no word of the question, so it passes as generic). */
export const LABELS: Record<string, string> = {
  UNITS: "conversion slip",
  ROUNDING: "precision slip",
  SIGN: "polarity slip",
  HARD: "depth slip",
};
const TRAP_OF_WORD: Record<string, string> = {
  conversion: "UNITS",
  precision: "ROUNDING",
  polarity: "SIGN",
};

/** The trap of example `i` (none for every fourth; with `hard`, every seventh is unfixable). */
export function trapOf(i: number, hard = false): string | undefined {
  if (hard && i % 7 === 0) return "HARD";
  return i % 4 === 0 ? undefined : TRAP_NAMES[i % 3];
}

/** Writes a custom task (`task.json` + three JSONL splits) and returns its spec. */
export async function writeToyTask(
  dir: string,
  sizes: { train: number; dev: number; test: number },
  opts: { context?: number; hard?: boolean } = {},
): Promise<string> {
  const filler = opts.context ? "background ".repeat(opts.context) : undefined;
  let offset = 0;
  for (const split of ["train", "dev", "test"] as const) {
    const lines: string[] = [];
    for (let j = 0; j < sizes[split]; j++) {
      const i = offset + j;
      const trap = trapOf(i, opts.hard) ?? "NONE";
      lines.push(JSON.stringify({
        id: `${split}-${j}`,
        input: `Case ${i}: compute the value [trap ${trap}]`,
        answer: `answer-${i}`,
        ...(filler ? { context: filler } : {}),
      }));
    }
    offset += sizes[split];
    await Deno.writeTextFile(`${dir}/${split}.jsonl`, lines.join("\n") + "\n");
  }
  await Deno.writeTextFile(
    `${dir}/task.json`,
    JSON.stringify({
      name: "toy",
      data: ".",
      scorer: "exact",
      seedPrompt: {
        system: "You answer questions.",
        instruction: 'Answer with JSON {"reasoning", "answer", "confidence"}.',
      },
    }),
  );
  return `custom:${dir}/task.json`;
}

function lastUser(req: ChatRequest): string {
  return req.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
}

function json(value: unknown): ScriptedReply {
  return { text: JSON.stringify(value) };
}

/** The toy target: right when the prompt carries the example's rule. */
export function targetReply(req: ChatRequest): ScriptStep {
  const all = req.messages.map((m) => m.content).join("\n");
  const m = /Case (\d+): compute the value \[trap (\w+)\]/.exec(all);
  if (!m) return new Error("toy target: no case in the request");
  const [, n, trap] = m;
  const ok = trap === "NONE" || all.includes(TRAPS[trap as string] ?? "\u0000");
  if (all.includes("BREAK FORMAT")) return { text: "I refuse to answer in JSON." };
  return json({
    reasoning: `case ${n}`,
    answer: ok ? `answer-${n}` : `wrong-${n}`,
    confidence: all.includes("Be humble") ? (ok ? 0.7 : 0.3) : 0.9,
  });
}

/** The toy critic, topic extractor and topic assigner. */
export function criticReply(req: ChatRequest): ScriptStep {
  const kind = req.outputSchema?.name;
  const text = lastUser(req);
  if (kind === "critique") {
    const trap = /\[trap (\w+)\]/.exec(text)?.[1] ?? "NONE";
    const label = LABELS[trap] ?? "other slip";
    return json({
      failure_modes: [{
        label,
        definition: `The answer shows a ${label}.`,
        why: `this case invites a ${label}`,
        basis: "the predicted answer differs from the gold answer",
      }],
    });
  }
  if (kind === "topic_extraction") {
    const seen = [...new Set([...text.matchAll(/(\w+) slip:/g)].map((x) => x[1] as string))]
      .sort();
    return json({
      topics: seen.map((t) => ({
        name: `${t} slip`,
        description: `Answers show a ${t} slip.`,
        examples: [`a ${t} slip`],
      })),
    });
  }
  if (kind === "topic_assignment") {
    const topicNames = [...text.matchAll(/^(\w+ slip): /gm)].map((x) => x[1] as string);
    const assignments = [...text.matchAll(/^\[(\d+)\] (\w+) slip/gm)].map((x) => ({
      id: Number(x[1]),
      topic: topicNames.find((t) => t.startsWith(x[2] as string)) ?? topicNames[0] ?? "",
    }));
    return json({ assignments });
  }
  return new Error(`toy critic: unexpected request ${kind}`);
}

interface ToolResult {
  report: { prompt: { system: string; instruction: string }; failure_topics: { name: string }[] };
  memory: unknown;
}

function toolResult(req: ChatRequest): ToolResult | undefined {
  for (const m of req.messages) {
    if (m.role !== "tool" || m.name !== "diagnose") continue;
    const parsed = JSON.parse(m.content) as Partial<ToolResult> & { candidate?: boolean };
    if (parsed.report && !parsed.candidate) return parsed as ToolResult;
  }
  return undefined;
}

/** Behaviours of the toy optimizer. */
export interface ToyOptimizerOptions {
  /** Never call the tool (answers with text). */
  neverCallTool?: boolean;
  /** First patch of each iteration carries meta-edit text; the corrected one does not. */
  metaEditFirst?: boolean;
  /** Stop at this iteration. */
  stopAt?: number;
  /** Send malformed tool arguments first. */
  malformedArgsFirst?: boolean;
  /** In `explore`: diagnose the candidate patch before deciding. */
  exploreCandidate?: boolean;
  /** Never stop: with nothing left to fix, reword a style note (benchmarks). */
  endless?: boolean;
}

/** The toy optimizer as a script function (deterministic in the request). */
export function optimizerReply(opts: ToyOptimizerOptions = {}) {
  return (req: ChatRequest): ScriptStep => {
    if (opts.neverCallTool) return { text: "I think the prompt is fine." };
    const result = toolResult(req);
    const id = `call_${hashString(JSON.stringify(req.messages)).toString(16)}`;
    if (!result) {
      const malformed = opts.malformedArgsFirst &&
        !req.messages.some((m) => m.role === "tool");
      return {
        toolCalls: [{ id, name: "diagnose", arguments: malformed ? '{"system": ' : "{}" }],
      };
    }
    const iteration = Number(/Iteration (\d+) of/.exec(req.messages[1]?.content ?? "")?.[1]);
    if (opts.stopAt !== undefined && iteration >= opts.stopAt) {
      return json({ action: "stop", stop_reason: `told to stop at ${opts.stopAt}` });
    }
    const prompt = result.report.prompt;
    const missing = result.report.failure_topics
      .map((t) => TRAP_OF_WORD[t.name.split(" ")[0] ?? ""] ?? "")
      .find((trap) => TRAPS[trap] !== undefined && !prompt.instruction.includes(TRAPS[trap]!));
    if (missing === undefined && opts.endless) {
      const note = /Style note (\d+)\./.exec(prompt.instruction);
      const next = `Style note ${Number(note?.[1] ?? 0) + 1}.`;
      const instruction = note
        ? prompt.instruction.replace(note[0], next)
        : `${prompt.instruction}\n${next}`;
      return json({ action: "patch", patch: { instruction, rationale: `reword: ${next}` } });
    }
    if (missing === undefined) return json({ action: "stop", stop_reason: "nothing left to fix" });
    const rejected = req.messages.some((m) =>
      m.role === "user" && m.content.startsWith("Patch rejected:")
    );
    const rule = TRAPS[missing]!;
    const triedCandidate = req.messages.some((m) =>
      m.role === "tool" && m.content.includes('"candidate":true')
    );
    if (
      opts.exploreCandidate && !triedCandidate && (req.tools ?? []).length > 0 &&
      req.toolChoice === "auto"
    ) {
      return {
        toolCalls: [{
          id,
          name: "diagnose",
          arguments: { instruction: `${prompt.instruction}\n${rule}` },
        }],
      };
    }
    const instruction = opts.metaEditFirst && !rejected
      ? `[Revised instruction] ${prompt.instruction}\n${rule}`
      : `${prompt.instruction}\n${rule}`;
    return json({
      action: "patch",
      patch: { instruction, rationale: `add the ${missing.toLowerCase()} rule` },
    });
  };
}

/** The three toy models as scripted models. */
export function toyModels(opts: ToyOptimizerOptions = {}) {
  return {
    target: new ScriptedChatModel(targetReply, { model: "toy-target" }),
    critic: new ScriptedChatModel(criticReply, { model: "toy-critic" }),
    optimizer: new ScriptedChatModel(optimizerReply(opts), { model: "toy-optimizer" }),
  };
}

/** A temp dir removed by `await using`. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "rpt-loop-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}
