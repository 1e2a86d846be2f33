/**
 * The CPU floor of the CLI bench's scenario (issue 16, section 1): what a process that does
 * nothing but send the same calls costs, so that `bench:cli`'s client CPU per call can be set
 * against what the runtime and the SDK need on this machine. Run with `deno task bench:floor`
 * (or `deno run -A bench/cpu_floor.ts [calls] [latency ms] [rounds]`); needs the paper's data
 * (`RPT_DATA_DIR`, default `/work/shared/data`) for HotPotQA-sized prompts.
 *
 * A server in a child process (`bench/client_cpu.ts --serve`) answers every chat call with a
 * fixed valid answer after the given latency (default 50 ms, as `bench:cli`'s proxy). Each
 * client is a fresh process that reads the requests from a file and sends them at concurrency
 * 32, then reports its own CPU (`process.cpuUsage`, every thread) from process start and for
 * the calls alone, and its main thread's share (`/proc/self/task`). Clients:
 *
 * - `fetch`: Deno's `fetch` with the request body, nothing else;
 * - `sdk`: the OpenAI SDK as it comes (`chat.completions.create`);
 * - `model`: rpt's `OpenAIChatModel.chat` (lean request building, raw response parsing), the
 *   path `rpt optimize` takes for an `openai-compatible:` target, without cache, wrapper or
 *   scoring.
 *
 * It also measures what one event-loop wake-up costs here: 1,000 timers of 3 ms, one after the
 * other, in a fresh process (Deno, and Node when it is on the PATH). On a VM this is far from
 * free, and a run that waits on many calls wakes up about once per answer.
 *
 * @module
 */
import process from "node:process";
import { getTask } from "../lib/tasks/registry.ts";

const SELF = new URL(import.meta.url).pathname;
const CONCURRENCY = 32;

/** What one client process reports (ms of CPU, every thread unless said). */
interface ClientFigures {
  mode: string;
  calls: number;
  totalMs: number;
  callsMs: number;
  mainThreadMs: number;
}

/** CPU of the main thread so far, from `/proc/self/task/<pid>/stat` (Linux). */
function mainThreadCpuMs(): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
  } catch {
    return Number.NaN;
  }
}

type Send = (request: Record<string, unknown>) => Promise<unknown>;

async function sender(mode: string, baseURL: string): Promise<Send> {
  if (mode === "sdk") {
    const { default: OpenAI } = await import("openai");
    const sdk = new OpenAI({ apiKey: "x", baseURL, maxRetries: 0 });
    return (request) => sdk.chat.completions.create(request as never);
  }
  if (mode === "model") {
    const { OpenAIChatModel } = await import("../lib/llm/openai.ts");
    const model = new OpenAIChatModel({
      model: "instant",
      apiKey: "x",
      baseURL,
      provider: "openai-compatible",
    });
    return (request) => {
      const format = request.response_format as { json_schema: { name: string; schema: never } };
      return model.chat({
        messages: request.messages as never,
        outputSchema: { name: format.json_schema.name, schema: format.json_schema.schema },
        temperature: 0,
      });
    };
  }
  return async (request) => {
    const res = await fetch(`${baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer x" },
      body: JSON.stringify(request),
    });
    return await res.json();
  };
}

/** The client process: sends every request of the file, prints its figures as JSON. */
async function runClient(mode: string, baseURL: string, file: string): Promise<void> {
  const requests = JSON.parse(await Deno.readTextFile(file)) as Record<string, unknown>[];
  const send = await sender(mode, baseURL);
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) await send(requests[next++] as Record<string, unknown>);
    }),
  );
  const total = process.cpuUsage();
  const calls = process.cpuUsage(before);
  const figures: ClientFigures = {
    mode,
    calls: requests.length,
    totalMs: (total.user + total.system) / 1000,
    callsMs: (calls.user + calls.system) / 1000,
    mainThreadMs: mainThreadCpuMs(),
  };
  console.log(JSON.stringify(figures));
}

/** CPU per timer wake-up of a fresh process (µs), for one runtime. */
async function wakeUpCostUs(runtime: "deno" | "node"): Promise<number | undefined> {
  const script = "const n=1000;const t0=process.cpuUsage();let i=0;" +
    "const tick=()=>{if(++i<n)setTimeout(tick,3);else{const d=process.cpuUsage(t0);" +
    "console.log((d.user+d.system)/n);}};setTimeout(tick,3);";
  const args = runtime === "deno"
    ? ["eval", `import process from "node:process";${script}`]
    : ["-e", script];
  try {
    const out = await new Deno.Command(runtime === "deno" ? Deno.execPath() : "node", {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    const value = Number(new TextDecoder().decode(out.stdout).trim());
    return out.success && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined; // Node is not on the PATH.
  }
}

/** N distinct HotPotQA requests (seed prompt, train examples), as `bench:cpu` builds them. */
async function writeRequests(calls: number, file: string): Promise<void> {
  const dataDir = Deno.env.get("RPT_DATA_DIR") ?? "/work/shared/data";
  const task = await getTask("hotpotqa");
  const train = await task.load("train", { dataDir });
  const requests = Array.from({ length: calls }, (_, i) => {
    const e = train[i % train.length];
    if (e === undefined) throw new Error("the train split is empty");
    return {
      model: "instant",
      messages: task.render(task.seedPrompt, { ...e, question: `${e.question} [${i}]` }),
      temperature: 0,
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: task.outputSchema, strict: true },
      },
    };
  });
  await Deno.writeTextFile(file, JSON.stringify(requests));
}

async function runOnce(mode: string, baseURL: string, file: string): Promise<ClientFigures> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, "--client", mode, baseURL, file],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) throw new Error(`the ${mode} client failed: ${text}`);
  return JSON.parse(text) as ClientFigures;
}

function row(name: string, values: number[], unit: string): string {
  const shown = values.map((v) => v.toFixed(3)).join(" ");
  return `  ${name.padEnd(34)} ${shown.padEnd(26)} min ${Math.min(...values).toFixed(3)} ${unit}`;
}

async function main(): Promise<void> {
  const calls = Number(Deno.args[0] ?? 2072);
  const latencyMs = Number(Deno.args[1] ?? 50);
  const rounds = Number(Deno.args[2] ?? 3);
  const dir = await Deno.makeTempDir({ prefix: "rpt-bench-floor-" });
  const file = `${dir}/requests.json`;
  await writeRequests(calls, file);
  // Imported here only: the clients (this file with --client) must not load bench:cpu's modules.
  const { startServer } = await import("./client_cpu.ts");
  const server = await startServer(latencyMs);
  const baseURL = `${server.url}/v1`;
  const results = new Map<string, ClientFigures[]>();
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of ["fetch", "sdk", "model"]) {
        results.set(mode, [
          ...(results.get(mode) ?? []),
          await runOnce(mode, baseURL, file),
        ]);
      }
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
  console.log(
    `CPU floor: ${calls} HotPotQA-sized calls at concurrency ${CONCURRENCY}, server latency ` +
      `${latencyMs} ms, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno} ` +
      `(each client a fresh process; ${rounds} rounds):`,
  );
  for (const [mode, figures] of results) {
    console.log(row(`${mode}: process CPU / calls`, figures.map((f) => f.totalMs / calls), "ms"));
    console.log(
      row(`${mode}: the calls alone / calls`, figures.map((f) => f.callsMs / calls), "ms"),
    );
    console.log(
      row(`${mode}: main thread / calls`, figures.map((f) => f.mainThreadMs / calls), "ms"),
    );
  }
  for (const runtime of ["deno", "node"] as const) {
    const us = [];
    for (let r = 0; r < rounds; r++) us.push(await wakeUpCostUs(runtime));
    const known = us.filter((v): v is number => v !== undefined);
    if (known.length > 0) {
      console.log(row(`${runtime}: CPU per 3 ms timer wake-up`, known.map((v) => v / 1000), "ms"));
    }
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--client") {
    await runClient(Deno.args[1] ?? "fetch", Deno.args[2] ?? "", Deno.args[3] ?? "");
  } else await main();
}
