/**
 * File-system failures a user caused or can fix (a path that is a file, a read-only place, a
 * full disk) as one line naming the path and what to do, instead of a stack trace: a
 * {@linkcode FileAccessError}, which the command line prints and exits 2 on.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** A path that cannot be read or written for a reason the user can fix; the message says how. */
export class FileAccessError extends ConfigError {
  /** The path. */
  readonly path: string;

  /** Creates the error for `path`. */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FileAccessError";
    this.path = path;
  }
}

function code(error: unknown): string | undefined {
  const c = (error as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/**
 * `error` as a {@linkcode FileAccessError} when it is one a user can fix (`hint`, e.g. how to
 * continue, is appended); any other error comes back unchanged.
 *
 * @example
 * ```ts
 * import { fileAccessError } from "./fs_errors.ts";
 * const file = await Deno.makeTempFile();
 * const e = await Deno.mkdir(file, { recursive: true })
 *   .then(() => null, (e) => fileAccessError(e, file, "create the run directory"));
 * await Deno.remove(file);
 * if ((e as Error | null)?.message !== `${file} is a file, not a directory: give a directory path`) {
 *   throw e ?? new Error("should have failed");
 * }
 * ```
 */
export function fileAccessError(
  error: unknown,
  path: string,
  action: string,
  hint = "",
): unknown {
  if (error instanceof FileAccessError) return error;
  const tail = hint === "" ? "" : `; ${hint}`;
  const make = (message: string) => new FileAccessError(path, message + tail, { cause: error });
  const c = code(error);
  if (error instanceof Deno.errors.AlreadyExists && action.startsWith("create the run directory")) {
    return make(`${path} is a file, not a directory: give a directory path`);
  }
  if (error instanceof Deno.errors.NotADirectory || c === "ENOTDIR") {
    return make(`cannot ${action} ${path}: a part of the path is a file, not a directory`);
  }
  if (error instanceof Deno.errors.IsADirectory || c === "EISDIR") {
    return make(`cannot ${action} ${path}: it is a directory, not a file`);
  }
  if (error instanceof Deno.errors.PermissionDenied || c === "EROFS" || c === "EACCES") {
    return make(
      `cannot ${action} ${path}: permission denied (a read-only place, or not yours): ` +
        `choose a writable location or fix its permissions`,
    );
  }
  if (c === "ENOSPC" || c === "EDQUOT") {
    return make(`cannot ${action} ${path}: the disk is full (no space left): free some space`);
  }
  return error;
}
