/**
 * Access and error logging. Lines are queued and written asynchronously in batches, so a slow
 * terminal or disk never blocks the event loop; past a bound, lines are dropped and counted
 * rather than piling up in memory.
 *
 * @module
 */

import type { LogFormat } from "../options.ts";
import { closeSinks, LineWriter, type LogSink } from "./line_writer.ts";
import { accessJson, type AccessMemo } from "./access_json.ts";
import type { AccessEntry } from "./access_entry.ts";
import { accessPlain, formatAccess } from "./access_text.ts";

export { closeSinks, LineBuffer, LineWriter, type LogSink } from "./line_writer.ts";
export { AccessMemo } from "./access_json.ts";
export type { AccessEntry } from "./access_entry.ts";
export { formatAccess } from "./access_text.ts";
export { escapeText } from "./text_helpers.ts";

/** Levels of the error log. */
export type Level = "debug" | "info" | "warn" | "error";
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The server's logger: access lines in the configured format, error lines as text or JSON
 * (JSON when the access format is `json`).
 *
 * @example
 * ```ts ignore
 * const log = new Logger("json", Deno.stdout, Deno.stderr);
 * log.error("app failed", { id: "abc" });
 * ```
 */
export class Logger {
  /** The access-log format. */
  readonly format: LogFormat;
  /** Least level written to the error log. */
  level: Level;
  #access: LineWriter | null;
  #errors: LineWriter;

  #sinks: LogSink[];

  /**
   * A logger writing access lines to `access` and error lines to `errors`; `onDrop` is called for
   * each line dropped because a sink could not keep up.
   */
  constructor(
    format: LogFormat,
    access: LogSink,
    errors: LogSink,
    level: Level = "info",
    onDrop?: () => void,
  ) {
    this.format = format;
    this.level = level;
    // Access lines are batched (50 ms or 64 KiB); error lines go out at once.
    this.#access = format === "none" ? null : new LineWriter(access, undefined, onDrop, 50);
    this.#errors = new LineWriter(errors, undefined, onDrop);
    this.#sinks = [access, errors];
  }

  /** Whether access lines are written at all. */
  get accessEnabled(): boolean {
    return this.#access !== null;
  }

  #wallZero = 0;
  #wallReadAt = -Infinity;

  /**
   * Wall-clock milliseconds at `performance.now()` = 0, given `now` = `performance.now()`. The
   * wall clock is read again only after a second, so a busy server does not read it per request,
   * and yet follows it (the two clocks drift apart over a long uptime, and the wall clock may be
   * set).
   */
  wallAtZero(now: number): number {
    if (now - this.#wallReadAt >= 1000) {
      this.#wallZero = Date.now() - now;
      this.#wallReadAt = now;
    }
    return this.#wallZero;
  }

  /**
   * Writes one access line. `memo`, one per connection, lets a JSON line copy the request and
   * connection parts it shares with the connection's earlier lines instead of encoding them again.
   */
  access(e: AccessEntry, memo?: AccessMemo): void {
    const w = this.#access;
    if (w === null) return;
    if (this.format === "json") {
      // Encoded straight into the batch: no string is built for the line.
      accessJson(w.begin(), e, memo);
      w.end();
    } else if (this.format === "plain") {
      accessPlain(w.begin(), e);
      w.end();
    } else w.line(formatAccess(this.format, e));
  }

  /** Writes a line to the error log at `level`, with optional structured fields. */
  log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const time = new Date().toISOString();
    if (this.format === "json") {
      this.#errors.line(JSON.stringify({ time, level, message, ...fields }));
    } else {
      const extra = Object.entries(fields).map(([k, v]) =>
        `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
      );
      this.#errors.line([time, level.toUpperCase(), message, ...extra].join(" "));
    }
  }

  /** {@linkcode Logger.log} at debug level. */
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }
  /** {@linkcode Logger.log} at info level. */
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  /** {@linkcode Logger.log} at warn level. */
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  /** {@linkcode Logger.log} at error level. */
  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }

  /** Resolves when all queued lines are written. */
  async flush(): Promise<void> {
    await this.#access?.flush();
    await this.#errors.flush();
  }

  /** Flushes, then closes the sinks that can be closed (log files). */
  async close(): Promise<void> {
    await this.flush();
    await closeSinks(this.#sinks);
  }
}
