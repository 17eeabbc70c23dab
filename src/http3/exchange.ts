/**
 * The exchange glue of HTTP/3: one request stream's head becomes the contract's
 * `ServerRequest`, its stream an {@linkcode H3Writer}, and the dispatcher's handler runs between
 * them under the exchange policy every protocol shares (`src/http/exchange.ts`: the request id,
 * the special requests, the failure mapping, a response left open).
 *
 * @module
 */

import type { ConnectionContext } from "../http/connection_context.ts";
import type { ExchangeRecorder } from "../http/recorder.ts";
import type { ConnectionInfo } from "../http/request.ts";
import { ServerRequest } from "../http/request.ts";
import { isConnectionError } from "../net/peer_errors.ts";
import {
  answerSpecial,
  type ExchangeScope,
  finishOpen,
  handlerFailed,
  requestIdFor as sharedRequestId,
} from "../http/exchange.ts";
import { KNOWN_METHODS } from "../http/methods.ts";
import { type H3Stream, StreamGone } from "./stream.ts";
import { H3Writer, type StreamSink } from "./writer.ts";
import { FRAME, frame } from "./frames.ts";
import { encodeFieldSection } from "./qpack.ts";

/** The protocol as handlers, logs and gateways see it (WSGI's SERVER_PROTOCOL, ASGI's `http_version` "3"). */
export const HTTP3 = "HTTP/3";

/** What an exchange needs of its connection. */
export interface ExchangeHost extends ConnectionInfo {
  /** The server's side of the connection. */
  readonly ctx: ConnectionContext;
  /** The connection's recorder (counters, access log). */
  readonly recorder: ExchangeRecorder;
  /** Whether the connection has closed. */
  readonly closed: boolean;
}

/** A fresh request id, or the client's `X-Request-Id` when it is a sane one. */
export function requestIdFor(ctx: ConnectionContext, incoming: string | undefined): string {
  return sharedRequestId(incoming, () => ctx.nextRequestId());
}

/** The HSTS value for this server's responses (HTTP/3 is always TLS). */
export function hstsOf(ctx: ConnectionContext): string | undefined {
  return ctx.options.hsts > 0 ? `max-age=${ctx.options.hsts}` : undefined;
}

/**
 * Serves `stream`'s request on `sink`; resolves when the handler is done and the exchange is
 * recorded. Never throws.
 */
export async function serveStream(host: ExchangeHost, stream: H3Stream, sink: StreamSink): Promise<void> {
  const ctx = host.ctx;
  const stats = ctx.stats;
  stats.requestsTotal++;
  const head = stream.head;
  const mount = ctx.dispatcher.route(head.path, head);
  const id = requestIdFor(ctx, head.headers.get("x-request-id"));
  const res = new H3Writer(sink, { head: head.method === "HEAD", requestId: id, hsts: hstsOf(ctx) });
  const client = ctx.clientOf?.(head.headers, host.remoteAddr);
  const req = new ServerRequest(head, HTTP3, stream.body, host, id, performance.now(), client, stream);
  const limit = mount.maxBodyBytes ?? ctx.options.maxBodyBytes;
  if (!stream.remoteEnded && head.headers.get("expect")?.toLowerCase() === "100-continue") {
    // RFC 9110 §10.1.1: the client waits for 100 before its body; it is sent when the body is read.
    stream.body.onFirstRead = () =>
      res.headersSent
        ? Promise.resolve()
        : sink.write(frame(FRAME.HEADERS, encodeFieldSection([[":status", "100"]])));
  }
  const scope: ExchangeScope = { ctx, req, res, mount: mount.name };
  try {
    if (
      head.method === "CONNECT" || !KNOWN_METHODS.has(head.method) || head.contentLength > limit ||
      head.form === "asterisk"
    ) {
      await answerSpecial(scope, head, false, limit);
    } else {
      if (limit > 0 && head.contentLength < 0) stream.maxBody = limit;
      stats.countRequest(mount.name, head.method);
      await mount.handler(req, res);
      await finishOpen(scope);
    }
  } catch (e) {
    const gone = (err: unknown) => err instanceof StreamGone || isConnectionError(err) || host.closed;
    const outcome = await handlerFailed(scope, e, gone);
    if (outcome === "failed" || outcome === "refused") await finishOpen(scope).catch(() => res.abort());
  } finally {
    host.recorder.record(res, req, mount.name, stream.id);
    host.recorder.flush();
  }
}
