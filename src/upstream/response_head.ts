/**
 * The head of an upstream's response, parsed strictly (RFC 9112 §4, §5, §6): a status line,
 * field lines ending in CRLF, no obs-fold, no whitespace before a colon, no control byte in a
 * value; then the body's framing decided from it (§6.3), where two lengths, a length beside
 * `Transfer-Encoding`, or a coding other than `chunked` are errors. Any error is the upstream's:
 * the proxy answers 502 and drops that connection, so nothing an upstream sends can be taken
 * for a second response.
 *
 * @module
 */

import { isFieldName } from "../http/writer.ts";

/** A response an upstream framed badly or could not finish: the proxy answers 502. */
export class UpstreamProtocolError extends Error {
  /** A short stable reason (`bad_status_line`, `two_lengths`, …), for logs and tests. */
  readonly reason: string;
  /** An error with a stable `reason` and a sentence saying what the upstream sent. */
  constructor(reason: string, message: string) {
    super(message);
    this.name = "UpstreamProtocolError";
    this.reason = reason;
  }
}

/** How an upstream response's body is delimited. */
export type ResponseFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** A parsed upstream response head. */
export interface ResponseHead {
  /** The status code (100–599). */
  status: number;
  /** The minor version of the upstream's `HTTP/1.x`. */
  versionMinor: number;
  /** Field names, lower-cased, index-aligned with {@linkcode ResponseHead.values}. */
  names: string[];
  /** Field values, latin1, trimmed. */
  values: string[];
  /** Whether the upstream keeps the connection open after this response. */
  keepAlive: boolean;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Where the head in `buf[0..end)` ends (the index after its blank line), or -1 when it is not
 * complete yet. `from` is where the previous search stopped (it resumes there).
 */
export function headEnd(buf: Uint8Array, end: number, from = 0): number {
  for (let i = Math.max(0, from - 3); i + 3 < end; i++) {
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) return i + 4;
  }
  return -1;
}

/**
 * Parses the head in `buf[0..end)` (`end` from {@linkcode headEnd}); throws
 * {@linkcode UpstreamProtocolError} for anything RFC 9112 does not allow.
 *
 * @example
 * ```ts
 * import { parseResponseHead } from "./response_head.ts";
 * const bytes = new TextEncoder().encode("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
 * console.log(parseResponseHead(bytes, bytes.length).status); // 204
 * ```
 */
export function parseResponseHead(buf: Uint8Array, end: number): ResponseHead {
  // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF (RFC 9112 §4).
  if (
    end < 14 || buf[0] !== 0x48 || buf[1] !== 0x54 || buf[2] !== 0x54 || buf[3] !== 0x50 ||
    buf[4] !== 0x2f || buf[5] !== 0x31 || buf[6] !== 0x2e || (buf[7] !== 0x30 && buf[7] !== 0x31) ||
    buf[8] !== 0x20
  ) {
    throw new UpstreamProtocolError("bad_status_line", "the upstream's status line is not HTTP/1.x");
  }
  const d0 = buf[9] - 0x30, d1 = buf[10] - 0x30, d2 = buf[11] - 0x30;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
    throw new UpstreamProtocolError("bad_status", "the upstream's status code is not 100-599");
  }
  const status = d0 * 100 + d1 * 10 + d2;
  let i = 12;
  if (buf[i] === 0x20) {
    i++;
    while (i < end && buf[i] !== CR) {
      const b = buf[i];
      if ((b < 0x20 && b !== 0x09) || b === 0x7f) {
        throw new UpstreamProtocolError("bad_status_line", "a control byte in the upstream's reason phrase");
      }
      i++;
    }
  }
  if (buf[i] !== CR || buf[i + 1] !== LF) {
    throw new UpstreamProtocolError("bad_status_line", "the upstream's status line does not end in CRLF");
  }
  i += 2;
  const names: string[] = [];
  const values: string[] = [];
  while (!(buf[i] === CR && buf[i + 1] === LF)) {
    if (buf[i] === 0x20 || buf[i] === 0x09) {
      throw new UpstreamProtocolError("obs_fold", "the upstream folded a header line (obs-fold)");
    }
    const start = i;
    while (i < end && buf[i] !== 0x3a && buf[i] !== CR && buf[i] !== LF) i++;
    if (buf[i] !== 0x3a) throw new UpstreamProtocolError("bad_field", "a header line without a colon");
    const name = latin1(buf, start, i).toLowerCase();
    if (!isFieldName(name)) {
      throw new UpstreamProtocolError("bad_field_name", `an invalid header name ${JSON.stringify(name)}`);
    }
    i++;
    while (buf[i] === 0x20 || buf[i] === 0x09) i++;
    const vstart = i;
    let vend = i;
    while (i < end && buf[i] !== CR) {
      const b = buf[i];
      if ((b < 0x20 && b !== 0x09) || b === 0x7f) {
        throw new UpstreamProtocolError("bad_field_value", `a control byte in the value of ${name}`);
      }
      i++;
      if (b !== 0x20 && b !== 0x09) vend = i;
    }
    if (buf[i] !== CR || buf[i + 1] !== LF) {
      throw new UpstreamProtocolError("bare_cr", "a header line that does not end in CRLF");
    }
    names.push(name);
    values.push(latin1(buf, vstart, vend));
    i += 2;
  }
  const versionMinor = buf[7] - 0x30;
  const conn = tokensOf(names, values, "connection");
  const keepAlive = versionMinor === 1 ? !conn.includes("close") : conn.includes("keep-alive");
  return { status, versionMinor, names, values, keepAlive };
}

/**
 * The framing of a response's body (RFC 9112 §6.3), for a request with method `method`; throws
 * {@linkcode UpstreamProtocolError} for framing a proxy must not pass on.
 */
export function responseFraming(head: ResponseHead, method: string): ResponseFraming {
  const s = head.status;
  let lengths = 0;
  let length = -1;
  let te: string | undefined;
  for (let i = 0; i < head.names.length; i++) {
    const n = head.names[i];
    if (n === "content-length") {
      lengths++;
      const v = head.values[i];
      if (!/^[0-9]{1,15}$/.test(v)) {
        throw new UpstreamProtocolError("bad_length", `the upstream's Content-Length ${JSON.stringify(v)}`);
      }
      length = Number(v);
    } else if (n === "transfer-encoding") te = te === undefined ? head.values[i] : `${te}, ${head.values[i]}`;
  }
  if (method === "HEAD" || (s >= 100 && s < 200) || s === 204 || s === 304) return { kind: "none" };
  if (lengths > 1) {
    throw new UpstreamProtocolError("two_lengths", "the upstream sent two Content-Length fields");
  }
  if (te !== undefined) {
    if (lengths > 0) {
      throw new UpstreamProtocolError(
        "length_and_chunked",
        "the upstream sent Content-Length and Transfer-Encoding",
      );
    }
    if (te.trim().toLowerCase() !== "chunked") {
      throw new UpstreamProtocolError("bad_coding", `the upstream's Transfer-Encoding ${JSON.stringify(te)}`);
    }
    return { kind: "chunked" };
  }
  if (length >= 0) return { kind: "length", length };
  return { kind: "close" };
}

/** The lower-cased comma-separated tokens of every field `name`. */
export function tokensOf(names: readonly string[], values: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== name) continue;
    for (const t of values[i].split(",")) {
      const v = t.trim().toLowerCase();
      if (v !== "") out.push(v);
    }
  }
  return out;
}

/** `buf[from..to)` as a latin1 string. */
export function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]);
  return s;
}
