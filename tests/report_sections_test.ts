/**
 * The report says what it means: a patch's rationale sits on a row of its own between the
 * step it followed and the step it produced; the warnings section lists what the run record
 * has (failed calls, cache trouble, memory compaction, clustering fallbacks, loop warnings,
 * budget stops, summary fields no source reads yet); reliability labels stay clear of the
 * dots; charts take the page's width; generated topic names never cut a quotation.
 */
import assert from "node:assert/strict";
import { phraseName } from "../lib/cluster.ts";
import { runReportHtml } from "../lib/cli/report.ts";
import { reliabilityDiagram } from "../lib/plot.ts";
import { placeLabels } from "../lib/plot_labels.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { loadRun, type RunRecord } from "../lib/run/reader.ts";
import { runWarnings } from "../lib/run_warnings.ts";
import { tempDir } from "./support/toy_loop.ts";

async function simulatedRun(dir: string, memoryTokenBudget = 12_000): Promise<RunRecord> {
  const result = await optimize({
    task: "synthetic",
    target: "sim:target",
    optimizer: "sim:optimizer",
    critic: "sim:critic",
    embedder: "sim:embed",
    iterations: 4,
    confidenceAware: true,
    memoryTokenBudget,
    limits: { train: 30, dev: 30, test: 30 },
    cache: `${dir}/cache.sqlite`,
    dataDir: "/nonexistent-rpt-data",
  }, { runDir: `${dir}/run-${memoryTokenBudget}` });
  return await loadRun(result.dir, { records: true });
}

Deno.test("the report's iterations: each patch on its own row, between its step and the next", async () => {
  await using dir = await tempDir();
  const run = await simulatedRun(dir.path);
  const html = runReportHtml(run);
  const table = html.slice(html.indexOf('<table class="steps">'));
  const rows = table.slice(0, table.indexOf("</table>")).match(
    /<tr class="[^"]+">[\s\S]*?<\/tr>/g,
  )!;
  const steps = run.summary!.steps;
  let i = 0;
  for (const [n, s] of steps.entries()) {
    assert.match(rows[i]!, /^<tr class="step"><td>/);
    assert.ok(rows[i]!.startsWith(`<tr class="step"><td>${s.step}`), rows[i]!);
    if (s.rationale !== undefined) assert.ok(!rows[i]!.includes(s.rationale.slice(0, 30)));
    i++;
    if (s.action === "patch") {
      const next = steps[n + 1]!;
      assert.match(rows[i]!, /^<tr class="transition">/);
      assert.ok(rows[i]!.includes(`patch, step ${s.step} → step ${next.step}:</span>`), rows[i]!);
      i++;
    } else if (s.action === "stop") {
      assert.ok(rows[i]!.includes(`the optimizer stopped after step ${s.step}:`));
      i++;
    }
  }
  assert.equal(i, rows.length);
  // Charts are drawn at the page's width (the reliability diagram stays square, capped).
  const trajectory = html.match(/<svg [^>]*width="(\d+)"/)!;
  assert.equal(trajectory[1], "1060");
  assert.match(html, /figure svg \{ max-width: 100%; height: auto; \}/);
});

Deno.test("the warnings section lists what the record has, each source on its own", async () => {
  await using dir = await tempDir();
  // A tight memory budget makes the loop compact past reports.
  const run = await simulatedRun(dir.path, 100);
  const kinds = (r: RunRecord) => runWarnings(r).map((w) => w.kind);
  assert.ok(kinds(run).includes("memory compaction"), JSON.stringify(runWarnings(run)));
  const compaction = runWarnings(run).find((w) => w.kind === "memory compaction")!;
  assert.match(compaction.text, /past reports? (compacted to metrics and topics|left out)/);
  // Faults as the record holds them: failed calls, a damaged cache, an unassigned diagnosis,
  // a field the summary gained that no source reads yet.
  const session = run.usage!.sessions[0]!;
  const model = Object.keys(session.usage.models)[0]!;
  const broken: RunRecord = {
    ...run,
    usage: {
      ...run.usage!,
      sessions: [{
        ...session,
        usage: {
          ...session.usage,
          models: { [model]: { ...session.usage.models[model]!, failures: 3 } },
        },
        cache: {
          readErrors: 2,
          writeErrors: 1,
          writesDisabled: true,
          movedAside: ["/c.sqlite.corrupt-1"],
        },
      }],
    },
    steps: run.steps.map((s, i) =>
      i === 0 && s.record?.clustering
        ? {
          ...s,
          record: {
            ...s.record,
            clustering: { ...s.record.clustering, fallbacks: { count: 2, records: [0, 1] } },
          },
        }
        : s
    ),
    summary: { ...run.summary!, providerErrors: { target: 3 } } as RunRecord["summary"],
  };
  const texts = runWarnings(broken).map((w) => `${w.kind}|${w.step ?? "-"}|${w.text}`);
  for (
    const expected of [
      `provider errors|-|3 attempts to ${model} failed and were retried or counted (session 1)`,
      "cache|-|2 lookups failed and were paid (session 1)",
      "cache|-|1 response could not be stored; the rest of the session ran uncached (session 1)",
      "cache|-|a damaged cache file was moved aside to /c.sqlite.corrupt-1 (session 1)",
      "assignment fallbacks|1|2 diagnoses could not be assigned by the model and went to the " +
      "nearest topic by embedding",
      'summary|-|providerErrors: {"target":3}',
    ]
  ) assert.ok(texts.includes(expected), `${expected}\n${texts.join("\n")}`);
  const html = runReportHtml(broken);
  assert.match(html, /<h2>Warnings<\/h2>\n<table class="warnings">/);
  assert.ok(html.includes("a damaged cache file was moved aside to /c.sqlite.corrupt-1"));
  // A run with nothing to warn about says what was looked at.
  const clean = await simulatedRun(dir.path);
  assert.deepEqual(runWarnings(clean), []);
  assert.match(
    runReportHtml(clean),
    /<h2>Warnings<\/h2>\n<p class="muted">None: no failed model calls/,
  );
});

Deno.test("reliability labels stay clear of every dot, line and other label", () => {
  const chart = reliabilityDiagram([
    {
      label: "seed",
      bins: [
        { lo: 0.8, hi: 0.9, n: 21, avgConfidence: 0.88, avgScore: 0.43 },
        { lo: 0.9, hi: 1, n: 121, avgConfidence: 0.95, avgScore: 0.57 },
      ],
    },
    {
      label: "selected",
      bins: [
        { lo: 0.8, hi: 0.9, n: 12, avgConfidence: 0.89, avgScore: 0.8 },
        { lo: 0.9, hi: 1, n: 133, avgConfidence: 0.94, avgScore: 0.72 },
      ],
    },
  ]);
  const circles = [...chart.svg.matchAll(/<circle[^>]* r="([\d.]+)" cy="([\d.]+)" cx="([\d.]+)"/g)]
    .map((m) => ({ r: Number(m[1]), y: Number(m[2]), x: Number(m[3]) }));
  const labels = [
    ...chart.svg.matchAll(
      /<g transform="translate\((-?[\d.]+),(-?[\d.]+)\)" aria-label="text"[^>]*><text[^>]*transform="translate\(([\d.]+),([\d.]+)\)"[^>]*>(n=\d+)/g,
    ),
  ].map((m) => ({
    x: Number(m[3]) + Number(m[1]),
    y: Number(m[4]) + Number(m[2]),
    text: m[5]!,
  }));
  assert.equal(circles.length, 4);
  assert.equal(labels.length, 4);
  for (const label of labels) {
    // The label's box (5.6 px a character, 11 px high) keeps out of every dot.
    const halfW = (label.text.length * 5.6) / 2;
    for (const c of circles) {
      const nx = Math.max(label.x - halfW, Math.min(c.x, label.x + halfW));
      const ny = Math.max(label.y - 5.5, Math.min(c.y, label.y + 5.5));
      assert.ok(Math.hypot(nx - c.x, ny - c.y) >= c.r, `${label.text} covers a dot`);
    }
  }
  // The placement itself: two big dots close together get labels on free sides.
  const placed = placeLabels([
    { x: 100, y: 100, r: 14, label: "n=133", series: "a" },
    { x: 104, y: 128, r: 13, label: "n=121", series: "b" },
  ], { left: 0, right: 300, top: 0, bottom: 300 });
  assert.ok(placed[0]!.dy < 0, "the first series' label goes above its dot");
  assert.ok(placed[1]!.dy > 0, "the second's below");
});

Deno.test("topic names from raw texts end at a phrase, never inside a quotation", () => {
  const text = 'add - add an instruction against "answers the intermediate bridge entity" for ' +
    "multi-hop questions";
  assert.equal(
    phraseName(text),
    'add - add an instruction against "answers the intermediate bridge entity"',
  );
  for (
    const t of [
      text,
      'tighten - require "a very long quoted phrase that goes on and on without an end" always',
      "refactor - reword the rule about the answer format for the questions of the task",
    ]
  ) {
    const name = phraseName(t);
    assert.equal((name.match(/"/g) ?? []).length % 2, 0, name);
    assert.doesNotMatch(name, /\b(the|a|of|for|against)$/, name);
  }
});
