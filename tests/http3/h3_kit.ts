/**
 * Bytes for HTTP/3 tests: varints, frames, field sections (through ferry's QPACK encoder or as
 * raw bytes), and the peer side's unidirectional stream preambles.
 *
 * @module
 */

import { writeVarint } from "../../src/http3/varint.ts";
import { encodeFieldSection } from "../../src/http3/qpack.ts";

/** Frame and stream type numbers used by the tests. */
export const T = {
  DATA: 0x00,
  HEADERS: 0x01,
  PRIORITY_H2: 0x02,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  PING_H2: 0x06,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
  /** A reserved (grease) type, 0x1f * N + 0x21. */
  RESERVED: 0x21 + 0x1f * 3,
} as const;

/** `values` concatenated. */
export function cat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const arrays = parts.map((p) => p instanceof Uint8Array ? p : new Uint8Array(p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** `n` as a varint. */
export function vi(n: number): Uint8Array {
  const out = new Uint8Array(8);
  return out.slice(0, writeVarint(out, 0, n));
}

/** A frame of `type` with `payload`. */
export function fr(type: number, payload: Uint8Array | number[] = []): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  return cat(vi(type), vi(p.length), p);
}

/** A HEADERS frame with `fields` QPACK-encoded. */
export function hd(fields: Array<[string, string]>): Uint8Array {
  return fr(T.HEADERS, encodeFieldSection(fields));
}

/** A DATA frame of `n` bytes (`x`). */
export function dt(n: number): Uint8Array {
  return fr(T.DATA, new Uint8Array(n).fill(0x78));
}

/** A GET's fields for `path`, plus `extra`. */
export function get(path = "/", extra: Array<[string, string]> = []): Array<[string, string]> {
  return [[":method", "GET"], [":scheme", "https"], [":authority", "localhost"], [":path", path], ...extra];
}

/** A POST's fields for `path` with `content-length: length` (omitted when negative). */
export function post(path: string, length: number): Array<[string, string]> {
  const f: Array<[string, string]> = [
    [":method", "POST"],
    [":scheme", "https"],
    [":authority", "localhost"],
    [
      ":path",
      path,
    ],
  ];
  if (length >= 0) f.push(["content-length", String(length)]);
  return f;
}

/** A SETTINGS frame. */
export function st(pairs: Array<[number, number]> = []): Uint8Array {
  return fr(T.SETTINGS, cat(...pairs.flatMap(([id, v]) => [vi(id), vi(v)])));
}

/** A control stream's first bytes: its type, then SETTINGS. */
export function controlOpen(pairs: Array<[number, number]> = []): Uint8Array {
  return cat([0x00], st(pairs));
}
