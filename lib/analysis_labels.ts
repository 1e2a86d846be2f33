/**
 * Readable labels of analysis topics: the reference's labelling step (one LLM call per topic
 * set instead of one per HDBSCAN topic; its output is never read by the reference's figures,
 * which show ClusterFusion's names), so the trace analyses can show short labels beside the
 * topic names that key every table.
 *
 * @module
 */
import { z } from "zod";
import type { ChatModel } from "./llm/model.ts";
import type { ChatMessage } from "./llm/schema.ts";
import { callStructured } from "./llm/structured.ts";
import { TOPIC_LABELS_SCHEMA_NAME } from "./protocol_names.ts";

const TopicLabels = z.object({
  labels: z.array(z.object({
    topic: z.string().describe("the topic's name, exactly as listed"),
    label: z.string().describe("a short readable label, 2-5 words"),
  })),
});

/**
 * Readable labels for a topic set in one LLM call (structured output `topic_labels`): topic
 * name -> label, for the names the model gave exactly as listed; a topic it left out or
 * misnamed has no label (the caller counts those).
 */
export async function labelTopics(
  model: ChatModel,
  topics: readonly { name: string; description: string }[],
  opts: { maxAttempts?: number; signal?: AbortSignal } = {},
): Promise<Record<string, string>> {
  if (topics.length === 0) return {};
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: "You give topics short, readable labels for figures: 2-5 plain words each, " +
        "distinct from one another, faithful to the description.",
    },
    {
      role: "user",
      content: `Topics:\n${
        topics.map((t) => `- ${t.name}: ${t.description}`).join("\n")
      }\n\nLabel each of the ${topics.length} topics; give its name exactly as listed.`,
    },
  ];
  const names = new Set(topics.map((t) => t.name));
  const out = await callStructured(model, messages, {
    name: TOPIC_LABELS_SCHEMA_NAME,
    schema: TopicLabels,
    maxAttempts: Math.max(1, opts.maxAttempts ?? 2),
    what: "topic labels",
    signal: opts.signal,
  }, (value) => {
    const parsed = TopicLabels.safeParse(value);
    return parsed.success
      ? { ok: true, value: parsed.data.labels }
      : { ok: false, error: z.prettifyError(parsed.error) };
  });
  const labels: Record<string, string> = {};
  for (const l of out.value ?? []) {
    const name = l.topic.trim();
    if (names.has(name) && l.label.trim() !== "" && labels[name] === undefined) {
      labels[name] = l.label.trim();
    }
  }
  return labels;
}
