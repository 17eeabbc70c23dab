/**
 * The peer's unidirectional streams (RFC 9114 §6.2): the stream type that opens each, the control
 * stream (SETTINGS first and once, then GOAWAY, MAX_PUSH_ID, CANCEL_PUSH; §6.2.1, §7.2), and
 * QPACK's encoder and decoder streams (RFC 9204 §4.2) as they must be when ferry's table
 * capacity is 0. Critical streams are never closed by a well-behaved peer: an end is
 * H3_CLOSED_CRITICAL_STREAM. Unknown stream types are to be read and ignored (§6.2.3). No I/O.
 *
 * @module
 */

import { H3, H3Error } from "./errors.ts";
import { FRAME, FrameReader, HTTP2_ONLY, onlyVarint } from "./frames.ts";
import { readVarint, varintEnd } from "./varint.ts";

/** Unidirectional stream types (§6.2, RFC 9204 §4.2). */
export const STREAM_TYPE = { CONTROL: 0x00, PUSH: 0x01, ENCODER: 0x02, DECODER: 0x03 } as const;

/** Settings identifiers (§7.2.4.1, RFC 9204 §5). */
export const SETTING = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
} as const;

/** HTTP/2's settings, reserved in HTTP/3: receiving one is H3_SETTINGS_ERROR (§7.2.4.1). */
const HTTP2_SETTINGS = new Set([0x02, 0x03, 0x04, 0x05]);

/** What the peer's streams tell the connection. */
export type ControlEvent =
  | { kind: "settings"; settings: Map<number, number> }
  | { kind: "goaway"; id: number };

/** What a unidirectional stream turned out to be. */
export type UniRole = "unknown" | "control" | "encoder" | "decoder" | "ignored";

/** Counts what a peer's streams cost, shared by all of them on one connection. */
export interface WasteMeter {
  /** Called for frames and instructions that do no work (unknown types, repeats). */
  waste(n: number): void;
}

/**
 * One of the peer's unidirectional streams, from its first byte.
 *
 * @example
 * ```ts
 * import { PeerStreams, UniStream } from "./control.ts";
 * const peer = new PeerStreams({ waste() {} });
 * const s = new UniStream(peer, 1024);
 * console.log(s.push(new Uint8Array([0x00, 0x04, 0x00])), s.role); // [{ kind: "settings", ... }] "control"
 * ```
 */
export class UniStream {
  /** What the stream is, once its type arrived. */
  role: UniRole = "unknown";
  #peer: PeerStreams;
  #typeBytes = new Uint8Array(8);
  #typeLen = 0;
  #frames: FrameReader;
  #settingsSeen = false;
  /** QPACK decoder stream: continuation octets of a Stream Cancellation's integer still to come. */
  #inInt = false;
  #intOctets = 0;

  /** A stream of `peer`'s, whose frames keep at most `maxPayload` bytes. */
  constructor(peer: PeerStreams, maxPayload: number) {
    this.#peer = peer;
    this.#frames = new FrameReader(maxPayload);
  }

  /** Reads `chunk`; returns what it found; throws {@linkcode H3Error} for a connection error. */
  push(chunk: Uint8Array): ControlEvent[] {
    let rest = chunk;
    if (this.role === "unknown") {
      const take = Math.min(8 - this.#typeLen, chunk.length);
      this.#typeBytes.set(chunk.subarray(0, take), this.#typeLen);
      const have = this.#typeLen + take;
      const type = readVarint(this.#typeBytes.subarray(0, have), 0);
      if (type === -1) {
        this.#typeLen = have;
        return [];
      }
      rest = chunk.subarray(varintEnd.pos - this.#typeLen);
      this.#typeLen = 0;
      this.role = this.#peer.open(type);
    }
    if (rest.length === 0) return [];
    switch (this.role) {
      case "control":
        return this.#control(rest);
      case "encoder":
        this.#encoder(rest);
        return [];
      case "decoder":
        this.#decoder(rest);
        return [];
      default:
        return [];
    }
  }

  /** The peer ended the stream. */
  end(): void {
    if (this.role === "control" || this.role === "encoder" || this.role === "decoder") {
      throw new H3Error(H3.CLOSED_CRITICAL_STREAM, `the peer closed its ${this.role} stream`);
    }
  }

  #control(chunk: Uint8Array): ControlEvent[] {
    const out: ControlEvent[] = [];
    for (const f of this.#frames.push(chunk)) {
      if (f.kind === "data") throw new H3Error(H3.FRAME_UNEXPECTED, "DATA on the control stream");
      if (f.kind === "skipped" && f.tooLarge) {
        throw new H3Error(H3.EXCESSIVE_LOAD, `control frame 0x${f.type.toString(16)} too large`);
      }
      if (!this.#settingsSeen && (f.kind !== "frame" || f.type !== FRAME.SETTINGS)) {
        throw new H3Error(H3.MISSING_SETTINGS, "the control stream did not begin with SETTINGS");
      }
      if (f.kind === "skipped") {
        this.#peer.meter.waste(1);
        continue;
      }
      const { type, payload } = f;
      if (type === FRAME.SETTINGS) {
        if (this.#settingsSeen) throw new H3Error(H3.FRAME_UNEXPECTED, "a second SETTINGS frame");
        this.#settingsSeen = true;
        out.push({ kind: "settings", settings: parseSettings(payload) });
      } else if (type === FRAME.GOAWAY) {
        out.push({ kind: "goaway", id: this.#peer.goaway(onlyVarint(payload, "GOAWAY")) });
      } else if (type === FRAME.MAX_PUSH_ID) {
        this.#peer.maxPushId(onlyVarint(payload, "MAX_PUSH_ID"));
      } else if (type === FRAME.CANCEL_PUSH) {
        const id = onlyVarint(payload, "CANCEL_PUSH");
        // §7.2.3: ferry never promises a push, so no push ID can be cancelled.
        throw new H3Error(H3.ID_ERROR, `CANCEL_PUSH of push ${id}, which was never promised`);
      } else if (HTTP2_ONLY.has(type)) {
        throw new H3Error(H3.FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
      } else {
        throw new H3Error(H3.FRAME_UNEXPECTED, `frame 0x${type.toString(16)} on the control stream`);
      }
    }
    return out;
  }

  /** RFC 9204 §4.3 with capacity 0: only Set Dynamic Table Capacity to 0 (0x20) is valid. */
  #encoder(chunk: Uint8Array): void {
    for (const b of chunk) {
      if (b !== 0x20) {
        throw new H3Error(H3.QPACK_ENCODER_STREAM_ERROR, "encoder instruction for a table of capacity 0");
      }
      this.#peer.meter.waste(1);
    }
  }

  /**
   * RFC 9204 §4.4: Stream Cancellation (01, 6-bit stream id) is all a decoder may send when no
   * field section referenced the table: Section Acknowledgment and Insert Count Increment are errors.
   */
  #decoder(chunk: Uint8Array): void {
    for (const b of chunk) {
      if (this.#inInt) {
        if (++this.#intOctets > 5) throw new H3Error(H3.QPACK_DECODER_STREAM_ERROR, "integer too large");
        if ((b & 0x80) === 0) this.#inInt = false;
        continue;
      }
      if ((b & 0xc0) !== 0x40) {
        throw new H3Error(
          H3.QPACK_DECODER_STREAM_ERROR,
          (b & 0x80) !== 0 ? "Section Acknowledgment of a section that needs none" : "Insert Count Increment",
        );
      }
      this.#peer.meter.waste(1);
      if ((b & 0x3f) === 0x3f) {
        this.#inInt = true;
        this.#intOctets = 0;
      }
    }
  }
}

/** The critical streams a peer has opened, its GOAWAY and MAX_PUSH_ID: one per connection. */
export class PeerStreams {
  /** The connection's waste meter. */
  readonly meter: WasteMeter;
  #open = new Set<UniRole>();
  #goaway = -1;
  #maxPushId = -1;

  /** State for one connection, counting waste on `meter`. */
  constructor(meter: WasteMeter) {
    this.meter = meter;
  }

  /** A stream of `type` opened: its role; a second critical stream or a push stream is an error. */
  open(type: number): UniRole {
    const role: UniRole = type === STREAM_TYPE.CONTROL
      ? "control"
      : type === STREAM_TYPE.ENCODER
      ? "encoder"
      : type === STREAM_TYPE.DECODER
      ? "decoder"
      : "ignored";
    if (type === STREAM_TYPE.PUSH) {
      throw new H3Error(H3.STREAM_CREATION_ERROR, "a client opened a push stream");
    }
    if (role === "ignored") {
      this.meter.waste(1);
      return role;
    }
    if (this.#open.has(role)) throw new H3Error(H3.STREAM_CREATION_ERROR, `a second ${role} stream`);
    this.#open.add(role);
    return role;
  }

  /** The client's GOAWAY (a push ID, §5.2): it may only shrink. */
  goaway(id: number): number {
    if (this.#goaway !== -1 && id > this.#goaway) {
      throw new H3Error(H3.ID_ERROR, "GOAWAY with a larger id than the one before");
    }
    if (this.#goaway !== -1) this.meter.waste(1);
    this.#goaway = id;
    return id;
  }

  /** MAX_PUSH_ID (§7.2.7): it may only grow. ferry never pushes; it is only checked. */
  maxPushId(id: number): void {
    if (id < this.#maxPushId) throw new H3Error(H3.ID_ERROR, "MAX_PUSH_ID reduced");
    this.meter.waste(1);
    this.#maxPushId = id;
  }
}

/** A SETTINGS payload (§7.2.4): identifier/value varint pairs, none twice, none of HTTP/2's. */
function parseSettings(payload: Uint8Array): Map<number, number> {
  const settings = new Map<number, number>();
  let pos = 0;
  while (pos < payload.length) {
    const id = readVarint(payload, pos);
    const value = id < 0 ? id : readVarint(payload, varintEnd.pos);
    if (id < 0 || value < 0) throw new H3Error(H3.FRAME_ERROR, "malformed SETTINGS frame");
    pos = varintEnd.pos;
    if (HTTP2_SETTINGS.has(id)) throw new H3Error(H3.SETTINGS_ERROR, `HTTP/2 setting 0x${id.toString(16)}`);
    if (settings.has(id)) throw new H3Error(H3.SETTINGS_ERROR, `setting 0x${id.toString(16)} twice`);
    settings.set(id, value);
  }
  return settings;
}
