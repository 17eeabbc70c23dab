/**
 * The framing between ferry and its Python workers (the other side is `worker.py` for WSGI and
 * `asgi_worker.py` for ASGI). Every frame is a 9-byte header, type (u8), stream id (u32) and
 * payload length (u32), big-endian, then the payload. The stream id names the request: a threaded
 * WSGI worker or an ASGI worker has many streams open at once.
 *
 * @module
 */

/** Frame types, both ways. */
export const FRAME = {
  /** ferry → worker: a request (credit, the marshalled environ or ASGI scope, inline body). */
  Request: 1,
  /** ferry → worker (ASGI): more request body (u8 1: more follows, 0: the end; then the bytes). */
  Body: 2,
  /** ferry → worker: more response bytes may be sent (u32). */
  Credit: 4,
  /** ferry → worker: stop this request (no payload or u8 0: the client went away; u8 1: timed out). */
  Cancel: 5,
  /** ferry → worker (ASGI): a WebSocket message from the client (u8 1 text, 0 binary; the bytes). */
  WsMessage: 6,
  /** ferry → worker (ASGI): the WebSocket closed (u16 code). */
  WsClosed: 7,
  /** worker → ferry: status and headers. */
  Head: 10,
  /** worker → ferry: response body bytes. */
  Data: 11,
  /** worker → ferry: the response is complete (close() has run); with `--wsgi-max-rss`, the
   * worker's resident memory (u32 KiB). */
  End: 12,
  /** worker → ferry: the app raised (u8: 0 before the head, 1 after), then the traceback. */
  Error: 13,
  /**
   * worker → ferry: a line written to wsgi.errors; on stream 0 (ASGI), an error the app raised
   * after its response was complete (the request id, NUL, the traceback).
   */
  Log: 14,
  /** worker → ferry (ASGI): the app took this many request body bytes (u32). */
  BodyAck: 15,
  /** worker → ferry (ASGI): response trailers (header pairs as in HEAD, no status). */
  Trailers: 16,
  /** worker → ferry (ASGI): websocket.accept (the subprotocol, then header pairs, as in HEAD). */
  WsAccept: 17,
  /** worker → ferry (ASGI): websocket.send (u8 1 text, 0 binary; the bytes). */
  WsSend: 18,
  /** worker → ferry (ASGI): websocket.close (u16 code, the reason as UTF-8). */
  WsClose: 19,
  /** worker → ferry: the token and the pid, first thing. */
  Hello: 20,
  /** worker → ferry: the app imported. */
  Ready: 21,
  /** worker → ferry: the app did not import (the traceback). */
  ImportError: 22,
  /** worker → ferry (ASGI): the app's lifespan startup failed (its message). */
  StartupFailed: 23,
  /**
   * worker → ferry: a whole response in one frame, as HEAD, DATA and an END without payload would
   * say it (u32: the HEAD payload's size, the HEAD payload, then the body).
   */
  Response: 24,
  /** Never on the wire: ferry's own note on a stream that its clock ran out. */
  LocalTimeout: 255,
} as const;

/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 9;
/** Largest payload accepted from a worker (a HEAD or a DATA frame is far smaller). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** One frame. */
export interface Frame {
  /** A {@linkcode FRAME} value. */
  type: number;
  /** The request it belongs to (0 for the worker's own frames). */
  stream: number;
  /** The payload. */
  payload: Uint8Array;
}

/**
 * A frame's bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame, FRAME } from "./frames.ts";
 * console.log(encodeFrame(FRAME.Cancel, 7).length); // 9
 * ```
 */
export function encodeFrame(type: number, stream: number, payload?: Uint8Array): Uint8Array {
  const n = payload?.length ?? 0;
  const out = new Uint8Array(FRAME_HEADER_BYTES + n);
  const v = new DataView(out.buffer);
  v.setUint8(0, type);
  v.setUint32(1, stream);
  v.setUint32(5, n);
  if (payload !== undefined) out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** The payload of a CREDIT frame granting `bytes`. */
export function creditPayload(bytes: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, bytes);
  return out;
}

/**
 * A REQUEST frame: the initial credit (u32), the size of `marshalled` (u32), `marshalled` (the
 * environ, or the ASGI scope with the request id and flags, in Python's marshal format: see
 * `marshal.ts`), then the body when it travels inline.
 *
 * @example
 * ```ts
 * import { FRAME_HEADER_BYTES, requestFrame } from "./frames.ts";
 * const f = requestFrame(1, 65536, new Uint8Array([0x4e]), undefined); // marshal's None
 * console.log(f.length === FRAME_HEADER_BYTES + 9); // true
 * ```
 */
export function requestFrame(
  stream: number,
  credit: number,
  marshalled: Uint8Array,
  body: Uint8Array | undefined,
): Uint8Array {
  const bodyBytes = body?.length ?? 0;
  const size = marshalled.length;
  const out = new Uint8Array(FRAME_HEADER_BYTES + 8 + size + bodyBytes);
  const v = new DataView(out.buffer);
  v.setUint8(0, FRAME.Request);
  v.setUint32(1, stream);
  v.setUint32(5, 8 + size + bodyBytes);
  v.setUint32(FRAME_HEADER_BYTES, credit);
  v.setUint32(FRAME_HEADER_BYTES + 4, size);
  out.set(marshalled, FRAME_HEADER_BYTES + 8);
  if (body !== undefined) out.set(body, FRAME_HEADER_BYTES + 8 + size);
  return out;
}

/** Reads frames out of a growing byte buffer (the worker's socket). */
export class FrameReader {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  /**
   * A copy of the whole frames that had arrived when the first of them was taken: the payloads
   * handed out are views into it (one copy per read, not one per frame), and outlive this buffer's
   * next compaction.
   */
  #batch = new Uint8Array(0);
  /** Where in the buffer the batch's copy begins and ends. */
  #batchFrom = 0;
  #batchTo = 0;

  /** Where the next read should land (grown or compacted as needed). */
  space(): Uint8Array {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#buf.length - this.#end < 16 * 1024) {
      const live = this.#end - this.#start;
      const need = live + 64 * 1024;
      const next = need > this.#buf.length ? new Uint8Array(Math.max(need, this.#buf.length * 2)) : this.#buf;
      next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    this.#batchFrom = this.#batchTo = 0; // what is left of the batch is past #start: never read again
    return this.#buf.subarray(this.#end);
  }

  /** Counts `n` bytes just read into {@linkcode FrameReader.space}. */
  added(n: number): void {
    this.#end += n;
  }

  /** The next whole frame, or undefined until more bytes arrive; throws on a frame too large. */
  next(): Frame | undefined {
    const avail = this.#end - this.#start;
    if (avail < FRAME_HEADER_BYTES) return undefined;
    const b = this.#buf;
    const at = this.#start;
    // Read by hand: a DataView per frame costs more than the frame's own work.
    const length = ((b[at + 5] << 24) | (b[at + 6] << 16) | (b[at + 7] << 8) | b[at + 8]) >>> 0;
    if (length > MAX_FRAME_BYTES) throw new RangeError(`worker sent a frame of ${length} bytes`);
    if (avail < FRAME_HEADER_BYTES + length) return undefined;
    const type = b[at];
    const stream = ((b[at + 1] << 24) | (b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4]) >>> 0;
    const from = at + FRAME_HEADER_BYTES;
    const to = from + length;
    this.#start = to;
    if (to > this.#batchTo) this.#copyBatch(at);
    return { type, stream, payload: this.#batch.subarray(from - this.#batchFrom, to - this.#batchFrom) };
  }

  /** Copies the whole frames from `at` (the first of them whole) into a batch of their own. */
  #copyBatch(at: number): void {
    const b = this.#buf;
    let to = at;
    while (this.#end - to >= FRAME_HEADER_BYTES) {
      const length = ((b[to + 5] << 24) | (b[to + 6] << 16) | (b[to + 7] << 8) | b[to + 8]) >>> 0;
      if (length > MAX_FRAME_BYTES || this.#end - to < FRAME_HEADER_BYTES + length) break;
      to += FRAME_HEADER_BYTES + length;
    }
    this.#batch = b.slice(at, to);
    this.#batchFrom = at;
    this.#batchTo = to;
  }
}

/**
 * The HEAD payload and the body of a RESPONSE frame (views); throws when the sizes do not fit.
 *
 * @example
 * ```ts
 * import { responseParts } from "./frames.ts";
 * const { head, body } = responseParts(new Uint8Array([0, 0, 0, 1, 7, 8, 9]));
 * console.log(head.length, body.length); // 1 2
 * ```
 */
export function responseParts(payload: Uint8Array): { head: Uint8Array; body: Uint8Array } {
  if (payload.length < 4) throw new RangeError("RESPONSE frame is truncated");
  const n = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
  if (4 + n > payload.length) throw new RangeError("RESPONSE frame's head is longer than the frame");
  return { head: payload.subarray(4, 4 + n), body: payload.subarray(4 + n) };
}

const ascii = new TextDecoder();

/** Decodes latin-1 bytes as a string, one char a byte. */
export function latin1Text(bytes: Uint8Array, from = 0, to = bytes.length): string {
  let plain = true;
  for (let i = from; i < to; i++) {
    if (bytes[i] > 0x7f) {
      plain = false;
      break;
    }
  }
  // ASCII is the same in latin-1 and UTF-8, and the native decoder is the fast one.
  if (plain) return ascii.decode(bytes.subarray(from, to));
  let s = "";
  for (let i = from; i < to; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(to, i + 8192)));
  }
  return s;
}

/**
 * The status line and header pairs of a HEAD frame (also of WS_ACCEPT, whose "status" is the
 * subprotocol). TRAILERS frames have no status: `withStatus` false.
 */
export function decodeHead(
  payload: Uint8Array,
  withStatus = true,
): { status: string; headers: Array<[string, string]> } {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let p = 0;
  const str = () => {
    const n = v.getUint32(p);
    p += 4;
    if (p + n > payload.length) throw new RangeError("HEAD frame is truncated");
    const s = latin1Text(payload, p, p + n);
    p += n;
    return s;
  };
  const status = withStatus ? str() : "";
  const count = v.getUint32(p);
  p += 4;
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) headers.push([str(), str()]);
  return { status, headers };
}
