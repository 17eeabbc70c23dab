/**
 * The chunked body (RFC 9112 §7.1) as an explicit state machine: strict CRLF everywhere, chunk
 * extensions checked against the grammar and bounded, sizes guarded against overflow, trailers
 * parsed like header fields and bounded.
 *
 * @module
 */

import { COLON, CR, FIELD_VALUE, FV_CR, FV_VCHAR, FV_WS, HEX_VALUE, HTAB, LF, SP, TCHAR } from "./chars.ts";
import { latin1, latin1Lower } from "./chars.ts";
import { HeaderList } from "../http/headers.ts";
import { ParseError } from "./parse_error.ts";
import { STATUS } from "../http/status.ts";
import { Body, type ByteSource, DIRECT_READ_BYTES, exactly, incomplete } from "./body.ts";

/** Most bytes of chunk extensions accepted on one chunk line. */
const MAX_CHUNK_EXT_BYTES = 4096;

// Chunked decoder states, in the order a chunk's bytes meet them.
const C_SIZE_START = 0;
const C_SIZE = 1;
const C_EXT_WS = 2; // whitespace that must be followed by ";"
const C_EXT_NAME_START = 3;
const C_EXT_NAME = 4;
const C_EXT_AFTER_NAME = 5; // whitespace after a name: "=" or ";" next
const C_EXT_VALUE_START = 6;
const C_EXT_TOKEN = 7;
const C_EXT_QUOTED = 8;
const C_EXT_QUOTED_PAIR = 9;
const C_EXT_AFTER_QUOTE = 10; // after a quoted extension value: ";", whitespace or the line end
const C_SIZE_LF = 11;
const C_DATA = 12;
const C_DATA_CR = 13;
const C_DATA_LF = 14;
const C_TRAILER_START = 15;
const C_TRAILER_NAME = 16;
const C_TRAILER_OWS = 17;
const C_TRAILER_VALUE = 18;
const C_TRAILER_LF = 19;
const C_END_LF = 20;
const C_DONE = 21;

/** States inside chunk extensions (their bytes count against {@linkcode MAX_CHUNK_EXT_BYTES}). */
const IN_EXTENSION: ReadonlySet<number> = new Set([
  C_EXT_WS,
  C_EXT_NAME_START,
  C_EXT_NAME,
  C_EXT_AFTER_NAME,
  C_EXT_VALUE_START,
  C_EXT_TOKEN,
  C_EXT_QUOTED,
  C_EXT_QUOTED_PAIR,
  C_EXT_AFTER_QUOTE,
]);
/** States inside the trailer section (their bytes count against the trailer limit). */
const IN_TRAILER: ReadonlySet<number> = new Set([
  C_TRAILER_START,
  C_TRAILER_NAME,
  C_TRAILER_OWS,
  C_TRAILER_VALUE,
  C_TRAILER_LF,
  C_END_LF,
]);

const badChunk = (
  code: "bad_chunk_size" | "bad_chunk_extension" | "bad_chunk_data" | "bad_trailer",
  msg: string,
) => new ParseError(STATUS.BadRequest, code, msg);

/**
 * A chunked body (RFC 9112 §7.1): strict CRLF everywhere, chunk extensions checked against the
 * grammar and bounded, sizes guarded against overflow, trailers parsed like header fields and
 * bounded by `maxTrailerBytes`. More than `limit` data bytes fails with 413.
 */
export class ChunkedBody extends Body {
  #src: ByteSource;
  #limit: number;
  #maxTrailerBytes: number;
  #state = C_SIZE_START;
  #size = 0;
  #remaining = 0; // data bytes left in the current chunk
  #extBytes = 0;
  #trailerBytes = 0;
  #trailerNames: string[] = [];
  #trailerValues: string[] = [];
  #fieldName: number[] = [];
  #fieldValue: number[] = [];
  #fieldLastNonWs = 0;
  #total = 0;

  /** A chunked body from `src` carrying at most `limit` data bytes. */
  constructor(src: ByteSource, limit: number, maxTrailerBytes = 16384) {
    super();
    this.#src = src;
    this.#limit = limit;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /** Trailer fields, once the body has been read to its end. */
  override get trailers(): HeaderList | undefined {
    return this.#state === C_DONE ? new HeaderList(this.#trailerNames, this.#trailerValues) : undefined;
  }

  /** Steps the framing until chunk data is next (true) or the body has ended (false). */
  async #toData(): Promise<boolean> {
    const input = this.#src.input;
    for (;;) {
      if (this.#state === C_DONE) return false;
      if (this.#state === C_DATA) return true;
      if (input.available() > 0) {
        const from = input.offset;
        input.consume(this.#step(input.array, from, input.limit) - from);
      } else if (!(await input.fill())) throw incomplete();
    }
  }

  /** Copies (or reads from the socket) the current chunk's data into `into`. */
  protected override async readIntoChunk(into: Uint8Array): Promise<number | null> {
    if (!(await this.#toData())) return null;
    const src = this.#src;
    const want = Math.min(this.#remaining, into.length);
    const dest = want === into.length ? into : into.subarray(0, want);
    let n: number;
    if (src.input.available() > 0) {
      n = src.input.takeInto(dest);
    } else {
      const got = await src.readDirect(dest);
      if (got === null || got === 0) throw incomplete();
      n = got;
    }
    this.#remaining -= n;
    if (this.#remaining === 0) this.#state = C_DATA_CR;
    return n;
  }

  /** A fresh piece of chunk data: buffered bytes sized exactly, else up to 64 KiB from the socket. */
  protected async readChunk(): Promise<Uint8Array | null> {
    if (!(await this.#toData())) return null;
    const avail = this.#src.input.available();
    const want = this.#remaining;
    const into = new Uint8Array(avail > 0 ? Math.min(avail, want) : Math.min(want, DIRECT_READ_BYTES));
    return exactly(into, (await this.readIntoChunk(into))!);
  }

  /** Advances the framing state machine over `buf[p..end)`; returns the new position. */
  #step(buf: Uint8Array, p: number, end: number): number {
    let state = this.#state;
    while (p < end && state !== C_DATA && state !== C_DONE) {
      const b = buf[p];
      switch (state) {
        case C_SIZE_START:
        case C_SIZE: {
          const v = HEX_VALUE[b];
          if (v !== 0xff) {
            const next = this.#size * 16 + v;
            if (next > Number.MAX_SAFE_INTEGER) throw badChunk("bad_chunk_size", "chunk size overflows");
            this.#size = next;
            state = C_SIZE;
            break;
          }
          if (state === C_SIZE_START) {
            throw badChunk("bad_chunk_size", "chunk size must start with a hex digit");
          }
          if (b === CR) state = C_SIZE_LF;
          else if (b === 0x3b) state = C_EXT_NAME_START;
          else if (b === SP || b === HTAB) state = C_EXT_WS;
          else throw badChunk("bad_chunk_size", "invalid character in chunk size");
          break;
        }
        case C_EXT_WS:
          if (b === 0x3b) state = C_EXT_NAME_START;
          else if (b !== SP && b !== HTAB) {
            throw badChunk("bad_chunk_extension", "expected ; in chunk extension");
          }
          break;
        case C_EXT_NAME_START:
          if (TCHAR[b] === 1) state = C_EXT_NAME;
          else if (b !== SP && b !== HTAB) {
            throw badChunk("bad_chunk_extension", "invalid chunk extension name");
          }
          break;
        case C_EXT_NAME:
          if (TCHAR[b] === 1) break;
          if (b === CR) state = C_SIZE_LF;
          else if (b === 0x3b) state = C_EXT_NAME_START;
          else if (b === 0x3d) state = C_EXT_VALUE_START;
          else if (b === SP || b === HTAB) state = C_EXT_AFTER_NAME;
          else throw badChunk("bad_chunk_extension", "invalid character in chunk extension");
          break;
        case C_EXT_AFTER_NAME:
          if (b === 0x3d) state = C_EXT_VALUE_START;
          else if (b === 0x3b) state = C_EXT_NAME_START;
          else if (b !== SP && b !== HTAB) throw badChunk("bad_chunk_extension", "invalid chunk extension");
          break;
        case C_EXT_VALUE_START:
          if (TCHAR[b] === 1) state = C_EXT_TOKEN;
          else if (b === 0x22) state = C_EXT_QUOTED;
          else if (b !== SP && b !== HTAB) {
            throw badChunk("bad_chunk_extension", "invalid chunk extension value");
          }
          break;
        case C_EXT_TOKEN:
          if (TCHAR[b] === 1) break;
          if (b === CR) state = C_SIZE_LF;
          else if (b === 0x3b) state = C_EXT_NAME_START;
          else if (b === SP || b === HTAB) state = C_EXT_WS;
          else throw badChunk("bad_chunk_extension", "invalid character in chunk extension value");
          break;
        case C_EXT_QUOTED:
          // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
          if (b === 0x22) state = C_EXT_AFTER_QUOTE;
          else if (b === 0x5c) state = C_EXT_QUOTED_PAIR;
          else if (!(b === HTAB || b === SP || b === 0x21 || (b >= 0x23 && b <= 0x7e) || b >= 0x80)) {
            throw badChunk("bad_chunk_extension", "invalid character in quoted chunk extension");
          }
          break;
        case C_EXT_QUOTED_PAIR:
          if (!(b === HTAB || (b >= 0x20 && b <= 0x7e) || b >= 0x80)) {
            throw badChunk("bad_chunk_extension", "invalid quoted-pair in chunk extension");
          }
          state = C_EXT_QUOTED;
          break;
        case C_SIZE_LF:
          if (b !== LF) throw badChunk("bad_chunk_size", "chunk size line must end with CRLF");
          this.#extBytes = 0;
          if (this.#size === 0) {
            state = C_TRAILER_START;
          } else {
            this.#total += this.#size;
            if (this.#total > this.#limit) {
              throw new ParseError(STATUS.ContentTooLarge, "body_too_large", "request body is too large");
            }
            this.#remaining = this.#size;
            this.#size = 0;
            state = C_DATA;
          }
          break;
        case C_DATA_CR:
          if (b !== CR) throw badChunk("bad_chunk_data", "chunk data must be followed by CRLF");
          state = C_DATA_LF;
          break;
        case C_DATA_LF:
          if (b !== LF) throw badChunk("bad_chunk_data", "chunk data must be followed by CRLF");
          state = C_SIZE_START;
          break;
        case C_TRAILER_START:
          if (b === CR) state = C_END_LF;
          else if (TCHAR[b] === 1) {
            this.#fieldName = [b];
            state = C_TRAILER_NAME;
          } else throw badChunk("bad_trailer", "invalid trailer field");
          break;
        case C_TRAILER_NAME:
          if (TCHAR[b] === 1) this.#fieldName.push(b);
          else if (b === COLON) {
            this.#fieldValue = [];
            this.#fieldLastNonWs = 0;
            state = C_TRAILER_OWS;
          } else throw badChunk("bad_trailer", "invalid trailer field name");
          break;
        case C_TRAILER_OWS:
          if (b === SP || b === HTAB) break;
          state = C_TRAILER_VALUE;
          continue; // examine this byte as part of the value
        case C_TRAILER_VALUE: {
          const cls = FIELD_VALUE[b];
          if (cls === FV_VCHAR) {
            this.#fieldValue.push(b);
            this.#fieldLastNonWs = this.#fieldValue.length;
          } else if (cls === FV_WS) this.#fieldValue.push(b);
          else if (cls === FV_CR) state = C_TRAILER_LF;
          else throw badChunk("bad_trailer", "invalid byte in trailer field value");
          break;
        }
        case C_TRAILER_LF: {
          if (b !== LF) throw badChunk("bad_trailer", "trailer line must end with CRLF");
          const name = Uint8Array.from(this.#fieldName);
          const value = Uint8Array.from(this.#fieldValue.slice(0, this.#fieldLastNonWs));
          this.#trailerNames.push(latin1Lower(name, 0, name.length));
          this.#trailerValues.push(latin1(value, 0, value.length));
          state = C_TRAILER_START;
          break;
        }
        case C_END_LF:
          if (b !== LF) throw badChunk("bad_trailer", "chunked body must end with CRLF");
          state = C_DONE;
          break;
        case C_EXT_AFTER_QUOTE:
          if (b === CR) state = C_SIZE_LF;
          else if (b === 0x3b) state = C_EXT_NAME_START;
          else if (b === SP || b === HTAB) state = C_EXT_WS;
          else throw badChunk("bad_chunk_extension", "invalid character after quoted chunk extension");
          break;
      }
      if (IN_EXTENSION.has(state)) {
        if (++this.#extBytes > MAX_CHUNK_EXT_BYTES) {
          throw badChunk("bad_chunk_extension", "chunk extensions too long");
        }
      }
      if (IN_TRAILER.has(state)) {
        if (++this.#trailerBytes > this.#maxTrailerBytes) {
          throw badChunk("bad_trailer", "trailer section too large");
        }
      }
      p++;
    }
    this.#state = state;
    return p;
  }
}
