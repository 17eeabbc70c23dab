/**
 * The text access lines: `plain` (ferry's default, encoded straight into bytes) and `combined`
 * (Apache's), and {@linkcode formatAccess}, every format as a string.
 *
 * @module
 */

import type { LogFormat } from "../options.ts";
import type { AccessEntry } from "./access_entry.ts";
import { encoder, LineBuffer } from "./line_writer.ts";
import { accessJson, type AccessMemo } from "./access_json.ts";
import { asciiAt, clfTime, digitsAt, escapeText, isoAscii, isoTime } from "./text_helpers.ts";

const PLAIN_CONN = encoder.encode("ms conn=");
const PLAIN_ID = encoder.encode(" id=");
const PLAIN_TRACE = encoder.encode(" trace=");
const PLAIN_STREAM = encoder.encode(" stream=");
const PLAIN_TLS = encoder.encode(" tls");
const PLAIN_DRAINING = encoder.encode(" draining");
/**
 * The most a plain line takes besides its strings: the time, eight separators, three numbers of
 * up to 16 digits, the duration's point and tenth, and the constant words.
 */
const PLAIN_FIXED = 24 + 8 + 3 * 16 + 2 + PLAIN_CONN.length + 16 + PLAIN_ID.length + PLAIN_TRACE.length +
  PLAIN_STREAM.length + 16 + PLAIN_TLS.length + PLAIN_DRAINING.length;

/**
 * Encodes one access entry as a `plain` line into `b`, the same text as
 * {@linkcode formatAccess}'s, without building a string. A line with a value that needs escaping
 * (or a count that is not a whole number) goes through {@linkcode formatAccess} instead.
 */
export function accessPlain(b: LineBuffer, e: AccessEntry): void {
  const mark = b.length;
  const buf = b.reserve(
    PLAIN_FIXED + e.remote.length + e.method.length + e.target.length + e.protocol.length + e.id.length +
      (e.trace?.length ?? 0),
  );
  const tenths = Math.round(e.ms * 10);
  if (
    !isCount(e.status) || !isCount(e.bytes) || !isCount(e.conn) || !isCount(tenths) ||
    e.upstream !== undefined
  ) {
    return plainByString(b, mark, e);
  }
  isoTime(e.time);
  const t = isoAscii;
  let p = mark;
  for (let j = 0; j < t.length; j++) buf[p++] = t[j];
  buf[p++] = 0x20;
  const remote = e.remote;
  const method = e.method;
  const target = e.target;
  const protocol = e.protocol;
  if (remote === memoRemote && method === memoMethod && target === memoTarget && protocol === memoProtocol) {
    const part = memoPart;
    if (part !== null) {
      // The request repeats the last line's: its part is copied, already checked.
      for (let j = 0; j < part.length; j++) buf[p++] = part[j];
    } else {
      const at = p;
      p = requestPart(buf, p, remote, method, target, protocol);
      if (p < 0) return plainByString(b, mark, e);
      memoPart = buf.slice(at, p);
    }
  } else {
    p = requestPart(buf, p, remote, method, target, protocol);
    if (p < 0) return plainByString(b, mark, e);
    memoRemote = remote;
    memoMethod = method;
    memoTarget = target;
    memoProtocol = protocol;
    memoPart = null; // kept only once the request repeats
  }
  p = digitsAt(buf, p, e.status);
  buf[p++] = 0x20;
  p = digitsAt(buf, p, e.bytes);
  buf[p++] = 0x20;
  p = digitsAt(buf, p, Math.floor(tenths / 10));
  buf[p++] = 0x2e;
  buf[p++] = 0x30 + tenths % 10;
  // Short constants by loop: TypedArray#set costs a call more than a few bytes take.
  for (let j = 0; j < PLAIN_CONN.length; j++) buf[p++] = PLAIN_CONN[j];
  p = digitsAt(buf, p, e.conn);
  for (let j = 0; j < PLAIN_ID.length; j++) buf[p++] = PLAIN_ID[j];
  p = asciiAt(buf, p, e.id);
  if (p < 0) return plainByString(b, mark, e);
  if (e.trace) {
    buf.set(PLAIN_TRACE, p);
    p = asciiAt(buf, p + PLAIN_TRACE.length, e.trace);
    if (p < 0) return plainByString(b, mark, e);
  }
  if (e.stream !== undefined) {
    buf.set(PLAIN_STREAM, p);
    p = digitsAt(buf, p + PLAIN_STREAM.length, e.stream);
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

/*
 * The last line's `remote "METHOD target PROTOCOL" ` part, encoded: keep-alive clients that repeat
 * a request (pollers, health checks, load balancers, benchmarks) repeat it.
 */
let memoRemote = "";
let memoMethod = "";
let memoTarget = "";
let memoProtocol = "";
let memoPart: Uint8Array | null = null;

/** Encodes `remote "METHOD target PROTOCOL" ` at `p`; -1 when a value needs escaping. */
function requestPart(
  buf: Uint8Array,
  p: number,
  remote: string,
  method: string,
  target: string,
  protocol: string,
): number {
  p = asciiAt(buf, p, remote);
  if (p < 0) return p;
  buf[p++] = 0x20;
  buf[p++] = 0x22;
  p = asciiAt(buf, p, method);
  if (p < 0) return p;
  buf[p++] = 0x20;
  p = asciiAt(buf, p, target);
  if (p < 0) return p;
  buf[p++] = 0x20;
  p = asciiAt(buf, p, protocol);
  if (p < 0) return p;
  buf[p++] = 0x22;
  buf[p++] = 0x20;
  return p;
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
        `id=${escapeText(e.id)}${e.trace ? " trace=" + escapeText(e.trace) : ""}${
          e.stream !== undefined ? " stream=" + e.stream : ""
        }${
          e.upstream !== undefined
            ? ` upstream=${escapeText(e.upstream)} upstream_ms=${(e.upstreamMs ?? 0).toFixed(1)}`
            : ""
        }${e.tls ? " tls" : ""}${e.phase === "draining" ? " draining" : ""}`;
    }
  }
}
