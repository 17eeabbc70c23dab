/**
 * Request methods: the set ferry knows (anything else is answered 501) and the parser's way of
 * naming the common ones without building a string byte by byte.
 *
 * @module
 */

import { latin1 } from "./chars.ts";

/**
 * Methods ferry knows: RFC 9110 §9, the IANA HTTP Method Registry (WebDAV, CalDAV, versioning,
 * QUERY) and a few long-standing extensions (PURGE, SSDP's M-SEARCH, NOTIFY, SUBSCRIBE). A method
 * outside this set is answered 501 (RFC 9110 §9.1).
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "QUERY",
  "ACL",
  "BASELINE-CONTROL",
  "BIND",
  "CHECKIN",
  "CHECKOUT",
  "COPY",
  "LABEL",
  "LINK",
  "LOCK",
  "MERGE",
  "MKACTIVITY",
  "MKCALENDAR",
  "MKCOL",
  "MKREDIRECTREF",
  "MKWORKSPACE",
  "MOVE",
  "ORDERPATCH",
  "PROPFIND",
  "PROPPATCH",
  "REBIND",
  "REPORT",
  "SEARCH",
  "UNBIND",
  "UNCHECKOUT",
  "UNLINK",
  "UNLOCK",
  "UPDATE",
  "UPDATEREDIRECTREF",
  "VERSION-CONTROL",
  "PURGE",
  "M-SEARCH",
  "NOTIFY",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
]);

/** Common methods without building a string byte by byte. */
export function methodName(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  const b0 = buf[start];
  if (n === 3 && b0 === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return "GET";
  if (n === 4 && buf[start + 1] === 0x4f) {
    if (b0 === 0x50 && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return "POST";
  }
  if (
    n === 4 && b0 === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44
  ) {
    return "HEAD";
  }
  if (n === 3 && b0 === 0x50 && buf[start + 1] === 0x55 && buf[start + 2] === 0x54) return "PUT";
  return latin1(buf, start, end);
}
