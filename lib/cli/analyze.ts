/**
 * `rpt analyze`: the trace analyses (paper section 4.3) of one or several runs.
 *
 * ```
 * rpt analyze RUN_DIR... [--k 10] [--model SPEC] [--embedder SPEC] [--presence retained|all]
 *             [--seed S] [--concurrency C] [--bootstrap N] [--out DIR] [--json]
 * ```
 *
 * The LLM and embedder default to the first run's own critic (else optimizer) and embedder
 * specs, so a simulated run is analysed by the simulator and a real run with the models the
 * user chose for it. Real providers go through the response cache the run used (else the
 * default one), so a second analysis pays for nothing. The JSON lands in `<run>/analysis/`
 * for one run, and in `<first run>/analysis/pooled-<names>/` for several (or `--out`). The
 * tables are printed labelled SIMULATED when the simulator was involved.
 *
 * @module
 */
import { basename, join } from "node:path";
import {
  type AnalysisProgress,
  analysisToMarkdown,
  analyzeRuns,
  writeAnalysis,
} from "../analysis.ts";
import { defaultCachePath, SqliteResponseCache } from "../llm/cache.ts";
import type { ChatModel, Embedder } from "../llm/model.ts";
import { createChatModel, createEmbedder, specsAreSimulated } from "../llm/spec.ts";
import { wrapChatModel, wrapEmbedder } from "../llm/wrap.ts";
import { loadRun, type RunRecord } from "../run/reader.ts";
import { Preset } from "../run/config.ts";
import { getTask } from "../tasks/registry.ts";
import type { Metrics } from "../tasks/schema.ts";
import { taskHeadline } from "../tasks/task.ts";
import { ConfigError } from "../util/errors.ts";
import { flagHelp, integerFlag, parseCommandArgs, positiveIntFlag } from "./args.ts";
import { hint } from "./hints.ts";

const HELP = `usage: rpt analyze RUN_DIR... [--preset paper] [--k 10] [--model SPEC]
                   [--embedder SPEC] [--presence retained|all|every]
                   [--delta-metric score|headline] [--[no-]labels] [--seed S]
                   [--concurrency C] [--bootstrap N] [--out DIR] [--json]

  RUN_DIR...             one or more run directories; several are pooled
  --preset P            paper (or reference-cli): the reference's analyses: presence every,
                        deltas of the task's headline (HotPotQA EM), topic labels,
                        ClusterFusion's model; the default for runs made with a preset
  --k N                 topics per corpus (default 10)
  --model SPEC          LLM for the patch edits and topics (default: the run's
                        critic/optimizer; under a preset its cluster model)
  --embedder SPEC       embedder for ClusterFusion (default: the run's embedder)
  --presence P          failure topics present at a step: retained (default), all (with a
                        diagnosis) or every (every topic of the step, as the reference)
  --delta-metric M      the next-step change of: score (default) or headline (the task's
                        headline)
  --[no-]labels         one extra LLM call per topic set for readable topic labels
${flagHelp("seed", ": clustering, bootstrap (default: the\nfirst run's seed)")}
${flagHelp("concurrency", " (default 4)")}
  --bootstrap N         bootstrap resamples of the delta intervals (default 1000)
  --out DIR             output directory (default <run>/analysis, or
                        <first run>/analysis/pooled-...)
${flagHelp("json", ": the result, not the tables")}`;

/** The default output directory for the analysed runs. */
export function defaultOutDir(runs: readonly RunRecord[]): string {
  const first = runs[0];
  if (first === undefined) throw new ConfigError("no run directory given");
  if (runs.length === 1) return join(first.dir, "analysis");
  const names = runs.map((r) => basename(r.dir)).join("+");
  const short = names.length > 80 ? `${runs.length}-runs` : names;
  return join(first.dir, "analysis", `pooled-${short}`);
}

/** The task's headline figure as the delta metric (HotPotQA: EM), by the run's task name. */
async function headlineMetric(
  run: RunRecord,
): Promise<{ name: string; of: (m: Metrics) => number }> {
  const task = await getTask(
    run.config.task,
    run.config.taskProtocol === "reference" ? { protocol: "reference" } : {},
  );
  return {
    name: `headline: ${taskHeadline(task, metricsProbe).name}`,
    of: (m) => taskHeadline(task, m).value,
  };
}

// Metrics only to read a headline's name.
const metricsProbe: Metrics = {
  n: 0,
  parsed: 0,
  score: 0,
  fullCredit: 0,
  avgConfidence: null,
  brier: null,
  ece: null,
  formatErrorRate: 0,
  errorRate: 0,
  perSubtask: {},
  extra: {},
};

/** Runs `rpt analyze`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      k: { type: "string" },
      model: { type: "string" },
      embedder: { type: "string" },
      presence: { type: "string" },
      preset: { type: "string" },
      "delta-metric": { type: "string" },
      labels: { type: "boolean" },
      "no-labels": { type: "boolean" },
      seed: { type: "string" },
      concurrency: { type: "string" },
      bootstrap: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }, `\n\n${HELP}`);
  if (values.help) {
    console.log(hint(HELP));
    return 0;
  }
  if (positionals.length === 0) throw new ConfigError(`no run directory given\n\n${HELP}`);
  const runs: RunRecord[] = [];
  for (const dir of positionals) runs.push(await loadRun(dir, { records: true }));
  const first = runs[0] as RunRecord;
  const preset = values.preset ?? first.config.preset;
  if (preset !== undefined && !Preset.safeParse(preset).success) {
    throw new ConfigError(`--preset: expected ${Preset.options.join(" or ")}, got "${preset}"`);
  }
  const reference = preset !== undefined;
  const presence = values.presence ?? (reference ? "every" : "retained");
  if (presence !== "retained" && presence !== "all" && presence !== "every") {
    throw new ConfigError(`--presence: expected retained, all or every, got "${presence}"`);
  }
  const deltaName = values["delta-metric"] ?? (reference ? "headline" : "score");
  if (deltaName !== "score" && deltaName !== "headline") {
    throw new ConfigError(`--delta-metric: expected score or headline, got "${deltaName}"`);
  }
  if (values.labels && values["no-labels"]) {
    throw new ConfigError("--labels and --no-labels contradict each other");
  }
  const labelTopics = values.labels === true || (reference && values["no-labels"] !== true);
  const k = positiveIntFlag(values.k, "k", 10);
  const concurrency = positiveIntFlag(values.concurrency, "concurrency", 4);
  const bootstrapIterations = positiveIntFlag(values.bootstrap, "bootstrap", 1000);

  const seed = integerFlag(values.seed, "seed", first.config.seed);
  const modelSpec = values.model ??
    (reference ? first.config.clusterModel : undefined) ??
    first.config.critic ?? first.config.optimizer;
  const deltaMetric = deltaName === "headline" ? await headlineMetric(first) : undefined;
  const embedderSpec = values.embedder ?? first.config.embedder;
  const sim = { seed, ...(first.config.dataDir ? { dataDir: first.config.dataDir } : {}) };
  let model: ChatModel = await createChatModel(modelSpec, { sim });
  let embedder: Embedder = await createEmbedder(embedderSpec, { sim });

  let cache: SqliteResponseCache | undefined;
  if (model.provider !== "sim" || embedder.provider !== "sim") {
    cache = new SqliteResponseCache({ path: first.config.cache ?? defaultCachePath() });
  }
  if (model.provider !== "sim") model = wrapChatModel(model, { cache, concurrency });
  if (embedder.provider !== "sim" && embedder.provider !== "tfidf") {
    embedder = wrapEmbedder(embedder, { cache, concurrency });
  }

  const tty = Deno.stderr.isTerminal();
  const progress = (p: AnalysisProgress) => {
    const line = `${p.phase}: ${p.done}/${p.total}`;
    if (tty) Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}   `));
    else if (p.done === p.total) console.error(line);
  };
  try {
    const result = await analyzeRuns(runs, {
      model,
      embedder,
      k,
      seed,
      concurrency,
      bootstrapIterations,
      failurePresence: presence,
      ...(deltaMetric ? { deltaMetric } : {}),
      labelTopics,
      onProgress: progress,
    });
    if (tty) console.error("");
    const out = values.out ?? defaultOutDir(runs);
    await writeAnalysis(result, out);
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(analysisToMarkdown(result));
      const simulated = runs.some((r) => specsAreSimulated(r.config)) ? " (SIMULATED)" : "";
      console.log(`Written to ${out}${simulated}`);
    }
    return 0;
  } finally {
    cache?.close();
  }
}
