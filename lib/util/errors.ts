/**
 * Error classes that the CLI turns into one clear line.
 *
 * @module
 */

/**
 * Bad configuration or input detected before any paid call: an unknown task, a bad model
 * spec, a missing key, an unreadable data directory, a malformed data line. The message
 * names the file, line or field and what was expected.
 */
export class ConfigError extends Error {
  /** Creates a configuration error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}
