/**
 * What a WebSocket sends, bounded whatever its source (pongs, echoes, app sends, close frames):
 * frames are appended to the connection's output and written by one write at a time (a frame
 * queued while a write is under way leaves with the next one; no promise is kept per frame, so a
 * large backlog costs no more than its bytes); past the bound, a pong replaces any pong still waiting
 * instead of queueing behind it, since only the latest ping needs its answer (RFC 6455 §5.5.3); the session
 * pauses reading while more than the bound waits; and a peer that keeps the output over the bound
 * for longer than the write-stall timeout is given up on.
 *
 * @module
 */

import type { Output } from "../net/output.ts";
import { appendFrameHeader } from "./frame_writer.ts";
import { OPCODE } from "./protocol.ts";

/** What the output calls back. */
export interface WsOutputOptions {
  /** Bytes waiting past which reading pauses and the stall clock runs. */
  bound: number;
  /** Milliseconds over the bound before {@linkcode WsOutputOptions.onStall} (0: never). */
  stallMs: number;
  /** The peer stayed over the bound too long. */
  onStall: () => void;
}

/**
 * A WebSocket's sending side.
 *
 * @example
 * ```ts ignore
 * const o = new WsOutput(tunnel.out, { bound: 1 << 20, stallMs: 30000, onStall: () => tunnel.close() });
 * o.frame(0x1, new TextEncoder().encode("hi"), false);
 * ```
 */
export class WsOutput {
  #out: Output;
  #opts: WsOutputOptions;
  /** Bytes in the write under way. */
  #inflight = 0;
  #writing: Promise<void> | null = null;
  /** The payload of the pong owed for the latest ping, while a write is under way. */
  #pong: Uint8Array | null = null;
  #below: Array<() => void> = [];
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #failed = false;
  /** Bytes ever appended, and ever written (or part of the write under way: #sentMark). */
  #appended = 0;
  #writtenMark = 0;
  #sentMark = 0;
  /** Callers of {@linkcode WsOutput.written}, each with the mark it waits for. */
  #writtenWaiters: Array<{ mark: number; resolve: () => void }> = [];

  /** Frames for `out`. */
  constructor(out: Output, options: WsOutputOptions) {
    this.#out = out;
    this.#opts = options;
  }

  /** Bytes queued and not yet written. */
  get queued(): number {
    return this.#inflight + this.#out.pending;
  }

  /** Queues one frame (a copy of `payload`): written now, or with the next write. */
  frame(opcode: number, payload: Uint8Array, compressed: boolean): void {
    if (this.#failed) return;
    const at = this.#out.length;
    appendFrameHeader(this.#out, opcode, payload.length, compressed, false);
    this.#out.append(payload);
    this.#appended += this.#out.length - at;
    if (this.#writing === null) this.#start();
    else this.#overBound();
  }

  /**
   * Answers a ping: queued at once while the output is under the bound; past it, kept aside (in
   * place of any pong kept before) and queued when a write completes.
   */
  pong(payload: Uint8Array): void {
    if (this.#failed) return;
    if (this.queued < this.#opts.bound) this.frame(OPCODE.pong, payload, false);
    else this.#pong = payload.slice();
  }

  /**
   * Resolves once everything queued so far has been written (or the connection is gone). For
   * callers that pace themselves by it (one promise per call: not for every frame).
   */
  written(): Promise<void> {
    if (this.#failed || this.#writtenMark >= this.#appended) return Promise.resolve();
    const mark = this.#appended;
    return new Promise((resolve) => this.#writtenWaiters.push({ mark, resolve }));
  }

  /** Resolves once fewer than half the bound's bytes wait (at once when that is so already). */
  belowBound(): Promise<void> {
    if (this.#failed || this.queued < this.#opts.bound / 2) return Promise.resolve();
    return new Promise((r) => this.#below.push(r));
  }

  /** Stops the stall clock and wakes whoever waits (the connection ended). */
  end(): void {
    this.#failed = true;
    this.#settle();
  }

  #start(): void {
    this.#inflight = this.#out.pending;
    this.#sentMark = this.#appended;
    this.#writing = this.#out.flush().then(() => this.#written(), () => this.#lost());
    this.#overBound();
  }

  #written(): void {
    this.#writing = null;
    this.#inflight = 0;
    this.#writtenMark = this.#sentMark;
    if (this.#writtenWaiters.length > 0) {
      const mark = this.#writtenMark;
      const still = [];
      for (const w of this.#writtenWaiters) {
        if (w.mark <= mark) w.resolve();
        else still.push(w);
      }
      this.#writtenWaiters = still;
    }
    const pong = this.#pong;
    if (pong !== null) {
      this.#pong = null;
      const at = this.#out.length;
      appendFrameHeader(this.#out, OPCODE.pong, pong.length, false, false);
      this.#out.append(pong);
      this.#appended += this.#out.length - at;
    }
    if (this.#out.pending > 0) this.#start();
    else this.#out.release(); // an idle socket holds no output buffer
    if (this.queued <= this.#opts.bound && this.#stallTimer !== undefined) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
    if (this.queued < this.#opts.bound / 2 && this.#below.length > 0) {
      const below = this.#below;
      this.#below = [];
      for (const r of below) r();
    }
  }

  #lost(): void {
    this.#writing = null;
    this.#inflight = 0;
    this.#failed = true;
    this.#settle();
  }

  #settle(): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#pong = null;
    for (const w of this.#writtenWaiters) w.resolve();
    this.#writtenWaiters = [];
    const below = this.#below;
    this.#below = [];
    for (const r of below) r();
  }

  #overBound(): void {
    const o = this.#opts;
    if (this.#stallTimer !== undefined || o.stallMs <= 0 || this.queued <= o.bound) return;
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = undefined;
      if (!this.#failed && this.queued > o.bound) o.onStall();
    }, o.stallMs);
  }
}
