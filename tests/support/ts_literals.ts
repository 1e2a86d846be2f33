/**
 * The string and template literals of a TypeScript source, each with the calls it is an
 * argument of: enough of a scanner for the CLI's modules (comments and regular expression
 * literals skipped, template expressions followed), so that a test can ask where a text
 * that reaches the user goes.
 *
 * @module
 */

/** A string or template literal of a source file, with the calls it is an argument of. */
export interface Literal {
  text: string;
  line: number;
  /** The callees of the calls enclosing it, innermost last (`new ConfigError` as `ConfigError`). */
  calls: string[];
  /** The module-level `const` it initialises, when no call or template encloses it. */
  constant?: string;
}

/** Words before `(` that open no call. */
const NOT_CALLS = /^(if|for|while|switch|catch|return|typeof|await)$/;

/** The state of one scan; {@linkcode literals} runs it. */
class Scanner {
  readonly out: Literal[] = [];
  /** One frame per open bracket: a call's callee, "" for other brackets, "${" for a template's. */
  readonly #stack: string[] = [];
  /** Each open template's constant and calls, while one of its expressions is read. */
  readonly #templates: { constant?: string; calls: string[] }[] = [];
  #i = 0;
  #line = 1;
  #last = "";
  /** The module-level `const` whose initialiser is being read. */
  #topConst: string | undefined;

  constructor(readonly src: string) {}

  scan(): Literal[] {
    while (this.#i < this.src.length) this.#next();
    return this.out;
  }

  #calls(): string[] {
    return this.#stack.filter((f) => f !== "" && f !== "${");
  }

  #constant(): string | undefined {
    return this.#stack.every((f) => f === "") ? this.#topConst : undefined;
  }

  #push(text: string, line: number, calls: string[], constant?: string): void {
    this.out.push({ text, line, calls, ...(constant !== undefined ? { constant } : {}) });
  }

  #next(): void {
    const { src } = this;
    const c = src[this.#i]!;
    if (c === "\n") {
      this.#line++;
      this.#i++;
    } else if (c === "/" && src[this.#i + 1] === "/") {
      while (this.#i < src.length && src[this.#i] !== "\n") this.#i++;
    } else if (c === "/" && src[this.#i + 1] === "*") {
      const end = src.indexOf("*/", this.#i + 2);
      this.#line += src.slice(this.#i, end).split("\n").length - 1;
      this.#i = end + 2;
    } else if (c === "/" && /^$|[(,=:[!&|?{};]$/.test(this.#last)) {
      this.#skipRegex();
    } else if (c === '"' || c === "'") {
      const constant = this.#constant();
      const line = this.#line;
      this.#push(this.#readQuoted(c), line, this.#calls(), constant);
      this.#last = "x";
    } else if (c === "`") {
      this.#i++;
      this.#templates.push({ constant: this.#constant(), calls: this.#calls() });
      this.#readTemplate();
    } else if (c === "(" || c === "[" || c === "{") {
      const before = /([\w$.]+)\s*$/.exec(src.slice(Math.max(0, this.#i - 80), this.#i))?.[1];
      const callee = c === "(" ? (before?.split(".").at(-1) ?? "") : "";
      this.#stack.push(NOT_CALLS.test(callee) ? "" : callee);
      this.#i++;
      this.#last = c;
    } else if (c === ")" || c === "]" || c === "}") {
      this.#i++;
      // Back in the template that held the expression, or past a bracket.
      if (this.#stack.pop() === "${") this.#readTemplate();
      else this.#last = c;
    } else {
      this.#plain(c);
    }
  }

  /** A character of code outside brackets may start or end a module-level `const`. */
  #plain(c: string): void {
    if (this.#stack.length === 0) {
      const declared = /^(?:export )?const (\w+)/.exec(this.src.slice(this.#i, this.#i + 120));
      if (declared && (this.#i === 0 || this.src[this.#i - 1] === "\n")) {
        this.#topConst = declared[1];
      }
      if (c === ";") this.#topConst = undefined;
    }
    if (!/\s/.test(c)) this.#last = c;
    this.#i++;
  }

  #skipRegex(): void {
    const { src } = this;
    let inClass = false;
    this.#i++;
    while (this.#i < src.length && (inClass || src[this.#i] !== "/")) {
      if (src[this.#i] === "\\") this.#i++;
      else if (src[this.#i] === "[") inClass = true;
      else if (src[this.#i] === "]") inClass = false;
      this.#i++;
    }
    this.#i++;
    this.#last = "x";
  }

  #readQuoted(quote: string): string {
    const { src } = this;
    let text = "";
    this.#i++;
    while (this.#i < src.length && src[this.#i] !== quote) {
      const step = src[this.#i] === "\\" ? 2 : 1;
      text += src.slice(this.#i, this.#i + step);
      this.#i += step;
    }
    this.#i++;
    return text;
  }

  /** The innermost open template's text up to its end or its next `${`. */
  #readTemplate(): void {
    const { src } = this;
    const template = this.#templates.at(-1)!;
    const line = this.#line;
    let text = "";
    while (this.#i < src.length) {
      const c = src[this.#i]!;
      if (c === "\\") {
        text += src.slice(this.#i, this.#i + 2);
        this.#i += 2;
      } else if (c === "`" || (c === "$" && src[this.#i + 1] === "{")) {
        this.#push(text, line, template.calls, template.constant);
        if (c === "`") {
          this.#i++;
          this.#templates.pop();
        } else {
          this.#stack.push("${");
          this.#i += 2;
        }
        this.#last = "x";
        return;
      } else {
        if (c === "\n") this.#line++;
        text += c;
        this.#i++;
      }
    }
  }
}

/**
 * The string and template literals of TypeScript source `src`, with their enclosing calls.
 *
 * @example
 * ```ts
 * import { literals } from "./ts_literals.ts";
 * const [a, b] = literals('throw new ConfigError(`see ${f("x")}`);');
 * if (a?.calls.join() !== "ConfigError" || b?.calls.join() !== "ConfigError,f") throw new Error();
 * ```
 */
export function literals(src: string): Literal[] {
  return new Scanner(src).scan();
}
