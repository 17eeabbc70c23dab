/**
 * The payload checks of PRIORITY, RST_STREAM and WINDOW_UPDATE frames (RFC 9113 §6.3, §6.4, §6.9):
 * pure functions of a frame, throwing the connection or stream error the RFC names.
 *
 * @module
 */

import { ConnectionError, ERROR, StreamError } from "./errors.ts";
import { type Frame, word } from "./frames.ts";

/**
 * Checks a PRIORITY frame, which is otherwise accepted and ignored (RFC 9113 §5.3.2, §6.3).
 *
 * @example
 * ```ts ignore
 * checkPriority(frame); // throws ConnectionError or StreamError when malformed
 * ```
 */
export function checkPriority(f: Frame): void {
  if (f.streamId === 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "PRIORITY on stream 0");
  if (f.payload.length !== 5) {
    throw new StreamError(f.streamId, ERROR.FRAME_SIZE_ERROR, "PRIORITY of a wrong length");
  }
  if ((word(f.payload, 0) & 0x7fffffff) === f.streamId) {
    throw new StreamError(f.streamId, ERROR.PROTOCOL_ERROR, "a stream cannot depend on itself");
  }
}

/**
 * Checks an RST_STREAM frame's stream and length (RFC 9113 §6.4) and returns its error code.
 *
 * @example
 * ```ts ignore
 * const code = rstCode(frame);
 * ```
 */
export function rstCode(f: Frame): number {
  if (f.streamId === 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "RST_STREAM on stream 0");
  if (f.payload.length !== 4) {
    throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "RST_STREAM of a wrong length");
  }
  return word(f.payload, 0);
}

/**
 * Checks a WINDOW_UPDATE frame's length (RFC 9113 §6.9) and returns its increment (0 is checked
 * by the caller, which knows whether the stream is idle first).
 *
 * @example
 * ```ts ignore
 * const inc = windowIncrement(frame);
 * ```
 */
export function windowIncrement(f: Frame): number {
  if (f.payload.length !== 4) {
    throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "WINDOW_UPDATE of a wrong length");
  }
  return word(f.payload, 0) & 0x7fffffff;
}
