/**
 * Apps written as fetch handlers — `export default { fetch(request, info) }`, the `deno serve`
 * convention that Hono apps follow — run on ferry's engine: a standard `Request` is built from
 * the parsed request (streaming body, URL with the right scheme and host), and the `Response`
 * body is streamed out.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import { sendError } from "../http/error_page.ts";
import { HandshakeRefusal } from "../ws/handshake.ts";
import { installDenoUpgrade, isUpgradeResponse, rememberRequest, runUpgrade } from "../ws/upgrade.ts";

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

/** Methods whose requests may not carry a body in a `Request`. */
const BODYLESS = new Set(["GET", "HEAD"]);

/**
 * A `Request` whose `signal` is the ferry request's: aborted when the client goes away while the
 * app is silent (a long poll). The watch begins only when the app reads `signal`.
 */
class FerryRequest extends Request {
  #req: ServerRequest;

  constructor(req: ServerRequest, init: RequestInit) {
    super(req.url, init);
    this.#req = req;
  }

  /** Aborted when the client has gone (see `ServerRequest.signal`). */
  override get signal(): AbortSignal {
    return this.#req.signal;
  }
}

/** Builds the WHATWG `Request` for a ferry request. */
export function toRequest(req: ServerRequest): Request {
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers: req.headers.toHeaders() };
  if (!BODYLESS.has(req.method) && (req.contentLength > 0 || req.chunked)) {
    init.body = req.body.stream();
    init.duplex = "half";
  }
  const request: Request = new FerryRequest(req, init);
  // Only a GET can become a WebSocket; remembering it lets upgradeWebSocket find its connection.
  if (req.method === "GET") rememberRequest(request, req);
  return request;
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
  return async function fetchApp(req: ServerRequest, res: ResponseWriter): Promise<void> {
    let done!: () => void;
    const completed = new Promise<void>((r) => done = r);
    try {
      const info: FetchInfo = {
        remoteAddr: { transport: "tcp", hostname: req.clientAddr, port: req.clientPort },
        completed,
      };
      let response: Response;
      try {
        response = await app.fetch(toRequest(req), info);
      } catch (e) {
        // A WebSocket handshake the app accepted but that is not valid: 400 or 426, not a 500.
        if (!(e instanceof HandshakeRefusal) || res.headersSent) throw e;
        await sendError(res, req.headers.get("accept"), e.status, e.message, e.headers);
        return;
      }
      if (!(response instanceof Response)) throw new TypeError("fetch handler did not return a Response");
      await sendResponse(response, res);
    } finally {
      done();
    }
  };
}

/** Writes a `Response` through `res`: whole when its length is known, else streamed. */
export async function sendResponse(response: Response, res: ResponseWriter): Promise<void> {
  if (response.status === 101) {
    if (!isUpgradeResponse(response)) {
      throw new TypeError("a 101 response must be the one upgradeWebSocket returned");
    }
    await runUpgrade(response, res);
    return;
  }
  const headers: [string, string][] = [];
  for (const [name, value] of response.headers) headers.push([name, value]);
  const body = response.body;
  if (body === null) {
    await res.send(response.status, headers);
    return;
  }
  if (res.discardsBodyFor(response.status)) {
    // HEAD: the length a GET would have sent, when the body is already complete (as Deno.serve
    // does); 204 and 304 carry none.
    const length = response.status === 204 || response.status === 304 ? -1 : await completeLength(body);
    res.writeHead(response.status, headers, length);
    await res.end();
    return;
  }
  const reader = body.getReader();
  try {
    const first = await reader.read();
    if (first.done) {
      await res.send(response.status, headers);
      return;
    }
    // A body that is already complete (a string, bytes) goes out with a Content-Length; a
    // stream that is still producing is sent chunk by chunk as it comes.
    const secondRead = reader.read();
    const second = await Promise.race([secondRead, nextTurn()]);
    if (second !== NOT_YET && second.done) {
      await res.send(response.status, headers, first.value);
      return;
    }
    res.writeHead(response.status, headers);
    await res.write(first.value);
    await res.flush();
    let next = second === NOT_YET ? secondRead : Promise.resolve(second);
    for (;;) {
      const step = await next;
      if (step.done) break;
      await res.write(step.value);
      await res.flush();
      next = reader.read();
    }
    await res.end();
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}

const NOT_YET = Symbol("not yet");

/** The byte length of a body that is already complete; -1 (and the body cancelled) for a stream. */
async function completeLength(body: ReadableStream<Uint8Array>): Promise<number> {
  const reader = body.getReader();
  try {
    let total = 0;
    for (let i = 0; i < 2; i++) {
      const step = await Promise.race([reader.read(), nextTurn()]);
      if (step === NOT_YET) break;
      if (step.done) return total;
      total += step.value.length;
    }
    await reader.cancel();
    return -1;
  } finally {
    reader.releaseLock();
  }
}

/** Resolves after pending I/O callbacks have run: long enough for a finished stream to say so. */
function nextTurn(): Promise<typeof NOT_YET> {
  return new Promise((r) => setTimeout(() => r(NOT_YET), 0));
}
