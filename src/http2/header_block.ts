/**
 * Header blocks (RFC 9113 §4.3, §6.2, §6.10): a HEADERS frame and its CONTINUATION frames
 * assembled into one block and decoded, with the block bounded before it is buffered (the
 * CONTINUATION flood, CVE-2024-27316: too many octets, or too many frames); and a block written
 * as HEADERS and CONTINUATION frames of the peer's size.
 *
 * @module
 */

import type { Output } from "../net/output.ts";
import { ConnectionError, ERROR } from "./errors.ts";
import { FLAG, FRAME, type Frame, word, writeFrame } from "./frames.ts";
import { type DecodedBlock, type HpackDecoder, type HpackEncoder, HpackError } from "./hpack.ts";

/** A whole header block, decoded. */
export interface HeaderBlock {
  /** Its stream. */
  stream: number;
  /** The HEADERS frame's flags (END_STREAM). */
  flags: number;
  /** The fields. */
  decoded: DecodedBlock;
  /** Whether the HEADERS frame's priority made the stream depend on itself (§5.3.1). */
  selfDependent: boolean;
}

/** What the assembler is bounded by. */
export interface BlockLimits {
  /** Most octets of one block (encoded). */
  maxBytes: number;
  /** Most CONTINUATION frames in one block. */
  maxFrames: number;
  /** Counts an empty CONTINUATION frame; false past its budget. */
  spendEmpty: () => boolean;
  /** Counts a flood met. */
  count: (what: string) => void;
}

/** A block waiting for its CONTINUATION frames. */
interface OpenBlock {
  stream: number;
  flags: number;
  parts: Uint8Array[];
  bytes: number;
  frames: number;
  self: boolean;
}

/**
 * Assembles and decodes header blocks for one connection.
 *
 * @example
 * ```ts ignore
 * const blocks = new HeaderAssembler(decoder, limits);
 * const block = f.type === FRAME.HEADERS ? blocks.headers(f, payload) : blocks.continuation(f);
 * if (block !== undefined) handle(block);
 * ```
 */
export class HeaderAssembler {
  #decoder: HpackDecoder;
  #limits: BlockLimits;
  #open:
    | { stream: number; flags: number; parts: Uint8Array[]; bytes: number; frames: number; self: boolean }
    | undefined;

  /** An assembler decoding with `decoder`. */
  constructor(decoder: HpackDecoder, limits: BlockLimits) {
    this.#decoder = decoder;
    this.#limits = limits;
  }

  /** The stream of a block still waiting for CONTINUATION, if any. */
  get pending(): number | undefined {
    return this.#open?.stream;
  }

  /** A HEADERS frame whose padding is removed (`payload`): the block, when END_HEADERS ends it. */
  headers(f: Frame, payload: Uint8Array): HeaderBlock | undefined {
    let p = payload;
    let self = false;
    if (f.flags & FLAG.PRIORITY) {
      if (p.length < 5) {
        throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "HEADERS too short for its priority");
      }
      self = (word(p, 0) & 0x7fffffff) === f.streamId;
      p = p.subarray(5);
    }
    const open = { stream: f.streamId, flags: f.flags, parts: [p.slice()], bytes: p.length, frames: 1, self };
    this.#check(open.bytes);
    if (f.flags & FLAG.END_HEADERS) return this.#finish(open);
    this.#open = open;
    return undefined;
  }

  /** A CONTINUATION frame: the block, when END_HEADERS ends it. */
  continuation(f: Frame): HeaderBlock | undefined {
    const open = this.#open;
    if (open === undefined) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "CONTINUATION without HEADERS");
    open.bytes += f.payload.length;
    open.frames++;
    this.#check(open.bytes);
    if (f.payload.length === 0 && !this.#limits.spendEmpty()) {
      this.#limits.count("empty_frames");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many empty CONTINUATION frames");
    }
    if (open.frames > this.#limits.maxFrames) {
      this.#limits.count("continuation_flood");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many CONTINUATION frames in one header block");
    }
    open.parts.push(f.payload.slice());
    if ((f.flags & FLAG.END_HEADERS) === 0) return undefined;
    this.#open = undefined;
    return this.#finish(open);
  }

  /** A block larger than any the limits allow is refused before it is buffered. */
  #check(bytes: number): void {
    if (bytes > this.#limits.maxBytes) {
      this.#limits.count("continuation_flood");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "header block over the header-list limit");
    }
  }

  #finish(open: OpenBlock): HeaderBlock {
    const bytes = open.parts.length === 1 ? open.parts[0] : concat(open.parts);
    try {
      const decoded = this.#decoder.decode(bytes);
      return { stream: open.stream, flags: open.flags, decoded, selfDependent: open.self };
    } catch (e) {
      if (e instanceof HpackError) throw new ConnectionError(ERROR.COMPRESSION_ERROR, e.message);
      throw e;
    }
  }
}

/** Writes `fields` on stream `id` as HEADERS and CONTINUATION frames of at most `maxFrame` octets. */
export function writeHeaderBlock(
  out: Output,
  encoder: HpackEncoder,
  id: number,
  fields: ReadonlyArray<readonly [string, string]>,
  end: boolean,
  maxFrame: number,
): void {
  const block = encoder.encode(fields);
  let off = 0;
  let first = true;
  do {
    const n = Math.min(maxFrame, block.length - off);
    const last = off + n >= block.length;
    const flags = (last ? FLAG.END_HEADERS : 0) | (first && end ? FLAG.END_STREAM : 0);
    writeFrame(out, first ? FRAME.HEADERS : FRAME.CONTINUATION, flags, id, block.subarray(off, off + n));
    off += n;
    first = false;
  } while (off < block.length);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
