/**
 * One WebSocket connection's protocol engine (RFC 6455 §5–§7) on a switched connection: it reads
 * frames, assembles messages (text checked as UTF-8 as each piece arrives, close 1007), answers
 * pings, runs the closing handshake, pings an idle peer and gives up on one that does not answer,
 * fails the connection on a violation with the close code it calls for, and closes with 1001 when
 * the server shuts down. Messages go to the {@linkcode FerryWebSocket}; what it sends comes back
 * here as frames.
 *
 * @module
 */

import type { Tunnel } from "../http/tunnel.ts";
import { bump } from "../stats.ts";
import { FrameParser, type FrameSink } from "./frame_parser.ts";
import { closePayload } from "./frame_writer.ts";
import { Assembly, setAssemblyBudget } from "./assembly.ts";
import { WsOutput } from "./ws_output.ts";
import { deflateMessage, type DeflateParams, inflateMessage } from "./deflate.ts";
import { CLOSE, isValidCloseCode, OPCODE, WsProtocolError } from "./protocol.ts";
import { type FerryWebSocket, type SocketControl, socketControl, type WsTransport } from "./socket.ts";

/** How one WebSocket is run. */
export interface WsSessionOptions {
  /** Largest message (after inflation), bytes: larger ones close the connection with 1009. */
  maxMessageBytes: number;
  /** Seconds of silence from the peer before a ping; as long again for any answer. 0: never. */
  pingInterval: number;
  /** The agreed permessage-deflate parameters, if any. */
  deflate: DeflateParams | undefined;
  /**
   * Asked before each read: a promise holds the reading back until it settles (the consumer of
   * the messages has too many waiting; TCP then slows the client), `undefined` reads on.
   */
  readGate?: () => Promise<void> | undefined;
}

/** How long a closing handshake ferry started may wait for the peer's close frame. */
const CLOSE_WAIT_MS = 5000;
/** How long a failed connection keeps discarding input after its close frame (for a clean FIN). */
const FAIL_LINGER_MS = 2000;
/** Messages at least this large are compressed when permessage-deflate is on. */
const DEFLATE_MIN_BYTES = 1024;
/** Messages up to this large are compressed (deflate runs on the event loop). */
const DEFLATE_MAX_BYTES = 4 * 1024 * 1024;
/**
 * The read buffer of a WebSocket connection: small while the peer sends little (most sockets,
 * most of the time: it is held by the pending read), large once a read fills the small one, small
 * again after a read that would have fit it.
 */
const READ_SMALL_BYTES = 2 * 1024;
const READ_LARGE_BYTES = 16 * 1024;
/**
 * Reading stops while this much output waits for a peer that does not read (echoes, app sends),
 * until half of it has gone: TCP's flow control then slows the peer, and the output stays
 * bounded. A peer that keeps it over this bound past `--body-timeout` is closed.
 */
const READ_PAUSE_BYTES = 1024 * 1024;

const EMPTY = new Uint8Array(0);
const wholeDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Runs a WebSocket over a tunnel until it closes.
 *
 * @example
 * ```ts ignore
 * await new WsSession(tunnel, socket, { maxMessageBytes: 1 << 20, pingInterval: 30, deflate: undefined }).run();
 * ```
 */
export class WsSession implements FrameSink, WsTransport {
  #t: Tunnel;
  #ctl: SocketControl;
  #opts: WsSessionOptions;
  #parser: FrameParser;
  #deflate: DeflateParams | undefined;
  /** The opcode of the message being assembled (0 when none is). */
  #msgOpcode = 0;
  #msgCompressed = false;
  #assembly: Assembly;
  #out: WsOutput;
  #size = 0;
  #text = "";
  /** The streaming UTF-8 checker, made for the first text message that arrives in pieces. */
  #decoderMade: TextDecoder | undefined;
  /** The opcode of the frame being read. */
  #frameOpcode = 0;
  /** A control frame's payload, made for the first control frame with one. */
  #ctrlMade: Uint8Array | undefined;
  #ctrlLen = 0;
  /** Whether the data frame being read is its message's last (FIN). */
  #lastFin = true;
  /** The payload length of a message sent as one frame; -1 for a fragment. */
  #wholeLength = -1;
  /** Whether the text message was decoded whole (no streaming decoder state to flush). */
  #textDecoded = false;
  #closeSent = false;
  #closeReceived = false;
  #failed = false;
  #ended = false;
  #pingOutstanding = false;
  #timer: "ping" | "close" | "linger" = "ping";

  /** A session for `socket` over `tunnel`. */
  constructor(tunnel: Tunnel, socket: FerryWebSocket, options: WsSessionOptions) {
    this.#t = tunnel;
    this.#ctl = socketControl(socket);
    this.#opts = options;
    this.#deflate = options.deflate;
    setAssemblyBudget(options.maxMessageBytes);
    this.#assembly = new Assembly(options.maxMessageBytes);
    const stallSeconds = tunnel.options.bodyTimeout;
    this.#out = new WsOutput(tunnel.out, {
      bound: READ_PAUSE_BYTES,
      stallMs: stallSeconds > 0 ? stallSeconds * 1000 : 0,
      onStall: () => {
        bump(tunnel.stats.timeouts, "write");
        tunnel.log.info("WebSocket closed: the peer left over 1 MiB unread past --body-timeout", {
          seconds: stallSeconds,
        });
        tunnel.close();
      },
    });
    this.#parser = new FrameParser(this, {
      maxFramePayload: options.maxMessageBytes,
      allowCompressed: options.deflate !== undefined,
    });
  }

  /** Opens the socket, then reads until the connection ends. Never throws. */
  async run(): Promise<void> {
    const t = this.#t;
    const stats = t.stats;
    stats.wsOpen++;
    stats.wsOpened++;
    t.onExpire = () => this.#expired();
    t.onDrain = () => this.#drain();
    this.#ctl.open(this, this.#deflate?.response ?? "");
    this.#armPing();
    try {
      if (t.draining) this.#drain();
      if (t.early.length > 0) this.#consume(t.early, t.early.length);
      let buf = new Uint8Array(READ_SMALL_BYTES);
      while (!this.#ended) {
        if (this.#out.queued >= READ_PAUSE_BYTES) await this.#out.belowBound();
        const gate = this.#opts.readGate?.();
        if (gate !== undefined) await gate;
        const n = await t.read(buf);
        if (n === null) break;
        if (this.#failed) continue; // lingering: discard
        this.#armPing();
        this.#consume(buf, n);
        if (n === buf.length && n < READ_LARGE_BYTES) buf = new Uint8Array(READ_LARGE_BYTES);
        else if (n <= READ_SMALL_BYTES && buf.length > READ_SMALL_BYTES) {
          buf = new Uint8Array(READ_SMALL_BYTES);
        }
      }
    } catch (e) {
      t.log.error("WebSocket connection failed", { error: e instanceof Error ? e.message : String(e) });
    }
    this.#end(CLOSE.abnormal, "", false);
  }

  // --- Reading ---------------------------------------------------------------------------------

  #consume(buf: Uint8Array, n: number): void {
    if (this.#closeReceived || this.#failed) return;
    try {
      this.#parser.push(buf, 0, n);
    } catch (e) {
      if (!(e instanceof WsProtocolError)) throw e;
      this.#fail(e.code, e.message);
    }
  }

  #decoder(): TextDecoder {
    return this.#decoderMade ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  }

  /** Part of {@linkcode FrameSink}. */
  frameStart(fin: boolean, compressed: boolean, opcode: number, length: number): void {
    this.#frameOpcode = opcode;
    if (opcode >= 0x8) {
      this.#ctrlLen = 0;
      return;
    }
    if (opcode !== OPCODE.continuation) {
      this.#msgOpcode = opcode;
      this.#msgCompressed = compressed;
      this.#assembly.begin(fin ? length : -1);
      this.#size = 0;
      this.#text = "";
      this.#textDecoded = false;
    }
    this.#lastFin = fin;
    this.#wholeLength = fin && opcode !== OPCODE.continuation ? length : -1;
    this.#assembly.frame(length);
  }

  /** Part of {@linkcode FrameSink}. */
  payload(bytes: Uint8Array): void {
    if (this.#frameOpcode >= 0x8) {
      (this.#ctrlMade ??= new Uint8Array(125)).set(bytes, this.#ctrlLen);
      this.#ctrlLen += bytes.length;
      return;
    }
    this.#size += bytes.length;
    if (this.#msgOpcode === OPCODE.text && !this.#msgCompressed) {
      try {
        if (bytes.length === this.#wholeLength) {
          // A one-frame message that arrived in one piece (the usual case): decoded whole,
          // without a streaming decoder's set-up and flush, and without a copy.
          this.#text = wholeDecoder.decode(bytes);
          this.#textDecoded = true;
          return;
        }
        // In pieces: checked as each arrives (a bad sequence fails at once), kept as bytes (a
        // string of many small pieces costs far more than their bytes), decoded once whole.
        this.#decoder().decode(bytes, { stream: true });
      } catch {
        throw new WsProtocolError(CLOSE.invalidData, "text message is not valid UTF-8");
      }
    }
    this.#assembly.add(bytes);
  }

  /** Part of {@linkcode FrameSink}. */
  frameEnd(): void {
    const opcode = this.#frameOpcode;
    if (opcode >= 0x8) {
      return this.#control(opcode, this.#ctrlLen === 0 ? EMPTY : this.#ctrlMade!.subarray(0, this.#ctrlLen));
    }
    if (this.#lastFin) this.#deliver();
  }

  #deliver(): void {
    const text = this.#msgOpcode === OPCODE.text;
    let data: string | Uint8Array;
    if (this.#msgCompressed) {
      const bytes = inflateMessage([this.#assembly.take()], this.#opts.maxMessageBytes);
      if (text) {
        try {
          data = this.#decoder().decode(bytes);
        } catch {
          throw new WsProtocolError(CLOSE.invalidData, "text message is not valid UTF-8");
        }
      } else data = bytes;
    } else if (text) {
      if (this.#textDecoded) data = this.#text;
      else {
        try {
          this.#decoder().decode();
        } catch {
          throw new WsProtocolError(CLOSE.invalidData, "text message ends inside a UTF-8 sequence");
        }
        data = wholeDecoder.decode(this.#assembly.take());
      }
    } else data = this.#assembly.take();
    const stats = this.#t.stats;
    stats.wsMessagesIn++;
    stats.wsBytesIn += this.#size;
    this.#text = "";
    this.#msgOpcode = 0;
    if (this.#closeSent) return; // closing: messages are no longer delivered
    this.#ctl.message(data);
  }

  #control(opcode: number, payload: Uint8Array): void {
    if (opcode === OPCODE.ping) {
      if (!this.#closeSent) this.#out.pong(payload);
      return;
    }
    if (opcode === OPCODE.pong) {
      this.#pingOutstanding = false;
      return;
    }
    // Close (RFC 6455 §5.5.1, §7.1.5): a code and a UTF-8 reason, or nothing.
    let code: number = CLOSE.noStatus;
    let reason = "";
    if (payload.length === 1) {
      throw new WsProtocolError(CLOSE.protocolError, "close frame with a 1-byte payload");
    }
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isValidCloseCode(code)) {
        throw new WsProtocolError(CLOSE.protocolError, `invalid close code ${code}`);
      }
      try {
        reason = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(payload.subarray(2));
      } catch {
        throw new WsProtocolError(CLOSE.invalidData, "close reason is not valid UTF-8");
      }
    }
    this.#closeReceived = true;
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#ctl.closing();
      const echo = code === CLOSE.noStatus ? undefined : code;
      this.#out.frame(OPCODE.close, closePayload(echo, ""), false);
    }
    // The server closes the TCP connection first (RFC 6455 §7.1.1): the loop ends, the
    // connection flushes the close frame and closes.
    this.#end(code, reason, true);
  }

  // --- Writing (WsTransport) -------------------------------------------------------------------

  /** Part of {@linkcode WsTransport}: one message as one frame. */
  sendMessage(text: boolean, payload: Uint8Array): void {
    if (this.#closeSent || this.#ended) return;
    const stats = this.#t.stats;
    stats.wsMessagesOut++;
    stats.wsBytesOut += payload.length;
    const opcode = text ? OPCODE.text : OPCODE.binary;
    const deflate = this.#deflate;
    if (deflate !== undefined && payload.length >= DEFLATE_MIN_BYTES && payload.length <= DEFLATE_MAX_BYTES) {
      this.#out.frame(opcode, deflateMessage(payload, deflate.windowBits), true);
    } else this.#out.frame(opcode, payload, false);
  }

  /**
   * Sends a message as {@linkcode WsSession.sendMessage} does, and resolves once it has been
   * written (or the connection is gone): for senders that pace themselves by the socket.
   */
  sendAndWait(text: boolean, payload: Uint8Array): Promise<void> {
    this.sendMessage(text, payload);
    return this.#out.written();
  }

  /** Part of {@linkcode WsTransport}: bytes queued and not yet written. */
  get queued(): number {
    return this.#out.queued;
  }

  /** Part of {@linkcode WsTransport}: the app closes. */
  startClose(code: number | undefined, reason: string): void {
    if (this.#closeSent || this.#ended) return;
    this.#closeSent = true;
    this.#out.frame(OPCODE.close, closePayload(code, reason), false);
    this.#timer = "close";
    this.#t.setDeadline(Date.now() + CLOSE_WAIT_MS);
  }

  /** Part of {@linkcode WsTransport}: a listener threw. */
  listenerFailed(type: string, error: unknown): void {
    this.#t.log.error(`WebSocket ${type} listener failed`, {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }

  // --- Failing, timers, the end ----------------------------------------------------------------

  /** Fails the connection (RFC 6455 §7.1.7): a close frame with `code`, then FIN and a short linger. */
  #fail(code: number, reason: string): void {
    if (this.#failed || this.#ended) return;
    this.#failed = true;
    this.#t.log.debug("WebSocket failed", { code, reason });
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#out.frame(OPCODE.close, closePayload(code, reason.slice(0, 120)), false);
    }
    this.#ctl.error(reason);
    this.#record(code);
    this.#ctl.closed(code, reason, false);
    this.#timer = "linger";
    this.#t.setDeadline(Date.now() + FAIL_LINGER_MS);
    this.#t.closeWrite();
  }

  #armPing(): void {
    if (this.#timer !== "ping") return;
    const s = this.#opts.pingInterval;
    this.#t.setDeadline(s > 0 ? Date.now() + s * 1000 : Infinity);
  }

  #expired(): void {
    if (this.#timer === "ping" && !this.#pingOutstanding && !this.#closeSent) {
      this.#pingOutstanding = true;
      this.#out.frame(OPCODE.ping, new Uint8Array(0), false);
      this.#t.setDeadline(Date.now() + this.#opts.pingInterval * 1000);
      return;
    }
    if (this.#timer === "ping") {
      bump(this.#t.stats.timeouts, "websocket");
      this.#ctl.error("the peer did not answer a ping");
    }
    this.#t.close();
  }

  #drain(): void {
    if (this.#closeSent) return;
    this.#ctl.closing();
    this.startClose(CLOSE.goingAway, "server shutting down");
  }

  #record(code: number): void {
    const stats = this.#t.stats;
    stats.wsOpen--;
    bump(stats.wsCloses, String(code));
  }

  #end(code: number, reason: string, wasClean: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#t.setDeadline(Infinity);
    this.#assembly.release();
    this.#out.end();
    if (this.#failed) return; // recorded and reported when it failed
    this.#record(code);
    this.#ctl.closed(code, reason, wasClean);
  }
}
