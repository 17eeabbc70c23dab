/**
 * HTTP/2 frames (RFC 9113 §4, §6): the types and flags, a reader that yields whole frames from
 * bytes arriving in any pieces, and helpers that append frames to a connection's output.
 *
 * @module
 */

import type { Output } from "../net/output.ts";
import { ConnectionError, ERROR } from "./errors.ts";

/** Frame types (§6). */
export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (§6). */
export const FLAG = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** The client connection preface (§3.4). */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Length of a frame header. */
export const FRAME_HEADER_BYTES = 9;

/** The read buffer of a connection between bursts (it grows for larger frames and shrinks back). */
const IDLE_BUFFER_BYTES = 1024;

/** One frame as read. Its payload is valid only until the reader is given more bytes. */
export interface Frame {
  /** Frame type. */
  type: number;
  /** Flags. */
  flags: number;
  /** Stream id (the reserved bit cleared). */
  streamId: number;
  /** Payload. */
  payload: Uint8Array;
}

/**
 * Yields whole frames from bytes that arrive in any pieces. Bytes are read straight into its
 * buffer ({@linkcode FrameReader.room}, then {@linkcode FrameReader.commit}); a frame longer than
 * the maximum frame size is a FRAME_SIZE_ERROR before its payload is buffered.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./frames.ts";
 * const r = new FrameReader(16384);
 * r.push(new Uint8Array([0, 0, 0, 4, 1, 0, 0, 0, 0])); // SETTINGS ACK
 * console.log(r.next()?.type); // 4
 * ```
 */
export class FrameReader {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  /** Set by {@linkcode FrameReader.shrink}: the next {@linkcode FrameReader.room} drops a grown buffer. */
  #shrinkWanted = false;
  /** SETTINGS_MAX_FRAME_SIZE as this side announced it. */
  maxFrameSize: number;
  readonly #frame: Frame = { type: 0, flags: 0, streamId: 0, payload: new Uint8Array(0) };

  /** A reader accepting frames of up to `maxFrameSize` payload octets. */
  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
    this.#buf = new Uint8Array(IDLE_BUFFER_BYTES);
  }

  /** Bytes buffered and not yet taken as frames. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * A place to read at least `min` more bytes into (by default 4 KiB, or 1 KiB when nothing is
   * buffered: an idle connection waits on a small buffer, as HTTP/1.1's does). The buffer it
   * returns stays this reader's until the read into it is committed: only here, between reads, is
   * it ever replaced.
   */
  room(min?: number): Uint8Array {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#shrinkWanted && this.#buf.length > IDLE_BUFFER_BYTES) {
        this.#buf = new Uint8Array(IDLE_BUFFER_BYTES);
      }
      min ??= IDLE_BUFFER_BYTES;
    }
    min ??= 4096;
    this.#shrinkWanted = false;
    if (this.#buf.length - this.#end < min) {
      const live = this.#end - this.#start;
      const size = Math.max(this.#buf.length, live + min);
      if (size > this.#buf.length) {
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(this.#start, this.#end), 0);
        this.#buf = next;
      } else this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = live;
    }
    return this.#buf.subarray(this.#end);
  }

  /** Takes `n` bytes just read into {@linkcode FrameReader.room}. */
  commit(n: number): void {
    this.#end += n;
  }

  /** Copies `bytes` in (tests, and bytes read ahead by a sniffer). */
  push(bytes: Uint8Array): void {
    this.room(bytes.length).set(bytes);
    this.commit(bytes.length);
  }

  /** Takes `n` raw bytes if they are all here (the preface), else null. */
  take(n: number): Uint8Array | null {
    if (this.#end - this.#start < n) return null;
    const out = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** The next whole frame, or null until more bytes arrive. The object is reused. */
  next(): Frame | null {
    const b = this.#buf;
    const s = this.#start;
    if (this.#end - s < FRAME_HEADER_BYTES) return null;
    const length = (b[s] << 16) | (b[s + 1] << 8) | b[s + 2];
    if (length > this.maxFrameSize) {
      throw new ConnectionError(
        ERROR.FRAME_SIZE_ERROR,
        `frame of ${length} octets over ${this.maxFrameSize}`,
      );
    }
    if (this.#end - s < FRAME_HEADER_BYTES + length) return null;
    const f = this.#frame;
    f.type = b[s + 3];
    f.flags = b[s + 4];
    f.streamId = ((b[s + 5] & 0x7f) << 24 | (b[s + 6] << 16) | (b[s + 7] << 8) | b[s + 8]) >>> 0;
    f.payload = b.subarray(s + FRAME_HEADER_BYTES, s + FRAME_HEADER_BYTES + length);
    this.#start = s + FRAME_HEADER_BYTES + length;
    return f;
  }

  /**
   * Asks for a small buffer again (an idle connection should hold little). The buffer is not
   * replaced here: a socket read into it may be pending (the connection goes idle when a handler
   * ends, while its read loop waits), and bytes read into a dropped buffer would be lost. The next
   * {@linkcode FrameReader.room} makes the change, if nothing is buffered by then.
   */
  shrink(): void {
    this.#shrinkWanted = true;
  }
}

/** Appends a frame header. */
export function writeFrameHeader(
  out: Output,
  length: number,
  type: number,
  flags: number,
  stream: number,
): void {
  const b = out.reserve(FRAME_HEADER_BYTES + length);
  let p = out.length;
  b[p++] = length >>> 16;
  b[p++] = (length >>> 8) & 0xff;
  b[p++] = length & 0xff;
  b[p++] = type;
  b[p++] = flags;
  b[p++] = (stream >>> 24) & 0x7f;
  b[p++] = (stream >>> 16) & 0xff;
  b[p++] = (stream >>> 8) & 0xff;
  b[p++] = stream & 0xff;
  out.length = p;
}

/** Appends a frame with `payload`. */
export function writeFrame(
  out: Output,
  type: number,
  flags: number,
  stream: number,
  payload?: Uint8Array,
): void {
  writeFrameHeader(out, payload?.length ?? 0, type, flags, stream);
  if (payload !== undefined && payload.length > 0) out.append(payload);
}

/** Appends a frame whose payload is 32-bit words. */
function writeWords(out: Output, type: number, flags: number, stream: number, words: number[]): void {
  writeFrameHeader(out, words.length * 4, type, flags, stream);
  const b = out.reserve(words.length * 4);
  let p = out.length;
  for (const w of words) {
    b[p++] = w >>> 24;
    b[p++] = (w >>> 16) & 0xff;
    b[p++] = (w >>> 8) & 0xff;
    b[p++] = w & 0xff;
  }
  out.length = p;
}

/** Appends RST_STREAM (§6.4). */
export function writeRst(out: Output, stream: number, code: number): void {
  writeWords(out, FRAME.RST_STREAM, 0, stream, [code]);
}

/** Appends WINDOW_UPDATE (§6.9). */
export function writeWindowUpdate(out: Output, stream: number, increment: number): void {
  writeWords(out, FRAME.WINDOW_UPDATE, 0, stream, [increment]);
}

/** Appends GOAWAY (§6.8) with the last stream id, the code and a reason. */
export function writeGoaway(out: Output, lastStream: number, code: number, reason: string): void {
  const debug = new TextEncoder().encode(reason.slice(0, 256));
  writeWords(out, FRAME.GOAWAY, 0, 0, [lastStream, code]);
  // The header said 8 octets: rewrite the length to include the debug data.
  const b = out.reserve(debug.length);
  const at = out.length - 17;
  const length = 8 + debug.length;
  b[at] = length >>> 16;
  b[at + 1] = (length >>> 8) & 0xff;
  b[at + 2] = length & 0xff;
  out.append(debug);
}

/** Appends SETTINGS (§6.5) with `[id, value]` pairs. */
export function writeSettings(out: Output, settings: Array<[number, number]>): void {
  writeFrameHeader(out, settings.length * 6, FRAME.SETTINGS, 0, 0);
  const b = out.reserve(settings.length * 6);
  let p = out.length;
  for (const [id, v] of settings) {
    b[p++] = id >>> 8;
    b[p++] = id & 0xff;
    b[p++] = v >>> 24;
    b[p++] = (v >>> 16) & 0xff;
    b[p++] = (v >>> 8) & 0xff;
    b[p++] = v & 0xff;
  }
  out.length = p;
}

/** Reads a 32-bit big-endian word at `at`. */
export function word(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
