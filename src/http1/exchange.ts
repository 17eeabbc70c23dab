/**
 * One exchange on an HTTP/1.1 connection: one request, from its parsed head to its end. An
 * {@linkcode Exchange} owns building the request and its writer (it is the writer's sink and
 * facts), the requests no mount sees (refused, or answered by the server itself), the handler's
 * failure, the single end (a response left open is finished, the exchange is recorded once, an
 * unread body is drained or the connection marked to close), and the answer to whether the
 * connection goes on. Why a connection closes is one {@linkcode CloseReason}, set once.
 * The connection (`connection.ts`) owns the socket, the read buffer, phases and deadlines; it
 * hands each parsed head to a new Exchange.
 *
 * @module
 */

import type { Body, ByteSource } from "./body.ts";
import type { ConnectionContext } from "../http/connection_context.ts";
import { isConnectionError } from "../net/peer_errors.ts";
import { bodyFor } from "./body_for.ts";
import { ParseError, type RequestHead } from "./parser.ts";
import { type ClientPresence, type ConnectionInfo, ServerRequest } from "../http/request.ts";
import { sendError } from "../http/error_page.ts";
import {
  answerSpecial,
  type ExchangeScope,
  finishOpen,
  handlerFailed,
  requestIdFor,
} from "../http/exchange.ts";
import {
  CONTINUE_BYTES,
  type ExchangeFacts,
  Http1Writer,
  type Output,
  type ResponseSink,
  SETTLED,
} from "./writer.ts";
import type { ExchangeRecorder } from "../http/recorder.ts";
import { acceptsTrailers } from "../http/writer.ts";
import type { Tunnel } from "../http/tunnel.ts";
import { bump, type TimeoutKind } from "../stats.ts";

/**
 * Why a connection closes after the current response (the first reason given stands):
 * - `refused`: a request refused for its head, its framing or its declared size;
 * - `unread-body`: a body left unread that cannot be drained;
 * - `peer-gone`: the client went away;
 * - `truncated`: a response cut short after its head;
 * - `timeout`: a deadline passed;
 * - `switched`: the connection switched protocols;
 * - `response`: the response closes it (`Connection: close`, HTTP/1.0, a drain).
 */
export type CloseReason =
  | "refused"
  | "unread-body"
  | "peer-gone"
  | "truncated"
  | "timeout"
  | "switched"
  | "response";

/**
 * Whether closing for `reason` first half-closes and discards what the client still sends, so
 * that our last response is not destroyed by a reset caused by unread input (RFC 9112 §9.6).
 */
export function lingers(reason: CloseReason | undefined): boolean {
  return reason === "refused" || reason === "unread-body";
}

/** What an exchange needs of its connection. */
export interface ExchangeHost extends ByteSource, ConnectionInfo {
  /** The server. */
  readonly ctx: ConnectionContext;
  /** The outgoing bytes. */
  readonly out: Output;
  /** Counts, times and logs each finished exchange. */
  readonly recorder: ExchangeRecorder;
  /** Why the connection will close, once it will. */
  readonly closeReason: CloseReason | undefined;
  /** Marks the connection to close after the current response. */
  closeFor(reason: CloseReason): void;
  /** Whether the socket is closed. */
  readonly socketClosed: boolean;
  /** Why the connection timed out, if it did. */
  readonly timedOut: TimeoutKind | undefined;
  /** When the requests of the last read arrived (`performance.now()`). */
  readonly arrival: number;
  /** Hands the socket to another protocol (the exchange checked that its body is read). */
  switchProtocols(): Tunnel;
  /** Calls `gone` once the client goes away while this exchange runs (watching from `body`'s end). */
  watchGone(body: Body, gone: () => void): void;
}

/** A flush that nobody waits for failed: the output has marked itself failed. */
function writeFailed(): void {}

/** The protocol versions a request says it speaks. */
const HTTP_11 = "HTTP/1.1";
const HTTP_10 = "HTTP/1.0";

/**
 * One request and its response. {@linkcode Exchange.run} serves it and says whether the
 * connection goes on, without a promise turn when the handler answered at once.
 */
export class Exchange implements ResponseSink, ExchangeFacts, ClientPresence {
  /** Whether the request is HEAD (the writer's fact). */
  readonly head: boolean;
  /** The request's HTTP minor version (the writer's fact). */
  readonly versionMinor: number;
  /** The request id, sent as X-Request-Id (the writer's fact). */
  readonly requestId: string;
  /** HSTS lines on TLS (the writer's fact). */
  readonly extraHead: Uint8Array | undefined;
  /** The parsed head. */
  readonly parsed: RequestHead;
  /** The body stream. */
  readonly body: Body;
  /** The response. */
  readonly res: Http1Writer;
  /** The request as the handler sees it. */
  readonly req: ServerRequest;
  /** The mount's name, for logs and metrics. */
  readonly mount: string;
  #host: ExchangeHost;
  #limit: number;
  #handler: (req: ServerRequest, res: Http1Writer) => void | Promise<void>;

  /** Routes `parsed`, and builds its body, request and writer. */
  constructor(host: ExchangeHost, parsed: RequestHead) {
    const ctx = host.ctx;
    this.#host = host;
    this.parsed = parsed;
    this.head = parsed.method === "HEAD";
    this.versionMinor = parsed.versionMinor;
    this.extraHead = host.secure ? ctx.secureHead : undefined;
    const mount = (!host.secure && ctx.redirectMount) || ctx.dispatcher.route(parsed.path, parsed);
    this.mount = mount.name;
    this.#handler = mount.handler;
    const limit = this.#limit = mount.maxBodyBytes ?? ctx.options.maxBodyBytes;
    this.body = bodyFor(parsed, host, limit, ctx.options.maxHeaderBytes);
    this.requestId = requestIdFor(parsed.headers.get("x-request-id"), () => ctx.nextRequestId());
    this.res = new Http1Writer(this, this);
    const client = ctx.clientOf?.(parsed.headers, host.remoteAddr);
    const protocol = parsed.versionMinor === 1 ? HTTP_11 : HTTP_10;
    // Requests parsed from one read arrived together; one clock reading serves them all.
    this.req = new ServerRequest(
      parsed,
      protocol,
      this.body,
      host,
      this.requestId,
      host.arrival,
      client,
      this,
    );
  }

  /** The writer's fact: whether the request's `TE` takes trailers. */
  acceptsTrailers(): boolean {
    return acceptsTrailers(this.parsed.headers.get("te"));
  }

  /** Part of {@linkcode ClientPresence}: the connection watches once the body has been read. */
  watchGone(gone: () => void): void {
    this.#host.watchGone(this.body, gone);
  }

  // --- ResponseSink ----------------------------------------------------------------------------

  /** The connection's output. */
  get out(): Output {
    return this.#host.out;
  }

  /** Whether the connection will close after this response. */
  mustClose(): boolean {
    const host = this.#host;
    const ctx = host.ctx;
    if (host.closeReason !== undefined || ctx.draining) return true;
    if (!this.parsed.keepAlive || ctx.options.keepaliveTimeout === 0) return true;
    const body = this.body;
    if (!body.done) {
      if (body.failed) return true;
      // The client may be waiting for 100 Continue that will not come: its body may or may not
      // follow, so the framing of the next request is unknowable (RFC 9110 §10.1.1).
      if (this.parsed.expectContinue && !body.started) return true;
      if (body.remainingKnown() > ctx.options.maxDrainBytes) return true;
    }
    return false;
  }

  /** Flushes the response unless more pipelined requests are already buffered. */
  endOfResponse(): Promise<void> {
    const host = this.#host;
    const out = host.out;
    // Buffered bytes are the next pipelined request only once this request's body is read.
    if (
      this.body.done && host.input.available() > 0 && host.closeReason === undefined &&
      out.pending < 64 * 1024
    ) {
      return SETTLED;
    }
    return out.flush();
  }

  /** Hands the connection over after a 101 head (the request must have no body left). */
  tunnel(): Tunnel {
    if (!this.body.done) throw new Error("a request with a body cannot switch protocols");
    return this.#host.switchProtocols();
  }

  // --- The exchange, top to bottom --------------------------------------------------------------

  /**
   * Serves the request; returns (or resolves to) whether the connection goes on. A handler that
   * answers synchronously (returning nothing or {@linkcode SETTLED}) is finished here without a
   * promise turn; anything else continues in {@linkcode Exchange.#finish}.
   */
  run(): boolean | Promise<boolean> {
    const ctx = this.#host.ctx;
    const parsed = this.parsed;
    if (
      ctx.draining || parsed.method === "CONNECT" || parsed.contentLength > this.#limit ||
      parsed.form === "asterisk"
    ) {
      return this.#guarded(async () => {
        await this.#answerSpecial();
        return await this.#end();
      });
    }
    const body = this.body;
    const res = this.res;
    if (parsed.expectContinue && !body.done) body.onFirstRead = () => this.#sendContinue();
    ctx.stats.countRequest(this.mount, parsed.method);
    let pending: void | Promise<void>;
    try {
      pending = this.#handler(this.req, res);
    } catch (e) {
      return this.#finish(undefined, { error: e });
    }
    if (res.finished && body.done) {
      // The common case: answered at once, nothing left to read or wait for.
      if (pending === undefined || pending === SETTLED) return this.#end();
      if (pending === this.#host.out.inFlight) {
        // The handler returned its answer's flush: it is done, and only the write is in flight.
        // The connection goes on (and reads) meanwhile; a write that fails marks the output
        // failed, and the connection's next write or read ends it.
        pending.then(undefined, writeFailed);
        return this.#end();
      }
      // Answered; the handler's own promise is still to settle.
      return pending.then(() => this.#end(), (e) => this.#finish(undefined, { error: e }));
    }
    return this.#finish(pending === undefined ? undefined : pending, undefined);
  }

  /** Requests that no mount sees: shutting down, CONNECT, a body declared too large, `OPTIONS *`. */
  async #answerSpecial(): Promise<void> {
    const host = this.#host;
    await answerSpecial(
      this.#scope(),
      this.parsed,
      host.ctx.draining,
      this.#limit,
      () => host.closeFor("refused"),
    );
  }

  /** This exchange for the shared policy (`src/http/exchange.ts`). */
  #scope(): ExchangeScope {
    const host = this.#host;
    return {
      ctx: host.ctx,
      req: this.req,
      res: this.res,
      mount: this.mount,
      sendError: (status, message, headers) => this.sendError(status, message, headers),
      // A body whose framing failed (or that was too large) leaves the stream out of sync.
      refusing: (r) => {
        if (r instanceof ParseError) host.closeFor("refused");
      },
    };
  }

  /** Waits for the handler (or handles its failure), then ends the exchange. */
  #finish(pending: Promise<void> | undefined, thrown: { error: unknown } | undefined): Promise<boolean> {
    return this.#guarded(async () => {
      if (thrown !== undefined) await this.#handlerFailed(thrown.error);
      else if (pending !== undefined) {
        try {
          await pending;
        } catch (e) {
          await this.#handlerFailed(e);
        }
      }
      return await this.#end();
    });
  }

  /** Runs the rest of an exchange: a peer that went away meanwhile ends the connection (false). */
  async #guarded(rest: () => Promise<boolean>): Promise<boolean> {
    try {
      return await rest();
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      return false;
    }
  }

  /**
   * The one end of every exchange: a response the handler left open is finished, the exchange is
   * recorded once, an unread body is drained (or the connection marked to close), and the answer
   * says whether the connection goes on. Without a promise turn when there is nothing left to do.
   */
  #end(): boolean | Promise<boolean> {
    if (this.res.finished && this.body.done) {
      this.#host.recorder.record(this.res, this.req, this.mount);
      return this.#goesOn();
    }
    return this.#endOpen();
  }

  /** {@linkcode Exchange.#end} when the response is still open or the body unread. */
  async #endOpen(): Promise<boolean> {
    const { res, body } = this;
    const host = this.#host;
    await finishOpen(this.#scope());
    host.recorder.record(res, this.req, this.mount);
    if (!body.done) {
      if (
        body.failed || (this.parsed.expectContinue && !body.started) || res.closeAfter ||
        !(await body.drain(host.ctx.options.maxDrainBytes))
      ) {
        host.closeFor("unread-body");
        return false;
      }
    }
    return this.#goesOn();
  }

  /** Whether the connection may serve another request after this one. */
  #goesOn(): boolean {
    return !this.res.closeAfter && this.#host.closeReason === undefined && !this.#host.out.failed;
  }

  async #sendContinue(): Promise<void> {
    const host = this.#host;
    if (this.res.headersSent || host.closeReason !== undefined) return;
    host.out.append(CONTINUE_BYTES);
    await host.out.flush();
  }

  /**
   * Turns a handler's failure into its answer (the shared policy, `src/http/exchange.ts`), and the
   * connection's close: a peer gone, a body out of sync, a response cut off after its head. A body
   * cut short by a timeout was counted as that timeout already.
   */
  async #handlerFailed(e: unknown): Promise<void> {
    const host = this.#host;
    const gone = (err: unknown) => isConnectionError(err) || host.socketClosed;
    const outcome = await handlerFailed(this.#scope(), e, gone, host.timedOut !== undefined);
    if (outcome === "gone") host.closeFor("peer-gone");
    else if (outcome === "truncated") host.closeFor("truncated");
  }

  /**
   * Answers with a small error page and `Connection: close`: through this exchange's writer while
   * its head is unsent (recorded where the exchange ends), else on a writer of its own.
   */
  async sendError(status: number, message: string, headers: Array<[string, string]> = []): Promise<void> {
    const host = this.#host;
    host.closeFor("response");
    if (!this.res.headersSent) {
      await sendError(this.res, this.parsed.headers.get("accept"), status, message, headers).catch(peerGone);
      return;
    }
    await refuse(host, status, message, headers, this.req, this.mount);
  }
}

/** Ignores a write that failed because the peer went away. */
function peerGone(e: unknown): void {
  if (!isConnectionError(e)) throw e;
}

/**
 * Answers outside any exchange (a head that failed to parse or timed out) with `status` and
 * `message`, and records it; the connection then closes.
 */
export async function refuse(
  host: ExchangeHost,
  status: number,
  message: string,
  headers: Array<[string, string]> = [],
  req?: ServerRequest,
  mount?: string,
): Promise<void> {
  const sink: ResponseSink = { out: host.out, mustClose: () => true, endOfResponse: () => host.out.flush() };
  const facts: ExchangeFacts = {
    head: false,
    versionMinor: 1,
    requestId: req?.id,
    extraHead: host.secure ? host.ctx.secureHead : undefined,
  };
  const res = new Http1Writer(sink, facts);
  try {
    await sendError(res, req?.headers.get("accept"), status, message, headers);
    host.recorder.record(res, req, mount);
  } catch (e) {
    peerGone(e);
  }
}

/** Answers a head that failed to parse; the connection then closes (after lingering). */
export function rejectHead(host: ExchangeHost, e: ParseError): Promise<void> {
  const ctx = host.ctx;
  bump(ctx.stats.rejections, e.code);
  host.closeFor("refused");
  ctx.log.debug("request rejected", { conn: host.id, status: e.status, reason: e.code });
  return refuse(host, e.status, e.message);
}
