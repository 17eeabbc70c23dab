/**
 * The WebSocket frame reader (RFC 6455 §5.2): a resumable state machine fed whatever the socket
 * delivered, which hands its sink each frame's header, its payload unmasked piece by piece as
 * it arrives, and its end. Every malformed frame and every out-of-order frame is a
 * {@linkcode WsProtocolError} with the close code it calls for: unmasked client frames, reserved
 * bits, unknown opcodes, fragmented or oversized control frames, a continuation with no message
 * to continue, a new message inside a fragmented one, lengths not in their shortest form, and
 * frames larger than the limit (1009).
 *
 * @module
 */

import { CLOSE, OPCODE, WsProtocolError } from "./protocol.ts";

/** What the parser reports to. */
export interface FrameSink {
  /**
   * A frame header: `fin`, `compressed` (RSV1, on the first frame of a message only), the
   * opcode and the payload length.
   */
  frameStart(fin: boolean, compressed: boolean, opcode: number, length: number): void;
  /** Some of the current frame's payload, unmasked: a view valid only during the call. */
  payload(bytes: Uint8Array): void;
  /** The current frame is complete. */
  frameEnd(): void;
}

/** Limits and negotiated facts the parser checks against. */
export interface FrameParserOptions {
  /** Largest payload of one frame. */
  maxFramePayload: number;
  /** Whether RSV1 may be set (permessage-deflate was negotiated). */
  allowCompressed: boolean;
}

const S_HEAD = 0; // collecting the 2–14 header bytes
const S_PAYLOAD = 1; // reading the payload

/**
 * Parses client frames.
 *
 * @example
 * ```ts ignore
 * const p = new FrameParser(sink, { maxFramePayload: 1 << 20, allowCompressed: false });
 * p.push(bytes, 0, bytes.length);
 * ```
 */
export class FrameParser {
  #sink: FrameSink;
  #max: number;
  #allowCompressed: boolean;
  #state = S_HEAD;
  #head = new Uint8Array(14);
  #have = 0;
  #need = 2;
  #mask = new Uint8Array(4);
  #maskAt = 0;
  #remaining = 0;
  /** A fragmented data message is open (its first frame had FIN clear). */
  #inMessage = false;

  /** A parser reporting to `sink`. */
  constructor(sink: FrameSink, options: FrameParserOptions) {
    this.#sink = sink;
    this.#max = options.maxFramePayload;
    this.#allowCompressed = options.allowCompressed;
  }

  /** Whether the parser is between frames (nothing of a frame consumed). */
  get atFrameBoundary(): boolean {
    return this.#state === S_HEAD && this.#have === 0;
  }

  /**
   * Consumes `buf[start..end)`, unmasking payload bytes in place. Throws a
   * {@linkcode WsProtocolError} at the first violation.
   */
  push(buf: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end) {
      if (this.#state === S_HEAD) {
        const head = this.#head;
        while (this.#have < this.#need && p < end) head[this.#have++] = buf[p++];
        if (this.#have < this.#need) return;
        if (this.#need === 2) {
          this.#need = this.#checkFirstTwo();
          if (this.#have < this.#need) continue;
        }
        this.#startFrame();
        if (this.#remaining === 0) this.#endFrame();
        continue;
      }
      const n = Math.min(end - p, this.#remaining);
      const mask = this.#mask;
      let m = this.#maskAt;
      for (let i = p; i < p + n; i++) {
        buf[i] ^= mask[m];
        m = (m + 1) & 3;
      }
      this.#maskAt = m;
      this.#remaining -= n;
      this.#sink.payload(buf.subarray(p, p + n));
      p += n;
      if (this.#remaining === 0) this.#endFrame();
    }
  }

  /** Checks the first two header bytes; returns the whole header's length. */
  #checkFirstTwo(): number {
    const b0 = this.#head[0];
    const b1 = this.#head[1];
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    if ((b0 & 0x30) !== 0) throw new WsProtocolError(CLOSE.protocolError, "reserved bits RSV2/RSV3 set");
    if (opcode >= 0x8) {
      if (opcode > OPCODE.pong) throw new WsProtocolError(CLOSE.protocolError, `unknown opcode ${opcode}`);
      if (!fin) throw new WsProtocolError(CLOSE.protocolError, "fragmented control frame");
      if (len7 > 125) throw new WsProtocolError(CLOSE.protocolError, "control frame payload over 125 bytes");
      if (rsv1) throw new WsProtocolError(CLOSE.protocolError, "RSV1 set on a control frame");
    } else if (opcode > OPCODE.binary) {
      throw new WsProtocolError(CLOSE.protocolError, `unknown opcode ${opcode}`);
    } else if (opcode === OPCODE.continuation) {
      if (!this.#inMessage) {
        throw new WsProtocolError(CLOSE.protocolError, "continuation frame with no message");
      }
      if (rsv1) throw new WsProtocolError(CLOSE.protocolError, "RSV1 set on a continuation frame");
    } else {
      if (this.#inMessage) {
        throw new WsProtocolError(CLOSE.protocolError, "new message inside a fragmented message");
      }
      if (rsv1 && !this.#allowCompressed) {
        throw new WsProtocolError(CLOSE.protocolError, "RSV1 set without permessage-deflate");
      }
    }
    if ((b1 & 0x80) === 0) throw new WsProtocolError(CLOSE.protocolError, "unmasked client frame");
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
  }

  /** The header is whole: reads the length and the mask, tells the sink. */
  #startFrame(): void {
    const head = this.#head;
    const b0 = head[0];
    const len7 = head[1] & 0x7f;
    let length = len7;
    let at = 2;
    if (len7 === 126) {
      length = (head[2] << 8) | head[3];
      at = 4;
      if (length < 126) throw new WsProtocolError(CLOSE.protocolError, "length not in its shortest form");
    } else if (len7 === 127) {
      if (head[2] & 0x80) {
        throw new WsProtocolError(CLOSE.protocolError, "64-bit length with its top bit set");
      }
      const high = ((head[2] << 24) >>> 0) + (head[3] << 16) + (head[4] << 8) + head[5];
      const low = ((head[6] << 24) >>> 0) + (head[7] << 16) + (head[8] << 8) + head[9];
      length = high * 2 ** 32 + low;
      at = 10;
      if (length < 65536) throw new WsProtocolError(CLOSE.protocolError, "length not in its shortest form");
    }
    if (length > this.#max) {
      throw new WsProtocolError(CLOSE.tooBig, `frame of ${length} bytes is over the limit of ${this.#max}`);
    }
    const mask = this.#mask;
    mask[0] = head[at];
    mask[1] = head[at + 1];
    mask[2] = head[at + 2];
    mask[3] = head[at + 3];
    this.#maskAt = 0;
    this.#remaining = length;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (opcode < 0x8) this.#inMessage = !fin;
    this.#state = S_PAYLOAD;
    this.#sink.frameStart(fin, (b0 & 0x40) !== 0, opcode, length);
  }

  #endFrame(): void {
    this.#state = S_HEAD;
    this.#have = 0;
    this.#need = 2;
    this.#sink.frameEnd();
  }
}
