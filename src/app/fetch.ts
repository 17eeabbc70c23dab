/**
 * Apps written as fetch handlers — `export default { fetch(request, info) }`, the `deno serve`
 * convention that Hono apps follow — run on ferry's engine: a standard `Request` is made over the
 * parsed request (`lazy_request.ts`: URL, headers and body read on first use), and the `Response`
 * goes out whole when its body is complete, else streamed (`response_parts.ts`).
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import { sendError } from "../http/error_page.ts";
import { lazyRequest, serverRequestOf } from "./lazy_request.ts";
import { responseParts } from "./response_parts.ts";
import { sendStream } from "./send_stream.ts";
import { HandshakeRefusal } from "../ws/handshake.ts";
import { findRequestsWith, installDenoUpgrade, isUpgradeResponse, runUpgrade } from "../ws/upgrade.ts";

/** What a fetch handler receives besides the request (the shape of `Deno.ServeHandlerInfo`). */
export interface FetchInfo {
  /** The client's address. */
  remoteAddr: { transport: "tcp"; hostname: string; port: number };
  /** Resolves when the response has been sent (or failed). */
  completed: Promise<void>;
}

/** An object with a `fetch` method, as `deno serve` and Hono expect. */
export interface FetchApp {
  /** Answers a request. */
  fetch(request: Request, info: FetchInfo): Response | Promise<Response>;
}

/**
 * What a fetch handler receives besides the request, made on first use: an app that never looks
 * at it costs no promise and no address object.
 */
class Info implements FetchInfo {
  readonly #req: ServerRequest;
  #completed: Promise<void> | undefined;
  #settle: (() => void) | undefined;
  #sent: Promise<void> | undefined;

  constructor(req: ServerRequest) {
    this.#req = req;
  }

  /** The client's address. */
  get remoteAddr(): FetchInfo["remoteAddr"] {
    return { transport: "tcp", hostname: this.#req.clientAddr, port: this.#req.clientPort };
  }

  /** Resolves when the response has been sent (or failed). */
  get completed(): Promise<void> {
    if (this.#completed === undefined) {
      const sent = this.#sent;
      this.#completed = sent !== undefined
        ? sent.then(ignore, ignore)
        : new Promise<void>((r) => this.#settle = r);
    }
    return this.#completed;
  }

  /** The response is on its way as `sent`: `completed` settles with it. Returns `sent` as it is. */
  track(sent: Promise<void>): Promise<void> {
    this.#sent = sent;
    const settle = this.#settle;
    if (settle !== undefined) sent.then(settle, settle);
    return sent;
  }
}

function ignore(): void {}

/** Builds the WHATWG `Request` for a ferry request (see `lazy_request.ts`). */
export function toRequest(req: ServerRequest): Request {
  return lazyRequest(req);
}

/**
 * Runs a fetch-style app as a ferry handler.
 *
 * @example
 * ```ts ignore
 * const handler = fetchHandler({ fetch: (req) => new Response(`hi ${new URL(req.url).pathname}`) });
 * ```
 */
export function fetchHandler(app: FetchApp): Handler {
  // `Deno.upgradeWebSocket` learns ferry's Requests, so `deno serve` and Hono apps run unchanged.
  installDenoUpgrade();
  // upgradeWebSocket finds the connection of a Request from the Request itself.
  findRequestsWith(serverRequestOf);
  // Synchronous as long as the app is: a Response returned at once is written at once, and the
  // writer's own promise goes back to the connection (which then needs no promise turn).
  return function fetchApp(req: ServerRequest, res: ResponseWriter): Promise<void> {
    const info = new Info(req);
    let response: Response | Promise<Response>;
    try {
      response = app.fetch(toRequest(req), info);
    } catch (e) {
      return info.track(refused(e, req, res));
    }
    if (response instanceof Response) {
      let sent: Promise<void>;
      try {
        sent = sendResponse(response, res);
      } catch (e) {
        sent = Promise.reject(e);
      }
      return info.track(sent);
    }
    return info.track(whenResolved(response, req, res));
  };
}

/** A handshake the app accepted but that is not valid is answered 400 or 426, not 500; else `e` goes on. */
async function refused(e: unknown, req: ServerRequest, res: ResponseWriter): Promise<void> {
  if (!(e instanceof HandshakeRefusal) || res.headersSent) throw e;
  await sendError(res, req.headers.get("accept"), e.status, e.message, e.headers);
}

/** An app's asynchronous answer, sent once it resolves. */
async function whenResolved(
  pending: Promise<Response>,
  req: ServerRequest,
  res: ResponseWriter,
): Promise<void> {
  let response: Response;
  try {
    response = await pending;
  } catch (e) {
    return await refused(e, req, res);
  }
  if (!(response instanceof Response)) throw new TypeError("fetch handler did not return a Response");
  await sendResponse(response, res);
}

/**
 * Writes a `Response` through `res`: a complete body (a string, bytes) whole with its length, a
 * stream chunk by chunk as it is produced, each chunk flushed.
 */
export function sendResponse(response: Response, res: ResponseWriter): Promise<void> {
  const { status, headers, body, stream, length } = responseParts(response);
  if (status === 101) return upgrade(response, res);
  if (body !== null) {
    if (res.discardsBodyFor(status)) {
      // HEAD: the length a GET would have sent (as Deno.serve does); 204 and 304 carry none.
      res.writeHead(status, headers, status === 204 || status === 304 ? -1 : byteLength(body));
      return res.end();
    }
    return res.send(status, headers, body);
  }
  if (stream === null) return res.send(status, headers);
  return sendStream(status, headers, stream, length, res);
}

/** A 101: the one `upgradeWebSocket` made, whose WebSocket then runs on the connection. */
async function upgrade(response: Response, res: ResponseWriter): Promise<void> {
  if (!isUpgradeResponse(response)) {
    throw new TypeError("a 101 response must be the one upgradeWebSocket returned");
  }
  await runUpgrade(response, res);
}

const encoder = new TextEncoder();

/** The UTF-8 length of a complete body. */
function byteLength(body: string | Uint8Array): number {
  if (typeof body !== "string") return body.length;
  for (let i = 0; i < body.length; i++) {
    if (body.charCodeAt(i) >= 0x80) return encoder.encode(body).length;
  }
  return body.length;
}
