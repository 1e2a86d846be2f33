/**
 * Redaction: what keeps credentials out of logs, caches, error messages and run records.
 * Every module that writes a base URL or a provider's error text somewhere a person or a
 * file keeps it goes through here.
 *
 * @module
 */

/**
 * A URL without user info, query or fragment: what identifies a server without any
 * credential some users put in a base URL (`https://user:key@host/v1?key=...`).
 *
 * @example
 * ```ts
 * import { redactURL } from "./redact.ts";
 * if (redactURL("https://u:sk-1@h.example/v1?key=sk-2") !== "https://h.example/v1") {
 *   throw new Error("credential kept");
 * }
 * ```
 */
export function redactURL(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.href.replace(/\/+$/, "");
  } catch {
    // Not a URL: keep only what cannot be a query-string credential.
    return url.split(/[?#]/)[0] ?? "";
  }
}

/**
 * Replaces every occurrence of each secret (of a plausible length) by `[redacted]`.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "./redact.ts";
 * const text = redactSecrets("401: bad key sk-abcd", ["sk-abcd", undefined, "x"]);
 * if (text !== "401: bad key [redacted]") throw new Error(text);
 * ```
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}
