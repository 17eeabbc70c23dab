/**
 * A connection's read buffer: `buf[start..end)` holds what was received and not yet consumed. It
 * starts small (1 KiB: an idle keep-alive connection stays cheap), is compacted before it grows,
 * grows by doubling up to a bound (the largest head allowed), and shrinks back when the connection
 * goes idle. The connection keeps the fields (bodies read them as a `ByteSource`); this module
 * keeps the rules.
 *
 * @module
 */

/** The fields of a read buffer. */
export interface ReadBuffer {
  /** The bytes. */
  buf: Uint8Array;
  /** First unconsumed byte. */
  start: number;
  /** One past the last received byte. */
  end: number;
}

/**
 * Initial read buffer (nginx's `client_header_buffer_size` is 1k too): most heads fit, an idle
 * connection stays cheap, and a larger head grows it.
 */
export const READ_BUFFER_BYTES = 1024;

/**
 * Makes room at the end of `b` for the next read: rewinds an empty buffer, compacts a full one,
 * or grows it (doubling, at most to `maxBytes`) when the unconsumed bytes fill it. Throws when it
 * cannot grow further (the parser refuses the head before that).
 *
 * @example
 * ```ts
 * import { roomToRead } from "./read_buffer.ts";
 * const b = { buf: new Uint8Array(4), start: 2, end: 4 };
 * roomToRead(b, 16);
 * console.log(b.start, b.end); // 0 2
 * ```
 */
export function roomToRead(b: ReadBuffer, maxBytes: number): void {
  if (b.start === b.end) {
    b.start = 0;
    b.end = 0;
  } else if (b.end === b.buf.length) {
    if (b.start > 0) {
      b.buf.copyWithin(0, b.start, b.end);
      b.end -= b.start;
      b.start = 0;
    } else {
      const size = Math.min(b.buf.length * 2, maxBytes);
      if (size <= b.buf.length) throw new Error("read buffer cannot grow further");
      const grown = new Uint8Array(size);
      grown.set(b.buf.subarray(0, b.end));
      b.buf = grown;
    }
  }
}

/**
 * Most an idle connection keeps of a buffer its heads grew: a client whose heads needed more than
 * 1 KiB (cookies) keeps up to this much, so its next request is not read in growing pieces again.
 */
export const IDLE_KEEP_BYTES = 4096;

/**
 * Empties `b` between requests. A buffer grown past {@linkcode IDLE_KEEP_BYTES} goes back to that
 * size; one that never grew stays at 1 KiB.
 */
export function idleReadBuffer(b: ReadBuffer): void {
  if (b.buf.length > IDLE_KEEP_BYTES) b.buf = new Uint8Array(IDLE_KEEP_BYTES);
  b.start = 0;
  b.end = 0;
}
