/**
 * One HTTP/3 connection's I/O over Deno's QUIC (RFC 9114): ferry's control stream with its
 * SETTINGS, the peer's unidirectional streams read through {@linkcode UniStream}, each request
 * stream read through {@linkcode RequestStream} and served as an exchange; and the time: a stream
 * whose HEADERS do not come within `--header-timeout`, or whose body stops for `--body-timeout`
 * or arrives slower than `--min-body-rate`, is cut, as is one whose response the client does not
 * take for `--body-timeout`; an idle connection is closed after `--keepalive-timeout`. Drain sends
 * GOAWAY and closes once the streams in flight are done. Connection errors close with their code.
 *
 * @module
 */

import type { ConnectionContext, ServedConnection } from "../http/connection_context.ts";
import { ExchangeRecorder } from "../http/recorder.ts";
import { Output } from "../net/output.ts";
import { acceptsTrailers } from "../http/writer.ts";
import { sendError } from "../http/error_page.ts";
import { bump, type TimeoutKind } from "../stats.ts";
import { H3, H3Error, h3ErrorName } from "./errors.ts";
import { FRAME, settingsFrame, varintFrame } from "./frames.ts";
import { PeerStreams, SETTING, STREAM_TYPE, UniStream, type WasteMeter } from "./control.ts";
import { RequestStream } from "./request_stream.ts";
import { StreamReader } from "./stream_reader.ts";
import { H3Stream } from "./stream.ts";
import { H3Writer, type StreamSink } from "./writer.ts";
import { type ExchangeHost, hstsOf, requestIdFor, serveStream } from "./exchange.ts";
import { H3_LIMITS } from "./limits.ts";

/** How often a busy connection looks for stalled streams, at most. */
const CHECK_MS = 1000;
/** How long a connection closed by ferry (drain, idle) waits for its last bytes to go out. */
const CLOSE_GRACE_MS = 250;
/** Most bytes of a response handed to a QUIC stream in one write (see the sink's `write`). */
const WRITE_PIECE_BYTES = 64 * 1024;

const NO_SINK = { write: (p: Uint8Array) => Promise.resolve(p.length) };

/**
 * An accepted QUIC connection that speaks HTTP/3.
 *
 * @example
 * ```ts ignore
 * const c = new H3Connection(quicConn, server, 7);
 * await c.run();
 * ```
 */
export class H3Connection implements ServedConnection, ExchangeHost, WasteMeter {
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
  /** Always true: QUIC is TLS. */
  readonly secure = true;
  /** Counts the bytes written (for the recorder); QUIC streams are written directly. */
  readonly out: Output = new Output(NO_SINK);
  /** When the connection's next check is due (ms since the epoch). */
  deadline = Infinity;
  /** The server's side. */
  readonly ctx: ConnectionContext;
  /** Counters and the access log. */
  readonly recorder: ExchangeRecorder;

  #quic: Deno.QuicConn;
  #peer: PeerStreams;
  #control: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #closed = false;
  #draining = false;
  /** The first stream id a GOAWAY left out (-1: none sent). */
  #goawayId = -1;
  /** The largest client-initiated bidirectional stream id seen. */
  #maxStreamId = -1;
  /** Open request streams: since when each has waited (head or body), 0 when it is not waiting. */
  #streams = new Map<H3Stream, number>();
  /** Streams whose HEADERS have not come yet, with their readers. */
  #heads = new Map<number, { since: number; cancel: () => void }>();
  #cancels = new Map<H3Stream, () => void>();
  #running = 0;
  #waste = 0;
  #requests = 0;
  #idleSince = Date.now();

  /** Wraps an accepted QUIC connection. */
  constructor(quic: Deno.QuicConn, ctx: ConnectionContext, id: number, local: Deno.NetAddr) {
    this.#quic = quic;
    this.ctx = ctx;
    this.id = id;
    this.remoteAddr = quic.remoteAddr.hostname;
    this.remotePort = quic.remoteAddr.port;
    this.localAddr = local.hostname;
    this.localPort = local.port;
    this.#peer = new PeerStreams(this);
    this.recorder = new ExchangeRecorder(ctx, this);
  }

  /** Whether the connection has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Part of {@linkcode WasteMeter}: frames that do no work, bounded per connection. */
  waste(n: number): void {
    this.#waste += n;
    const l = H3_LIMITS;
    if (this.#waste > l.wasteBase + l.wastePerRequest * this.#requests) {
      bump(this.ctx.stats.h3Limits, "waste");
      throw new H3Error(H3.EXCESSIVE_LOAD, "too many frames that do no work");
    }
  }

  /** Serves the connection until it closes. Never throws. */
  async run(): Promise<void> {
    const stats = this.ctx.stats;
    stats.h3Connections++;
    stats.h3ConnectionsActive++;
    this.#armIdle();
    try {
      const control = await this.#quic.createUnidirectionalStream();
      this.#control = control.getWriter();
      const o = this.ctx.options;
      this.#control.write(new Uint8Array([STREAM_TYPE.CONTROL])).catch(() => {});
      this.#control.write(settingsFrame([
        [SETTING.QPACK_MAX_TABLE_CAPACITY, 0],
        [SETTING.QPACK_BLOCKED_STREAMS, 0],
        [SETTING.MAX_FIELD_SECTION_SIZE, o.maxHeaderBytes],
      ])).catch(() => {});
      this.#acceptUni();
      for await (const bidi of this.#quic.incomingBidirectionalStreams) {
        this.#request(bidi);
      }
    } catch (e) {
      if (e instanceof H3Error) this.#fail(e);
      else if (!this.#closed) {
        this.ctx.log.debug("HTTP/3 connection ended", { conn: this.id, error: String(e) });
      }
    } finally {
      this.#finish();
    }
  }

  async #acceptUni(): Promise<void> {
    try {
      for await (const uni of this.#quic.incomingUnidirectionalStreams) this.#readUni(uni);
    } catch {
      // the connection closed
    }
  }

  async #readUni(recv: Deno.QuicReceiveStream): Promise<void> {
    const s = new UniStream(this.#peer, H3_LIMITS.maxControlFrame);
    const reader = recv.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          s.end();
          return;
        }
        for (const ev of s.push(value)) {
          if (ev.kind === "goaway") this.#maybeClose();
        }
        if (s.role === "ignored") {
          // §6.2.3: an unknown stream type is not read on.
          reader.cancel().catch(() => {});
          return;
        }
      }
    } catch (e) {
      if (e instanceof H3Error) this.#fail(e);
      else if (e instanceof Deno.errors.NotConnected) return; // the connection ended
      else if (s.role !== "ignored" && s.role !== "unknown" && !this.#closed) {
        // A critical stream reset by the peer is closed too (§6.2.1).
        this.#fail(new H3Error(H3.CLOSED_CRITICAL_STREAM, `the peer reset its ${s.role} stream`));
      }
    }
  }

  // --- Request streams ------------------------------------------------------------------------

  async #request(bidi: Deno.QuicBidirectionalStream): Promise<void> {
    // The id must be read before the stream is used (Deno 2.9.6: later it throws BadResource).
    const id = Number(bidi.readable.id);
    const stats = this.ctx.stats;
    const reader = new StreamReader(bidi.readable);
    const writer = bidi.writable.getWriter();
    if (id > this.#maxStreamId) this.#maxStreamId = id;
    if (this.#goawayId !== -1 && id >= this.#goawayId) {
      // After GOAWAY (§5.2): not processed; the client may retry it elsewhere.
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
      return;
    }
    stats.h3Streams++;
    this.#requests++;
    const stream = new H3Stream(id);
    const cancel = () => {
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
    };
    this.#streams.set(stream, Date.now());
    this.#cancels.set(stream, cancel);
    this.#idleSince = 0;
    this.#armCheck();
    const parser = new RequestStream(this, this.ctx.options.maxHeaderBytes);
    let served: Promise<void> | undefined;
    try {
      for (;;) {
        if (stream.body.queued > 0) await stream.body.room();
        const piece = await reader.read();
        const done = piece === null;
        const events = done ? parser.end() : parser.push(piece);
        for (const ev of events) {
          if (ev.kind === "head") {
            // A body without content-length whose end has not come with the head: of unknown
            // length, as HTTP/1.1's chunked (what uploads and apps look at to expect one).
            const open = ev.fields.contentLength < 0 &&
              (events.some((e) => e.kind === "data") || !events.some((e) => e.kind === "end"));
            stream.head = open ? { ...ev.fields, chunked: true } : ev.fields;
            this.#streams.set(stream, 0);
            stream.body.onWait = (waiting) => {
              const now = Date.now();
              // --min-body-rate counts from the handler's first wait for the body, as over
              // HTTP/1.1: time the body spent held back while the handler had not read is not the
              // client's.
              if (waiting && stream.bodyStart === 0) stream.bodyStart = now;
              this.#streams.set(stream, waiting ? now : 0);
            };
            served = this.#serve(stream, writer, cancel);
          } else if (ev.kind === "data") stream.body.push(ev.bytes.slice());
          else if (ev.kind === "trailers") stream.trailers = ev.trailers;
          else if (ev.kind === "end") {
            stream.remoteEnded = true;
            stream.body.wake();
          } else {
            this.#reject(stream, served !== undefined, writer, cancel, ev.status, ev.reason);
            if (served === undefined) return;
            reader.cancel().catch(() => {});
          }
        }
        if (done || parser.done) break;
      }
    } catch (e) {
      if (e instanceof H3Error) this.#fail(e);
      // The client reset the stream (or the connection went): the handler sees it.
      stream.lost();
    } finally {
      if (served === undefined) this.#forget(stream);
    }
  }

  /** Before the head: answer `status`; after it: the request is cut (the handler sees a reset). */
  #reject(
    stream: H3Stream,
    headSeen: boolean,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    cancel: () => void,
    status: 400 | 431,
    reason: string,
  ): void {
    const stats = this.ctx.stats;
    bump(stats.h3Limits, status === 431 ? "headers_too_large" : "malformed");
    if (headSeen) {
      stream.lost();
      cancel();
      return;
    }
    bump(stats.responses, status);
    const res = new H3Writer(this.#sink(stream, writer, cancel, false), {
      head: false,
      requestId: requestIdFor(this.ctx, undefined),
      hsts: hstsOf(this.ctx),
    });
    sendError(res, undefined, status, reason).catch(() => {}).finally(() => this.#forget(stream));
  }

  #sink(
    stream: H3Stream,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    cancel: () => void,
    trailersWanted: boolean,
  ): StreamSink {
    return {
      write: (bytes) => {
        if (stream.gone) {
          return Promise.reject(new Deno.errors.ConnectionReset(`stream ${stream.id} was reset`));
        }
        this.out.bytesWritten += bytes.length;
        // In pieces: each piece QUIC's flow control lets go is progress for the write-stall
        // deadline, so a large body that a client takes steadily is not cut for taking longer
        // than --body-timeout as a whole (one write would count as progress only at its end).
        let p: Promise<void>;
        let at = 0;
        do {
          const end = Math.min(bytes.length, at + WRITE_PIECE_BYTES);
          const piece = at === 0 && end === bytes.length ? bytes : bytes.subarray(at, end);
          at = end;
          stream.startWrite();
          p = writer.write(piece);
          p.then(stream.endWrite, stream.endWrite);
        } while (at < bytes.length);
        // A stream cut while its write waits for the client's window releases the writer.
        return Promise.race([p, stream.lostSignal]);
      },
      close: () => {
        // The end (FIN) waits behind what the stream still holds: watched as a write.
        stream.startWrite();
        const p = writer.close();
        p.then(stream.endWrite, stream.endWrite);
        return Promise.race([p, stream.lostSignal]);
      },
      abort: cancel,
      trailersWanted,
      responded: () => {},
    };
  }

  async #serve(
    stream: H3Stream,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    cancel: () => void,
  ): Promise<void> {
    this.#running++;
    const trailers = acceptsTrailers(stream.head.headers.get("te"));
    try {
      await serveStream(this, stream, this.#sink(stream, writer, cancel, trailers));
    } finally {
      this.#running--;
      // A response sent before the whole request arrived: the rest is not wanted (§4.1).
      if (!stream.remoteEnded && !stream.gone) this.#cancels.get(stream)?.();
      this.#forget(stream);
    }
  }

  #forget(stream: H3Stream): void {
    this.#streams.delete(stream);
    this.#cancels.delete(stream);
    this.#maybeClose();
  }

  // --- Timeouts, drain, close ----------------------------------------------------------------

  #armIdle(): void {
    const k = this.ctx.options.keepaliveTimeout;
    this.#idleSince = Date.now();
    this.deadline = k > 0 ? this.#idleSince + k * 1000 : Infinity;
  }

  #armCheck(): void {
    this.deadline = Math.min(this.deadline, Date.now() + CHECK_MS);
  }

  #maybeClose(): void {
    if (this.#streams.size > 0 || this.#running > 0 || this.#closed) return;
    if (this.#draining) {
      this.#closeSoon("shutting down");
      return;
    }
    this.#armIdle();
  }

  /** Called by the server's sweeper when {@linkcode H3Connection.deadline} has passed. */
  expire(): void {
    if (this.#closed) return;
    const now = Date.now();
    const o = this.ctx.options;
    const stats = this.ctx.stats;
    if (this.#streams.size === 0 && this.#running === 0) {
      bump(stats.timeouts, "keepalive");
      this.#goaway();
      this.#closeSoon("idle");
      return;
    }
    // A stream waiting for its HEADERS or for body bytes too long is cut; so is a body arriving
    // slower than --min-body-rate (as over HTTP/1.1 and HTTP/2: on average since the head came,
    // after a grace of --body-timeout), so a trickle cannot hold a stream and its handler forever.
    const rate = o.minBodyRate;
    const writeLimit = o.bodyTimeout * 1000;
    for (const [stream, since] of this.#streams) {
      if (writeLimit > 0 && stream.writingSince > 0 && now - stream.writingSince > writeLimit) {
        // A response the client does not read: QUIC's flow control holds the write, and without
        // this the handler and what it holds would wait as long as the client keeps the
        // connection alive (HTTP/1.1 and HTTP/2 close a connection whose write stalls as long).
        this.#cut(stream, "write", "write_stalled");
        continue;
      }
      if (since === 0) continue;
      const headMissing = stream.head === undefined;
      const limit = (headMissing ? o.headerTimeout : o.bodyTimeout) * 1000;
      let kind: "head_timeout" | "stalled" | "slow_body" | undefined;
      if (limit > 0 && now - since > limit) kind = headMissing ? "head_timeout" : "stalled";
      else if (!headMissing && rate > 0 && !stream.remoteEnded) {
        if (now > stream.bodyStart + limit + (stream.received / rate) * 1000) kind = "slow_body";
      }
      if (kind === undefined) continue;
      this.#cut(stream, headMissing ? "header" : "body", kind);
      if (headMissing) this.#forget(stream);
    }
    this.deadline = now + CHECK_MS;
  }

  /** Cuts `stream` for a deadline it missed, counted as `timeout` and as the HTTP/3 limit `limit`. */
  #cut(stream: H3Stream, timeout: TimeoutKind, limit: string): void {
    const stats = this.ctx.stats;
    bump(stats.timeouts, timeout);
    bump(stats.h3Limits, limit);
    stream.lost();
    this.#cancels.get(stream)?.();
  }

  /** QUIC's streams stall one by one, not the connection: {@linkcode H3Connection.expire} cuts each. */
  get writeStalledSince(): number {
    return 0;
  }

  /** Not used (see {@linkcode H3Connection.writeStalledSince}). */
  expireWrite(): void {}

  /** Graceful shutdown: GOAWAY; streams in flight finish, then the connection closes. */
  drain(): void {
    this.#draining = true;
    this.#goaway();
    this.#maybeClose();
  }

  /** GOAWAY with the first request stream id not served (§5.2), once. */
  #goaway(): void {
    if (this.#goawayId !== -1 || this.#control === undefined) return;
    this.#goawayId = this.#maxStreamId + 4;
    bump(this.ctx.stats.h3Goaways, h3ErrorName(H3.NO_ERROR));
    this.#control.write(varintFrame(FRAME.GOAWAY, this.#goawayId)).catch(() => {});
  }

  /**
   * Closes with H3_NO_ERROR after a moment: a CONNECTION_CLOSE drops what is not yet sent, and the
   * GOAWAY and the last responses' bytes may still be in flight. A client that closes first ends it.
   */
  #closeSoon(reason: string): void {
    this.deadline = Infinity;
    const timer = setTimeout(() => this.#close(H3.NO_ERROR, reason), CLOSE_GRACE_MS);
    this.#quic.closed.finally(() => clearTimeout(timer)).catch(() => {});
  }

  /** Closes at once. */
  abort(): void {
    this.#close(H3.NO_ERROR, "closing");
  }

  /** A connection error: closed with its code. */
  #fail(e: H3Error): void {
    if (this.#closed) return;
    bump(this.ctx.stats.h3Errors, h3ErrorName(e.code));
    this.ctx.log.debug("HTTP/3 connection error", {
      conn: this.id,
      code: h3ErrorName(e.code),
      reason: e.message,
    });
    this.#close(e.code, e.message);
  }

  #close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.deadline = Infinity;
    try {
      this.#quic.close({ closeCode: code, reason });
    } catch {
      // already closed
    }
  }

  #finish(): void {
    this.#close(H3.NO_ERROR, "");
    for (const stream of this.#streams.keys()) stream.lost();
    this.recorder.flush();
    this.recorder.accountOut();
    this.ctx.stats.h3ConnectionsActive--;
    this.ctx.closed(this);
  }
}
