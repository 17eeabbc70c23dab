/**
 * Who the client is behind trusted proxies: RFC 7239 `Forwarded`, else the de-facto
 * `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`. Only a connection from a trusted
 * proxy is asked; the client is the rightmost address that is not a trusted proxy (each proxy
 * appends what it saw, so everything left of the first untrusted hop could be forged). A malformed
 * value is ignored: the request then counts as coming from the proxy itself.
 *
 * @module
 */

import { isIP } from "node:net";
import type { HeaderList } from "../http/headers.ts";
import type { ClientView } from "../http/request.ts";
import type { AllowList } from "../net/cidr.ts";

/** What the proxies say of the client. */
export type ForwardedClient = ClientView;

interface Hop {
  addr: string;
  port: number;
  proto: string | undefined;
  host: string | undefined;
}

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** `1.2.3.4`, `"1.2.3.4:80"`, `"[::1]:80"`, `[::1]` → address and port; undefined when invalid. */
function parseNode(raw: string): { addr: string; port: number } | undefined {
  let v = raw.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
  let port = 0;
  if (v.startsWith("[")) {
    const end = v.indexOf("]");
    if (end < 0) return undefined;
    const rest = v.slice(end + 1);
    if (rest !== "") {
      if (!/^:\d{1,5}$/.test(rest)) return undefined;
      port = Number(rest.slice(1));
    }
    v = v.slice(1, end);
    return isIP(v) === 6 ? { addr: v, port } : undefined;
  }
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(v);
  if (m !== null) {
    v = m[1];
    port = Number(m[2]);
  }
  return isIP(v) !== 0 ? { addr: v, port } : undefined;
}

/** RFC 7239 §4: `for=…;proto=…;host=…, for=…` → hops, or undefined when malformed. */
function parseForwarded(value: string): Hop[] | undefined {
  const hops: Hop[] = [];
  for (const element of splitOutsideQuotes(value, ",")) {
    const hop: Hop = { addr: "", port: 0, proto: undefined, host: undefined };
    for (const pair of splitOutsideQuotes(element, ";")) {
      const eq = pair.indexOf("=");
      if (eq <= 0) return undefined;
      const key = pair.slice(0, eq).trim().toLowerCase();
      let v = pair.slice(eq + 1).trim();
      if (key === "for") {
        const node = parseNode(v);
        if (node === undefined) return undefined; // "unknown" and obfuscated names say nothing usable
        hop.addr = node.addr;
        hop.port = node.port;
      } else {
        if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
        if (key === "proto") hop.proto = v.toLowerCase();
        else if (key === "host") hop.host = v;
      }
    }
    if (hop.addr === "") return undefined;
    hops.push(hop);
  }
  return hops.length > 0 ? hops : undefined;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\\" && quoted) i++;
    else if (c === sep && !quoted) {
      out.push(s.slice(from, i).trim());
      from = i + 1;
    }
  }
  out.push(s.slice(from).trim());
  return out.filter((p) => p !== "");
}

/** `X-Forwarded-For` (+ `-Proto`, `-Host`) → hops, or undefined when malformed. */
function parseXForwarded(headers: HeaderList): Hop[] | undefined {
  const xff = headers.get("x-forwarded-for");
  if (xff === undefined) return undefined;
  const list = (v: string | undefined) =>
    v === undefined ? [] : v.split(",").map((p) => p.trim()).filter(Boolean);
  const addrs = list(xff);
  const protos = list(headers.get("x-forwarded-proto"));
  const hosts = list(headers.get("x-forwarded-host"));
  const hops: Hop[] = [];
  for (let i = 0; i < addrs.length; i++) {
    const node = parseNode(addrs[i]);
    if (node === undefined) return undefined;
    // A list as long as the addresses pairs up; otherwise the last value is the nearest proxy's
    // word on what its client used (proxies usually set these headers rather than append).
    const pick = (l: string[]) => (l.length === addrs.length ? l[i] : l.at(-1));
    hops.push({ addr: node.addr, port: node.port, proto: pick(protos)?.toLowerCase(), host: pick(hosts) });
  }
  return hops.length > 0 ? hops : undefined;
}

/**
 * The client behind `peer`, when `peer` is a trusted proxy that says who it is; undefined
 * otherwise (then the peer is the client).
 *
 * @example
 * ```ts ignore
 * const c = forwardedClient(req.headers, "10.0.0.2", AllowList.parse("10.0.0.0/8"));
 * ```
 */
export function forwardedClient(
  headers: HeaderList,
  peer: string,
  trusted: AllowList,
): ForwardedClient | undefined {
  if (!trusted.allows(peer)) return undefined;
  const forwarded = headers.get("forwarded");
  const hops = forwarded !== undefined ? parseForwarded(forwarded) : parseXForwarded(headers);
  if (hops === undefined) return undefined;
  let i = hops.length - 1;
  while (i > 0 && trusted.allows(hops[i].addr)) i--;
  const hop = hops[i];
  const proto = hop.proto === "http" || hop.proto === "https" ? hop.proto : undefined;
  const host = hop.host !== undefined && HOST.test(hop.host) ? hop.host : undefined;
  return { addr: hop.addr, port: hop.port, proto, host };
}
