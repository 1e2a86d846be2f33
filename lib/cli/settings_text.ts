/**
 * A run config as the lines a person reads: every setting of the loop, grouped (models, loop,
 * memory, ClusterFusion, critic, selection, guards, per-role requests). `rpt show`, the dry
 * run of `rpt optimize` and `rpt evaluate` print it, so what `config.json` holds is what a
 * person sees.
 *
 * @module
 */
import { defaultMemoryBudget } from "../llm/context_windows.ts";
import { ROLES, type RunConfig } from "../run/config.ts";
import { selectionWeights } from "../revise/select.ts";

function onOff(x: boolean): string {
  return x ? "on" : "off";
}

function perRole(map: Partial<Record<string, unknown>>): string {
  const set = ROLES.filter((r) => map[r] !== undefined).map((r) => `${r} ${map[r]}`);
  return set.length === 0 ? "default" : set.join(", ");
}

function seedText(config: RunConfig): string {
  const seed = config.seedPrompt;
  if (seed === "task") return "the task's own";
  if (seed === "paper") return "the paper's (the data directory's seed_prompt.json)";
  return `${seed.system.length + seed.instruction.length} characters, from ${
    seed.source ?? "the config"
  }`;
}

/**
 * The settings of a run, one group a line.
 *
 * @example
 * ```ts
 * import { settingsLines } from "./settings_text.ts";
 * import { parseRunConfig } from "../run/config.ts";
 * const lines = settingsLines(parseRunConfig({ task: "synthetic", target: "sim:target",
 *   optimizer: "sim:optimizer", k: 7 }));
 * if (!lines.some((l) => l.includes("k 7"))) throw new Error(lines.join("\n"));
 * ```
 */
export function settingsLines(config: RunConfig): string[] {
  const c = config;
  const w = selectionWeights(c);
  const budget = c.memoryTokenBudget ?? defaultMemoryBudget(c.optimizer);
  return [
    `preset ${c.preset ?? "none"}; task ${c.task} (protocol ${c.taskProtocol}` +
    `${c.olympiadScoring ? `, olympiad ${c.olympiadScoring}` : ""})`,
    `seed prompt: ${seedText(c)}`,
    `models: target ${c.target}; optimizer ${c.optimizer}; critic ${c.critic ?? "= optimizer"}; ` +
    `embedder ${c.embedder}; cluster model ${c.clusterModel ?? "= critic"}`,
    `loop: T = ${c.iterations}, protocol ${c.protocol}` +
    `${c.protocol === "explore" ? ` (${c.exploreCalls} calls)` : ""}, test at step 1 and every ` +
    `${c.testEvery}, concurrency ${c.concurrency}, seed ${c.seed}`,
    `memory: ${c.memory}${c.memory === "last_k" ? ` (k ${c.memoryK})` : ""}, budget ${budget} ` +
    `tokens, in the ${c.memoryPlacement === "user_message" ? "user message" : "tool result"}, ` +
    `patches ${onOff(c.memoryPatches)}`,
    `ClusterFusion: k ${c.k}, sample ${c.clusterSample}, descriptions ${c.topicDescriptions}; ` +
    `critic judges confidence ${onOff(c.criticConfidence)}; prevalence shown ${
      onOff(c.showPrevalence)
    }`,
    `selection: Brier weight ${w.brierWeight}, length penalty ${w.lengthPenalty} per 1,000 ` +
    `characters${c.confidenceAware ? ", confidence-aware controller" : ""}`,
    `guards: ${c.maxPatchAttempts} decision(s), ${c.maxToolAttempts} tool request(s), ` +
    `meta-edit ${onOff(c.metaEditGuard)}, copied answers ${onOff(c.copiedAnswerGuard)}, ` +
    `format-collapse warning ${onOff(c.formatCollapseWarning)}, prompt cap ${
      c.maxPromptChars ?? "none"
    }`,
    `requests: temperature ${perRole(c.temperature)}; max output tokens ${
      perRole(c.maxOutputTokens)
    }; reasoning effort ${perRole(c.reasoningEffort)}; thinking level ${perRole(c.thinkingLevel)}`,
    ...callLines(c),
  ];
}

/** How calls are made and paid for: timeouts, retries, failed calls, budgets, prices, servers. */
function callLines(c: RunConfig): string[] {
  const prices = Object.entries(c.prices ?? {}).map(([model, p]) =>
    `${model} ${p.inputPerMTok}/${p.outputPerMTok}`
  );
  const endpoints = Object.entries(c.endpoints ?? {}).map(([role, url]) => `${role} ${url}`);
  return [
    `calls: timeout ${c.timeoutSeconds ?? 180} s per attempt, ${c.retries ?? 4} retries, ` +
    `backoff up to ${c.backoffMaxSeconds ?? 30} s; failed calls ${
      c.maxErrorRate > 0
        ? `count as failures up to a share ${c.maxErrorRate} of a step's calls`
        : "stop the step (resume sends them again)"
    }`,
    `budget: ${c.budgetUsd !== undefined ? `$${c.budgetUsd}` : "no dollar limit"}, ${
      c.budgetCalls !== undefined ? `${c.budgetCalls} paid calls` : "no call limit"
    }; prices given (USD per million input/output tokens): ${prices.join(", ") || "none"}`,
    ...(endpoints.length > 0 ? [`endpoints: ${endpoints.join("; ")}`] : []),
    ...(c.batch === true
      ? [
        `batch: full-split target passes and critiques as batch jobs, polled every ` +
        `${c.batchPollSeconds ?? 30} s; the optimizer interactive`,
      ]
      : []),
  ];
}
