/**
 * QPACK (RFC 9204) with a dynamic table capacity of 0: ferry announces no table
 * (SETTINGS_QPACK_MAX_TABLE_CAPACITY absent, so 0), so a field section may reference only the
 * static table, no stream is ever blocked, and the encoder stream may carry nothing but a Set
 * Dynamic Table Capacity of 0. The decoder bounds what it produces as HPACK's does: past the
 * field-section limit it stores no more fields. Integers and Huffman strings are HPACK's
 * (`src/field_coding/`).
 *
 * @module
 */

import { QPACK_STATIC } from "./qpack_static.ts";
import { cursor, MAX_PREFIX_INT_BYTES, readPrefixInt, writePrefixInt } from "../field_coding/prefix_int.ts";
import { huffmanDecode, huffmanEncodeInto, huffmanLength, latin1 } from "../field_coding/huffman.ts";
import { H3, H3Error } from "./errors.ts";

/** What one decoded field section gives. */
export interface FieldSection {
  /** Field names, index-aligned with values (validation is the caller's). */
  names: string[];
  /** Field values. */
  values: string[];
  /** Whether the section's size (name + value + 32 per field, RFC 9114 §4.2.2) went over the limit. */
  overflow: boolean;
}

/** A decoding failure: QPACK_DECOMPRESSION_FAILED, a connection error (RFC 9204 §2.2.3). */
function failed(reason: string): H3Error {
  return new H3Error(H3.QPACK_DECOMPRESSION_FAILED, reason);
}

/**
 * Decodes a field section (RFC 9204 §4.5) that references the static table only; throws
 * {@linkcode H3Error} (QPACK_DECOMPRESSION_FAILED) for anything else.
 *
 * @example
 * ```ts
 * import { decodeFieldSection } from "./qpack.ts";
 * const s = decodeFieldSection(new Uint8Array([0x00, 0x00, 0xd1, 0xd7, 0xc1]), 16384);
 * console.log(s.names, s.values); // [":method", ":scheme", ":path"] ["GET", "https", "/"]
 * ```
 */
export function decodeFieldSection(block: Uint8Array, maxSize: number): FieldSection {
  try {
    return decode(block, maxSize);
  } catch (e) {
    if (e instanceof H3Error) throw e;
    // A prefix integer or a Huffman string that broke its rules.
    throw failed((e as Error).message);
  }
}

function decode(block: Uint8Array, maxSize: number): FieldSection {
  // §4.5.1: Required Insert Count (8-bit prefix), then the sign and Delta Base (7-bit prefix).
  const ric = readPrefixInt(block, 0, 8);
  if (ric !== 0) throw failed("field section references the dynamic table, whose capacity is 0");
  readPrefixInt(block, cursor.pos, 7);
  let pos = cursor.pos;
  const names: string[] = [];
  const values: string[] = [];
  let size = 0;
  let overflow = false;
  while (pos < block.length) {
    const b = block[pos];
    let name: string;
    let value: string;
    if (b & 0x80) {
      // §4.5.2 Indexed Field Line: 1 T index(6).
      if ((b & 0x40) === 0) throw failed("indexed field line references the dynamic table");
      [name, value] = staticEntry(readPrefixInt(block, pos, 6));
      pos = cursor.pos;
    } else if (b & 0x40) {
      // §4.5.4 Literal Field Line with Name Reference: 01 N T index(4), then the value.
      if ((b & 0x10) === 0) throw failed("literal field line references a dynamic table name");
      name = staticEntry(readPrefixInt(block, pos, 4))[0];
      value = readString(block, cursor.pos, 7);
      pos = stringEnd;
    } else if (b & 0x20) {
      // §4.5.6 Literal Field Line with Literal Name: 001 N H len(3) name, then the value.
      name = readString(block, pos, 3);
      value = readString(block, stringEnd, 7);
      pos = stringEnd;
    } else {
      // §4.5.3 and §4.5.5: post-base references, which only a dynamic table has.
      throw failed("field line with a post-base index (dynamic table)");
    }
    size += name.length + value.length + 32;
    if (size > maxSize) overflow = true;
    if (!overflow) {
      names.push(name);
      values.push(value);
    }
  }
  return { names, values, overflow };
}

function staticEntry(index: number): readonly [string, string] {
  if (index >= QPACK_STATIC.length) throw failed(`static table index ${index} is past its 99 entries`);
  return QPACK_STATIC[index];
}

/** Where {@linkcode readString} stopped. */
let stringEnd = 0;

/** A string literal (§4.1.2) whose H bit sits just above its `prefix`-bit length. */
function readString(block: Uint8Array, pos: number, prefix: number): string {
  if (pos >= block.length) throw failed("string runs past the field section");
  const huffman = (block[pos] & (1 << prefix)) !== 0;
  const len = readPrefixInt(block, pos, prefix);
  const start = cursor.pos;
  const end = start + len;
  if (end > block.length) throw failed("string runs past the field section");
  stringEnd = end;
  const bytes = block.subarray(start, end);
  return huffman ? huffmanDecode(bytes) : latin1(bytes, bytes.length);
}

/** Static table lookups: `name\0value` → index, and name → its first index. */
const EXACT = new Map<string, number>();
const BY_NAME = new Map<string, number>();
for (let i = QPACK_STATIC.length - 1; i >= 0; i--) {
  const [name, value] = QPACK_STATIC[i];
  EXACT.set(name + "\0" + value, i);
  BY_NAME.set(name, i);
}

/**
 * Encodes a field section (names lower-case, values latin1) with static references and literals,
 * Huffman-coded where shorter; never the dynamic table.
 *
 * @example
 * ```ts
 * import { decodeFieldSection, encodeFieldSection } from "./qpack.ts";
 * const block = encodeFieldSection([[":status", "200"], ["server", "ferry"]]);
 * console.log(decodeFieldSection(block, 16384).values); // ["200", "ferry"]
 * ```
 */
export function encodeFieldSection(fields: ReadonlyArray<readonly [string, string]>): Uint8Array {
  let cap = 2;
  for (const [n, v] of fields) cap += n.length + v.length + 2 * MAX_PREFIX_INT_BYTES;
  const out = new Uint8Array(cap);
  // Required Insert Count 0, Delta Base 0.
  let at = 2;
  for (const [name, value] of fields) {
    const exact = EXACT.get(name + "\0" + value);
    if (exact !== undefined) {
      at = writePrefixInt(out, at, 0xc0, 6, exact);
      continue;
    }
    const index = BY_NAME.get(name);
    if (index !== undefined) at = writePrefixInt(out, at, 0x50, 4, index);
    else at = writeString(out, at, 0x20, 3, name);
    at = writeString(out, at, 0x00, 7, value);
  }
  return out.subarray(0, at);
}

/** A string literal after `pattern`, its H bit just above the `prefix`-bit length. */
function writeString(out: Uint8Array, at: number, pattern: number, prefix: number, s: string): number {
  const h = huffmanLength(s);
  if (h < s.length) {
    at = writePrefixInt(out, at, pattern | (1 << prefix), prefix, h);
    return huffmanEncodeInto(s, out, at);
  }
  at = writePrefixInt(out, at, pattern, prefix, s.length);
  for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i) & 0xff;
  return at;
}
