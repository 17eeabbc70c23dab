/**
 * What happens to a finished exchange besides the wire: the response is counted by status, its
 * latency observed for its mount, its bytes added to the server's total, and its access-log line
 * written. Pipelined responses finished together are timed together, with one clock reading, when
 * the connection next waits for input or closes.
 *
 * @module
 */

import { type AccessEntry, AccessMemo, type Logger } from "../log/logger.ts";
import { bump, type Stats } from "../stats.ts";
import type { Output } from "../net/output.ts";
import type { ServerRequest } from "./request.ts";
import type { ResponseWriter } from "./writer.ts";

/** W3C traceparent: version-traceid-parentid-flags. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** Most responses timed in one burst before they are recorded anyway. */
const MAX_BURST = 64;

/** What the recorder needs of the server. */
export interface RecorderContext {
  /** Counters. */
  readonly stats: Stats;
  /** Logs. */
  readonly log: Logger;
  /** Whether latency is recorded (`--no-metrics` turns it off). */
  readonly options: { readonly metrics: boolean };
  /** Whether a graceful shutdown is under way (the line's phase). */
  readonly draining: boolean;
}

/** What the recorder needs of its connection. */
export interface RecordedConnection {
  /** Connection id. */
  readonly id: number;
  /** The peer's address (before any client view). */
  readonly remoteAddr: string;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** The connection's output, for the bytes written. */
  readonly out: Output;
  /**
   * Whether the connection closes after this response (its burst is then recorded at once);
   * absent: never (HTTP/2 and HTTP/3 record when their connection next waits).
   */
  readonly closing?: boolean;
}

/** One finished exchange waiting for its burst's clock reading. */
interface Finished {
  res: ResponseWriter | undefined;
  req: ServerRequest | undefined;
  mount: string | undefined;
  stream: number | undefined;
}

/**
 * The recorder of one connection.
 *
 * @example
 * ```ts ignore
 * const recorder = new ExchangeRecorder(ctx, connection);
 * recorder.record(res, req, "static");
 * recorder.flush(); // before waiting for input
 * ```
 */
export class ExchangeRecorder {
  #ctx: RecorderContext;
  #conn: RecordedConnection;
  /** Reused records: the first {@linkcode ExchangeRecorder.#count} are this burst's. */
  #burst: Finished[] = [];
  #count = 0;
  /** One entry object per connection, refilled: the logger is done with it when access() returns. */
  #entry: AccessEntry | undefined;
  /** What this connection's JSON access lines repeat, kept between requests. */
  #memo: AccessMemo | undefined;
  #countedOut = 0;

  /** A recorder for `conn` (whose `closing` says whether it closes after this response). */
  constructor(ctx: RecorderContext, conn: RecordedConnection) {
    this.#ctx = ctx;
    this.#conn = conn;
  }

  /** Counts the response now; times and logs it with its burst (`stream`: its HTTP/2 stream). */
  record(
    res: ResponseWriter,
    req: ServerRequest | undefined,
    mount: string | undefined,
    stream?: number,
  ): void {
    if (res.status !== 0) bump(this.#ctx.stats.responses, res.status);
    this.accountOut();
    const slot = this.#burst[this.#count] ??= {
      res: undefined,
      req: undefined,
      mount: undefined,
      stream: undefined,
    };
    slot.res = res;
    slot.req = req;
    slot.mount = mount;
    slot.stream = stream;
    this.#count++;
    if (this.#count >= MAX_BURST || this.#conn.closing === true) this.flush();
  }

  /** Times and logs the responses recorded since the last flush, with one clock reading. */
  flush(): void {
    const n = this.#count;
    if (n === 0) return;
    const now = performance.now();
    // Wall-clock ms at performance.now() = 0: a request's start time is then wall + req.start.
    const wall = this.#ctx.log.accessEnabled ? this.#ctx.log.wallAtZero(now) : 0;
    const burst = this.#burst;
    const stats = this.#ctx.stats;
    const metrics = this.#ctx.options.metrics;
    // Requests of one mount that arrived together (one read) and end together (this flush) took
    // the same time: their latency is recorded once, with their count.
    let runMount: string | undefined;
    let runStart = 0;
    let runCount = 0;
    for (let i = 0; i < n; i++) {
      const f = burst[i];
      const req = f.req;
      const mount = f.mount;
      if (metrics && req !== undefined && mount !== undefined) {
        if (runCount > 0 && mount === runMount && req.start === runStart) runCount++;
        else {
          if (runCount > 0) stats.observe(runMount!, now - runStart, runCount);
          runMount = mount;
          runStart = req.start;
          runCount = 1;
        }
      }
      this.#one(f.res!, req, f.stream, now, wall);
      f.res = undefined; // nothing of a finished exchange is kept
      f.req = undefined;
    }
    if (runCount > 0) stats.observe(runMount!, now - runStart, runCount);
    this.#count = 0;
  }

  /** Adds the bytes written since the last call to the server's total. */
  accountOut(): void {
    const written = this.#conn.out.bytesWritten;
    this.#ctx.stats.bytesOut += written - this.#countedOut;
    this.#countedOut = written;
  }

  /** Logs one response (its latency is recorded by {@linkcode ExchangeRecorder.flush}). */
  #one(
    res: ResponseWriter,
    req: ServerRequest | undefined,
    stream: number | undefined,
    now: number,
    wall: number,
  ): void {
    const ctx = this.#ctx;
    const conn = this.#conn;
    const log = ctx.log;
    if (!log.accessEnabled) return;
    // One pass over the header names for the three fields the line carries.
    let ua: string | undefined;
    let referer: string | undefined;
    let traceparent: string | undefined;
    if (req !== undefined) {
      const names = req.headers.names;
      const values = req.headers.values;
      for (let i = 0; i < names.length; i++) {
        const n = names[i];
        if (n.length === 10 && n === "user-agent") ua = ua === undefined ? values[i] : `${ua}, ${values[i]}`;
        else if (n.length === 7 && n === "referer") {
          referer = referer === undefined ? values[i] : `${referer}, ${values[i]}`;
        } else if (n.length === 11 && n === "traceparent") {
          // A repeated traceparent is invalid (W3C Trace Context §3.2): joined, it will not match.
          traceparent = traceparent === undefined ? values[i] : `${traceparent}, ${values[i]}`;
        }
      }
    }
    const e = this.#entry ??= {
      time: 0,
      conn: conn.id,
      id: "-",
      remote: conn.remoteAddr,
      method: "-",
      target: "-",
      protocol: "HTTP/1.1",
      status: 0,
      bytes: 0,
      ms: 0,
      ua: undefined,
      referer: undefined,
      tls: conn.secure,
      phase: "running",
      trace: undefined,
    };
    e.time = wall + (req !== undefined ? req.start : now);
    e.remote = req?.clientAddr ?? conn.remoteAddr;
    e.id = req?.id ?? "-";
    e.method = req?.method ?? "-";
    e.target = req?.target ?? "-";
    e.protocol = req?.protocol ?? "HTTP/1.1";
    e.status = res.status;
    e.bytes = res.bodyBytes;
    e.ms = req !== undefined ? now - req.start : 0;
    e.ua = ua;
    e.referer = referer;
    e.phase = ctx.draining ? "draining" : "running";
    e.trace = traceparent !== undefined ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
    e.stream = stream;
    const upstream = req?.upstream;
    e.upstream = upstream?.target;
    e.upstreamMs = upstream?.ms;
    log.access(e, this.#memo ??= new AccessMemo());
  }
}
