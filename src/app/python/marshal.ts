/**
 * Writes values in the format of Python's `marshal` module (version 4 and later read it), so that
 * a Python worker turns a request into its WSGI environ or ASGI scope with one `marshal.loads`
 * call: no per-field Python loop. Only what a request needs: dicts, lists, small tuples, text,
 * bytes, 32-bit integers, None and booleans. Lengths are little-endian, as marshal writes them.
 *
 * @module
 */

const T_NULL = 0x30; // "0": ends a dict
const T_NONE = 0x4e; // "N"
const T_FALSE = 0x46; // "F"
const T_TRUE = 0x54; // "T"
const T_INT = 0x69; // "i": int32
const T_BYTES = 0x73; // "s": u32 length, bytes
const T_UNICODE = 0x75; // "u": u32 length, UTF-8
const T_ASCII = 0x61; // "a": u32 length, ASCII
const T_SHORT_ASCII = 0x7a; // "z": u8 length, ASCII
const T_SMALL_TUPLE = 0x29; // ")": u8 count
const T_LIST = 0x5b; // "[": u32 count
const T_DICT = 0x7b; // "{": key, value, ..., T_NULL

/**
 * A growing buffer of marshal-format values, reused from one request to the next.
 *
 * @example
 * ```ts
 * import { MarshalWriter } from "./marshal.ts";
 * const w = new MarshalWriter();
 * w.dict();
 * w.text("a");
 * w.int(1);
 * w.endDict();
 * console.log(w.bytes().length); // 10
 * ```
 */
export class MarshalWriter {
  #buf: Uint8Array;
  #view: DataView;
  #p = 0;

  /** A writer with `size` bytes to begin with. */
  constructor(size = 4096) {
    this.#buf = new Uint8Array(size);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Starts over (the bytes handed out by {@linkcode MarshalWriter.bytes} are views: copy them first). */
  reset(): void {
    this.#p = 0;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#p;
  }

  /** The bytes written so far (a view of the buffer, valid until the next write). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#p);
  }

  #room(n: number): void {
    if (this.#p + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#p + n + 1024));
    next.set(this.#buf.subarray(0, this.#p));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #u32(n: number): void {
    this.#view.setUint32(this.#p, n, true);
    this.#p += 4;
  }

  /** Starts a dict: keys and values follow, then {@linkcode MarshalWriter.endDict}. */
  dict(): void {
    this.#room(1);
    this.#buf[this.#p++] = T_DICT;
  }

  /** Ends a dict. */
  endDict(): void {
    this.#room(1);
    this.#buf[this.#p++] = T_NULL;
  }

  /** Starts a tuple of `count` (< 256) items, which follow. */
  tuple(count: number): void {
    this.#room(2);
    this.#buf[this.#p++] = T_SMALL_TUPLE;
    this.#buf[this.#p++] = count;
  }

  /** Starts a list of `count` items, which follow. */
  list(count: number): void {
    this.#room(5);
    this.#buf[this.#p++] = T_LIST;
    this.#u32(count);
  }

  /** A 32-bit integer. */
  int(n: number): void {
    this.#room(5);
    this.#buf[this.#p++] = T_INT;
    this.#view.setInt32(this.#p, n, true);
    this.#p += 4;
  }

  /** None. */
  none(): void {
    this.#room(1);
    this.#buf[this.#p++] = T_NONE;
  }

  /** True or False. */
  bool(b: boolean): void {
    this.#room(1);
    this.#buf[this.#p++] = b ? T_TRUE : T_FALSE;
  }

  /** A `str`: ASCII as it is, anything else as UTF-8 (a latin-1 "bytes as unicode" string too). */
  text(s: string): void {
    const n = s.length;
    this.#room(5 + 3 * n);
    const buf = this.#buf;
    const start = this.#p;
    let p = start + (n < 256 ? 2 : 5);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return this.#utf8(s);
      buf[p++] = c;
    }
    if (n < 256) {
      buf[start] = T_SHORT_ASCII;
      buf[start + 1] = n;
    } else {
      buf[start] = T_ASCII;
      this.#view.setUint32(start + 1, n, true);
    }
    this.#p = p;
  }

  #utf8(s: string): void {
    const buf = this.#buf;
    const start = this.#p;
    let p = start + 5;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) buf[p++] = c;
      else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
          const d = s.charCodeAt(i + 1);
          if (d >= 0xdc00 && d < 0xe000) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
            buf[p++] = 0xf0 | (c >> 18);
            buf[p++] = 0x80 | ((c >> 12) & 0x3f);
            buf[p++] = 0x80 | ((c >> 6) & 0x3f);
            buf[p++] = 0x80 | (c & 0x3f);
            continue;
          }
        }
        // A lone surrogate goes as marshal writes it ("surrogatepass").
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      }
    }
    buf[start] = T_UNICODE;
    this.#view.setUint32(start + 1, p - start - 5, true);
    this.#p = p;
  }

  /** A `bytes` of a latin-1 string's chars (one byte each: the low eight bits). */
  latin1Bytes(s: string): void {
    const n = s.length;
    this.#room(5 + n);
    const buf = this.#buf;
    buf[this.#p++] = T_BYTES;
    this.#u32(n);
    let p = this.#p;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i) & 0xff;
    this.#p = p;
  }

  /** A `bytes`. */
  rawBytes(b: Uint8Array): void {
    this.#room(5 + b.length);
    this.#buf[this.#p++] = T_BYTES;
    this.#u32(b.length);
    this.#buf.set(b, this.#p);
    this.#p += b.length;
  }
}
