/**
 * The request head a proxy sends upstream, written anew from the parsed request (never the
 * client's bytes): origin-form target, `Host` as the client sent it, the client's fields less
 * the hop-by-hop ones, `X-Forwarded-For`/`-Proto`/`-Host` (a client's own values kept only when
 * its peer is a trusted proxy, otherwise replaced), and ferry's framing of the body.
 *
 * @module
 */

import type { ServerRequest } from "../http/request.ts";
import { isFieldValue } from "../http/writer.ts";
import type { AllowList } from "../net/cidr.ts";
import { hopByHopNames } from "./hop_by_hop.ts";

/** Fields the proxy writes itself, so the client's are never copied. */
const OWN = new Set([
  "host",
  "content-length",
  "expect",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
]);

/** How the head is written. */
export interface ForwardOptions {
  /** Peers whose `X-Forwarded-*` and `Forwarded` fields are kept (`--trusted-proxies`). */
  trusted: AllowList | undefined;
  /** The protocol the client asks to upgrade to (WebSocket), sent on with `Connection: upgrade`. */
  upgrade: string | undefined;
  /** The Host to send when the client sent none (HTTP/1.0): the target's name. */
  fallbackHost: string;
}

/**
 * The head for `req` as latin1 bytes.
 *
 * @example
 * ```ts ignore
 * const bytes = forwardHead(req, { trusted: undefined, upgrade: undefined, fallbackHost: "127.0.0.1:9001" });
 * ```
 */
export function forwardHead(req: ServerRequest, o: ForwardOptions): Uint8Array {
  const h = req.headers;
  const drop = hopByHopNames(h.names, h.values);
  const target = (req.path === "" ? "/" : req.path) + (req.query !== "" ? "?" + req.query : "");
  const host = h.get("host") ?? (req.host !== "" ? req.host : o.fallbackHost);
  let s = `${req.method} ${target} HTTP/1.1\r\nHost: ${host}\r\n`;
  const peer = req.conn.remoteAddr;
  const trusted = o.trusted !== undefined && o.trusted.allows(peer);
  let cookie: string | undefined;
  let te = false;
  for (let i = 0; i < h.names.length; i++) {
    const name = h.names[i];
    const value = h.values[i];
    if (name === "te") {
      for (const t of value.split(",")) if (t.split(";")[0].trim().toLowerCase() === "trailers") te = true;
      continue;
    }
    if (drop.has(name) || OWN.has(name) || name.charCodeAt(0) === 0x3a || !isFieldValue(value)) continue;
    if (name === "cookie" && req.protocol !== "HTTP/1.1" && req.protocol !== "HTTP/1.0") {
      cookie = cookie === undefined ? value : `${cookie}; ${value}`; // RFC 9113 §8.2.3
      continue;
    }
    s += `${name}: ${value}\r\n`;
  }
  if (cookie !== undefined) s += `cookie: ${cookie}\r\n`;
  if (te) s += "te: trailers\r\n";
  const xff = trusted ? h.get("x-forwarded-for") : undefined;
  s += `x-forwarded-for: ${xff !== undefined ? `${xff}, ${peer}` : peer}\r\n`;
  const proto = trusted ? h.get("x-forwarded-proto") : undefined;
  s += `x-forwarded-proto: ${proto ?? (req.conn.secure ? "https" : "http")}\r\n`;
  const fwdHost = (trusted ? h.get("x-forwarded-host") : undefined) ??
    (req.host !== "" ? req.host : undefined);
  if (fwdHost !== undefined) s += `x-forwarded-host: ${fwdHost}\r\n`;
  if (trusted) {
    const fwd = h.get("forwarded");
    if (fwd !== undefined && isFieldValue(fwd)) s += `forwarded: ${fwd}\r\n`;
  }
  if (o.upgrade !== undefined) s += `connection: upgrade\r\nupgrade: ${o.upgrade}\r\n`;
  if (req.contentLength >= 0) s += `content-length: ${req.contentLength}\r\n`;
  else if (req.chunked) s += "transfer-encoding: chunked\r\n";
  s += "\r\n";
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
