/**
 * ClusterFusion (Xu et al. 2025, arXiv 2512.04350) as RPT uses it: embed the records,
 * group them with seeded k-means, show a balanced sample to an LLM that names exactly k
 * topics, let the LLM assign every record to a topic, and weigh topics by prevalence.
 *
 * Departures from the reference code, on purpose:
 * - the sample never holds the same record (or the same text) twice, where the reference
 *   samples with replacement from small groups;
 * - records are assigned in batches (default 25 a call) run concurrently, instead of one
 *   sequential call per record;
 * - a record the LLM leaves unassigned, or assigns to an unknown topic, goes to the nearest
 *   topic by embedding (the reference silently uses topic 0), and such fallbacks are counted;
 * - the topic count is exactly k: extra topics are trimmed and missing ones padded from
 *   uncovered k-means groups, and the result says which.
 *
 * Usable on any list of texts: failure diagnoses in `diagnose`, prompt edits in the trace
 * analyses.
 *
 * @module
 */
import { z } from "zod";
import type { ChatModel, Embedder } from "./llm/model.ts";
import { callStructured } from "./llm/structured.ts";
import { TOPIC_ASSIGNMENT_SCHEMA_NAME, TOPIC_EXTRACTION_SCHEMA_NAME } from "./protocol_names.ts";
import type { ChatMessage } from "./llm/schema.ts";
import { mapConcurrent } from "./util/limit.ts";
import { seededRandom, shuffled } from "./util/random.ts";

/** One topic of a full ClusterFusion result, with its counts and retention. */
export const ClusterTopic = z.object({
  name: z.string(),
  description: z.string(),
  examples: z.array(z.string()).max(8),
  /** Records assigned to the topic. */
  count: z.number().int().min(0),
  /** Sum of the impact of its records. */
  impact: z.number().min(0),
  /** 0.5 x (share of records + share of total impact). */
  prevalence: z.number().min(0).max(1),
  retained: z.boolean(),
  /** How the topic came to be: the extraction call, padding, or one record (small inputs). */
  source: z.enum(["extracted", "padded", "record"]),
});
/** One topic of a full ClusterFusion result. */
export type ClusterTopic = z.infer<typeof ClusterTopic>;

/** The full, unfiltered result of ClusterFusion, as kept in the run record. */
export const ClusterResult = z.object({
  /** Topics asked for. */
  k: z.number().int().min(1),
  /** Records clustered. */
  records: z.number().int().min(0),
  /** k-means groups used (min(2k, N, distinct vectors)); 0 when k-means did not run. */
  groups: z.number().int().min(0),
  /** k-means group of every record (empty when k-means did not run). */
  groupOf: z.array(z.number().int()),
  /** Record indices shown to the extraction call, in the order shown. */
  sample: z.array(z.number().int()),
  topics: z.array(ClusterTopic),
  /** Topic index of every record. */
  assignments: z.array(z.number().int()),
  /** Records placed on the nearest topic by embedding because the LLM did not assign them. */
  fallbacks: z.object({ count: z.number().int().min(0), records: z.array(z.number().int()) }),
  /** Names of topics added to reach k, and of topics dropped beyond k (or as duplicates). */
  padded: z.array(z.string()),
  trimmed: z.array(z.string()),
  /** Model calls made, retries included. */
  calls: z.object({
    extraction: z.number().int().min(0),
    assignment: z.number().int().min(0),
    embedding: z.number().int().min(0),
  }),
  /** Problems met along the way (failed or malformed calls), for the record. */
  errors: z.array(z.string()),
  /**
   * LLM calls (topic extraction, assignment batches) whose call failed after its retries,
   * of those made; their records fell back (padding, nearest topic), counted above.
   */
  failedCalls: z.object({ failed: z.number().int().min(0), of: z.number().int().min(0) })
    .default({ failed: 0, of: 0 }),
});
/** The full result of ClusterFusion. */
export type ClusterResult = z.infer<typeof ClusterResult>;

/** One text to cluster. */
export interface ClusterRecord {
  /** The text that is embedded and shown to the LLM (for a diagnosis: `label: definition`). */
  text: string;
  /** A concrete instance (for a diagnosis: `why`), shown next to the text in the sample. */
  example?: string;
  /** Weight in the prevalence (for a diagnosis: the failure's impact); default 1. */
  impact?: number;
}

/** Options of {@linkcode clusterFusion}. */
export interface ClusterOptions {
  /** Embeds the records (and, for fallbacks, the topics). All records go in one call. */
  embedder: Embedder;
  /** The LLM that extracts topics and assigns records. */
  model: ChatModel;
  /** Topics to extract (default 10). */
  k?: number;
  /** Seed of k-means and the sample (default 0). */
  seed?: number;
  /** Records per assignment call (default 25). */
  batchSize?: number;
  /** Assignment calls in flight (default 8). */
  concurrency?: number;
  /** Records shown to the extraction call (default 100). */
  sampleSize?: number;
  /** What the records are, for the LLM's instructions (default "failure diagnoses"). */
  subject?: string;
  /**
   * Topic descriptions the extraction asks for: one sentence (default), or comprehensive
   * (the reference's `topic_desc_mode`).
   */
  descriptions?: "sentence" | "comprehensive";
  /** Sampling temperature of the LLM calls (default 0). */
  temperature?: number;
  /** Attempts per LLM call when its output is malformed (default 2). */
  maxAttempts?: number;
  /** Called after each assignment batch. */
  onProgress?: (p: { done: number; total: number }) => void;
  /** Aborts the work. */
  signal?: AbortSignal;
}

/** Topics at or above this prevalence are retained. */
export const RETENTION_THRESHOLD = 0.1;

/** Topics retained when none reaches the threshold. */
export const FALLBACK_RETAINED = 3;
const MAX_TOPIC_EXAMPLES = 8;

/** k-means runs on at most this many dimensions (a sparse random projection beyond it). */
const KMEANS_MAX_DIMS = 256;
const SKETCH_NONZEROS = 4;
const EXAMPLE_CHARS = 200;

function topicExtraction(description: string) {
  return z.object({
    topics: z.array(z.object({
      name: z.string().describe("2-6 words, generic"),
      description: z.string().describe(description),
      examples: z.array(z.string()).max(MAX_TOPIC_EXAMPLES).describe(
        "representative records, quoted or paraphrased",
      ),
    })),
  });
}
const DESCRIPTIONS = {
  sentence: { schema: "one sentence", prompt: "a one-sentence description" },
  comprehensive: {
    schema: "a comprehensive explanation of the topic",
    prompt: "a comprehensive description (what the failures have in common, how they show in " +
      "the records, and what sets the topic apart from the others)",
  },
} as const;
const TopicExtraction = {
  sentence: topicExtraction(DESCRIPTIONS.sentence.schema),
  comprehensive: topicExtraction(DESCRIPTIONS.comprehensive.schema),
};
// Parsing is laxer than the schema sent: a missing or long example list is repaired, not retried.
const TopicExtractionLax = z.object({
  topics: z.array(z.object({
    name: z.string(),
    description: z.string().default(""),
    examples: z.array(z.string()).default([]),
  })),
});
const TopicAssignment = z.object({
  assignments: z.array(z.object({
    id: z.number().int().describe("the record id in brackets"),
    topic: z.string().describe("a topic name, exactly as listed"),
  })),
});

/**
 * Clusters `records` into exactly `k` named topics with prevalence and retention.
 *
 * With N <= k records there is nothing to summarise: each distinct record becomes its own
 * topic and no LLM or embedding call is made.
 *
 * @example
 * ```ts
 * import { clusterFusion } from "./cluster.ts";
 * import { TfidfEmbedder } from "./llm/tfidf.ts";
 * import type { ChatModel } from "./llm/model.ts";
 * const unused: ChatModel = {
 *   provider: "none", model: "none",
 *   chat: () => Promise.reject(new Error("no call expected")),
 * };
 * const result = await clusterFusion(
 *   [{ text: "wrong unit: answer in the wrong unit", impact: 1 }, { text: "overconfident: high confidence when wrong", impact: 0 }],
 *   { embedder: new TfidfEmbedder(), model: unused, k: 10 },
 * );
 * // impact share and record share: 0.5 * (1/2 + 1/1) = 0.75
 * if (result.topics[0]?.prevalence !== 0.75 || result.calls.extraction !== 0) throw new Error("unexpected");
 * ```
 */
export async function clusterFusion(
  records: readonly ClusterRecord[],
  opts: ClusterOptions,
): Promise<ClusterResult> {
  const k = opts.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const batchSize = opts.batchSize ?? 25;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const texts = records.map((r) => oneLine(r.text));
  const impacts = records.map((r) => Math.max(0, r.impact ?? 1));
  if (records.length <= k) return smallInput(k, records, texts, impacts);

  const seed = opts.seed ?? 0;
  const calls = { extraction: 0, assignment: 0, embedding: 0 };
  const errors: string[] = [];
  const ctx: CallContext = {
    model: opts.model,
    temperature: opts.temperature ?? 0,
    maxAttempts: Math.max(1, opts.maxAttempts ?? 2),
    signal: opts.signal,
    subject: opts.subject ?? "failure diagnoses",
    descriptions: opts.descriptions ?? "sentence",
  };

  calls.embedding++;
  const { vectors } = await opts.embedder.embed(texts, { signal: opts.signal });
  if (vectors.length !== texts.length) {
    throw new Error(`embedder returned ${vectors.length} vectors for ${texts.length} texts`);
  }
  const { groups, groupOf } = await kmeansGroups(vectors, Math.min(2 * k, records.length), seed);
  const sample = balancedSample(groupOf, groups, texts, opts.sampleSize ?? 100, seed);
  const ordered = orderBySimilarityToFirst(sample, vectors);

  const extracted = await extractTopics(ctx, k, ordered.map((i) => sampleLine(records, i)));
  const failedCalls = { failed: extracted.providerFailed ? 1 : 0, of: 1 };
  calls.extraction += extracted.attempts;
  if (extracted.error) errors.push(`topic_extraction: ${extracted.error}`);
  const shaped = await exactlyK(extracted.topics, k, {
    groups,
    groupOf,
    texts,
    vectors,
    embedder: opts.embedder,
    signal: opts.signal,
  });
  calls.embedding += shaped.embedCalls;

  const assignments: (number | undefined)[] = new Array(records.length).fill(undefined);
  const batches: number[][] = [];
  for (let i = 0; i < records.length; i += batchSize) {
    batches.push(range(i, Math.min(records.length, i + batchSize)));
  }
  let done = 0;
  // Kept per batch so that the record lists errors in batch order, whatever finished first.
  const batchErrors: (string | undefined)[] = batches.map(() => undefined);
  await mapConcurrent(batches, opts.concurrency ?? 8, async (batch, b) => {
    const out = await assignBatch(ctx, shaped.topics, batch.map((i) => texts[i] as string));
    calls.assignment += out.attempts;
    failedCalls.of++;
    if (out.providerFailed) failedCalls.failed++;
    if (out.error) batchErrors[b] = `topic_assignment [${batch[0]}..${batch.at(-1)}]: ${out.error}`;
    out.topicOf.forEach((topic, j) => {
      if (topic !== undefined) assignments[batch[j] as number] = topic;
    });
    opts.onProgress?.({ done: ++done, total: batches.length });
  });

  for (const e of batchErrors) if (e !== undefined) errors.push(e);
  const fallbackRecords = assignments.flatMap((t, i) => t === undefined ? [i] : []);
  if (fallbackRecords.length > 0) {
    // Topics and the records that need them are embedded together so that embedders whose
    // vectors are relative to their batch (TF-IDF) compare like with like.
    calls.embedding++;
    const topicTexts = shaped.topics.map((t) => `${t.name}: ${t.description}`);
    const { vectors: v } = await opts.embedder.embed(
      [...topicTexts, ...fallbackRecords.map((i) => texts[i] as string)],
      { signal: opts.signal },
    );
    const topicVectors = v.slice(0, topicTexts.length);
    fallbackRecords.forEach((record, j) => {
      assignments[record] = nearest(v[topicTexts.length + j] ?? [], topicVectors);
    });
  }

  const topicOf = assignments.map((t) => t ?? 0);
  return {
    k,
    records: records.length,
    groups,
    groupOf,
    sample: ordered,
    topics: weigh(shaped.topics, topicOf, impacts, records, texts),
    assignments: topicOf,
    fallbacks: { count: fallbackRecords.length, records: fallbackRecords },
    padded: shaped.padded,
    trimmed: shaped.trimmed,
    calls,
    errors,
    failedCalls,
  };
}

// ---------------------------------------------------------------------------------------------
// Small inputs

function smallInput(
  k: number,
  records: readonly ClusterRecord[],
  texts: string[],
  impacts: number[],
): ClusterResult {
  const topics: DraftTopic[] = [];
  const byName = new Map<string, number>();
  const topicOf = texts.map((text) => {
    const draft = topicFromText(text);
    const key = normalizeName(draft.name);
    const existing = byName.get(key);
    if (existing !== undefined) return existing;
    byName.set(key, topics.length);
    topics.push({ ...draft, examples: [], source: "record" });
    return topics.length - 1;
  });
  return {
    k,
    records: records.length,
    groups: 0,
    groupOf: [],
    sample: [],
    topics: weigh(topics, topicOf, impacts, records, texts),
    assignments: topicOf,
    fallbacks: { count: 0, records: [] },
    padded: [],
    trimmed: [],
    calls: { extraction: 0, assignment: 0, embedding: 0 },
    errors: [],
    failedCalls: { failed: 0, of: 0 },
  };
}

// ---------------------------------------------------------------------------------------------
// Prevalence and retention

interface DraftTopic {
  name: string;
  description: string;
  examples: string[];
  source: ClusterTopic["source"];
}

/**
 * Counts, impact, prevalence (0.5 x (record share + impact share)) and retention
 * (prevalence >= 0.10, else the top 3 non-empty topics). When no record carries impact the
 * impact share equals the record share.
 */
function weigh(
  drafts: readonly DraftTopic[],
  topicOf: readonly number[],
  impacts: readonly number[],
  records: readonly ClusterRecord[],
  texts: readonly string[],
): ClusterTopic[] {
  const n = topicOf.length;
  const counts = drafts.map(() => 0);
  const impact = drafts.map(() => 0);
  const members: number[][] = drafts.map(() => []);
  topicOf.forEach((t, i) => {
    counts[t] = (counts[t] ?? 0) + 1;
    impact[t] = (impact[t] ?? 0) + (impacts[i] ?? 0);
    members[t]?.push(i);
  });
  const totalImpact = impact.reduce((a, b) => a + b, 0);
  const topics: ClusterTopic[] = drafts.map((d, t) => {
    const share = n === 0 ? 0 : (counts[t] ?? 0) / n;
    const impactShare = totalImpact > 0 ? (impact[t] ?? 0) / totalImpact : share;
    const examples = d.examples.length > 0 ? d.examples : (members[t] ?? []).slice(0, 3).map((
      i,
    ) => records[i]?.example ?? texts[i] ?? "");
    return {
      name: d.name,
      description: d.description,
      examples: examples.slice(0, MAX_TOPIC_EXAMPLES),
      count: counts[t] ?? 0,
      impact: impact[t] ?? 0,
      prevalence: 0.5 * (share + impactShare),
      retained: false,
      source: d.source,
    };
  });
  // A tolerance so that hand-computed shares such as 0.1 are not lost to rounding.
  const qualifies = topics.filter((t) => t.count > 0 && t.prevalence >= RETENTION_THRESHOLD - 1e-9);
  const retained = qualifies.length > 0 ? qualifies : topics
    .filter((t) => t.count > 0)
    .sort((a, b) => b.prevalence - a.prevalence)
    .slice(0, FALLBACK_RETAINED);
  for (const t of retained) t.retained = true;
  return topics;
}

// ---------------------------------------------------------------------------------------------
// k-means and the sample

/**
 * Seeded k-means into at most `groups` groups (fewer when there are fewer distinct
 * vectors). Vectors are reduced first: all-zero dimensions are dropped (exact), and beyond
 * 256 dimensions a seeded sparse random projection keeps k-means fast; the seeded k-means++
 * start is computed here (ml-kmeans' own is quadratic in memory traffic) and handed to
 * ml-kmeans for the iterations.
 */
async function kmeansGroups(
  vectors: readonly number[][],
  groups: number,
  seed: number,
): Promise<{ groups: number; groupOf: number[] }> {
  const points = reduceDimensions(vectors, seed);
  const random = seededRandom(seed ^ 0x5eed);
  const starts = kmeansPlusPlus(points, groups, random);
  if (starts.length <= 1) return { groups: 1, groupOf: points.map(() => 0) };
  // Loaded here, not at start-up: ml-kmeans (and ml-matrix) cost every command ~35 ms of CPU
  // to load, and most runs' first clustering comes after their first split's calls.
  const { kmeans } = await import("ml-kmeans");
  const result = kmeans(points, starts.length, {
    initialization: starts.map((i) => [...(points[i] as number[])]),
    seed,
    maxIterations: 100,
  });
  return { groups: starts.length, groupOf: result.clusters };
}

function reduceDimensions(vectors: readonly number[][], seed: number): number[][] {
  const dims = vectors[0]?.length ?? 0;
  const used: number[] = [];
  for (let j = 0; j < dims; j++) {
    if (vectors.some((v) => (v[j] ?? 0) !== 0)) used.push(j);
  }
  if (used.length <= KMEANS_MAX_DIMS) {
    return vectors.map((v) => used.length === 0 ? [0] : used.map((j) => v[j] ?? 0));
  }
  // Each input dimension adds to a few output dimensions with a random sign (a count sketch):
  // inner products are preserved in expectation at a cost linear in the non-zeros.
  const random = seededRandom(seed ^ 0x9e3779b9);
  const buckets = used.map(() =>
    Array.from({ length: SKETCH_NONZEROS }, () => ({
      to: Math.floor(random() * KMEANS_MAX_DIMS),
      sign: random() < 0.5 ? -1 : 1,
    }))
  );
  const scale = 1 / Math.sqrt(SKETCH_NONZEROS);
  return vectors.map((v) => {
    const out = new Array<number>(KMEANS_MAX_DIMS).fill(0);
    used.forEach((j, u) => {
      const x = v[j] ?? 0;
      if (x === 0) return;
      for (const b of buckets[u] as { to: number; sign: number }[]) {
        out[b.to] = (out[b.to] as number) + b.sign * x * scale;
      }
    });
    return out;
  });
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] ?? 0);
    s += d * d;
  }
  return s;
}

/** Seeded k-means++ seeding; stops early when every point coincides with a chosen start. */
function kmeansPlusPlus(points: readonly number[][], k: number, random: () => number): number[] {
  if (points.length === 0) return [];
  const first = Math.floor(random() * points.length);
  const starts = [first];
  const dist = points.map((p) => squaredDistance(p, points[first] as number[]));
  while (starts.length < k) {
    const total = dist.reduce((a, b) => a + b, 0);
    if (!(total > 0)) break;
    let r = random() * total;
    let pick = -1;
    for (let i = 0; i < dist.length; i++) {
      const d = dist[i] as number;
      if (d <= 0) continue;
      pick = i;
      r -= d;
      if (r < 0) break;
    }
    starts.push(pick);
    const center = points[pick] as number[];
    points.forEach((p, i) => {
      const d = squaredDistance(p, center);
      if (d < (dist[i] as number)) dist[i] = d;
    });
  }
  return starts;
}

/**
 * Round-robin over the groups (members in seeded order) until `size` records are drawn or
 * every group is exhausted. A record is never drawn twice, nor a text already drawn.
 */
function balancedSample(
  groupOf: readonly number[],
  groups: number,
  texts: readonly string[],
  size: number,
  seed: number,
): number[] {
  const random = seededRandom(seed ^ 0x0c1a55);
  const members: number[][] = Array.from({ length: groups }, () => []);
  groupOf.forEach((g, i) => members[g]?.push(i));
  const queues = members.map((m) => shuffled(m, random));
  const seen = new Set<string>();
  const sample: number[] = [];
  let progressed = true;
  while (sample.length < size && progressed) {
    progressed = false;
    for (const queue of queues) {
      if (sample.length >= size) break;
      while (queue.length > 0) {
        const i = queue.shift() as number;
        const key = normalizeName(texts[i] as string);
        if (seen.has(key)) continue;
        seen.add(key);
        sample.push(i);
        progressed = true;
        break;
      }
    }
  }
  return sample;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number, y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The first record, then the rest by decreasing cosine similarity to it (ties keep order). */
function orderBySimilarityToFirst(
  sample: readonly number[],
  vectors: readonly number[][],
): number[] {
  const [first, ...rest] = sample;
  if (first === undefined) return [];
  const anchor = vectors[first] as number[];
  const sim = new Map(rest.map((i) => [i, cosine(anchor, vectors[i] as number[])]));
  return [first, ...rest.sort((a, b) => (sim.get(b) as number) - (sim.get(a) as number))];
}

function nearest(vector: readonly number[], candidates: readonly number[][]): number {
  let best = 0, bestSim = -Infinity;
  candidates.forEach((c, i) => {
    const s = cosine(vector, c);
    if (s > bestSim) {
      best = i;
      bestSim = s;
    }
  });
  return best;
}

// ---------------------------------------------------------------------------------------------
// Exactly k topics

interface Geometry {
  groups: number;
  groupOf: readonly number[];
  texts: readonly string[];
  vectors: readonly number[][];
  embedder: Embedder;
  signal?: AbortSignal;
}

type ExtractedTopic = { name: string; description: string; examples: string[] };

/**
 * Keeps the first k distinct, non-empty topics (the rest are trimmed) and pads up to k with
 * topics named after the central record of a k-means group: each time the group whose
 * central record is least similar to the topics so far (farthest-first, larger groups on
 * ties), so padding covers what the extraction missed. Padding embeds the topics and the
 * candidates in one extra call.
 */
async function exactlyK(
  extracted: readonly ExtractedTopic[],
  k: number,
  geo: Geometry,
): Promise<{ topics: DraftTopic[]; padded: string[]; trimmed: string[]; embedCalls: number }> {
  const topics: DraftTopic[] = [];
  const trimmed: string[] = [];
  const names = new Set<string>();
  for (const t of extracted) {
    const name = cleanTopicName(t.name);
    const key = normalizeName(name);
    if (key === "" || names.has(key) || topics.length >= k) {
      trimmed.push(t.name);
      continue;
    }
    names.add(key);
    topics.push({
      name,
      description: oneLine(t.description),
      examples: t.examples.map(oneLine).filter((e) => e !== "").slice(0, MAX_TOPIC_EXAMPLES),
      source: "extracted",
    });
  }
  const padded: string[] = [];
  if (topics.length >= k) return { topics, padded, trimmed, embedCalls: 0 };

  const candidates = padCandidates(geo).map((c) => ({
    ...c,
    ...topicFromText(geo.texts[c.record] as string),
  }))
    .filter((c) => normalizeName(c.name) !== "");
  const topicTexts = topics.map((t) => `${t.name}: ${t.description}`);
  const { vectors } = await geo.embedder.embed(
    [...topicTexts, ...candidates.map((c) => geo.texts[c.record] as string)],
    { signal: geo.signal },
  );
  const chosen = vectors.slice(0, topicTexts.length);
  const remaining = candidates.map((c, j) => ({
    ...c,
    vector: vectors[topicTexts.length + j] ?? [],
  }));
  while (topics.length < k && remaining.length > 0) {
    let best = 0, bestSim = Infinity;
    remaining.forEach((c, j) => {
      const sim = chosen.reduce((m, v) => Math.max(m, cosine(c.vector, v)), -Infinity);
      const s = chosen.length === 0 ? 0 : sim;
      if (s < bestSim - 1e-12) {
        best = j;
        bestSim = s;
      }
    });
    const [pick] = remaining.splice(best, 1);
    if (pick === undefined) break;
    const key = normalizeName(pick.name);
    if (names.has(key)) continue;
    names.add(key);
    chosen.push(pick.vector);
    topics.push({ name: pick.name, description: pick.description, examples: [], source: "padded" });
    padded.push(pick.name);
  }
  for (let i = 1; topics.length < k; i++) {
    const name = `Other ${alphabeticLabel(i)}`;
    topics.push({
      name,
      description: "Records no other topic covers.",
      examples: [],
      source: "padded",
    });
    padded.push(name);
  }
  return { topics, padded, trimmed, embedCalls: 1 };
}

/** The central record of every non-empty group, largest group first. */
function padCandidates(geo: Geometry): { record: number; size: number }[] {
  const members: number[][] = Array.from({ length: geo.groups }, () => []);
  geo.groupOf.forEach((g, i) => members[g]?.push(i));
  return members.map((m, g) => ({ m, g })).filter((x) => x.m.length > 0)
    .sort((a, b) => b.m.length - a.m.length || a.g - b.g)
    .map(({ m }) => {
      const dims = geo.vectors[m[0] as number]?.length ?? 0;
      const mean = new Array<number>(dims).fill(0);
      for (const i of m) {
        (geo.vectors[i] as number[]).forEach((x, d) => mean[d] = (mean[d] as number) + x);
      }
      return {
        record: m[nearest(mean, m.map((i) => geo.vectors[i] as number[]))] as number,
        size: m.length,
      };
    });
}

function alphabeticLabel(i: number): string {
  let s = "";
  for (let n = i; n > 0; n = Math.floor((n - 1) / 26)) {
    s = String.fromCharCode(97 + (n - 1) % 26) + s;
  }
  return s;
}

/** `label: definition` becomes name `label`, description `definition`. */
function topicFromText(text: string): { name: string; description: string } {
  const colon = text.indexOf(":");
  if (colon > 0 && colon < 80) {
    const name = cleanTopicName(text.slice(0, colon));
    const rest = text.slice(colon + 1).trim();
    return { name, description: rest === "" ? text : rest };
  }
  return { name: cleanTopicName(phraseName(text)), description: text };
}

const TRAILING_WORDS = new Set(
  "a an the of to for with against in on at by and or but that which as from into about".split(
    " ",
  ),
);

/**
 * A topic name from a text without a `label:` part: its first words, cut where a phrase
 * ends. A quotation is kept whole when it closes within `longest` words and left out
 * otherwise (never an unbalanced quote), and a cut name does not end on a function word.
 *
 * @example
 * ```ts
 * import { phraseName } from "./cluster.ts";
 * const n = phraseName('add - add an instruction against "answers the intermediate bridge entity" when it asks');
 * if (n !== 'add - add an instruction against "answers the intermediate bridge entity"') throw new Error(n);
 * const m = phraseName('tighten - require "a very long quoted phrase that goes on and on without an end in sight"');
 * if (m !== "tighten - require") throw new Error(m);
 * ```
 */
export function phraseName(text: string, words = 8, longest = 12): string {
  const all = text.split(/\s+/).filter((w) => w !== "");
  if (all.length <= words) return all.join(" ");
  let end = words;
  const quotes = (ws: readonly string[]) => ws.join(" ").split('"').length - 1;
  if (quotes(all.slice(0, end)) % 2 === 1) {
    // Inside a quotation: run on to its end, or stop before it.
    let close = end;
    while (close < Math.min(all.length, longest) && quotes(all.slice(0, close)) % 2 === 1) close++;
    if (quotes(all.slice(0, close)) % 2 === 0) end = close;
    else {
      while (end > 0 && quotes(all.slice(0, end)) % 2 === 1) end--;
    }
  }
  let cut = all.slice(0, end);
  if (end < all.length) {
    cut = cut.map((w, i) => (i === cut.length - 1 ? w.replace(/[,;]+$/, "") : w));
    while (cut.length > 1 && TRAILING_WORDS.has((cut.at(-1) ?? "").toLowerCase())) cut.pop();
  }
  return cut.join(" ");
}

// Names are listed as `name: description` in the assignment call, so a colon would be ambiguous.
function cleanTopicName(name: string): string {
  return oneLine(name).replaceAll(":", " -").replace(/\s+/g, " ").trim();
}

function normalizeName(name: string): string {
  return name.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function sampleLine(records: readonly ClusterRecord[], i: number): string {
  const record = records[i] as ClusterRecord;
  const text = oneLine(record.text);
  const example = record.example ? oneLine(record.example) : "";
  if (example === "") return text;
  const short = example.length > EXAMPLE_CHARS ? `${example.slice(0, EXAMPLE_CHARS)}...` : example;
  return `${text} (example: ${short})`;
}

// ---------------------------------------------------------------------------------------------
// LLM calls

interface CallContext {
  model: ChatModel;
  temperature: number;
  maxAttempts: number;
  signal?: AbortSignal;
  subject: string;
  descriptions: "sentence" | "comprehensive";
}

function callOptions(ctx: CallContext) {
  return { maxAttempts: ctx.maxAttempts, temperature: ctx.temperature, signal: ctx.signal };
}

async function extractTopics(
  ctx: CallContext,
  k: number,
  lines: readonly string[],
): Promise<{
  topics: z.infer<typeof TopicExtractionLax>["topics"];
  attempts: number;
  error?: string;
  providerFailed?: boolean;
}> {
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: `You organise ${ctx.subject} into recurring topics. A topic has a short, ` +
        `generic name (2-6 words, no entity names, numbers or dates), ` +
        `${DESCRIPTIONS[ctx.descriptions].prompt}, and up to ${MAX_TOPIC_EXAMPLES} ` +
        `representative examples taken from the records. Topics should be distinct and ` +
        `together cover the records.`,
    },
    {
      role: "user",
      content: `Find exactly ${k} topics in these ${lines.length} records.\n\nRecords:\n` +
        lines.map((line, n) => `[${n + 1}] ${line}`).join("\n") +
        `\n\nReturn exactly ${k} topics.`,
    },
  ];
  const out = await callStructured(ctx.model, messages, {
    ...callOptions(ctx),
    name: TOPIC_EXTRACTION_SCHEMA_NAME,
    schema: TopicExtraction[ctx.descriptions],
  }, (v) => {
    const parsed = TopicExtractionLax.safeParse(v);
    if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error) };
    if (parsed.data.topics.length === 0) return { ok: false, error: "no topics" };
    return { ok: true, value: parsed.data.topics };
  });
  return {
    topics: out.value ?? [],
    attempts: out.attempts,
    error: out.error,
    providerFailed: out.providerFailed,
  };
}

/**
 * Assigns one batch. Ids are 1-based within the batch; a topic name is matched exactly,
 * else after normalising case and punctuation. Records left unmatched come back undefined.
 */
async function assignBatch(
  ctx: CallContext,
  topics: readonly DraftTopic[],
  texts: readonly string[],
): Promise<
  { topicOf: (number | undefined)[]; attempts: number; error?: string; providerFailed?: boolean }
> {
  const exact = new Map(topics.map((t, i) => [t.name, i]));
  const loose = new Map(topics.map((t, i) => [normalizeName(t.name), i]));
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: `You assign ${ctx.subject} to topics. Every record gets exactly one topic, ` +
        `named exactly as listed.`,
    },
    {
      role: "user",
      content: `Topics:\n${topics.map((t) => `${t.name}: ${t.description}`).join("\n")}\n\n` +
        `Records:\n${texts.map((t, j) => `[${j + 1}] ${t}`).join("\n")}\n\n` +
        `Assign each of the ${texts.length} records (ids 1-${texts.length}) to one topic.`,
    },
  ];
  const out = await callStructured(ctx.model, messages, {
    ...callOptions(ctx),
    name: TOPIC_ASSIGNMENT_SCHEMA_NAME,
    schema: TopicAssignment,
  }, (v) => {
    const parsed = TopicAssignment.safeParse(v);
    return parsed.success
      ? { ok: true, value: parsed.data.assignments }
      : { ok: false, error: z.prettifyError(parsed.error) };
  });
  const topicOf: (number | undefined)[] = texts.map(() => undefined);
  for (const a of out.value ?? []) {
    const j = a.id - 1;
    if (j < 0 || j >= texts.length || topicOf[j] !== undefined) continue;
    topicOf[j] = exact.get(a.topic.trim()) ?? loose.get(normalizeName(a.topic));
  }
  return { topicOf, attempts: out.attempts, error: out.error, providerFailed: out.providerFailed };
}
