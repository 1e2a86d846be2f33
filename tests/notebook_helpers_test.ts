import assert from "node:assert/strict";
import {
  createProgress,
  display,
  html,
  HtmlFragment,
  isJupyter,
  type JupyterLike,
  md,
  renderPromptDiff,
  renderReportHtml,
  renderRunHtml,
  renderTable,
  showMarkdown,
} from "../lib/notebook.ts";
import type { DiagnosticReport } from "../lib/report.ts";
import { RunSummary } from "../lib/run/schema.ts";
import type { Metrics } from "../lib/tasks/schema.ts";
import { metricsFixture } from "./support/fixtures.ts";

/** A fake kernel recording every broadcast. */
function fakeKernel(): JupyterLike & {
  sent: { type: string; content: Record<string, unknown> }[];
} {
  const sent: { type: string; content: Record<string, unknown> }[] = [];
  return {
    sent,
    broadcast(type, content) {
      sent.push({ type, content });
      return Promise.resolve();
    },
  };
}

Deno.test("isJupyter is false outside the kernel (reading Deno.jupyter would throw)", () => {
  assert.equal(isJupyter(), false);
});

Deno.test("display prints plain text outside the kernel", async () => {
  const lines: string[] = [];
  const print = (line: string) => lines.push(line);
  await display("plain", { print });
  await display(md`# Title ${1.23456789}`, { print });
  await display(html`<b>${"a<b"}</b>`, { print });
  await display({ a: 1 }, { print });
  await showMarkdown("**bold**", { print });
  assert.deepEqual(lines, ["plain", "# Title 1.2346", "a<b", "{ a: 1 }", "**bold**"]);
});

Deno.test("display in the kernel sends display_data, or update_display_data by display id", async () => {
  const kernel = fakeKernel();
  await showMarkdown("**x**", { jupyter: kernel });
  await display(new HtmlFragment("<i>y</i>"), {
    jupyter: kernel,
    displayId: "d1",
    update: true,
  });
  assert.deepEqual(kernel.sent, [
    {
      type: "display_data",
      content: {
        data: { "text/markdown": "**x**", "text/plain": "**x**" },
        metadata: {},
        transient: {},
      },
    },
    {
      type: "update_display_data",
      content: {
        data: { "text/html": "<i>y</i>", "text/plain": "y" },
        metadata: {},
        transient: { display_id: "d1" },
      },
    },
  ]);
});

Deno.test("md formats numbers and nulls; html escapes values but not fragments", () => {
  assert.equal(md`${3} ${0.5} ${1 / 3} ${undefined} ${"a"}`.text, "3 0.5 0.3333 – a");
  assert.equal(
    html`<p>${"<x> & 'y'"} ${new HtmlFragment("<b>k</b>")}</p>`.html,
    "<p>&lt;x&gt; &amp; &#39;y&#39; <b>k</b></p>",
  );
});

Deno.test("progress in the kernel: one display, then updates in place under the same id", async () => {
  const kernel = fakeKernel();
  const bar = createProgress("diagnose", { jupyter: kernel });
  // Not awaited on purpose: callbacks fire without awaiting; the helper serialises them.
  void bar.update(1, 4, "target");
  void bar.update(2, 4, "target");
  await bar.finish("12 topics");
  assert.deepEqual(kernel.sent.map((m) => m.type), [
    "display_data",
    "update_display_data",
    "update_display_data",
  ]);
  const ids = kernel.sent.map((m) => (m.content.transient as { display_id: string }).display_id);
  assert.equal(new Set(ids).size, 1);
  assert.match(ids[0]!, /^rpt-progress-/);
  const data = (i: number) => kernel.sent[i]!.content.data as Record<string, string>;
  assert.equal(data(1)["text/plain"], "diagnose · target 2/4");
  assert.ok(data(1)["text/html"]!.includes('<progress value="2" max="4"'));
  assert.equal(data(2)["text/plain"], "diagnose · 12 topics");
  // Another progress display gets its own id.
  const other = fakeKernel();
  await createProgress("x", { jupyter: other }).update(0, 1);
  assert.notEqual(
    (other.sent[0]!.content.transient as { display_id: string }).display_id,
    ids[0],
  );
});

Deno.test("progress outside the kernel prints phase starts, quarters and the end", async () => {
  const lines: string[] = [];
  const bar = createProgress("diagnose", { print: (l) => lines.push(l) });
  for (let done = 0; done <= 8; done++) void bar.update(done, 8, "target");
  for (let done = 1; done <= 3; done++) void bar.update(done, 3, "critique");
  await bar.finish();
  assert.deepEqual(lines, [
    "diagnose · target 0/8",
    "diagnose · target 2/8",
    "diagnose · target 4/8",
    "diagnose · target 6/8",
    "diagnose · target 8/8",
    "diagnose · critique 1/3",
    "diagnose · critique 2/3",
    "diagnose · critique 3/3",
    "diagnose · finished",
  ]);
});

Deno.test("renderPromptDiff marks insertions and deletions exactly, escaped", () => {
  const out = renderPromptDiff("Use <b> tags & 2 dp.", "Use <i> tags & 2 dp.").html;
  const marked = out.replace(/ style="[^"]*"/g, "");
  assert.equal(
    marked,
    '<pre class="rpt-diff">Use &lt;<del>b</del><ins>i</ins>&gt; tags &amp; 2 dp.</pre>',
  );
  const program = renderPromptDiff(
    { system: "S", instruction: "Answer." },
    { system: "S", instruction: "Answer briefly.", format: "JSON" },
  ).html.replace(/ style="[^"]*"/g, "");
  assert.equal(
    program,
    '<div class="rpt-prompt-diff">' +
      '<div class="rpt-diff-field">system <span>(unchanged)</span></div><pre class="rpt-diff">S</pre>' +
      '<div class="rpt-diff-field">instruction</div><pre class="rpt-diff">Answer<ins> briefly</ins>.</pre>' +
      '<div class="rpt-diff-field">format</div><pre class="rpt-diff"><ins>JSON</ins></pre>' +
      "</div>",
  );
});

Deno.test("renderTable: columns, escaping, number format, nulls, truncation", () => {
  const table = renderTable([
    { topic: "a<b", p: 0.5, n: 3 },
    { topic: "x".repeat(12), p: null, extra: { k: 1 } },
  ], { digits: 2, maxChars: 10, caption: "T & U" }).html.replace(/ style="[^"]*"/g, "");
  assert.equal(
    table,
    '<table class="rpt-table"><caption>T &amp; U</caption>' +
      "<thead><tr><th>topic</th><th>p</th><th>n</th><th>extra</th></tr></thead><tbody>" +
      "<tr><td>a&lt;b</td><td>0.50</td><td>3</td><td>–</td></tr>" +
      "<tr><td>xxxxxxxxx…</td><td>–</td><td>–</td><td>{&quot;k&quot;:1}</td></tr>" +
      "</tbody></table>",
  );
});

function metrics(score: number, brier: number | null): Metrics {
  return metricsFixture({
    score,
    fullCredit: score,
    brier,
    perSubtask: { bridge: { n: 6, score: 0.5 } },
    extra: { f1: 0.61 },
  });
}

Deno.test("renderReportHtml shows metrics, counts, warnings, topics with examples, the prompt", () => {
  const report: DiagnosticReport = {
    iteration: 3,
    prompt: { system: "You <answer>.", instruction: "Be brief." },
    metrics: metrics(0.5, 0.25),
    topics: [
      {
        name: "Units & scales",
        description: "Answers in the wrong unit.",
        examples: ["gave meters"],
        prevalence: 0.42,
      },
      { name: "Overconfidence", description: "Too sure.", examples: [] },
    ],
    counts: { examples: 10, failures: 5, diagnoses: 7, formatErrors: 1, errors: 0 },
    warnings: ["format errors up"],
  };
  const out = renderReportHtml(report, { simulated: true }).html;
  for (
    const expected of [
      "<h3>Diagnostic report · iteration 3 (simulated)</h3>",
      "10 examples · 5 failures · 7 diagnoses · 1 format errors · 0 provider errors",
      "<td>score</td><td",
      ">0.500</td>",
      "<td>f1</td>",
      "<td>score on bridge (n=6)</td>",
      "⚠ format errors up",
      "<h4>Failure topics (2)</h4>",
      "<b>Units &amp; scales</b>",
      "(prevalence 0.42)",
      "<li>gave meters</li>",
      "You &lt;answer&gt;.",
    ]
  ) assert.ok(out.includes(expected), expected);
  assert.equal((out.match(/class="rpt-topic"/g) ?? []).length, 2);
  const bare = renderReportHtml({ ...report, topics: [], warnings: [] }, { showPrompt: false })
    .html;
  assert.ok(bare.includes("No failure topics.") && !bare.includes("(simulated)"));
  assert.ok(!bare.includes("rpt-warnings") && !bare.includes("<h4>Prompt</h4>"));
});

Deno.test("renderRunHtml shows seed vs selected, the comparison and one row per step", () => {
  const step = (n: number, score: number, selected: boolean) => ({
    step: n,
    kind: "iteration" as const,
    promptChars: 100,
    train: metrics(score, 0.2),
    dev: metrics(score - 0.05, 0.22),
    test: null,
    selection: score,
    selected,
    topics: [`topic ${n}`],
    action: "patch" as const,
    decisionAttempts: 1,
    rejections: [],
    diagnoseCalls: 1,
    optimizerCalls: 2,
    optimizerPromptTokens: 900,
    memoryTokens: 100,
    warnings: [],
  });
  const summary = RunSummary.parse({
    version: 1,
    task: "hotpotqa",
    simulated: true,
    iterationsRun: 2,
    stop: { kind: "iterations", reason: "reached 2 iterations" },
    steps: [step(1, 0.4, true), step(2, 0.5, true)],
    selected: {
      step: 2,
      prompt: { system: "S", instruction: "I" },
      selection: 0.5,
      dev: metrics(0.45, 0.22),
      test: metrics(0.44, 0.2),
    },
    seed: { dev: metrics(0.35, 0.22), test: metrics(0.36, 0.3) },
    comparison: {
      statistic: "score",
      n: 10,
      final: 0.44,
      seed: 0.36,
      delta: 0.08,
      lo: 0.01,
      hi: 0.15,
      probabilityFinalGreater: 0.97,
      iterations: 1000,
    },
    testCurve: [],
  });
  const out = renderRunHtml(summary).html;
  for (
    const expected of [
      "<h3>Run · hotpotqa (simulated)</h3>",
      "2 iterations · stopped (iterations): reached 2 iterations",
      "<td>selected (step 2)</td>",
      "Selected (step 2) - seed on test: 0.080 [0.010, 0.150]",
      "P(selected better) = 0.970",
      "<td>topic 2</td>",
      "<h4>Selected prompt (step 2)</h4>",
    ]
  ) assert.ok(out.includes(expected), expected);
  assert.equal((out.match(/<td>topic \d<\/td>/g) ?? []).length, 2);
});
