/**
 * The clock, read once per run of synchronous work. A reading costs 100–150 ns on the virtual
 * machines ferry is measured on, and one request used to take several (its arrival, its Date
 * header, its keep-alive deadline, the static file's stat window), a burst of pipelined requests
 * sixteen times as many. The first caller in a run of work reads `performance.now()`; later callers
 * in the same run get that reading; microtasks queued with the reading forget it two hops later,
 * so whatever a handler runs after an `await` of its own (a file, a worker) reads the clock afresh:
 * a reading is never older than the microtasks that were already queued when it was taken.
 * Wall-clock time is the monotonic reading plus an offset taken from `Date.now()` at most once a
 * second (so it follows a wall clock that is set, within a second).
 *
 * @module
 */

let valid = false;
/** Microtask hops left before the reading is forgotten. */
let hops = 0;
let mono = 0;
let wallZero = 0;
let calibratedAt = -Infinity;

/**
 * Forgets the reading two microtask hops after it was taken: the work that follows the read of a
 * request reaches the handler through one `await` of an async function that returned at once (the
 * head reader), and still shares the reading; whatever is queued from then on (a handler's own
 * awaits) reads afresh.
 */
function forget(): void {
  if (--hops > 0) queueMicrotask(forget);
  else valid = false;
}

function read(): void {
  mono = performance.now();
  if (mono - calibratedAt >= 1000) {
    wallZero = Date.now() - mono;
    calibratedAt = mono;
  }
  valid = true;
  hops = 2;
  queueMicrotask(forget);
}

/**
 * `performance.now()` as it was at the start of the current run of synchronous work (and of the
 * microtasks already queued then, which run at once, without waiting for anything).
 *
 * @example
 * ```ts
 * import { turnMono } from "./clock.ts";
 * const a = turnMono();
 * console.log(turnMono() === a); // true: the same run of work
 * ```
 */
export function turnMono(): number {
  if (!valid) read();
  return mono;
}

/**
 * Milliseconds since the epoch at the start of the current run of synchronous work (see
 * {@linkcode turnMono}).
 *
 * @example
 * ```ts
 * import { turnNow } from "./clock.ts";
 * console.log(Math.abs(turnNow() - Date.now()) < 1000); // true
 * ```
 */
export function turnNow(): number {
  if (!valid) read();
  return wallZero + mono;
}
