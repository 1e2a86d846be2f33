/**
 * Budgets are enforced or refused (issue 14, point 6): a dollar budget over a model without
 * a known price refuses to start and says how to give one (`--price MODEL=IN/OUT`, `prices`
 * in a config file) or to budget calls; with a price the budget stops the run; and an unknown
 * price is shown as "unpriced", never `$0.0000`, in the dry run, the end of a run, `rpt
 * show`, the report and `rpt compare`.
 */
import assert from "node:assert/strict";
import { startSimServer } from "../lib/cli/sim_server.ts";
import { RunSummary, RunUsage } from "../lib/run/schema.ts";
import { deadPort, rpt, stackTraceIn } from "./support/cli.ts";
import { tempDir } from "./support/toy_loop.ts";

function run(target: string, runDir: string, extra: string[]): string[] {
  return [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    target,
    "--optimizer",
    "sim:optimizer",
    "--iterations",
    "3",
    "--limit-train",
    "12",
    "--limit-dev",
    "12",
    "--limit-test",
    "12",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.sqlite`,
    "--quiet",
    ...extra,
  ];
}

Deno.test({
  name: "--budget-usd with an unpriced model refuses to start and says how to price it",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({});
    const target = `openai-compatible:sim-target@${server.url}/v1`;
    const refused = await rpt(run(target, `${dir.path}/refused`, ["--budget-usd", "0.001"]));
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(stackTraceIn(refused.stderr), undefined);
    assert.equal(
      refused.stderr.trimEnd(),
      `rpt optimize: --budget-usd: no price is known for openai-compatible:sim-target (target), ` +
        `so a dollar budget cannot be enforced; give the price in USD per million input/output ` +
        `tokens with --price sim-target=IN/OUT (in a --config file: "prices": {"sim-target": ` +
        `{"inputPerMTok": IN, "outputPerMTok": OUT}}), or limit paid calls with --budget-calls ` +
        `N instead`,
    );
    assert.equal(server.counts.received, 0, "nothing was sent");
    await assert.rejects(Deno.stat(`${dir.path}/refused`));

    // Priced on the command line: the budget is enforced (the run stops on it).
    const priced = await rpt(
      run(target, `${dir.path}/priced`, ["--budget-usd", "0.01", "--price", "sim-target=1/2"]),
    );
    assert.equal(priced.code, 0, priced.stderr);
    const summary = RunSummary.parse(
      JSON.parse(await Deno.readTextFile(`${dir.path}/priced/summary.json`)),
    );
    assert.equal(summary.stop.kind, "budget");
    const usage = RunUsage.parse(
      JSON.parse(await Deno.readTextFile(`${dir.path}/priced/usage.json`)),
    );
    // A full run costs about $0.022; the budget may be overshot by the output of calls in flight.
    assert.ok(usage.total.usd > 0.005 && usage.total.usd <= 0.0115, String(usage.total.usd));
    assert.deepEqual(usage.total.unpriced, []);
    assert.match(priced.stdout, /^cost: \$0\.0\d{3} \(/m);

    // The config-file equivalent.
    await Deno.writeTextFile(
      `${dir.path}/prices.json`,
      JSON.stringify({ prices: { "sim-target": { inputPerMTok: 1, outputPerMTok: 2 } } }),
    );
    const fromFile = await rpt(
      run(target, `${dir.path}/file`, [
        "--budget-usd",
        "0.01",
        "--config",
        `${dir.path}/prices.json`,
      ]),
    );
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(
      await Deno.readTextFile(`${dir.path}/file/summary.json`),
      await Deno.readTextFile(`${dir.path}/priced/summary.json`),
    );

    const bad = await rpt(run(target, `${dir.path}/bad`, ["--price", "sim-target=cheap"]));
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--price: expected MODEL=IN\/OUT in USD per million input\/output tokens/,
    );
  },
});

Deno.test({
  name:
    "an unknown price is 'unpriced', never $0.0000: dry run, end of run, show, report, compare; --budget-calls works without prices",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using server = startSimServer({});
    const target = `openai-compatible:sim-target@${server.url}/v1`;
    const dry = await rpt(run(target, `${dir.path}/dry`, ["--dry-run", "--budget-usd", "1"]));
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /target +openai-compatible:sim-target@\S+ .* unpriced$/m);
    assert.match(dry.stdout, /total: .* at most unpriced \(openai-compatible:sim-target@/);
    assert.match(dry.stdout, /a run with --budget-usd refuses to start while a model is unpriced/);
    // The simulator's roles are free ($0.00); only the target has no price.
    assert.match(dry.stdout, /critic +sim:optimizer .* \$0\.00$/m);

    const runDir = `${dir.path}/run`;
    const r = await rpt(run(target, runDir, ["--budget-calls", "60"]));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^cost: unpriced \(openai-compatible:sim-target\) \(\d+ calls/m);
    const summary = RunSummary.parse(JSON.parse(await Deno.readTextFile(`${runDir}/summary.json`)));
    assert.equal(summary.stop.kind, "budget");
    assert.match(summary.stop.reason, /call budget of 60 reached/);

    const show = await rpt(["show", runDir]);
    assert.match(show.stdout, /^cost: unpriced \(openai-compatible:sim-target\); \d+ paid calls/m);
    assert.doesNotMatch(show.stdout, /\$0\.0000/);
    assert.equal((await rpt(["report", runDir])).code, 0);
    const html = await Deno.readTextFile(`${runDir}/report.html`);
    assert.match(html, /<td>unpriced \(openai-compatible:sim-target\)<\/td>/);
    assert.match(html, /no price is known for openai-compatible:sim-target/);
    assert.doesNotMatch(html, /\$0\.0000/);

    const compare = await rpt([
      "compare",
      "--task",
      "synthetic",
      "--target",
      target,
      "--methods",
      "gepa",
      "--budget-calls",
      "30",
      "--limit-train",
      "8",
      "--limit-dev",
      "8",
      "--limit-test",
      "8",
      "--quiet",
    ]);
    assert.equal(compare.code, 0, compare.stderr);
    assert.match(compare.stdout, /^\| gepa \|.*\| unpriced \| \d+ \|$/m);
  },
});

Deno.test({
  name:
    "every call to an unpriced target failed: rpt show says unpriced, not $0.0000, for the calls sent",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const port = deadPort();
    const runDir = `${dir.path}/run`;
    const r = await rpt(
      run(`openai-compatible:sim-target@http://127.0.0.1:${port}/v1`, runDir, ["--retries", "0"]),
    );
    assert.equal(r.code, 3, r.stderr);
    const usage = RunUsage.parse(JSON.parse(await Deno.readTextFile(`${runDir}/usage.json`)));
    const target = usage.sessions[0]?.usage.models["openai-compatible:sim-target"];
    assert.equal(target?.calls, 0);
    assert.equal(target?.failures, 12, "12 dev calls sent, none answered");
    assert.deepEqual(usage.total.unpriced, ["openai-compatible:sim-target"]);
    const show = await rpt(["show", runDir]);
    assert.match(show.stdout, /^cost: unpriced \(openai-compatible:sim-target\); 0 paid calls/m);
    assert.doesNotMatch(show.stdout, /\$0\.0000/);
  },
});
