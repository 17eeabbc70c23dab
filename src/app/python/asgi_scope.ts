/**
 * The ASGI scope as it travels to the worker: `(scope, request id, flags)` in Python's marshal
 * format, so that `asgi_worker.py` has the scope dict from one `marshal.loads` call. The header
 * pairs go exactly as received (lower-case names, values as latin-1 bytes).
 *
 * @module
 */

import { mountPoint, pathBelowMount } from "../../http/mount_point.ts";
import type { ServerRequest } from "../../http/request.ts";
import type { MarshalWriter } from "./marshal.ts";

/** Flag: the body streams in BODY frames (it did not travel with the request). */
export const ASGI_MORE_BODY = 1;
/** Flag: the path holds a `%`: the worker percent-decodes it (UTF-8, as uvicorn does). */
export const ASGI_UNQUOTE = 2;

/** The ASGI `http_version` of a request: "1.0", "1.1" or "2". */
export function httpVersion(protocol: string): string {
  const v = protocol.startsWith("HTTP/") ? protocol.slice(5) : protocol;
  return v === "2.0" ? "2" : v;
}

/**
 * Writes the request's scope, its id and its flags as a marshalled tuple into `w` (reset first).
 * A WebSocket scope has no `method` and lists the subprotocols the client offered.
 *
 * @example
 * ```ts ignore
 * writeScope(w, req, "http", false);
 * const frame = requestFrame(sid, credit, w.bytes(), body);
 * ```
 */
export function writeScope(
  w: MarshalWriter,
  req: ServerRequest,
  type: "http" | "websocket",
  more: boolean,
  subprotocols: readonly string[] = [],
): void {
  w.reset();
  const path = req.form === "asterisk" ? "*" : pathBelowMount(req);
  w.tuple(3);
  w.dict();
  w.text("type");
  w.text(type);
  w.text("asgi");
  w.dict();
  w.text("version");
  w.text("3.0");
  w.text("spec_version");
  w.text("2.3");
  w.endDict();
  w.text("http_version");
  w.text(httpVersion(req.protocol));
  if (type === "http") {
    w.text("method");
    w.text(req.method);
  }
  w.text("scheme");
  w.text(type === "http" ? req.scheme : req.scheme === "https" ? "wss" : "ws");
  w.text("path");
  w.text(path);
  w.text("raw_path");
  w.latin1Bytes(path);
  w.text("query_string");
  w.latin1Bytes(req.query);
  w.text("root_path");
  w.text(mountPoint(req)); // where a route mounted the app (strip_prefix), else ""
  w.text("headers");
  const names = req.headers.names;
  const values = req.headers.values;
  w.list(names.length);
  for (let i = 0; i < names.length; i++) {
    w.tuple(2);
    w.latin1Bytes(names[i]);
    w.latin1Bytes(values[i]);
  }
  w.text("client");
  w.tuple(2);
  w.text(req.clientAddr);
  w.int(req.clientPort);
  w.text("server");
  w.tuple(2);
  w.text(req.conn.localAddr);
  w.int(req.conn.localPort);
  if (type === "websocket") {
    w.text("subprotocols");
    w.list(subprotocols.length);
    for (const p of subprotocols) w.text(p);
  }
  w.endDict();
  w.text(req.id);
  w.int((more ? ASGI_MORE_BODY : 0) | (path.includes("%") ? ASGI_UNQUOTE : 0));
}
