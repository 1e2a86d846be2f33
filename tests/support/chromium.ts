/**
 * Headless Chromium (Debian's `chromium`) for the report test and the screenshots task:
 * load a local HTML file, dump its DOM or take a screenshot, and collect the console
 * messages the page produced.
 *
 * @module
 */
import { join } from "node:path";

/** The flags that keep headless Chromium offline, quiet and reproducible. */
const BASE_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
  "--enable-logging=stderr",
  "--v=0",
];

/** The Chromium executable on PATH, or undefined when none is installed. */
export function findChromium(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
      if (dir === "") continue;
      try {
        const path = join(dir, name);
        if (Deno.statSync(path).isFile) return path;
      } catch {
        // Not in this directory.
      }
    }
  }
  return undefined;
}

/** The message to show when Chromium is missing. */
export const CHROMIUM_MISSING = "headless Chromium is not installed: run `apt-get install -y " +
  "chromium` (Debian) — CI installs it in .ci/run";

/** What one Chromium invocation produced. */
export interface ChromiumResult {
  /** Exit code. */
  code: number;
  /** Standard output (the DOM with `--dump-dom`). */
  stdout: string;
  /** Console messages of the page (`console.*` calls and uncaught exceptions). */
  console: string[];
}

/**
 * The page's console messages in Chromium's stderr log. With `--v=0` every console call
 * and uncaught exception is logged as `INFO:CONSOLE` whatever its level, so a page without
 * scripts of its own, such as rpt's report, must log none.
 */
export function consoleMessages(stderr: string): string[] {
  return stderr.split("\n").filter((line) => /:CONSOLE[:(]/.test(line))
    .map((line) => line.replace(/^\[[^\]]*\]\s*/, ""));
}

/** Runs headless Chromium on a local file with extra flags (`--dump-dom`, `--screenshot=...`). */
export async function runChromium(htmlPath: string, flags: string[]): Promise<ChromiumResult> {
  const chromium = findChromium();
  if (chromium === undefined) throw new Error(CHROMIUM_MISSING);
  const profile = await Deno.makeTempDir({ prefix: "rpt-chromium-" });
  try {
    const out = await new Deno.Command(chromium, {
      args: [...BASE_FLAGS, `--user-data-dir=${profile}`, ...flags, `file://${htmlPath}`],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      console: consoleMessages(decoder.decode(out.stderr)),
    };
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** Writes a PNG screenshot of a local HTML file. */
export async function screenshot(
  htmlPath: string,
  pngPath: string,
  size: { width: number; height: number } = { width: 1200, height: 900 },
): Promise<ChromiumResult> {
  return await runChromium(htmlPath, [
    `--screenshot=${pngPath}`,
    `--window-size=${size.width},${size.height}`,
  ]);
}
