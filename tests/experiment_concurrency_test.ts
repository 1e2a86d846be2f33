/**
 * Cells of an experiment that run at the same time share ONE concurrency limit per provider
 * endpoint: a plan's `concurrency: 3` against one server means at most 3 requests in flight
 * there, whatever the number of cells (an API key's rate limit is the account's, not the
 * cell's). A local OpenAI-compatible server counts the requests in flight; the experiment
 * runs RPT and GEPA cells, 4 at a time, against it.
 *
 * It also found a deadlock: a baseline cell's provider cache (a wrapper that takes no slot,
 * under the budget meter, inside the harness wrapper's slot) waited for the same request an
 * RPT cell had in flight through the experiment's one cache file, still queued for a slot;
 * with every slot held so, each call waited for its timeout (`mayJoin` in `lib/llm/wrap.ts`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { absolutePlan, parsePlan } from "../lib/experiment/plan.ts";
import { runExperiment } from "../lib/experiment/runner.ts";
import type { ChatModel } from "../lib/llm/model.ts";
import { serveModels } from "../lib/llm/serve.ts";
import { resetProviderLimiters } from "../lib/llm/wrap.ts";
import { createSimChatModel } from "../lib/sim/mod.ts";
import { tempDir } from "./support/toy_loop.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** The simulated target behind a counter of the requests in flight (and a little latency). */
function countedTarget(latencyMs: number) {
  const sim = createSimChatModel("target", { seed: 0 });
  const seen = { inFlight: 0, peak: 0, calls: 0 };
  const model: ChatModel = {
    provider: sim.provider,
    model: sim.model,
    async chat(request, options) {
      seen.calls++;
      seen.peak = Math.max(seen.peak, ++seen.inFlight);
      try {
        await new Promise((r) => setTimeout(r, latencyMs));
        return await sim.chat(request, options);
      } finally {
        seen.inFlight--;
      }
    },
  };
  return { model, seen };
}

Deno.test("concurrent experiment cells share one provider limit: the server's peak in flight is the plan's concurrency", async () => {
  await using dir = await tempDir();
  resetProviderLimiters();
  const { model, seen } = countedTarget(15);
  await using server = serveModels({ models: { "sim-target": model } });
  const concurrency = 3;
  const plan = absolutePlan(
    parsePlan({
      name: "shared-limit",
      tasks: ["synthetic"],
      methods: ["rpt", "gepa"],
      models: {
        target: `openai-compatible:sim-target@${server.url}/v1`,
        optimizer: "sim:optimizer",
      },
      settings: { iterations: 1, retries: 0, limits: { train: 12, dev: 12, test: 12 } },
      seeds: [0, 1],
      concurrency,
    }),
    ROOT,
  );
  const running = new Set<string>();
  let cellsAtOnce = 0;
  const outcome = await runExperiment({
    dir: join(dir.path, "exp"),
    plan,
    parallel: 4,
    env: {},
    // Short enough that a deadlock fails the test in seconds (each call takes ~15 ms).
    timeoutMs: 20_000,
    onEvent: (e) => {
      if (e.type !== "cell") return;
      if (e.state === "running") running.add(e.id);
      else running.delete(e.id);
      cellsAtOnce = Math.max(cellsAtOnce, running.size);
    },
  });
  const errors = outcome.index.cells.flatMap((c) => c.error ? [`${c.id}: ${c.error}`] : []);
  assert.deepEqual(errors, []);
  assert.deepEqual(outcome.counts, { pending: 0, running: 0, finished: 4, failed: 0 });
  assert.equal(cellsAtOnce, 4);
  assert.ok(seen.calls > 4 * concurrency, `only ${seen.calls} target calls`);
  // Reached (the test can see a limit), and never passed by the cells together.
  assert.equal(seen.peak, concurrency);
  assert.equal(server.counts.received, server.counts.answered);
});
