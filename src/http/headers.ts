/**
 * The request header list as the parser produced it: names lower-cased, values trimmed of
 * surrounding whitespace, order and repeats kept.
 *
 * @module
 */

/**
 * An ordered list of request header fields. Lookups are linear, which beats a map for the ten or
 * twenty fields a request carries, and keeps repeats and order for apps that need them.
 *
 * @example
 * ```ts
 * import { HeaderList } from "./headers.ts";
 * const h = new HeaderList(["host", "accept"], ["example.com", "*\/*"]);
 * console.log(h.get("Host")); // "example.com"
 * ```
 */
export class HeaderList {
  /** Lower-case field names, index-aligned with {@linkcode HeaderList.values}. */
  readonly names: string[];
  /** Field values (latin1-decoded bytes, whitespace-trimmed). */
  readonly values: string[];

  /** Wraps two index-aligned arrays; they are used as given, not copied. */
  constructor(names: string[] = [], values: string[] = []) {
    this.names = names;
    this.values = values;
  }

  /** Number of field lines. */
  get size(): number {
    return this.names.length;
  }

  /**
   * The value of `name` (any case). Repeated fields are joined with `", "` as RFC 9110 §5.3
   * allows; `undefined` when absent.
   */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    let out: string | undefined;
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === key) out = out === undefined ? this.values[i] : out + ", " + this.values[i];
    }
    return out;
  }

  /** Every value of `name` (any case), one per field line. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === key) out.push(this.values[i]);
    return out;
  }

  /** Whether a field called `name` (any case) is present. */
  has(name: string): boolean {
    return this.names.includes(name.toLowerCase());
  }

  /** Field lines as `[name, value]` pairs, in arrival order. */
  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.values[i]];
  }

  /** Same as {@linkcode HeaderList.entries}. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** A WHATWG `Headers` copy, for fetch-style handlers. */
  toHeaders(): Headers {
    const h = new Headers();
    for (let i = 0; i < this.names.length; i++) h.append(this.names[i], this.values[i]);
    return h;
  }
}
