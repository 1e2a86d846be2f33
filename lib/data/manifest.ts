/**
 * The data manifest: the sha256 of every data file of the three benchmark tasks (the three
 * splits, with their row counts, and the paper's seed prompt `seed_prompt.json`). These are
 * facts about the paper's data; the files themselves are never kept in this repository (see
 * `data/README.md`), so loaders and `rpt data:check` compare the files a user has against
 * these checksums.
 *
 * @module
 */
import manifestJson from "../../data/manifest.json" with { type: "json" };
import { ConfigError } from "../util/errors.ts";

/** What the manifest records about one data file. */
export interface ManifestEntry {
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
  /** Number of non-blank lines, for the JSON Lines splits (a JSON document has none). */
  rows?: number;
}

/** Path relative to the data directory (`hotpotqa/train.jsonl`) -> entry. */
export const MANIFEST: Readonly<Record<string, ManifestEntry>> = manifestJson.files;

/**
 * The manifest entry for a path relative to the data directory, or undefined when the
 * manifest does not know the file (a user's own data).
 *
 * @example
 * ```ts
 * import { manifestEntry } from "./manifest.ts";
 * if (manifestEntry("formula/test.jsonl")?.rows !== 200) throw new Error("unexpected");
 * ```
 */
export function manifestEntry(relativePath: string): ManifestEntry | undefined {
  return Object.hasOwn(MANIFEST, relativePath) ? MANIFEST[relativePath] : undefined;
}

/**
 * Lower-case hex sha256 of some bytes.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./manifest.ts";
 * const h = await sha256Hex(new TextEncoder().encode("abc"));
 * if (!h.startsWith("ba7816bf")) throw new Error(h);
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Checks bytes read from `filePath` against the manifest entry for `relativePath`.
 * Files the manifest does not list pass unchecked. A mismatch throws a
 * {@linkcode ConfigError} naming the file, both checksums and the remedy, because scores
 * on silently different data would not be comparable with the paper's.
 */
export async function verifyAgainstManifest(
  relativePath: string,
  filePath: string,
  bytes: Uint8Array,
): Promise<void> {
  const entry = manifestEntry(relativePath);
  if (entry === undefined) return;
  const actual = await sha256Hex(bytes);
  if (actual !== entry.sha256) {
    throw new ConfigError(
      `${filePath}: checksum mismatch: expected sha256 ${entry.sha256}, got ${actual}; ` +
        `the file differs from the paper's split (rebuild it with 'rpt data:fetch', ` +
        `or pass verify: false to load modified data on purpose)`,
    );
  }
}
