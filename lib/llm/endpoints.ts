/**
 * The providers' default servers and the environment variables that redirect them. The
 * SDKs are always given a base URL (this default when nothing else names one), so they never
 * read these variables behind the run's record; `spec.ts` reads them and the run records
 * where each model was sent.
 *
 * @module
 */

/** The servers providers send to when neither a spec's `@URL` nor the environment names one. */
export const DEFAULT_BASE_URLS: Readonly<Record<"openai" | "gemini", string>> = {
  openai: "https://api.openai.com/v1",
  gemini: "https://generativelanguage.googleapis.com",
};

/** The environment variable that redirects each provider's default server. */
export const BASE_URL_ENV: Readonly<Record<"openai" | "gemini", string>> = {
  openai: "OPENAI_BASE_URL",
  gemini: "GOOGLE_GEMINI_BASE_URL",
};
