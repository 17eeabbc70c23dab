/**
 * The server side of one HTTP/2 connection as a state machine without I/O (RFC 9113): bytes go
 * in ({@linkcode H2Session.room} / {@linkcode H2Session.commit}), frames come out into an
 * `Output`, and requests come out as {@linkcode H2Stream}s. Streams, flow control both ways,
 * SETTINGS, PING, GOAWAY, RST_STREAM, every connection and stream error with its code, and the
 * bounds against the known floods (see `limits.ts`). The connection (`connection.ts`) does the
 * reading, writing and timing.
 *
 * @module
 */

import type { Output } from "../net/output.ts";
import { ConnectionError, ERROR, StreamError } from "./errors.ts";
import { FLAG, FRAME, type Frame, FrameReader, PREFACE, writeFrameHeader } from "./frames.ts";
import { writeGoaway, writeRst, writeSettings, writeWindowUpdate } from "./frames.ts";
import { HpackDecoder, HpackEncoder } from "./hpack.ts";
import { HeaderAssembler, type HeaderBlock, writeHeaderBlock } from "./header_block.ts";
import { MalformedRequest, requestFields, trailerFields } from "./request_head.ts";
import { DEFAULT_MAX_FRAME, DEFAULT_WINDOW, MAX_WINDOW, SETTING } from "./settings.ts";
import { H2Stream, type StreamOwner } from "./stream.ts";
import { Budget } from "./budget.ts";
import { checkPriority, rstCode, windowIncrement } from "./frame_checks.ts";
import { ControlFrames } from "./control.ts";
import { type H2Limits, LIMITS } from "./limits.ts";

/** What the session tells its connection. */
export interface SessionEvents {
  /** A request's HEADERS arrived complete and valid. */
  request(stream: H2Stream): void;
  /** A request's header list was over the limit: the session answered 431 itself. */
  refusedHeaders?(stream: number): void;
  /**
   * Handlers still running for streams that were reset: they count against the concurrency
   * limit with the open streams, so resetting streams does not let a client run more handlers at
   * once (Rapid Reset).
   */
  running?(): number;
  /** A stream closed (both sides ended, or reset by either side). */
  streamClosed?(stream: H2Stream): void;
  /** The client sent GOAWAY. */
  peerGoaway?(code: number): void;
  /** Something to count: `reset_received`, `reset_sent:<code>`, `goaway_sent:<code>`, `refused`, ... */
  count?(what: string): void;
  /**
   * Frames were queued outside {@linkcode H2Session.process} (the WINDOW_UPDATEs written as a
   * handler reads its body): the connection must write them now, since the client may be waiting
   * for that credit and send nothing until it comes.
   */
  queued?(): void;
}

/** The session's tunables (see {@linkcode LIMITS} for the defaults). */
export type SessionOptions = Partial<H2Limits> & { now?: () => number };

/** The least room a read gets while a request body arrives (the reader shrinks back when idle). */
const BODY_READ_BYTES = 64 * 1024;

/** Streams remembered after they closed, to tell "closed" from "never opened". */
const RECENT_CLOSED = 256;

/**
 * One HTTP/2 connection's protocol state.
 *
 * @example
 * ```ts ignore
 * const session = new H2Session(out, { maxConcurrentStreams: 128 }, { request: (s) => serve(s) });
 * session.start();
 * session.push(bytesFromTheSocket);
 * session.process();
 * ```
 */
export class H2Session implements StreamOwner {
  /** The outgoing frames. */
  readonly out: Output;
  /** The limits in force. */
  readonly limits: H2Limits;
  /** Streams open or half-closed. */
  readonly streams: Map<number, H2Stream> = new Map();
  /** The highest stream id the client opened. */
  lastPeerStream = 0;
  /** The GOAWAY code sent (the connection is ending), or -1. */
  goawayCode = -1;
  /** Whether the client sent GOAWAY. */
  peerGone = false;
  /** Whether a connection error ended the session (nothing more is read). */
  failed = false;
  /** Connection send window. */
  sendWindow = DEFAULT_WINDOW;

  #events: SessionEvents;
  #reader: FrameReader;
  #prefaceSeen = false;
  #blocks: HeaderAssembler;
  #encoder: HpackEncoder;
  #control: ControlFrames;
  #recvWindow = DEFAULT_WINDOW;
  #unacked = 0;
  #goawayLast = MAX_WINDOW;
  /** Recently closed streams: id → how (`sent`: reset by the server, `received`: by the client, `ended`). */
  #recent = new Map<number, "sent" | "received" | "ended">();
  #resets: Budget;
  #empty: Budget;

  /** A session writing to `out`. */
  constructor(out: Output, options: SessionOptions, events: SessionEvents) {
    this.out = out;
    this.limits = { ...LIMITS, ...options };
    this.#events = events;
    const l = this.limits;
    this.#reader = new FrameReader(DEFAULT_MAX_FRAME);
    this.#blocks = new HeaderAssembler(new HpackDecoder(4096, l.maxHeaderListSize), {
      maxBytes: l.maxHeaderListSize * 2 + 1024,
      maxFrames: l.maxContinuations,
      spendEmpty: () => this.#empty.spend(),
      count: (what) => this.#events.count?.(what),
    });
    this.#encoder = new HpackEncoder(4096);
    const now = options.now ?? Date.now;
    this.#resets = new Budget(l.maxResets, l.floodPeriodMs, now);
    this.#control = new ControlFrames(out, this.limits, now, (what) => events.count?.(what));
    this.#empty = new Budget(l.maxEmptyFrames, l.floodPeriodMs, now);
  }

  /** Sends the server preface: SETTINGS, then the connection window's increase. */
  start(): void {
    const l = this.limits;
    writeSettings(this.out, [
      [SETTING.MAX_CONCURRENT_STREAMS, l.maxConcurrentStreams],
      [SETTING.INITIAL_WINDOW_SIZE, l.streamWindow],
      [SETTING.MAX_FRAME_SIZE, DEFAULT_MAX_FRAME],
      [SETTING.MAX_HEADER_LIST_SIZE, l.maxHeaderListSize],
      [SETTING.ENABLE_PUSH, 0],
    ]);
    if (l.connectionWindow > DEFAULT_WINDOW) {
      writeWindowUpdate(this.out, 0, l.connectionWindow - DEFAULT_WINDOW);
      this.#recvWindow = l.connectionWindow;
    }
  }

  /** Whether the client has acknowledged our SETTINGS (RFC 9113 §6.5.3). */
  get settingsAcked(): boolean {
    return this.#control.settingsAcked;
  }

  /** Whether the client's preface (the magic and its first SETTINGS) has arrived. */
  get prefaceSeen(): boolean {
    return this.#prefaceSeen && this.#control.settingsSeen;
  }

  /**
   * The reader's buffer to read into: a few KiB, or {@linkcode BODY_READ_BYTES} while a request
   * body is arriving, so that an upload takes a few large reads rather than one per frame.
   */
  room(): Uint8Array {
    let receiving = false;
    for (const s of this.streams.values()) {
      if (!s.remoteEnded) {
        receiving = true;
        break;
      }
    }
    return this.#reader.room(receiving ? BODY_READ_BYTES : undefined);
  }

  /** Takes `n` bytes read into {@linkcode H2Session.room}. */
  commit(n: number): void {
    this.#reader.commit(n);
  }

  /** Copies bytes in (tests; bytes read before the protocol was known). */
  push(bytes: Uint8Array): void {
    this.#reader.push(bytes);
  }

  /** Answers queued since the output last drained; the connection resets it to 0 then. */
  get controlQueued(): number {
    return this.#control.queued;
  }

  set controlQueued(n: number) {
    this.#control.queued = n;
  }

  /** Lets an idle reader drop its buffer. */
  shrink(): void {
    this.#reader.shrink();
    this.#encoder.release();
  }

  /**
   * Handles every whole frame received. A connection error sends GOAWAY and marks the session
   * failed (the caller flushes and closes); a stream error resets its stream.
   */
  process(): void {
    if (this.failed) return;
    try {
      if (!this.#prefaceSeen) {
        const p = this.#reader.take(PREFACE.length);
        if (p === null) {
          // Fail early on bytes that cannot be the preface.
          return;
        }
        for (let i = 0; i < PREFACE.length; i++) {
          if (p[i] !== PREFACE[i]) {
            throw new ConnectionError(ERROR.PROTOCOL_ERROR, "invalid connection preface");
          }
        }
        this.#prefaceSeen = true;
      }
      for (let f = this.#reader.next(); f !== null; f = this.#reader.next()) {
        try {
          this.#frame(f);
        } catch (e) {
          if (!(e instanceof StreamError)) throw e;
          this.#streamError(e);
        }
        if (this.failed) return;
      }
    } catch (e) {
      if (!(e instanceof ConnectionError)) throw e;
      this.fail(e.code, e.message);
    }
  }

  /** Ends the connection with GOAWAY `code` (a connection error, or a bound passed). */
  fail(code: number, reason: string): void {
    if (this.failed) return;
    this.goaway(code, reason);
    this.failed = true;
    for (const s of [...this.streams.values()]) {
      this.#closeStream(s, code === ERROR.NO_ERROR ? ERROR.CANCEL : code);
    }
  }

  /** The connection is gone: every stream ends (reset, CANCEL), no frame is sent. */
  closeAll(): void {
    this.failed = true;
    for (const s of [...this.streams.values()]) this.#closeStream(s, ERROR.CANCEL);
  }

  /** Sends GOAWAY with the last stream id the server will handle (once per code change). */
  goaway(code: number, reason = ""): void {
    if (this.goawayCode === code) return;
    this.goawayCode = code;
    this.#goawayLast = this.lastPeerStream;
    writeGoaway(this.out, this.lastPeerStream, code, reason);
    this.#events.count?.(`goaway_sent:${code}`);
  }

  #frame(f: Frame): void {
    const pending = this.#blocks.pending;
    if (pending !== undefined && (f.type !== FRAME.CONTINUATION || f.streamId !== pending)) {
      throw new ConnectionError(ERROR.PROTOCOL_ERROR, "a header block was interrupted");
    }
    if (!this.#control.settingsSeen && f.type !== FRAME.SETTINGS) {
      throw new ConnectionError(ERROR.PROTOCOL_ERROR, "the preface must be followed by SETTINGS");
    }
    switch (f.type) {
      case FRAME.DATA:
        return this.#data(f);
      case FRAME.HEADERS:
        return this.#headers(f);
      case FRAME.PRIORITY:
        return checkPriority(f);
      case FRAME.RST_STREAM:
        return this.#rst(f);
      case FRAME.SETTINGS:
        return this.#settingsFrame(f);
      case FRAME.PUSH_PROMISE:
        throw new ConnectionError(ERROR.PROTOCOL_ERROR, "a client cannot send PUSH_PROMISE");
      case FRAME.PING:
        return this.#control.ping(f);
      case FRAME.GOAWAY:
        return this.#peerGoaway(f);
      case FRAME.WINDOW_UPDATE:
        return this.#windowUpdate(f);
      case FRAME.CONTINUATION:
        return this.#continuation(f);
      default:
        return; // unknown frame types are ignored (§5.5)
    }
  }

  /** The payload without its padding (§6.1, §6.2). */
  #unpad(f: Frame): Uint8Array {
    if ((f.flags & FLAG.PADDED) === 0) return f.payload;
    const p = f.payload;
    if (p.length < 1) throw new ConnectionError(ERROR.FRAME_SIZE_ERROR, "padded frame without a pad length");
    const pad = p[0];
    if (pad >= p.length) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "padding longer than the payload");
    return p.subarray(1, p.length - pad);
  }

  /** Whether `id` is a stream the client never opened (§5.1 idle). */
  #idle(id: number): boolean {
    return id > this.lastPeerStream;
  }

  #data(f: Frame): void {
    const id = f.streamId;
    if (id === 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "DATA on stream 0");
    const length = f.payload.length;
    if (length > this.#recvWindow) {
      throw new ConnectionError(ERROR.FLOW_CONTROL_ERROR, "DATA past the connection window");
    }
    this.#recvWindow -= length;
    const data = this.#unpad(f);
    const s = this.streams.get(id);
    if (s === undefined) {
      this.#credit(length);
      if (this.#idle(id)) throw new ConnectionError(ERROR.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      if (this.#recent.get(id) === "sent") return; // reset by the server: ignore what was in flight
      throw new StreamError(id, ERROR.STREAM_CLOSED, `DATA on closed stream ${id}`);
    }
    if (s.remoteEnded) {
      this.#credit(length);
      throw new StreamError(id, ERROR.STREAM_CLOSED, `DATA after END_STREAM on stream ${id}`);
    }
    if (length > s.recvWindow) {
      this.#credit(length);
      throw new StreamError(id, ERROR.FLOW_CONTROL_ERROR, `DATA past stream ${id}'s window`);
    }
    s.recvWindow -= length;
    if (length === 0 && (f.flags & FLAG.END_STREAM) === 0 && !this.#empty.spend()) {
      this.#events.count?.("empty_frames");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many empty DATA frames");
    }
    // Padding is flow-controlled but never read: its credit goes back at once.
    if (length > data.length) this.consumedPadding(s, length - data.length);
    s.received += data.length;
    const cl = s.head.contentLength;
    if (cl >= 0 && s.received > cl) {
      throw new StreamError(id, ERROR.PROTOCOL_ERROR, "more DATA than content-length");
    }
    if (data.length > 0) s.body.push(data.slice());
    if (f.flags & FLAG.END_STREAM) this.#remoteEnd(s);
  }

  /** The client ended its side of `s`. */
  #remoteEnd(s: H2Stream): void {
    const cl = s.head.contentLength;
    if (cl >= 0 && s.received !== cl) {
      throw new StreamError(s.id, ERROR.PROTOCOL_ERROR, "DATA shorter than content-length");
    }
    s.remoteEnded = true;
    s.body.end();
    if (s.localEnded) this.#closeStream(s, -1);
  }

  #headers(f: Frame): void {
    if (f.streamId === 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "HEADERS on stream 0");
    const block = this.#blocks.headers(f, this.#unpad(f));
    if (block !== undefined) this.#headerBlock(block);
  }

  #continuation(f: Frame): void {
    const block = this.#blocks.continuation(f);
    if (block !== undefined) this.#headerBlock(block);
  }

  /** A complete header block: a request, or trailers. */
  #headerBlock(block: HeaderBlock): void {
    const { stream: id, flags, decoded } = block;
    const selfDep = block.selfDependent;
    const end = (flags & FLAG.END_STREAM) !== 0;
    const existing = this.streams.get(id);
    if (existing !== undefined) {
      // Trailers (§8.1): they must end the stream.
      if (existing.remoteEnded) {
        throw new StreamError(id, ERROR.STREAM_CLOSED, `HEADERS after END_STREAM on ${id}`);
      }
      if (!end) throw new StreamError(id, ERROR.PROTOCOL_ERROR, "trailers without END_STREAM");
      try {
        existing.trailers = trailerFields(decoded.names, decoded.values);
      } catch (e) {
        if (e instanceof MalformedRequest) throw new StreamError(id, ERROR.PROTOCOL_ERROR, e.message);
        throw e;
      }
      this.#remoteEnd(existing);
      return;
    }
    if (id % 2 === 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, `client stream id ${id} is even`);
    if (!this.#idle(id)) {
      if (this.#recent.get(id) === "sent") return; // reset by the server: ignored
      if (this.#recent.has(id)) {
        throw new ConnectionError(ERROR.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
      }
      throw new ConnectionError(ERROR.PROTOCOL_ERROR, `stream id ${id} is not above ${this.lastPeerStream}`);
    }
    if (this.goawayCode !== -1 && id > this.#goawayLast) {
      // After GOAWAY (§6.8): not served; its DATA in flight is ignored, not taken for an idle stream's.
      this.lastPeerStream = id;
      this.#remember(id, "sent");
      return;
    }
    this.lastPeerStream = id;
    if (selfDep) throw new StreamError(id, ERROR.PROTOCOL_ERROR, "a stream cannot depend on itself");
    const busy = this.streams.size + (this.#events.running?.() ?? 0);
    if (busy >= this.limits.maxConcurrentStreams) {
      this.#events.count?.("refused");
      this.#remember(id, "sent");
      throw new StreamError(id, ERROR.REFUSED_STREAM, "over SETTINGS_MAX_CONCURRENT_STREAMS");
    }
    if (decoded.overflow) {
      // Over the header-list limit (or an HPACK bomb): refused with 431, never dispatched.
      this.#events.count?.("headers_too_large");
      this.#events.refusedHeaders?.(id);
      if (!this.#resets.spend()) {
        throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many refused requests");
      }
      this.#writeHeaders(id, [[":status", "431"]], true);
      this.#remember(id, end ? "ended" : "sent");
      if (!end) {
        writeRst(this.out, id, ERROR.NO_ERROR);
        this.#control.queued++;
      }
      return;
    }
    let head;
    try {
      head = requestFields(decoded.names, decoded.values);
    } catch (e) {
      if (e instanceof MalformedRequest) {
        this.#remember(id, "sent");
        this.#events.count?.(e.http11 ? "http11_required" : "malformed");
        throw new StreamError(id, e.http11 ? ERROR.HTTP_1_1_REQUIRED : ERROR.PROTOCOL_ERROR, e.message);
      }
      throw e;
    }
    const s = new H2Stream(id, head, this, this.#control.peer.initialWindow, this.limits.streamWindow);
    this.streams.set(id, s);
    this.#events.count?.("stream");
    if (end) {
      if (head.contentLength > 0) {
        this.streams.delete(id);
        this.#remember(id, "sent");
        throw new StreamError(id, ERROR.PROTOCOL_ERROR, "END_STREAM with a non-zero content-length");
      }
      s.remoteEnded = true;
      s.body.end();
    } else if (head.contentLength < 0) {
      (s.head as { chunked: boolean }).chunked = true;
    }
    this.#events.request(s);
  }

  #rst(f: Frame): void {
    const id = f.streamId;
    const code = rstCode(f);
    if (this.#idle(id)) throw new ConnectionError(ERROR.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
    const s = this.streams.get(id);
    if (s === undefined) {
      // A reset of a stream answered within the same read (a cached file): Rapid Reset whose
      // handlers finish before their reset is seen. It counts as any other.
      if (this.#recent.get(id) === "ended") this.#spendReset();
      return;
    }
    this.#spendReset();
    s.resetCode = code;
    this.#closeStream(s, s.resetCode, "received");
  }

  /** Counts a reset received against the budget; past it the connection ends (Rapid Reset). */
  #spendReset(): void {
    this.#events.count?.("reset_received");
    if (!this.#resets.spend()) {
      this.#events.count?.("rapid_reset");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many stream resets");
    }
  }

  #settingsFrame(f: Frame): void {
    const delta = this.#control.settings(f);
    this.#encoder.setMaxTableSize(this.#control.peer.headerTableSize);
    if (delta === 0) return;
    for (const s of this.streams.values()) {
      s.sendWindow += delta;
      if (s.sendWindow > MAX_WINDOW) {
        throw new ConnectionError(ERROR.FLOW_CONTROL_ERROR, "a stream window over 2^31-1");
      }
      if (delta > 0) s.wakeWriter();
    }
  }

  #peerGoaway(f: Frame): void {
    const code = this.#control.goaway(f);
    this.peerGone = true;
    this.#events.peerGoaway?.(code);
  }

  #windowUpdate(f: Frame): void {
    const inc = windowIncrement(f);
    const id = f.streamId;
    if (id === 0) {
      if (inc === 0) throw new ConnectionError(ERROR.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
      this.sendWindow += inc;
      if (this.sendWindow > MAX_WINDOW) {
        throw new ConnectionError(ERROR.FLOW_CONTROL_ERROR, "connection window over 2^31-1");
      }
      for (const s of this.streams.values()) s.wakeWriter();
      return;
    }
    if (this.#idle(id)) throw new ConnectionError(ERROR.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
    const s = this.streams.get(id);
    if (inc === 0) throw new StreamError(id, ERROR.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    if (s === undefined) return;
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) {
      throw new StreamError(id, ERROR.FLOW_CONTROL_ERROR, "stream window over 2^31-1");
    }
    s.wakeWriter();
  }

  // --- Errors and closing ------------------------------------------------------------------------

  /** Resets the stream of a stream error; counts it against the reset budget (MadeYouReset). */
  #streamError(e: StreamError): void {
    this.#events.count?.(`stream_error:${e.code}`);
    if (!this.#resets.spend()) {
      this.#events.count?.("rapid_reset");
      throw new ConnectionError(ERROR.ENHANCE_YOUR_CALM, "too many stream errors");
    }
    const s = this.streams.get(e.streamId);
    if (s !== undefined) this.reset(s, e.code);
    else {
      writeRst(this.out, e.streamId, e.code);
      this.#events.count?.(`reset_sent:${e.code}`);
      this.#control.answered();
    }
  }

  /** Resets `s` with `code` (RST_STREAM) and forgets it. */
  reset(s: H2Stream, code: number): void {
    if (s.resetCode !== -1 || (s.localEnded && s.remoteEnded)) return;
    s.resetCode = code;
    writeRst(this.out, s.id, code);
    this.#events.count?.(`reset_sent:${code}`);
    this.#control.queued++;
    this.#closeStream(s, code, "sent");
  }

  #closeStream(s: H2Stream, code: number, how: "sent" | "received" | "ended" = "sent"): void {
    if (!s.active) return;
    s.active = false;
    if (code !== -1 && s.resetCode === -1) s.resetCode = code;
    this.streams.delete(s.id);
    this.#remember(s.id, code === -1 ? "ended" : how);
    const dropped = s.body.discard();
    this.#credit(dropped + s.unacked);
    s.unacked = 0;
    s.wakeWriter();
    this.#events.streamClosed?.(s);
  }

  #remember(id: number, how: "sent" | "received" | "ended"): void {
    this.#recent.set(id, how);
    if (this.#recent.size > RECENT_CLOSED) this.#recent.delete(this.#recent.keys().next().value!);
  }

  // --- Flow control, receiving ---------------------------------------------------------------------

  /** Part of {@linkcode StreamOwner}: the handler read `n` bytes of `s`. */
  consumed(s: H2Stream, n: number): void {
    if (!s.active) return;
    const before = this.out.length;
    s.unacked += n;
    if (!s.remoteEnded && s.unacked >= this.limits.streamWindow / 4) {
      writeWindowUpdate(this.out, s.id, s.unacked);
      s.recvWindow += s.unacked;
      s.unacked = 0;
    }
    this.#credit(n);
    if (this.out.length !== before) this.#events.queued?.();
  }

  /** Padding of `s`'s DATA: its credit goes back at once. */
  consumedPadding(s: H2Stream, n: number): void {
    this.consumed(s, n);
  }

  /** Returns `n` octets of connection credit, in batches. */
  #credit(n: number): void {
    this.#unacked += n;
    if (this.#unacked >= this.limits.connectionWindow / 4 && !this.failed) {
      writeWindowUpdate(this.out, 0, this.#unacked);
      this.#recvWindow += this.#unacked;
      this.#unacked = 0;
    }
  }

  // --- Sending -------------------------------------------------------------------------------------

  /** Response bytes that may still be queued before a writer must wait for the socket. */
  get queueRoom(): number {
    return this.limits.maxQueuedBytes - this.out.pending;
  }

  /** The peer's largest frame. */
  get peerMaxFrame(): number {
    return this.#control.peer.maxFrameSize;
  }

  /** Sends a response head or trailers on `s`. */
  sendHeaders(s: H2Stream, fields: ReadonlyArray<readonly [string, string]>, end: boolean): void {
    if (!s.active) return;
    s.headersSent = true;
    this.#writeHeaders(s.id, fields, end);
    if (end) this.#localEnd(s);
  }

  #writeHeaders(id: number, fields: ReadonlyArray<readonly [string, string]>, end: boolean): void {
    writeHeaderBlock(this.out, this.#encoder, id, fields, end, this.#control.peer.maxFrameSize);
  }

  /**
   * Sends as much of `data` on `s` as the windows allow, in frames of the peer's size; returns
   * how many octets went (the rest waits for WINDOW_UPDATE). `end` ends the stream once all of
   * `data` is sent.
   */
  sendData(s: H2Stream, data: Uint8Array, end: boolean): number {
    if (!s.active) return data.length;
    let off = 0;
    const max = this.#control.peer.maxFrameSize;
    while (off < data.length) {
      const n = Math.min(data.length - off, s.sendWindow, this.sendWindow, max);
      if (n <= 0) break;
      const last = end && off + n === data.length;
      writeFrameHeader(this.out, n, FRAME.DATA, last ? FLAG.END_STREAM : 0, s.id);
      this.out.append(data.subarray(off, off + n));
      s.sendWindow -= n;
      this.sendWindow -= n;
      off += n;
    }
    if (end && off === data.length) {
      if (data.length === 0) writeFrameHeader(this.out, 0, FRAME.DATA, FLAG.END_STREAM, s.id);
      this.#localEnd(s);
    }
    return off;
  }

  #localEnd(s: H2Stream): void {
    s.localEnded = true;
    if (s.remoteEnded) this.#closeStream(s, -1);
  }
}
