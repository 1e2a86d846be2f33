/**
 * A stream of text split into lines (without their `\n` or `\r\n`), for reading a child
 * process's output as it comes (the standard library's `TextLineStream` is on JSR, which the
 * project does not use).
 *
 * @module
 */

/**
 * Splits a text stream into lines.
 *
 * @example
 * ```ts
 * import { TextLineStream } from "./lines.ts";
 * const lines = await Array.fromAsync(
 *   ReadableStream.from(["a\nb", "c\r\n", "d"]).pipeThrough(new TextLineStream()),
 * );
 * if (lines.join("|") !== "a|bc|d") throw new Error(lines.join("|"));
 * ```
 */
export class TextLineStream extends TransformStream<string, string> {
  /** Creates the splitter. */
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const part of parts) controller.enqueue(part.replace(/\r$/, ""));
      },
      flush(controller) {
        if (rest !== "") controller.enqueue(rest);
      },
    });
  }
}
