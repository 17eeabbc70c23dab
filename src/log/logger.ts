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

/**
 * A growable byte buffer that log lines are encoded into: the access-line encoder writes into
 * {@linkcode LineBuffer.reserve}'s array directly, other lines go through `TextEncoder.encodeInto`.
 *
 * @example
 * ```ts
 * import { LineBuffer } from "./logger.ts";
 * const b = new LineBuffer();
 * b.text("status=200 ✓");
 * console.log(new TextDecoder().decode(b.bytes())); // "status=200 ✓"
 * ```
 */
export class LineBuffer {
  #buf: Uint8Array;
  /** Bytes used. */
  length = 0;

  /** An empty buffer of `capacity` bytes (it grows as needed). */
  constructor(capacity = 4096) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes and returns the underlying array. */
  reserve(n: number): Uint8Array {
    if (this.length + n > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.length + n));
      grown.set(this.#buf.subarray(0, this.length));
      this.#buf = grown;
    }
    return this.#buf;
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }

  /** Appends any string as UTF-8. */
  text(s: string): void {
    const buf = this.reserve(s.length * 3);
    this.length += encoder.encodeInto(s, buf.subarray(this.length)).written;
  }

  /** Forgets the contents. */
  clear(): void {
    this.length = 0;
  }
}

const encoder = new TextEncoder();

/**
 * Queues lines and writes them in batches, one write in flight at a time. Lines are encoded into
 * a byte buffer as they come; a batch is one write of that buffer while the next batch fills a
 * second one.
 */
export class LineWriter {
  #sink: LogSink;
  #queue = new LineBuffer(64 * 1024);
  #spare: LineBuffer | null = new LineBuffer(64 * 1024);
  #writing: Promise<void> | null = null;
  #maxQueued: number;
  /** Lines dropped because the sink could not keep up. */
  dropped = 0;

  #onDrop: (() => void) | undefined;
  #delayMs: number;
  #batchBytes: number;
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
    const q = this.begin();
    q.text(text);
    this.end();
  }

  #mark = 0;

  /** Starts a line: encode it into the returned buffer, then call {@linkcode LineWriter.end}. */
  begin(): LineBuffer {
    this.#mark = this.#queue.length;
    return this.#queue;
  }

  /** Ends the line begun by {@linkcode LineWriter.begin}; drops it if the queue is over its bound. */
  end(): void {
    const q = this.#queue;
    if (q.length + 1 > this.#maxQueued) {
      q.length = this.#mark;
      this.dropped++;
      this.#onDrop?.();
      return;
    }
    q.reserve(1)[q.length++] = 0x0a;
    if (this.#writing === null) this.#writing = this.#drain();
    else if (q.length >= this.#batchBytes) this.#wake?.();
  }

  /**
   * Waits for the batch to fill up, or the delay to pass, or a flush to ask. One timer serves
   * many batches: it is armed only when none is pending, so under load (batches fill in a few
   * milliseconds) a batch costs no timer; a timer left from an earlier batch may end a later
   * gathering early, which only makes that batch smaller.
   */
  #gather(): Promise<void> {
    if (this.#delayMs <= 0 || this.#flushing > 0 || this.#queue.length >= this.#batchBytes) return RESOLVED;
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
      if (!this.#timerArmed) {
        this.#timerArmed = true;
        setTimeout(() => {
          this.#timerArmed = false;
          this.#wake?.();
        }, this.#delayMs);
      }
    });
  }

  #timerArmed = false;
  #flushing = 0;

  async #drain(): Promise<void> {
    // Let the current burst of lines queue up before writing them together.
    await RESOLVED;
    for (;;) {
      await this.#gather();
      if (this.#queue.length === 0) break;
      const batch = this.#queue;
      this.#queue = this.#spare ?? new LineBuffer(64 * 1024);
      this.#spare = null;
      const bytes = batch.bytes();
      try {
        let off = 0;
        while (off < bytes.length) off += await this.#sink.write(bytes.subarray(off));
      } catch {
        this.dropped++;
        this.#onDrop?.();
      }
      batch.clear();
      // A batch that grew far beyond the usual size is not kept.
      if (batch.reserve(0).length <= 4 * this.#batchBytes) this.#spare = batch;
    }
    this.#writing = null;
  }

  /** Resolves when everything queued so far has been written. */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      while (this.#writing !== null) {
        this.#wake?.();
        await this.#writing;
      }
    } finally {
      this.#flushing--;
    }
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

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

/** Closes each of `sinks` that can be closed (a file finishes its gzip), once; never stdout or stderr. */
export async function closeSinks(sinks: Iterable<LogSink>): Promise<void> {
  for (const sink of new Set(sinks)) {
    const closable = sink as LogSink & { close?: () => Promise<void> | void };
    if (typeof closable.close === "function" && sink !== Deno.stdout && sink !== Deno.stderr) {
      await closable.close();
    }
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

let clfSecond = -1;
let clfText = "";

/**
 * `10/Oct/2000:13:55:36 +0000`-style time for the combined format (UTC), computed once per
 * second.
 */
function clfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== clfSecond) {
    clfSecond = second;
    const d = new Date(second * 1000);
    const p = (n: number) => String(n).padStart(2, "0");
    clfText = `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:` +
      `${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  }
  return clfText;
}

/** Escapes a value for a quoted field of the text formats: quotes, backslashes, controls, non-ASCII. */
export function escapeText(s: string): string {
  if (isAscii(s)) return s; // most values need nothing: no copy is built
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
let isoAscii = new Uint8Array(0);

/** `Date#toISOString()`, computed once per millisecond (a busy server logs many lines in one). */
function isoTime(ms: number): string {
  const t = Math.floor(ms);
  if (t !== isoMs) {
    isoMs = t;
    isoText = new Date(t).toISOString();
    isoAscii = encoder.encode(isoText);
  }
  return isoText;
}

/**
 * What one connection's JSON access lines repeat, kept between its requests as encoded bytes.
 * Two parts, each checked and copied whole with one `set()` while its values stay the same:
 *
 * - the request: method, target, status and body bytes. A keep-alive client that repeats a
 *   request (a health check, a poller, an API client, a load balancer) repeats these;
 * - the connection: connection id, client address, protocol, TLS, phase, user agent and
 *   referer, which seldom change on a keep-alive connection (a browser's user agent alone is a
 *   hundred bytes or more).
 *
 * A connection passes its own memo to {@linkcode Logger.access}.
 *
 * @example
 * ```ts ignore
 * const memo = new AccessMemo(); // one per connection
 * logger.access(entry, memo);
 * ```
 */
export class AccessMemo {
  #method = "";
  #target = "";
  #status = -1;
  #bytes = -1;
  #request: Uint8Array | null = null;
  #conn = -1;
  #remote = "";
  #protocol = "";
  #tls = false;
  #phase = "";
  #ua: string | undefined;
  #referer: string | undefined;
  #connection: Uint8Array | null = null;

  /**
   * The encoded request part for `e` if it is kept; `null` if `e` repeats the previous request
   * but its bytes are not kept yet (keep them with {@linkcode AccessMemo.keepRequest});
   * `undefined` if `e` differs, and then `e` is the request remembered from now on. Bytes are
   * kept only once a request repeats: a browser fetching one page after another costs no copy.
   */
  request(e: AccessEntry): Uint8Array | null | undefined {
    if (
      this.#status === e.status && this.#bytes === e.bytes && this.#method === e.method &&
      this.#target === e.target
    ) {
      return this.#request;
    }
    this.#method = e.method;
    this.#target = e.target;
    this.#status = e.status;
    this.#bytes = e.bytes;
    this.#request = null;
    return undefined;
  }

  /** Keeps `bytes` as the encoded request part of the request remembered. */
  keepRequest(bytes: Uint8Array): void {
    this.#request = bytes;
  }

  /** {@linkcode AccessMemo.request} for the connection part. */
  connection(e: AccessEntry): Uint8Array | null | undefined {
    if (
      this.#conn === e.conn && this.#remote === e.remote && this.#protocol === e.protocol &&
      this.#tls === e.tls && this.#phase === e.phase && this.#ua === e.ua && this.#referer === e.referer
    ) {
      return this.#connection;
    }
    this.#conn = e.conn;
    this.#remote = e.remote;
    this.#protocol = e.protocol;
    this.#tls = e.tls;
    this.#phase = e.phase;
    this.#ua = e.ua;
    this.#referer = e.referer;
    this.#connection = null;
    return undefined;
  }

  /** Keeps `bytes` as the encoded connection part of the connection remembered. */
  keepConnection(bytes: Uint8Array): void {
    this.#connection = bytes;
  }
}

/**
 * The JSON keys in line order, each with the punctuation before it: the time and request id,
 * then the request part and the connection part of {@linkcode AccessMemo}, then what differs on
 * every request, the trace id and the duration. Absent optional values (`ua`, `referer`,
 * `trace`) are left out.
 */
const KEY_NAMES = [
  "time",
  "id",
  "method",
  "target",
  "status",
  "bytes",
  "conn",
  "remote",
  "protocol",
  "tls",
  "phase",
  "ua",
  "referer",
  "trace",
  "ms",
];
/** All keys in one array (a line reads them from a few cache lines), `KEY_AT[f]` to `KEY_AT[f + 1]`. */
const KEY_BYTES = encoder.encode(KEY_NAMES.map((k, i) => `${i === 0 ? "{" : ","}"${k}":`).join(""));
const KEY_AT = KEY_NAMES.reduce((at, k, i) => [...at, at[i] + k.length + 4], [0]); // `,"k":` or `{"k":`
const FIELDS = KEY_NAMES.length;
/** The request part: fields `REQUEST` to `CONNECTION - 1`. */
const REQUEST = 2;
/** The connection part: fields `CONNECTION` to `PER_REQUEST - 1`. */
const CONNECTION = 6;
/** The fields after both parts. */
const PER_REQUEST = 13;
const K_MS = FIELDS - 1;
/**
 * The most a line takes besides its strings: every key, the time, the quotes of nine strings,
 * four numbers of up to 16 digits and a point, `false` and the closing brace. (A larger number
 * or a string that is not plain ASCII goes through `JSON.stringify` instead.)
 */
const JSON_FIXED = KEY_BYTES.length + 26 + 2 * 9 + 4 * 17 + 5 + 1;
const TRUE = encoder.encode("true");
const FALSE = encoder.encode("false");

/**
 * Encodes one access entry as a JSON object into `b`, in one pass with no call per field; a part
 * that `memo` holds is copied instead of encoded. Numbers and booleans are ours; a string of
 * printable ASCII is copied as it is, and a line with any other string (a quote, backslash,
 * control or non-ASCII character) is serialised whole by `JSON.stringify` instead, so no value
 * can break the line.
 */
function accessJson(b: LineBuffer, e: AccessEntry, memo: AccessMemo | undefined): void {
  const mark = b.length;
  // A part's bytes: kept (copy them), null (encode and keep them) or undefined (encode them).
  const request = memo?.request(e);
  const connection = memo?.connection(e);
  const room = JSON_FIXED + e.id.length + (e.trace?.length ?? 0) +
    (request ? request.length : e.method.length + e.target.length) +
    (connection
      ? connection.length
      : e.remote.length + e.protocol.length + e.phase.length + (e.ua?.length ?? 0) +
        (e.referer?.length ?? 0));
  const buf = b.reserve(room);
  isoTime(e.time);
  let p = mark;
  let partStart = 0;
  for (let f = 0; f < FIELDS; f++) {
    // Where a part ends, remember it if it was encoded here.
    if (f === CONNECTION && request === null) memo!.keepRequest(buf.slice(partStart, p));
    else if (f === PER_REQUEST && connection === null) memo!.keepConnection(buf.slice(partStart, p));
    // Where a part starts, copy it if it is remembered.
    if (f === REQUEST || f === CONNECTION) {
      const part = f === REQUEST ? request : connection;
      if (part) {
        buf.set(part, p);
        p += part.length;
        f = f === REQUEST ? CONNECTION - 1 : PER_REQUEST - 1;
        continue;
      }
      partStart = p;
    }
    let v: string | number | boolean | undefined;
    switch (f) {
      case 0:
        v = undefined; // the time, from its cached bytes
        break;
      case 1:
        v = e.id;
        break;
      case 2:
        v = e.method;
        break;
      case 3:
        v = e.target;
        break;
      case 4:
        v = e.status;
        break;
      case 5:
        v = e.bytes;
        break;
      case 6:
        v = e.conn;
        break;
      case 7:
        v = e.remote;
        break;
      case 8:
        v = e.protocol;
        break;
      case 9:
        v = e.tls;
        break;
      case 10:
        v = e.phase;
        break;
      case 11:
        v = e.ua;
        if (v === undefined) continue;
        break;
      case 12:
        v = e.referer;
        if (v === undefined) continue;
        break;
      case 13:
        v = e.trace;
        if (v === undefined) continue;
        break;
      default:
        v = Math.round(e.ms * 1000); // whole microseconds
    }
    for (let j = KEY_AT[f], end = KEY_AT[f + 1]; j < end; j++) buf[p++] = KEY_BYTES[j];
    if (f === 0) {
      const t = isoAscii;
      buf[p++] = 0x22;
      for (let j = 0; j < t.length; j++) buf[p++] = t[j];
      buf[p++] = 0x22;
    } else if (typeof v === "string") {
      buf[p++] = 0x22;
      p = asciiAt(buf, p, v);
      if (p < 0) return accessJsonEscaped(b, mark, e);
      buf[p++] = 0x22;
    } else if (typeof v === "number") {
      // A whole number, digit by digit from the right; the duration as milliseconds with three
      // decimals (49 µs → 0.049).
      if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER && v === Math.floor(v))) {
        return accessJsonEscaped(b, mark, e);
      }
      let digits = 1;
      for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
      if (f === K_MS && digits < 4) digits = 4;
      const point = f === K_MS ? 1 : 0;
      let q = p + digits + point;
      let x = v;
      for (let d = 0; d < digits; d++) {
        buf[--q] = 0x30 + x % 10;
        x = Math.floor(x / 10);
        if (d === 2 && point === 1) buf[--q] = 0x2e;
      }
      p += digits + point;
    } else {
      const word = v ? TRUE : FALSE;
      for (let j = 0; j < word.length; j++) buf[p++] = word[j];
    }
  }
  buf[p++] = 0x7d;
  b.length = p;
}

/**
 * {@linkcode accessJson} for a line with a string that needs escaping (or a number that is not a
 * whole one): the same fields in the same order through `JSON.stringify`, which also leaves out
 * absent values. Replaces whatever was encoded into `b` from `mark`.
 */
function accessJsonEscaped(b: LineBuffer, mark: number, e: AccessEntry): void {
  b.length = mark;
  b.text(JSON.stringify({
    time: isoTime(e.time),
    id: e.id,
    method: e.method,
    target: e.target,
    status: e.status,
    bytes: e.bytes,
    conn: e.conn,
    remote: e.remote,
    protocol: e.protocol,
    tls: e.tls,
    phase: e.phase,
    ua: e.ua,
    referer: e.referer,
    trace: e.trace,
    ms: Math.round(e.ms * 1000) / 1000,
  }));
}

/**
 * Copies `s` into `buf` at `p` if it is printable ASCII with no quote or backslash (nothing the
 * text formats escape); returns where it ends, or -1 if it needs escaping.
 */
function asciiAt(buf: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return -1;
    buf[p++] = c;
  }
  return p;
}

/** Whether `s` is printable ASCII with no quote or backslash: whether the text formats keep it as it is. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return false;
  }
  return true;
}

/** Writes the decimal digits of the whole number `n` (≥ 0) into `buf` at `p`; returns where they end. */
function digitsAt(buf: Uint8Array, p: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let q = p + digits;
  for (let x = n; q > p; x = Math.floor(x / 10)) buf[--q] = 0x30 + x % 10;
  return p + digits;
}

const PLAIN_CONN = encoder.encode("ms conn=");
const PLAIN_ID = encoder.encode(" id=");
const PLAIN_TRACE = encoder.encode(" trace=");
const PLAIN_TLS = encoder.encode(" tls");
const PLAIN_DRAINING = encoder.encode(" draining");
/**
 * The most a plain line takes besides its strings: the time, eight separators, three numbers of
 * up to 16 digits, the duration's point and tenth, and the constant words.
 */
const PLAIN_FIXED = 24 + 8 + 3 * 16 + 2 + PLAIN_CONN.length + 16 + PLAIN_ID.length + PLAIN_TRACE.length +
  PLAIN_TLS.length + PLAIN_DRAINING.length;

/**
 * Encodes one access entry as a `plain` line into `b`, the same text as
 * {@linkcode formatAccess}'s, without building a string. A line with a value that needs escaping
 * (or a count that is not a whole number) goes through {@linkcode formatAccess} instead.
 */
function accessPlain(b: LineBuffer, e: AccessEntry): void {
  const mark = b.length;
  const buf = b.reserve(
    PLAIN_FIXED + e.remote.length + e.method.length + e.target.length + e.protocol.length + e.id.length +
      (e.trace?.length ?? 0),
  );
  const tenths = Math.round(e.ms * 10);
  if (!isCount(e.status) || !isCount(e.bytes) || !isCount(e.conn) || !isCount(tenths)) {
    return plainByString(b, mark, e);
  }
  isoTime(e.time);
  const t = isoAscii;
  let p = mark;
  for (let j = 0; j < t.length; j++) buf[p++] = t[j];
  buf[p++] = 0x20;
  p = asciiAt(buf, p, e.remote);
  if (p < 0) return plainByString(b, mark, e);
  buf[p++] = 0x20;
  buf[p++] = 0x22;
  p = asciiAt(buf, p, e.method);
  if (p < 0) return plainByString(b, mark, e);
  buf[p++] = 0x20;
  p = asciiAt(buf, p, e.target);
  if (p < 0) return plainByString(b, mark, e);
  buf[p++] = 0x20;
  p = asciiAt(buf, p, e.protocol);
  if (p < 0) return plainByString(b, mark, e);
  buf[p++] = 0x22;
  buf[p++] = 0x20;
  p = digitsAt(buf, p, e.status);
  buf[p++] = 0x20;
  p = digitsAt(buf, p, e.bytes);
  buf[p++] = 0x20;
  p = digitsAt(buf, p, Math.floor(tenths / 10));
  buf[p++] = 0x2e;
  buf[p++] = 0x30 + tenths % 10;
  buf.set(PLAIN_CONN, p);
  p = digitsAt(buf, p + PLAIN_CONN.length, e.conn);
  buf.set(PLAIN_ID, p);
  p = asciiAt(buf, p + PLAIN_ID.length, e.id);
  if (p < 0) return plainByString(b, mark, e);
  if (e.trace) {
    buf.set(PLAIN_TRACE, p);
    p = asciiAt(buf, p + PLAIN_TRACE.length, e.trace);
    if (p < 0) return plainByString(b, mark, e);
  }
  if (e.tls) {
    buf.set(PLAIN_TLS, p);
    p += PLAIN_TLS.length;
  }
  if (e.phase === "draining") {
    buf.set(PLAIN_DRAINING, p);
    p += PLAIN_DRAINING.length;
  }
  b.length = p;
}

/** {@linkcode accessPlain} for a line that needs escaping: replaces what was encoded from `mark`. */
function plainByString(b: LineBuffer, mark: number, e: AccessEntry): void {
  b.length = mark;
  b.text(formatAccess("plain", e));
}

/** Whether `n` is a whole number from 0 up that the digit writer can print exactly. */
function isCount(n: number): boolean {
  return n >= 0 && n <= Number.MAX_SAFE_INTEGER && n === Math.floor(n);
}

const decoder = new TextDecoder();

/**
 * Renders one access entry in `format`; a JSON line reuses what `memo` (one per connection)
 * remembers of the connection's previous line.
 */
export function formatAccess(format: LogFormat, e: AccessEntry, memo?: AccessMemo): string {
  switch (format) {
    case "json": {
      const b = new LineBuffer(512);
      accessJson(b, e, memo);
      return decoder.decode(b.bytes());
    }
    case "combined":
      return `${e.remote} - - [${clfTime(e.time)}] "${escapeText(e.method)} ${
        escapeText(e.target)
      } ${e.protocol}" ` +
        `${e.status} ${e.bytes} "${escapeText(e.referer ?? "-")}" "${escapeText(e.ua ?? "-")}"`;
    default: {
      // The duration in tenths of a millisecond, with integer arithmetic (toFixed is slow).
      const tenths = Math.round(e.ms * 10);
      return `${isoTime(e.time)} ${e.remote} "${escapeText(e.method)} ${escapeText(e.target)} ` +
        `${e.protocol}" ${e.status} ${e.bytes} ${Math.floor(tenths / 10)}.${tenths % 10}ms conn=${e.conn} ` +
        `id=${escapeText(e.id)}${e.trace ? " trace=" + escapeText(e.trace) : ""}${e.tls ? " tls" : ""}${
          e.phase === "draining" ? " draining" : ""
        }`;
    }
  }
}
