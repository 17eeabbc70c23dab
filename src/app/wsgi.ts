/**
 * The WSGI contract (PEP 3333) transposed to TypeScript: an app is called with an `environ` and a
 * `startResponse`, and returns an iterable (or async iterable) body. This module runs such an
 * app as a ferry {@linkcode Handler}.
 *
 * @example
 * ```ts
 * import type { App } from "./wsgi.ts";
 * const app: App = (environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [`Hello from ${environ.PATH_INFO}\n`];
 * };
 * ```
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import type { Logger } from "../log/logger.ts";
import { percentDecode } from "../http/percent.ts";
import { mountPoint, pathBelowMount } from "../http/mount_point.ts";
import { BoundedMap } from "../bounded_map.ts";

/** The request as a WSGI app sees it. */
export type Environ = {
  /** The method. */
  REQUEST_METHOD: string;
  /** Where the app is mounted; ferry mounts apps at the root, so `""`. */
  SCRIPT_NAME: string;
  /** The path, percent-decoded (UTF-8). */
  PATH_INFO: string;
  /** The raw query, without `?`. */
  QUERY_STRING: string;
  /** Content-Type, when the request has one. */
  CONTENT_TYPE?: string;
  /** Content-Length, when the request declares one (absent for chunked or bodiless requests). */
  CONTENT_LENGTH?: string;
  /** The host the request is for (from Host), else the server address. */
  SERVER_NAME: string;
  /** Its port. */
  SERVER_PORT: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  SERVER_PROTOCOL: string;
  /** Client address. */
  REMOTE_ADDR: string;
  /** Client port. */
  REMOTE_PORT: string;
  /** `http` or `https`. */
  "wsgi.url_scheme": "http" | "https";
  /** The request body, streamed. */
  "wsgi.input": AsyncIterable<Uint8Array>;
  /** Writes into the server's error log. */
  "wsgi.errors": { write(text: string): void };
  /** `[1, 0]`. */
  "wsgi.version"?: [number, number];
  /** Whether the server runs more than one worker. */
  "wsgi.multiprocess"?: boolean;
  /** Request id (also sent as X-Request-Id). */
  "ferry.request_id"?: string;
  /** Other request headers: `HTTP_USER_AGENT`, …; repeats joined with `", "`. */
  [HTTP_NAME: `HTTP_${string}`]: string;
};

/** WSGI's `write()`: the imperative way to send body bytes. */
export type Write = (chunk: Uint8Array | string) => void;

/** WSGI's `start_response`. */
export type StartResponse = (status: string, headers: [string, string][], excInfo?: unknown) => Write;

/** What an app returns: the body, piece by piece. */
export type Body = Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

/** A WSGI-style app. */
export type App = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

const encoder = new TextEncoder();

/**
 * PATH_INFO: the path percent-decoded as UTF-8 by the static module's decoder; a path that does
 * not decode (a malformed escape, bytes that are not UTF-8) is passed as it came.
 *
 * @example
 * ```ts
 * import { decodePath } from "./wsgi.ts";
 * console.log(decodePath("/a%20b/caf%C3%A9")); // "/a b/café"
 * ```
 */
export function decodePath(raw: string): string {
  return percentDecode(raw) ?? raw;
}

/**
 * `HTTP_*` keys by lower-case header name, so repeated names cost a lookup, not string work;
 * bounded by bytes, since the names come from clients.
 */
const httpKeys = new BoundedMap<`HTTP_${string}`>(256 * 1024, (k) => k.length * 2);

function httpKey(name: string): `HTTP_${string}` {
  let key = httpKeys.get(name);
  if (key === undefined) {
    key = `HTTP_${name.toUpperCase().replaceAll("-", "_")}`;
    httpKeys.set(name, key);
  }
  return key;
}

/** PEP 3333's `(1, 0)`, one frozen array for every environ. */
const WSGI_VERSION = Object.freeze([1, 0]) as unknown as [number, number];

/*
 * The last request's Host and what SERVER_NAME and SERVER_PORT make of it, and the last client
 * port as text: a keep-alive client repeats its Host (the parser hands back the very same string).
 */
let lastHost = "";
let lastSecure = false;
let lastServer: { name: string; port: string } = { name: "", port: "" };
let lastPort = -1;
let lastPortText = "";

/** {@linkcode ServerRequest.serverAddress}, remembered for a repeated Host. */
function serverAddress(req: ServerRequest): { name: string; port: string } {
  const host = req.host;
  if (host === "") return req.serverAddress();
  if (host !== lastHost || req.secure !== lastSecure) {
    lastServer = req.serverAddress();
    lastHost = host;
    lastSecure = req.secure;
  }
  return lastServer;
}

/** `String(port)`, remembered for a repeated port. */
function portText(port: number): string {
  if (port !== lastPort) {
    lastPortText = String(port);
    lastPort = port;
  }
  return lastPortText;
}

/** Writes into the log with the request id: WSGI's `wsgi.errors`. */
class ErrorStream {
  readonly #log: Logger;
  readonly #id: string;
  constructor(log: Logger, id: string) {
    this.#log = log;
    this.#id = id;
  }
  /** Logs `text` at warn level. */
  write(text: string): void {
    this.#log.warn("wsgi.errors", { id: this.#id, text });
  }
}

/** Builds the environ of a request. */
export function buildEnviron(req: ServerRequest, log: Logger, multiprocess = false): Environ {
  const { name, port } = serverAddress(req);
  const env: Environ = {
    REQUEST_METHOD: req.method,
    SCRIPT_NAME: decodePath(mountPoint(req)),
    PATH_INFO: decodePath(pathBelowMount(req)),
    QUERY_STRING: req.query,
    SERVER_NAME: name,
    SERVER_PORT: port,
    SERVER_PROTOCOL: req.protocol,
    REMOTE_ADDR: req.clientAddr,
    REMOTE_PORT: portText(req.clientPort),
    "wsgi.url_scheme": req.scheme,
    "wsgi.input": req.body,
    "wsgi.errors": new ErrorStream(log, req.id),
    "wsgi.version": WSGI_VERSION,
    "wsgi.multiprocess": multiprocess,
    "ferry.request_id": req.id,
  };
  const names = req.headers.names;
  const values = req.headers.values;
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (n === "content-type") env.CONTENT_TYPE = values[i];
    else if (n === "content-length") env.CONTENT_LENGTH = String(req.contentLength);
    else if (n.includes("_")) {
      // "X_Forwarded_For" and "X-Forwarded-For" would both become HTTP_X_FORWARDED_FOR: a
      // client could spoof a header a proxy sets. Names with "_" are left out (as nginx does).
      continue;
    } else {
      const key = httpKey(n);
      const prev = env[key];
      env[key] = prev === undefined ? values[i] : `${prev}, ${values[i]}`;
    }
  }
  return env;
}

/** Parses `"404 Not Found"` into 404; throws TypeError for anything else. */
function statusCode(status: string): number {
  const a = status.charCodeAt(0) - 48;
  const b = status.charCodeAt(1) - 48;
  const c = status.charCodeAt(2) - 48;
  if (
    a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9 &&
    (status.length === 3 || status.charCodeAt(3) === 0x20)
  ) return a * 100 + b * 10 + c;
  throw new TypeError(`WSGI status must be "NNN Reason", got ${JSON.stringify(status)}`);
}

/** UTF-8 length of a string without encoding it. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}

/** Options of {@linkcode wsgiHandler}. */
export interface WsgiOptions {
  /** The log behind `wsgi.errors`. */
  log: Logger;
  /**
   * Value of `wsgi.multiprocess`.
   * @default {false}
   */
  multiprocess?: boolean;
}

/**
 * Runs a WSGI-style `app` as a ferry handler. Headers go out with the first non-empty piece of
 * body; the app's Content-Length is used when given (and computed when the body is an array),
 * otherwise the body is chunked (HTTP/1.1) or close-delimited (HTTP/1.0). HEAD runs the app and
 * sends no body. The body iterator's `return()` (and a PEP-style `close()`) is always called,
 * also when the client goes away.
 *
 * @example
 * ```ts ignore
 * const handler = wsgiHandler(myApp, { log });
 * ```
 */
export function wsgiHandler(app: App, options: WsgiOptions): Handler {
  const multiprocess = options.multiprocess ?? false;
  return function wsgi(req: ServerRequest, res: ResponseWriter): Promise<void> {
    const environ = buildEnviron(req, options.log, multiprocess);
    const call = new WsgiCall(res);
    const result = app(environ, call.startResponse);
    if (
      Array.isArray(result) && result.length === 1 && call.started && call.pending === undefined &&
      !res.headersSent
    ) {
      // The common case, without a promise turn: one piece, sent with the head.
      try {
        return res.send(call.status, call.headers, result[0]);
      } finally {
        closeBody(result);
      }
    }
    return sendBody(call, result, res);
  };
}

/** PEP 3333: a body with a `close()` has it called when the response is done. */
function closeBody(body: unknown): void {
  const maybeClose = (body as { close?: () => unknown }).close;
  if (typeof maybeClose === "function") maybeClose.call(body);
}

/** One app call's response state, and the `start_response` / `write` it hands the app. */
class WsgiCall {
  status = 0;
  headers: [string, string][] = [];
  started = false;
  /** Content-Length given by the app, or -1. */
  headerLength = -1;
  /** write() is synchronous for the app; its pieces are sent in order behind this chain. */
  pending: Promise<void> | undefined;
  writeError: unknown;
  readonly res: ResponseWriter;
  readonly startResponse: StartResponse;

  constructor(res: ResponseWriter) {
    this.res = res;
    this.startResponse = (s, h, excInfo) => {
      if (this.started && excInfo === undefined) {
        throw new Error("start_response() called twice without exc_info");
      }
      if (res.headersSent) {
        // PEP 3333: too late to change the status; re-raise the app's error.
        throw excInfo;
      }
      this.status = statusCode(s);
      this.headers = h;
      this.headerLength = -1;
      for (let i = 0; i < h.length; i++) {
        const n = h[i][0];
        if (n.length === 14 && n.toLowerCase() === "content-length") this.headerLength = Number(h[i][1]);
      }
      this.started = true;
      return this.write;
    };
  }

  /** WSGI's `write()`. */
  readonly write: Write = (chunk) => {
    if (!this.started) throw new Error("write() called before start_response()");
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    if (bytes.length === 0) return;
    const res = this.res;
    this.pending = (this.pending ?? Promise.resolve()).then(async () => {
      this.sendHead(-1);
      await res.write(bytes);
      await res.flush();
    }).catch((e) => {
      this.writeError ??= e;
    });
  };

  /** Writes the head, with `contentLength` unless the app gave its own. */
  sendHead(contentLength: number): void {
    if (this.res.headersSent) return;
    this.res.writeHead(this.status, this.headers, this.headerLength >= 0 ? -1 : contentLength);
  }

  /** Waits for write() pieces; rethrows their failure. */
  async settle(): Promise<void> {
    if (this.pending !== undefined) await this.pending;
    if (this.writeError !== undefined) throw this.writeError;
  }
}

/** Sends whatever body the app returned (a promise, an array, an iterable or async iterable). */
async function sendBody(call: WsgiCall, result: Body | Promise<Body>, res: ResponseWriter): Promise<void> {
  const body = result instanceof Promise ? await result : result;

  // A plain array is a whole body: sent with a Content-Length, in one write.
  if (Array.isArray(body)) {
    try {
      await call.settle();
      if (!call.started) throw new Error("the app returned without calling start_response()");
      if (!res.headersSent && body.length === 1) {
        return await res.send(call.status, call.headers, body[0]);
      }
      let total = 0;
      for (const p of body) total += typeof p === "string" ? utf8Length(p) : p.length;
      if (!res.headersSent) call.sendHead(total);
      for (const p of body) await res.write(p);
      await res.end();
    } finally {
      closeBody(body);
    }
    return;
  }

  const iterator = Symbol.asyncIterator in body
    ? (body as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]()
    : (body as Iterable<Uint8Array | string>)[Symbol.iterator]();
  try {
    for (;;) {
      const step = await iterator.next();
      if (step.done) break;
      await call.settle();
      const bytes = typeof step.value === "string" ? encoder.encode(step.value) : step.value;
      if (bytes.length === 0) continue;
      if (!call.started) throw new Error("the app produced a body before calling start_response()");
      call.sendHead(-1);
      await res.write(bytes);
      // PEP 3333: a piece is sent before the next one is asked for.
      await res.flush();
    }
    await call.settle();
    if (!call.started) throw new Error("the app returned without calling start_response()");
    if (!res.headersSent) call.sendHead(0);
    await res.end();
  } finally {
    try {
      await iterator.return?.();
    } finally {
      closeBody(body);
    }
  }
}
