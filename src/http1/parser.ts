/**
 * The HTTP/1.1 request-head parser: an explicit, resumable byte state machine (RFC 9112 §2–§3,
 * §5, RFC 9110 §5). It does no I/O: the connection feeds it the bytes it has, as often as it
 * likes, and the parser picks up where it stopped, so a head split at any byte parses the same
 * as one that arrived whole, in time linear in its length.
 *
 * Every dead end throws a {@linkcode ParseError} that carries the status to answer with and a
 * short reason code for logs and metrics. The parser is strict by default, as RFC 9112 asks of
 * servers: no obs-fold, no bare CR or LF, no whitespace before a colon, one Host, one
 * Content-Length value, no Content-Length beside Transfer-Encoding.
 *
 * @module
 */

import { COLON, CR, FIELD_VALUE, FV_CR, FV_VCHAR, FV_WS, HTAB, LF, SP, TARGET_CHAR, TCHAR } from "./chars.ts";
import { latin1, latin1Lower, sameLatin1 } from "./chars.ts";
import { HeaderList } from "../http/headers.ts";
import type { RequestFields, TargetForm } from "../http/request.ts";
import { STATUS } from "../http/status.ts";
import { badRequest as bad, ParseError, type ParseErrorCode } from "./parse_error.ts";
import { checkTransferEncoding, isContentLengthName, listTokens, parseContentLength } from "./framing.ts";
import { KNOWN_METHODS, methodName } from "./methods.ts";
import { FIELD_POOL_MAX, fieldPool, NO_FIELDS, POOLED_FIELDS } from "./field_pool.ts";
import { copyHead, MEMO_HEAD_BYTES } from "./head_memo.ts";
import { parseAbsoluteForm, splitPathQuery, validAuthority } from "./target.ts";

export { ParseError, type ParseErrorCode } from "./parse_error.ts";
export { validAuthority } from "./target.ts";
export { KNOWN_METHODS } from "./methods.ts";

/** A parsed, validated request head. */
export interface RequestHead extends RequestFields {
  /** The method, case kept (methods are case-sensitive). */
  method: string;
  /** The request-target exactly as received. */
  target: string;
  /** Which form the target took. */
  form: TargetForm;
  /** The raw (still percent-encoded) path: `/` for absolute-form without one, `*` for asterisk-form. */
  path: string;
  /** The raw query without `?`; empty when there is none. */
  query: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor: number;
  /** The header fields, names lower-cased. */
  headers: HeaderList;
  /** The authority: the absolute-form target's, else the Host header's; `""` when absent. */
  host: string;
  /** Declared Content-Length, or -1 when the request has none. */
  contentLength: number;
  /** Whether the body is chunked. */
  chunked: boolean;
  /** Whether the connection may stay open after this request (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** Whether the client sent `Expect: 100-continue` on HTTP/1.1. */
  expectContinue: boolean;
  /** Length of the head in bytes, the final empty line included. */
  headBytes: number;
}

/** Limits the parser enforces while reading a head. */
export interface ParserLimits {
  /**
   * Longest request-target, in bytes; a longer one is answered with 414.
   * @default {8192}
   */
  maxTargetLength: number;
  /**
   * Largest head (request line, fields and the empty line), in bytes; a larger one gets 431.
   * @default {16384}
   */
  maxHeaderBytes: number;
  /**
   * Most header field lines; one more gets 431.
   * @default {100}
   */
  maxHeaderCount: number;
}

/** The defaults of {@linkcode ParserLimits}. */
export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = {
  maxTargetLength: 8192,
  maxHeaderBytes: 16384,
  maxHeaderCount: 100,
};

// Parser states.
const S_START = 0; // before the request line; empty lines may come first (RFC 9112 §2.2)
const S_START_LF = 1; // after the CR of a leading empty line
const S_METHOD = 3;
const S_TARGET_START = 4;
const S_TARGET = 5;
const S_VERSION = 6;
const S_LINE_CR = 7;
const S_LINE_LF = 8;
const S_FIELD_START = 9;
const S_NAME = 10;
const S_OWS = 11;
const S_VALUE = 12;
const S_VALUE_LF = 13;
const S_END_LF = 14;

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"

/**
 * The resumable request-head parser. One instance serves a connection for its lifetime:
 * {@linkcode RequestParser.execute} is called with the bytes received so far until it returns
 * the head length, then {@linkcode RequestParser.finish} builds the {@linkcode RequestHead} and
 * resets the machine for the next request.
 *
 * Offsets are kept relative to the start of the head (`base`), so the caller may move the head's
 * bytes within its buffer between calls, as long as they stay contiguous.
 *
 * @example
 * ```ts
 * import { RequestParser } from "./parser.ts";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * const p = new RequestParser();
 * const n = p.execute(bytes, 0, bytes.length);
 * console.log(p.finish(bytes, 0, n).host); // "a"
 * ```
 */
export class RequestParser {
  readonly #limits: ParserLimits;
  #state = S_START;
  #off = 0; // next byte to examine, relative to base
  #methodEnd = 0;
  #targetStart = 0;
  #targetEnd = 0;
  #versionIdx = 0;
  #versionMinor = 0;
  #versionMajor = 0;
  #count = 0; // header fields seen
  /**
   * [nameStart, nameEnd, valueStart, valueEnd] per field, relative to base; taken from a shared
   * pool when a head's first field arrives and given back when the head is done, so an idle
   * connection's parser holds none.
   */
  #fields: Int32Array | null = null;
  #lastNonWs = 0;
  #methodStart = 0;
  #contentLength = -1;
  #lastValidHost = ""; // keep-alive requests repeat their Host: validate it once
  /**
   * The last head's target (and its path and query) and short field values by position: a
   * keep-alive client repeats most of its head, and a repeated value is compared, not rebuilt.
   */
  #lastTarget = "";
  #lastPath = "";
  #lastQuery = "";
  #lastValues: string[] = [];
  /**
   * The bytes of the last head that parsed (when at most {@linkcode MEMO_HEAD_BYTES} long) and
   * what it gave: a keep-alive client that sends the very same bytes again (a poller, a health
   * check, a benchmark) gets the same answer without the bytes being parsed again. The result is a
   * function of the bytes alone, so nothing is checked less: the same bytes passed every check.
   */
  #memoBytes: Uint8Array | undefined;
  #memoLength = 0;
  #memo: RequestHead | undefined;
  /** Set by execute() when the head is the memo's; finish() then copies it. */
  #memoHit = false;

  /** Creates a parser enforcing `limits` (defaults: {@linkcode DEFAULT_PARSER_LIMITS}). */
  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Bytes the memo of the last head holds (0 before the first head): what an idle connection keeps of it. */
  get memoCapacity(): number {
    return this.#memoBytes?.length ?? 0;
  }

  /** Whether the parser has seen any byte of the current head. */
  get started(): boolean {
    return this.#off > 0;
  }

  /** Forgets any partial head; the next byte starts a new request. */
  reset(): void {
    const f = this.#fields;
    if (f !== null) {
      if (f.length === POOLED_FIELDS && fieldPool.length < FIELD_POOL_MAX) fieldPool.push(f);
      this.#fields = null;
    }
    this.#state = S_START;
    this.#off = 0;
    this.#memoHit = false;
    this.#count = 0;
    this.#versionIdx = 0;
    this.#contentLength = -1;
  }

  /**
   * Examines `buf[base + consumed .. end)`, where `base` is the index of the head's first byte.
   * Returns the head's length once its final empty line is complete, or -1 when more bytes are
   * needed. Throws {@linkcode ParseError} on invalid input or an exceeded limit.
   */
  execute(buf: Uint8Array, base: number, end: number): number {
    const limits = this.#limits;
    // Past this index the head is too large, whatever comes.
    const cap = base + limits.maxHeaderBytes;
    const stop = end < cap ? end : cap;
    let p = base + this.#off;
    let state = this.#state;
    const memoLength = this.#memoLength;
    if (p === base && state === S_START && memoLength > 0 && stop - base >= memoLength) {
      // The same bytes as the last head: its length, and finish() gives what they gave.
      const memo = this.#memoBytes!;
      let i = 0;
      while (i < memoLength && buf[base + i] === memo[i]) i++;
      if (i === memoLength) {
        this.#memoHit = true;
        this.#state = S_END_LF;
        this.#off = memoLength;
        return memoLength;
      }
    }
    let b = 0;
    while (p < stop) {
      switch (state) {
        case S_START:
          b = buf[p];
          if (TCHAR[b] === 1) {
            this.#methodStart = p - base;
            state = S_METHOD;
            break;
          }
          if (b === CR) {
            state = S_START_LF;
            p++;
            break;
          }
          throw this.#lineError(b, "bad_method", "request line must start with a method");
        case S_START_LF:
          if (buf[p] !== LF) throw bad("bare_cr", "CR not followed by LF before the request line");
          state = S_START;
          p++;
          break;
        case S_METHOD:
          while (p < stop && TCHAR[buf[p]] === 1) p++;
          if (p === stop) break;
          if (buf[p] !== SP) throw bad("bad_method", "method must be a token followed by one space");
          this.#methodEnd = p - base;
          state = S_TARGET_START;
          p++;
          break;
        case S_TARGET_START:
          if (TARGET_CHAR[buf[p]] !== 1) throw bad("bad_target", "request-target must follow one space");
          this.#targetStart = p - base;
          state = S_TARGET;
          break;
        case S_TARGET: {
          const tStart = base + this.#targetStart;
          const tCap = tStart + limits.maxTargetLength;
          while (p < stop && TARGET_CHAR[buf[p]] === 1) {
            if (p >= tCap) {
              throw new ParseError(STATUS.URITooLong, "target_too_long", "request-target is too long");
            }
            p++;
          }
          if (p === stop) break;
          if (buf[p] !== SP) {
            throw bad("bad_target", "invalid byte in request-target (or no HTTP version)");
          }
          this.#targetEnd = p - base;
          state = S_VERSION;
          p++;
          break;
        }
        case S_VERSION: {
          // "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), case-sensitive.
          const i = this.#versionIdx;
          if (
            i === 0 && p + 9 < stop && buf[p] === 0x48 && buf[p + 1] === 0x54 && buf[p + 2] === 0x54 &&
            buf[p + 3] === 0x50 && buf[p + 4] === 0x2f && buf[p + 5] === 0x31 && buf[p + 6] === 0x2e &&
            ((b = buf[p + 7]) === 0x31 || b === 0x30) && buf[p + 8] === CR && buf[p + 9] === LF
          ) {
            // The whole of `HTTP/1.1` or `HTTP/1.0` and its CRLF, here at once: one step. Any
            // other bytes take the steps below, which name what is wrong.
            this.#versionMajor = 1;
            this.#versionMinor = b - 0x30;
            state = S_FIELD_START;
            p += 10;
            break;
          }
          b = buf[p];
          if (i < 5) {
            if (b !== HTTP_SLASH[i]) throw bad("bad_version", "expected HTTP/ after the target");
          } else if (i === 5 || i === 7) {
            if (b < 0x30 || b > 0x39) throw bad("bad_version", "HTTP version must be DIGIT.DIGIT");
            if (i === 5) this.#versionMajor = b - 0x30;
            else this.#versionMinor = b - 0x30;
          } else if (b !== 0x2e) {
            throw bad("bad_version", "HTTP version must be DIGIT.DIGIT");
          }
          p++;
          if (i === 7) {
            if (this.#versionMajor !== 1 || this.#versionMinor > 1) {
              throw new ParseError(
                STATUS.HTTPVersionNotSupported,
                "unsupported_version",
                "only HTTP/1.0 and HTTP/1.1 are supported",
              );
            }
            state = S_LINE_CR;
          } else this.#versionIdx = i + 1;
          break;
        }
        case S_LINE_CR:
          b = buf[p];
          if (b !== CR) {
            throw b === LF
              ? bad("bare_lf", "request line must end with CRLF")
              : bad("bad_version", "unexpected byte after the HTTP version");
          }
          state = S_LINE_LF;
          p++;
          break;
        case S_LINE_LF:
          if (buf[p] !== LF) throw bad("bare_cr", "CR not followed by LF");
          state = S_FIELD_START;
          p++;
          break;
        case S_FIELD_START:
          b = buf[p];
          if (TCHAR[b] === 1) {
            const n = this.#count;
            if (n >= limits.maxHeaderCount) {
              throw new ParseError(
                STATUS.RequestHeaderFieldsTooLarge,
                "too_many_headers",
                `more than ${limits.maxHeaderCount} header fields`,
              );
            }
            let fields = this.#fields;
            if (fields === null) fields = this.#fields = fieldPool.pop() ?? new Int32Array(POOLED_FIELDS);
            if (4 * n + 4 > fields.length) {
              const grown = new Int32Array(Math.min(fields.length * 2, 4 * limits.maxHeaderCount));
              grown.set(fields);
              fields = this.#fields = grown;
            }
            fields[4 * n] = p - base;
            // A whole line here at once takes one step: the same checks as S_NAME, S_OWS, S_VALUE
            // and S_VALUE_LF, byte for byte. Anything else (a line cut short, a bad byte) goes
            // back to S_NAME, whose steps name what is wrong.
            let q = p + 1;
            while (q < stop && TCHAR[buf[q]] === 1) q++;
            if (q < stop && buf[q] === COLON) {
              const colon = q++;
              while (q < stop && ((b = buf[q]) === SP || b === HTAB)) q++;
              const valueStart = q;
              let last = q;
              let cls = 0;
              while (q < stop) {
                cls = FIELD_VALUE[buf[q]];
                if (cls === FV_VCHAR) last = q + 1;
                else if (cls !== FV_WS) break;
                q++;
              }
              if (cls === FV_CR && q + 1 < stop && buf[q + 1] === LF) {
                fields[4 * n + 1] = colon - base;
                fields[4 * n + 2] = valueStart - base;
                fields[4 * n + 3] = last - base;
                this.#fieldDone(buf, base);
                p = q + 2;
                break; // state stays S_FIELD_START
              }
            }
            state = S_NAME;
            p++;
            break;
          }
          if (b === CR) {
            if (p + 1 < stop && buf[p + 1] === LF) {
              // The head's end, whole.
              this.#state = S_END_LF;
              this.#off = p + 2 - base;
              return p + 2 - base;
            }
            state = S_END_LF;
            p++;
            break;
          }
          if (b === SP || b === HTAB) {
            throw bad("obs_fold", "line folding (or whitespace before a field name) is not allowed");
          }
          if (b === LF) throw bad("bare_lf", "header line must end with CRLF");
          throw bad("bad_header_name", "invalid byte at the start of a header field name");
        case S_NAME:
          while (p < stop && TCHAR[buf[p]] === 1) p++;
          if (p === stop) break;
          b = buf[p];
          if (b !== COLON) {
            throw b === SP || b === HTAB
              ? bad("whitespace_before_colon", "whitespace between field name and colon")
              : bad("bad_header_name", "invalid byte in a header field name");
          }
          this.#fields![4 * this.#count + 1] = p - base;
          state = S_OWS;
          p++;
          break;
        case S_OWS:
          while (p < stop && ((b = buf[p]) === SP || b === HTAB)) p++;
          if (p === stop) break;
          this.#fields![4 * this.#count + 2] = p - base;
          this.#lastNonWs = p - base;
          state = S_VALUE;
          break;
        case S_VALUE: {
          let last = base + this.#lastNonWs;
          let cls = 0;
          while (p < stop) {
            cls = FIELD_VALUE[buf[p]];
            if (cls === FV_VCHAR) last = p + 1;
            else if (cls !== FV_WS) break;
            p++;
          }
          this.#lastNonWs = last - base;
          if (p === stop) break;
          if (cls !== FV_CR) {
            throw buf[p] === LF
              ? bad("bare_lf", "header line must end with CRLF")
              : bad("bad_header_value", "control character in a header field value");
          }
          this.#fields![4 * this.#count + 3] = last - base;
          state = S_VALUE_LF;
          p++;
          break;
        }
        case S_VALUE_LF: {
          if (buf[p] !== LF) throw bad("bare_cr", "CR not followed by LF in a header line");
          this.#fieldDone(buf, base);
          state = S_FIELD_START;
          p++;
          break;
        }
        case S_END_LF:
          if (buf[p] !== LF) throw bad("bare_cr", "CR not followed by LF at the end of the head");
          this.#state = state;
          this.#off = p + 1 - base;
          return p + 1 - base;
      }
    }
    this.#state = state;
    this.#off = p - base;
    if (end >= cap && p >= cap) {
      if (state <= S_TARGET && state >= S_TARGET_START) {
        throw new ParseError(STATUS.URITooLong, "target_too_long", "request-target is too long");
      }
      throw new ParseError(
        STATUS.RequestHeaderFieldsTooLarge,
        "header_too_large",
        `request head is larger than ${limits.maxHeaderBytes} bytes`,
      );
    }
    return -1;
  }

  /**
   * Ends the field line just read: Content-Length is checked as soon as its line ends, so that a
   * bad one is refused at once instead of when (or if) the head completes.
   */
  #fieldDone(buf: Uint8Array, base: number): void {
    const k = 4 * this.#count;
    const f = this.#fields!;
    if (f[k + 1] - f[k] === 14 && isContentLengthName(buf, base + f[k])) {
      const n = parseContentLength(latin1(buf, base + f[k + 2], base + f[k + 3]));
      if (this.#contentLength !== -1 && n !== this.#contentLength) {
        throw bad("content_length_mismatch", "differing Content-Length values");
      }
      this.#contentLength = n;
    }
    this.#count++;
  }

  #lineError(b: number, code: ParseErrorCode, message: string): ParseError {
    if (b === LF) return bad("bare_lf", "LF without CR before the request line");
    return bad(code, message);
  }

  /**
   * Builds the {@linkcode RequestHead} from a head that {@linkcode RequestParser.execute}
   * completed (`headLen` bytes from `base`), applies the message-level rules (Host, framing,
   * Connection, Expect, method) and resets the parser for the next request.
   */
  finish(buf: Uint8Array, base: number, headLen: number): RequestHead {
    if (this.#memoHit) {
      this.reset();
      return copyHead(this.#memo!);
    }
    const head = this.#parse(buf, base, headLen);
    if (headLen <= MEMO_HEAD_BYTES) {
      let memo = this.#memoBytes;
      if (memo === undefined || memo.length < headLen) {
        // The head's size (in steps of 64), not the limit's: every idle keep-alive connection keeps it.
        memo = this.#memoBytes = new Uint8Array(Math.min(MEMO_HEAD_BYTES, (headLen + 63) & ~63));
      }
      memo.set(buf.subarray(base, base + headLen));
      this.#memoLength = headLen;
      this.#memo = copyHead(head); // the handler gets `head`, and may change its arrays
    } else this.#memoLength = 0;
    return head;
  }

  #parse(buf: Uint8Array, base: number, headLen: number): RequestHead {
    const count = this.#count;
    // Read before reset() gives the array back to the pool (nothing else runs meanwhile).
    const f = this.#fields ?? NO_FIELDS;
    const versionMinor = this.#versionMinor;
    const method = methodName(buf, base + this.#methodStart, base + this.#methodEnd);
    const targetStart = base + this.#targetStart;
    const targetEnd = base + this.#targetEnd;
    const sameTarget = sameLatin1(buf, targetStart, targetEnd, this.#lastTarget);
    const target = sameTarget ? this.#lastTarget : latin1(buf, targetStart, targetEnd);
    const contentLength = this.#contentLength;
    this.reset();

    const names = new Array<string>(count);
    const values = new Array<string>(count);
    let hostCount = 0;
    let host = "";
    let transferEncoding: string | undefined;
    let close = false;
    let keepAliveToken = false;
    let expect: string | undefined;
    const last = this.#lastValues;
    for (let i = 0; i < count; i++) {
      const name = latin1Lower(buf, base + f[4 * i], base + f[4 * i + 1]);
      const vStart = base + f[4 * i + 2];
      const vEnd = base + f[4 * i + 3];
      let value: string;
      if (i < KEPT_VALUES && i < last.length && sameLatin1(buf, vStart, vEnd, last[i])) value = last[i];
      else {
        value = latin1(buf, vStart, vEnd);
        if (i < KEPT_VALUES) last[i] = value.length <= KEPT_VALUE_LENGTH ? value : "";
      }
      names[i] = name;
      values[i] = value;
      switch (name) {
        case "host":
          hostCount++;
          host = value;
          break;
        case "transfer-encoding":
          transferEncoding = transferEncoding === undefined ? value : transferEncoding + "," + value;
          break;
        case "connection":
          for (const token of listTokens(value)) {
            if (token === "close") close = true;
            else if (token === "keep-alive") keepAliveToken = true;
          }
          break;
        case "expect":
          expect = expect === undefined ? value : expect + "," + value;
          break;
      }
    }
    const headers = new HeaderList(names, values);

    // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
    if (hostCount > 1) throw bad("duplicate_host", "more than one Host header field");
    if (hostCount === 0 && versionMinor === 1) throw bad("missing_host", "HTTP/1.1 request without Host");
    if (hostCount === 1 && host !== this.#lastValidHost) {
      if (!validAuthority(host, true)) throw bad("bad_host", "invalid Host header field");
      this.#lastValidHost = host;
    }

    // RFC 9112 §6.1, §6.3: framing.
    let chunked = false;
    if (transferEncoding !== undefined) {
      if (versionMinor === 0) {
        throw bad("transfer_encoding_http10", "Transfer-Encoding in an HTTP/1.0 request");
      }
      if (contentLength !== -1) {
        throw bad("content_length_with_transfer_encoding", "both Content-Length and Transfer-Encoding");
      }
      chunked = checkTransferEncoding(transferEncoding);
    }

    let expectContinue = false;
    if (expect !== undefined && versionMinor === 1) {
      // RFC 9110 §10.1.1: 100-continue is the only expectation defined; others get 417.
      if (expect.toLowerCase() === "100-continue") expectContinue = true;
      else {
        throw new ParseError(STATUS.ExpectationFailed, "unsupported_expectation", "unsupported Expect value");
      }
    }

    // RFC 9112 §3.2: the form of the target.
    let form: TargetForm = "origin";
    let path = target;
    let query = "";
    const c0 = target.charCodeAt(0);
    if (c0 === 0x2f) {
      if (sameTarget && this.#lastPath !== "") {
        path = this.#lastPath;
        query = this.#lastQuery;
      } else {
        const split = splitPathQuery(target, 0);
        path = split[0];
        query = split[1];
        if (target.length <= KEPT_VALUE_LENGTH) {
          this.#lastTarget = target;
          this.#lastPath = path;
          this.#lastQuery = query;
        }
      }
    } else if (method === "CONNECT") {
      if (!validAuthority(target, false) || target === "") throw bad("bad_target", "CONNECT needs host:port");
      form = "authority";
      host = target;
    } else if (target === "*") {
      if (method !== "OPTIONS") throw bad("bad_target", "asterisk-form is only for OPTIONS");
      form = "asterisk";
    } else {
      const abs = parseAbsoluteForm(target);
      if (abs === undefined) {
        throw bad("bad_target", "request-target is not origin-, absolute- or asterisk-form");
      }
      form = "absolute";
      host = abs[0]; // RFC 9112 §3.2.2: the target's authority wins over Host.
      path = abs[1];
      query = abs[2];
    }

    if (!KNOWN_METHODS.has(method)) {
      throw new ParseError(STATUS.NotImplemented, "unknown_method", `unknown method`);
    }

    return {
      method,
      target,
      form,
      path,
      query,
      versionMinor,
      headers,
      host,
      contentLength,
      chunked,
      keepAlive: versionMinor === 1 ? !close : keepAliveToken && !close,
      expectContinue,
      headBytes: headLen,
    };
  }
}

/** Field values kept by position from one head to the next: the first this many... */
const KEPT_VALUES = 24;
/** ...of at most this length (an idle connection keeps a few hundred bytes of them, not a cookie). */
const KEPT_VALUE_LENGTH = 256;
