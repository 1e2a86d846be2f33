/**
 * The simulated critic: answers the three structured-output requests of the diagnostic
 * function (CONTRACTS: `critique`, `topic_extraction`, `topic_assignment`).
 *
 * - `critique`: it places the example, works out which trap the predicted answer fell
 *   into (the trap whose wrong answer it is), and names it in one of several wordings;
 *   a wrong answer stated with confidence >= 0.8 is also flagged as confidently wrong
 *   (for {@linkcode CONFIDENCE_FLAG_RATE} of them, seeded per example).
 * - `topic_extraction` / `topic_assignment`: it recognises its own vocabulary in the
 *   records, so diagnoses of one trap land in one topic.
 *
 * @module
 */
import { hashUnit } from "../util/random.ts";
import type { FailureMode } from "../critique.ts";
import type { ExampleIndex, SimExample } from "./examples.ts";
import { BASE_ERROR, type Behaviour, CALIBRATION, classifyText, trapsFor } from "./traps.ts";

/** Share of wrong answers stated with confidence >= 0.8 that the critic flags as such. */
export const CONFIDENCE_FLAG_RATE = 0.45;

const LABELS = [
  "Question",
  "Context",
  "Gold answer",
  "Predicted answer",
  "Reasoning",
  "Stated confidence",
  "Score",
];

/** The labelled sections of a critic request (`Question:`, `Gold answer:` ...). */
export function parseSections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current: string | undefined;
  for (const line of text.split("\n")) {
    const label = LABELS.find((l) => line.startsWith(`${l}:`));
    if (label !== undefined) {
      current = label;
      out[label] = line.slice(label.length + 1).trim();
    } else if (current !== undefined) {
      out[current] = `${out[current]}\n${line}`;
    }
  }
  for (const key of Object.keys(out)) out[key] = (out[key] ?? "").trim();
  return out;
}

function norm(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}.\- ]/gu, " ").replace(/\s+/g, " ").trim();
}

function pick<T>(items: readonly T[], ...key: (string | number)[]): T {
  return items[Math.floor(hashUnit(...key) * items.length)] as T;
}

function clip(text: string, n: number): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 3)}...` : t;
}

/** Which behaviour explains a wrong prediction on an example the simulator does not know. */
function guessBehaviour(gold: string, predicted: string): Behaviour {
  const g = Number(gold.replaceAll(",", ""));
  const p = Number(predicted.replaceAll(",", ""));
  if (gold.trim() !== "" && predicted.trim() !== "" && Number.isFinite(g) && Number.isFinite(p)) {
    if (p !== 0 && g !== 0) {
      const ratio = Math.abs(g / p);
      for (const [scale, id] of [[1e3, "scale"], [1e6, "scale"], [1e9, "scale"], [100, "pct"]]) {
        if (
          Math.abs(ratio - (scale as number)) / (scale as number) < 1e-6 ||
          Math.abs(1 / ratio - (scale as number)) / (scale as number) < 1e-6
        ) {
          return classifyText(id === "pct" ? "percent fraction" : "scale million units") ??
            BASE_ERROR;
        }
      }
    }
  }
  if (/^(yes|no)$/i.test(gold.trim()) && !/^(yes|no)$/i.test(predicted.trim())) {
    return classifyText("yes/no polar") ?? BASE_ERROR;
  }
  if (norm(predicted).includes(norm(gold)) && norm(predicted) !== norm(gold)) {
    return classifyText("span too long extra words") ?? BASE_ERROR;
  }
  return BASE_ERROR;
}

function explain(
  behaviour: Behaviour,
  ex: SimExample | undefined,
  sections: Record<string, string>,
  seed: number,
): FailureMode {
  const id = ex?.id ?? sections.Question ?? "";
  const predicted = sections["Predicted answer"] ?? "";
  const gold = sections["Gold answer"] ?? "";
  return {
    label: pick(behaviour.labels, seed, "label", behaviour.id, id),
    definition: pick(behaviour.definitions, seed, "definition", behaviour.id, id),
    why: `Predicted "${clip(predicted, 80)}" where the expected answer is "${clip(gold, 80)}".`,
    basis: `Reasoning: "${clip(sections.Reasoning ?? "", 140)}"`,
  };
}

/**
 * The critic's failure modes for one failure (CONTRACTS `critique`).
 */
export function critique(
  userText: string,
  index: ExampleIndex,
  seed: number,
): { failure_modes: FailureMode[] } {
  const sections = parseSections(userText);
  const ex = index.find(userText);
  const predicted = sections["Predicted answer"] ?? "";
  const gold = sections["Gold answer"] ?? ex?.answer ?? "";
  let behaviour: Behaviour | undefined;
  if (ex !== undefined) {
    const p = norm(predicted);
    behaviour = trapsFor(ex).find((t) => norm(t.wrong.answer) === p)?.trap;
  }
  behaviour ??= guessBehaviour(gold, predicted);
  const modes = [explain(behaviour, ex, sections, seed)];
  const confidence = Number(sections["Stated confidence"]);
  // Not every confidently wrong answer gets the extra mode: a critic that flagged all of
  // them would bury the answer-changing topics under one calibration topic.
  if (
    Number.isFinite(confidence) && confidence >= 0.8 &&
    hashUnit(seed, "flag-confidence", ex?.id ?? predicted) < CONFIDENCE_FLAG_RATE
  ) {
    modes.push(explain(CALIBRATION, ex, sections, seed));
  }
  if (behaviour !== BASE_ERROR && hashUnit(seed, "extra-slip", ex?.id ?? predicted) < 0.15) {
    modes.push(explain(BASE_ERROR, ex, sections, seed));
  }
  return { failure_modes: modes.slice(0, 3) };
}

/** Records listed one per line as `[<n>] <text>`. */
export function parseRecords(text: string): { id: number; text: string }[] {
  const out: { id: number; text: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*\[(\d+)\]\s*(.*)$/.exec(line);
    if (m?.[1] !== undefined) out.push({ id: Number(m[1]), text: m[2] ?? "" });
  }
  return out;
}

function requestedK(text: string): number | undefined {
  const m = /\bk\s*=\s*(\d+)/i.exec(text) ?? /exactly\s+(\d+)\s+topics/i.exec(text) ??
    /(\d+)\s+topics/i.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * Topics for the sampled records (CONTRACTS `topic_extraction`): one topic per behaviour
 * found, most frequent first, at most k.
 */
export function extractTopics(
  userText: string,
): { topics: { name: string; description: string; examples: string[] }[] } {
  const records = parseRecords(userText);
  const k = requestedK(userText) ?? 10;
  const groups = new Map<Behaviour, string[]>();
  for (const r of records) {
    const b = classifyText(r.text) ?? BASE_ERROR;
    const list = groups.get(b) ?? [];
    list.push(r.text);
    groups.set(b, list);
  }
  const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  return {
    topics: ordered.slice(0, Math.max(1, k)).map(([b, texts]) => ({
      name: b.topic,
      description: b.description,
      examples: texts.slice(0, 8).map((t) => clip(t, 200)),
    })),
  };
}

/** Topics listed as `name: description` lines before the records. */
export function parseTopicLines(text: string): { name: string; description: string }[] {
  const out: { name: string; description: string }[] = [];
  for (const line of text.split("\n")) {
    if (/^\s*\[\d+\]/.test(line)) break;
    const m = /^\s*(?:[-*•]|\d+[.)])?\s*([^:]{2,100}?):\s+(\S.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      out.push({ name: m[1].trim().replace(/^\*\*|\*\*$/g, ""), description: m[2].trim() });
    }
  }
  return out;
}

function overlap(a: string, b: string): number {
  const words = new Set(norm(a).split(" ").filter((w) => w.length > 3));
  return norm(b).split(" ").filter((w) => words.has(w)).length;
}

/**
 * Assigns every record to one listed topic (CONTRACTS `topic_assignment`): the topic of
 * the same behaviour when there is one, else the topic with the most shared words.
 */
export function assignTopics(userText: string): { assignments: { id: number; topic: string }[] } {
  const topics = parseTopicLines(userText);
  const records = parseRecords(userText);
  const topicBehaviour = topics.map((t) => classifyText(`${t.name}: ${t.description}`));
  return {
    assignments: records.map((r) => {
      const b = classifyText(r.text) ?? BASE_ERROR;
      let at = topicBehaviour.findIndex((tb) => tb === b);
      if (at < 0) {
        let best = -1;
        topics.forEach((t, i) => {
          const score = overlap(`${t.name} ${t.description}`, r.text);
          if (score > best) {
            best = score;
            at = i;
          }
        });
      }
      return { id: r.id, topic: topics[at]?.name ?? topics[0]?.name ?? BASE_ERROR.topic };
    }),
  };
}

/**
 * Readable labels for the topics of a `topic_labels` request: each listed topic (`- name:
 * description`) gets its name's first four words, capitalised.
 *
 * @example
 * ```ts
 * import { labelTopics } from "./critic.ts";
 * const out = labelTopics("Topics:\n- wrong unit of the answer given: d\n- rounding: e");
 * if (out.labels[0]?.label !== "Wrong unit of the") throw new Error(JSON.stringify(out));
 * ```
 */
export function labelTopics(userText: string): { labels: { topic: string; label: string }[] } {
  const labels = userText.split("\n").flatMap((line) => {
    const m = /^- (.+?): /.exec(line);
    if (!m) return [];
    const topic = m[1] as string;
    const words = topic.split(/\s+/).slice(0, 4).join(" ");
    return [{ topic, label: `${words[0]?.toUpperCase() ?? ""}${words.slice(1)}` }];
  });
  return { labels };
}
