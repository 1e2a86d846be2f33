/**
 * rpt: Reflective Prompt Tuning. The public face of the library: notebooks and programs
 * import from here. Each export is documented where it is defined; this file lists them by
 * room, following the method's flow (see ARCHITECTURE.md): models, tasks, the diagnostic
 * call (diagnose, critique, cluster, report), the revision loop as a steppable session, the
 * run record, then reading a run (charts, notebooks, trace analyses) and the baselines.
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

// The prompt program and its operations.
export {
  applyPatch,
  diffText,
  promptChars,
  promptDiff,
  PromptProgram,
  promptText,
  unifiedDiff,
} from "./prompt.ts";
export type { DiffPart, PromptEdit } from "./prompt.ts";

// Shared schemas, each from its concept's module (chat, usage, task data, traces).
export {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  toJsonSchema,
  ToolCall,
  ToolSpec,
} from "./llm/schema.ts";
export type { JsonSchema } from "./llm/schema.ts";
export { ModelUsage, UsageSnapshot } from "./llm/usage.ts";
export { Example, Metrics, Split } from "./tasks/schema.ts";
export { isUnscored, TraceItem } from "./trace.ts";
export { AnalysisResult } from "./analysis_schema.ts";

// The names the loop and the simulator share (tool, schemas, message prefixes).
export {
  DECISION_SCHEMA_NAME,
  DIAGNOSE_TOOL,
  MISSING_TOOL_PREFIX,
  PATCH_REJECTED_PREFIX,
} from "./protocol_names.ts";

// Models: the two interfaces, providers, the one wrapper, cache and accounting.
export { BudgetExceededError, ProviderError } from "./llm/model.ts";
export type { CallOptions, ChatModel, Embedder } from "./llm/model.ts";
export {
  createChatModel,
  createEmbedder,
  isSimulatedModel,
  parseModelSpec,
  simulationBanner,
  specsAreSimulated,
} from "./llm/spec.ts";
export type { CreateModelOptions, ModelSpec } from "./llm/spec.ts";
export { wrapChatModel, wrapEmbedder } from "./llm/wrap.ts";
export { withRequestSettings } from "./llm/request_settings.ts";
export type { RequestSettings } from "./llm/request_settings.ts";
export { CONTEXT_WINDOWS, contextWindow, defaultMemoryBudget } from "./llm/context_windows.ts";
export type { WrapOptions } from "./llm/wrap.ts";
export { defaultCachePath, SqliteResponseCache } from "./llm/cache.ts";
export type { ResponseCache } from "./llm/cache.ts";
export { UsageLedger } from "./llm/accounting.ts";
export { ScriptedChatModel, ScriptedEmbedder } from "./llm/scripted.ts";
export type { Script, ScriptedReply, ScriptStep } from "./llm/scripted.ts";
export { OpenAIChatModel, OpenAIEmbedder } from "./llm/openai.ts";
export { OpenAIResponsesModel } from "./llm/openai_responses.ts";
export { GeminiChatModel, GeminiEmbedder } from "./llm/gemini.ts";
export { TfidfEmbedder } from "./llm/tfidf.ts";
export { serveModels } from "./llm/serve.ts";
export type { ModelServer, ServeOptions } from "./llm/serve.ts";

// Batch jobs: the providers' batch APIs, and a local batch service for tests.
export { isTerminalBatchState, TERMINAL_BATCH_STATES } from "./llm/batch/types.ts";
export type {
  BatchClient,
  BatchLine,
  BatchLineResult,
  BatchState,
  BatchStatus,
} from "./llm/batch/types.ts";
export { runBatch } from "./llm/batch/run_batch.ts";
export type {
  BatchItem,
  BatchProgress,
  BatchRunResult,
  BatchRunStats,
  BatchTarget,
  RunBatchOptions,
} from "./llm/batch/run_batch.ts";
export {
  chatCompletionsCodec,
  OPENAI_BATCH_MAX_LINES,
  OpenAIBatchClient,
  responsesCodec,
} from "./llm/batch/openai_batch.ts";
export type {
  OpenAIBatchCodec,
  OpenAIBatchEndpoint,
  OpenAIBatchOptions,
} from "./llm/batch/openai_batch.ts";
export { GeminiBatchClient } from "./llm/batch/gemini_batch.ts";
export { BatchService } from "./llm/serve_batch.ts";
export { ConfigError } from "./util/errors.ts";
export { FileAccessError } from "./util/fs_errors.ts";

// Tasks.
export type { LoadOptions, SelectionInput, Task } from "./tasks/task.ts";
export { getTask, listTasks } from "./tasks/registry.ts";
export { selectionPenalty } from "./tasks/common.ts";
export { hotpotqa, hotpotScores, normalizeAnswer } from "./tasks/hotpotqa.ts";
export { formula, formulaCorrect } from "./tasks/formula.ts";
export { livebenchMath } from "./tasks/livebench_math.ts";
export { synthetic } from "./tasks/synthetic.ts";
export { loadCustomTask } from "./tasks/custom.ts";

// Metrics.
export {
  bootstrapInterval,
  computeMetrics,
  expectedCalibrationError,
  pairedBootstrap,
  reliabilityBins,
} from "./metrics.ts";

// The diagnostic call: run the target, critique the failures, cluster, report.
export { diagnose, evaluatePrompt } from "./diagnose.ts";
export {
  CallFailures,
  CallPhase,
  failedCallsText,
  IncompleteError,
  runFailedCallsText,
  withinErrorRate,
} from "./incomplete.ts";
export type { DiagnoseOptions, DiagnosticRecord, EvaluateOptions } from "./diagnose.ts";
export { Critique, critiqueFailure, FailureMode } from "./critique.ts";
export type { CritiqueOutcome } from "./critique.ts";
export { clusterFusion, ClusterResult, ClusterTopic } from "./cluster.ts";
export type { ClusterOptions, ClusterRecord } from "./cluster.ts";
export {
  buildReport,
  DiagnosticReport,
  reportForOptimizer,
  reportToMarkdown,
  Topic,
} from "./report.ts";

// The revision loop: a steppable session, and optimize = open + step until stop + finish.
export { openSession, reopenSession } from "./revise/open.ts";
export type { SessionOptions } from "./revise/open.ts";
export { Session } from "./revise/session.ts";
export type { SessionStep } from "./revise/outcome.ts";
export { continueRun, optimize } from "./revise/optimize.ts";
export type { OptimizeOptions, OptimizeResult } from "./revise/optimize.ts";
export type { SessionConfigInput } from "./revise/config.ts";
export type { LoopEvent, LoopProgress, LoopSpend } from "./revise/progress.ts";
export { ProgressMeter, spendText } from "./revise/progress_meter.ts";
export { createRunModels } from "./revise/models.ts";
export type { RunModels } from "./revise/models.ts";
export { loadRunData } from "./revise/data.ts";
export type { RunData, RunDataInput } from "./revise/data.ts";
export { applyPreset, PRESET_SOURCES, presetDefaults, PRESETS } from "./revise/presets.ts";
export { evaluatePromptOnly, PromptEvaluation } from "./revise/evaluate_only.ts";
export { loadConfiguredTask, resolveSeedPrompt } from "./revise/data.ts";
export { estimateRun } from "./revise/estimate.ts";
export type { RunEstimate } from "./revise/estimate.ts";
export { controllerInstructions } from "./revise/controller.ts";
export { checkDecision, formatCollapseWarning } from "./revise/guards.ts";
export { buildMemoryPayload, memoryEntry } from "./revise/memory.ts";
export type { MemoryPayload } from "./revise/memory.ts";
export {
  brierWeight,
  compareWithSeed,
  selectionBreakdown,
  selectionValue,
  selectionWeights,
  updateBest,
} from "./revise/select.ts";
export type { SelectionBreakdown, SelectionWeights } from "./revise/select.ts";

// The run record: config.json, the step files, events.jsonl, the typed reader.
export {
  MemoryMode,
  parseRunConfig,
  Preset,
  Protocol,
  ROLES,
  RunConfig,
  SeedPromptValue,
} from "./run/config.ts";
export type { RunConfigInput } from "./run/config.ts";
export {
  Decision,
  Evaluation,
  FailedCallCounts,
  IncompleteRecord,
  MemoryEntry,
  Patch,
  RUN_FILES,
  RunState,
  RunSummary,
  RunUsage,
  ScoredItem,
  stepDirName,
  StepSummary,
  Stop,
  StopKind,
} from "./run/schema.ts";
export { RunEvent } from "./run/events.ts";
export { LockInfo, RunInUseError, RunLock } from "./run/lock.ts";
export { loadRun, readRunJson } from "./run/reader.ts";
export type { RunRecord, StepRecord } from "./run/reader.ts";

// Reading a run: charts, notebook helpers, trace analyses.
export {
  alignmentHeatmap,
  costChart,
  deltaBars,
  initialOptimizedChart,
  lengthScoreScatter,
  persistenceBars,
  reliabilityDiagram,
  runTrajectoriesChart,
  scoreVsCallsChart,
  topicPrevalenceChart,
  trajectoryChart,
} from "./plot.ts";
export type {
  Chart,
  InitialOptimizedPoint,
  MethodCurvePoint,
  RunTrajectoryPoint,
  TrajectoryPoint,
} from "./plot.ts";
export {
  costPoints,
  reliabilitySeries,
  runCharts,
  scoredItemsAsTraces,
  topicPrevalencePoints,
  trajectoryPoints,
} from "./run_charts.ts";
export { notebookSetup } from "./notebook_setup.ts";
export type { NotebookSetup } from "./notebook_setup.ts";
export type { RunProgress } from "./notebook.ts";
export {
  createProgress,
  createRunProgress,
  display,
  html,
  isJupyter,
  md,
  renderPromptDiff,
  renderReportHtml,
  renderRunHtml,
  renderTable,
  showHtml,
  showMarkdown,
} from "./notebook.ts";
export { analysisToMarkdown, analyzeRuns, traceFromRunRecord, writeAnalysis } from "./analysis.ts";

// Baselines in the same harness.
export { compare, compareTable, meterChatModel, METHODS } from "./baselines/compare.ts";
export type { CompareOptions, CompareResult } from "./baselines/compare.ts";
export type { Optimizer, OptimizerContext, OptimizerResult } from "./baselines/optimizer.ts";
export { confidenceFeedback, gepa } from "./baselines/gepa.ts";
export { mipro } from "./baselines/mipro.ts";
export { ace } from "./baselines/ace.ts";
export { rpt } from "./baselines/rpt.ts";

// Experiments: grids of runs (rpt experiment) and the paper's tables (rpt table).
export { absolutePlan, ExperimentPlan, parsePlan, readPlan } from "./experiment/plan.ts";
export type { ExperimentPlanInput } from "./experiment/plan.ts";
export { expandPlan } from "./experiment/grid.ts";
export type { Cell } from "./experiment/grid.ts";
export { METHOD_NAMES } from "./experiment/methods.ts";
export { prepareCells } from "./experiment/cells.ts";
export { estimateExperiment } from "./experiment/estimate.ts";
export type { ExperimentEstimate } from "./experiment/estimate.ts";
export { runExperiment } from "./experiment/runner.ts";
export type { ExperimentEvent, ExperimentOptions, ExperimentOutcome } from "./experiment/runner.ts";
export { EXPERIMENT_FILES, ExperimentIndex } from "./experiment/index_file.ts";
export { CellResult } from "./experiment/result.ts";
export { buildTables } from "./experiment/table.ts";
export type { ExperimentTables } from "./experiment/table.ts";
export { loadExperiment, renderTables, writeTables } from "./experiment/load.ts";
export type { ExperimentRecord } from "./experiment/load.ts";
export {
  tableCharts,
  tablesCsv,
  tablesHtml,
  tablesLatex,
  tablesMarkdown,
} from "./experiment/render.ts";
export { PAPER_REPORTED, paperCitation } from "./experiment/paper.ts";
export { meanInterval } from "./experiment/stats.ts";
