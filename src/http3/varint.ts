/**
 * QUIC variable-length integers (RFC 9000 §16), the integers of HTTP/3 frames, stream types and
 * settings: the two high bits of the first octet give the length (1, 2, 4 or 8 octets). Values
 * are numbers: one past 2^53 - 1 (a peer's "no limit" setting, an unknown frame type) is read as
 * 2^53 - 1, which no length, id or type ferry acts on reaches.
 *
 * @module
 */

/** The largest value read: a varint holds up to 2^62 - 1, more than a number keeps exact. */
export const MAX_VARINT = Number.MAX_SAFE_INTEGER;

/** Where {@linkcode readVarint} stopped: the offset after the integer. */
export const varintEnd: { pos: number } = { pos: 0 };

/**
 * Reads the varint at `buf[pos]` (at most {@linkcode MAX_VARINT}); returns -1 when `buf` ends
 * first (more bytes are needed). Otherwise {@linkcode varintEnd}`.pos` is the offset after it.
 *
 * @example
 * ```ts
 * import { readVarint, varintEnd } from "./varint.ts";
 * console.log(readVarint(new Uint8Array([0x7b, 0xbd]), 0), varintEnd.pos); // 15293 2
 * ```
 */
export function readVarint(buf: Uint8Array, pos: number): number {
  if (pos >= buf.length) return -1;
  const first = buf[pos];
  const len = 1 << (first >> 6);
  if (pos + len > buf.length) return -1;
  let value = first & 0x3f;
  for (let i = 1; i < len; i++) value = value * 256 + buf[pos + i];
  varintEnd.pos = pos + len;
  return value > MAX_VARINT ? MAX_VARINT : value;
}

/** How many octets `value` takes as a varint. */
export function varintLength(value: number): number {
  return value < 0x40 ? 1 : value < 0x4000 ? 2 : value < 0x40000000 ? 4 : 8;
}

/**
 * Writes `value` (0 to {@linkcode MAX_VARINT}) as a varint at `out[at]`, in the shortest form;
 * returns the offset after it.
 *
 * @example
 * ```ts
 * import { writeVarint } from "./varint.ts";
 * const out = new Uint8Array(8);
 * console.log(writeVarint(out, 0, 15293), out.subarray(0, 2)); // 2 [0x7b, 0xbd]
 * ```
 */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
  const len = varintLength(value);
  let v = value;
  for (let i = len - 1; i > 0; i--) {
    out[at + i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[at] = v | ((len === 1 ? 0 : len === 2 ? 1 : len === 4 ? 2 : 3) << 6);
  return at + len;
}
