/**
 * A map bounded by the bytes it holds, not by its number of entries: keys (and values) come from
 * clients, and 10,000 keys of 8 KB each are 160 MB where 10,000 short ones are nothing. When an
 * insertion passes the budget, the oldest entries go first.
 *
 * @module
 */

/** Bytes counted for each entry on top of its key and value (the map's own bookkeeping). */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * A `Map` from strings with a byte budget.
 *
 * @example
 * ```ts
 * import { BoundedMap } from "./bounded_map.ts";
 * const m = new BoundedMap<string>(1024, (v) => v.length * 2);
 * m.set("a", "x".repeat(1000));
 * m.set("b", "y");
 * console.log(m.has("a"), m.has("b")); // false true
 * ```
 */
export class BoundedMap<V> {
  /** Most bytes held. */
  readonly maxBytes: number;
  #sizeOf: (value: V) => number;
  #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;

  /** A map of at most `maxBytes`; `sizeOf` tells what a value costs (a string key costs 2 bytes a char). */
  constructor(maxBytes: number, sizeOf: (value: V) => number) {
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
    this.maxBytes = maxBytes;
    this.#sizeOf = sizeOf;
  }

  /** Bytes held now (keys, values and overhead, as counted). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, if held. */
  get(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Holds `value` under `key`, dropping the oldest entries while over the budget. */
  set(key: string, value: V): void {
    this.delete(key);
    const bytes = key.length * 2 + this.#sizeOf(value) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.bytes;
    }
  }

  /** Drops `key`. */
  delete(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
  }
}
