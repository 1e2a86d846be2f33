/**
 * A run's figures: the run record reduced to the rows `plot.ts` draws (trajectories,
 * reliability of seed vs selected, topic prevalence per step, calls per step), and
 * {@linkcode runCharts}, every chart a run supports. Shared by `rpt report`, the notebooks
 * and the screenshot script.
 *
 * @module
 */
import { specsAreSimulated } from "./llm/spec.ts";
import {
  CALIBRATION_TARGET_KEY,
  reliabilityBins,
  type TraceLike,
  UNPARSED_CREDIT_KEY,
} from "./metrics.ts";
import {
  alignmentHeatmap,
  type AlignmentInput,
  type Chart,
  costChart,
  type CostPoint,
  reliabilityDiagram,
  type ReliabilitySeries,
  topicPrevalenceChart,
  type TopicPrevalencePoint,
  trajectoryChart,
  type TrajectoryPoint,
} from "./plot.ts";
import type { RunRecord } from "./run/reader.ts";
import type { ScoredItem } from "./run/schema.ts";
import type { Metrics } from "./tasks/schema.ts";

/**
 * Score and Brier per step on train (the optimizer's split), dev (selection) and test (step 1,
 * every `testEvery` steps, and the selected prompt's final score).
 */
export function trajectoryPoints(run: RunRecord): TrajectoryPoint[] {
  const steps = run.summary?.steps ?? run.state?.steps ?? [];
  const points: TrajectoryPoint[] = [];
  const point = (step: number, split: TrajectoryPoint["split"], m: Metrics) =>
    points.push({ step, split, score: m.score, brier: m.brier, ece: m.ece });
  for (const s of steps) {
    if (s.train !== null) point(s.step, "train", s.train);
    point(s.step, "dev", s.dev);
    if (s.test !== null) point(s.step, "test", s.test);
  }
  const selected = run.summary?.selected;
  if (selected?.test && !points.some((p) => p.split === "test" && p.step === selected.step)) {
    point(selected.step, "test", selected.test);
  }
  return points;
}

/**
 * Scored dev/test items in the shape the calibration metrics read: an item without a
 * confidence, a format error or a provider error counts as unparsed; an item's calibration
 * target (HotPotQA: EM) is what its confidence is binned against.
 *
 * @example
 * ```ts
 * import { scoredItemsAsTraces } from "./run_charts.ts";
 * const [a, b] = scoredItemsAsTraces([
 *   { exampleId: "1", answer: "x", confidence: 0.9, score: 1, full: true },
 *   { exampleId: "2", answer: null, confidence: null, score: 0, full: false, formatError: "no JSON" },
 * ]);
 * if (a?.parsed?.confidence !== 0.9 || b?.parsed !== null) throw new Error("unexpected");
 * ```
 */
export function scoredItemsAsTraces(items: readonly ScoredItem[]): TraceLike[] {
  return items.map((item) => ({
    score: item.score,
    full: item.full,
    // HotPotQA's confidence is calibrated against EM, not the F1 score.
    details: {
      ...(item.calibrationTarget !== undefined
        ? { [CALIBRATION_TARGET_KEY]: item.calibrationTarget }
        : {}),
      ...(item.unparsedCredit ? { [UNPARSED_CREDIT_KEY]: true } : {}),
    },
    parsed: item.confidence === null || item.formatError !== undefined || item.error !== undefined
      ? null
      : { reasoning: "", answer: item.answer ?? "", confidence: item.confidence },
    ...(item.formatError !== undefined ? { formatError: item.formatError } : {}),
    ...(item.error !== undefined ? { error: item.error } : {}),
  }));
}

/**
 * Reliability bins of the seed prompt and the selected prompt, on test when both were
 * scored there (seed at step 1, selected in `final/`), else on dev.
 */
export function reliabilitySeries(
  run: RunRecord,
): { split: "test" | "dev"; series: ReliabilitySeries[] } {
  const seedStep = run.steps[0];
  const selectedStep = run.summary?.selected.step;
  const selectedRecord = run.steps.find((s) => s.step === selectedStep);
  const bins = (items: readonly ScoredItem[]) => reliabilityBins(scoredItemsAsTraces(items));
  const label = `selected (step ${selectedStep})`;
  if (seedStep?.test && run.finalTest) {
    return {
      split: "test",
      series: [
        { label: "seed", bins: bins(seedStep.test.items) },
        { label, bins: bins(run.finalTest.items) },
      ],
    };
  }
  const series: ReliabilitySeries[] = [];
  if (seedStep?.dev) series.push({ label: "seed", bins: bins(seedStep.dev.items) });
  if (selectedRecord?.dev && selectedRecord !== seedStep) {
    series.push({ label, bins: bins(selectedRecord.dev.items) });
  }
  return { split: "dev", series };
}

/**
 * Failure-topic prevalence per diagnosed step: every topic of the full clustering when the
 * run was loaded with `records: true`, else the retained topics of each report.
 */
export function topicPrevalencePoints(run: RunRecord): TopicPrevalencePoint[] {
  const points: TopicPrevalencePoint[] = [];
  for (const step of run.steps) {
    const clustering = step.record?.clustering;
    if (clustering) {
      for (const t of clustering.topics) {
        if (t.count === 0) continue;
        points.push({
          step: step.step,
          topic: t.name,
          prevalence: t.prevalence,
          retained: t.retained,
        });
      }
    } else if (step.report !== null) {
      for (const t of step.report.topics) {
        points.push({
          step: step.step,
          topic: t.name,
          prevalence: t.prevalence ?? 0,
          retained: true,
        });
      }
    }
  }
  return points;
}

/**
 * Model calls per step from the run's `usage` events (cumulative totals per session): paid
 * calls and calls answered by the response cache.
 */
export function costPoints(run: RunRecord): CostPoint[] {
  const points: CostPoint[] = [];
  let previous = { calls: 0, cacheHits: 0 };
  for (const event of run.events) {
    if (event.type === "resume" || event.type === "run_start") {
      previous = { calls: 0, cacheHits: 0 };
    }
    if (event.type !== "usage") continue;
    const { calls, cacheHits } = event.total;
    points.push({
      step: event.step,
      group: "paid calls",
      calls: Math.max(0, calls - previous.calls),
    });
    points.push({
      step: event.step,
      group: "cache hits",
      calls: Math.max(0, cacheHits - previous.cacheHits),
    });
    previous = { calls, cacheHits };
  }
  return points;
}

/** Options of {@linkcode runCharts}. */
export interface RunChartOptions {
  /** Label every chart "(simulated)" (default: whether the run used the simulator). */
  simulated?: boolean;
  /** The alignment table of `rpt analyze`, when the run has been analysed. */
  alignment?: readonly AlignmentInput[];
  width?: number;
}

/**
 * Every chart a run supports: trajectories, reliability of seed vs selected, topic
 * prevalence per step, calls per step and (when analysed) the alignment heatmap. Charts
 * without data are left out.
 */
export function runCharts(run: RunRecord, options: RunChartOptions = {}): Chart[] {
  const simulated = options.simulated ?? specsAreSimulated(run.config);
  const common = { simulated, ...(options.width ? { width: options.width } : {}) };
  const charts: Chart[] = [];
  const trajectory = trajectoryPoints(run);
  if (trajectory.length > 0) {
    charts.push(trajectoryChart(trajectory, {
      ...common,
      ...(run.summary ? { selectedStep: run.summary.selected.step } : {}),
      caption: "Train: the optimization split the optimizer sees; dev: selection; " +
        "test: step 1, every few steps and the selected prompt (never used for selection).",
    }));
  }
  const reliability = reliabilitySeries(run);
  if (reliability.series.some((s) => s.bins.some((b) => b.n > 0))) {
    charts.push(reliabilityDiagram(reliability.series, {
      ...common,
      title: `Reliability on ${reliability.split}: seed vs selected prompt`,
    }));
  }
  const topics = topicPrevalencePoints(run);
  if (topics.length > 0) charts.push(topicPrevalenceChart(topics, common));
  const cost = costPoints(run);
  if (cost.some((p) => (p.calls ?? 0) > 0)) {
    charts.push(costChart(cost, { ...common, measure: "calls", title: "Model calls per step" }));
  }
  if (options.alignment && options.alignment.length > 0) {
    charts.push(alignmentHeatmap(options.alignment, common));
  }
  return charts;
}
