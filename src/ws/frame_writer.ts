/**
 * Server frames (RFC 6455 §5.2): never masked, always in the shortest length form. Header and
 * payload are appended to the connection's output, so frames queued by any number of senders
 * leave whole and in order (a payload written from its own array could be overtaken by frames
 * appended while its header was being written).
 *
 * @module
 */

import type { Output } from "../net/output.ts";

/**
 * Appends one frame's header to `out`: FIN set unless `more`, RSV1 when `compressed`.
 *
 * @example
 * ```ts ignore
 * appendFrameHeader(out, 0x1, 5, false, false);
 * ```
 */
export function appendFrameHeader(
  out: Output,
  opcode: number,
  length: number,
  compressed: boolean,
  more: boolean,
): void {
  const buf = out.reserve(10);
  let p = out.length;
  buf[p++] = (more ? 0 : 0x80) | (compressed ? 0x40 : 0) | opcode;
  if (length < 126) buf[p++] = length;
  else if (length < 65536) {
    buf[p++] = 126;
    buf[p++] = length >>> 8;
    buf[p++] = length & 0xff;
  } else {
    buf[p++] = 127;
    const high = Math.floor(length / 2 ** 32);
    const low = length >>> 0;
    buf[p++] = high >>> 24;
    buf[p++] = (high >>> 16) & 0xff;
    buf[p++] = (high >>> 8) & 0xff;
    buf[p++] = high & 0xff;
    buf[p++] = low >>> 24;
    buf[p++] = (low >>> 16) & 0xff;
    buf[p++] = (low >>> 8) & 0xff;
    buf[p++] = low & 0xff;
  }
  out.length = p;
}

/**
 * Queues one whole frame: header and payload. Resolves once it has been written to the socket
 * (with whatever was queued before it).
 *
 * @example
 * ```ts ignore
 * await writeFrame(out, 0x2, new Uint8Array([1, 2, 3]), false);
 * ```
 */
export function writeFrame(
  out: Output,
  opcode: number,
  payload: Uint8Array,
  compressed: boolean,
): Promise<void> {
  appendFrameHeader(out, opcode, payload.length, compressed, false);
  out.append(payload);
  return out.flush();
}

/**
 * The payload of a close frame: the code in network order, then the reason in UTF-8
 * (RFC 6455 §5.5.1); empty for no code.
 *
 * @example
 * ```ts
 * import { closePayload } from "./frame_writer.ts";
 * closePayload(1000, "bye").length; // 5
 * ```
 */
export function closePayload(code: number | undefined, reason: string): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
