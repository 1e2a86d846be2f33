/**
 * Crash-safe file writes: every file a run, an analysis or a comparison writes goes through
 * here, so a reader (or a resumed run) never sees half a file.
 *
 * @module
 */
import { dirname } from "node:path";

let tmpCounter = 0;

/**
 * Writes a text file atomically: a temporary file in the same directory (created if
 * needed), then a rename. The temporary name carries the process id and a counter, so
 * concurrent writers of the same path never share one.
 *
 * @example
 * ```ts
 * import { writeTextAtomic } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * await writeTextAtomic(`${dir}/a/b.txt`, "hello");
 * if (await Deno.readTextFile(`${dir}/a/b.txt`) !== "hello") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}-${tmpCounter++}`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Writes JSON (2-space indented, with a final newline) atomically.
 *
 * @example
 * ```ts
 * import { writeJsonAtomic } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * await writeJsonAtomic(`${dir}/x.json`, { a: 1 });
 * if (await Deno.readTextFile(`${dir}/x.json`) !== '{\n  "a": 1\n}\n') throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
