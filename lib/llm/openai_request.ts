/**
 * Request building for the OpenAI SDK's client at a fraction of its per-call CPU. The SDK
 * builds every request from scratch: the URL parsed and redacted, a dozen header sources
 * merged into a `Headers` object and validated, the body serialised through a replacer
 * that watches for a `stream` key. For a plain JSON POST none of that depends on the call
 * but the body, so {@linkcode leanRequests} lets the SDK build the first request of each
 * endpoint, keeps its URL and headers, and builds later ones from them with the body's
 * `JSON.stringify`: the same method, URL, headers and bytes (checked against the SDK's own
 * builder in tests/llm_openai_request_test.ts). Anything else (uploads, streams, queries,
 * per-request headers or timeouts, debug logging) goes to the SDK's builder unchanged.
 *
 * @module
 */
import type OpenAI from "openai";

type BuildRequest = OpenAI["buildRequest"];
type Built = Awaited<ReturnType<BuildRequest>>;
type BuildOptions = Parameters<BuildRequest>[0];

/** What the SDK built for an endpoint, kept for the calls after the first. */
interface Template {
  url: string;
  timeout: number;
  /** The SDK's headers as a plain record: `fetch` takes a record on its cheap path. */
  headers: Record<string, string>;
}

/** Option keys a plain JSON POST of a resource method carries (anything else: the SDK). */
const PLAIN_KEYS = new Set([
  "method",
  "path",
  "body",
  "signal",
  "stream",
  "__security",
  "__metadata",
]);

/** The template key of a request the lean path can build, or undefined when it cannot. */
function templateKey(options: BuildOptions, retryCount: number): string | undefined {
  if (options.method !== "post") return undefined;
  for (const key in options) if (!PLAIN_KEYS.has(key)) return undefined;
  const body = options.body as Record<string, unknown> | null | undefined;
  if (
    body === null || typeof body !== "object" || Object.getPrototypeOf(body) !== Object.prototype
  ) {
    return undefined;
  }
  // A streaming body is read by the SDK from `stream`; only non-streaming calls are lean.
  if (body.stream !== undefined && body.stream !== false) return undefined;
  if (options.stream !== undefined && options.stream !== false) return undefined;
  const metadata = options.__metadata;
  if (metadata !== undefined) {
    for (const key in metadata) if (key !== "streamFromBody") return undefined;
  }
  const security = options.__security;
  const auth = security === undefined ? "bearer" : securityKey(security);
  return `${options.path}\n${retryCount}\n${auth}\n${options.signal ? "signal" : ""}`;
}

/** `k=v` of the security options, sorted; every resource method passes `{ bearerAuth: true }`. */
function securityKey(security: Record<string, unknown>): string {
  const keys = Object.keys(security);
  if (keys.length === 1 && keys[0] === "bearerAuth" && security.bearerAuth === true) {
    return "bearerAuth=true";
  }
  return Object.entries(security).map(([k, v]) => `${k}=${v}`).sort().join(",");
}

function plainHeaders(headers: unknown): Record<string, string> | undefined {
  if (!(headers instanceof Headers)) return undefined;
  const plain: Record<string, string> = {};
  headers.forEach((value, name) => {
    plain[name] = value;
  });
  return plain;
}

/**
 * Makes `client` build plain JSON POSTs from the first such request of each endpoint (see
 * the module doc); returns the client. The client must not change its key, base URL or
 * default headers afterwards (rpt's clients never do).
 *
 * @example
 * ```ts
 * import OpenAI from "openai";
 * import { leanRequests } from "./openai_request.ts";
 * const client = leanRequests(new OpenAI({ apiKey: "k", baseURL: "http://127.0.0.1:9/v1" }));
 * const options = { method: "post" as const, path: "/chat/completions", body: { model: "m" } };
 * const first = await client.buildRequest({ ...options });
 * const second = await client.buildRequest({ ...options, body: { model: "n" } });
 * if (second.url !== first.url || second.req.body !== '{"model":"n"}') throw new Error("wrong");
 * ```
 */
export function leanRequests(client: OpenAI): OpenAI {
  const sdkBuild = client.buildRequest.bind(client);
  const templates = new Map<string, Template>();
  client.buildRequest = async (options, extra) => {
    const retryCount = extra?.retryCount ?? 0;
    const key = client.logLevel === "debug" ? undefined : templateKey(options, retryCount);
    const template = key === undefined ? undefined : templates.get(key);
    if (key === undefined || template === undefined) {
      const built = await sdkBuild(options, extra);
      const headers = plainHeaders(built.req.headers);
      if (key !== undefined && headers !== undefined && typeof built.req.body === "string") {
        templates.set(key, { url: built.url, timeout: built.timeout, headers });
      }
      return built;
    }
    // What the SDK's builder records on the options of a non-streaming JSON request.
    if (options.__metadata?.streamFromBody === true) options.stream = false;
    const req = {
      method: options.method,
      headers: template.headers,
      ...(options.signal ? { signal: options.signal } : {}),
      body: JSON.stringify(options.body),
    } as unknown as Built["req"];
    return { req, url: template.url, timeout: template.timeout };
  };
  return client;
}
