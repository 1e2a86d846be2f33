/**
 * Rebuilding `<task>/seed_prompt.json` from the reference implementation's source: the
 * keyword arguments of the `PromptProgram(...)` that `make_seed_prompt()` returns in the
 * task's file of megagonlabs/RPT at the pinned commit, read by a small parser of the Python
 * literals involved (string literals with their escapes, implicit concatenation of adjacent
 * literals, parentheses, comments, `True` / `False`, integers), then serialised as the data
 * directory's file is: Python's `json.dumps(obj, indent=2)` plus a newline.
 *
 * Only that call is parsed; anything else in it (a name, an f-string, a call, a tuple) is an
 * error naming the line and column, never a guess: the result must match the manifest's
 * checksum byte for byte or it is useless.
 *
 * @module
 */
import { ConfigError } from "../util/errors.ts";

/** The reference implementation the seeds come from. */
export const REFERENCE_REPOSITORY = "megagonlabs/RPT";
/** The commit the paper's seeds are pinned to. */
export const REFERENCE_COMMIT = "3158d7b927e83fe326a2d6b0a57f49170457f2c1";
/** The reference's license, recorded in each `seed_prompt.json`. */
export const REFERENCE_LICENSE = "BSD-3-Clause";
/** The function whose returned `PromptProgram` is the seed. */
export const SEED_FUNCTION = "make_seed_prompt";

/** The reference file that defines each task's seed. */
export const SEED_SOURCE_FILES = {
  hotpotqa: "rpt/tasks/hotpotqa.py",
  livebench_math: "rpt/tasks/livebench_math.py",
  formula: "rpt/tasks/xbrl_formula.py",
} as const;

/** A task with a reference seed. */
export type SeedTask = keyof typeof SEED_SOURCE_FILES;

/** A Python literal value of a seed keyword argument. */
export type SeedValue = string | boolean | number;

/** Where a seed came from, as `seed_prompt.json` records it. */
export interface SeedSource {
  repository: string;
  commit: string;
  file: string;
  function: string;
  license: string;
}

/** The `source` record of a task's seed at the pinned commit. */
export function seedSource(task: SeedTask): SeedSource {
  return {
    repository: REFERENCE_REPOSITORY,
    commit: REFERENCE_COMMIT,
    file: SEED_SOURCE_FILES[task],
    function: SEED_FUNCTION,
    license: REFERENCE_LICENSE,
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { kind: "string"; value: string; at: number }
  | { kind: "name"; value: string; at: number }
  | { kind: "int"; value: number; at: number }
  | { kind: "op"; value: "(" | ")" | "," | "=" | "-" | "+"; at: number }
  | { kind: "end"; at: number };

class Lexer {
  #pos: number;
  constructor(readonly text: string, start: number, readonly source: string) {
    this.#pos = start;
  }

  /** `file:line:column: message`, for a position in the text. */
  error(at: number, message: string): ConfigError {
    const before = this.text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    return new ConfigError(`${this.source}:${line}:${column}: ${message}`);
  }

  next(): Token {
    this.#skipTrivia();
    const at = this.#pos;
    const ch = this.text[at];
    if (ch === undefined) return { kind: "end", at };
    if ("(),=-+".includes(ch)) {
      this.#pos++;
      return { kind: "op", value: ch as "(" | ")" | "," | "=" | "-" | "+", at };
    }
    const prefixed = /^([A-Za-z]{0,2})(['"])/.exec(this.text.slice(at, at + 3));
    if (prefixed) return this.#string(at, prefixed[1] ?? "");
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(at));
    if (name) {
      this.#pos += name[0].length;
      return { kind: "name", value: name[0], at };
    }
    const int = /^\d(?:_?\d)*(?![\w.])/.exec(this.text.slice(at));
    if (int) {
      this.#pos += int[0].length;
      const digits = int[0].replaceAll("_", "");
      if (digits.length > 1 && digits.startsWith("0")) {
        throw this.error(at, `integer '${int[0]}' with a leading zero is not valid Python`);
      }
      const value = Number(digits);
      if (!Number.isSafeInteger(value)) throw this.error(at, `integer ${int[0]} is too large`);
      return { kind: "int", value, at };
    }
    throw this.error(at, `expected a string, True, False or an integer, found '${ch}'`);
  }

  // Inside the call's parentheses newlines do not end anything, so all of them are trivia.
  #skipTrivia(): void {
    for (;;) {
      const rest = this.text.slice(this.#pos);
      const m = /^(?:[ \t\f\r\n]+|#[^\n]*|\\\r?\n)/.exec(rest);
      if (m === null || m[0] === "") return;
      this.#pos += m[0].length;
    }
  }

  #string(at: number, prefix: string): Token {
    const lower = prefix.toLowerCase();
    if (lower.includes("f") || lower.includes("b") || !/^(?:|r|u)$/.test(lower)) {
      throw this.error(at, `unsupported string prefix '${prefix}' (plain, r or u literals only)`);
    }
    const raw = lower === "r";
    let i = at + prefix.length;
    const quote = this.text[i] as string;
    const triple = this.text.startsWith(quote.repeat(3), i);
    const close = triple ? quote.repeat(3) : quote;
    i += close.length;
    let value = "";
    for (;;) {
      const ch = this.text[i];
      if (ch === undefined || (!triple && ch === "\n")) {
        throw this.error(at, "unterminated string literal");
      }
      if (this.text.startsWith(close, i)) {
        this.#pos = i + close.length;
        return { kind: "string", value, at };
      }
      if (ch === "\\") {
        const [text, length] = raw ? rawEscape(this.text, i) : this.#escape(i);
        value += text;
        i += length;
        continue;
      }
      value += ch;
      i++;
    }
  }

  // Python's escape sequences in a non-raw literal: the text they stand for and their length.
  #escape(i: number): [string, number] {
    const next = this.text[i + 1];
    if (next === undefined) throw this.error(i, "unterminated string literal");
    const simple: Record<string, string> = {
      "\n": "",
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
    };
    if (Object.hasOwn(simple, next)) return [simple[next] as string, 2];
    if (next === "\r" && this.text[i + 2] === "\n") return ["", 3];
    const octal = /^[0-7]{1,3}/.exec(this.text.slice(i + 1, i + 4));
    if (octal) return [String.fromCodePoint(parseInt(octal[0], 8)), 1 + octal[0].length];
    const hexLength = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (hexLength > 0) {
      const hex = this.text.slice(i + 2, i + 2 + hexLength);
      if (!new RegExp(`^[0-9A-Fa-f]{${hexLength}}$`).test(hex)) {
        throw this.error(i, `truncated \\${next} escape`);
      }
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) throw this.error(i, `\\${next}${hex} is not a code point`);
      return [String.fromCodePoint(code), 2 + hexLength];
    }
    if (next === "N") throw this.error(i, "\\N{...} escapes are not supported");
    // Python keeps an unknown escape as written (with a warning).
    return [`\\${next}`, 2];
  }
}

// In a raw literal a backslash escapes nothing but still keeps a quote from closing it.
function rawEscape(text: string, i: number): [string, number] {
  const next = text[i + 1];
  return next === undefined ? ["\\", 1] : [`\\${next}`, 2];
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  #token: Token;
  constructor(readonly lexer: Lexer) {
    this.#token = lexer.next();
  }

  #advance(): Token {
    const token = this.#token;
    this.#token = this.lexer.next();
    return token;
  }

  #isOp(value: string): boolean {
    return this.#token.kind === "op" && this.#token.value === value;
  }

  #expectOp(value: string, what: string): void {
    if (!this.#isOp(value)) throw this.lexer.error(this.#token.at, `expected ${what}`);
    this.#advance();
  }

  /** `name=value, ...` up to and including the closing parenthesis. */
  keywordArguments(): [string, SeedValue][] {
    const args: [string, SeedValue][] = [];
    while (!this.#isOp(")")) {
      const name = this.#token;
      if (name.kind !== "name") {
        throw this.lexer.error(name.at, "expected a keyword argument (name=value)");
      }
      this.#advance();
      this.#expectOp("=", `'=' after '${name.value}' (positional arguments are not supported)`);
      if (args.some(([k]) => k === name.value)) {
        throw this.lexer.error(name.at, `keyword argument '${name.value}' repeated`);
      }
      args.push([name.value, this.#value()]);
      if (this.#isOp(",")) this.#advance();
      else if (!this.#isOp(")")) throw this.lexer.error(this.#token.at, "expected ',' or ')'");
    }
    this.#advance();
    return args;
  }

  #value(): SeedValue {
    const token = this.#token;
    if (token.kind === "string") {
      let text = "";
      while (this.#token.kind === "string") text += (this.#advance() as { value: string }).value;
      return text;
    }
    if (token.kind === "op" && token.value === "(") {
      this.#advance();
      const inner = this.#value();
      if (this.#isOp(",")) throw this.lexer.error(this.#token.at, "tuples are not supported");
      this.#expectOp(")", "')'");
      return inner;
    }
    if (token.kind === "op" && (token.value === "-" || token.value === "+")) {
      this.#advance();
      const operand = this.#value();
      if (typeof operand !== "number") {
        throw this.lexer.error(token.at, `unary '${token.value}' needs an integer`);
      }
      return token.value === "-" ? -operand : operand;
    }
    if (token.kind === "int") {
      this.#advance();
      return token.value;
    }
    if (token.kind === "name" && (token.value === "True" || token.value === "False")) {
      this.#advance();
      return token.value === "True";
    }
    throw this.lexer.error(
      token.at,
      token.kind === "end"
        ? "unexpected end of file"
        : `expected a string, True, False or an integer, found '${
          token.kind === "op" ? token.value : String(token.value)
        }'`,
    );
  }
}

/**
 * The keyword arguments, in source order, of the `PromptProgram(...)` call that the
 * top-level `def make_seed_prompt` returns. `source` names the file in errors.
 *
 * @example
 * ```ts
 * import { parseSeedArguments } from "./seed_source.ts";
 * const py = [
 *   "def make_seed_prompt() -> PromptProgram:",
 *   "    return PromptProgram(",
 *   '        system="S",  # a comment',
 *   '        instruction=("line one\\n"',
 *   "                     'line two'),",
 *   "        enforce_json_only=True,",
 *   "    )",
 * ].join("\n");
 * const args = parseSeedArguments(py, "x.py");
 * if (JSON.stringify(args) !== '[["system","S"],["instruction","line one\\nline two"],["enforce_json_only",true]]') {
 *   throw new Error(JSON.stringify(args));
 * }
 * ```
 */
export function parseSeedArguments(text: string, source: string): [string, SeedValue][] {
  const def = new RegExp(`^def ${SEED_FUNCTION}\\s*\\(`, "m").exec(text);
  if (def === null) {
    throw new ConfigError(`${source}: no top-level 'def ${SEED_FUNCTION}(' found`);
  }
  // The body ends at the next line that starts with code at column 0 (or the end of the file);
  // a comment at column 0 does not end it.
  const bodyStart = text.indexOf("\n", def.index) + 1;
  const after = /^[^\s#]/m.exec(text.slice(bodyStart));
  const bodyEnd = after === null ? text.length : bodyStart + after.index;
  const call = /\breturn\s+PromptProgram\s*\(/.exec(text.slice(bodyStart, bodyEnd));
  if (call === null) {
    throw new ConfigError(`${source}: '${SEED_FUNCTION}' does not 'return PromptProgram(...)'`);
  }
  const lexer = new Lexer(text, bodyStart + call.index + call[0].length, source);
  return new Parser(lexer).keywordArguments();
}

/**
 * The `seed_prompt.json` object for a task: the seed's keyword arguments in source order
 * (`system` and `instruction` must be among them, as strings), then `source`.
 */
export function seedPromptObject(
  args: readonly [string, SeedValue][],
  source: SeedSource,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of args) out[key] = value;
  for (const field of ["system", "instruction"]) {
    if (typeof out[field] !== "string") {
      throw new ConfigError(
        `${source.file}: ${SEED_FUNCTION}: '${field}' must be given as a string literal`,
      );
    }
  }
  if (Object.hasOwn(out, "source")) {
    throw new ConfigError(`${source.file}: ${SEED_FUNCTION}: unexpected argument 'source'`);
  }
  out.source = { ...source };
  return out;
}

/**
 * JSON text as Python's `json.dumps(value, indent=2)` writes it (ASCII only: other
 * characters as `\uXXXX` escapes), plus a newline: the layout of `seed_prompt.json`.
 *
 * @example
 * ```ts
 * import { seedPromptJsonText } from "./seed_source.ts";
 * if (seedPromptJsonText({ a: "é", b: [true] }) !== '{\n  "a": "\\u00e9",\n  "b": [\n    true\n  ]\n}\n') {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function seedPromptJsonText(value: unknown): string {
  const text = JSON.stringify(value, null, 2).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `${text}\n`;
}

/**
 * The bytes of `<task>/seed_prompt.json` rebuilt from the text of the task's reference file
 * at the pinned commit.
 */
export function rebuildSeedPromptText(task: SeedTask, pythonSource: string): string {
  const source = seedSource(task);
  const args = parseSeedArguments(pythonSource, source.file);
  return seedPromptJsonText(seedPromptObject(args, source));
}
