/**
 * SETTINGS (RFC 9113 §6.5): the parameter ids, the values ferry announces, and the validation of
 * the client's values (§6.5.2).
 *
 * @module
 */

import { ConnectionError, ERROR } from "./errors.ts";

/** Setting ids (§6.5.2). */
export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The largest flow-control window (§6.9.1). */
export const MAX_WINDOW = 0x7fffffff;
/** The initial windows before SETTINGS say otherwise (§6.9.2). */
export const DEFAULT_WINDOW = 65535;
/** The smallest and default SETTINGS_MAX_FRAME_SIZE (§6.5.2). */
export const DEFAULT_MAX_FRAME = 16384;

/** The client's settings as far as the server uses them. */
export interface PeerSettings {
  /** Its HPACK table size: the largest table the server's encoder may use. */
  headerTableSize: number;
  /** Its initial stream window. */
  initialWindow: number;
  /** Its largest frame payload. */
  maxFrameSize: number;
}

/**
 * Applies a SETTINGS payload to `peer`, checking each value; returns the change of the initial
 * window (for the open streams' send windows). Unknown ids are ignored (§6.5.2).
 *
 * @example
 * ```ts
 * import { applySettings } from "./settings.ts";
 * const peer = { headerTableSize: 4096, initialWindow: 65535, maxFrameSize: 16384 };
 * applySettings(peer, new Uint8Array([0, 4, 0, 1, 0, 0]));
 * console.log(peer.initialWindow); // 65536
 * ```
 */
export function applySettings(peer: PeerSettings, payload: Uint8Array): number {
  let delta = 0;
  for (let i = 0; i + 6 <= payload.length; i += 6) {
    const id = (payload[i] << 8) | payload[i + 1];
    const v = ((payload[i + 2] << 24) | (payload[i + 3] << 16) | (payload[i + 4] << 8) | payload[i + 5]) >>>
      0;
    switch (id) {
      case SETTING.HEADER_TABLE_SIZE:
        peer.headerTableSize = v;
        break;
      case SETTING.ENABLE_PUSH:
        if (v > 1) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH must be 0 or 1");
        break;
      case SETTING.INITIAL_WINDOW_SIZE:
        if (v > MAX_WINDOW) {
          throw new ConnectionError(ERROR.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1");
        }
        delta += v - peer.initialWindow;
        peer.initialWindow = v;
        break;
      case SETTING.MAX_FRAME_SIZE:
        if (v < DEFAULT_MAX_FRAME || v > 0xffffff) {
          throw new ConnectionError(ERROR.PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
        }
        peer.maxFrameSize = v;
        break;
    }
  }
  return delta;
}
