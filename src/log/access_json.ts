/**
 * The JSON access line, encoded straight into bytes in one pass; what a connection's lines repeat
 * ({@linkcode AccessMemo}) is copied whole. A line with a value that needs escaping falls back to
 * `JSON.stringify` of the same fields.
 *
 * @module
 */

import type { AccessEntry } from "./access_entry.ts";
import { encoder, type LineBuffer } from "./line_writer.ts";
import { asciiAt, isoAscii, isoTime } from "./text_helpers.ts";

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
 * every request, the trace id, the HTTP/2 stream id and the duration. Absent optional values
 * (`ua`, `referer`, `trace`, `stream`) are left out.
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
  "stream",
  "ms",
];
/** Field positions, in the order of {@linkcode KEY_NAMES}. */
const F_TIME = 0;
const F_ID = 1;
const F_METHOD = 2;
const F_TARGET = 3;
const F_STATUS = 4;
const F_BYTES = 5;
const F_CONN = 6;
const F_REMOTE = 7;
const F_PROTOCOL = 8;
const F_TLS = 9;
const F_PHASE = 10;
const F_UA = 11;
const F_REFERER = 12;
const F_TRACE = 13;
const F_STREAM = 14;
const F_MS = 15;

/** All keys in one array (a line reads them from a few cache lines), `KEY_AT[f]` to `KEY_AT[f + 1]`. */
const KEY_BYTES = encoder.encode(KEY_NAMES.map((k, i) => `${i === 0 ? "{" : ","}"${k}":`).join(""));
const KEY_AT = KEY_NAMES.reduce((at, k, i) => [...at, at[i] + k.length + 4], [0]); // `,"k":` or `{"k":`
const FIELDS = KEY_NAMES.length;
/** The request part: fields `REQUEST` to `CONNECTION - 1`. */
const REQUEST = F_METHOD;
/** The connection part: fields `CONNECTION` to `PER_REQUEST - 1`. */
const CONNECTION = F_CONN;
/** The fields after both parts. */
const PER_REQUEST = F_TRACE;
const K_MS = F_MS;
/**
 * The most a line takes besides its strings: every key, the time, the quotes of nine strings,
 * four numbers of up to 16 digits and a point, `false` and the closing brace. (A larger number
 * or a string that is not plain ASCII goes through `JSON.stringify` instead.)
 */
const JSON_FIXED = KEY_BYTES.length + 26 + 2 * 9 + 5 * 17 + 5 + 1;
const TRUE = encoder.encode("true");
const FALSE = encoder.encode("false");

/**
 * Encodes one access entry as a JSON object into `b`, in one pass with no call per field; a part
 * that `memo` holds is copied instead of encoded. Numbers and booleans are ours; a string of
 * printable ASCII is copied as it is, and a line with any other string (a quote, backslash,
 * control or non-ASCII character) is serialised whole by `JSON.stringify` instead, so no value
 * can break the line.
 */
export function accessJson(b: LineBuffer, e: AccessEntry, memo: AccessMemo | undefined): void {
  const mark = b.length;
  if (e.upstream !== undefined) return accessJsonEscaped(b, mark, e); // proxied: two more fields
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
      case F_TIME:
        v = undefined; // the time, from its cached bytes
        break;
      case F_ID:
        v = e.id;
        break;
      case F_METHOD:
        v = e.method;
        break;
      case F_TARGET:
        v = e.target;
        break;
      case F_STATUS:
        v = e.status;
        break;
      case F_BYTES:
        v = e.bytes;
        break;
      case F_CONN:
        v = e.conn;
        break;
      case F_REMOTE:
        v = e.remote;
        break;
      case F_PROTOCOL:
        v = e.protocol;
        break;
      case F_TLS:
        v = e.tls;
        break;
      case F_PHASE:
        v = e.phase;
        break;
      case F_UA:
        v = e.ua;
        if (v === undefined) continue;
        break;
      case F_REFERER:
        v = e.referer;
        if (v === undefined) continue;
        break;
      case F_TRACE:
        v = e.trace;
        if (v === undefined) continue;
        break;
      case F_STREAM:
        v = e.stream;
        if (v === undefined) continue;
        break;
      default:
        v = Math.round(e.ms * 1000); // whole microseconds
    }
    for (let j = KEY_AT[f], end = KEY_AT[f + 1]; j < end; j++) buf[p++] = KEY_BYTES[j];
    if (f === F_TIME) {
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
    stream: e.stream,
    upstream: e.upstream,
    upstream_ms: e.upstreamMs === undefined ? undefined : Math.round(e.upstreamMs * 1000) / 1000,
    ms: Math.round(e.ms * 1000) / 1000,
  }));
}
