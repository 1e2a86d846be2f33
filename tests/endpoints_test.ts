/**
 * Resume goes where the run went (issue 14, point 7): the server each role's model was sent
 * to, from a spec or from `OPENAI_BASE_URL` / `GOOGLE_GEMINI_BASE_URL`, is recorded in
 * `config.json` without credentials, and `rpt resume` sends there, warning when the
 * environment now names another server (or none).
 */
import assert from "node:assert/strict";
import { startSimServer } from "../lib/cli/sim_server.ts";
import { endpointsOf, followRecorded } from "../lib/revise/endpoints.ts";
import { parseRunConfig } from "../lib/run/config.ts";
import { rpt } from "./support/cli.ts";
import { tempDir } from "./support/toy_loop.ts";

const KEY = "sk-test-never-written-anywhere";

function args(runDir: string): string[] {
  return [
    "optimize",
    "--task",
    "synthetic",
    "--target",
    "openai:sim-target",
    "--optimizer",
    "sim:optimizer",
    "--iterations",
    "2",
    "--limit-train",
    "8",
    "--limit-dev",
    "8",
    "--limit-test",
    "8",
    "--retries",
    "0",
    "--run-dir",
    runDir,
    "--cache",
    `${runDir}.sqlite`,
    "--quiet",
  ];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else out.push(path);
  }
  return out;
}

Deno.test({
  name:
    "OPENAI_BASE_URL is recorded in config.json; resume without it (or with another) goes to the recorded server, with a warning",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    await using used = startSimServer({});
    await using other = startSimServer({});
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${used.url}/v1` };

    // An incomplete first session (every call fails), so that there is something to resume.
    used.faults.rates = { status500: 1 };
    const runDir = `${dir.path}/run`;
    const first = await rpt(args(runDir), env);
    assert.equal(first.code, 3, first.stderr);
    const config = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
    assert.deepEqual(config.endpoints, { target: `${used.url}/v1` });
    assert.equal(config.target, "openai:sim-target");
    for (const file of await filesUnder(runDir)) {
      assert.ok(!(await Deno.readTextFile(file)).includes(KEY), `${file} holds the key`);
    }

    // Resumed with OPENAI_BASE_URL unset: still the recorded server, and a warning.
    used.faults.rates = {};
    const before = used.counts.received;
    const resumed = await rpt(["resume", runDir, "--quiet"], { OPENAI_API_KEY: KEY });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(
      resumed.stderr.trimEnd(),
      `rpt: OPENAI_BASE_URL is not set now (the default is https://api.openai.com/v1), but ` +
        `this run's target (openai:sim-target) went to ${used.url}/v1; the rest of the run goes ` +
        `there too`,
    );
    assert.ok(used.counts.received > before);

    // Resumed with another server in the environment: warned about, and not used.
    used.faults.rates = { status500: 1 };
    const second = `${dir.path}/second`;
    assert.equal((await rpt(args(second), env)).code, 3);
    used.faults.rates = {};
    const elsewhere = await rpt(["resume", second, "--quiet"], {
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: `${other.url}/v1`,
    });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.match(
      elsewhere.stderr,
      new RegExp(
        `^rpt: OPENAI_BASE_URL now points to ${other.url}/v1, but this run's target ` +
          `\\(openai:sim-target\\) went to ${used.url}/v1; the rest of the run goes there too\\n$`,
      ),
    );
    assert.equal(other.counts.received, 0);

    // The same server as recorded: no warning.
    const third = `${dir.path}/third`;
    used.faults.rates = { status500: 1 };
    assert.equal((await rpt(args(third), env)).code, 3);
    used.faults.rates = {};
    const same = await rpt(["resume", third, "--quiet"], env);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stderr, "");
  },
});

Deno.test("endpoints: from specs and the environment (Gemini's too), credentials stripped; followed on resume", () => {
  const config = parseRunConfig({
    task: "synthetic",
    target: "gemini:gemini-2.5-flash",
    optimizer: "openai-compatible:q@http://u:pw@127.0.0.1:8000/v1?key=k",
    embedder: "sim:embed",
  });
  const e = endpointsOf(config, {
    GOOGLE_GEMINI_BASE_URL: "https://user:secret@gemini-proxy.example/",
  });
  assert.deepEqual(e, {
    target: "https://gemini-proxy.example",
    optimizer: "http://127.0.0.1:8000/v1",
    critic: "http://127.0.0.1:8000/v1",
    cluster: "http://127.0.0.1:8000/v1",
  });
  // Resuming: a spec with its own URL is left alone; the default server is kept as default.
  assert.deepEqual(
    followRecorded("optimizer", config.optimizer, e.optimizer, {}),
    { spec: config.optimizer, env: {} },
  );
  const back = followRecorded(
    "target",
    "gemini:gemini-2.5-flash",
    "https://generativelanguage.googleapis.com",
    { GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9/" },
  );
  assert.equal(back.spec, "gemini:gemini-2.5-flash");
  assert.equal(back.env?.GOOGLE_GEMINI_BASE_URL, "");
  assert.match(back.warning ?? "", /GOOGLE_GEMINI_BASE_URL now points to http:\/\/127\.0\.0\.1:9/);
});
