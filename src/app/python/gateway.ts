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

import { mountPoint, pathBelowMount } from "../../http/mount_point.ts";
import { concatBytes } from "../../bytes.ts";
import { join } from "path";
import type { Handler } from "../../http/dispatch.ts";
import type { ServerRequest } from "../../http/request.ts";
import type { ResponseWriter } from "../../http/writer.ts";
import { STATUS } from "../../http/status.ts";
import { TEXT_PLAIN } from "../../http/error_page.ts";
import { PoolBusy, type PythonPool } from "./pool.ts";
import { MarshalWriter } from "./marshal.ts";
import { acquireWorker, HeadMemo, type PythonHandlerOptions, toClient } from "./gateway_stream.ts";
import { WsgiExchange } from "./wsgi_exchange.ts";
import type { PythonWorker } from "./python_worker.ts";

export {
  acquireWorker,
  CREDIT_WINDOW_BYTES,
  nextStreamId,
  type PythonHandlerOptions,
  toClient,
} from "./gateway_stream.ts";

/** Request bodies up to this size travel in memory; larger ones through a temporary file. */
export const MEMORY_BODY_BYTES = 1024 * 1024;
/** A buffered request body. */
interface BufferedBody {
  bytes?: Uint8Array;
  file?: string;
  length: number;
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
  const environ = new MarshalWriter();
  const heads = new HeadMemo();

  return function pythonWsgi(req: ServerRequest, res: ResponseWriter): Promise<void> {
    // The environ travels NUL-separated; only a percent-decoded path can hold a NUL.
    if (req.path.includes("%00")) {
      return res.send(STATUS.BadRequest, [TEXT_PLAIN], "Bad Request: NUL in the request path\n");
    }
    // The common case, no body and a worker free: no wait before the exchange.
    if (req.body.done) return serve(req, res, NO_BODY, pool.take());
    return bufferBody(req, pool.dir).then((body) => serve(req, res, body, undefined));
  };

  async function serve(
    req: ServerRequest,
    res: ResponseWriter,
    body: BufferedBody,
    taken: PythonWorker | undefined,
  ): Promise<void> {
    try {
      let worker = taken ?? await acquireWorker(pool, req, res, options);
      if (worker === undefined) return;
      // A request the worker never began (it was queued behind one that killed the worker) is
      // safe to hand to another worker: it has had no effect yet.
      for (let attempt = 1;; attempt++) {
        writeEnviron(environ, buildEnviron(req, body));
        const exchange = new WsgiExchange(pool, worker, req, res, options, heads);
        const outcome = await exchange.run(environ, body.bytes, attempt < 3);
        if (outcome !== "retry") break;
        pool.counters.count("wsgiRetried");
        try {
          worker = await pool.acquire();
        } catch (e) {
          if (!(e instanceof PoolBusy)) throw e;
          pool.counters.count("wsgiBadGateway");
          await toClient(
            res,
            res.send(STATUS.BadGateway, [TEXT_PLAIN], "Bad Gateway: the app's worker failed\n"),
          );
          return;
        }
      }
    } finally {
      if (body.file !== undefined) await Deno.remove(body.file).catch(() => {});
    }
  }
}

/** A request without a body. */
const NO_BODY: BufferedBody = { length: 0 };

/** Reads the whole body: in memory up to {@linkcode MEMORY_BODY_BYTES}, then into a file. */
async function bufferBody(req: ServerRequest, dir: string): Promise<BufferedBody> {
  if (req.body.done) return NO_BODY;
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
    ["SCRIPT_NAME", pathInfo(mountPoint(req))],
    ["PATH_INFO", pathInfo(pathBelowMount(req))],
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
  const first = env.length; // the headers' entries begin here
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
    // A repeated field joins the first: a scan (the keys are the same remembered strings) costs
    // less than a Map per request for the dozen fields a request has.
    let at = first;
    while (at < env.length && env[at][0] !== key) at++;
    if (at < env.length) env[at][1] += (n === "cookie" ? "; " : ", ") + values[i];
    else env.push([key, values[i]]);
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
