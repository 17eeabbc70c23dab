/**
 * The Python ASGI gateway as a ferry handler. ferry owns the client connection; an asyncio worker
 * (`asgi_worker.py`) runs the app, many requests at once, one frame stream each. The request's
 * scope travels as fields (`type`, `http_version`, `method`, `scheme`, the raw path, the query,
 * `root_path`, `client`, `server`) and the header pairs exactly as received; a small body rides
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
 * {@linkcode CANCEL_GRACE_MS} has its stacks dumped and is replaced). WebSocket requests go to
 * `asgi_websocket.ts`.
 *
 * @module
 */

import type { Handler } from "../../http/dispatch.ts";
import type { ServerRequest } from "../../http/request.ts";
import type { ResponseWriter } from "../../http/writer.ts";
import { STATUS } from "../../http/status.ts";
import { TEXT_PLAIN } from "../../http/error_page.ts";
import type { Logger } from "../../log/logger.ts";
import type { Stats } from "../../stats.ts";
import { creditPayload, decodeHead, FRAME, requestFrame } from "./frames.ts";
import type { PythonPool } from "./pool.ts";
import type { PythonWorker } from "./python_worker.ts";
import {
  acquireWorker,
  CREDIT_WINDOW_BYTES,
  nextStreamId,
  type PythonHandlerOptions,
  toClient,
  writeHead,
} from "./gateway.ts";
import { asgiWebSocket } from "./asgi_websocket.ts";
import { writeScope } from "./asgi_scope.ts";
import { MarshalWriter } from "./marshal.ts";

/** A request body up to this size (with a known length) is read first and travels with the request. */
export const INLINE_BODY_BYTES = 64 * 1024;
/** Request body bytes sent to a worker ahead of what the app has taken with `receive()`. */
export const BODY_WINDOW_BYTES = 256 * 1024;
/**
 * How long a request runs before ferry watches for its client leaving while the app is silent
 * (`req.signal`: a read on the connection); the pool's sweeper adds up to 100 ms.
 */
export const GONE_WATCH_MS = 200;
/** How long a timed-out task gets to end once cancelled, before its worker is replaced. */
export const CANCEL_GRACE_MS = 2000;

const CANCEL_DISCONNECT = new Uint8Array([0]);
const CANCEL_TIMEOUT = new Uint8Array([1]);
const noop = () => {};
const decoder = new TextDecoder();

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
  return async function pythonAsgi(req: ServerRequest, res: ResponseWriter): Promise<void> {
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket" && res.capability("switch") !== undefined) {
      return await asgiWebSocket(pool, req, res, options, scope);
    }
    // A small body with a known length is read first: one frame, and the app's first receive()
    // has it at once.
    let inline: Uint8Array | undefined;
    let more = false;
    if (!req.body.done) {
      if (req.contentLength >= 0 && req.contentLength <= INLINE_BODY_BYTES) inline = await req.body.bytes();
      else more = true;
    }
    const worker = await acquireWorker(pool, req, res, options);
    if (worker === undefined) return;
    await exchange(pool, worker, req, res, scope, inline, more, options.log, options.stats);
  };
}

/** The request body's way to the worker: pieces under a window the app's receive() opens. */
class BodyPump {
  outstanding = 0;
  closed = false;
  #wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(req: ServerRequest, worker: PythonWorker, sid: number, log: Logger) {
    this.done = this.#run(req, worker, sid).catch((e) => {
      log.debug("request body ended early", { id: req.id, error: String(e) });
      if (!this.closed) worker.post(FRAME.Cancel, sid, CANCEL_DISCONNECT);
    });
  }

  /** The app took `n` bytes. */
  ack(n: number): void {
    this.outstanding -= n;
    this.#poke();
  }

  /** The exchange is over: stop sending. */
  close(): void {
    this.closed = true;
    this.#poke();
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async #run(req: ServerRequest, worker: PythonWorker, sid: number): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      while (this.outstanding >= BODY_WINDOW_BYTES && !this.closed) {
        await new Promise<void>((r) => this.#wake = r);
      }
      if (this.closed) return;
      const n = await req.body.readInto(buf);
      if (this.closed) return;
      if (n === null) {
        worker.post(FRAME.Body, sid, new Uint8Array([0]));
        return;
      }
      const payload = new Uint8Array(n + 1);
      payload[0] = 1;
      payload.set(buf.subarray(0, n), 1);
      this.outstanding += n;
      worker.post(FRAME.Body, sid, payload);
    }
  }
}

/** Serves one HTTP request on `worker` and gives the worker back (or has it replaced). */
async function exchange(
  pool: PythonPool,
  worker: PythonWorker,
  req: ServerRequest,
  res: ResponseWriter,
  scope: MarshalWriter,
  inline: Uint8Array | undefined,
  more: boolean,
  log: Logger,
  stats: Stats,
): Promise<void> {
  const sid = nextStreamId();
  const timeoutMs = pool.options.timeout * 1000;
  let timedOut = false;
  worker.open(sid, req.id, noop);
  const unwatch = timeoutMs > 0
    ? pool.watch(timeoutMs, () => worker.interrupt(sid, FRAME.LocalTimeout))
    : noop;
  let clientGone = false;
  let workerOk = false;
  let pump: BodyPump | undefined;
  let owed = 0;
  let lingering = false;
  let signal: AbortSignal | undefined;
  let unwatchGone = noop;
  let trailers: Array<[string, string]> | undefined;
  let trailerBytes = 0;
  const gone = () => {
    if (clientGone) return;
    clientGone = true;
    res.abort();
    worker.post(FRAME.Cancel, sid, CANCEL_DISCONNECT); // the app's receive() says http.disconnect
  };
  try {
    writeScope(scope, req, "http", more);
    await worker.send(requestFrame(sid, CREDIT_WINDOW_BYTES, scope.bytes(), inline));
    if (more) pump = new BodyPump(req, worker, sid, log);
    // A client that leaves while the app is silent (a long poll) is seen too: receive() says
    // http.disconnect. Watching costs a read on the connection, so it begins only once the
    // request has run for GONE_WATCH_MS: quick requests never pay for it.
    unwatchGone = pool.watch(GONE_WATCH_MS, () => {
      unwatchGone = noop;
      signal = req.signal;
      if (signal.aborted) gone();
      else signal.addEventListener("abort", gone);
    });
    for (;;) {
      const f = await worker.streamFrame(sid);
      switch (f.type) {
        case FRAME.Data: {
          if (clientGone) break;
          const room = res.remainingLength;
          if (room >= 0 && f.payload.length > room) {
            log.error("python app sent more than its Content-Length; the response is cut there", {
              id: req.id,
            });
            await res.write(f.payload.subarray(0, room)).catch(noop);
            await res.flush().catch(noop);
            gone();
            break;
          }
          try {
            await res.write(f.payload);
            // A piece reaches the socket without waiting for the next, unless the next is here.
            if (!worker.hasFrame(sid)) await res.flush();
          } catch {
            gone();
            break;
          }
          owed += f.payload.length;
          if (owed >= CREDIT_WINDOW_BYTES / 4 || !worker.hasFrame(sid)) {
            worker.post(FRAME.Credit, sid, creditPayload(owed));
            owed = 0;
          }
          break;
        }
        case FRAME.Head:
          if (timedOut || clientGone) break;
          if (!writeHead(f.payload, req, res, log, { maxHead: pool.options.maxResponseHead, stats })) {
            // Answered 502 or 500 already: the app is told the client went, the answer stands.
            clientGone = true;
            worker.post(FRAME.Cancel, sid, CANCEL_DISCONNECT);
          }
          break;
        case FRAME.BodyAck:
          pump?.ack(new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0));
          break;
        case FRAME.Trailers: {
          // Kept for the end; sent when the client takes them (TE: trailers), else dropped.
          if (clientGone || timedOut) break;
          trailerBytes += f.payload.length;
          if (trailerBytes > pool.options.maxResponseHead) {
            log.error("python app sent response trailers over the head limit; the response is cut", {
              id: req.id,
              limit: pool.options.maxResponseHead,
            });
            gone();
            break;
          }
          (trailers ??= []).push(...decodeHead(f.payload, false).headers);
          break;
        }
        case FRAME.End: {
          workerOk = true;
          if (clientGone || timedOut) return;
          const sendTrailers = trailers !== undefined ? res.capability("trailers") : undefined;
          if (sendTrailers === undefined) await toClient(res, res.end());
          else {
            try {
              await sendTrailers(trailers!);
            } catch (e) {
              // An invalid field (the app's fault) or a client gone: the response is cut.
              if (e instanceof TypeError) {
                log.error("python app sent invalid response trailers; the response is cut", {
                  id: req.id,
                  error: String(e),
                });
              }
              res.abort();
            }
          }
          return;
        }
        case FRAME.Error: {
          workerOk = true;
          if (timedOut) return;
          stats.handlerErrors++;
          log.error("python app raised", {
            id: req.id,
            pid: worker.pid,
            traceback: decoder.decode(f.payload.subarray(1)),
          });
          if (f.payload[0] === 0 && !res.headersSent) {
            await toClient(
              res,
              res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n"),
            );
          } else res.abort();
          return;
        }
        case FRAME.Log:
          log.error("python app", { id: req.id, pid: worker.pid, line: decoder.decode(f.payload) });
          break;
        case FRAME.LocalTimeout:
          timedOut = true;
          stats.wsgiGatewayTimeout++;
          log.error("python request timed out; its task is cancelled and its stack logged", {
            id: req.id,
            pid: worker.pid,
            timeoutSeconds: timeoutMs / 1000,
          });
          worker.post(FRAME.Cancel, sid, CANCEL_TIMEOUT);
          if (!res.headersSent) {
            await res.send(
              STATUS.GatewayTimeout,
              [TEXT_PLAIN],
              "Gateway Timeout: the app did not answer in time\n",
            )
              .catch(noop);
          } else res.abort();
          // The client has its answer; the stream stays open until the task has ended.
          lingering = true;
          linger(pool, worker, sid, unwatch, log);
          return;
        default:
          throw new Error(`unexpected frame type ${f.type} from the Python worker`);
      }
    }
  } catch (e) {
    // The worker died or broke the protocol: it is not trusted again.
    log.error("python worker failed during a request", { id: req.id, pid: worker.pid, error: String(e) });
    pool.discard(worker, "crash", false);
    if (res.finished) return;
    if (!res.headersSent) {
      stats.wsgiBadGateway++;
      await res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's worker failed\n");
    } else res.abort();
  } finally {
    unwatchGone();
    signal?.removeEventListener("abort", gone);
    if (pump !== undefined) {
      pump.close();
      await pump.done;
    }
    if (!lingering) {
      unwatch();
      worker.close(sid);
      if (workerOk) pool.release(worker);
      else pool.forget(worker);
    }
  }
}

/** Waits (out of the client's way) for a cancelled task's end, then gives its worker back. */
async function linger(
  pool: PythonPool,
  worker: PythonWorker,
  sid: number,
  unwatch: () => void,
  log: Logger,
): Promise<void> {
  unwatch();
  const unwatchGrace = pool.watch(CANCEL_GRACE_MS, () => worker.interrupt(sid, FRAME.LocalTimeout));
  let ok = false;
  try {
    for (;;) {
      const f = await worker.streamFrame(sid);
      if (f.type === FRAME.End || f.type === FRAME.Error) {
        ok = true;
        return;
      }
      if (f.type === FRAME.LocalTimeout) {
        // The cancelled task did not end: the worker is stuck (blocking code on its loop).
        log.error("a timed-out ASGI task did not end; the worker's stacks follow, then it is replaced", {
          pid: worker.pid,
        });
        pool.discard(worker, "timeout", true);
        return;
      }
    }
  } catch {
    // the worker is gone: its exit handler replaces it
  } finally {
    unwatchGrace();
    worker.close(sid);
    if (ok) pool.release(worker);
    else pool.forget(worker);
  }
}
