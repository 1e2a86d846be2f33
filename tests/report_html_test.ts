/**
 * `rpt report`: the HTML report of a small simulated run is self-contained (inline SVG and
 * CSS, nothing fetched) and loads in headless Chromium without console messages. Chromium
 * is required: without it the test fails and says how to install it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run as reportCommand } from "../lib/cli/report.ts";
import { costPoints, trajectoryPoints } from "../lib/run_charts.ts";
import type { RunRecord } from "../lib/run/reader.ts";
import { optimize } from "../lib/revise/optimize.ts";
import { ConfigError } from "../lib/util/errors.ts";
import {
  CHROMIUM_MISSING,
  consoleMessages,
  findChromium,
  runChromium,
} from "./support/chromium.ts";
import { metricsFixture } from "./support/fixtures.ts";
import { EXTERNAL_TOOL_TAG, SKIP_EXTERNAL_TOOL_TESTS } from "./support/external_tools.ts";

async function withTemp(fn: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "rpt-report-" });
  try {
    await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function smallRun(tmp: string): Promise<string> {
  const runDir = join(tmp, "run");
  await optimize({
    task: "synthetic",
    target: "sim:target",
    optimizer: "sim:optimizer",
    critic: "sim:critic",
    embedder: "sim:embed",
    iterations: 3,
    confidenceAware: true,
    k: 4,
    limits: { train: 30, dev: 30, test: 30 },
    cache: join(tmp, "cache.sqlite"),
  }, { runDir });
  return runDir;
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

function requireChromium(): void {
  assert.ok(findChromium() !== undefined, CHROMIUM_MISSING);
}

Deno.test({
  name:
    `rpt report writes a self-contained HTML report that loads in Chromium without console messages ${EXTERNAL_TOOL_TAG}`,
  ignore: SKIP_EXTERNAL_TOOL_TESTS,
}, async () => {
  requireChromium();
  await withTemp(async (tmp) => {
    const runDir = await smallRun(tmp);
    const out = join(tmp, "report.html");
    assert.equal(await quietly(() => reportCommand([runDir, "--out", out])), 0);
    const html = await Deno.readTextFile(out);

    assert.ok(html.startsWith("<!DOCTYPE html>"));
    assert.match(html, /<title>rpt run: synthetic \(simulated\)<\/title>/);
    assert.match(
      html,
      /<p class="banner">SIMULATED: every model is rpt&#39;s offline simulator; the figures are not LLM results\.<\/p>/,
    );
    // Trajectory, reliability, topic prevalence and calls: four inline SVG charts.
    const svgs = html.match(/<svg\b[^>]*>/g) ?? [];
    assert.ok(svgs.length >= 4, `expected at least 4 charts, got ${svgs.length}`);
    for (const svg of svgs.filter((s) => !/\bclass="[^"]*plot/.test(s))) {
      assert.match(svg, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
    for (
      const title of ["Score and Brier over iterations", "Reliability on test", "Failure topics"]
    ) {
      assert.ok(html.includes(title), `missing chart: ${title}`);
    }
    // Nothing is fetched: no scripts, links, images or URLs other than XML namespaces.
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\burl\((?!#)/i);
    const urls = html.replace(/xmlns(:\w+)?="[^"]*"/g, "").match(/https?:\/\/[^\s"'<]+/g) ?? [];
    assert.deepEqual(urls, []);
    assert.ok(!html.includes(tmp.replace(/\/$/, "") + "/run/"), "the report leaks the run path");

    const loaded = await runChromium(out, ["--dump-dom"]);
    assert.equal(loaded.code, 0);
    assert.deepEqual(loaded.console, [], "the report logged console messages");
    assert.match(loaded.stdout, /<h2>Figures<\/h2>/);
    assert.match(loaded.stdout, /<h2>Iterations<\/h2>/);
    assert.match(loaded.stdout, /<h3>Selected prompt \(step \d+\)<\/h3>/);
  });
});

Deno.test({
  name:
    `the Chromium console check catches console errors and uncaught exceptions ${EXTERNAL_TOOL_TAG}`,
  ignore: SKIP_EXTERNAL_TOOL_TESTS,
}, async () => {
  requireChromium();
  await withTemp(async (tmp) => {
    const page = join(tmp, "faulty.html");
    await Deno.writeTextFile(
      page,
      `<!DOCTYPE html><html><body><p>x</p><script>console.error("boom");` +
        `undefinedFunction();</script></body></html>`,
    );
    const loaded = await runChromium(page, ["--dump-dom"]);
    assert.equal(loaded.console.length, 2, loaded.console.join("\n"));
    assert.match(loaded.console[0] ?? "", /"boom"/);
    assert.match(loaded.console[1] ?? "", /Uncaught ReferenceError: undefinedFunction/);
  });
});

Deno.test("consoleMessages reads Chromium's log lines", () => {
  const log = [
    "[1:2:1123/213823.553834:ERROR:dbus/bus.cc:405] Failed to connect to the bus",
    '[1:1:1123/213823.925628:INFO:CONSOLE:1] "boom one", source: file:///x.html (1)',
    '[1:1:1123/213823.925628:INFO:CONSOLE(7)] "old style", source: file:///x.html (7)',
  ].join("\n");
  assert.deepEqual(consoleMessages(log), [
    '"boom one", source: file:///x.html (1)',
    '"old style", source: file:///x.html (7)',
  ]);
});

Deno.test("rpt report: a missing run directory is a ConfigError naming it", async () => {
  await assert.rejects(
    reportCommand(["/nonexistent/run-dir"]),
    (e: unknown) => e instanceof ConfigError && e.message.includes("'/nonexistent/run-dir'"),
  );
  await assert.rejects(reportCommand([]), ConfigError);
});

function metrics(score: number, brier: number | null) {
  return metricsFixture({ score, fullCredit: score, avgConfidence: 0.9, brier });
}

Deno.test("costPoints turns cumulative usage events into calls per step, restarting on resume", () => {
  const usage = (step: number, calls: number, cacheHits: number) => ({
    time: "t",
    type: "usage",
    step,
    total: { calls, cacheHits },
  });
  const run = {
    events: [
      { time: "t", type: "run_start" },
      usage(1, 100, 0),
      usage(2, 160, 5),
      { time: "t", type: "resume" },
      usage(3, 40, 30),
    ],
  } as unknown as RunRecord;
  assert.deepEqual(costPoints(run), [
    { step: 1, group: "paid calls", calls: 100 },
    { step: 1, group: "cache hits", calls: 0 },
    { step: 2, group: "paid calls", calls: 60 },
    { step: 2, group: "cache hits", calls: 5 },
    { step: 3, group: "paid calls", calls: 40 },
    { step: 3, group: "cache hits", calls: 30 },
  ]);
});

Deno.test("trajectoryPoints: train, dev and test per step, plus the selected prompt's test", () => {
  const step = (n: number, train: boolean, test: boolean) => ({
    step: n,
    kind: "iteration",
    promptChars: 10,
    train: train ? metrics(n / 2, 0.3) : null,
    dev: metrics(n / 4, 0.2),
    test: test ? metrics(0.45, null) : null,
    selection: n,
    selected: true,
    topics: [],
    action: "patch",
    decisionAttempts: 1,
    rejections: [],
    diagnoseCalls: 1,
    warnings: [],
  });
  const run = {
    summary: {
      steps: [step(1, true, true), step(2, false, false)],
      selected: { step: 2, test: metrics(0.7, 0.1) },
    },
    state: null,
  } as unknown as RunRecord;
  assert.deepEqual(trajectoryPoints(run).map((p) => [p.step, p.split, p.score, p.brier]), [
    [1, "train", 0.5, 0.3],
    [1, "dev", 0.25, 0.2],
    [1, "test", 0.45, null],
    [2, "dev", 0.5, 0.2],
    [2, "test", 0.7, 0.1],
  ]);
});
