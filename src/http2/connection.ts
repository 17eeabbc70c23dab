/**
 * One HTTP/2 connection's I/O (RFC 9113): reads into the session, writes its frames, turns each
 * stream into an exchange handled by the server's dispatcher (the same mounts as HTTP/1.1), and
 * keeps the time: the preface within `--header-timeout`, an idle connection closed with GOAWAY
 * after `--keepalive-timeout`, a stream stalled on either window reset after `--body-timeout`.
 *
 * @module
 */

import type { ConnectionContext, ServedConnection } from "../http/connection_context.ts";
import { isConnectionError } from "../net/peer_errors.ts";
import { ExchangeRecorder } from "../http/recorder.ts";
import { Output } from "../net/output.ts";
import { ServerRequest } from "../http/request.ts";
import type { Handler } from "../http/dispatch.ts";
import { KNOWN_METHODS } from "../http/methods.ts";
import {
  answerSpecial,
  type ExchangeScope,
  finishOpen,
  handlerFailed,
  requestIdFor,
} from "../http/exchange.ts";
import { bump, type Stats } from "../stats.ts";
import { ERROR, errorName } from "./errors.ts";
import { H2Session } from "./session.ts";
import type { H2Stream } from "./stream.ts";
import { StreamReset } from "./stream.ts";
import { H2Writer } from "./writer.ts";

const HTTP2 = "HTTP/2";
/** How long, and how many bytes, a connection ended by an error reads on after its GOAWAY. */
const LINGER_MS = 1000;
const LINGER_BYTES = 1 << 20;
/** How often a busy connection looks for stalled streams, at most. */
const CHECK_MS = 1000;

/**
 * An accepted connection that speaks HTTP/2.
 *
 * @example
 * ```ts ignore
 * const c = new H2Connection(tlsConn, server, 7, true);
 * await c.run();
 * ```
 */
export class H2Connection implements ServedConnection {
  /** Connection id. */
  readonly id: number;
  /** Client address. */
  readonly remoteAddr: string;
  /** Client port. */
  readonly remotePort: number;
  /** Server address. */
  readonly localAddr: string;
  /** Server port. */
  readonly localPort: number;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** The outgoing bytes. */
  readonly out: Output;
  /** When the connection's next check is due (ms since the epoch). */
  deadline = Infinity;
  /** The protocol state. */
  readonly session: H2Session;

  #conn: Deno.Conn;
  #ctx: ConnectionContext;
  #recorder: ExchangeRecorder;
  #early: Uint8Array | undefined;
  #closed = false;
  #draining = false;
  /** Streams whose body read waits: since when. */
  #reading = new Map<H2Stream, number>();
  /** Streams whose request body is still arriving: when their request began (for --min-body-rate). */
  #bodyStart = new Map<H2Stream, number>();
  /** Handlers still running, by stream. */
  #running = new Set<H2Stream>();
  #idleSince = 0;
  /** When our SETTINGS must have been acknowledged by (ms since the epoch). */
  #ackBy = Infinity;
  #flushDue = false;

  /** Wraps an accepted connection; `early` are bytes already read from it (the sniffed preface). */
  constructor(conn: Deno.Conn, ctx: ConnectionContext, id: number, secure: boolean, early?: Uint8Array) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.id = id;
    this.secure = secure;
    this.#early = early;
    const remote = conn.remoteAddr as Deno.NetAddr;
    const local = conn.localAddr as Deno.NetAddr;
    this.remoteAddr = remote.hostname ?? "";
    this.remotePort = remote.port ?? 0;
    this.localAddr = local.hostname ?? "";
    this.localPort = local.port ?? 0;
    this.out = new Output(conn);
    const o = ctx.options;
    this.session = new H2Session(this.out, {
      maxConcurrentStreams: o.h2MaxStreams,
      maxHeaderListSize: o.maxHeaderBytes,
    }, {
      request: (s) => this.#serve(s),
      running: () => {
        // Handlers still running for streams the client reset: the work Rapid Reset piles up.
        let n = 0;
        for (const s of this.#running) if (s.resetCode !== -1 && !s.active) n++;
        return n;
      },
      streamClosed: (s) => this.#streamClosed(s),
      peerGoaway: () => this.#maybeClose(),
      count: (what) => count(ctx.stats, what),
      queued: () => this.#flushSoon(),
    });
    this.#recorder = new ExchangeRecorder(ctx, this);
  }

  /** Serves the connection until it closes. Never throws. */
  async run(): Promise<void> {
    const stats = this.#ctx.stats;
    stats.h2Connections++;
    stats.h2ConnectionsActive++;
    const o = this.#ctx.options;
    this.deadline = o.headerTimeout > 0 ? Date.now() + o.headerTimeout * 1000 : Infinity;
    // Our SETTINGS must be acknowledged within the same time (RFC 9113 §6.5.3: SETTINGS_TIMEOUT).
    this.#ackBy = this.deadline;
    try {
      this.session.start();
      if (this.#early !== undefined) {
        this.session.push(this.#early);
        this.#early = undefined;
        this.#process();
      }
      this.flush().catch(() => {});
      while (!this.session.failed && !this.#closed) {
        // A client that does not read what it asked for is not read either: TCP slows it.
        if (this.out.pending > 256 * 1024) await this.flush();
        const room = this.session.room();
        const n = await this.#conn.read(room);
        if (n === null) break;
        stats.bytesIn += n;
        this.session.commit(n);
        this.#process();
        if (this.out.pending > 0) this.flush().catch(() => {});
        if (this.#draining && this.session.streams.size === 0 && this.#running.size === 0) break;
        if (this.session.peerGone && this.session.streams.size === 0) break;
      }
    } catch (e) {
      if (!isConnectionError(e) && !this.#closed) {
        this.#ctx.log.error("HTTP/2 connection failed", { conn: this.id, error: String(e) });
      }
    } finally {
      await this.#close();
    }
  }

  #process(): void {
    const s = this.session;
    const wasSeen = s.prefaceSeen;
    s.process();
    if (!wasSeen && s.prefaceSeen) this.#armIdle();
  }

  /** Writes what the session queued. Serialised: bytes leave in order. */
  flush(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.out.flush().then(() => {
      if (this.out.pending !== 0) return;
      this.session.controlQueued = 0;
      // An idle connection holds no output buffer (they go back to the shared pool).
      if (this.session.streams.size === 0 && this.#running.size === 0) this.out.release();
    });
  }

  /**
   * Flushes at the end of this turn what was queued outside a read (credit a handler returned as
   * it read): one write for all the frames of the turn.
   */
  #flushSoon(): void {
    if (this.#flushDue || this.#closed) return;
    this.#flushDue = true;
    queueMicrotask(() => {
      this.#flushDue = false;
      if (this.out.pending > 0) this.flush().catch(() => {});
    });
  }

  // --- Exchanges ---------------------------------------------------------------------------------

  #serve(stream: H2Stream): void {
    const ctx = this.#ctx;
    const stats = ctx.stats;
    stats.requestsTotal++;
    this.deadline = Math.min(this.deadline, Date.now() + CHECK_MS);
    const head = stream.head;
    const mount = (!this.secure && ctx.redirectMount) || ctx.dispatcher.route(head.path, head);
    const id = requestIdFor(head.headers.get("x-request-id"), () => ctx.nextRequestId());
    const o = ctx.options;
    const res = new H2Writer(this.session, stream, this, {
      head: head.method === "HEAD",
      requestId: id,
      hsts: this.secure && o.hsts > 0 ? `max-age=${o.hsts}` : undefined,
      altSvc: this.secure ? ctx.altSvc : undefined,
    });
    const client = ctx.clientOf?.(head.headers, this.remoteAddr);
    const req = new ServerRequest(head, HTTP2, stream.body, this, id, performance.now(), client, stream);
    if (!stream.remoteEnded) this.#bodyStart.set(stream, Date.now());
    stream.body.onWait = (waiting) => {
      if (waiting) this.#reading.set(stream, Date.now());
      else this.#reading.delete(stream);
    };
    const limit = mount.maxBodyBytes ?? o.maxBodyBytes;
    if (!stream.remoteEnded && head.headers.get("expect")?.toLowerCase() === "100-continue") {
      // RFC 9110 §10.1.1: the client waits for 100 before its body; it is sent when the body is read.
      stream.body.onFirstRead = () => {
        if (!res.headersSent) this.session.sendHeaders(stream, [[":status", "100"]], false);
        return this.flush();
      };
    }
    this.#running.add(stream);
    this.#exchange(stream, req, res, mount.name, mount.handler, limit).finally(() => {
      this.#running.delete(stream);
      this.#reading.delete(stream);
      this.#bodyStart.delete(stream);
      this.#recorder.record(res, req, mount.name, stream.id);
      this.#recorder.flush();
      // A response sent before the whole request arrived: the rest is not wanted (§8.1).
      if (!stream.remoteEnded && stream.active) this.session.reset(stream, ERROR.NO_ERROR);
      this.flush().catch(() => {});
      this.#maybeClose();
    });
  }

  async #exchange(
    stream: H2Stream,
    req: ServerRequest,
    res: H2Writer,
    mount: string,
    handler: Handler,
    limit: number,
  ): Promise<void> {
    const ctx = this.#ctx;
    const head = stream.head;
    const scope: ExchangeScope = { ctx, req, res, mount };
    const gone = (e: unknown) => e instanceof StreamReset || isConnectionError(e) || this.#closed;
    try {
      // The requests no mount sees (a drain is GOAWAY's, not a request's, on HTTP/2).
      if (
        head.method === "CONNECT" || !KNOWN_METHODS.has(head.method) || head.contentLength > limit ||
        head.form === "asterisk"
      ) {
        await answerSpecial(scope, head, false, limit);
        return;
      }
      if (limit > 0 && head.contentLength < 0) stream.maxBody = limit;
      ctx.stats.countRequest(mount, head.method);
      await handler(req, res);
      await finishOpen(scope);
    } catch (e) {
      const outcome = await handlerFailed(scope, e, gone);
      if (outcome === "failed" || outcome === "refused") await finishOpen(scope).catch(() => res.abort());
    }
  }

  /** Part of the writer's sink: whether the socket has closed. */
  get closed(): boolean {
    return this.#closed || this.out.failed;
  }

  /** Part of the writer's sink: a response is complete. */
  responded(_stream: H2Stream): void {
    if (this.out.pending > 0) this.flush().catch(() => {});
  }

  #streamClosed(s: H2Stream): void {
    this.#reading.delete(s);
    this.#bodyStart.delete(s);
    s.closedNow();
    if (this.session.streams.size === 0) this.#armIdle();
  }

  /** With no stream open: the connection closes after the keep-alive timeout. */
  #armIdle(): void {
    if (this.session.streams.size > 0 || this.#running.size > 0) return;
    this.session.shrink();
    this.out.release();
    const k = this.#ctx.options.keepaliveTimeout;
    this.#idleSince = Date.now();
    this.deadline = Math.min(
      k > 0 ? this.#idleSince + k * 1000 : Infinity,
      this.session.settingsAcked ? Infinity : this.#ackBy,
    );
  }

  #maybeClose(): void {
    if (this.#running.size > 0 || this.session.streams.size > 0) return;
    // What is queued (the last response, the GOAWAY) goes out before the socket closes.
    if (this.#draining || this.session.peerGone) {
      this.flush().catch(() => {}).finally(() => this.#closeSocket());
    } else this.#armIdle();
  }

  // --- Timeouts and shutdown -----------------------------------------------------------------------

  /** Called by the server's sweeper when {@linkcode H2Connection.deadline} has passed. */
  expire(): void {
    const now = Date.now();
    const o = this.#ctx.options;
    const stats = this.#ctx.stats;
    if (!this.session.prefaceSeen) {
      bump(stats.timeouts, "header");
      this.#closeSocket();
      return;
    }
    if (!this.session.settingsAcked && now >= this.#ackBy) {
      // RFC 9113 §6.5.3: a peer that does not acknowledge our SETTINGS in time.
      bump(stats.h2Limits, "settings_timeout");
      this.session.goaway(ERROR.SETTINGS_TIMEOUT, "SETTINGS not acknowledged");
      this.flush().finally(() => this.#closeSocket());
      return;
    }
    if (this.session.streams.size === 0 && this.#running.size === 0) {
      const k = o.keepaliveTimeout;
      if (k > 0 && now < this.#idleSince + k * 1000) {
        // Woken for the SETTINGS ACK, which came: idle until the keep-alive timeout.
        this.deadline = this.#idleSince + k * 1000;
        return;
      }
      bump(stats.timeouts, "keepalive");
      this.session.goaway(ERROR.NO_ERROR, "idle");
      this.flush().finally(() => this.#closeSocket());
      return;
    }
    // Busy: reset streams stalled on a zero window or on a body that stopped coming, and bodies
    // arriving slower than --min-body-rate (as over HTTP/1.1: on average since the request began,
    // after a grace of --body-timeout), so a trickle cannot hold a stream and its handler forever.
    const limit = o.bodyTimeout * 1000;
    const rate = o.minBodyRate;
    let reset = false;
    for (const s of [...this.session.streams.values()]) {
      const waiting = this.#reading.get(s) ?? 0;
      const since = s.stalledSince > 0 ? s.stalledSince : waiting;
      let kind: "stalled" | "slow_body" | undefined;
      if (limit > 0 && since > 0 && now - since > limit) kind = "stalled";
      else if (rate > 0 && waiting > 0 && !s.remoteEnded) {
        const start = this.#bodyStart.get(s) ?? waiting;
        if (now > start + limit + (s.received / rate) * 1000) kind = "slow_body";
      }
      if (kind === undefined) continue;
      bump(stats.timeouts, "body");
      bump(stats.h2Limits, kind);
      this.session.reset(s, ERROR.CANCEL);
      reset = true;
    }
    if (reset) this.flush().catch(() => {});
    this.deadline = now + Math.min(CHECK_MS, limit > 0 ? limit : CHECK_MS);
  }

  /** When the write now in progress started (0: none): the sweeper's write timeout. */
  get writeStalledSince(): number {
    return this.out.writingSince;
  }

  /** A write that made no progress for too long: the client stopped reading. */
  expireWrite(): void {
    bump(this.#ctx.stats.timeouts, "write");
    this.#closeSocket();
  }

  /** Graceful shutdown: GOAWAY NO_ERROR; streams in flight finish, then the connection closes. */
  drain(): void {
    this.#draining = true;
    this.session.goaway(ERROR.NO_ERROR, "shutting down");
    this.#maybeClose();
    this.flush().catch(() => {});
  }

  /** Closes the socket at once. */
  abort(): void {
    this.#closeSocket();
  }

  #closeSocket(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.deadline = Infinity;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #linger(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      return;
    }
    const timer = setTimeout(() => this.#closeSocket(), LINGER_MS);
    const scratch = new Uint8Array(16 * 1024);
    let seen = 0;
    try {
      while (seen < LINGER_BYTES) {
        const n = await this.#conn.read(scratch);
        if (n === null) break;
        seen += n;
      }
    } catch {
      // closed by the timer, or reset
    } finally {
      clearTimeout(timer);
    }
  }

  async #close(): Promise<void> {
    try {
      if (!this.#closed && !this.out.failed) await this.out.flush();
    } catch {
      // the peer is gone
    }
    // After a connection error the GOAWAY must reach a client that is still sending: half-close
    // and read what it sends for a moment, so the kernel does not answer it with a reset.
    if (this.session.failed && !this.#closed && !this.out.failed) await this.#linger();
    // Streams still open end now: their handlers see resets, their writers wake.
    this.session.closeAll();
    this.#closeSocket();
    this.out.release();
    this.#recorder.flush();
    this.#recorder.accountOut();
    const stats = this.#ctx.stats;
    stats.socketWrites += this.out.writes;
    stats.h2ConnectionsActive--;
    this.#ctx.closed(this);
  }
}

/** Counts a session event in its counter (`reset_sent:8` → resets sent, CANCEL). */
function count(stats: Stats, what: string): void {
  const colon = what.indexOf(":");
  const kind = colon < 0 ? what : what.slice(0, colon);
  const code = colon < 0 ? "" : errorName(Number(what.slice(colon + 1)));
  if (kind === "stream") stats.h2Streams++;
  else if (kind === "reset_received") stats.h2ResetsReceived++;
  else if (kind === "reset_sent") bump(stats.h2ResetsSent, code);
  else if (kind === "goaway_sent") bump(stats.h2Goaways, code);
  else if (kind !== "stream_error") bump(stats.h2Limits, kind);
}
