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

import type { Handler } from "../dispatch.ts";
import type { ServerRequest } from "../http1/request.ts";
import type { ResponseWriter } from "../http1/writer.ts";
import type { Logger } from "../log/logger.ts";
import { stripPort } from "../server.ts";

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
 * Decodes `%XX` escapes and reads the result as UTF-8 (malformed sequences become U+FFFD; a `%`
 * that is not an escape stays as it is).
 *
 * @example
 * ```ts
 * import { decodePath } from "./wsgi.ts";
 * console.log(decodePath("/a%20b/caf%C3%A9")); // "/a b/café"
 * ```
 */
export function decodePath(raw: string): string {
  if (!raw.includes("%")) return raw;
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && i + 2 < raw.length) {
      const v = parseInt(raw.slice(i + 1, i + 3), 16);
      if (/^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
        out.push(v);
        i += 2;
        continue;
      }
    }
    out.push(c);
  }
  return new TextDecoder().decode(Uint8Array.from(out));
}

/** Builds the environ of a request. */
export function buildEnviron(req: ServerRequest, log: Logger, multiprocess = false): Environ {
  const host = req.host !== "" ? req.host : `${req.conn.localAddr}:${req.conn.localPort}`;
  const name = stripPort(host);
  const portPart = host.slice(name.length + 1);
  const env: Environ = {
    REQUEST_METHOD: req.method,
    SCRIPT_NAME: "",
    PATH_INFO: decodePath(req.path),
    QUERY_STRING: req.query,
    SERVER_NAME: name,
    SERVER_PORT: portPart !== "" ? portPart : (req.conn.secure ? "443" : "80"),
    SERVER_PROTOCOL: req.protocol,
    REMOTE_ADDR: req.conn.remoteAddr,
    REMOTE_PORT: String(req.conn.remotePort),
    "wsgi.url_scheme": req.conn.secure ? "https" : "http",
    "wsgi.input": req.body,
    "wsgi.errors": { write: (text: string) => log.warn("wsgi.errors", { id: req.id, text }) },
    "wsgi.version": [1, 0],
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
      const key = `HTTP_${n.toUpperCase().replaceAll("-", "_")}` as const;
      const prev = env[key];
      env[key] = prev === undefined ? values[i] : `${prev}, ${values[i]}`;
    }
  }
  return env;
}

/** Parses `"404 Not Found"` into 404; throws TypeError for anything else. */
function statusCode(status: string): number {
  const m = /^(\d{3})(?: .*)?$/.exec(status);
  if (!m) throw new TypeError(`WSGI status must be "NNN Reason", got ${JSON.stringify(status)}`);
  return Number(m[1]);
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
  return async function wsgi(req: ServerRequest, res: ResponseWriter): Promise<void> {
    const environ = buildEnviron(req, options.log, options.multiprocess ?? false);
    let status = 0;
    let headers: [string, string][] = [];
    let started = false;
    let headerLength = -1;
    // write() is synchronous for the app; its pieces are sent in order behind this chain.
    let pending: Promise<void> = Promise.resolve();
    let writeError: unknown;

    const sendHead = (contentLength: number) => {
      if (res.headersSent) return;
      res.writeHead(status, headers, headerLength >= 0 ? -1 : contentLength);
    };
    const write: Write = (chunk) => {
      if (!started) throw new Error("write() called before start_response()");
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      if (bytes.length === 0) return;
      pending = pending.then(async () => {
        sendHead(-1);
        await res.write(bytes);
        await res.flush();
      }).catch((e) => {
        writeError ??= e;
      });
    };
    const startResponse: StartResponse = (s, h, excInfo) => {
      if (started && excInfo === undefined) throw new Error("start_response() called twice without exc_info");
      if (res.headersSent) {
        // PEP 3333: too late to change the status; re-raise the app's error.
        throw excInfo;
      }
      status = statusCode(s);
      headers = h.map(([n, v]) => [n, v]);
      headerLength = -1;
      for (const [n, v] of headers) {
        if (n.length === 14 && n.toLowerCase() === "content-length") headerLength = Number(v);
      }
      started = true;
      return write;
    };

    const body = await app(environ, startResponse);
    const closeBody = () => {
      const maybeClose = (body as { close?: () => unknown }).close;
      if (typeof maybeClose === "function") maybeClose.call(body);
    };

    // A plain array is a whole body: send it with a Content-Length, in one write.
    if (Array.isArray(body)) {
      try {
        await pending;
        if (writeError !== undefined) throw writeError;
        if (!started) throw new Error("the app returned without calling start_response()");
        const parts = body.map((p) => typeof p === "string" ? encoder.encode(p) : p);
        const total = parts.reduce((n, p) => n + p.length, 0);
        if (!res.headersSent) sendHead(total);
        for (const p of parts) await res.write(p);
        await res.end();
      } finally {
        closeBody();
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
        await pending;
        if (writeError !== undefined) throw writeError;
        const bytes = typeof step.value === "string" ? encoder.encode(step.value) : step.value;
        if (bytes.length === 0) continue;
        if (!started) throw new Error("the app produced a body before calling start_response()");
        sendHead(-1);
        await res.write(bytes);
        // PEP 3333: a piece is sent before the next one is asked for.
        await res.flush();
      }
      await pending;
      if (writeError !== undefined) throw writeError;
      if (!started) throw new Error("the app returned without calling start_response()");
      if (!res.headersSent) sendHead(0);
      await res.end();
    } finally {
      try {
        await iterator.return?.();
      } finally {
        closeBody();
      }
    }
  };
}
