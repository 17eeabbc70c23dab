/**
 * The `proxy` action: a {@linkcode Handler} that sends each request to a target of a pool and
 * streams the answer back, over any protocol the client speaks (an HTTP/2 client is proxied to an
 * HTTP/1.1 upstream). Bodies stream both ways under back-pressure (a piece is read from one side
 * only once the other took the last); a response is flushed as it arrives (SSE); trailers pass;
 * a `101` becomes a byte-for-byte tunnel. A target that cannot be reached, resets, or frames its
 * response badly is a 502 (504 past the header timeout), counted against it; an idempotent
 * request is tried on another target within `try_duration` while nothing of it has been sent or
 * read, and a POST never is.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import { sendError } from "../http/error_page.ts";
import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import type { Logger } from "../log/logger.ts";
import type { AllowList } from "../net/cidr.ts";
import { forwardHead } from "./forward_head.ts";
import { connectionHas, hopByHopNames } from "./hop_by_hop.ts";
import { ConnectError, type Pool, type Target } from "./pool.ts";
import { responseFraming, type ResponseHead, UpstreamProtocolError } from "./response_head.ts";
import { relayTunnel } from "./tunnel_relay.ts";
import { turnMono } from "../net/clock.ts";
import type { UpstreamConn } from "./upstream_conn.ts";

/** Options of {@linkcode proxyHandler}. */
export interface ProxyHandlerOptions {
  /** Peers whose `X-Forwarded-*` fields are kept (`--trusted-proxies`); others' are replaced. */
  trusted?: AllowList;
  /** Where failures are logged. */
  log?: Logger;
}

/** Methods retried on another target (RFC 9110 §9.2.2), as nginx's `proxy_next_upstream` does. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
/** Pause before trying targets again once each has been tried (Caddy's `lb_try_interval`). */
const TRY_INTERVAL_MS = 250;

/** How one attempt on one target ended, when it did not answer the client. */
interface Failure {
  /** 502, or 504 past the header timeout. */
  status: number;
  /** Why, for the log. */
  message: string;
  /** Whether another target may be tried (nothing was sent to the client, no body byte read). */
  retryable: boolean;
}

/** What the upstream of a request was, for the access log. */
export interface UpstreamNote {
  /** The target (`127.0.0.1:9001`). */
  target: string;
  /** Milliseconds from sending the request to the response head. */
  ms: number;
}

/**
 * A handler that proxies every request it gets to `pool` (the path and query as received).
 *
 * @example
 * ```ts ignore
 * const pools = createUpstreams({ backend: { targets: ["127.0.0.1:9001"] } }, { stats });
 * const mount = { name: "proxy", prefix: "/api/", handler: proxyHandler(pools.get("backend")!, { log }) };
 * ```
 */
export function proxyHandler(pool: Pool, options: ProxyHandlerOptions = {}): Handler {
  return async function proxy(req: ServerRequest, res: ResponseWriter): Promise<void> {
    const s = pool.settings;
    const started = turnMono();
    const tried = new Set<Target>();
    const upgrade =
      req.headers.has("upgrade") && connectionHas(req.headers.names, req.headers.values, "upgrade") &&
        res.capability("switch") !== undefined
        ? req.headers.get("upgrade")
        : undefined;
    let failure: Failure | undefined;
    for (;;) {
      let t = pool.pick(req.clientAddr, tried);
      if (
        t === undefined && tried.size > 0 &&
        performance.now() - started + TRY_INTERVAL_MS < s.tryDuration * 1000
      ) {
        await new Promise((r) => setTimeout(r, TRY_INTERVAL_MS));
        tried.clear();
        t = pool.pick(req.clientAddr, tried);
      }
      if (t === undefined) break;
      if (tried.size > 0) pool.retried(t);
      tried.add(t);
      failure = await attempt(pool, t, req, res, upgrade, options);
      if (failure === undefined) return;
      options.log?.warn("upstream failed", {
        upstream: s.name,
        target: t.name,
        id: req.id,
        error: failure.message,
      });
      const canRetry = failure.retryable && IDEMPOTENT.has(req.method) && !req.body.started &&
        !res.headersSent &&
        performance.now() - started < s.tryDuration * 1000;
      if (!canRetry) break;
    }
    if (res.headersSent) {
      if (!res.finished) res.abort();
      return;
    }
    const status = failure?.status ?? 502;
    const why = failure === undefined
      ? `upstream ${s.name}: no target is available`
      : `upstream ${s.name} failed`;
    await sendError(
      res,
      req.headers.get("accept"),
      status,
      status === 504 ? "Gateway Timeout" : "Bad Gateway",
      [
        ["X-Ferry-Upstream-Error", why],
      ],
    );
  };
}

/** One try of `req` on `t`: undefined when the client was answered, else why not. */
async function attempt(
  pool: Pool,
  t: Target,
  req: ServerRequest,
  res: ResponseWriter,
  upgrade: string | undefined,
  options: ProxyHandlerOptions,
): Promise<Failure | undefined> {
  pool.begin(t);
  let conn: UpstreamConn;
  try {
    conn = await pool.connect(t);
  } catch (e) {
    pool.end(t, undefined, true);
    const timedOut = e instanceof ConnectError && e.timedOut;
    return { status: timedOut ? 504 : 502, message: (e as Error).message, retryable: true };
  }
  const sentAt = turnMono();
  let headMs: number | undefined;
  pool.awaitHead(conn);
  let pump: Promise<boolean> | undefined;
  /** The upstream's part is over: its request counted ended, its connection released or closed. */
  let settled = false;
  try {
    await conn.write(forwardHead(req, { trusted: options.trusted, upgrade, fallbackHost: t.name }));
    if ((req.contentLength > 0 || req.chunked) && !req.body.done) pump = pumpBody(req, conn);
    let head: ResponseHead;
    for (;;) {
      head = await conn.readHead();
      if (head.status >= 200 || (head.status === 101 && upgrade !== undefined)) break;
      if (head.status === 101) {
        throw new UpstreamProtocolError("unasked_101", "a 101 to a request without Upgrade");
      }
    }
    pool.headArrived(conn);
    headMs = performance.now() - sentAt;
    req.upstream = { target: t.name, ms: headMs } satisfies UpstreamNote;
    const framing = responseFraming(head, req.method);
    const drop = hopByHopNames(head.names, head.values);
    const headers: Array<[string, string]> = [];
    let length = -1;
    for (let i = 0; i < head.names.length; i++) {
      const n = head.names[i];
      if (n === "content-length") {
        if (framing.kind === "length") length = framing.length;
        else if (req.method === "HEAD" && head.status !== 304) headers.push([n, head.values[i]]);
        continue;
      }
      if (!drop.has(n)) headers.push([n, head.values[i]]);
    }
    if (head.status === 101) {
      const switchTo = res.capability("switch")!;
      const tunnel = await switchTo(head.values[head.names.indexOf("upgrade")] ?? upgrade!, headers);
      pool.end(t, headMs, false);
      settled = true;
      await relayTunnel(tunnel, conn);
      return undefined;
    }
    res.writeHead(head.status, headers, length);
    conn.beginBody(framing);
    let unflushed = false;
    conn.beforeWait = async () => {
      if (!unflushed) return;
      unflushed = false;
      try {
        await res.flush(); // what arrived is sent before waiting for more
      } catch {
        // the client went away: the next write says so
      }
    };
    let ok = true;
    for (;;) {
      let piece: Uint8Array | null;
      try {
        piece = await conn.readBody();
      } catch (e) {
        ok = false;
        pool.end(t, headMs, true);
        options.log?.warn("upstream failed", { target: t.name, id: req.id, error: (e as Error).message });
        conn.close();
        res.abort();
        return undefined;
      }
      if (piece === null) break;
      try {
        await res.write(piece);
        unflushed = true;
      } catch {
        ok = false; // the client went away: not the upstream's failure
        break;
      }
    }
    conn.beforeWait = undefined;
    const bodySent = pump === undefined ? true : await pump;
    pool.end(t, headMs, false);
    pool.release(t, conn, ok && bodySent && conn.reusable && head.keepAlive && framing.kind !== "close");
    settled = true;
    if (!ok) {
      res.abort();
      return undefined;
    }
    const trailers = res.capability("trailers");
    if (trailers !== undefined && conn.trailers.length > 0) await trailers(conn.trailers);
    else await res.end();
    return undefined;
  } catch (e) {
    if (settled) {
      // The client went away as its response ended: the connection may already carry another
      // request, and this one was counted ended; only the response is cut.
      if (!res.finished) res.abort();
      return undefined;
    }
    pool.headArrived(conn);
    conn.close();
    if (pump !== undefined) await pump;
    if (res.headersSent) {
      pool.end(t, headMs, false);
      if (!res.finished) res.abort();
      return undefined;
    }
    const clientGone = req.body.failed;
    pool.end(t, headMs, !clientGone);
    if (conn.timedOut) {
      return {
        status: 504,
        message: `no response head within ${pool.settings.headerTimeout} s`,
        retryable: true,
      };
    }
    return {
      status: 502,
      message: (e as Error).message,
      retryable: !(e instanceof UpstreamProtocolError) || e.reason.startsWith("closed"),
    };
  }
}

/**
 * Streams the request body to the upstream (chunked when its length is unknown, with its
 * trailers); resolves true when all of it was sent.
 */
async function pumpBody(req: ServerRequest, conn: UpstreamConn): Promise<boolean> {
  const chunked = req.contentLength < 0; // forwardHead said Transfer-Encoding: chunked
  // One buffer for the whole body (a fresh array per piece would wait for the collector: +70 MB
  // for a 200 MB upload), with room before the data for a chunk-size line and after it for CRLF.
  const buf = new Uint8Array(SIZE_ROOM + PIECE + 2);
  const data = buf.subarray(SIZE_ROOM, SIZE_ROOM + PIECE);
  try {
    for (;;) {
      const n = await req.body.readInto(data);
      if (n === null) break;
      if (n === 0) continue;
      if (!chunked) {
        await conn.write(data.subarray(0, n));
        continue;
      }
      const size = `${n.toString(16)}\r\n`;
      const start = SIZE_ROOM - size.length;
      for (let i = 0; i < size.length; i++) buf[start + i] = size.charCodeAt(i);
      buf[SIZE_ROOM + n] = 13;
      buf[SIZE_ROOM + n + 1] = 10;
      await conn.write(buf.subarray(start, SIZE_ROOM + n + 2));
    }
    if (chunked) {
      let end = "0\r\n";
      for (const [n, v] of req.body.trailers ?? []) end += `${n}: ${v}\r\n`;
      await conn.write(ascii(end + "\r\n"));
    }
    return true;
  } catch {
    conn.close(); // a body cut short: the upstream must not take what it got for a whole request
    return false;
  }
}

/** Bytes of a request body read at once (Body.readInto wants at least 64 KiB). */
const PIECE = 64 * 1024;
/** Room for a chunk-size line before the data (16 hex digits and CRLF at most). */
const SIZE_ROOM = 16;

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
