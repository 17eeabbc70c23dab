/**
 * One HTTP/1.1 connection (RFC 9112 §9): it owns the socket, the read buffer, the phases and their
 * deadlines, and the lingering close. Its loop reads a head, hands it to a new `Exchange`
 * (`exchange.ts`, which owns that request from head to end), and goes round again while the
 * connection may persist; why it stops is one `CloseReason`. Pipelined requests are answered
 * strictly in order, and their responses leave in one write when several are ready. Timeouts are
 * deadlines that the server's sweeper checks, so a waiting connection costs no timer.
 *
 * @module
 */

import { turnMono, turnNow } from "../net/clock.ts";
import type { Body, ByteSource } from "./body.ts";
import type { ConnectionContext } from "../http/connection_context.ts";
import { errorText, isConnectionError } from "../net/peer_errors.ts";
import { idleReadBuffer, READ_BUFFER_BYTES, roomToRead } from "./read_buffer.ts";
import { ParseError, type RequestHead, RequestParser } from "./parser.ts";
import type { ConnectionInfo } from "../http/request.ts";
import { readProxyPreface } from "./proxy_preface.ts";
import { LINGER_MS, lingerClose } from "./linger.ts";
import { STATUS } from "../http/status.ts";
import { Output } from "./writer.ts";
import { ExchangeRecorder } from "../http/recorder.ts";
import type { Tunnel } from "../http/tunnel.ts";
import { SwitchedConnection } from "./switched.ts";
import { bump, type TimeoutKind } from "../stats.ts";
import { type CloseReason, Exchange, type ExchangeHost, lingers, refuse, rejectHead } from "./exchange.ts";

/** Where a connection is, for timeouts and graceful shutdown. */
const PHASE = {
  idle: 0, // between requests (or before the first), nothing received
  head: 1, // inside a request head
  handler: 2, // a handler is running
  body: 3, // a handler waits for body bytes
  linger: 4, // closing: discarding what the client still sends
  closed: 5,
  tunnel: 6, // switched to another protocol (101): the tunnel's deadline and drain apply
} as const;
type Phase = typeof PHASE[keyof typeof PHASE];

/** At a graceful shutdown, how long a connection that has sent nothing yet may still do so. */
const NEW_CONNECTION_GRACE_MS = 1000;

/**
 * One client connection. Created by the server after admission; {@linkcode Connection.run}
 * serves it to the end and never throws.
 */
export class Connection implements ByteSource, ExchangeHost, ConnectionInfo {
  /** Connection id. */
  readonly id: number;
  /** The peer's address (the one a PROXY protocol header names, when the listener expects one). */
  remoteAddr: string;
  /** The peer's port (likewise). */
  remotePort: number;
  /** Server address. */
  readonly localAddr: string;
  /** Server port. */
  readonly localPort: number;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** The read buffer ({@linkcode ByteSource}). */
  buf: Uint8Array;
  /** First unconsumed byte in {@linkcode Connection.buf}. */
  start = 0;
  /** One past the last received byte. */
  end = 0;
  /** The outgoing bytes. */
  readonly out: Output;
  /** When the current wait expires (ms since the epoch); Infinity for none. */
  deadline: number = Infinity;

  /** The server. */
  readonly ctx: ConnectionContext;
  /** Counts, times and logs each finished exchange. */
  readonly recorder: ExchangeRecorder;
  /** Why the connection will close after the current response; undefined while it may go on. */
  closeReason: CloseReason | undefined;
  /** Whether the socket is closed. */
  socketClosed = false;
  /** When the last read completed: the start time of every request parsed from it. */
  arrival = 0;

  #conn: Deno.Conn;
  #parser: RequestParser;
  #phase: Phase = PHASE.idle;
  #current: Exchange | undefined;
  #served = 0;
  #eof = false;
  #maxBuffer: number;
  #timedOut: TimeoutKind | undefined;
  /** When this exchange's first body read began (ms since the epoch); 0 before it. */
  #bodyStart = 0;
  /** Body bytes this exchange has read from the socket (not those already buffered with the head). */
  #bodyBytes = 0;
  /** The protocol this connection switched to, if it did. */
  #tunnel: SwitchedConnection | undefined;
  /** Told once when the client goes away while the current handler runs (see watchGone). */
  #gone: (() => void) | undefined;
  /** The read that watches for the client's going while a handler runs; its bytes join the buffer. */
  #watch: Promise<void> | undefined;

  /** Wraps an accepted connection. */
  constructor(conn: Deno.Conn, ctx: ConnectionContext, id: number, secure: boolean, early?: Uint8Array) {
    this.#conn = conn;
    this.ctx = ctx;
    this.id = id;
    this.secure = secure;
    const remote = conn.remoteAddr as Deno.NetAddr;
    const local = conn.localAddr as Deno.NetAddr;
    this.remoteAddr = remote.hostname ?? "";
    this.remotePort = remote.port ?? 0;
    this.localAddr = local.hostname ?? "";
    this.localPort = local.port ?? 0;
    const o = ctx.options;
    this.#parser = new RequestParser({
      maxTargetLength: o.maxTargetLength,
      maxHeaderBytes: o.maxHeaderBytes,
      maxHeaderCount: o.maxHeaderCount,
    });
    this.#maxBuffer = o.maxHeaderBytes + 1024;
    this.buf = new Uint8Array(Math.max(READ_BUFFER_BYTES, early?.length ?? 0));
    if (early !== undefined) {
      // Bytes a protocol sniffer read first (see --h2c).
      this.buf.set(early);
      this.end = early.length;
      this.arrival = performance.now();
    }
    this.out = new Output(conn);
    this.recorder = new ExchangeRecorder(ctx, this, () => this.closeReason !== undefined);
  }

  /** Marks the connection to close after the current response (the first reason stands). */
  closeFor(reason: CloseReason): void {
    this.closeReason ??= reason;
  }

  /** Whether a graceful shutdown is under way. */
  get draining(): boolean {
    return this.ctx.draining;
  }

  /** Hands the socket over after a 101 head: the loop stops reading heads. */
  switchProtocols(): Tunnel {
    if (this.#tunnel !== undefined) throw new Error("the connection has already switched protocols");
    if (this.#watch !== undefined) {
      throw new Error("a request whose signal is watched cannot switch protocols (its read is in flight)");
    }
    const early = this.buf.slice(this.start, this.end);
    this.start = this.end;
    this.closeFor("switched");
    this.#enter(PHASE.tunnel, Infinity);
    const ctx = this.ctx;
    return this.#tunnel = new SwitchedConnection(
      this.#conn,
      this,
      early,
      ctx.options,
      ctx.stats,
      ctx.log,
      isConnectionError,
    );
  }

  // --- The client's going ---------------------------------------------------------------------

  /**
   * Calls `gone` once the client goes away while the current handler runs. A body read that
   * meets the end of the connection says so; once `body` has been read to its end, a read waits
   * on the socket for the end or a reset. Bytes that come meanwhile are the next pipelined
   * request: they join the read buffer (up to a head's worth, then the watch stops).
   */
  watchGone(body: Body, gone: () => void): void {
    if (this.#eof || this.socketClosed) {
      gone();
      return;
    }
    this.#gone = gone;
    if (body.done) this.#startWatch();
    else body.onEnd = () => this.#startWatch();
  }

  #startWatch(): void {
    if (this.#gone === undefined || this.#tunnel !== undefined) return;
    const served = this.#served;
    const before = this.#watch;
    this.#watch = before === undefined ? this.#watchRead(served) : before.then(() => this.#watchRead(served));
  }

  async #watchRead(served: number): Promise<void> {
    const scratch = new Uint8Array(1024);
    try {
      while (this.#gone !== undefined && this.#served === served && !this.socketClosed && !this.#eof) {
        const n = await this.#conn.read(scratch);
        if (n === null) {
          this.#eof = true;
          break;
        }
        this.ctx.stats.bytesIn += n;
        this.#keep(scratch.subarray(0, n));
        // A head's worth is waiting: the client is there, and the parser judges the rest.
        if (this.end - this.start >= this.ctx.options.maxHeaderBytes) return;
      }
    } catch {
      // reset, or closed under the read
      this.#eof = true;
    }
    if (this.#served === served && (this.#eof || this.socketClosed)) this.#fireGone();
  }

  /** Appends bytes read by the watch to the read buffer, compacting or growing it. */
  #keep(bytes: Uint8Array): void {
    const live = this.end - this.start;
    if (this.buf.length - this.end < bytes.length) {
      if (live + bytes.length <= this.buf.length) this.buf.copyWithin(0, this.start, this.end);
      else {
        const grown = new Uint8Array(Math.max(this.buf.length * 2, live + bytes.length));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
    this.arrival = turnMono(); // the next request's start
  }

  #fireGone(): void {
    const gone = this.#gone;
    if (gone !== undefined) {
      this.#gone = undefined;
      gone();
    }
  }

  /** Waits for a watch read in flight, so that no two reads are ever pending at once. */
  async #settleWatch(): Promise<void> {
    while (this.#watch !== undefined) {
      const w = this.#watch;
      await w;
      if (this.#watch === w) this.#watch = undefined;
    }
  }

  // --- ByteSource ------------------------------------------------------------------------------

  /** Reads more bytes into the buffer, compacting or growing it as needed. */
  async fill(): Promise<boolean> {
    if (this.#watch !== undefined) {
      const had = this.end - this.start;
      await this.#settleWatch();
      if (this.end - this.start > had) return true;
    }
    roomToRead(this, this.#maxBuffer);
    const n = await this.#read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** Moves to `phase`, which must be over by `deadline` (ms since the epoch; Infinity: never). */
  #enter(phase: Phase, deadline: number): void {
    this.#phase = phase;
    this.deadline = deadline;
  }

  /** The deadline `seconds` from now; Infinity for 0 (no limit). */
  #after(seconds: number): number {
    return seconds > 0 ? turnNow() + seconds * 1000 : Infinity;
  }

  /**
   * When the body read about to start must end: `bodyTimeout` from now, and no later than the
   * minimum body rate allows for the bytes received so far (after a grace of `bodyTimeout`).
   */
  #bodyDeadline(): number {
    const { bodyTimeout, minBodyRate } = this.ctx.options;
    const now = Date.now();
    if (this.#bodyStart === 0) this.#bodyStart = now;
    let deadline = bodyTimeout > 0 ? now + bodyTimeout * 1000 : Infinity;
    if (minBodyRate > 0) {
      const floor = this.#bodyStart + (bodyTimeout + this.#bodyBytes / minBodyRate) * 1000;
      if (floor < deadline) deadline = floor;
    }
    return deadline;
  }

  /** Reads from the socket into `into` (the body reader's large reads). */
  readDirect(into: Uint8Array): Promise<number | null> {
    if (this.#watch !== undefined) return this.#readAfterWatch(into);
    return this.#read(into);
  }

  /** {@linkcode Connection.readDirect} once a watch read has settled: what it kept goes first. */
  async #readAfterWatch(into: Uint8Array): Promise<number | null> {
    await this.#settleWatch();
    const avail = this.end - this.start;
    if (avail === 0) return this.#read(into);
    const n = Math.min(avail, into.length);
    into.set(this.buf.subarray(this.start, this.start + n));
    this.start += n;
    return n;
  }

  async #read(into: Uint8Array): Promise<number | null> {
    if (this.socketClosed) return null;
    const inHandler = this.#phase === PHASE.handler;
    if (inHandler) {
      // Answers already made (earlier pipelined ones, or this one's) go out before the wait.
      if (this.out.pending > 0) await this.out.flush();
      this.#enter(PHASE.body, this.#bodyDeadline());
    }
    try {
      const n = await this.#conn.read(into);
      if (n === null) {
        this.#eof = true;
        this.#fireGone();
      } else {
        this.ctx.stats.bytesIn += n;
        if (inHandler) this.#bodyBytes += n;
      }
      return n;
    } catch (e) {
      if (isConnectionError(e)) {
        this.#fireGone();
        return null;
      }
      throw e;
    } finally {
      if (inHandler && this.#phase === PHASE.body) {
        this.#enter(PHASE.handler, Infinity);
      }
    }
  }

  // --- The loop --------------------------------------------------------------------------------

  /** Serves the connection until it closes. Never throws. */
  async run(): Promise<void> {
    this.#enter(PHASE.idle, this.#after(this.ctx.options.headerTimeout));
    try {
      if (this.ctx.options.proxyProtocol && !this.secure && !(await readProxyPreface(this))) return;
      for (;;) {
        let head: RequestHead | null;
        try {
          // A head already whole in the buffer (pipelining) costs no promise turn.
          head = this.#parseBuffered();
          if (head === null) head = await this.#readHead();
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          await rejectHead(this, e);
          break;
        }
        if (head === null) break;
        let more = this.#serve(head);
        if (more !== true && more !== false) more = await more;
        this.#current = undefined;
        this.#gone = undefined;
        if (!more) break;
      }
    } catch (e) {
      if (!isConnectionError(e)) {
        this.ctx.log.error("connection failed", { conn: this.id, error: errorText(e) });
      }
    } finally {
      await this.#close();
    }
  }

  /** Parses a head that is already whole in the buffer; null when more bytes are needed. */
  #parseBuffered(): RequestHead | null {
    if (this.start >= this.end) return null;
    const n = this.#parser.execute(this.buf, this.start, this.end);
    if (n < 0) return null;
    const head = this.#parser.finish(this.buf, this.start, n);
    this.start += n;
    return head;
  }

  /** Reads until a whole head is parsed; null when the connection should end quietly. */
  async #readHead(): Promise<RequestHead | null> {
    const parser = this.#parser;
    const ctx = this.ctx;
    for (;;) {
      if (this.start < this.end) {
        if (this.#phase !== PHASE.head) {
          // The first head keeps the deadline counted from accept; later ones get a fresh one.
          this.#enter(PHASE.head, this.#served > 0 ? this.#after(ctx.options.headerTimeout) : this.deadline);
        }
        const n = parser.execute(this.buf, this.start, this.end);
        if (n >= 0) {
          const head = parser.finish(this.buf, this.start, n);
          this.start += n;
          return head;
        }
      } else if (!parser.started) {
        // Between requests with nothing received: idle.
        if (this.out.pending > 0) await this.out.flush();
        if (ctx.draining || this.closeReason !== undefined) return null;
        if (this.#served > 0 && this.#phase !== PHASE.idle) {
          this.#enter(PHASE.idle, this.#after(ctx.options.keepaliveTimeout));
          this.out.release();
          idleReadBuffer(this);
        }
      }
      // Responses to earlier pipelined requests must not wait for this one's bytes.
      if (this.out.pending > 0) await this.out.flush();
      this.recorder.flush();
      if (this.#watch !== undefined) {
        // A watch read is in flight: it is this read (its bytes join the buffer).
        await this.#settleWatch();
        if (this.start < this.end) continue;
      }
      if (this.#eof) return null;
      // The read, inline: the head path costs one await per read.
      roomToRead(this, this.#maxBuffer);
      if (this.socketClosed) return null;
      let n: number | null;
      try {
        n = await this.#conn.read(this.end === 0 ? this.buf : this.buf.subarray(this.end));
      } catch (e) {
        if (isConnectionError(e)) return null;
        throw e;
      }
      if (n === null) {
        this.#eof = true;
        return null;
      }
      this.ctx.stats.bytesIn += n;
      this.end += n;
      // One clock reading for this turn: the arrival, the head's deadline, the Date header and the
      // keep-alive deadline after a synchronous answer (src/net/clock.ts).
      this.arrival = turnMono();
    }
  }

  /** Serves one request through its exchange; returns (or resolves to) whether the connection goes on. */
  #serve(head: RequestHead): boolean | Promise<boolean> {
    const stats = this.ctx.stats;
    this.#enter(PHASE.handler, Infinity);
    this.#bodyStart = 0;
    this.#bodyBytes = 0;
    stats.requestsTotal++;
    if (this.#served > 0) stats.keepAliveReuse++;
    this.#served++;
    return (this.#current = new Exchange(this, head)).run();
  }

  // --- Timeouts and shutdown -------------------------------------------------------------------

  /** Called by the server's sweeper when {@linkcode Connection.deadline} has passed. */
  expire(): void {
    this.deadline = Infinity;
    const phase = this.#phase;
    let kind: TimeoutKind;
    if (phase === PHASE.idle) kind = this.#served === 0 ? "header" : "keepalive";
    else if (phase === PHASE.head) kind = "header";
    else if (phase === PHASE.body) kind = "body";
    else if (phase === PHASE.linger) {
      this.#closeSocket();
      return;
    } else if (phase === PHASE.tunnel) {
      const onExpire = this.#tunnel?.onExpire;
      if (onExpire !== undefined) onExpire();
      else this.#closeSocket();
      return;
    } else return;
    this.#timedOut = kind;
    bump(this.ctx.stats.timeouts, kind);
    const current = this.#current;
    if ((phase === PHASE.head || phase === PHASE.body) && current?.res.headersSent !== true) {
      this.closeFor("timeout");
      const answer = current !== undefined
        ? current.sendError(STATUS.RequestTimeout, "request timeout")
        : refuse(this, STATUS.RequestTimeout, "request timeout");
      answer
        .catch(() => {})
        .finally(() => this.#closeSocket());
    } else {
      this.#closeSocket();
    }
  }

  /** Checks a write that has made no progress for too long (a client that stopped reading). */
  get writeStalledSince(): number {
    return this.out.writingSince;
  }

  /** Closes the socket because a write stalled. */
  expireWrite(): void {
    this.#timedOut = "write";
    bump(this.ctx.stats.timeouts, "write");
    this.#closeSocket();
  }

  /**
   * Graceful shutdown: an idle keep-alive connection closes now, a busy one after its response.
   * A connection that has not sent a request yet gets a moment's grace instead: its first
   * request may already be on the wire (it will be answered 503).
   */
  drain(): void {
    if (this.#phase === PHASE.tunnel) {
      this.#tunnel?.onDrain?.();
      return;
    }
    if (this.#phase !== PHASE.idle || this.start !== this.end || this.#parser.started) return;
    if (this.#served > 0) this.#closeSocket();
    else this.deadline = Math.min(this.deadline, Date.now() + NEW_CONNECTION_GRACE_MS);
  }

  /** Closes the socket at once (shutdown timeout). */
  abort(): void {
    this.#closeSocket();
  }

  #closeSocket(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    this.#enter(PHASE.closed, Infinity);
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#fireGone();
  }

  async #close(): Promise<void> {
    try {
      if (!this.socketClosed && !this.out.failed) await this.out.flush();
    } catch {
      // the peer is gone
    }
    if (lingers(this.closeReason) && !this.socketClosed && !this.#eof && !this.out.failed) {
      const lingering = () => this.#enter(PHASE.linger, Date.now() + LINGER_MS);
      if (this.#watch === undefined) await lingerClose(this.#conn, lingering);
      else {
        // A watch read is in flight: it does the lingering read, until the client ends or the deadline.
        try {
          await this.#conn.closeWrite();
        } catch {
          // the peer is gone
        }
        lingering();
        await this.#settleWatch();
      }
    }
    this.#closeSocket();
    this.out.release();
    this.recorder.flush();
    this.recorder.accountOut();
    this.ctx.stats.socketWrites += this.out.writes;
    this.ctx.closed(this);
  }

  /** Why the connection timed out, if it did. */
  get timedOut(): TimeoutKind | undefined {
    return this.#timedOut;
  }
}
