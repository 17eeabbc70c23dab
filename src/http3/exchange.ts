/**
 * The exchange glue of HTTP/3: one request stream's head becomes the contract's
 * `ServerRequest`, its stream an {@linkcode H3Writer}, and the dispatcher's handler runs between
 * them with the same failure mapping as HTTP/2 (CONNECT 501, a body over the limit 413, a
 * handler that did not answer 500, a handler that threw 500 or a reset). Kept apart so that it
 * can move onto the shared exchange (`src/http/`) as HTTP/1.1's and HTTP/2's do.
 *
 * @module
 */

import type { ConnectionContext } from "../http/connection_context.ts";
import type { ExchangeRecorder } from "../http/recorder.ts";
import type { Handler } from "../http/dispatch.ts";
import type { ConnectionInfo } from "../http/request.ts";
import { ServerRequest } from "../http/request.ts";
import { sendError } from "../http/error_page.ts";
import { Refusal } from "../http/refusal.ts";
import { STATUS } from "../http/status.ts";
import { bump } from "../stats.ts";
import { isConnectionError } from "../net/peer_errors.ts";
import { type H3Stream, StreamGone } from "./stream.ts";
import { H3Writer, type StreamSink } from "./writer.ts";
import { FRAME, frame } from "./frames.ts";
import { encodeFieldSection } from "./qpack.ts";

const REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;
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
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : ctx.nextRequestId();
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
  try {
    if (head.method === "CONNECT" || head.contentLength > limit) {
      const connect = head.method === "CONNECT";
      bump(stats.rejections, connect ? "connect" : "body_too_large");
      await sendError(
        res,
        head.headers.get("accept"),
        connect ? STATUS.NotImplemented : STATUS.ContentTooLarge,
        connect
          ? "CONNECT is not supported: ferry is not a proxy"
          : `request body is larger than ${limit} bytes`,
      );
    } else if (head.form === "asterisk") {
      await res.send(STATUS.NoContent, [["Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS"]]);
    } else {
      if (limit > 0 && head.contentLength < 0) stream.maxBody = limit;
      stats.countRequest(mount.name, head.method);
      await run(mount.handler, req, res, host, mount.name);
    }
  } catch (e) {
    await failed(e, req, res, host, mount.name);
  } finally {
    host.recorder.record(res, req, mount.name, stream.id);
    host.recorder.flush();
  }
}

async function run(handler: Handler, req: ServerRequest, res: H3Writer, host: ExchangeHost, mount: string) {
  await handler(req, res);
  if (res.finished) return;
  if (res.headersSent) return await res.end();
  host.ctx.log.error("handler returned without responding", { id: req.id, mount });
  await sendError(res, req.headers.get("accept"), STATUS.InternalServerError, "Internal Server Error");
}

async function failed(e: unknown, req: ServerRequest, res: H3Writer, host: ExchangeHost, mount: string) {
  const ctx = host.ctx;
  if (e instanceof StreamGone || isConnectionError(e) || host.closed) {
    res.abort();
    return;
  }
  if (e instanceof Refusal && !res.headersSent) {
    await sendError(res, req.headers.get("accept"), e.status, e.message).catch(() => res.abort());
    return;
  }
  ctx.stats.handlerErrors++;
  ctx.log.error("handler failed", { id: req.id, mount, error: String((e as Error)?.stack ?? e) });
  if (!res.headersSent) {
    await sendError(res, req.headers.get("accept"), STATUS.InternalServerError, "Internal Server Error")
      .catch(() => res.abort());
  } else res.abort();
}
