/**
 * One WSGI request on a worker: the environ goes out in one frame (with the body when it is in
 * memory), the head, body pieces and the end come back. The worker serves its requests in order,
 * so the clock (`--wsgi-timeout`: the wait for the head, then each silence between body pieces;
 * see `stuck_clock.ts`) starts when this one is at the head of the worker's line; past it the
 * worker's stacks are dumped, the answer is 504 (or the response is cut) and the worker is replaced.
 *
 * @module
 */

import type { ServerRequest } from "../../http/request.ts";
import type { ResponseWriter } from "../../http/writer.ts";
import { FRAME } from "./frames.ts";
import type { PythonPool } from "./pool.ts";
import type { PythonWorker } from "./python_worker.ts";
import type { MarshalWriter } from "./marshal.ts";
import {
  CREDIT_WINDOW_BYTES,
  GatewayStream,
  type HeadMemo,
  type PythonHandlerOptions,
  toClient,
} from "./gateway_stream.ts";
import { StuckClock } from "./stuck_clock.ts";

/** How an exchange ended: "retry" when the worker died before it began the request. */
export type WsgiOutcome = "done" | "retry";

/**
 * A WSGI request's exchange with its worker.
 *
 * @example
 * ```ts ignore
 * const outcome = await new WsgiExchange(pool, worker, req, res, options, heads).run(frameOf, true);
 * ```
 */
export class WsgiExchange extends GatewayStream {
  #timedOut = false;

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

  /**
   * Serves the request (its environ marshalled in `environ`, its in-memory body `body`) and gives
   * the worker back, or has it replaced. "retry" when the worker died before it began this request
   * (and `mayRetry`): nothing was sent to the client.
   */
  async run(environ: MarshalWriter, body: Uint8Array | undefined, mayRetry: boolean): Promise<WsgiOutcome> {
    const { worker, sid, req, res } = this;
    const clock = this.clock = new StuckClock(
      this.pool,
      this.pool.options.timeout * 1000,
      () => this.#stuck(),
    );
    // The clock starts when the worker begins this request, not while it waits behind another.
    worker.open(sid, req.id, () => clock.progress());
    try {
      worker.queueRequest(sid, CREDIT_WINDOW_BYTES, environ.bytes(), body);
      for (;;) {
        const f = await worker.streamFrame(sid);
        if (f.type === FRAME.Data) await this.data(f.payload, false);
        else if (f.type === FRAME.Head) {
          clock.progress();
          const head = this.appHead(f.payload);
          const whole = head === undefined ? undefined : this.wholeBody(head);
          if (whole !== undefined) {
            await this.sendWhole(head!, whole);
            return "done";
          }
          if (head === undefined || !this.writeAppHead(head)) {
            this.clientGone = true;
            worker.post(FRAME.Cancel, sid);
          }
        } else if (f.type === FRAME.Response) {
          clock.progress();
          await this.response(f.payload);
          return "done";
        } else if (f.type === FRAME.End) {
          this.workerOk = true;
          if (!this.clientGone) await toClient(res, res.end());
          return "done";
        } else if (f.type === FRAME.Error) {
          await this.raised(f.payload);
          return "done";
        } else if (f.type === FRAME.Log) this.appLine("wsgi.errors", f.payload);
        else throw new Error(`unexpected frame type ${f.type} from the Python worker`);
      }
    } catch (e) {
      if (mayRetry && !worker.started(sid) && !res.headersSent) return "retry";
      // The worker died, timed out, or broke the protocol: it is not trusted again.
      if (this.#timedOut) await this.timedOut();
      else await this.workerFailed(e);
      return "done";
    } finally {
      clock.stop();
      this.release(this.workerOk && !this.#timedOut);
    }
  }

  /** No progress for `--wsgi-timeout`: the worker's stacks are dumped and it is replaced. */
  #stuck(): void {
    this.#timedOut = true;
    this.log.error(
      "python request timed out (no progress within --wsgi-timeout); the worker's stacks follow",
      {
        id: this.req.id,
        pid: this.worker.pid,
        timeoutSeconds: this.pool.options.timeout,
        waiting: this.res.headersSent ? "for the next body piece" : "for the response head",
      },
    );
    this.pool.discard(this.worker, "timeout", true);
  }
}
