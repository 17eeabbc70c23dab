/**
 * Message framing rules of RFC 9112 §6 (Go keeps these in transfer.go): Content-Length values,
 * Transfer-Encoding codings, and the token lists of Connection and the like.
 *
 * @module
 */

import { TCHAR } from "./chars.ts";
import { badRequest, ParseError } from "./parse_error.ts";
import { STATUS } from "../http/status.ts";

/**
 * Content-Length (RFC 9110 §8.6): 1*DIGIT; a list of identical values (`5, 5`) is accepted as
 * one. Anything else — signs, spaces inside, empty, beyond 2^53 — is an error.
 */
export function parseContentLength(value: string): number {
  let result = -1;
  let n = -1;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0x2c;
    if (c >= 0x30 && c <= 0x39) {
      n = n === -1 ? c - 0x30 : n * 10 + (c - 0x30);
      if (n > Number.MAX_SAFE_INTEGER) throw badRequest("bad_content_length", "Content-Length is too large");
    } else if (c === 0x2c) {
      if (n === -1) throw badRequest("bad_content_length", "empty Content-Length");
      if (result !== -1 && n !== result) {
        throw badRequest("content_length_mismatch", "differing Content-Length values");
      }
      result = n;
      n = -1;
      // OWS after a comma.
      while (i + 1 < value.length && (value.charCodeAt(i + 1) === 0x20 || value.charCodeAt(i + 1) === 0x09)) {
        i++;
      }
    } else if ((c === 0x20 || c === 0x09) && n !== -1) {
      // OWS before a comma only.
      while (i + 1 < value.length && (value.charCodeAt(i + 1) === 0x20 || value.charCodeAt(i + 1) === 0x09)) {
        i++;
      }
      if (i + 1 < value.length && value.charCodeAt(i + 1) !== 0x2c) {
        throw badRequest("bad_content_length", "invalid Content-Length");
      }
    } else {
      throw badRequest("bad_content_length", "invalid Content-Length");
    }
  }
  return result;
}

/**
 * Transfer-Encoding (RFC 9112 §6.1, §7): returns true when the body is chunked. `chunked` must be
 * the final coding, once; other codings are not implemented (501).
 */
export function checkTransferEncoding(value: string): boolean {
  const codings: string[] = [];
  for (const raw of value.split(",")) {
    const c = raw.trim();
    if (c === "") continue; // RFC 9110 §5.6.1.2: empty list elements are ignored
    if (!isToken(c)) {
      if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*;/.test(c)) {
        throw new ParseError(
          STATUS.NotImplemented,
          "unsupported_transfer_coding",
          "transfer coding with parameters",
        );
      }
      throw badRequest("bad_transfer_encoding", "invalid Transfer-Encoding");
    }
    codings.push(c.toLowerCase());
  }
  if (codings.length === 0) throw badRequest("bad_transfer_encoding", "empty Transfer-Encoding");
  const chunkedCount = codings.filter((c) => c === "chunked").length;
  const last = codings[codings.length - 1];
  if (last !== "chunked") {
    if (chunkedCount > 0) {
      throw badRequest("bad_transfer_encoding", "chunked is not the final transfer coding");
    }
    throw new ParseError(STATUS.NotImplemented, "unsupported_transfer_coding", "unsupported transfer coding");
  }
  if (chunkedCount > 1) throw badRequest("bad_transfer_encoding", "chunked applied more than once");
  if (codings.length > 1) {
    throw new ParseError(STATUS.NotImplemented, "unsupported_transfer_coding", "unsupported transfer coding");
  }
  return true;
}

/** Whether `s` is a token (RFC 9110 §5.6.2). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** Lower-cased tokens of a comma-separated list; non-tokens are skipped. */
export function listTokens(value: string): string[] {
  const out: string[] = [];
  for (const raw of value.split(",")) {
    const t = raw.trim();
    if (isToken(t)) out.push(t.toLowerCase());
  }
  return out;
}

const CONTENT_LENGTH = [0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68];

/** Whether the 14 bytes at `at` spell `content-length` in any case. */
export function isContentLengthName(buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < 14; i++) if ((buf[at + i] | 0x20) !== CONTENT_LENGTH[i]) return false;
  return true;
}
