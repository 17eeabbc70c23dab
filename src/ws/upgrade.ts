/**
 * `upgradeWebSocket(request, options)` → `{ socket, response }`, the shape of
 * `Deno.upgradeWebSocket`, for the `Request`s ferry hands to fetch apps; and its installation as
 * `Deno.upgradeWebSocket` itself, so an app written for `deno serve` (or Hono's `hono/deno`
 * helper, which calls it) runs on ferry unchanged. Requests ferry did not make still go to
 * Deno's own function.
 *
 * @module
 */

import type { ServerRequest } from "../http/request.ts";
import type { ResponseWriter } from "../http/writer.ts";
import { acceptKey, checkHandshake, offeredProtocols } from "./handshake.ts";
import { chooseDeflate, type DeflateParams } from "./deflate.ts";
import { FerryWebSocket } from "./socket.ts";
import { WsSession } from "./session.ts";

/** The options of `Deno.upgradeWebSocket` that ferry honours. */
export interface UpgradeWebSocketOptions {
  /** The subprotocol to agree on: one the client offered in `Sec-WebSocket-Protocol`. */
  protocol?: string;
  /**
   * Seconds of silence before a ping, and as long again for an answer, for this socket (ferry's
   * `wsPingInterval` when absent). 0: no pings.
   */
  idleTimeout?: number;
}

/** What `upgradeWebSocket` returns: the socket (open once `response` is sent) and the 101 response. */
export interface WebSocketUpgrade {
  /** The server side of the WebSocket. */
  socket: FerryWebSocket;
  /** The `101 Switching Protocols` response to return from the fetch handler. */
  response: Response;
}

interface Pending {
  socket: FerryWebSocket;
  req: ServerRequest;
  idleTimeout: number | undefined;
}

const requests = new WeakMap<Request, ServerRequest>();
const pending = new WeakMap<Response, Pending>();
/** How to tell, from a `Request`, the ferry request it was made for (see {@linkcode findRequestsWith}). */
let finder: (request: Request) => ServerRequest | undefined = () => undefined;

/** Remembers that ferry made `request` for `req`, so that it may be upgraded. */
export function rememberRequest(request: Request, req: ServerRequest): void {
  requests.set(request, req);
}

/**
 * Sets how the ferry request behind a `Request` is found, for Requests that carry it themselves
 * (a fetch app's: see `src/app/lazy_request.ts`): nothing to remember per request.
 */
export function findRequestsWith(find: (request: Request) => ServerRequest | undefined): void {
  finder = find;
}

/** The ferry request `request` was made for, if ferry made it. */
function serverRequestOf(request: Request): ServerRequest | undefined {
  return requests.get(request) ?? finder(request);
}

/**
 * Accepts a WebSocket handshake for a request a fetch app received from ferry. Throws a
 * `HandshakeRefusal` (400, or 426 for another version) when the request is no valid handshake
 * (ferry answers with that status), and a `TypeError` for a request ferry did not make or a
 * subprotocol the client did not offer.
 *
 * @example
 * ```ts ignore
 * export default {
 *   fetch(request: Request) {
 *     const { socket, response } = upgradeWebSocket(request);
 *     socket.onmessage = (e) => socket.send(e.data);
 *     return response;
 *   },
 * };
 * ```
 */
export function upgradeWebSocket(request: Request, options: UpgradeWebSocketOptions = {}): WebSocketUpgrade {
  const req = serverRequestOf(request);
  if (req === undefined) {
    throw new TypeError("upgradeWebSocket: pass the Request that ferry gave your fetch handler");
  }
  const key = checkHandshake(req);
  const protocol = options.protocol ?? "";
  if (protocol !== "") {
    const offered = offeredProtocols(req);
    if (!offered.includes(protocol)) {
      throw new TypeError(
        `upgradeWebSocket: subprotocol "${protocol}" was not offered by the client (it offered: ${
          offered.length > 0 ? offered.join(", ") : "none"
        })`,
      );
    }
  }
  const url = new URL(request.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new FerryWebSocket(url.href, protocol);
  const headers = new Headers({
    "sec-websocket-accept": acceptKey(key),
    upgrade: "websocket",
    connection: "Upgrade",
  });
  if (protocol !== "") headers.set("sec-websocket-protocol", protocol);
  const response = new Response(null, { status: 101, headers });
  pending.set(response, { socket, req, idleTimeout: options.idleTimeout });
  return { socket, response };
}

/** Whether `response` is a 101 that `upgradeWebSocket` made. */
export function isUpgradeResponse(response: Response): boolean {
  return pending.has(response);
}

/**
 * Sends the 101 for an upgrade response and runs its WebSocket until it closes.
 *
 * @example
 * ```ts ignore
 * if (isUpgradeResponse(response)) await runUpgrade(response, res);
 * ```
 */
export async function runUpgrade(response: Response, res: ResponseWriter): Promise<void> {
  const p = pending.get(response)!;
  pending.delete(response);
  const headers: Array<[string, string]> = [];
  for (const [name, value] of response.headers) {
    if (name !== "sec-websocket-extensions") headers.push([name, value]);
  }
  // The extension is ferry's to agree (the app cannot compress frames itself), decided from
  // options only known now.
  const offers = p.req.headers.getAll("sec-websocket-extensions");
  const offer = offers.length > 0 ? chooseDeflate(offers) : undefined;
  let deflate: DeflateParams | undefined;
  // A declined or unusable offer is simply not answered (RFC 7692 §5).
  const switchTo = res.capability("switch");
  if (switchTo === undefined) {
    throw new TypeError("this connection cannot switch protocols (WebSockets need HTTP/1.1)");
  }
  const tunnel = await switchTo("websocket", headers, (t) => {
    if (!t.options.wsDeflate || offer === undefined) return [];
    deflate = offer;
    return [["Sec-WebSocket-Extensions", offer.response]];
  });
  const o = tunnel.options;
  await new WsSession(tunnel, p.socket, {
    maxMessageBytes: o.wsMaxMessageBytes,
    pingInterval: p.idleTimeout ?? o.wsPingInterval,
    deflate,
  }).run();
}

let installed = false;

/**
 * Makes `Deno.upgradeWebSocket` accept the Requests ferry makes (others still go to Deno's own
 * function), so apps written for `deno serve` run unchanged. Idempotent.
 */
export function installDenoUpgrade(): void {
  if (installed) return;
  installed = true;
  const original = Deno.upgradeWebSocket;
  const replacement = (request: Request, options?: Deno.UpgradeWebSocketOptions) => {
    if (serverRequestOf(request) !== undefined) {
      return upgradeWebSocket(request, options) as unknown as Deno.WebSocketUpgrade;
    }
    return original(request, options);
  };
  try {
    Object.defineProperty(Deno, "upgradeWebSocket", {
      value: replacement,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  } catch {
    // a runtime that forbids it: apps import upgradeWebSocket from ferry instead
  }
}
