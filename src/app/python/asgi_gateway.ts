/**
 * The Python ASGI gateway as a ferry handler. ferry owns the client connection; an asyncio worker
 * (`asgi_worker.py`) runs the app, many requests at once, one frame stream each. The request's
 * scope travels marshalled (`asgi_scope.ts`: one `marshal.loads` makes the dict), the header pairs
 * exactly as received; a small body rides
 * along, a larger or chunked one streams as `http.request` pieces under a window the app's
 * `receive()` opens. The response streams back under a credit window, each piece flushed to the
 * socket when no other is waiting, so a slow reader makes the app's `send()` wait. Response
 * trailers go out through the writer's `trailers` capability (a client that sent `TE: trailers`),
 * and are dropped otherwise. A client that leaves while the app is silent (`req.signal`) makes its
 * `receive()` say `http.disconnect`.
 *
 * Failures: the app raised before `http.response.start` → 500; after it → the connection is cut
 * (no final chunk); the worker died → 502 for each of its requests, and the pool replaces it; no
 * room in any worker within the queue bounds → 503; past `--wsgi-timeout` → 504, the task is
 * cancelled and its stack logged (a worker that does not let go of it within
 * `CANCEL_GRACE_MS` has its stacks dumped and is replaced). HTTP requests are an
 * `AsgiHttpExchange` (`asgi_http_exchange.ts`), WebSocket requests an `AsgiWebSocketExchange`
 * (`asgi_websocket.ts`).
 *
 * @module
 */

import type { Handler } from "../../http/dispatch.ts";
import type { ServerRequest } from "../../http/request.ts";
import type { ResponseWriter } from "../../http/writer.ts";
import type { PythonPool } from "./pool.ts";
import { acquireWorker, HeadMemo, type PythonHandlerOptions } from "./gateway_stream.ts";
import { AsgiWebSocketExchange } from "./asgi_websocket.ts";
import { AsgiHttpExchange } from "./asgi_http_exchange.ts";
import { MarshalWriter } from "./marshal.ts";

/** A request body up to this size (with a known length) is read first and travels with the request. */
export const INLINE_BODY_BYTES = 64 * 1024;

/**
 * The handler that serves requests with the pool's ASGI app.
 *
 * @example
 * ```ts ignore
 * const app = asgiHandler(pool, { log, stats });
 * ```
 */
export function asgiHandler(pool: PythonPool, options: PythonHandlerOptions): Handler {
  const scope = new MarshalWriter();
  const heads = new HeadMemo();
  return function pythonAsgi(req: ServerRequest, res: ResponseWriter): Promise<void> {
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket" && res.capability("switch") !== undefined) {
      return AsgiWebSocketExchange.serve(pool, req, res, options, scope, heads);
    }
    // A small body with a known length is read first: one frame, and the app's first receive()
    // has it at once.
    if (!req.body.done) return withBody(req, res);
    // The common case, a request without a body and a worker with room: no wait at all before the
    // exchange.
    const worker = pool.take();
    if (worker !== undefined) return new AsgiHttpExchange(pool, worker, req, res, options, heads).run(scope);
    return serve(req, res, undefined, false);
  };

  async function withBody(req: ServerRequest, res: ResponseWriter): Promise<void> {
    if (req.contentLength >= 0 && req.contentLength <= INLINE_BODY_BYTES) {
      await serve(req, res, await req.body.bytes(), false);
    } else await serve(req, res, undefined, true);
  }

  async function serve(
    req: ServerRequest,
    res: ResponseWriter,
    inline: Uint8Array | undefined,
    more: boolean,
  ): Promise<void> {
    const worker = await acquireWorker(pool, req, res, options);
    if (worker === undefined) return;
    await new AsgiHttpExchange(pool, worker, req, res, options, heads).run(scope, inline, more);
  }
}
