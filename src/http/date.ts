/**
 * The Date header (RFC 9110 §6.6.1), formatted at most once a second, and the pre-encoded
 * `Date` + `Server` block every response head starts with.
 *
 * @module
 */

import { turnNow } from "../net/clock.ts";

let dateSecond = -1;
/** `Date: …\r\nServer: ferry\r\n`, encoded once a second (read after {@linkcode refreshDate}). */
export let commonBlock: Uint8Array = new Uint8Array(0);
/** The current IMF-fixdate (read after {@linkcode refreshDate}). */
export let dateString = "";

/**
 * The current time as an IMF-fixdate (RFC 9110 §5.6.7), formatted at most once a second.
 *
 * @example
 * ```ts
 * import { httpDate } from "./date.ts";
 * console.log(httpDate()); // e.g. "Sat, 21 Nov 2026 13:32:45 GMT"
 * ```
 */
export function httpDate(): string {
  refreshDate();
  return dateString;
}

/** Brings {@linkcode dateString} and {@linkcode commonBlock} up to the current second. */
export function refreshDate(): void {
  const sec = Math.floor(turnNow() / 1000);
  if (sec === dateSecond) return;
  dateSecond = sec;
  dateString = new Date(sec * 1000).toUTCString();
  commonBlock = new TextEncoder().encode(`Date: ${dateString}\r\nServer: ferry\r\n`);
}
