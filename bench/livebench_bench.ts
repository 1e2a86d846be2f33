/**
 * Scoring all 368 LiveBench math items (train + dev + test from the data directory):
 * once with every gold answer formatted as its subtask asks (AMPS_Hard then hits the
 * string fast path), and once with answers the LaTeX engine must compare (AMPS_Hard gold
 * doubled, `2 (gold)`, which is never equivalent). Run: `deno bench -A bench/livebench_bench.ts`.
 *
 * @module
 */
import { scoreAmpsHard } from "../lib/tasks/livebench/amps_hard.ts";
import { sharedLatexChecker } from "../lib/tasks/livebench/latex.ts";
import { mathCompKind, scoreMathComp } from "../lib/tasks/livebench/math_comp.ts";
import { scoreOlympiad } from "../lib/tasks/livebench/olympiad.ts";

const DATA_DIR = Deno.env.get("RPT_DATA_DIR") ??
  decodeURIComponent(new URL("../../shared/data", import.meta.url).pathname);

interface Row {
  task: string;
  subtask: string;
  turns: string[];
  ground_truth: string;
}

const rows: Row[] = [];
for (const split of ["train", "dev", "test"]) {
  const text = await Deno.readTextFile(`${DATA_DIR}/livebench_math/${split}.jsonl`);
  for (const line of text.split("\n")) if (line.trim() !== "") rows.push(JSON.parse(line));
}

const REASONING = "Working through the problem step by step, we find the result.";

function scoreAll(ampsAnswer: (gold: string) => string): number {
  let total = 0;
  for (const row of rows) {
    const gold = row.ground_truth;
    if (row.task === "math_comp") {
      const answer = mathCompKind(row.subtask) === "aime" ? gold : gold.repeat(5);
      total += scoreMathComp(gold, `${REASONING}\n\n${answer}`, row.subtask, row.turns[0] ?? "")
        .score;
    } else if (row.task === "olympiad") {
      total += scoreOlympiad(gold, `${REASONING}\n\nAnswer: ${gold}`).score;
    } else {
      total += scoreAmpsHard(gold, `${REASONING}\n\n$\\boxed{${ampsAnswer(gold)}}$`)
        .score;
    }
  }
  return total;
}

// Load the engine before timing.
sharedLatexChecker().check("1", "1");

Deno.bench("livebench: 368 items, gold answers as asked", { group: "livebench" }, () => {
  if (scoreAll((gold) => gold) !== rows.length) throw new Error("a gold answer scored < 1");
});

Deno.bench("livebench: 368 items, AMPS_Hard via the LaTeX engine", { group: "livebench" }, () => {
  scoreAll((gold) => `2 (${gold})`);
});
