/**
 * A Python worker's stdout or stderr turned into log records: split into lines in one pass over
 * the bytes (the cost is linear whatever the app writes: a newline is searched for only in the
 * text just read), a line longer than {@linkcode LINE_CAP} characters logged in pieces (each piece
 * but the last marked `continued`), and the level Python's logging gave a line kept: the worker
 * writes such a line as `\x1e LEVEL "message"` (the message JSON-encoded, so a traceback stays one
 * record); any other line is INFO.
 *
 * @module
 */

/** Longest piece of a line logged as one record, in characters. */
export const LINE_CAP = 16 * 1024;

/** The mark that starts a line carrying a logging level (worker.py's LOG_MARK). */
const LOG_MARK = "\x1e";

/** A log level ferry's logger knows. */
export type LineLevel = "debug" | "info" | "warn" | "error";

/** One record: its level, its text, and whether the line goes on in the next record. */
export interface OutputLine {
  /** The level (INFO unless Python's logging gave one). */
  level: LineLevel;
  /** The text. */
  text: string;
  /** The line was longer than {@linkcode LINE_CAP}: more of it follows. */
  continued: boolean;
}

const LEVELS: Record<string, LineLevel> = {
  DEBUG: "debug",
  NOTSET: "debug",
  INFO: "info",
  WARNING: "warn",
  WARN: "warn",
  ERROR: "error",
  CRITICAL: "error",
  FATAL: "error",
};

/**
 * Splits a stream of output into {@linkcode OutputLine}s.
 *
 * @example
 * ```ts
 * import { OutputLines } from "./output_lines.ts";
 * const got: string[] = [];
 * const lines = new OutputLines((l) => got.push(`${l.level} ${l.text}`));
 * lines.push(new TextEncoder().encode('plain\n\x1eWARNING "Not Found: /favicon.ico"\n'));
 * lines.end();
 * console.log(got); // ["info plain", "warn Not Found: /favicon.ico"]
 * ```
 */
export class OutputLines {
  #emit: (line: OutputLine) => void;
  #decoder = new TextDecoder();
  #parts: string[] = [];
  #len = 0;
  /** The level of the line under way when its first piece was logged already. */
  #carry: LineLevel | undefined;

  /** Lines go to `emit`. */
  constructor(emit: (line: OutputLine) => void) {
    this.#emit = emit;
  }

  /** Takes bytes read from the stream. */
  push(chunk: Uint8Array): void {
    this.#text(this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: logs what is left. */
  end(): void {
    this.#text(this.#decoder.decode());
    if (this.#len > 0 || this.#carry !== undefined) this.#flush(false);
  }

  #text(s: string): void {
    let start = 0;
    for (;;) {
      const nl = s.indexOf("\n", start);
      const stop = nl < 0 ? s.length : nl;
      let at = start;
      while (this.#len + (stop - at) >= LINE_CAP && stop > at) {
        const take = LINE_CAP - this.#len;
        this.#parts.push(s.slice(at, at + take));
        this.#len += take;
        at += take;
        this.#flush(true);
      }
      if (at < stop) {
        this.#parts.push(s.slice(at, stop));
        this.#len += stop - at;
      }
      if (nl < 0) return;
      this.#flush(false);
      start = nl + 1;
    }
  }

  #flush(continued: boolean): void {
    let text = this.#parts.length === 1 ? this.#parts[0] : this.#parts.join("");
    this.#parts = [];
    this.#len = 0;
    if (text.endsWith("\r") && !continued) text = text.slice(0, -1);
    let level = this.#carry;
    if (level === undefined) {
      level = "info";
      if (text.startsWith(LOG_MARK)) {
        const space = text.indexOf(" ");
        const named = LEVELS[text.slice(1, space < 0 ? undefined : space)];
        if (named !== undefined && space > 0) {
          level = named;
          text = text.slice(space + 1);
          if (!continued) {
            try {
              const decoded: unknown = JSON.parse(text);
              if (typeof decoded === "string") text = decoded;
            } catch {
              // not JSON after all: logged as it came
            }
          }
        }
      }
    }
    this.#carry = continued ? level : undefined;
    this.#emit({ level, text, continued });
  }
}
