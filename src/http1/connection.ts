/**
 * One HTTP/1.1 connection (RFC 9112 §9): it owns the socket, the read buffer, the phases and their
 * deadlines (`phase.ts`), and the lingering close. Its loop reads a head, hands it to a new `Exchange`
 * (`exchange.ts`, which owns that request from head to end), and goes round again while the
 * connection may persist; why it stops is one `CloseReason`. Pipelined requests are answered
 * strictly in order, and their responses leave in one write when several are ready. Timeouts are
 * deadlines that the server's sweeper checks, so a waiting connection costs no timer.
 *
 * @module
 */

import { turnMono } from "../net/clock.ts";
import type { Body, ByteSource } from "./body.ts";
import type { ConnectionContext } from "../http/connection_context.ts";
import { errorText, isConnectionError } from "../net/peer_errors.ts";
import { ReadBuffer, type ReadSource } from "./read_buffer.ts";
import { ParseError, type RequestHead, RequestParser } from "./parser.ts";
import type { ConnectionInfo } from "../http/request.ts";
import { readProxyPreface } from "./proxy_preface.ts";
import { LINGER_MS, lingerClose } from "./linger.ts";
import { STATUS } from "../http/status.ts";
import { Output } from "./writer.ts";
import { bodyDeadline, deadlineAfter, NEW_CONNECTION_GRACE_MS, PHASE, timeoutKind } from "./phase.ts";
import type { Phase } from "./phase.ts";
import { GoneWatch } from "./gone_watch.ts";
import { ExchangeRecorder } from "../http/recorder.ts";
import type { Tunnel } from "../http/tunnel.ts";
import { SwitchedConnection } from "./switched.ts";
import { bump, type TimeoutKind } from "../stats.ts";
import { type CloseReason, Exchange, type ExchangeHost, lingers, refuse, rejectHead } from "./exchange.ts";

/**
 * One client connection. Created by the server after admission; {@linkcode Connection.run}
 * serves it to the end and never throws.
 */
export class Connection implements ByteSource, ReadSource, ExchangeHost, ConnectionInfo {
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
  /** The read buffer: what was received and not yet consumed ({@linkcode ByteSource}). */
  readonly input: ReadBuffer;
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
  #timedOut: TimeoutKind | undefined;
  /** When this exchange's first body read began (ms since the epoch); 0 before it. */
  #bodyStart = 0;
  /** Body bytes this exchange has read from the socket (not those already buffered with the head). */
  #bodyBytes = 0;
  /** The protocol this connection switched to, if it did. */
  #tunnel: SwitchedConnection | undefined;
  /** The watch for the client's going while a handler runs, and whether the socket reached its end. */
  #gone: GoneWatch;

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
    // Bytes a protocol sniffer read first (see --h2c) come first.
    this.input = new ReadBuffer(this, o.maxHeaderBytes + 1024, early);
    if (early !== undefined) this.arrival = performance.now();
    this.out = new Output(conn);
    this.#gone = new GoneWatch(conn, this);
    this.recorder = new ExchangeRecorder(ctx, this);
  }

  /** Whether the connection closes after the current response (its recorder asks). */
  get closing(): boolean {
    return this.closeReason !== undefined;
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
    if (this.#gone.pending !== undefined) {
      throw new Error("a request whose signal is watched cannot switch protocols (its read is in flight)");
    }
    const early = this.input.take(this.input.available());
    this.closeFor("switched");
    this.#gone.switched = true;
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

  // --- The client's going (gone_watch.ts) ---------------------------------------------------

  /** Calls `gone` once the client goes away while the current handler runs (see {@linkcode GoneWatch.watch}). */
  watchGone(body: Body, gone: () => void): void {
    this.#gone.watch(body, gone);
  }

  /** Requests served so far (the gone watch asks). */
  get served(): number {
    return this.#served;
  }

  // --- ByteSource ------------------------------------------------------------------------------

  /** Moves to `phase`, which must be over by `deadline` (ms since the epoch; Infinity: never). */
  #enter(phase: Phase, deadline: number): void {
    this.#phase = phase;
    this.deadline = deadline;
  }

  /** When the body read about to start must end (see {@linkcode bodyDeadline}). */
  #bodyDeadline(): number {
    const now = Date.now();
    if (this.#bodyStart === 0) this.#bodyStart = now;
    return bodyDeadline(this.ctx.options, this.#bodyStart, this.#bodyBytes, now);
  }

  /** Reads from the socket into `into` (the body reader's large reads). */
  readDirect(into: Uint8Array): Promise<number | null> {
    if (this.#gone.pending !== undefined) return this.#readAfterWatch(into);
    return this.#read(into);
  }

  /** The read buffer's source ({@linkcode ReadSource}): a read from the socket into `into`. */
  read(into: Uint8Array): Promise<number | null> {
    return this.#read(into);
  }

  /** The read buffer's source ({@linkcode ReadSource}): the gone watch's read in flight, if any. */
  inFlight(): Promise<void> | undefined {
    return this.#gone.pending && this.#gone.settle();
  }

  /** {@linkcode Connection.readDirect} once a watch read has settled: what it kept goes first. */
  async #readAfterWatch(into: Uint8Array): Promise<number | null> {
    await this.#gone.settle();
    return this.input.available() === 0 ? this.#read(into) : this.input.takeInto(into);
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
        this.#gone.eof = true;
        this.#gone.fire();
      } else {
        this.ctx.stats.bytesIn += n;
        if (inHandler) this.#bodyBytes += n;
      }
      return n;
    } catch (e) {
      if (isConnectionError(e)) {
        this.#gone.fire();
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
    this.#enter(PHASE.idle, deadlineAfter(this.ctx.options.headerTimeout));
    try {
      if (this.ctx.options.proxyProtocol && !this.secure && !(await readProxyPreface(this))) return;
      for (;;) {
        let head: RequestHead | null;
        try {
          // A head already whole in the buffer (pipelining) costs no promise turn.
          head = this.#parseBuffered();
          if (head === null) {
            // Read until a head is whole, in this frame rather than an async function of its own:
            // an idle keep-alive connection waits in one suspended frame, not two (less memory).
            const ctx = this.ctx;
            const parser = this.#parser;
            const input = this.input;
            for (;;) {
              if (input.available() > 0) {
                if (this.#phase !== PHASE.head) {
                  // The first head keeps the deadline counted from accept; later ones get a fresh one.
                  this.#enter(
                    PHASE.head,
                    this.#served > 0 ? deadlineAfter(ctx.options.headerTimeout) : this.deadline,
                  );
                }
                // Parsed in a call of its own: this frame, suspended while idle, keeps no old buffer.
                head = this.#parseBuffered();
                if (head !== null) break;
              } else if (!parser.started) {
                // Between requests with nothing received: idle.
                if (this.out.pending > 0) await this.out.flush();
                if (ctx.draining || this.closeReason !== undefined) break;
                if (this.#served > 0 && this.#phase !== PHASE.idle) {
                  this.#enter(PHASE.idle, deadlineAfter(ctx.options.keepaliveTimeout));
                  this.out.release();
                  input.idle();
                }
              }
              // Responses to earlier pipelined requests must not wait for this one's bytes.
              if (this.out.pending > 0) await this.out.flush();
              this.recorder.flush();
              if (this.#gone.pending !== undefined) {
                // A watch read is in flight: it is this read (its bytes join the buffer).
                await this.#gone.settle();
                if (input.available() > 0) continue;
              }
              if (this.#gone.eof || this.socketClosed) break;
              // The read, inline: the head path costs one await per read.
              const into = input.space();
              let n: number | null;
              try {
                n = await this.#conn.read(into);
              } catch (e) {
                if (isConnectionError(e)) break;
                throw e;
              }
              if (n === null) {
                this.#gone.eof = true;
                break;
              }
              ctx.stats.bytesIn += n;
              input.commit(n);
              // One clock reading for this turn: the arrival, the head's deadline, the Date header and
              // the keep-alive deadline after a synchronous answer (src/net/clock.ts).
              this.arrival = turnMono();
            }
          }
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          await rejectHead(this, e);
          break;
        }
        if (head === null) break;
        let more = this.#serve(head);
        if (more !== true && more !== false) more = await more;
        this.#current = undefined;
        this.#gone.gone = undefined;
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
    const input = this.input;
    if (input.available() === 0) return null;
    const buf = input.array, from = input.offset;
    const n = this.#parser.execute(buf, from, input.limit);
    if (n < 0) return null;
    const head = this.#parser.finish(buf, from, n);
    input.consume(n);
    return head;
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
    const kind = timeoutKind(phase, this.#served);
    if (kind === undefined) {
      if (phase === PHASE.linger) this.#closeSocket();
      else if (phase === PHASE.tunnel) {
        const onExpire = this.#tunnel?.onExpire;
        if (onExpire !== undefined) onExpire();
        else this.#closeSocket();
      }
      return;
    }
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
    if (this.#phase !== PHASE.idle || this.input.available() !== 0 || this.#parser.started) return;
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
    this.#gone.fire();
  }

  async #close(): Promise<void> {
    try {
      if (!this.socketClosed && !this.out.failed) await this.out.flush();
    } catch {
      // the peer is gone
    }
    if (lingers(this.closeReason) && !this.socketClosed && !this.#gone.eof && !this.out.failed) {
      const lingering = () => this.#enter(PHASE.linger, Date.now() + LINGER_MS);
      if (this.#gone.pending === undefined) await lingerClose(this.#conn, lingering);
      else await this.#gone.linger(lingering);
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
