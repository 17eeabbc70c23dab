/**
 * HTTP/3 frames (RFC 9114 §7): their types, a reader that takes a stream's bytes in pieces of any
 * size and gives frames back, and the writers of the frames ferry sends. The reader buffers only
 * what it must (a frame it will parse, up to a bound it is given); DATA payloads come out as they
 * arrive, and unknown or oversized frames are skipped without being kept. No I/O.
 *
 * @module
 */

import { readVarint, varintEnd, varintLength, writeVarint } from "./varint.ts";
import { H3, H3Error } from "./errors.ts";

/** Frame types (§7.2, §11.2.1). */
export const FRAME = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

/** HTTP/2's frame types that HTTP/3 reserves: receiving one is H3_FRAME_UNEXPECTED (§7.2.8). */
export const HTTP2_ONLY: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

/** Frame types the reader parses whole (all but DATA, and unknown ones, which it skips). */
const KNOWN = new Set<number>([
  FRAME.HEADERS,
  FRAME.CANCEL_PUSH,
  FRAME.SETTINGS,
  FRAME.PUSH_PROMISE,
  FRAME.GOAWAY,
  FRAME.MAX_PUSH_ID,
  ...HTTP2_ONLY,
]);

/** One thing the reader found. */
export type FrameEvent =
  /** A whole frame other than DATA, its payload a copy the caller may keep. */
  | { kind: "frame"; type: number; payload: Uint8Array }
  /** Payload bytes of a DATA frame (a view into the piece given to `push`: copy to keep). */
  | { kind: "data"; bytes: Uint8Array }
  /** A frame not kept: an unknown or reserved type, or a known one over the reader's bound. */
  | { kind: "skipped"; type: number; length: number; tooLarge: boolean };

/**
 * Reads frames from a stream's bytes, given in pieces.
 *
 * @example
 * ```ts
 * import { FrameReader } from "./frames.ts";
 * const r = new FrameReader(1024);
 * console.log(r.push(new Uint8Array([0x00, 0x02, 0x68, 0x69, 0x01]))); // DATA "hi", then HEADERS begins
 * console.log(r.midFrame); // true
 * ```
 */
export class FrameReader {
  /** The largest payload kept of a frame type the reader parses (larger ones are skipped). */
  maxPayload: number;
  #head = new Uint8Array(16);
  #headLen = 0;
  /** The frame being read: its type, and how much of its payload is still to come. */
  #type = -1;
  #remaining = 0;
  /** The payload being assembled (known types within the bound), or undefined when skipping. */
  #payload: Uint8Array | undefined;
  #filled = 0;
  #length = 0;
  #skipping = false;

  /** A reader that keeps payloads up to `maxPayload` bytes. */
  constructor(maxPayload: number) {
    this.maxPayload = maxPayload;
  }

  /** Whether the bytes so far end inside a frame (a stream ending now is H3_FRAME_ERROR, §7.1). */
  get midFrame(): boolean {
    return this.#headLen > 0 || this.#type !== -1;
  }

  /** Reads `chunk`; returns what it completed. Throws {@linkcode H3Error} for a bad frame header. */
  push(chunk: Uint8Array): FrameEvent[] {
    const out: FrameEvent[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#type === -1) {
        pos = this.#readHead(chunk, pos, out);
        continue;
      }
      const n = Math.min(this.#remaining, chunk.length - pos);
      const piece = chunk.subarray(pos, pos + n);
      pos += n;
      this.#remaining -= n;
      if (this.#type === FRAME.DATA) {
        if (n > 0) out.push({ kind: "data", bytes: piece });
      } else if (this.#payload !== undefined) {
        this.#payload.set(piece, this.#filled);
        this.#filled += n;
      }
      if (this.#remaining === 0) this.#finish(out);
    }
    return out;
  }

  /** Reads a frame's type and length, which may arrive split. */
  #readHead(chunk: Uint8Array, pos: number, out: FrameEvent[]): number {
    // Gather up to 16 octets (two varints of at most 8) and try to read both.
    const take = Math.min(16 - this.#headLen, chunk.length - pos);
    this.#head.set(chunk.subarray(pos, pos + take), this.#headLen);
    const have = this.#headLen + take;
    const buf = this.#head.subarray(0, have);
    const type = readVarint(buf, 0);
    const length = type < 0 ? type : readVarint(buf, varintEnd.pos);
    if (length === -1) {
      this.#headLen = have;
      return pos + take;
    }
    const used = varintEnd.pos - this.#headLen;
    this.#headLen = 0;
    this.#type = type;
    this.#remaining = length;
    this.#length = length;
    this.#filled = 0;
    this.#payload = undefined;
    this.#skipping = false;
    if (type !== FRAME.DATA) {
      if (!KNOWN.has(type) || length > this.maxPayload) this.#skipping = true;
      else this.#payload = new Uint8Array(length);
    }
    if (length === 0) this.#finish(out);
    return pos + used;
  }

  #finish(out: FrameEvent[]): void {
    const type = this.#type;
    this.#type = -1;
    if (type === FRAME.DATA) {
      // An empty DATA frame still counts (a flood of them is bounded by the session).
      if (this.#length === 0) out.push({ kind: "data", bytes: EMPTY });
    } else if (this.#skipping) {
      out.push({ kind: "skipped", type, length: this.#length, tooLarge: KNOWN.has(type) });
    } else out.push({ kind: "frame", type, payload: this.#payload ?? EMPTY });
    this.#payload = undefined;
    this.#skipping = false;
  }
}

const EMPTY = new Uint8Array(0);

/** A frame's header (type and length) as bytes. */
export function frameHead(type: number, length: number): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(length));
  writeVarint(out, writeVarint(out, 0, type), length);
  return out;
}

/**
 * A whole frame: header then payload.
 *
 * @example
 * ```ts
 * import { FRAME, frame } from "./frames.ts";
 * console.log(frame(FRAME.DATA, new Uint8Array([0x68, 0x69]))); // [0, 2, 0x68, 0x69]
 * ```
 */
export function frame(type: number, payload: Uint8Array): Uint8Array {
  const tl = varintLength(type);
  const ll = varintLength(payload.length);
  const out = new Uint8Array(tl + ll + payload.length);
  writeVarint(out, writeVarint(out, 0, type), payload.length);
  out.set(payload, tl + ll);
  return out;
}

/** A SETTINGS frame (§7.2.4) with `settings` as identifier/value pairs. */
export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const body = new Uint8Array(settings.length * 16);
  let at = 0;
  for (const [id, value] of settings) at = writeVarint(body, writeVarint(body, at, id), value);
  return frame(FRAME.SETTINGS, body.subarray(0, at));
}

/** A frame whose payload is one varint (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH). */
export function varintFrame(type: number, value: number): Uint8Array {
  const body = new Uint8Array(8);
  return frame(type, body.subarray(0, writeVarint(body, 0, value)));
}

/**
 * The single varint a GOAWAY, MAX_PUSH_ID or CANCEL_PUSH payload must be; anything else is
 * H3_FRAME_ERROR (§7.1: a frame whose payload is not exactly its fields).
 */
export function onlyVarint(payload: Uint8Array, what: string): number {
  const v = readVarint(payload, 0);
  if (v < 0 || varintEnd.pos !== payload.length) throw new H3Error(H3.FRAME_ERROR, `malformed ${what} frame`);
  return v;
}
