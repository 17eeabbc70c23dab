/**
 * The Python WSGI gateway as a ferry handler: ferry owns the client connection, buffers the
 * request body (memory up to 1 MiB, then a temporary file in the private directory, bounded by
 * `--max-body-bytes` as every body is), builds the PEP 3333 environ, hands the request to a free
 * worker and streams its response back under a credit window, so a slow reader holds a worker but
 * never more than a window of ferry's memory.
 *
 * Failures, by when they happen: the app raised before its head → 500 (traceback to the error
 * log with the request id); the worker died or sent garbage before the head → 502; no worker free
 * within the queue bounds → 503 with Retry-After; past `--wsgi-timeout` → 504, the worker's
 * stacks dumped and the worker replaced. After the head, the response is cut short instead (no
 * final chunk, the connection closes), so the client cannot take it for complete.
 *
 * @module
 */

import { concatBytes } from "../../bytes.ts";
import { join } from "path";
import type { Handler } from "../../http/dispatch.ts";
import type { ServerRequest } from "../../http/request.ts";
import type { ResponseWriter } from "../../http/writer.ts";
import { STATUS } from "../../http/status.ts";
import type { Logger } from "../../log/logger.ts";
import type { Stats } from "../../stats.ts";
import { creditPayload, decodeHead, FRAME, requestFrame } from "./frames.ts";
import { PoolBusy, type PythonPool } from "./pool.ts";
import { MarshalWriter } from "./marshal.ts";
import type { PythonWorker } from "./python_worker.ts";
import { TEXT_PLAIN } from "../../http/error_page.ts";

/** Request bodies up to this size travel in memory; larger ones through a temporary file. */
export const MEMORY_BODY_BYTES = 1024 * 1024;
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

/** What the gateway needs besides the pool. */
export interface PythonHandlerOptions {
  /** The error log (tracebacks, wsgi.errors) and notes. */
  log: Logger;
  /** Counters. */
  stats: Stats;
  /** A Retry-After value for 503s. */
  retryAfter?: () => string;
}

/** A buffered request body. */
interface BufferedBody {
  bytes?: Uint8Array;
  file?: string;
  length: number;
}

let nextStream = 1;

/** A stream id for a new request (unique per ferry process, never 0). */
export function nextStreamId(): number {
  const sid = nextStream++ >>> 0;
  if (sid === 0) return nextStream++ >>> 0;
  return sid;
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
    options.stats.wsgiRefused++;
    options.log.warn("no Python worker free", { id: req.id, reason: e.message });
    await res.send(
      STATUS.ServiceUnavailable,
      [TEXT_PLAIN, ["Retry-After", (options.retryAfter ?? (() => "1"))()]],
      "Service Unavailable: every worker is busy, try again shortly\n",
    );
    return undefined;
  }
}

/**
 * The handler that serves requests with the pool's Python app.
 *
 * @example
 * ```ts ignore
 * const app = pythonHandler(pool, { log, stats });
 * ```
 */
export function pythonHandler(pool: PythonPool, options: PythonHandlerOptions): Handler {
  const { log, stats } = options;
  const environ = new MarshalWriter();
  const timeoutMs = pool.options.timeout * 1000;

  return async function pythonWsgi(req: ServerRequest, res: ResponseWriter): Promise<void> {
    // The environ travels NUL-separated; only a percent-decoded path can hold a NUL.
    if (req.path.includes("%00")) {
      return await res.send(STATUS.BadRequest, [TEXT_PLAIN], "Bad Request: NUL in the request path\n");
    }
    const body = await bufferBody(req, pool.dir);
    try {
      let worker = await acquireWorker(pool, req, res, options);
      if (worker === undefined) return;
      // A request the worker never began (it was queued behind one that killed the worker) is
      // safe to hand to another worker: it has had no effect yet.
      for (let attempt = 1;; attempt++) {
        const outcome = await exchange(
          pool,
          worker,
          req,
          res,
          body,
          environ,
          timeoutMs,
          log,
          stats,
          attempt < 3,
        );
        if (outcome !== "retry") break;
        stats.wsgiRetried++;
        try {
          worker = await pool.acquire();
        } catch (e) {
          if (!(e instanceof PoolBusy)) throw e;
          stats.wsgiBadGateway++;
          return await res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's worker failed\n");
        }
      }
    } finally {
      if (body.file !== undefined) await Deno.remove(body.file).catch(() => {});
    }
  };
}

/** Reads the whole body: in memory up to {@linkcode MEMORY_BODY_BYTES}, then into a file. */
async function bufferBody(req: ServerRequest, dir: string): Promise<BufferedBody> {
  if (req.body.done) return { length: 0 };
  const parts: Uint8Array[] = [];
  let length = 0;
  let file: Deno.FsFile | undefined;
  let path: string | undefined;
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await req.body.readInto(buf);
      if (n === null) break;
      if (file === undefined && length + n <= MEMORY_BODY_BYTES) {
        parts.push(buf.slice(0, n));
        length += n;
        continue;
      }
      if (file === undefined) {
        path = join(dir, `body-${crypto.randomUUID()}`);
        file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
        for (const p of parts) await writeAll(file, p);
        parts.length = 0;
      }
      await writeAll(file, buf.subarray(0, n));
      length += n;
    }
  } catch (e) {
    file?.close();
    if (path !== undefined) await Deno.remove(path).catch(() => {});
    throw e;
  }
  if (file !== undefined) {
    file.close();
    return { file: path, length };
  }
  return { bytes: concatBytes(parts, length), length };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/** Percent-decodes a path to bytes and returns them as latin-1 text ("bytes as unicode"). */
export function pathInfo(path: string): string {
  if (!path.includes("%")) return path;
  let out = "";
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x25) {
      const hex = path.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        out += String.fromCharCode(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}

/** `HTTP_` keys by header name, remembered (bounded): the same few names come with every request. */
const environKeys = new Map<string, string>();

function environKey(name: string): string {
  let key = environKeys.get(name);
  if (key === undefined) {
    key = "HTTP_" + name.toUpperCase().replaceAll("-", "_");
    if (environKeys.size >= 512) environKeys.clear();
    environKeys.set(name, key);
  }
  return key;
}

/** The PEP 3333 environ as string pairs (native strings, latin-1). */
export function buildEnviron(req: ServerRequest, body: BufferedBody): Array<[string, string]> {
  const env: Array<[string, string]> = [
    ["REQUEST_METHOD", req.method],
    ["SCRIPT_NAME", ""],
    ["PATH_INFO", pathInfo(req.path)],
    ["QUERY_STRING", req.query],
    ["SERVER_PROTOCOL", req.protocol],
    ["REMOTE_ADDR", req.clientAddr],
    ["REMOTE_PORT", String(req.clientPort)],
    ["wsgi.url_scheme", req.scheme],
    ["ferry.request_id", req.id],
  ];
  const { name, port } = req.serverAddress();
  env.push(["SERVER_NAME", name], ["SERVER_PORT", port]);
  if (body.length > 0 || req.contentLength >= 0 || req.chunked) {
    env.push(["CONTENT_LENGTH", String(body.length)]);
  }
  if (body.file !== undefined) env.push(["ferry.body_file", body.file]);
  const seen = new Map<string, number>();
  const names = req.headers.names;
  const values = req.headers.values;
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    // A name with "_" would land on the same key as its "-" twin: drop it (as gunicorn and nginx do).
    if (n.includes("_")) continue;
    let key: string;
    if (n === "content-type") key = "CONTENT_TYPE";
    else if (n === "content-length" || n === "transfer-encoding") {
      // The body is de-chunked and CONTENT_LENGTH is its real length: a Transfer-Encoding left in
      // the environ would make frameworks (Werkzeug) ignore CONTENT_LENGTH.
      continue;
    } else key = environKey(n);
    const at = seen.get(key);
    if (at !== undefined) {
      env[at][1] += (n === "cookie" ? "; " : ", ") + values[i];
    } else {
      seen.set(key, env.length);
      env.push([key, values[i]]);
    }
  }
  return env;
}

/** Writes environ pairs as a marshalled dict of `str` (latin-1 text stays one char a byte). */
export function writeEnviron(w: MarshalWriter, env: ReadonlyArray<readonly [string, string]>): void {
  w.reset();
  w.dict();
  for (let i = 0; i < env.length; i++) {
    w.text(env[i][0]);
    w.text(env[i][1]);
  }
  w.endDict();
}

/**
 * Serves one request on `worker` and gives the worker back (or has it replaced). "retry" when
 * the worker died before it began this request (and `mayRetry`): nothing was sent to the client.
 */
async function exchange(
  pool: PythonPool,
  worker: PythonWorker,
  req: ServerRequest,
  res: ResponseWriter,
  body: BufferedBody,
  environ: MarshalWriter,
  timeoutMs: number,
  log: Logger,
  stats: Stats,
  mayRetry: boolean,
): Promise<"done" | "retry"> {
  const sid = nextStreamId();
  let timedOut = false;
  let unwatch: (() => void) | undefined;
  // The clock starts when the worker begins this request, not while it waits behind another.
  worker.open(sid, req.id, () => {
    if (timeoutMs <= 0) return;
    unwatch = pool.watch(timeoutMs, () => {
      timedOut = true;
      log.error("python request timed out; the worker's stacks follow, then it is replaced", {
        id: req.id,
        pid: worker.pid,
        timeoutSeconds: timeoutMs / 1000,
      });
      pool.discard(worker, "timeout", true);
    });
  });
  let clientGone = false;
  let workerOk = false;
  let owed = 0;
  try {
    writeEnviron(environ, buildEnviron(req, body));
    await worker.send(requestFrame(sid, CREDIT_WINDOW_BYTES, environ.bytes(), body.bytes));
    for (;;) {
      const f = await worker.streamFrame(sid);
      if (f.type === FRAME.Data) {
        if (!clientGone) {
          const room = res.remainingLength;
          if (room >= 0 && f.payload.length > room) {
            // More than the app's Content-Length: send what it declared, then end the exchange.
            log.error("python app sent more than its Content-Length; the response is cut there", {
              id: req.id,
            });
            await res.write(f.payload.subarray(0, room)).catch(() => {});
            await res.flush().catch(() => {});
            clientGone = true;
            res.abort();
            worker.post(FRAME.Cancel, sid);
            continue;
          }
          try {
            await res.write(f.payload);
            // Each piece the app produced leaves now (a stream, server-sent events); frames that
            // arrived together leave in one write, with the END when it came with them.
            if (!worker.hasFrames(sid)) await res.flush();
          } catch {
            clientGone = true;
            res.abort();
            worker.post(FRAME.Cancel, sid);
            continue;
          }
          // Credit goes back in quarters of the window: one small frame per 64 KiB, none at all
          // for a small response.
          owed += f.payload.length;
          if (owed >= CREDIT_WINDOW_BYTES / 4) {
            worker.post(FRAME.Credit, sid, creditPayload(owed));
            owed = 0;
          }
        }
      } else if (f.type === FRAME.Head) {
        if (!writeHead(f.payload, req, res, log, { maxHead: pool.options.maxResponseHead, stats })) {
          clientGone = true;
          worker.post(FRAME.Cancel, sid);
        }
      } else if (f.type === FRAME.End) {
        workerOk = true;
        if (!clientGone) await toClient(res, res.end());
        return "done";
      } else if (f.type === FRAME.Error) {
        workerOk = true;
        const afterHead = f.payload[0] === 1;
        stats.handlerErrors++;
        log.error("python app raised", {
          id: req.id,
          pid: worker.pid,
          traceback: new TextDecoder().decode(f.payload.subarray(1)),
        });
        if (!afterHead && !res.headersSent) {
          await toClient(res, res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n"));
        } else res.abort();
        return "done";
      } else if (f.type === FRAME.Log) {
        log.error("wsgi.errors", { id: req.id, pid: worker.pid, line: new TextDecoder().decode(f.payload) });
      } else {
        throw new Error(`unexpected frame type ${f.type} from the Python worker`);
      }
    }
  } catch (e) {
    if (mayRetry && !worker.started(sid) && !res.headersSent) return "retry";
    // The worker died, timed out, or broke the protocol: it is not trusted again.
    if (!timedOut) {
      log.error("python worker failed during a request", { id: req.id, pid: worker.pid, error: String(e) });
      pool.discard(worker, "crash", false);
    }
    if (res.finished) return "done";
    if (!res.headersSent) {
      if (timedOut) {
        stats.wsgiGatewayTimeout++;
        await res.send(
          STATUS.GatewayTimeout,
          [TEXT_PLAIN],
          "Gateway Timeout: the app did not answer in time\n",
        );
      } else {
        stats.wsgiBadGateway++;
        await res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's worker failed\n");
      }
    } else res.abort();
    return "done";
  } finally {
    unwatch?.();
    worker.close(sid);
    if (workerOk && !timedOut) pool.release(worker);
    else pool.forget(worker);
  }
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

/** The bound on an app's response head, and where a refusal is counted. */
export interface HeadLimit {
  /** Largest head, bytes (`--wsgi-max-response-head`). */
  maxHead: number;
  /** Counters: a refused head counts as a bad gateway. */
  stats: Stats;
}

/**
 * Writes the app's head; false when it is unusable: answered 502 when it is larger than
 * `limit.maxHead` (its frame's size: the status and each name and value with 4 bytes apiece, as
 * many as `": "` and CRLF take on the wire), 500 when it is malformed.
 */
export function writeHead(
  payload: Uint8Array,
  req: ServerRequest,
  res: ResponseWriter,
  log: Logger,
  limit: HeadLimit,
): boolean {
  if (payload.length > limit.maxHead) {
    log.error("python app sent a response head over the limit; answered 502", {
      id: req.id,
      bytes: payload.length,
      limit: limit.maxHead,
      fix: "raise --wsgi-max-response-head if the app needs larger heads",
    });
    limit.stats.wsgiBadGateway++;
    res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's response head is too large\n").catch(
      () => {},
    );
    return false;
  }
  let status: number;
  let headers: Array<[string, string]>;
  try {
    const head = decodeHead(payload);
    status = Number(head.status.slice(0, 3));
    headers = head.headers.filter(([name]) => {
      if (!HOP_BY_HOP.has(name.toLowerCase())) return true;
      log.warn("python app sent a hop-by-hop header; dropped", { id: req.id, header: name });
      return false;
    });
    res.writeHead(status, headers);
    return true;
  } catch (e) {
    log.error("python app sent an invalid response head", { id: req.id, error: String(e) });
    res.send(STATUS.InternalServerError, [TEXT_PLAIN], "Internal Server Error\n").catch(() => {});
    return false;
  }
}
