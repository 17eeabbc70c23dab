/**
 * What the access-line encoders share: printable-ASCII copies and checks, decimal digits, and the
 * time formats (combined's, ISO 8601), each computed once per second or millisecond.
 *
 * @module
 */

import { encoder } from "./line_writer.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

let clfSecond = -1;
let clfText = "";

/**
 * `10/Oct/2000:13:55:36 +0000`-style time for the combined format (UTC), computed once per
 * second.
 */
export function clfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== clfSecond) {
    clfSecond = second;
    const d = new Date(second * 1000);
    const p = (n: number) => String(n).padStart(2, "0");
    clfText = `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:` +
      `${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  }
  return clfText;
}

/** Escapes a value for a quoted field of the text formats: quotes, backslashes, controls, non-ASCII. */
export function escapeText(s: string): string {
  if (isPlainAscii(s)) return s; // most values need nothing: no copy is built
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += "\\" + s[i];
    else if (c < 0x20 || c >= 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += s[i];
  }
  return out;
}

let isoMs = -1;
let isoText = "";
/** {@linkcode isoTime}'s text as bytes, for the encoders that copy it. */
export let isoAscii: Uint8Array = new Uint8Array(0);

/** `Date#toISOString()`, computed once per millisecond (a busy server logs many lines in one). */
export function isoTime(ms: number): string {
  const t = Math.floor(ms);
  if (t !== isoMs) {
    isoMs = t;
    isoText = new Date(t).toISOString();
    isoAscii = encoder.encode(isoText);
  }
  return isoText;
}

/**
 * Copies `s` into `buf` at `p` if it is printable ASCII with no quote or backslash (nothing the
 * text formats escape); returns where it ends, or -1 if it needs escaping.
 */
export function asciiAt(buf: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7e || PLAIN[c] === 0) return -1;
    buf[p++] = c;
  }
  return p;
}

/** 1 for the printable ASCII characters the text formats keep as they are (no quote, no backslash). */
const PLAIN = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x20; c <= 0x7e; c++) t[c] = c === 0x22 || c === 0x5c ? 0 : 1;
  return t;
})();

/** Whether `s` is printable ASCII with no quote or backslash: whether the text formats keep it as it is. */
export function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return false;
  }
  return true;
}

/** Writes the decimal digits of the whole number `n` (≥ 0) into `buf` at `p`; returns where they end. */
export function digitsAt(buf: Uint8Array, p: number, n: number): number {
  if (n < 1000) {
    // Statuses, small sizes and durations: no division loop.
    if (n < 10) {
      buf[p] = 0x30 + n;
      return p + 1;
    }
    if (n < 100) {
      const t = (n * 205) >> 11; // n / 10 for n < 1029
      buf[p] = 0x30 + t;
      buf[p + 1] = 0x30 + n - t * 10;
      return p + 2;
    }
    const h = (n * 41) >> 12; // n / 100 for n < 1000
    const r = n - h * 100;
    const t = (r * 205) >> 11;
    buf[p] = 0x30 + h;
    buf[p + 1] = 0x30 + t;
    buf[p + 2] = 0x30 + r - t * 10;
    return p + 3;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let q = p + digits;
  for (let x = n; q > p; x = Math.floor(x / 10)) buf[--q] = 0x30 + x % 10;
  return p + digits;
}
