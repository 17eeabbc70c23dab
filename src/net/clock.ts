/**
 * The wall clock, read once per run of synchronous work. Reading it costs 100–150 ns on the
 * virtual machines ferry is measured on, and one request used to read it several times (its Date
 * header, its deadline, the static file's stat window), a burst of pipelined requests sixteen
 * times as often. The first caller in a run of work reads it; later callers in the same run get
 * that reading; a microtask queued with the reading forgets it, so whatever runs after an `await`
 * (a handler that waited for a file or a worker) reads the clock afresh.
 *
 * @module
 */

let valid = false;
let reading = 0;

function forget(): void {
  valid = false;
}

/**
 * Milliseconds since the epoch, as `Date.now()` gave them at the start of the current run of
 * synchronous work (at most the microtasks already queued then, which run at once).
 *
 * @example
 * ```ts
 * import { turnNow } from "./clock.ts";
 * const a = turnNow();
 * console.log(turnNow() === a); // true: the same run of work
 * ```
 */
export function turnNow(): number {
  if (valid) return reading;
  reading = Date.now();
  valid = true;
  queueMicrotask(forget);
  return reading;
}
