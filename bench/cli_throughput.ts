/**
 * Throughput of the real CLI path (issue 16, section 1). Prints figures; run with
 * `deno task bench:cli` (or `deno run -A bench/cli_throughput.ts [--quick]`).
 *
 * Three processes, as in real use: `rpt sim-server` (the simulated models over HTTP), a
 * latency proxy in front of it (adds a fixed delay to every call and records each call's
 * start and end), and `rpt optimize --task hotpotqa` with every role on an
 * `openai-compatible:` spec pointed at the proxy. From the proxy's timeline and the client's
 * CPU and RSS (sampled from `/proc/<pid>`, plus the client's own `getrusage` at exit) it
 * reports, per scenario:
 *
 * - the time of the first 300 target calls against the ideal ceil(300 / C) x L, with L the
 *   median call time the proxy saw;
 * - slot occupancy while calls are queued: the time-weighted share of the C slots in flight
 *   between the first target call's start and the 300th's start (calls are still waiting
 *   for a slot throughout that window);
 * - client CPU per provider call (the whole process, SDK included) over the whole run, and
 *   split into start-up (the CPU before the first call: modules, data, specs, cache), the
 *   steady state (CPU per call between the first call and the last) and the tail after the
 *   last call;
 * - peak and per-step RSS;
 * - for the re-run on the same cache: provider calls (should be 0) and CPU per cached call.
 *
 * Scenarios: C = 32 / L = 50 ms, 1 iteration (fresh cache), then the same run again fully
 * cached; C = 128 / L = 200 ms, 5 iterations (`--quick` skips it). Every scenario runs
 * `--repeat N` times (default 2) because the machine is shared.
 *
 * Options: `--quick`, `--repeat N`, `--client-flags "..."` and `--server-flags "..."` (extra
 * `deno run` flags for the client or the sim-server, e.g. a CPU profile), `--timeline DIR`,
 * `--client-view` (occupancy as the client saw its own calls too: the proxy and the
 * sim-server share the client's two cores, so the proxy's view includes their delays).
 *
 * Needs the paper's data (`RPT_DATA_DIR`, default `/work/shared/data`).
 *
 * @module
 */
import process from "node:process";

const ROOT = new URL("../", import.meta.url).pathname;
const CLI = `${ROOT}lib/cli.ts`;
const SELF = new URL(import.meta.url).pathname;
/**
 * `--client-flags "..."`: extra `deno run` flags for the client, e.g.
 * `"--cpu-prof --cpu-prof-dir=/tmp/prof"` or `"--v8-flags=--trace-gc"`.
 */
const FLAGS_AT = Deno.args.indexOf("--client-flags");
const PROFILE = FLAGS_AT >= 0 && Deno.args[0] !== "--client"
  ? (Deno.args[FLAGS_AT + 1] ?? "").split(" ").filter((f) => f !== "")
  : [];
/** `--server-flags "..."`: extra `deno run` flags for the sim-server (e.g. a CPU profile). */
const SERVER_FLAGS_AT = Deno.args.indexOf("--server-flags");
const SERVER_FLAGS = SERVER_FLAGS_AT >= 0
  ? (Deno.args[SERVER_FLAGS_AT + 1] ?? "").split(" ").filter((f) => f !== "")
  : [];
/**
 * `--heap-profile PREFIX`: each client run writes a V8 sampling heap profile (every
 * allocation, with its stack) to `PREFIX.<time>`; with `--heap-survivors`, only what lived
 * through the young-generation GCs (what got promoted, or was allocated old). Read them with
 * Chrome DevTools or a script over `head.children[].selfSize`.
 */
const HEAP_AT = Deno.args.indexOf("--heap-profile");
const HEAP_PREFIX = HEAP_AT >= 0 ? Deno.args[HEAP_AT + 1] : undefined;
const HEAP_SURVIVORS = Deno.args.includes("--heap-survivors");
/** `--timeline DIR`: each scenario's proxy timeline is written there as JSON. */
const TIMELINE_AT = Deno.args.indexOf("--timeline");
const TIMELINE_DIR = TIMELINE_AT >= 0 ? Deno.args[TIMELINE_AT + 1] : undefined;

/** One call as the proxy saw it (epoch ms with sub-ms precision). */
interface CallRecord {
  model: string;
  path: string;
  start: number;
  end: number;
  status: number;
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------------------------------------
// Child roles: the proxy and the instrumented client

async function runProxy(upstream: string): Promise<void> {
  let delayMs = 0;
  let calls: CallRecord[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/__control") {
      if (req.method === "POST") {
        const order = controlOrder(url.searchParams);
        if (order.delayMs !== undefined) delayMs = order.delayMs;
        if (order.reset) calls = [];
        return Response.json({ ok: true });
      }
      return Response.json(calls);
    }
    const start = nowMs();
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.text();
    // The SDK writes `model` first; reading it without parsing keeps the proxy light.
    const model = /"model"\s*:\s*"([^"]*)"/.exec(body?.slice(0, 300) ?? "")?.[1] ?? "";
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    // Only the headers the servers read, as plain records: the proxy shares the client's two
    // cores, so it should cost as little CPU as it can.
    const headers: Record<string, string> = {};
    for (const name of ["content-type", "authorization", "x-goog-api-key", "accept"]) {
      const value = req.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const res = await fetch(`${upstream}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body,
    });
    const payload = await res.arrayBuffer();
    const outHeaders: Record<string, string> = {};
    for (const name of ["content-type", "retry-after"]) {
      const value = res.headers.get(name);
      if (value !== null) outHeaders[name] = value;
    }
    calls.push({ model, path: url.pathname, start, end: nowMs(), status: res.status });
    return new Response(payload, { status: res.status, headers: outHeaders });
  });
  console.log(`http://127.0.0.1:${server.addr.port}`);
  for await (const _ of Deno.stdin.readable) {
    // Runs until the parent closes stdin.
  }
  await server.shutdown();
}

/**
 * `--client-view`: the client also records its own view of its calls (each `fetch` from its
 * call to its answer's headers, in the client's clock). Beside the proxy's view it separates
 * the client's turnaround from the time the proxy, on the same two cores, takes to pass a
 * call on. Off by default: the wrapper costs the client a little CPU.
 */
const CLIENT_VIEW = Deno.args.includes("--client-view") ||
  Deno.env.get("RPT_BENCH_CLIENT_VIEW") === "1";

function recordFetches(): CallRecord[] {
  const records: CallRecord[] = [];
  if (!CLIENT_VIEW) return records;
  const inner = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const start = nowMs();
    const body = typeof init?.body === "string" ? init.body.slice(0, 300) : "";
    const model = /"model"\s*:\s*"([^"]*)"/.exec(body)?.[1] ?? "";
    const res = await inner(input, init);
    records.push({ model, path: "", start, end: nowMs(), status: res.status });
    return res;
  };
  return records;
}

/**
 * The process's CPU at its first `fetch`: the exact start-up (modules, data, specs, cache),
 * where the /proc samples step by 50 ms. The wrapper takes itself out after that call.
 */
function cpuAtFirstFetch(): { ms?: number } {
  const seen: { ms?: number } = {};
  const inner = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (seen.ms === undefined) {
      const cpu = process.cpuUsage();
      seen.ms = (cpu.user + cpu.system) / 1000;
      globalThis.fetch = inner;
    }
    return inner(input, init);
  };
  return seen;
}

/** A control request's orders, from its query string (so the TCP proxy reads one line). */
function controlOrder(query: URLSearchParams): { delayMs?: number; reset: boolean } {
  const delay = query.get("delayMs");
  return { ...(delay === null ? {} : { delayMs: Number(delay) }), reset: query.has("reset") };
}

/**
 * The default proxy: it passes bytes between each client connection and a connection of its
 * own to the server, holding each request `delayMs` from its first byte, and never parses
 * HTTP beyond the first line and the `model` field. The HTTP proxy above (`--proxy-kind
 * http`) spent 0.36-0.40 ms of CPU per call on the client's two cores, and a burst of 32
 * answers queued in it for milliseconds: the proxy's own turnaround was measured against the
 * client. The network it stands for costs the client's machine nothing.
 *
 * HTTP/1.1 clients do not pipeline: on a connection, a request is answered before the next
 * is sent, so the first bytes sent after an answer start a call and the answer's first bytes
 * end it. `/__control` requests are answered by the proxy itself.
 */
async function runTcpProxy(upstream: string): Promise<void> {
  const target = new URL(upstream);
  const state = { delayMs: 0, calls: [] as CallRecord[] };
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`);
  (async () => {
    for await (const conn of listener) {
      passThrough(conn, target, state).catch(() => conn.close());
    }
  })().catch(() => {});
  for await (const _ of Deno.stdin.readable) {
    // Runs until the parent closes stdin.
  }
  listener.close();
}

const latin1 = new TextDecoder("latin1");

async function passThrough(
  client: Deno.TcpConn,
  target: URL,
  state: { delayMs: number; calls: CallRecord[] },
): Promise<void> {
  const buf = new Uint8Array(1 << 16);
  const first = await client.read(buf);
  if (first === null) return client.close();
  const head = latin1.decode(buf.subarray(0, Math.min(first, 2048)));
  const line = /^(\S+) (\S+) HTTP/.exec(head);
  if (line?.[2]?.startsWith("/__control")) return answerControl(client, line, state);
  const server = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
  // Small writes must leave at once, as they would through the network it stands for.
  client.setNoDelay(true);
  server.setNoDelay(true);
  let current: CallRecord | undefined;
  let sending = Promise.resolve();
  const forward = (chunk: Uint8Array, text: string) => {
    const now = nowMs();
    if (current === undefined) {
      const path = /^\S+ (\S+)/.exec(text)?.[1] ?? "";
      const model = /"model"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? "";
      current = { model, path: path.split("?")[0] ?? "", start: now, end: now, status: 0 };
    } else if (current.model === "") {
      // The headers and the body can come in separate reads.
      current.model = /"model"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? "";
    }
    const at = current.start + state.delayMs;
    sending = sending.then(async () => {
      const wait = at - nowMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await writeAll(server, chunk);
    });
  };
  forward(buf.slice(0, first), head);
  const up = (async () => {
    for (let n = await client.read(buf); n !== null; n = await client.read(buf)) {
      forward(buf.slice(0, n), latin1.decode(buf.subarray(0, Math.min(n, 2048))));
    }
    await sending;
  })();
  const down = (async () => {
    const back = new Uint8Array(1 << 16);
    for (let n = await server.read(back); n !== null; n = await server.read(back)) {
      if (current !== undefined) {
        current.end = nowMs();
        current.status = Number(/^HTTP\/\S+ (\d+)/.exec(latin1.decode(back.subarray(0, 32)))?.[1]);
        state.calls.push(current);
        current = undefined;
      }
      await writeAll(client, back.subarray(0, n));
    }
  })();
  await Promise.race([up, down]).catch(() => {});
  try {
    client.close();
  } catch { /* closed already */ }
  try {
    server.close();
  } catch { /* closed already */ }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

async function answerControl(
  client: Deno.TcpConn,
  line: RegExpExecArray,
  state: { delayMs: number; calls: CallRecord[] },
): Promise<void> {
  let body = '{"ok":true}';
  if (line[1] === "POST") {
    const order = controlOrder(new URL(line[2] ?? "", "http://proxy").searchParams);
    if (order.delayMs !== undefined) state.delayMs = order.delayMs;
    if (order.reset) state.calls = [];
  } else body = JSON.stringify(state.calls);
  const bytes = new TextEncoder().encode(body);
  await writeAll(
    client,
    new TextEncoder().encode(
      `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\n` +
        "connection: close\r\n\r\n",
    ),
  );
  await writeAll(client, bytes);
  client.close();
}

/** Runs the CLI in this process, then writes this process's own rusage to `out`. */
/** Starts V8's sampling heap profiler; the function returned stops it and writes the profile. */
async function sampleHeap(out: string, survivorsOnly: boolean): Promise<() => Promise<void>> {
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (e: unknown, r: unknown) => e ? reject(e) : resolve(r))
    );
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 2048,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: !survivorsOnly,
  });
  return async () => {
    const { profile } = await post("HeapProfiler.stopSampling") as { profile: unknown };
    await Deno.writeTextFile(out, JSON.stringify(profile));
  };
}

async function runClient(out: string, args: string[]): Promise<void> {
  // With --expose-gc: a full GC every second, recording what survives it (the memory the
  // run holds, without the garbage V8 leaves for its next major GC).
  const gc = (globalThis as { gc?: () => void }).gc;
  const retained: { t: number; heapMiB: number; rssMiB: number }[] = [];
  const started = performance.now();
  const sampler = gc === undefined ? undefined : setInterval(() => {
    gc();
    const m = Deno.memoryUsage();
    retained.push({
      t: (performance.now() - started) / 1000,
      heapMiB: m.heapUsed / 2 ** 20,
      rssMiB: m.rss / 2 ** 20,
    });
  }, 1000);
  if (sampler !== undefined) Deno.unrefTimer(sampler);
  const fetches = recordFetches();
  const firstFetch = cpuAtFirstFetch();
  const heap = Deno.env.get("RPT_BENCH_HEAP_PROFILE");
  const stopHeap = heap === undefined
    ? undefined
    : await sampleHeap(heap, Deno.env.get("RPT_BENCH_HEAP_SURVIVORS") === "1");
  const { main } = await import(CLI);
  const code = await main(args) as number;
  await stopHeap?.();
  clearInterval(sampler);
  const cpu = process.cpuUsage();
  await Deno.writeTextFile(
    out,
    JSON.stringify({
      code,
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      maxRssKiB: process.resourceUsage().maxRSS,
      retained,
      fetches,
      firstFetchCpuMs: firstFetch.ms,
    }),
  );
  Deno.exit(code);
}

// ---------------------------------------------------------------------------------------------
// Orchestration

interface Proc {
  url: string;
  child: Deno.ChildProcess;
  stop(): Promise<void>;
}

async function startLineServer(args: string[], match: RegExp, stdinPiped: boolean): Promise<Proc> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: stdinPiped ? "piped" : "null",
    stdout: "piped",
    stderr: "inherit",
    env: { RPT_DATA_DIR: dataDir() },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`process exited before printing its URL: ${args.join(" ")}`);
    buffered += value;
    url = match.exec(buffered)?.[1];
  }
  // Keep draining so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return {
    url,
    child,
    async stop() {
      if (stdinPiped) await child.stdin.close();
      else child.kill("SIGTERM");
      await child.status;
    },
  };
}

function dataDir(): string {
  return Deno.env.get("RPT_DATA_DIR") ?? "/work/shared/data";
}

interface Sample {
  t: number;
  cpuMs: number;
  rssKiB: number;
}

/** CPU ms of each of the process's threads, by thread name (the last sample of each). */
function threadCpu(pid: number, into: Map<string, number>): void {
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
      into.set(`${name}#${entry.name}`, ms);
    }
  } catch {
    // The process (or a thread) is gone.
  }
}

function threadSummary(threads: Map<string, number>): string {
  const byName = new Map<string, number>();
  for (const [key, ms] of threads) {
    const name = key.slice(0, key.lastIndexOf("#")).replace(/\d+$/, "N");
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  return [...byName].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms > 0)
    .map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(", ");
}

const CLK_TCK = 100;

function readProc(pid: number): { cpuMs: number; rssKiB: number } | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs: (ticks * 1000) / CLK_TCK, rssKiB: rss };
  } catch {
    return undefined;
  }
}

interface ClientResult {
  /** With --expose-gc: heap and RSS after a forced full GC, once a second. */
  retained: { t: number; heapMiB: number; rssMiB: number }[];
  /** Live heap after each full (mark-compact) GC, MB, when the client ran with --trace-gc. */
  liveAfterFullGcMB: number[];
  /** CPU ms by thread name, from /proc (sampled: the last 50 ms are missing). */
  threads: string;
  code: number;
  wallMs: number;
  userMs: number;
  systemMs: number;
  maxRssKiB: number;
  samples: Sample[];
  runDir: string;
  /** With `--client-view`: the calls as the client saw them. */
  fetches: CallRecord[];
  /** The client's CPU at its first fetch (undefined for a run that made no call). */
  firstFetchCpuMs?: number;
}

async function runOptimize(
  proxy: string,
  opts: {
    concurrency: number;
    iterations: number;
    cache: string;
    runDir: string;
    extra?: string[];
    denoFlags?: string[];
  },
): Promise<ClientResult> {
  const spec = (m: string) => `openai-compatible:${m}@${proxy}/v1`;
  const rusage = `${opts.runDir}.rusage.json`;
  const args = [
    "optimize",
    "--task",
    "hotpotqa",
    "--target",
    spec("sim-target"),
    "--optimizer",
    spec("sim-optimizer"),
    "--critic",
    spec("sim-critic"),
    "--embedder",
    spec("sim-embed"),
    "--concurrency",
    String(opts.concurrency),
    "--iterations",
    String(opts.iterations),
    "--cache",
    opts.cache,
    "--run-dir",
    opts.runDir,
    "--quiet",
    ...(opts.extra ?? []),
  ];
  const started = nowMs();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(opts.denoFlags ?? []), ...PROFILE, SELF, "--client", rusage, ...args],
    stdout: "piped",
    stderr: "piped",
    env: {
      RPT_DATA_DIR: dataDir(),
      RPT_BENCH_CLIENT_VIEW: CLIENT_VIEW ? "1" : "0",
      ...(HEAP_PREFIX === undefined ? {} : {
        RPT_BENCH_HEAP_PROFILE: `${HEAP_PREFIX}.${Date.now()}`,
        RPT_BENCH_HEAP_SURVIVORS: HEAP_SURVIVORS ? "1" : "0",
      }),
    },
  }).spawn();
  const samples: Sample[] = [];
  const threads = new Map<string, number>();
  const timer = setInterval(() => {
    const s = readProc(child.pid);
    if (s) samples.push({ t: nowMs(), ...s });
    threadCpu(child.pid, threads);
  }, 50);
  const out = await child.output();
  clearInterval(timer);
  const wallMs = nowMs() - started;
  if (!out.success) {
    throw new Error(
      `optimize failed (${out.code}):\n${new TextDecoder().decode(out.stdout)}\n` +
        new TextDecoder().decode(out.stderr),
    );
  }
  if (TIMELINE_DIR !== undefined) {
    await Deno.mkdir(TIMELINE_DIR, { recursive: true });
    await Deno.writeFile(`${TIMELINE_DIR}/client-${Date.now()}.out`, out.stdout);
  }
  const usage = JSON.parse(await Deno.readTextFile(rusage));
  const liveAfterFullGcMB = [
    ...new TextDecoder().decode(out.stdout).matchAll(
      /Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/g,
    ),
  ].map((m) => Number(m[1]));
  return {
    ...usage,
    wallMs,
    samples,
    runDir: opts.runDir,
    liveAfterFullGcMB,
    threads: threadSummary(threads),
  };
}

async function control(proxy: string, order: { delayMs?: number; reset?: boolean }): Promise<void> {
  const query = new URLSearchParams();
  if (order.delayMs !== undefined) query.set("delayMs", String(order.delayMs));
  if (order.reset) query.set("reset", "1");
  const res = await fetch(`${proxy}/__control?${query}`, { method: "POST" });
  await res.body?.cancel();
}

async function timeline(proxy: string): Promise<CallRecord[]> {
  return await (await fetch(`${proxy}/__control`)).json();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)] as number;
}

/** Calls in flight (any role) integrated over [t0, t1], in call-ms. */
function inFlightIntegral(calls: CallRecord[], t0: number, t1: number): number {
  let total = 0;
  for (const c of calls) total += Math.max(0, Math.min(c.end, t1) - Math.max(c.start, t0));
  return total;
}

function maxInFlight(calls: CallRecord[]): number {
  const edges = calls.flatMap((c) => [[c.start, 1], [c.end, -1]] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, now += d);
  return peak;
}

/** The longest time between two consecutive target-call starts within the window. */
function longestStartGap(starts: number[]): number {
  let gap = 0;
  for (let i = 1; i < starts.length; i++) {
    gap = Math.max(gap, (starts[i] as number) - (starts[i - 1] as number));
  }
  return gap;
}

/**
 * The median time a slot stays empty between a call's end and the next call's start: the
 * k-th start after the first C follows the k-th end. It is the client's (and the
 * machine's) turnaround, the whole of what occupancy loses.
 */
function medianIdle(calls: CallRecord[], c: number): number {
  const starts = calls.map((x) => x.start).sort((a, b) => a - b);
  const ends = calls.map((x) => x.end).sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let k = 0; k + c < starts.length; k++) {
    gaps.push((starts[k + c] as number) - (ends[k] as number));
  }
  return median(gaps);
}

/** The same window's occupancy and turnaround from the client's own records. */
function clientOccupancy(
  fetches: CallRecord[],
  c: number,
): { occupancy: number; medianIdleMs: number } | undefined {
  const first = fetches.filter((x) => x.model === "sim-target")
    .sort((a, b) => a.start - b.start).slice(0, 300);
  const t0 = first[0]?.start;
  const t1 = first.at(-1)?.start;
  if (t0 === undefined || t1 === undefined || t1 <= t0) return undefined;
  return {
    occupancy: inFlightIntegral(fetches, t0, t1) / (c * (t1 - t0)),
    medianIdleMs: medianIdle(first, c),
  };
}

function cpuAt(samples: Sample[], t: number): number {
  let last = samples[0]?.cpuMs ?? 0;
  for (const s of samples) {
    if (s.t > t) break;
    last = s.cpuMs;
  }
  return last;
}

interface Figures {
  calls: number;
  targetCalls: number;
  first300Ms: number;
  idealMs: number;
  ratio: number;
  medianCallMs: number;
  occupancy: number;
  /** With `--client-view`: occupancy and median turnaround as the client saw its calls. */
  clientView?: { occupancy: number; medianIdleMs: number };
  peakInFlight: number;
  longestGapMs: number;
  medianIdleMs: number;
  cpuPerCallMs: number;
  /** Client CPU before the first provider call (from /proc, 10 ms ticks, 50 ms samples). */
  startCpuMs: number;
  /** The same, exact: the client's own CPU at its first fetch. */
  firstFetchCpuMs?: number;
  windowCpuPerCallMs: number;
  cpuPerTargetCallMs: number;
  netCpuPerCallMs: number;
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
  rssByFifthMiB: number[];
  liveAfterFullGcMB: number[];
  threads: string;
}

/** Process ids of the sim-server and the proxy, whose CPU per call is reported too. */
let serverPids: number[] = [];

/** CPU of a `--dry-run` (modules, data, specs: everything before the first call). */
let startupCpuMs = 0;

function analyse(calls: CallRecord[], client: ClientResult, c: number): Figures {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const target = sorted.filter((x) => x.model === "sim-target");
  const first = target.slice(0, 300);
  const t0 = first[0]?.start ?? 0;
  const t300start = first.at(-1)?.start ?? t0;
  const t300end = Math.max(...first.map((x) => x.end));
  const medianCallMs = median(sorted.map((x) => x.end - x.start));
  const idealMs = Math.ceil(first.length / c) * medianCallMs;
  const window = Math.max(1e-9, t300start - t0);
  const occupancy = inFlightIntegral(sorted, t0, t300start) / (c * window);
  const clientView = clientOccupancy(client.fetches, c);
  const cpuMs = client.userMs + client.systemMs;
  const tFirst = sorted[0]?.start ?? 0;
  const tLast = Math.max(...sorted.map((x) => x.end));
  const startCpu = cpuAt(client.samples, tFirst);
  const windowCpu = cpuAt(client.samples, tLast) - startCpu;
  const rss = client.samples.map((s) => s.rssKiB / 1024);
  const fifths = [1, 2, 3, 4, 5].map((k) => {
    const part = rss.slice(
      Math.floor(((k - 1) * rss.length) / 5),
      Math.floor((k * rss.length) / 5),
    );
    return Math.max(...part);
  });
  return {
    calls: sorted.length,
    targetCalls: target.length,
    first300Ms: t300end - t0,
    idealMs,
    ratio: (t300end - t0) / idealMs,
    medianCallMs,
    occupancy,
    clientView,
    peakInFlight: maxInFlight(first),
    longestGapMs: longestStartGap(first.map((x) => x.start)),
    medianIdleMs: medianIdle(first, c),
    cpuPerCallMs: cpuMs / Math.max(1, sorted.length),
    startCpuMs: startCpu,
    ...(client.firstFetchCpuMs !== undefined ? { firstFetchCpuMs: client.firstFetchCpuMs } : {}),
    windowCpuPerCallMs: windowCpu / Math.max(1, sorted.length),
    cpuPerTargetCallMs: cpuMs / Math.max(1, target.length),
    netCpuPerCallMs: (cpuMs - startupCpuMs) / Math.max(1, sorted.length),
    wallMs: client.wallMs,
    cpuMs,
    maxRssMiB: client.maxRssKiB / 1024,
    rssByFifthMiB: fifths,
    liveAfterFullGcMB: client.liveAfterFullGcMB,
    threads: client.threads,
  };
}

function fmt(f: Figures): string {
  return [
    `calls ${f.calls} (target ${f.targetCalls})`,
    `first 300 target ${f.first300Ms.toFixed(0)} ms vs ideal ${f.idealMs.toFixed(0)} ms ` +
    `(L = median ${f.medianCallMs.toFixed(1)} ms): ${f.ratio.toFixed(2)}x`,
    `occupancy while queued ${
      (f.occupancy * 100).toFixed(1)
    }%, peak ${f.peakInFlight} in flight, ` +
    `longest gap between starts ${f.longestGapMs.toFixed(0)} ms, median slot turnaround ` +
    `${f.medianIdleMs.toFixed(1)} ms` +
    (f.clientView === undefined ? "" : `; as the client saw its calls (fetch to headers): ` +
      `occupancy ${(f.clientView.occupancy * 100).toFixed(1)}%, median turnaround ` +
      `${f.clientView.medianIdleMs.toFixed(1)} ms`),
    `client CPU ${f.cpuMs.toFixed(0)} ms in ${f.wallMs.toFixed(0)} ms wall: ` +
    `${f.cpuPerCallMs.toFixed(3)} ms/call overall (process CPU / calls), ` +
    `${f.netCpuPerCallMs.toFixed(3)} ms/call without a dry run's start-up; ` +
    `${f.cpuPerTargetCallMs.toFixed(3)} ms per target call overall`,
    `client CPU split: start-up ${f.startCpuMs.toFixed(0)} ms before the first call` +
    (f.firstFetchCpuMs !== undefined
      ? ` (${f.firstFetchCpuMs.toFixed(0)} ms at the client's first fetch, exact), `
      : ", ") +
    `steady state ${f.windowCpuPerCallMs.toFixed(3)} ms/call between the first and the last ` +
    `call, ${(f.cpuMs - f.startCpuMs - f.windowCpuPerCallMs * f.calls).toFixed(0)} ms after ` +
    `the last call (final writes, exit)`,
    `client CPU by thread (ms): ${f.threads}`,
    `RSS max ${f.maxRssMiB.toFixed(0)} MiB; max per fifth of the run ` +
    `${f.rssByFifthMiB.map((x) => x.toFixed(0)).join(" / ")} MiB` +
    (f.liveAfterFullGcMB.length > 0
      ? `; live heap after each full GC ${f.liveAfterFullGcMB.join(" / ")} MB`
      : ""),
  ].join("\n    ");
}

async function scenario(
  proxy: string,
  name: string,
  opts: {
    concurrency: number;
    latencyMs: number;
    iterations: number;
    cachedRerun: boolean;
    denoFlags?: string[];
    /** Run once more with a forced full GC every second, to show the memory retained. */
    memoryRun?: boolean;
  },
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "rpt-bench-cli-" });
  try {
    const cache = `${dir}/cache.sqlite`;
    await control(proxy, { delayMs: opts.latencyMs, reset: true });
    const others = () => serverPids.map((pid) => readProc(pid)?.cpuMs ?? 0);
    const othersBefore = others();
    const fresh = await runOptimize(proxy, { ...opts, cache, runDir: `${dir}/run-fresh` });
    const calls = await timeline(proxy);
    const [serverMs, proxyMs] = others().map((ms, i) => ms - (othersBefore[i] ?? 0));
    if (TIMELINE_DIR !== undefined) {
      await Deno.mkdir(TIMELINE_DIR, { recursive: true });
      await Deno.writeTextFile(
        `${TIMELINE_DIR}/${name.replace(/[^A-Za-z0-9]+/g, "_")}-${Date.now()}.json`,
        JSON.stringify({ calls, samples: fresh.samples }),
      );
    }
    console.log(
      `  ${name}, fresh cache:\n    ${fmt(analyse(calls, fresh, opts.concurrency))}\n    ` +
        `the other processes on the same 2 cores: sim-server ` +
        `${((serverMs ?? 0) / calls.length).toFixed(3)} ms CPU per call, proxy ` +
        `${((proxyMs ?? 0) / calls.length).toFixed(3)} ms`,
    );
    if (opts.memoryRun) await memoryRun(proxy, name, { ...opts, cache: `${dir}/mem.sqlite`, dir });
    if (!opts.cachedRerun) return;
    await control(proxy, { reset: true });
    const again = await runOptimize(proxy, { ...opts, cache, runDir: `${dir}/run-cached` });
    const recalls = await timeline(proxy);
    const cpu = again.userMs + again.systemMs;
    const fresh1 = await Deno.readTextFile(`${dir}/run-fresh/summary.json`);
    const cached1 = await Deno.readTextFile(`${dir}/run-cached/summary.json`);
    const same = stripDirs(fresh1) === stripDirs(cached1);
    console.log(
      `  ${name}, re-run on the same cache: ${recalls.length} provider calls; ` +
        `client CPU ${cpu.toFixed(0)} ms in ${again.wallMs.toFixed(0)} ms wall, ` +
        `${(cpu / Math.max(1, calls.length)).toFixed(3)} ms per cached call ` +
        `(${((cpu - startupCpuMs) / Math.max(1, calls.length)).toFixed(3)} without start-up) ` +
        `(${calls.length} calls served from the cache); summary.json ${
          same ? "identical" : "DIFFERS"
        }`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The same run with a full GC forced every second: what the run retains, fifth by fifth. */
async function memoryRun(
  proxy: string,
  name: string,
  opts: { concurrency: number; iterations: number; cache: string; dir: string },
): Promise<void> {
  await control(proxy, { reset: true });
  const run = await runOptimize(proxy, {
    ...opts,
    runDir: `${opts.dir}/run-memory`,
    denoFlags: ["--v8-flags=--expose-gc"],
  });
  const fifths = (pick: (r: ClientResult["retained"][number]) => number) =>
    [1, 2, 3, 4, 5].map((k) => {
      const at = run
        .retained[
          Math.min(run.retained.length - 1, Math.ceil((k * run.retained.length) / 5) - 1)
        ];
      return at === undefined ? "-" : pick(at).toFixed(0);
    }).join(" / ");
  console.log(
    `  ${name}, memory after a forced full GC (once a second, ${run.retained.length} samples), ` +
      `at the end of each fifth of the run: heap ${fifths((r) => r.heapMiB)} MiB, ` +
      `RSS ${fifths((r) => r.rssMiB)} MiB`,
  );
}

/** summary.json without the fields that name the run directory or time. */
function stripDirs(text: string): string {
  const value = JSON.parse(text) as Record<string, unknown>;
  delete value.dir;
  delete value.elapsedMs;
  return JSON.stringify(value, (k, v) => (k === "elapsedMs" || k === "dir" ? undefined : v));
}

async function orchestrate(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const only128 = args.includes("--only-128");
  const repeatAt = args.indexOf("--repeat");
  const repeat = repeatAt >= 0 ? Number(args[repeatAt + 1]) : 2;
  const server = await startLineServer(
    ["run", "-A", ...SERVER_FLAGS, CLI, "sim-server", "--port", "0", "--data-dir", dataDir()],
    /serving SIMULATED models at (http:\/\/\S+)/,
    false,
  );
  const kindAt = args.indexOf("--proxy-kind");
  const proxyKind = kindAt >= 0 ? args[kindAt + 1] : "tcp";
  if (proxyKind !== "tcp" && proxyKind !== "http") {
    throw new Error(`--proxy-kind must be tcp or http, got ${proxyKind}`);
  }
  const proxy = await startLineServer(
    ["run", "-A", SELF, proxyKind === "tcp" ? "--tcp-proxy" : "--proxy", server.url],
    /(http:\/\/127\.0\.0\.1:\d+)/,
    true,
  );
  serverPids = [server.child.pid, proxy.child.pid];
  console.log(
    `machine: ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}; ` +
      `sim-server ${server.url} (pid ${server.child.pid}), ${proxyKind} proxy ${proxy.url} ` +
      `(pid ${proxy.child.pid})`,
  );
  try {
    // A cold server (data loading, JIT) answers its first calls ten times slower: that would
    // be measured against the client. Warm it up with a small run, and measure what the
    // client spends before its first call (a dry run loads the same modules, data and specs).
    const warm = await Deno.makeTempDir({ prefix: "rpt-bench-warm-" });
    await control(proxy.url, { delayMs: 0, reset: true });
    const limits = ["--limit-train", "40", "--limit-dev", "40", "--limit-test", "40"];
    await runOptimize(proxy.url, {
      concurrency: 32,
      iterations: 1,
      cache: `${warm}/cache.sqlite`,
      runDir: `${warm}/run`,
      extra: limits,
    });
    const dry = await runOptimize(proxy.url, {
      concurrency: 32,
      iterations: 1,
      cache: `${warm}/cache2.sqlite`,
      runDir: `${warm}/dry`,
      extra: ["--dry-run"],
    });
    startupCpuMs = dry.userMs + dry.systemMs;
    console.log(`client start-up (a --dry-run): ${startupCpuMs.toFixed(0)} ms CPU`);
    await Deno.remove(warm, { recursive: true });
    for (let i = 1; i <= repeat; i++) {
      console.log(`run ${i} of ${repeat}`);
      if (!only128) {
        await scenario(proxy.url, "C=32 L=50ms 1 iteration", {
          concurrency: 32,
          latencyMs: 50,
          iterations: 1,
          cachedRerun: true,
        });
      }
      if (!quick) {
        await scenario(proxy.url, "C=128 L=200ms 5 iterations", {
          concurrency: 128,
          latencyMs: 200,
          iterations: Number(Deno.env.get("BENCH_ITERATIONS") ?? 5),
          cachedRerun: false,
          // Prints each GC; the live heap after full GCs shows whether memory stays flat.
          denoFlags: ["--v8-flags=--trace-gc"],
          memoryRun: true,
        });
      }
    }
  } finally {
    await proxy.stop();
    await server.stop();
  }
}

if (import.meta.main) {
  const [role, ...rest] = Deno.args;
  if (role === "--proxy") await runProxy(rest[0] as string);
  else if (role === "--tcp-proxy") await runTcpProxy(rest[0] as string);
  else if (role === "--client") await runClient(rest[0] as string, rest.slice(1));
  else await orchestrate(Deno.args);
}
