/**
 * Request ids: `prefix-<counter in base 36>`, made without number formatting per request.
 *
 * @module
 */

/** 0–1295 in base 36, as the end of a request id below 1296 and (padded to two digits) above. */
const ID_DIGITS: string[] = [];
const ID_DIGITS_PADDED: string[] = [];
for (let i = 0; i < 1296; i++) {
  ID_DIGITS.push(i.toString(36));
  ID_DIGITS_PADDED.push(i.toString(36).padStart(2, "0"));
}

/**
 * A source of request ids for one server: a random base-36 prefix, then a counter in base 36. The
 * counter's last two digits come from a table and the rest is kept while it stays the same (1,296
 * requests), so an id costs one string concatenation.
 *
 * @example
 * ```ts
 * import { RequestIds } from "./request_ids.ts";
 * const ids = new RequestIds("abc");
 * console.log(ids.next(), ids.next()); // "abc-0" "abc-1"
 * ```
 */
export class RequestIds {
  #prefix: string;
  #next = 0;
  /** The id up to its last two digits, for counters of `#high` × 1296 on. */
  #head = "";
  #high = 0;

  /** Ids start with `prefix` (by default a random base-36 number) and a dash. */
  constructor(prefix: string = crypto.getRandomValues(new Uint32Array(1))[0].toString(36)) {
    this.#prefix = prefix;
  }

  /** The next id. */
  next(): string {
    const n = this.#next++;
    const high = Math.floor(n / 1296);
    if (high === 0) return this.#prefix + "-" + ID_DIGITS[n];
    if (high !== this.#high) {
      this.#high = high;
      this.#head = `${this.#prefix}-${high.toString(36)}`;
    }
    return this.#head + ID_DIGITS_PADDED[n - high * 1296];
  }
}
