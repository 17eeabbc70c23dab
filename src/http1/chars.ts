/**
 * Byte classes from the HTTP grammars (RFC 9110 §5.6, RFC 9112), as lookup tables so that the
 * parser tests a byte with one array read.
 *
 * @module
 */

/** ASCII carriage return. */
export const CR = 0x0d;
/** ASCII line feed. */
export const LF = 0x0a;
/** ASCII space. */
export const SP = 0x20;
/** ASCII horizontal tab. */
export const HTAB = 0x09;
/** ASCII colon. */
export const COLON = 0x3a;

function table(pred: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = pred(b) ? 1 : 0;
  return t;
}

const isAlpha = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/**
 * `tchar` (RFC 9110 §5.6.2): the characters of a token, such as a method or a field name.
 *
 * @example
 * ```ts
 * import { TCHAR } from "./chars.ts";
 * console.log(TCHAR[0x41], TCHAR[0x3a]); // 1 0 ("A" is a tchar, ":" is not)
 * ```
 */
export const TCHAR: Uint8Array = table((b) =>
  isAlpha(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b))
);

/**
 * Bytes allowed in a request-target: visible ASCII (0x21–0x7E). Anything else — space, control
 * characters, DEL, non-ASCII — ends the target or is an error.
 *
 * @example
 * ```ts
 * import { TARGET_CHAR } from "./chars.ts";
 * console.log(TARGET_CHAR[0x2f], TARGET_CHAR[0x20]); // 1 0
 * ```
 */
export const TARGET_CHAR: Uint8Array = table((b) => b >= 0x21 && b <= 0x7e);

/** Field-value byte class: not allowed in a field value. */
export const FV_INVALID = 0;
/** Field-value byte class: `field-vchar` (VCHAR or obs-text). */
export const FV_VCHAR = 1;
/** Field-value byte class: SP or HTAB (allowed inside a value, trimmed at its ends). */
export const FV_WS = 2;
/** Field-value byte class: CR, the start of the line ending. */
export const FV_CR = 3;

/**
 * Classes of the bytes of a field value (RFC 9110 §5.5): {@linkcode FV_VCHAR}, {@linkcode FV_WS},
 * {@linkcode FV_CR}, or {@linkcode FV_INVALID} for NUL, LF, other controls and DEL.
 *
 * @example
 * ```ts
 * import { FIELD_VALUE, FV_VCHAR } from "./chars.ts";
 * console.log(FIELD_VALUE[0x61] === FV_VCHAR); // true
 * ```
 */
export const FIELD_VALUE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    if ((b >= 0x21 && b <= 0x7e) || b >= 0x80) t[b] = FV_VCHAR;
    else if (b === SP || b === HTAB) t[b] = FV_WS;
    else if (b === CR) t[b] = FV_CR;
    else t[b] = FV_INVALID;
  }
  return t;
})();

/**
 * Lower-cases ASCII letters; every other byte maps to itself.
 *
 * @example
 * ```ts
 * import { LOWER } from "./chars.ts";
 * console.log(String.fromCharCode(LOWER[0x48])); // "h"
 * ```
 */
export const LOWER: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  return t;
})();

/**
 * Hex digit values; 0xff for a byte that is not a hex digit.
 *
 * @example
 * ```ts
 * import { HEX_VALUE } from "./chars.ts";
 * console.log(HEX_VALUE[0x66]); // 15 ("f")
 * ```
 */
export const HEX_VALUE: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(0xff);
  for (let b = 0; b < 256; b++) {
    if (isDigit(b)) t[b] = b - 0x30;
    else if (b >= 0x41 && b <= 0x46) t[b] = b - 0x41 + 10;
    else if (b >= 0x61 && b <= 0x66) t[b] = b - 0x61 + 10;
  }
  return t;
})();

/**
 * Decodes bytes as latin1 (each byte one UTF-16 code unit), the way HTTP field bytes map onto
 * JavaScript strings. `TextDecoder("latin1")` would be windows-1252, which rewrites 0x80–0x9f.
 *
 * @example
 * ```ts
 * import { latin1 } from "./chars.ts";
 * console.log(latin1(new Uint8Array([0x68, 0x69]), 0, 2)); // "hi"
 * ```
 */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n <= 32) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
    return s;
  }
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(
      null,
      buf.subarray(i, Math.min(end, i + 8192)) as unknown as number[],
    );
  }
  return s;
}

/**
 * Like {@linkcode latin1}, lower-casing ASCII letters on the way (field names are
 * case-insensitive; ferry hands them to modules in lower case).
 *
 * @example
 * ```ts
 * import { latin1Lower } from "./chars.ts";
 * console.log(latin1Lower(new TextEncoder().encode("Host"), 0, 4)); // "host"
 * ```
 */
export function latin1Lower(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  // A common field name comes back as its constant: no string is built, and comparisons with
  // literals (a switch, HeaderList.get) find the very same string.
  const candidates = n < COMMON_BY_LENGTH.length ? COMMON_BY_LENGTH[n] : undefined;
  if (candidates !== undefined) {
    next: for (let k = 0; k < candidates.length; k++) {
      const name = candidates[k];
      for (let i = 0; i < n; i++) if (LOWER[buf[start + i]] !== name.charCodeAt(i)) continue next;
      return name;
    }
  }
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(LOWER[buf[i]]);
  return s;
}

/** Request field names that browsers, clients and proxies send, in lower case. */
const COMMON_NAMES = [
  "host",
  "user-agent",
  "accept",
  "accept-encoding",
  "accept-language",
  "accept-charset",
  "connection",
  "keep-alive",
  "content-type",
  "content-length",
  "transfer-encoding",
  "expect",
  "te",
  "cookie",
  "referer",
  "origin",
  "authorization",
  "cache-control",
  "pragma",
  "upgrade",
  "upgrade-insecure-requests",
  "if-none-match",
  "if-match",
  "if-modified-since",
  "if-unmodified-since",
  "if-range",
  "range",
  "priority",
  "dnt",
  "via",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "x-request-id",
  "traceparent",
  "tracestate",
  "sec-fetch-site",
  "sec-fetch-mode",
  "sec-fetch-dest",
  "sec-fetch-user",
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
];
/** {@linkcode COMMON_NAMES} by length. */
const COMMON_BY_LENGTH: Array<string[] | undefined> = (() => {
  const t: Array<string[] | undefined> = [];
  for (const name of COMMON_NAMES) (t[name.length] ??= []).push(name);
  return t;
})();

/**
 * Whether `buf[start..end)` decodes (as {@linkcode latin1}) to `s`: a string kept from an earlier
 * head is reused when its bytes come again, instead of building an equal one.
 *
 * @example
 * ```ts
 * import { sameLatin1 } from "./chars.ts";
 * console.log(sameLatin1(new Uint8Array([0x68, 0x69]), 0, 2, "hi")); // true
 * ```
 */
export function sameLatin1(buf: Uint8Array, start: number, end: number, s: string): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}
