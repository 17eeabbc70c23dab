/**
 * The request methods ferry knows, for every protocol: a method outside the set is answered 501
 * (RFC 9110 §9.1), over HTTP/1.1 by the parser and over HTTP/2 by its exchange.
 *
 * @module
 */

/**
 * Methods ferry knows: RFC 9110 §9, the IANA HTTP Method Registry (WebDAV, CalDAV, versioning,
 * QUERY) and a few long-standing extensions (PURGE, SSDP's M-SEARCH, NOTIFY, SUBSCRIBE). A method
 * outside this set is answered 501 (RFC 9110 §9.1).
 *
 * @example
 * ```ts
 * import { KNOWN_METHODS } from "./methods.ts";
 * console.log(KNOWN_METHODS.has("PROPFIND"), KNOWN_METHODS.has("FOO")); // true false
 * ```
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
