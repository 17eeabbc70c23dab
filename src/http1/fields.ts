/**
 * Response header fields for HTTP/1.1: which fields ferry manages itself (`specialHeader`), how a
 * field is validated while it is encoded (`writeField`, RFC 9110 §5.5), a `Content-Length` value
 * read (`parseLength`), and the cache of `[name, value]` pairs that handlers send again and again,
 * kept encoded (`knownField`, `rememberField`). `writer.ts` writes heads with these.
 *
 * @module
 */

import { TCHAR } from "./chars.ts";
import type { Output } from "../net/output.ts";

/** A managed field: `Date`. */
export const H_DATE = 1;
/** A managed field: `Server`. */
export const H_SERVER = 2;
/** A managed field: `Content-Length`. */
export const H_CONTENT_LENGTH = 4;
/** A managed field: `Transfer-Encoding`. */
export const H_TRANSFER_ENCODING = 8;
/** A managed field: `Connection`. */
export const H_CONNECTION = 16;
/** A managed field: `X-Request-Id`. */
export const H_REQUEST_ID = 32;

/** Recognises the fields ferry manages, by length first so most names cost one comparison. */
export function specialHeader(name: string): number {
  switch (name.length) {
    case 4:
      return asciiLowerIs(name, "date") ? H_DATE : 0;
    case 6:
      return asciiLowerIs(name, "server") ? H_SERVER : 0;
    case 10:
      return asciiLowerIs(name, "connection") ? H_CONNECTION : 0;
    case 12:
      return asciiLowerIs(name, "x-request-id") ? H_REQUEST_ID : 0;
    case 14:
      return asciiLowerIs(name, "content-length") ? H_CONTENT_LENGTH : 0;
    case 17:
      return asciiLowerIs(name, "transfer-encoding") ? H_TRANSFER_ENCODING : 0;
  }
  return 0;
}

/**
 * Whether `name` is `lower` in any case of its ASCII letters (no lower-cased copy is made; no
 * other character lower-cases to the letters of the managed names).
 */
function asciiLowerIs(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/*
 * Header fields that handlers send again and again as the same `[name, value]` array (a module's
 * constant Content-Type, the example app's), kept validated and encoded. A pair is known by its
 * identity, and its strings are compared again on every use, so a pair changed in place is encoded
 * afresh. A pair is kept only once it comes back: pairs made for one response (a fetch app's) pass
 * through SEEN, a small ring of identities, and never push the kept ones out.
 */
const KEPT = 16;
const SEEN = 8;
const keptPair: Array<readonly [string, string] | undefined> = new Array(KEPT).fill(undefined);
const keptName: string[] = new Array(KEPT).fill("");
const keptValue: string[] = new Array(KEPT).fill("");
const keptBytes: Uint8Array[] = new Array(KEPT).fill(new Uint8Array(0));
let keptNext = 0;
const seenPair: Array<readonly [string, string] | undefined> = new Array(SEEN).fill(undefined);
let seenNext = 0;

/** The encoded line of `pair` if it is kept and unchanged. */
export function knownField(pair: readonly [string, string]): Uint8Array | undefined {
  for (let i = 0; i < KEPT; i++) {
    if (keptPair[i] === pair) {
      return keptName[i] === pair[0] && keptValue[i] === pair[1] ? keptBytes[i] : undefined;
    }
  }
  return undefined;
}

/** Notes `pair`, just encoded at `out[at..]`; keeps its line if the pair was seen before. */
export function rememberField(pair: readonly [string, string], out: Output, at: number): void {
  for (let i = 0; i < KEPT; i++) {
    if (keptPair[i] === pair) {
      // Changed in place since it was kept: keep the new line.
      keptName[i] = pair[0];
      keptValue[i] = pair[1];
      keptBytes[i] = out.reserve(0).slice(at, out.length);
      return;
    }
  }
  for (let i = 0; i < SEEN; i++) {
    if (seenPair[i] === pair) {
      seenPair[i] = undefined;
      const k = keptNext;
      keptNext = (k + 1) % KEPT;
      keptPair[k] = pair;
      keptName[k] = pair[0];
      keptValue[k] = pair[1];
      keptBytes[k] = out.reserve(0).slice(at, out.length);
      return;
    }
  }
  seenPair[seenNext] = pair;
  seenNext = (seenNext + 1) % SEEN;
}

/** The value of a `Content-Length` field a handler set; throws a TypeError when it is not a length. */
export function parseLength(value: string): number {
  const v = value.trim();
  if (!/^\d{1,15}$/.test(v)) throw new TypeError(`invalid Content-Length ${JSON.stringify(value)}`);
  return Number(v);
}

/**
 * Encodes `name: value\r\n` into `out`, checking that the name is a token and the value holds
 * no control character but HTAB and no code unit above 0xFF (RFC 9110 §5.5).
 */
export function writeField(out: Output, name: string, value: string): void {
  const nl = name.length;
  const vl = value.length;
  if (nl === 0) throw new TypeError("empty header name");
  const buf = out.reserve(nl + vl + 4);
  let p = out.length;
  for (let i = 0; i < nl; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] !== 1) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    buf[p++] = c;
  }
  buf[p++] = 0x3a;
  buf[p++] = 0x20;
  for (let i = 0; i < vl; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) {
      throw new TypeError(`invalid character in the value of header ${name}`);
    }
    buf[p++] = c;
  }
  buf[p++] = 0x0d;
  buf[p++] = 0x0a;
  out.length = p;
}
