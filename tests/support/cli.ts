/**
 * Running `rpt` as a user does, in a subprocess with a clean environment: {@linkcode rpt}
 * for a command to its end, {@linkcode spawnRpt} for one to watch or kill,
 * {@linkcode startSimServerProcess} for `rpt sim-server` in a process of its own (its `--log`
 * lines counted as they come), and {@linkcode stackTraceIn}, which tests use to fail on
 * any stack trace a user would see.
 *
 * @module
 */
import { TextLineStream } from "./lines.ts";

/** The CLI entry point. */
export const CLI = new URL("../../lib/cli.ts", import.meta.url).pathname;

/**
 * The environment a subprocess gets: PATH, HOME, DENO_DIR, NO_COLOR, and `env`; commands in
 * messages are written as a `deno task rpt` user sees them (`RPT_INVOKED_AS`).
 */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    NO_COLOR: "1",
    RPT_INVOKED_AS: "deno task rpt",
    ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    ...env,
  };
}

/** What a finished command printed and returned. */
export interface RptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `rpt ARGS` to its end with a clean environment plus `env`. */
export async function rpt(args: string[], env: Record<string, string> = {}): Promise<RptResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: cleanEnv(env),
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** Starts `rpt ARGS` (stdout and stderr piped) to watch or kill. */
export function spawnRpt(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: cleanEnv(env),
  }).spawn();
}

/**
 * The first line of `text` that looks like a stack trace (`    at ...`, `Uncaught`, `error:
 * Uncaught`, `Stack backtrace`), or undefined when there is none.
 *
 * @example
 * ```ts
 * import { stackTraceIn } from "./cli.ts";
 * if (stackTraceIn("rpt optimize: --run-dir x is a file\n") !== undefined) throw new Error();
 * if (stackTraceIn("error: Uncaught (in promise) NotADirectory\n    at run (x.ts:1:1)") === undefined) {
 *   throw new Error();
 * }
 * ```
 */
export function stackTraceIn(text: string): string | undefined {
  return text.split("\n").find((line) =>
    /^\s+at .+[:(]/.test(line) || /Uncaught/.test(line) || /Stack backtrace/.test(line)
  );
}

/** `rpt sim-server` in a process of its own. */
export interface SimServerProcess extends AsyncDisposable {
  /** Base URL (`http://127.0.0.1:PORT`). */
  url: string;
  port: number;
  /** `--log` lines (`METHOD path status`) received so far. */
  log: string[];
  /** Stops the server (SIGTERM) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts `rpt sim-server --log ARGS` (a free port unless ARGS has `--port`) and resolves once
 * it serves; every request it answers adds a line to `log`.
 */
export async function startSimServerProcess(
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<SimServerProcess> {
  const child = spawnRpt(["sim-server", "--log", ...args], env);
  const log: string[] = [];
  let resolveUrl: (url: string) => void = () => {};
  let rejectUrl: (error: Error) => void = () => {};
  const started = new Promise<string>((resolve, reject) => {
    resolveUrl = resolve;
    rejectUrl = reject;
  });
  const reading = (async () => {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream(),
    );
    for await (const line of lines) {
      const m = /serving SIMULATED models at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolveUrl(m[1] as string);
      else if (/^(GET|POST) /.test(line)) log.push(line);
    }
    rejectUrl(new Error("rpt sim-server ended before it served"));
  })();
  const stderr = new Response(child.stderr).text();
  let url: string;
  try {
    url = await started;
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}: ${await stderr}`);
  }
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await reading;
    await stderr;
  };
  return {
    url,
    port: Number(new URL(url).port),
    log,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A port nothing listens on: bound once by the OS, then released (a dead endpoint). */
export function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
