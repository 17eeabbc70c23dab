/**
 * A count of events per period (resets, PINGs, SETTINGS, empty frames): the bound each flood
 * attack meets. Past its limit within one period the connection ends with ENHANCE_YOUR_CALM.
 *
 * @module
 */

/**
 * Counts events in fixed periods.
 *
 * @example
 * ```ts
 * import { Budget } from "./budget.ts";
 * const pings = new Budget(2, 10_000, () => 0);
 * console.log(pings.spend(), pings.spend(), pings.spend()); // true true false
 * ```
 */
export class Budget {
  #limit: number;
  #period: number;
  #now: () => number;
  #since = 0;
  #count = 0;

  /** At most `limit` events per `periodMs` milliseconds, timed by `now`. */
  constructor(limit: number, periodMs: number, now: () => number) {
    this.#limit = limit;
    this.#period = periodMs;
    this.#now = now;
    this.#since = now();
  }

  /** Counts one event; false when the period's limit is passed. */
  spend(): boolean {
    this.#count++;
    if (this.#count <= this.#limit) return true;
    const now = this.#now();
    if (now - this.#since >= this.#period) {
      this.#since = now;
      this.#count = 1;
      return true;
    }
    return false;
  }
}
