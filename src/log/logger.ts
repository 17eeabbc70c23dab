/**
 * Access and error logging. Lines are queued and written asynchronously in batches, so a slow
 * terminal or disk never blocks the event loop; past a bound, lines are dropped and counted
 * rather than piling up in memory.
 *
 * @module
 */

import type { LogFormat } from "../options.ts";

/** One access-log record. */
export interface AccessEntry {
  /** Request start, ms since the epoch. */
  time: number;
  /** Connection id. */
  conn: number;
  /** Request id (also sent as X-Request-Id). */
  id: string;
  /** Client address. */
  remote: string;
  /** Method, or `-` when the head did not parse. */
  method: string;
  /** Request-target as received, or `-`. */
  target: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  protocol: string;
  /** Response status. */
  status: number;
  /** Response body bytes. */
  bytes: number;
  /** Duration in milliseconds. */
  ms: number;
  /** User-Agent, if sent. */
  ua?: string;
  /** Referer, if sent. */
  referer?: string;
  /** Whether the connection is TLS. */
  tls: boolean;
  /** `running` or `draining`. */
  phase: string;
  /** Trace id from a W3C traceparent header. */
  trace?: string;
}

/** Levels of the error log. */
export type Level = "debug" | "info" | "warn" | "error";
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Something that accepts bytes, like `Deno.stdout`. */
export interface LogSink {
  /** Writes some of `p`. */
  write(p: Uint8Array): Promise<number>;
}

/** Queues lines and writes them in batches, one write in flight at a time. */
export class LineWriter {
  #sink: LogSink;
  #queue: string[] = [];
  #queuedBytes = 0;
  #writing: Promise<void> | null = null;
  #maxQueued: number;
  /** Lines dropped because the sink could not keep up. */
  dropped = 0;

  #onDrop: (() => void) | undefined;
  #delayMs: number;
  #batchBytes: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  /**
   * A writer to `sink`, holding at most `maxQueuedBytes` of unwritten lines. With `delayMs` > 0,
   * lines are gathered for up to that long (or until `batchBytes` are queued) and written
   * together, as nginx's buffered access log does.
   */
  constructor(
    sink: LogSink,
    maxQueuedBytes = 8 * 1024 * 1024,
    onDrop?: () => void,
    delayMs = 0,
    batchBytes = 64 * 1024,
  ) {
    this.#sink = sink;
    this.#maxQueued = maxQueuedBytes;
    this.#onDrop = onDrop;
    this.#delayMs = delayMs;
    this.#batchBytes = batchBytes;
  }

  /** Queues one line (a newline is added). */
  line(text: string): void {
    if (this.#queuedBytes + text.length > this.#maxQueued) {
      this.dropped++;
      this.#onDrop?.();
      return;
    }
    this.#queue.push(text);
    this.#queuedBytes += text.length + 1;
    if (this.#writing === null) this.#writing = this.#drain();
    else if (this.#queuedBytes >= this.#batchBytes) this.#wake?.();
  }

  /** Waits for the batch to fill up (or the delay to pass, or a flush to ask). */
  #gather(): Promise<void> {
    if (this.#delayMs <= 0 || this.#queuedBytes >= this.#batchBytes) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#timer);
        this.#wake = undefined;
        resolve();
      };
      this.#timer = setTimeout(this.#wake, this.#delayMs);
    });
  }

  async #drain(): Promise<void> {
    // Let the current burst of lines queue up before writing them together.
    await Promise.resolve();
    await this.#gather();
    const enc = new TextEncoder();
    while (this.#queue.length > 0) {
      const batch = this.#queue.join("\n") + "\n";
      this.#queue = [];
      this.#queuedBytes = 0;
      const bytes = enc.encode(batch);
      try {
        let off = 0;
        while (off < bytes.length) off += await this.#sink.write(bytes.subarray(off));
      } catch {
        this.dropped++;
        this.#onDrop?.();
      }
    }
    this.#writing = null;
  }

  /** Resolves when everything queued so far has been written. */
  async flush(): Promise<void> {
    this.#wake?.();
    while (this.#writing !== null) {
      this.#wake?.();
      await this.#writing;
    }
  }
}

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

  /** Writes one access line. */
  access(e: AccessEntry): void {
    const w = this.#access;
    if (w === null) return;
    w.line(formatAccess(this.format, e));
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
    for (const sink of new Set(this.#sinks)) {
      const closable = sink as LogSink & { close?: () => Promise<void> | void };
      if (typeof closable.close === "function" && sink !== Deno.stdout && sink !== Deno.stderr) {
        await closable.close();
      }
    }
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `[10/Oct/2000:13:55:36 +0000]`-style time for the combined format (UTC). */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:` +
    `${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Escapes a value for a quoted field of the text formats: quotes, backslashes, controls, non-ASCII. */
export function escapeText(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += "\\" + s[i];
    else if (c < 0x20 || c >= 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += s[i];
  }
  return out;
}

let isoMs = -1;
let isoText = "";

/** `Date#toISOString()`, computed once per millisecond (a busy server logs many lines in one). */
function isoTime(ms: number): string {
  const t = Math.floor(ms);
  if (t !== isoMs) {
    isoMs = t;
    isoText = new Date(t).toISOString();
  }
  return isoText;
}

/**
 * A JSON string literal, or null. A string with no quote, backslash or control character is
 * already valid between quotes (JSON allows every other code point as it is); anything else goes
 * through JSON.stringify.
 */
function js(v: string | undefined): string {
  if (v === undefined) return "null";
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(v);
  }
  return `"${v}"`;
}

/** Renders one access entry in `format`. */
export function formatAccess(format: LogFormat, e: AccessEntry): string {
  switch (format) {
    case "json":
      // Built by hand for speed; numbers and booleans are ours, every string is JSON.stringify'd.
      return `{"time":"${isoTime(e.time)}","conn":${e.conn},"id":${js(e.id)},"remote":${js(e.remote)},` +
        `"method":${js(e.method)},"target":${js(e.target)},"protocol":${
          js(e.protocol)
        },"status":${e.status},` +
        `"bytes":${e.bytes},"ms":${Math.round(e.ms * 1000) / 1000},"ua":${js(e.ua)},"referer":${
          js(e.referer)
        },` +
        `"trace":${js(e.trace)},"tls":${e.tls},"phase":${js(e.phase)}}`;
    case "combined":
      return `${e.remote} - - [${clfTime(e.time)}] "${escapeText(e.method)} ${
        escapeText(e.target)
      } ${e.protocol}" ` +
        `${e.status} ${e.bytes} "${escapeText(e.referer ?? "-")}" "${escapeText(e.ua ?? "-")}"`;
    default:
      return `${new Date(e.time).toISOString()} ${e.remote} "${escapeText(e.method)} ${
        escapeText(e.target)
      } ` +
        `${e.protocol}" ${e.status} ${e.bytes} ${e.ms.toFixed(1)}ms conn=${e.conn} id=${e.id}` +
        `${e.trace ? " trace=" + e.trace : ""}${e.tls ? " tls" : ""}${
          e.phase === "draining" ? " draining" : ""
        }`;
  }
}
