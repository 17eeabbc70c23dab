/**
 * The opening handshake (RFC 6455 §4.2): which requests may become WebSockets, the accept key,
 * and the subprotocol choice. A request that asks for a WebSocket wrongly is refused with 400,
 * or with 426 and `Sec-WebSocket-Version: 13` when it asks for a version ferry does not speak.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Refusal } from "../http/refusal.ts";
import type { ServerRequest } from "../http/request.ts";

/** The GUID RFC 6455 §1.3 appends to the client's key. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The one version of the protocol (RFC 6455 §4.4). */
export const WS_VERSION = "13";

/**
 * A refused opening handshake: its status (400 or 426) and the header fields to send with it.
 *
 * @example
 * ```ts
 * import { HandshakeRefusal } from "./handshake.ts";
 * const r = new HandshakeRefusal(426, "only WebSocket version 13 is supported", [["Sec-WebSocket-Version", "13"]]);
 * console.log(r.status); // 426
 * ```
 */
export class HandshakeRefusal extends Refusal {
  /** Header fields for the refusal. */
  readonly headers: Array<[string, string]>;

  /** A refusal with `status`, `message` and `headers`. */
  constructor(status: number, message: string, headers: Array<[string, string]> = []) {
    super(status, message);
    this.name = "HandshakeRefusal";
    this.headers = headers;
  }
}

/** Whether a comma-separated header value lists `token` (case-insensitively). */
function listsToken(values: string[], token: string): boolean {
  for (const v of values) {
    for (const part of v.split(",")) if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/** The base64 of 16 bytes: 22 characters and `==`. */
const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * Checks that `req` is a valid WebSocket opening handshake and returns its key; throws a
 * {@linkcode HandshakeRefusal} naming what is wrong.
 *
 * @example
 * ```ts ignore
 * const key = checkHandshake(req); // "dGhlIHNhbXBsZSBub25jZQ=="
 * ```
 */
export function checkHandshake(req: ServerRequest): string {
  const h = req.headers;
  if (!listsToken(h.getAll("upgrade"), "websocket")) {
    throw new HandshakeRefusal(400, "not a WebSocket request: the Upgrade header must name websocket");
  }
  if (req.method !== "GET") throw new HandshakeRefusal(400, "a WebSocket handshake must be a GET request");
  if (req.protocol !== "HTTP/1.1") throw new HandshakeRefusal(400, "a WebSocket handshake needs HTTP/1.1");
  if (!listsToken(h.getAll("connection"), "upgrade")) {
    throw new HandshakeRefusal(400, "a WebSocket handshake needs Connection: Upgrade");
  }
  if (req.contentLength > 0 || req.chunked) {
    throw new HandshakeRefusal(400, "a WebSocket handshake carries no body");
  }
  const versions = h.getAll("sec-websocket-version");
  if (versions.length !== 1 || versions[0].trim() !== WS_VERSION) {
    throw new HandshakeRefusal(426, "only WebSocket version 13 is supported", [
      ["Sec-WebSocket-Version", WS_VERSION],
    ]);
  }
  const keys = h.getAll("sec-websocket-key");
  const key = keys.length === 1 ? keys[0].trim() : "";
  if (!KEY.test(key)) {
    throw new HandshakeRefusal(400, "Sec-WebSocket-Key must be the base64 of 16 bytes, sent once");
  }
  return key;
}

/**
 * `Sec-WebSocket-Accept` for a client's key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2).
 *
 * @example
 * ```ts
 * import { acceptKey } from "./handshake.ts";
 * acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** The subprotocols a client offers, in its order of preference. */
export function offeredProtocols(req: ServerRequest): string[] {
  const out: string[] = [];
  for (const v of req.headers.getAll("sec-websocket-protocol")) {
    for (const p of v.split(",")) {
      const t = p.trim();
      if (t !== "") out.push(t);
    }
  }
  return out;
}
