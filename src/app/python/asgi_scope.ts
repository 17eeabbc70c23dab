/**
 * The ASGI scope as it travels to the worker: fields by position (`asgi_worker.py` reads them in
 * this order), the header pairs after them exactly as received.
 *
 * @module
 */

import type { ServerRequest } from "../../http/request.ts";

/** The ASGI `http_version` of a request: "1.0", "1.1" or "2". */
export function httpVersion(protocol: string): string {
  const v = protocol.startsWith("HTTP/") ? protocol.slice(5) : protocol;
  return v === "2.0" ? "2" : v;
}

/**
 * The scope's fields by position, as `asgi_worker.py` reads them; the header pairs follow.
 *
 * @example
 * ```ts ignore
 * fieldsFrame(sid, credit, scopeFields(req, "http", false), req.headers.names, req.headers.values, body);
 * ```
 */
export function scopeFields(
  req: ServerRequest,
  type: "http" | "websocket",
  more: boolean,
  extra = "",
): string[] {
  const secure = req.scheme === "https";
  return [
    type,
    httpVersion(req.protocol),
    req.method,
    type === "http" ? req.scheme : secure ? "wss" : "ws",
    req.form === "asterisk" ? "*" : req.path,
    req.query,
    "", // root_path: ferry mounts the app at the root
    req.clientAddr,
    String(req.clientPort),
    req.conn.localAddr,
    String(req.conn.localPort),
    more ? "1" : "0",
    req.id,
    extra, // websocket: the subprotocols the client offered, comma-separated
  ];
}
