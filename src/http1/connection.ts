/**
 * The per-connection loop (RFC 9112 §9): read a head, hand the request to its mount, finish the
 * response, dispose of any unread body, and go round again while the connection may persist.
 * Pipelined requests are answered strictly in order, and their responses leave in one write when
 * several are ready. Timeouts are deadlines that the server's sweeper checks, so a waiting
 * connection costs no timer.
 *
 * @module
 */

import type { Body, ByteSource } from "./body.ts";
import type { ConnectionContext } from "./connection_context.ts";
import { errorText, isConnectionError } from "./peer_errors.ts";
import { bodyFor } from "./body_for.ts";
import { idleReadBuffer, READ_BUFFER_BYTES, roomToRead } from "./read_buffer.ts";
import { ParseError, type RequestHead, RequestParser } from "./parser.ts";
import { type ConnectionInfo, ServerRequest } from "../http/request.ts";
import { parseProxyHeader, ProxyHeaderError } from "../proxy/proxy_protocol.ts";
import { STATUS } from "../http/status.ts";
import { SERVER_ALLOW, specialRefusal } from "./special.ts";
import { sendError } from "../http/error_page.ts";
import {
  CONTINUE_BYTES,
  type ExchangeFacts,
  Http1Writer,
  Output,
  type ResponseSink,
  SETTLED,
} from "./writer.ts";
import { ExchangeRecorder } from "./recorder.ts";
import type { Tunnel } from "../http/tunnel.ts";
import { SwitchedConnection } from "./switched.ts";
import { bump, type TimeoutKind } from "../stats.ts";

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

/** How long a closing connection keeps reading (and discarding) what the client still sends. */
const LINGER_MS = 2000;
/** At a graceful shutdown, how long a connection that has sent nothing yet may still do so. */
const NEW_CONNECTION_GRACE_MS = 1000;
/** Most bytes discarded while lingering. */
const LINGER_BYTES = 1024 * 1024;

/** The protocol versions a request says it speaks. */
const HTTP_11 = "HTTP/1.1";
const HTTP_10 = "HTTP/1.0";

/** An incoming X-Request-Id that is kept (anything else is replaced by ferry's own). */
const REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

interface Exchange {
  head: RequestHead;
  body: Body;
  res: Http1Writer;
  req: ServerRequest | undefined;
  mount: string;
}

/**
 * One client connection. Created by the server after admission; {@linkcode Connection.run}
 * serves it to the end and never throws.
 */
export class Connection implements ByteSource, ResponseSink, ConnectionInfo {
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

  #conn: Deno.Conn;
  #ctx: ConnectionContext;
  /** Counts, times and logs each finished exchange. */
  #recorder: ExchangeRecorder;
  #parser: RequestParser;
  #phase: Phase = PHASE.idle;
  #current: Exchange | undefined;
  #served = 0;
  #closing = false; // the connection will close after the current response
  #linger = false; // unread input may remain: half-close and discard before closing
  #socketClosed = false;
  #eof = false;
  #maxBuffer: number;
  #timedOut: TimeoutKind | undefined;
  /** When this exchange's first body read began (ms since the epoch); 0 before it. */
  #bodyStart = 0;
  /** Body bytes this exchange has read from the socket (not those already buffered with the head). */
  #bodyBytes = 0;
  /** When the last read completed: the start time of every request parsed from it. */
  #arrival = 0;
  /** The protocol this connection switched to, if it did. */
  #tunnel: SwitchedConnection | undefined;

  /** Wraps an accepted connection. */
  constructor(conn: Deno.Conn, ctx: ConnectionContext, id: number, secure: boolean, early?: Uint8Array) {
    this.#conn = conn;
    this.#ctx = ctx;
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
      this.#arrival = performance.now();
    }
    this.out = new Output(conn);
    this.#recorder = new ExchangeRecorder(ctx, this, () => this.#closing);
  }

  // --- ResponseSink ----------------------------------------------------------------------------

  /** The facts of the exchange `cur` for its response writer (those of no request without one). */
  #factsOf(head: RequestHead | undefined, id: string | undefined): ExchangeFacts {
    return {
      head: head?.method === "HEAD",
      versionMinor: head?.versionMinor ?? 1,
      requestId: id,
      extraHead: this.secure ? this.#ctx.secureHead : undefined,
    };
  }

  /** Whether the connection will close after the response being written. */
  mustClose(): boolean {
    if (this.#closing || this.#ctx.draining) return true;
    const cur = this.#current;
    if (cur === undefined || !cur.head.keepAlive) return true;
    if (this.#ctx.options.keepaliveTimeout === 0) return true;
    const body = cur.body;
    if (!body.done) {
      if (body.failed) return true;
      // The client may be waiting for 100 Continue that will not come: its body may or may not
      // follow, so the framing of the next request is unknowable (RFC 9110 §10.1.1).
      if (cur.head.expectContinue && !body.started) return true;
      if (body.remainingKnown() > this.#ctx.options.maxDrainBytes) return true;
    }
    return false;
  }

  /** Flushes the response unless more pipelined requests are already buffered. */
  endOfResponse(): Promise<void> {
    // Buffered bytes are the next pipelined request only once this request's body is read.
    const bodyDone = this.#current === undefined || this.#current.body.done;
    if (bodyDone && this.start < this.end && !this.#closing && this.out.pending < 64 * 1024) return SETTLED;
    return this.out.flush();
  }

  /** Whether a graceful shutdown is under way. */
  get draining(): boolean {
    return this.#ctx.draining;
  }

  /** Hands the connection over after a 101 head (the current request must have no body left). */
  tunnel(): Tunnel {
    const cur = this.#current;
    if (cur === undefined || !cur.body.done) throw new Error("a request with a body cannot switch protocols");
    if (this.#tunnel !== undefined) throw new Error("the connection has already switched protocols");
    const early = this.buf.slice(this.start, this.end);
    this.start = this.end;
    this.#closing = true;
    this.#enter(PHASE.tunnel, Infinity);
    const ctx = this.#ctx;
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

  // --- ByteSource ------------------------------------------------------------------------------

  /** Reads more bytes into the buffer, compacting or growing it as needed. */
  async fill(): Promise<boolean> {
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
    return seconds > 0 ? Date.now() + seconds * 1000 : Infinity;
  }

  /**
   * When the body read about to start must end: `bodyTimeout` from now, and no later than the
   * minimum body rate allows for the bytes received so far (after a grace of `bodyTimeout`).
   */
  #bodyDeadline(): number {
    const { bodyTimeout, minBodyRate } = this.#ctx.options;
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
    return this.#read(into);
  }

  async #read(into: Uint8Array): Promise<number | null> {
    if (this.#socketClosed) return null;
    const inHandler = this.#phase === PHASE.handler;
    if (inHandler) {
      // Answers already made (earlier pipelined ones, or this one's) go out before the wait.
      if (this.out.pending > 0) await this.out.flush();
      this.#enter(PHASE.body, this.#bodyDeadline());
    }
    try {
      const n = await this.#conn.read(into);
      if (n === null) this.#eof = true;
      else {
        this.#ctx.stats.bytesIn += n;
        if (inHandler) this.#bodyBytes += n;
      }
      return n;
    } catch (e) {
      if (isConnectionError(e)) return null;
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
    this.#enter(PHASE.idle, this.#after(this.#ctx.options.headerTimeout));
    try {
      if (this.#ctx.options.proxyProtocol && !this.secure && !(await this.#readProxyHeader())) return;
      for (;;) {
        let head: RequestHead | null;
        try {
          // A head already whole in the buffer (pipelining) costs no promise turn.
          head = this.#parseBuffered();
          if (head === null) head = await this.#readHead();
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          await this.#reject(e);
          break;
        }
        if (head === null) break;
        let more = this.#serve(head);
        if (more !== true && more !== false) more = await more;
        if (!more) break;
      }
    } catch (e) {
      if (!isConnectionError(e)) {
        this.#ctx.log.error("connection failed", { conn: this.id, error: errorText(e) });
      }
    } finally {
      await this.#close();
    }
  }

  /**
   * Reads the PROXY protocol header that must open the connection, and takes the client's address
   * from it; false (the connection is to close, unanswered) when it is missing or malformed.
   */
  async #readProxyHeader(): Promise<boolean> {
    for (;;) {
      let header;
      try {
        header = parseProxyHeader(this.buf, this.start, this.end);
      } catch (e) {
        if (!(e instanceof ProxyHeaderError)) throw e;
        bump(this.#ctx.stats.rejections, "proxy_protocol");
        this.#ctx.log.debug("PROXY protocol header refused", { conn: this.id, reason: e.message });
        return false;
      }
      if (header !== undefined) {
        this.start += header.length;
        if (header.source !== undefined) {
          this.remoteAddr = header.source.addr;
          this.remotePort = header.source.port;
        }
        return true;
      }
      if (!(await this.fill())) return false;
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
    const ctx = this.#ctx;
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
        if (ctx.draining || this.#closing) return null;
        if (this.#served > 0 && this.#phase !== PHASE.idle) {
          this.#enter(PHASE.idle, this.#after(ctx.options.keepaliveTimeout));
          this.out.release();
          idleReadBuffer(this);
        }
      }
      // Responses to earlier pipelined requests must not wait for this one's bytes.
      if (this.out.pending > 0) await this.out.flush();
      this.#recorder.flush();
      // The read, inline: the head path costs one await per read.
      roomToRead(this, this.#maxBuffer);
      if (this.#socketClosed) return null;
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
      this.#ctx.stats.bytesIn += n;
      this.end += n;
      this.#arrival = performance.now();
    }
  }

  /** Answers a head that failed to parse, then closes. */
  async #reject(e: ParseError): Promise<void> {
    const ctx = this.#ctx;
    bump(ctx.stats.rejections, e.code);
    this.#closing = true;
    this.#linger = true;
    ctx.log.debug("request rejected", { conn: this.id, status: e.status, reason: e.code });
    await this.#sendError(e.status, e.message);
  }

  /** Sends a small text error response with `Connection: close`. */
  async #sendError(status: number, message: string, headers: Array<[string, string]> = []): Promise<void> {
    this.#closing = true;
    const cur = this.#current;
    const res = cur?.res.headersSent === false
      ? cur.res
      : new Http1Writer(this, this.#factsOf(cur?.head, cur?.req?.id));
    try {
      await sendError(res, cur?.head.headers.get("accept"), status, message, headers);
      // The exchange's own response is recorded once, where the exchange ends; an error outside
      // any exchange (a bad head, a head timeout) is recorded here.
      if (cur === undefined || res !== cur.res) this.#recorder.record(res, cur?.req, cur?.mount);
    } catch (e) {
      if (!isConnectionError(e)) throw e;
    }
  }

  /**
   * Serves one request; returns (or resolves to) whether the connection goes on. A handler that
   * answers synchronously (returning nothing or {@linkcode SETTLED}) is finished here without a
   * promise turn; anything else continues in {@linkcode Connection.#finish}.
   */
  #serve(head: RequestHead): boolean | Promise<boolean> {
    const ctx = this.#ctx;
    const stats = ctx.stats;
    const options = ctx.options;
    this.#enter(PHASE.handler, Infinity);
    this.#bodyStart = 0;
    this.#bodyBytes = 0;
    stats.requestsTotal++;
    if (this.#served > 0) stats.keepAliveReuse++;
    this.#served++;
    // Requests parsed from one read arrived together; one clock reading serves them all.
    const start = this.#arrival;

    const mount = (!this.secure && ctx.redirectMount) || ctx.dispatcher.route(head.path);
    const limit = mount.maxBodyBytes ?? options.maxBodyBytes;
    const body = bodyFor(head, this, limit, options.maxHeaderBytes);
    const incomingId = head.headers.get("x-request-id");
    const id = incomingId !== undefined && REQUEST_ID.test(incomingId) ? incomingId : ctx.nextRequestId();
    const res = new Http1Writer(this, this.#factsOf(head, id));
    const client = ctx.clientOf?.(head.headers, this.remoteAddr);
    const req = new ServerRequest(
      head,
      head.versionMinor === 1 ? HTTP_11 : HTTP_10,
      body,
      this,
      id,
      start,
      client,
    );
    const cur: Exchange = { head, body, res, req, mount: mount.name };
    this.#current = cur;

    if (ctx.draining || head.method === "CONNECT" || head.contentLength > limit || head.form === "asterisk") {
      return this.#serveSpecial(cur, limit);
    }
    if (head.expectContinue && !body.done) {
      body.onFirstRead = () => this.#sendContinue(res);
    }
    stats.countRequest(mount.name, head.method);
    let pending: void | Promise<void>;
    try {
      pending = mount.handler(req, res);
    } catch (e) {
      return this.#finish(cur, req, undefined, { error: e });
    }
    if (res.finished && body.done) {
      if (pending === undefined || pending === SETTLED) {
        // The common case: answered at once, nothing left to read or wait for.
        return this.#end(cur);
      }
      // Answered; only the write is in flight (a keep-alive request's flush).
      return pending.then(
        () => this.#end(cur),
        (e) => this.#finish(cur, req, undefined, { error: e }),
      );
    }
    return this.#finish(cur, req, pending === undefined ? undefined : pending, undefined);
  }

  /**
   * The one end of every exchange: a response the handler left open is finished, the exchange
   * is recorded once, an unread body is drained (or the connection is marked to close), and the
   * answer says whether the connection goes on. Without a promise turn when there is nothing left
   * to do (the common case).
   */
  #end(cur: Exchange): boolean | Promise<boolean> {
    if (cur.res.finished && cur.body.done) {
      this.#recorder.record(cur.res, cur.req, cur.mount);
      this.#current = undefined;
      return this.#goesOn(cur.res);
    }
    return this.#endOpen(cur);
  }

  /** Whether the connection may serve another request after `res`. */
  #goesOn(res: Http1Writer): boolean {
    return !res.closeAfter && !this.#closing && !this.out.failed;
  }

  /** Requests that no mount sees: shutting down, CONNECT, a body declared too large, `OPTIONS *`. */
  #serveSpecial(cur: Exchange, limit: number): Promise<boolean> {
    return this.#guarded(async () => {
      await this.#refuseSpecial(cur, limit);
      return await this.#end(cur);
    });
  }

  /**
   * Runs the rest of an exchange: a peer that went away meanwhile ends the connection quietly
   * (false); either way the exchange is no longer current afterwards.
   */
  async #guarded(rest: () => Promise<boolean>): Promise<boolean> {
    try {
      return await rest();
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      return false;
    } finally {
      this.#current = undefined;
    }
  }

  /**
   * The answers of {@linkcode Connection.#serveSpecial}: a refusal (the connection then closes),
   * or 204 for `OPTIONS *`.
   */
  async #refuseSpecial(cur: Exchange, limit: number): Promise<void> {
    const ctx = this.#ctx;
    const refusal = specialRefusal(cur.head, ctx.draining, limit);
    if (refusal === undefined) {
      // OPTIONS * (RFC 9110 §9.3.7): the server's own capabilities.
      await cur.res.send(STATUS.NoContent, [["Allow", SERVER_ALLOW]]);
      return;
    }
    if (refusal.code === "draining") ctx.stats.drainRejections++;
    else bump(ctx.stats.rejections, refusal.code);
    this.#linger = true;
    const headers: Array<[string, string]> = refusal.retry ? [["Retry-After", ctx.retryAfter()]] : [];
    await this.#sendError(refusal.status, refusal.message, headers);
  }

  /** Waits for the handler (or handles its failure), then completes the exchange. */
  #finish(
    cur: Exchange,
    req: ServerRequest,
    pending: Promise<void> | undefined,
    thrown: { error: unknown } | undefined,
  ): Promise<boolean> {
    return this.#guarded(async () => {
      if (thrown !== undefined) await this.#handlerFailed(thrown.error, cur.mount, req, cur.res);
      else if (pending !== undefined) {
        try {
          await pending;
        } catch (e) {
          await this.#handlerFailed(e, cur.mount, req, cur.res);
        }
      }
      return await this.#end(cur);
    });
  }

  /** {@linkcode Connection.#end} when the response is still open or the body unread. */
  async #endOpen(cur: Exchange): Promise<boolean> {
    const { res, body, head, req } = cur;
    if (!res.finished) {
      if (!res.headersSent) {
        this.#ctx.log.error("handler returned without responding", { id: req?.id, mount: cur.mount });
        await this.#internalError(res);
      } else {
        await res.end();
      }
    }
    this.#recorder.record(res, req, cur.mount);
    if (!body.done) {
      if (body.failed || (head.expectContinue && !body.started) || res.closeAfter) {
        this.#linger = true;
        return false;
      }
      if (!(await body.drain(this.#ctx.options.maxDrainBytes))) {
        this.#linger = true;
        return false;
      }
    }
    this.#current = undefined;
    return this.#goesOn(res);
  }

  async #sendContinue(res: Http1Writer): Promise<void> {
    if (res.headersSent || this.#closing) return;
    this.out.append(CONTINUE_BYTES);
    await this.out.flush();
  }

  /** Turns a handler's failure into the right response (or a close). */
  async #handlerFailed(e: unknown, mount: string, req: ServerRequest, res: Http1Writer): Promise<void> {
    {
      const ctx = this.#ctx;
      if (e instanceof ParseError) {
        // The body's framing failed (or it was too large): the stream is out of sync. A body cut
        // short by a timeout was counted as that timeout already.
        if (this.#timedOut === undefined) bump(ctx.stats.rejections, e.code);
        this.#closing = true;
        this.#linger = true;
        if (!res.headersSent && e.code !== "body_incomplete" && !this.#socketClosed) {
          await this.#sendError(e.status, e.message);
        } else {
          res.abort();
        }
        return;
      }
      if (isConnectionError(e) || this.#socketClosed) {
        res.abort();
        this.#closing = true;
        return;
      }
      ctx.stats.handlerErrors++;
      ctx.log.error("handler failed", { id: req.id, mount, error: errorText(e) });
      if (!res.headersSent) await this.#internalError(res);
      else {
        // Headers are out: end the connection without completing the body, so the client sees
        // a truncated response rather than a complete-looking wrong one.
        res.abort();
        this.#closing = true;
      }
    }
  }

  async #internalError(res: Http1Writer): Promise<void> {
    await sendError(
      res,
      this.#current?.head.headers.get("accept"),
      STATUS.InternalServerError,
      "Internal Server Error",
    );
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
    bump(this.#ctx.stats.timeouts, kind);
    const res = this.#current?.res;
    const answered = res !== undefined && res.headersSent;
    if ((phase === PHASE.head || phase === PHASE.body) && !answered) {
      this.#closing = true;
      this.#sendError(STATUS.RequestTimeout, "request timeout")
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
    bump(this.#ctx.stats.timeouts, "write");
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
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    this.#enter(PHASE.closed, Infinity);
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #close(): Promise<void> {
    try {
      if (!this.#socketClosed && !this.out.failed) await this.out.flush();
    } catch {
      // the peer is gone
    }
    if (this.#linger && !this.#socketClosed && !this.#eof && !this.out.failed) await this.#lingerClose();
    this.#closeSocket();
    this.out.release();
    this.#recorder.flush();
    this.#recorder.accountOut();
    this.#ctx.stats.socketWrites += this.out.writes;
    this.#ctx.closed(this);
  }

  /**
   * Half-closes, then reads and discards what the client still sends for a moment, so that our
   * last response is not destroyed by a reset caused by unread input (RFC 9112 §9.6).
   */
  async #lingerClose(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      return;
    }
    this.#enter(PHASE.linger, Date.now() + LINGER_MS);
    const scratch = new Uint8Array(16 * 1024);
    let seen = 0;
    try {
      while (seen < LINGER_BYTES) {
        const n = await this.#conn.read(scratch);
        if (n === null) break;
        seen += n;
      }
    } catch {
      // closed by the deadline, or reset
    }
  }

  /** Why the connection timed out, if it did. */
  get timedOut(): TimeoutKind | undefined {
    return this.#timedOut;
  }
}
