/**
 * One request's stream to a Python worker, what every exchange (`WsgiExchange`, `AsgiHttpExchange`,
 * `AsgiWebSocketExchange`) is built on: the stream id, the credit given back for response bytes,
 * the app's head written (once decoded per distinct head: see {@linkcode HeadMemo}), its body under
 * the length it declared, the 500/502/504 answers, and the worker's release.
 *
 * @module
 */

import type { ServerRequest } from "../../http/request.ts";
import { PreparedHeaders, type ResponseHeaders, type ResponseWriter } from "../../http/writer.ts";
import { STATUS } from "../../http/status.ts";
import { TEXT_PLAIN } from "../../http/error_page.ts";
import type { Logger } from "../../log/logger.ts";
import type { Stats } from "../../stats.ts";
import { creditPayload, decodeHead, FRAME, responseParts } from "./frames.ts";
import { PoolBusy, type PythonPool } from "./pool.ts";
import type { PythonWorker } from "./python_worker.ts";
import type { StuckClock } from "./stuck_clock.ts";

/** Response bytes a worker may send ahead of what the client has taken. */
export const CREDIT_WINDOW_BYTES = 256 * 1024;

/** RFC 9110 §7.6.1: connection-specific fields a gateway must not forward. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/** Fields the writer manages itself: a head with one of them is written field by field. */
const MANAGED = new Set(["transfer-encoding", "connection", "date", "server", "x-request-id"]);

const EMPTY = new Uint8Array(0);

/** What the gateways need besides the pool. */
export interface PythonHandlerOptions {
  /** The error log (tracebacks, wsgi.errors) and notes. */
  log: Logger;
  /** Counters. */
  stats: Stats;
  /** A Retry-After value for 503s. */
  retryAfter?: () => string;
}

let nextStream = 1;

/** A stream id for a new request (unique per ferry process, never 0). */
export function nextStreamId(): number {
  const sid = nextStream++ >>> 0;
  if (sid === 0) return nextStream++ >>> 0;
  return sid;
}

/**
 * Waits for a write to the client. A client that left (a reset, a closed socket) ends its own
 * request only: the response is abandoned, and the error never reaches the code that decides
 * whether the worker failed. False when the write failed.
 *
 * @example
 * ```ts ignore
 * if (!await toClient(res, res.end())) log.debug("the client left before the end");
 * ```
 */
export async function toClient(res: ResponseWriter, write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch {
    res.abort();
    return false;
  }
}

/**
 * A worker for `req`, or undefined once a 503 (every worker busy, the queue full or its wait
 * over) has been sent.
 */
export async function acquireWorker(
  pool: PythonPool,
  req: ServerRequest,
  res: ResponseWriter,
  options: PythonHandlerOptions,
): Promise<PythonWorker | undefined> {
  try {
    return await pool.acquire();
  } catch (e) {
    if (!(e instanceof PoolBusy)) throw e;
    pool.counters.count("wsgiRefused");
    options.log.warn("no Python worker free", { id: req.id, reason: e.message });
    await toClient(
      res,
      res.send(
        STATUS.ServiceUnavailable,
        [TEXT_PLAIN, ["Retry-After", (options.retryAfter ?? (() => "1"))()]],
        "Service Unavailable: every worker is busy, try again shortly\n",
      ),
    );
    return undefined;
  }
}

/** A decoded app head, as the writer takes it. */
export interface AppHead {
  /** The status code. */
  status: number;
  /** The fields: prepared (validated and encoded once) when the head allows it. */
  headers: ResponseHeaders;
  /** The Content-Length the app gave, when it went into `length` rather than `headers`; else -1. */
  length: number;
  /** Hop-by-hop fields the app sent, dropped. */
  dropped: string[];
}

/**
 * The heads an app sent before, by their HEAD payload's bytes: most apps answer with the same few
 * heads, which are then decoded, filtered and validated once. Bounded (the oldest goes first); one
 * per gateway, so several apps keep their own.
 *
 * @example
 * ```ts
 * import { HeadMemo } from "./gateway_stream.ts";
 * const memo = new HeadMemo();
 * const enc = (s: string) => [0, 0, 0, s.length, ...new TextEncoder().encode(s)];
 * const payload = new Uint8Array([...enc("200 OK"), 0, 0, 0, 1, ...enc("content-length"), ...enc("2")]);
 * console.log(memo.decode(payload) === memo.decode(payload)); // true
 * ```
 */
export class HeadMemo {
  #keys: Uint8Array[] = [];
  #heads: AppHead[] = [];
  #next = 0;

  /** At most this many heads are kept. */
  constructor(readonly limit = 32) {}

  /** The head of a HEAD payload; throws on a malformed payload. */
  decode(payload: Uint8Array): AppHead {
    const keys = this.#keys;
    const n = payload.length;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k.length !== n) continue;
      let j = 0;
      while (j < n && k[j] === payload[j]) j++;
      if (j === n) return this.#heads[i];
    }
    const head = appHead(payload);
    const at = this.#next;
    this.#next = (at + 1) % this.limit;
    keys[at] = payload.slice(); // a view would keep its whole read batch alive
    this.#heads[at] = head;
    return head;
  }
}

/** Decodes, filters and (where the head allows) prepares an app's head. */
function appHead(payload: Uint8Array): AppHead {
  const decoded = decodeHead(payload);
  const status = Number(decoded.status.slice(0, 3));
  const dropped: string[] = [];
  const kept: Array<[string, string]> = [];
  let length = -1;
  let plain = status !== 304 && status >= 200;
  for (const pair of decoded.headers) {
    const lower = pair[0].toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      dropped.push(pair[0]);
      continue;
    }
    if (lower === "content-length" && length < 0 && /^[0-9]{1,15}$/.test(pair[1])) length = Number(pair[1]);
    else if (lower === "content-length" || MANAGED.has(lower)) plain = false;
    kept.push(pair);
  }
  if (plain) {
    try {
      const rest = length < 0 ? kept : kept.filter((p) => p[0].toLowerCase() !== "content-length");
      return { status, headers: new PreparedHeaders(rest), length, dropped };
    } catch {
      // an invalid field: written field by field, where the writer names what is wrong
    }
  }
  return { status, headers: kept, length: -1, dropped };
}

/** The stream of one request on a worker, with what every exchange does with it. */
export class GatewayStream {
  /** The stream id. */
  readonly sid: number = nextStreamId();
  /** The client left (or its answer was given another way): nothing more goes to it. */
  clientGone = false;
  /** The worker finished the stream properly (END or ERROR): it may serve again. */
  workerOk = false;
  /** `--wsgi-timeout`'s clock (see `stuck_clock.ts`): it stands still while a write waits on the client. */
  clock: StuckClock | undefined;
  #owed = 0;

  /** A stream for `req` on `worker`. */
  constructor(
    readonly pool: PythonPool,
    readonly worker: PythonWorker,
    readonly req: ServerRequest,
    readonly res: ResponseWriter,
    readonly options: PythonHandlerOptions,
    readonly heads: HeadMemo,
  ) {}

  /** The error log. */
  get log(): Logger {
    return this.options.log;
  }

  /** The counters. */
  get stats(): Stats {
    return this.options.stats;
  }

  /** The client went away: the writer is abandoned and the app told (`cancel`: CANCEL's payload). */
  gone(cancel?: Uint8Array): void {
    if (this.clientGone) return;
    this.clientGone = true;
    this.res.abort();
    this.worker.post(FRAME.Cancel, this.sid, cancel);
  }

  /**
   * Writes the app's head; false when it is unusable: answered 502 when it is larger than
   * `--wsgi-max-response-head` (its frame's size: the status and each name and value with 4 bytes
   * apiece, as many as `": "` and CRLF take on the wire), 500 when it is malformed.
   */
  head(payload: Uint8Array): boolean {
    const head = this.appHead(payload);
    return head !== undefined && this.writeAppHead(head);
  }

  /** Writes a checked head; false when the writer refused it (answered 500). */
  writeAppHead(head: AppHead): boolean {
    try {
      this.res.writeHead(head.status, head.headers, head.length);
      return true;
    } catch (e) {
      return this.#invalidHead(e);
    }
  }

  /**
   * The whole response at once when the head's body and end arrived with it (most small answers
   * do): head and body go out in one call, with nothing to flush between. False (nothing done)
   * when they did not, or when the body is not the length the head declared.
   */
  async whole(head: AppHead): Promise<boolean> {
    const body = this.wholeBody(head);
    if (body === undefined) return false;
    await this.sendWhole(head, body);
    return true;
  }

  /**
   * The body of a whole response (see {@linkcode GatewayStream.whole}), taken with its END from
   * the stream's waiting frames; undefined (nothing taken) when they are not here.
   */
  wholeBody(head: AppHead): Uint8Array | undefined {
    const q = this.worker.queued(this.sid);
    let body: Uint8Array;
    if (q.length >= 2 && q[0].type === FRAME.Data && q[1].type === FRAME.End) body = q[0].payload;
    else if (q.length >= 1 && q[0].type === FRAME.End) body = EMPTY;
    else return undefined;
    if (head.length !== body.length) return undefined;
    this.worker.takeFrames(this.sid, body === EMPTY ? 1 : 2);
    this.workerOk = true;
    this.clock?.stop(); // the app is done: what is left waits on the client
    return body;
  }

  /** Writes a whole response from {@linkcode GatewayStream.wholeBody}: a client that left is let go. */
  async sendWhole(head: AppHead, body: Uint8Array): Promise<void> {
    const res = this.res;
    let sent: Promise<void>;
    try {
      sent = res.send(head.status, head.headers, body);
    } catch (e) {
      this.#invalidHead(e);
      return;
    }
    try {
      await sent;
    } catch {
      res.abort();
    }
  }

  /**
   * A RESPONSE frame (head, body and end in one): written as {@linkcode GatewayStream.whole}
   * writes, or, when the body is not the length the head declared, as a head, a body and the end.
   */
  async response(payload: Uint8Array): Promise<void> {
    this.workerOk = true;
    this.clock?.stop(); // the app is done: what is left waits on the client
    if (this.clientGone) return;
    const parts = responseParts(payload);
    const head = this.appHead(parts.head);
    if (head === undefined) return; // answered 502 or 500 already
    if (head.length === parts.body.length) return await this.sendWhole(head, parts.body);
    if (!this.writeAppHead(head)) return;
    const { res } = this;
    let body = parts.body;
    if (res.remainingLength >= 0 && body.length > res.remainingLength) {
      this.log.error("python app sent more than its Content-Length; the response is cut there", {
        id: this.req.id,
      });
      body = body.subarray(0, res.remainingLength);
    }
    // The body and the end leave in one write (the end flushes).
    if (body.length > 0 && !await toClient(res, res.write(body))) return;
    await toClient(res, res.end());
  }

  /** The app's head, checked and decoded; undefined when it was answered 502 or 500 instead. */
  appHead(payload: Uint8Array): AppHead | undefined {
    const { req, res, log } = this;
    const maxHead = this.pool.options.maxResponseHead;
    if (payload.length > maxHead) {
      log.error("python app sent a response head over the limit; answered 502", {
        id: req.id,
        bytes: payload.length,
        limit: maxHead,
        fix: "raise --wsgi-max-response-head if the app needs larger heads",
      });
      this.pool.counters.count("wsgiBadGateway");
      toClient(
        res,
        res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's response head is too large\n"),
      );
      return undefined;
    }
    let head: AppHead;
    try {
      head = this.heads.decode(payload);
    } catch (e) {
      this.#invalidHead(e);
      return undefined;
    }
    for (const name of head.dropped) {
      log.warn("python app sent a hop-by-hop header; dropped", { id: req.id, header: name });
    }
    return head;
  }

  #invalidHead(e: unknown): false {
    this.log.error("python app sent an invalid response head", { id: this.req.id, error: String(e) });
    toClient(this.res, this.res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n"));
    return false;
  }

  /**
   * Writes response bytes, no more than the app's Content-Length allows (the rest is cut and the
   * exchange ended), flushed unless more frames of the stream are here already; credit goes back
   * in quarters of the window, or at once when `eager` and nothing else is waiting.
   */
  async data(payload: Uint8Array, eager: boolean, cancel?: Uint8Array): Promise<void> {
    if (this.clientGone) return;
    const { res, worker, sid } = this;
    const room = res.remainingLength;
    if (room >= 0 && payload.length > room) {
      this.log.error("python app sent more than its Content-Length; the response is cut there", {
        id: this.req.id,
      });
      await res.write(payload.subarray(0, room)).catch(() => {});
      await res.flush().catch(() => {});
      return this.gone(cancel);
    }
    try {
      this.clock?.pause(); // waiting on the client, not the app
      await res.write(payload);
      // A piece reaches the socket without waiting for the next, unless the next is here.
      if (!worker.hasFrame(sid)) await res.flush();
    } catch {
      return this.gone(cancel);
    } finally {
      this.clock?.progress(); // a body piece: the app made progress
    }
    this.#owed += payload.length;
    if (this.#owed >= CREDIT_WINDOW_BYTES / 4 || (eager && !worker.hasFrame(sid))) {
      worker.post(FRAME.Credit, sid, creditPayload(this.#owed));
      this.#owed = 0;
    }
  }

  /** The app raised (an ERROR frame): logged with its traceback; 500 before the head, else cut. */
  async raised(payload: Uint8Array): Promise<void> {
    this.workerOk = true;
    this.stats.handlerErrors++;
    this.log.error("python app raised", {
      id: this.req.id,
      pid: this.worker.pid,
      traceback: new TextDecoder().decode(payload.subarray(1)),
    });
    await this.answerError(payload[0] === 0);
  }

  /** 500 when the head may still be written (`beforeHead`), else the response is cut short. */
  async answerError(beforeHead: boolean): Promise<void> {
    const res = this.res;
    if (beforeHead && !res.headersSent) {
      await toClient(res, res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n"));
    } else res.abort();
  }

  /** A line the app wrote (wsgi.errors, an ASGI app's log frame). */
  appLine(what: string, payload: Uint8Array): void {
    this.log.error(what, { id: this.req.id, pid: this.worker.pid, line: new TextDecoder().decode(payload) });
  }

  /** 504 before the head, else the response is cut short. */
  async timedOut(): Promise<void> {
    const res = this.res;
    if (res.finished) return;
    this.pool.counters.count("wsgiGatewayTimeout");
    if (!res.headersSent) {
      await toClient(
        res,
        res.send(STATUS.GatewayTimeout, [TEXT_PLAIN], "Gateway Timeout: the app did not answer in time\n"),
      );
    } else res.abort();
  }

  /** The worker failed the stream (died, broke the protocol): it is replaced; 502 or the response cut. */
  async workerFailed(e: unknown, what = "a request"): Promise<void> {
    const { res, worker } = this;
    this.log.error(`python worker failed during ${what}`, {
      id: this.req.id,
      pid: worker.pid,
      error: String(e),
    });
    this.pool.discard(worker, "crash", false);
    if (res.finished) return;
    if (!res.headersSent) {
      this.pool.counters.count("wsgiBadGateway");
      await toClient(
        res,
        res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's worker failed\n"),
      );
    } else res.abort();
  }

  /** The stream is over: the worker goes back to the pool, or is forgotten when it failed it. */
  release(ok = this.workerOk): void {
    this.worker.close(this.sid);
    if (ok) this.pool.release(this.worker);
    else this.pool.forget(this.worker);
  }
}
