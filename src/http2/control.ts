/**
 * The connection's control frames from the client (RFC 9113 §6.5, §6.7, §6.8): SETTINGS and PING
 * checked and acknowledged, GOAWAY checked, each flood-prone one counted against its budget, and
 * every answer queued counted, so a client that sends without reading what it asked for is cut
 * off (CVE-2019-9512, CVE-2019-9515).
 *
 * @module
 */

import type { Output } from "../net/output.ts";
import { Budget } from "./budget.ts";
import { ConnectionError, ERROR } from "./errors.ts";
import { FLAG, FRAME, type Frame, word, writeFrame, writeFrameHeader } from "./frames.ts";
import type { H2Limits } from "./limits.ts";
import { applySettings, DEFAULT_MAX_FRAME, DEFAULT_WINDOW, type PeerSettings } from "./settings.ts";

/**
 * The control-frame side of one connection.
 *
 * @example
 * ```ts ignore
 * const control = new ControlFrames(out, limits, Date.now, count);
 * const delta = control.settings(frame); // the change of the initial window, or undefined for an ACK
 * ```
 */
export class ControlFrames {
  /** The client's settings as far as the server uses them. */
  readonly peer: PeerSettings = {
    headerTableSize: 4096,
    initialWindow: DEFAULT_WINDOW,
    maxFrameSize: DEFAULT_MAX_FRAME,
  };
  /** Answers queued since the output last drained (the connection resets it). */
  queued = 0;
  /** Whether the client's first SETTINGS came. */
  settingsSeen = false;
  /** Whether the peer has acknowledged our SETTINGS (RFC 9113 §6.5.3). */
  settingsAcked = false;
  #out: Output;
  #limits: H2Limits;
  #count: (what: string) => void;
  #pings: Budget;
  #settings: Budget;

  /** Control frames answered into `out`, within `limits`; `count` hears of floods. */
  constructor(out: Output, limits: H2Limits, now: () => number, count: (what: string) => void) {
    this.#out = out;
    this.#limits = limits;
    this.#count = count;
    this.#pings = new Budget(limits.maxPings, limits.floodPeriodMs, now);
    this.#settings = new Budget(limits.maxSettings, limits.floodPeriodMs, now);
  }

  /** A SETTINGS frame: applied and acknowledged; the change of the initial window (0 for an ACK). */
  settings(f: Frame): number {
    if (f.streamId !== 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (f.flags & FLAG.ACK) {
      if (f.payload.length !== 0) {
        throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      }
      this.settingsAcked = true;
      return 0;
    }
    if (f.payload.length % 6 !== 0) {
      throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "SETTINGS of a wrong length");
    }
    this.settingsSeen = true;
    if (!this.#settings.spend()) {
      this.#count("settings_flood");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many SETTINGS frames");
    }
    const delta = applySettings(this.peer, f.payload);
    writeFrameHeader(this.#out, 0, FRAME.SETTINGS, FLAG.ACK, 0);
    this.answered();
    return delta;
  }

  /** A PING: answered, unless it is an answer itself. */
  ping(f: Frame): void {
    if (f.streamId !== 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "PING on a stream");
    if (f.payload.length !== 8) throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "PING of a wrong length");
    if (f.flags & FLAG.ACK) return;
    if (!this.#pings.spend()) {
      this.#count("ping_flood");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many PINGs");
    }
    writeFrame(this.#out, FRAME.PING, FLAG.ACK, 0, f.payload);
    this.answered();
  }

  /** A GOAWAY from the client: its error code. */
  goaway(f: Frame): number {
    if (f.streamId !== 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (f.payload.length < 8) throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "GOAWAY too short");
    return word(f.payload, 4);
  }

  /** Counts an answer queued for the client; too many unread ones end the connection. */
  answered(): void {
    if (++this.queued > this.#limits.maxQueuedControl) {
      this.#count("control_flood");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "the client does not read what it asked for");
    }
  }
}
