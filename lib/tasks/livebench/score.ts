/**
 * One entry point for scoring a LiveBench math answer: routes by the upstream `subtask`
 * as LiveBench's `gen_ground_truth_judgment.py` does, and builds the text the scorers read
 * from the target's JSON output ({@linkcode livebenchAnswerText}).
 *
 * @module
 */
import { pyStrip } from "../../data/python.ts";
import type { ScoreResult } from "../schema.ts";
import { type AmpsOptions, scoreAmpsHard } from "./amps_hard.ts";
import { mathCompKind, scoreMathComp } from "./math_comp.ts";
import { type OlympiadScoring, scoreOlympiad } from "./olympiad.ts";

/** What scoring needs to know about one LiveBench row. */
export interface LivebenchItem {
  /** `math_comp`, `olympiad` or `AMPS_Hard` (the row's `task`). */
  task: string;
  /** The upstream subtask (`amc_12a_2023`, `aime_i_2024`, `usamo`, `amps_hard_integral`...). */
  subtask: string;
  /** `ground_truth`. */
  gold: string;
  /** `turns[0]`: the question as upstream saw it (the AMC option-value rule reads it). */
  questionText: string;
}

/** Options of {@linkcode scoreLivebenchText}. */
export interface LivebenchScoreOptions extends AmpsOptions {
  /** The olympiad rule (default `edit_distance`; the reference uses `positional`). */
  olympiad?: OlympiadScoring;
}

/** Which upstream scorer a subtask routes to. */
export type LivebenchScorer = "multiple_choice" | "aime" | "olympiad" | "amps_hard";

/**
 * Upstream's routing: `amc*`, `smc*`, `*_amc*` multiple choice; `aime*` AIME; `imo*`,
 * `usamo*` proof rearrangement; anything containing `amps_hard` AMPS_Hard.
 *
 * @example
 * ```ts
 * import { livebenchScorer } from "./score.ts";
 * if (livebenchScorer("usamo") !== "olympiad" || livebenchScorer("amps_hard_gcd") !== "amps_hard") {
 *   throw new Error();
 * }
 * ```
 */
export function livebenchScorer(subtask: string): LivebenchScorer | undefined {
  const kind = mathCompKind(subtask);
  if (kind !== undefined) return kind;
  const first = subtask.split("_")[0];
  if (first === "imo" || first === "usamo") return "olympiad";
  if (subtask.includes("amps_hard")) return "amps_hard";
  return undefined;
}

/**
 * The response text upstream would have scored, rebuilt from the target's JSON fields:
 * the reasoning, a blank line, then the answer, so the answer ends the text where the
 * scorers look (AIME's last 50 characters, the AMC last-line and option-value rules, the
 * last `\boxed{}`). For `olympiad`, whose questions ask for `Answer: <list>`, the answer
 * is labelled `Answer: ` unless it already holds `answer:`, so the scorer's `answer:` rule
 * reads the answer field and not a stray `answer:` in the reasoning. Other tasks get no
 * label: upstream credits a response whose last line is a bare `C`, and `Answer: C` would
 * not be. `<think>...</think>` blocks are removed, as upstream does.
 *
 * @example
 * ```ts
 * import { livebenchAnswerText } from "./score.ts";
 * if (livebenchAnswerText("r", "033", "math_comp") !== "r\n\n033") throw new Error();
 * if (livebenchAnswerText("r", "3,1,2", "olympiad") !== "r\n\nAnswer: 3,1,2") throw new Error();
 * if (livebenchAnswerText("", "**Answer:** 3", "olympiad") !== "**Answer:** 3") throw new Error();
 * ```
 */
export function livebenchAnswerText(reasoning: string, answer: string, task: string): string {
  const labelled = task === "olympiad" && !answer.toLowerCase().includes("answer:")
    ? `Answer: ${answer}`
    : answer;
  const body = reasoning.trim() === "" ? labelled : `${reasoning.trimEnd()}\n\n${labelled}`;
  return body.replace(/<think>[\s\S]*?<\/think>/g, "");
}

/**
 * The text the reference scores for a parsed output (its `build_livebench_scoring_response`):
 * the stripped reasoning and the stripped answer (labelled `Answer: ` for olympiad unless it
 * is empty or already holds `answer:`), the non-empty ones joined by a blank line; when both
 * are empty, the stripped raw text. Unlike {@linkcode livebenchAnswerText} it keeps
 * `<think>` blocks and leaves an empty olympiad answer unlabelled.
 *
 * @example
 * ```ts
 * import { referenceLivebenchAnswerText } from "./score.ts";
 * if (referenceLivebenchAnswerText(" r ", " 3,1,2 ", "olympiad", "") !== "r\n\nAnswer: 3,1,2") throw new Error();
 * if (referenceLivebenchAnswerText("", "", "olympiad", " raw ") !== "raw") throw new Error();
 * ```
 */
export function referenceLivebenchAnswerText(
  reasoning: string,
  answer: string,
  task: string,
  rawText: string,
): string {
  const r = pyStrip(reasoning);
  const a = pyStrip(answer);
  const final = task === "olympiad" && a !== "" && !a.toLowerCase().includes("answer:")
    ? `Answer: ${a}`
    : a;
  const parts = [r, final].filter((p) => p !== "");
  return parts.length === 0 ? pyStrip(rawText) : pyStrip(parts.join("\n\n"));
}

/**
 * Scores an answer text for one item. `score` in [0, 1] (olympiad gives partial credit),
 * `full` at 1, `impact = 1 - score`. `details`: `subtask` (the task), `upstream_subtask`,
 * `scorer`, `rule` (the rule that fired, or `no_match` / `no_answer` / `eval_error`),
 * `extracted`, and per scorer `distance` or `matches` (olympiad, by rule) or `method` /
 * `detail` (AMPS_Hard, e.g. `timeout`), or `error` (where upstream would raise; scores 0).
 *
 * @example
 * ```ts
 * import { scoreLivebenchText } from "./score.ts";
 * const item = { task: "olympiad", subtask: "imo", gold: "1,2,3,4", questionText: "" };
 * const r = scoreLivebenchText(item, "Answer: 2,1,3,4");
 * if (r.score !== 0.5 || r.details.rule !== "answer_line") throw new Error();
 * ```
 */
export function scoreLivebenchText(
  item: LivebenchItem,
  text: string,
  options: LivebenchScoreOptions = {},
): ScoreResult {
  const scorer = livebenchScorer(item.subtask);
  const base = { subtask: item.task, upstream_subtask: item.subtask, scorer: scorer ?? null };
  let score = 0;
  let details: Record<string, unknown>;
  switch (scorer) {
    case "multiple_choice":
    case "aime": {
      const r = scoreMathComp(item.gold, text, item.subtask, item.questionText);
      score = r.score;
      details = { ...base, rule: r.rule, extracted: r.extracted ?? null };
      if (r.error !== undefined) details.error = r.error;
      break;
    }
    case "olympiad": {
      const r = scoreOlympiad(item.gold, text, options.olympiad);
      score = r.score;
      details = { ...base, rule: r.rule, extracted: r.extracted ?? null };
      if (r.distance !== undefined) details.distance = r.distance;
      if (r.matches !== undefined) details.matches = r.matches;
      if (r.error !== undefined) details.error = r.error;
      break;
    }
    case "amps_hard": {
      const r = scoreAmpsHard(item.gold, text, options);
      score = r.score;
      details = { ...base, rule: r.rule, extracted: r.extracted ?? null, method: r.method ?? null };
      if (r.detail !== undefined) details[r.rule === "eval_error" ? "error" : "detail"] = r.detail;
      break;
    }
    default:
      details = { ...base, rule: "eval_error", extracted: null, error: "unroutable subtask" };
  }
  return { score, full: score === 1, impact: 1 - score, details };
}
