/**
 * HPACK (RFC 7541): the decoder of request header blocks and the encoder of response header
 * blocks, each with its dynamic table. The decoder bounds what it produces, not only what it
 * reads: past the header-list limit it keeps its table in step but stores no more fields, so a
 * block of indexed references to a large entry costs nothing (the HPACK bomb).
 *
 * @module
 */

import { STATIC_TABLE } from "./hpack_static.ts";
import {
  huffmanDecode,
  huffmanEncodeInto,
  HuffmanError,
  huffmanLength,
  latin1,
} from "../field_coding/huffman.ts";
import {
  cursor,
  MAX_PREFIX_INT_BYTES,
  PrefixIntError,
  readPrefixInt,
  writePrefixInt,
} from "../field_coding/prefix_int.ts";

/** A header block that breaks RFC 7541 (a COMPRESSION_ERROR for the connection). */
export class HpackError extends Error {}

/** Size of an entry as RFC 7541 §4.1 counts it. */
function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

/** The dynamic table (§2.3.2): newest entry at the end of the arrays. */
class DynamicTable {
  names: string[] = [];
  values: string[] = [];
  size = 0;
  /** Entries inserted ever (the encoder's absolute numbering). */
  inserted = 0;

  constructor(public max: number) {}

  get length(): number {
    return this.names.length;
  }

  /** Adds an entry, evicting the oldest to fit (§4.4). */
  add(name: string, value: string): void {
    const size = entrySize(name, value);
    this.inserted++;
    if (size > this.max) {
      this.names.length = 0;
      this.values.length = 0;
      this.size = 0;
      return;
    }
    this.evictTo(this.max - size);
    this.names.push(name);
    this.values.push(value);
    this.size += size;
  }

  /** Evicts the oldest entries until the table's size is at most `limit`. */
  evictTo(limit: number): void {
    let drop = 0;
    while (this.size > limit && drop < this.names.length) {
      this.size -= entrySize(this.names[drop], this.values[drop]);
      drop++;
    }
    if (drop > 0) {
      this.names.splice(0, drop);
      this.values.splice(0, drop);
    }
  }

  /** Changes the maximum size (§4.3). */
  resize(max: number): void {
    this.max = max;
    this.evictTo(max);
  }
}

/** What one decoded header block gives. */
export interface DecodedBlock {
  /** Field names, index-aligned with values (as received; validation is the caller's). */
  names: string[];
  /** Field values. */
  values: string[];
  /** Whether the list's size (RFC 7541 §4.1 counting) went over the limit: fields were dropped. */
  overflow: boolean;
}

/**
 * Decodes request header blocks (RFC 7541 §6).
 *
 * @example
 * ```ts
 * import { HpackDecoder } from "./hpack.ts";
 * const d = new HpackDecoder(4096, 16384);
 * const block = d.decode(new Uint8Array([0x82, 0x86, 0x84]));
 * console.log(block.names); // [":method", ":scheme", ":path"]
 * ```
 */
export class HpackDecoder {
  #table: DynamicTable;
  /** The largest table size the encoder may ask for (our SETTINGS_HEADER_TABLE_SIZE). */
  #settingsMax: number;
  #maxList: number;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;

  /** A decoder whose table may grow to `tableSize` octets, whose lists stop at `maxListSize`. */
  constructor(tableSize: number, maxListSize: number) {
    this.#table = new DynamicTable(tableSize);
    this.#settingsMax = tableSize;
    this.#maxList = maxListSize;
  }

  /** The dynamic table's current size in octets (§4.1). */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Decodes one complete header block; throws {@linkcode HpackError}. */
  decode(block: Uint8Array): DecodedBlock {
    this.#buf = block;
    this.#pos = 0;
    const names: string[] = [];
    const values: string[] = [];
    let listSize = 0;
    let overflow = false;
    let fields = false;
    const table = this.#table;
    while (this.#pos < block.length) {
      const b = block[this.#pos];
      let name: string;
      let value: string;
      if (b & 0x80) {
        const index = this.#int(7);
        if (index === 0) throw new HpackError("indexed header field with index 0");
        [name, value] = this.#entry(index);
      } else if ((b & 0xe0) === 0x20) {
        // §6.3: a size update, only at the start of a block.
        if (fields) throw new HpackError("dynamic table size update after a header field");
        const size = this.#int(5);
        if (size > this.#settingsMax) throw new HpackError("dynamic table size update over the limit");
        table.resize(size);
        continue;
      } else {
        const indexing = (b & 0xc0) === 0x40;
        const index = this.#int(indexing ? 6 : 4);
        name = index === 0 ? this.#string() : this.#entry(index)[0];
        value = this.#string();
        if (indexing) table.add(name, value);
      }
      fields = true;
      listSize += entrySize(name, value);
      if (listSize > this.#maxList) overflow = true;
      if (!overflow) {
        names.push(name);
        values.push(value);
      }
    }
    this.#buf = EMPTY;
    return { names, values, overflow };
  }

  /** The entry at `index` of the static then dynamic table (§2.3.3). */
  #entry(index: number): readonly [string, string] {
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1];
    const table = this.#table;
    const i = table.length - 1 - (index - STATIC_TABLE.length - 1);
    if (i < 0) throw new HpackError(`index ${index} is past the dynamic table`);
    return [table.names[i], table.values[i]];
  }

  /** An integer with an N-bit prefix (§5.1). */
  #int(prefix: number): number {
    try {
      const value = readPrefixInt(this.#buf, this.#pos, prefix);
      this.#pos = cursor.pos;
      return value;
    } catch (e) {
      if (e instanceof PrefixIntError) throw new HpackError(e.message);
      throw e;
    }
  }

  /** A string literal (§5.2). */
  #string(): string {
    const buf = this.#buf;
    if (this.#pos >= buf.length) throw new HpackError("string length runs past the block");
    const huffman = (buf[this.#pos] & 0x80) !== 0;
    const len = this.#int(7);
    const end = this.#pos + len;
    if (end > buf.length) throw new HpackError("string runs past the block");
    const bytes = buf.subarray(this.#pos, end);
    this.#pos = end;
    if (!huffman) return latin1(bytes, bytes.length);
    try {
      return huffmanDecode(bytes);
    } catch (e) {
      if (e instanceof HuffmanError) throw new HpackError(e.message);
      throw e;
    }
  }
}

const EMPTY = new Uint8Array(0);

/** Static table lookups: `name\0value` → index, and name → its first index. */
const STATIC_EXACT = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
for (let i = STATIC_TABLE.length - 1; i >= 0; i--) {
  const [name, value] = STATIC_TABLE[i];
  STATIC_EXACT.set(name + "\0" + value, i + 1);
  STATIC_NAME.set(name, i + 1);
}

/** Fields whose values change per response (or should not be kept): never worth a table entry. */
const NOT_INDEXED = new Set(["x-request-id", "content-range", "set-cookie", "age", "authorization"]);

/**
 * Encodes response header blocks (RFC 7541 §6), indexing fields that repeat.
 *
 * @example
 * ```ts
 * import { HpackDecoder, HpackEncoder } from "./hpack.ts";
 * const e = new HpackEncoder(4096);
 * const d = new HpackDecoder(4096, 16384);
 * console.log(d.decode(e.encode([[":status", "200"], ["server", "ferry"]])).values); // ["200", "ferry"]
 * ```
 */
export class HpackEncoder {
  #table: DynamicTable;
  /** `name\0value` → the absolute number of its newest entry. */
  #exact = new Map<string, number>();
  #byName = new Map<string, number>();
  /** The smallest size to announce in the next block (§4.2), or -1. */
  #pendingMin = -1;
  #pendingFinal = -1;
  /** The block being written: allocated on first use, given back by {@linkcode HpackEncoder.release}. */
  #out: Uint8Array = EMPTY;
  #len = 0;

  /** An encoder whose table may hold `tableSize` octets (the peer's SETTINGS_HEADER_TABLE_SIZE). */
  constructor(tableSize: number) {
    this.#table = new DynamicTable(tableSize);
  }

  /** Follows the peer's new SETTINGS_HEADER_TABLE_SIZE (capped at 4096 octets). */
  setMaxTableSize(size: number): void {
    const next = Math.min(size, 4096);
    if (next === this.#table.max && this.#pendingFinal === -1) return;
    this.#pendingMin = this.#pendingMin === -1 ? next : Math.min(this.#pendingMin, next);
    this.#pendingFinal = next;
    this.#table.resize(next);
  }

  /** Gives the block buffer back (an idle connection keeps only its table). */
  release(): void {
    this.#out = EMPTY;
  }

  /** Encodes the fields (names lower-case, values latin1) as one block. */
  encode(fields: ReadonlyArray<readonly [string, string]>): Uint8Array {
    this.#len = 0;
    if (this.#pendingFinal !== -1) {
      if (this.#pendingMin < this.#pendingFinal) this.#int(0x20, 5, this.#pendingMin);
      this.#int(0x20, 5, this.#pendingFinal);
      this.#pendingMin = this.#pendingFinal = -1;
    }
    for (const [name, value] of fields) this.#field(name, value);
    return this.#out.slice(0, this.#len);
  }

  #field(name: string, value: string): void {
    const key = name + "\0" + value;
    const exact = STATIC_EXACT.get(key) ?? this.#dynamicIndex(this.#exact.get(key));
    if (exact !== undefined) {
      this.#int(0x80, 7, exact);
      return;
    }
    const nameIndex = STATIC_NAME.get(name) ?? this.#dynamicIndex(this.#byName.get(name)) ?? 0;
    const table = this.#table;
    const index = !NOT_INDEXED.has(name) && entrySize(name, value) <= table.max / 4;
    if (index) this.#int(0x40, 6, nameIndex);
    else this.#int(0x00, 4, nameIndex);
    if (nameIndex === 0) this.#string(name);
    this.#string(value);
    if (index) {
      table.add(name, value);
      this.#exact.set(key, table.inserted - 1);
      this.#byName.set(name, table.inserted - 1);
      if (this.#exact.size > 4 * 128) this.#prune();
    }
  }

  /** The current index of the entry numbered `abs`, if it is still in the table. */
  #dynamicIndex(abs: number | undefined): number | undefined {
    if (abs === undefined) return undefined;
    const table = this.#table;
    const age = table.inserted - 1 - abs; // 0 for the newest
    if (age >= table.length) return undefined;
    return STATIC_TABLE.length + 1 + age;
  }

  /** Forgets lookups of evicted entries. */
  #prune(): void {
    for (const [k, abs] of this.#exact) if (this.#dynamicIndex(abs) === undefined) this.#exact.delete(k);
    for (const [k, abs] of this.#byName) if (this.#dynamicIndex(abs) === undefined) this.#byName.delete(k);
  }

  #room(n: number): Uint8Array {
    if (this.#len + n > this.#out.length) {
      const grown = new Uint8Array(Math.max(this.#out.length * 2, this.#len + n, 1024));
      grown.set(this.#out.subarray(0, this.#len));
      this.#out = grown;
    }
    return this.#out;
  }

  #int(pattern: number, prefix: number, value: number): void {
    this.#len = writePrefixInt(this.#room(MAX_PREFIX_INT_BYTES), this.#len, pattern, prefix, value);
  }

  #string(s: string): void {
    const h = huffmanLength(s);
    if (h < s.length) {
      this.#int(0x80, 7, h);
      this.#len = huffmanEncodeInto(s, this.#room(h), this.#len);
    } else {
      this.#int(0x00, 7, s.length);
      const out = this.#room(s.length);
      for (let i = 0; i < s.length; i++) out[this.#len++] = s.charCodeAt(i) & 0xff;
    }
  }
}
