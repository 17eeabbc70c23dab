/**
 * The `url` of the `Request` a fetch app sees: the WHATWG URL serialization of the request's
 * scheme, authority, path and query (what `new Request(url).url` gives), computed without the URL
 * parser when the parts are already in that form, which is nearly always.
 *
 * @module
 */

import type { ServerRequest } from "../http/request.ts";

/** `pchar` of RFC 3986 §3.3 besides `%`: unreserved, sub-delims, `:` and `@`; and `/`. */
const PATH_OK = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/") {
  PATH_OK[c.charCodeAt(0)] = 1;
}
/** A query adds `?`; the URL standard percent-encodes `'` in the query of http(s) URLs. */
const QUERY_OK = PATH_OK.slice();
QUERY_OK["?".charCodeAt(0)] = 1;
QUERY_OK["'".charCodeAt(0)] = 0;

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Whether `s` is made of `ok` characters and well-formed `%XX` escapes, none of them a dot. */
function plain(s: string, ok: Uint8Array): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      // `%2e` is a dot to the URL parser (a dot segment); a bad escape is left to it as well.
      if (!HEX.test(hex) || hex === "2e" || hex === "2E") return false;
      i += 2;
    } else if (c >= 128 || ok[c] === 0) return false;
  }
  return true;
}

/** Whether `path` has a `.` or `..` segment (which the URL parser removes). */
function hasDotSegment(path: string): boolean {
  for (let i = path.indexOf("/."); i >= 0; i = path.indexOf("/.", i + 1)) {
    const next = path.charCodeAt(i + 2);
    if (Number.isNaN(next) || next === 0x2f) return true;
    if (next === 0x2e) {
      const after = path.charCodeAt(i + 3);
      if (Number.isNaN(after) || after === 0x2f) return true;
    }
  }
  return false;
}

/** A lower-case DNS name, a canonical dotted-quad IPv4 address, or neither (left to the URL parser). */
function plainHostName(name: string): boolean {
  if (name.length === 0) return false;
  let labelStart = 0;
  let digitsOnly = true;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i === labelStart) return false;
      // A name whose last label is a number is an IPv4 address to the URL parser.
      if (i === name.length && digitsOnly) return canonicalIPv4(name);
      if (name.startsWith("xn--", labelStart) || name.startsWith("0x", labelStart)) return false;
      labelStart = i + 1;
      digitsOnly = true;
    } else if (c >= 0x30 && c <= 0x39) {
      continue;
    } else if ((c >= 0x61 && c <= 0x7a) || c === 0x2d) {
      digitsOnly = false;
    } else return false;
  }
  return true;
}

/** Whether `name` is four decimal octets without leading zeros. */
function canonicalIPv4(name: string): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++octets > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 0x30);
      digits++;
    } else return false;
  }
  return octets === 4;
}

/** Whether `host` (name and optional port) serializes as itself for `scheme`. */
function plainAuthority(host: string, scheme: "http" | "https"): boolean {
  const colon = host.indexOf(":");
  if (colon < 0) return plainHostName(host);
  let port = 0;
  for (let i = colon + 1; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 0x30 || c > 0x39 || (i === colon + 1 && c === 0x30)) return false;
    port = port * 10 + (c - 0x30);
    if (port > 65535) return false;
  }
  if (port === 0 || port === (scheme === "https" ? 443 : 80)) return false;
  return plainHostName(host.slice(0, colon));
}

/** The last authority checked, and the answer: a connection's requests repeat their Host. */
let lastAuthority = "";
let lastScheme = "";
let lastPlain = false;

/** {@linkcode plainAuthority}, remembered for the last authority asked about. */
function plainAuthorityMemo(host: string, scheme: "http" | "https"): boolean {
  if (host !== lastAuthority || scheme !== lastScheme) {
    lastPlain = plainAuthority(host, scheme);
    lastAuthority = host;
    lastScheme = scheme;
  }
  return lastPlain;
}

/**
 * The request's URL as `new Request(req.url).url` would give it: `req.url` itself when its parts
 * are in serialized form already, else through the URL parser (which throws a `TypeError` for a
 * URL it cannot parse, as `new Request` did).
 *
 * @example
 * ```ts ignore
 * requestUrl(req); // "http://app.test:8080/a/b?c=1"
 * ```
 */
export function requestUrl(req: ServerRequest): string {
  const raw = req.url;
  const path = req.form === "asterisk" ? "/" : req.path;
  const scheme = req.scheme;
  const start = scheme.length + 3;
  if (
    path.charCodeAt(0) === 0x2f && plain(path, PATH_OK) && !hasDotSegment(path) &&
    plain(req.query, QUERY_OK) && plainAuthorityMemo(raw.slice(start, raw.indexOf("/", start)), scheme)
  ) {
    return raw;
  }
  return new URL(raw).href;
}
