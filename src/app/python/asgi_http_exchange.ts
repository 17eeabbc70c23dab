/**
 * One ASGI HTTP request on a worker (`asgi_worker.py` runs many at once, a stream each): the scope
 * goes out in one frame, with a small body; a larger or chunked body streams as `http.request`
 * pieces under a window the app's `receive()` opens ({@linkcode BodyPump}). The response streams
 * back under the credit window; trailers go out when the client takes them. A client that leaves
 * while the app is silent makes its `receive()` say `http.disconnect`. With no progress for
 * `--wsgi-timeout` (no head yet, or a silence between body pieces: see `stuck_clock.ts`) the
 * answer is 504 (or the response is cut) and the task is cancelled with its stack logged; a worker that does not let go of
 * it within {@linkcode CANCEL_GRACE_MS} has its stacks dumped and is replaced.
 *
 * @module
 */

import type { ServerRequest } from "../../http/request.ts";
import type { ResponseWriter } from "../../http/writer.ts";
import type { Logger } from "../../log/logger.ts";
import { decodeHead, FRAME } from "./frames.ts";
import type { PythonPool } from "./pool.ts";
import type { PythonWorker } from "./python_worker.ts";
import type { MarshalWriter } from "./marshal.ts";
import { writeScope } from "./asgi_scope.ts";
import {
  CREDIT_WINDOW_BYTES,
  GatewayStream,
  type HeadMemo,
  type PythonHandlerOptions,
  toClient,
} from "./gateway_stream.ts";
import { StuckClock } from "./stuck_clock.ts";

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

/**
 * An ASGI HTTP request's exchange with its worker.
 *
 * @example
 * ```ts ignore
 * await new AsgiHttpExchange(pool, worker, req, res, options, heads).run(scope, inline, more);
 * ```
 */
export class AsgiHttpExchange extends GatewayStream {
  #timedOut = false;
  #lingering = false;
  #finished = false;
  #unwatchGone: () => void = noop;
  #signal: AbortSignal | undefined;
  #pump: BodyPump | undefined;
  #trailers: Array<[string, string]> | undefined;
  #trailerBytes = 0;
  #gone = () => this.gone(CANCEL_DISCONNECT); // the app's receive() says http.disconnect

  /** An exchange for `req` on `worker`. */
  constructor(
    pool: PythonPool,
    worker: PythonWorker,
    req: ServerRequest,
    res: ResponseWriter,
    options: PythonHandlerOptions,
    heads: HeadMemo,
  ) {
    super(pool, worker, req, res, options, heads);
  }

  /** Serves the request and gives the worker back (or has it replaced). */
  async run(scope: MarshalWriter, inline?: Uint8Array, more = false): Promise<void> {
    const { pool, worker, sid, req } = this;
    worker.open(sid, req.id, noop);
    // --wsgi-timeout: the wait for the head, then each silence between body pieces.
    const clock = this.clock = new StuckClock(pool, pool.options.timeout * 1000, this.#stuck);
    clock.progress();
    try {
      writeScope(scope, req, "http", more);
      worker.queueRequest(sid, CREDIT_WINDOW_BYTES, scope.bytes(), inline);
      if (more) this.#pump = new BodyPump(req, worker, sid, this.log);
      // A client that leaves while the app is silent (a long poll) is seen too: receive() says
      // http.disconnect. Watching costs a read on the connection, so it begins only once the
      // request has run for GONE_WATCH_MS: quick requests never pay for it.
      this.#unwatchGone = pool.watch(GONE_WATCH_MS, this.#watchGone);
      for (;;) {
        const f = await worker.streamFrame(sid);
        if (f.type === FRAME.Head && !this.#timedOut && !this.clientGone) {
          // Most answers: the head, the body and the end came in one read, and leave in one write.
          clock.progress();
          const head = this.appHead(f.payload);
          const body = head === undefined ? undefined : this.wholeBody(head);
          if (body !== undefined) return await this.sendWhole(head!, body);
          if (head === undefined || !this.writeAppHead(head)) {
            // Answered 502 or 500 already: the app is told the client went, the answer stands.
            this.clientGone = true;
            worker.post(FRAME.Cancel, sid, CANCEL_DISCONNECT);
          }
        } else if (f.type === FRAME.Response && !this.#timedOut) {
          // The same in one frame (most answers): the head, the body and the end.
          return await this.response(f.payload);
        } else if (await this.#frame(f.type, f.payload)) return;
      }
    } catch (e) {
      // The worker died or broke the protocol: it is not trusted again.
      await this.workerFailed(e);
    } finally {
      const pump = this.#pump;
      if (pump !== undefined) {
        pump.close();
        await pump.done;
      }
      this.#finish();
    }
  }

  /** The clock ran out: ferry's own frame on the stream says so. */
  #stuck = () => this.worker.interrupt(this.sid, FRAME.LocalTimeout);

  #watchGone = (): void => {
    this.#unwatchGone = noop;
    const signal = this.#signal = this.req.signal;
    if (signal.aborted) this.#gone();
    else signal.addEventListener("abort", this.#gone);
  };

  /** Handles a frame of the stream; true when the exchange is over. */
  async #frame(type: number, payload: Uint8Array): Promise<boolean> {
    switch (type) {
      case FRAME.Data:
        await this.data(payload, true, CANCEL_DISCONNECT);
        return false;
      case FRAME.Head: // after a timeout or with the client gone (run() writes the others)
        this.clock?.progress();
        return false;
      case FRAME.BodyAck:
        this.clock?.progress(); // the app took a piece of the body
        this.#pump?.ack(new DataView(payload.buffer, payload.byteOffset).getUint32(0));
        return false;
      case FRAME.Trailers:
        this.#trailer(payload);
        return false;
      case FRAME.End:
        this.workerOk = true;
        if (!this.clientGone && !this.#timedOut) await this.#end();
        return true;
      case FRAME.Response: // after a timeout: the client has its answer
        this.workerOk = true;
        return true;
      case FRAME.Error:
        if (this.#timedOut) this.workerOk = true;
        else await this.raised(payload);
        return true;
      case FRAME.Log:
        this.appLine("python app", payload);
        return false;
      case FRAME.LocalTimeout:
        await this.#timeout();
        return true;
      default:
        throw new Error(`unexpected frame type ${type} from the Python worker`);
    }
  }

  /** Trailers are kept for the end; sent when the client takes them (TE: trailers), else dropped. */
  #trailer(payload: Uint8Array): void {
    if (this.clientGone || this.#timedOut) return;
    this.#trailerBytes += payload.length;
    const limit = this.pool.options.maxResponseHead;
    if (this.#trailerBytes > limit) {
      this.log.error("python app sent response trailers over the head limit; the response is cut", {
        id: this.req.id,
        limit,
      });
      return this.#gone();
    }
    (this.#trailers ??= []).push(...decodeHead(payload, false).headers);
  }

  async #end(): Promise<void> {
    const res = this.res;
    const trailers = this.#trailers;
    const sendTrailers = trailers !== undefined ? res.capability("trailers") : undefined;
    if (sendTrailers === undefined) {
      await toClient(res, res.end());
      return;
    }
    try {
      await sendTrailers(trailers!);
    } catch (e) {
      // An invalid field (the app's fault) or a client gone: the response is cut.
      if (e instanceof TypeError) {
        this.log.error("python app sent invalid response trailers; the response is cut", {
          id: this.req.id,
          error: String(e),
        });
      }
      res.abort();
    }
  }

  async #timeout(): Promise<void> {
    this.#timedOut = true;
    this.log.error("python request timed out (no progress within --wsgi-timeout); its task is cancelled", {
      id: this.req.id,
      pid: this.worker.pid,
      timeoutSeconds: this.pool.options.timeout,
      waiting: this.res.headersSent ? "for the next body piece" : "for the response head",
    });
    this.worker.post(FRAME.Cancel, this.sid, CANCEL_TIMEOUT);
    await this.timedOut();
    // The client has its answer; the stream stays open until the task has ended.
    this.#lingering = true;
    linger(this.pool, this.worker, this.sid, () => this.clock?.stop(), this.log);
  }

  /** The exchange is over (once): its watches end and, unless it lingers, the worker goes back. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#unwatchGone();
    this.#signal?.removeEventListener("abort", this.#gone);
    if (!this.#lingering) {
      this.clock?.stop();
      this.release();
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
      if (f.type === FRAME.End || f.type === FRAME.Error || f.type === FRAME.Response) {
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
