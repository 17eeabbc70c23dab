/**
 * Integers with an N-bit prefix (RFC 7541 §5.1), the integer coding HPACK and QPACK (RFC 9204
 * §4.1.1) share: a value below `2^N - 1` fits in the prefix; larger values continue in 7-bit
 * groups, least significant first. Decoding is bounded at 2^31 - 1 (no field section ferry
 * accepts needs more), so a run of continuation octets cannot grow without end.
 *
 * @module
 */

/** An integer that runs past its input or over 2^31 - 1. */
export class PrefixIntError extends Error {}

/** Where {@linkcode readPrefixInt} stopped: the offset after the integer. */
export const cursor: { pos: number } = { pos: 0 };

/**
 * Reads the integer whose first octet is `buf[pos]` (its low `prefix` bits), sets
 * {@linkcode cursor}`.pos` past it and returns the value; throws {@linkcode PrefixIntError}.
 *
 * @example
 * ```ts
 * import { cursor, readPrefixInt } from "./prefix_int.ts";
 * console.log(readPrefixInt(new Uint8Array([0x1f, 0x9a, 0x0a]), 0, 5), cursor.pos); // 1337 3
 * ```
 */
export function readPrefixInt(buf: Uint8Array, pos: number, prefix: number): number {
  if (pos >= buf.length) throw new PrefixIntError("integer runs past the block");
  const max = (1 << prefix) - 1;
  let value = buf[pos++] & max;
  if (value < max) {
    cursor.pos = pos;
    return value;
  }
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new PrefixIntError("integer runs past the block");
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
    if (shift > 28) throw new PrefixIntError("integer too large");
  }
  if (value > 0x7fffffff) throw new PrefixIntError("integer too large");
  cursor.pos = pos;
  return value;
}

/** Octets {@linkcode writePrefixInt} needs at most for a value below 2^35. */
export const MAX_PREFIX_INT_BYTES = 6;

/**
 * Writes `value` with an N-bit prefix at `out[at]`, the first octet's high bits `pattern`;
 * returns the offset after it. `out` must have room for {@linkcode MAX_PREFIX_INT_BYTES}.
 *
 * @example
 * ```ts
 * import { writePrefixInt } from "./prefix_int.ts";
 * const out = new Uint8Array(6);
 * console.log(writePrefixInt(out, 0, 0x00, 5, 1337), out.subarray(0, 3)); // 3 [0x1f, 0x9a, 0x0a]
 * ```
 */
export function writePrefixInt(
  out: Uint8Array,
  at: number,
  pattern: number,
  prefix: number,
  value: number,
): number {
  const max = (1 << prefix) - 1;
  if (value < max) {
    out[at++] = pattern | value;
    return at;
  }
  out[at++] = pattern | max;
  value -= max;
  while (value >= 128) {
    out[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}
