/**
 * The PROXY protocol (HAProxy's `send-proxy` and `send-proxy-v2`), versions 1 and 2, read
 * strictly before the first HTTP byte: a load balancer in front says which client it is passing
 * on. A connection whose first bytes are not a valid header is closed, since anything else would
 * let a client that reaches ferry directly claim any address.
 *
 * @module
 */

/** The v2 signature: `\r\n\r\n\0\r\nQUIT\n`. */
const V2_SIGNATURE = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Longest v1 line, CRLF included (the spec's figure). */
const V1_MAX = 107;
/** Largest v2 header accepted (addresses plus TLVs). */
const V2_MAX = 16 + 1024;

/** What a header says: the client's address, or nothing for a LOCAL / UNKNOWN connection. */
export interface ProxyHeader {
  /** Bytes the header took. */
  length: number;
  /** The client's address and port; undefined for LOCAL (health checks) and UNKNOWN. */
  source: { addr: string; port: number } | undefined;
}

/** A malformed or missing header. */
export class ProxyHeaderError extends Error {
  /** Why. */
  constructor(message: string) {
    super(message);
    this.name = "ProxyHeaderError";
  }
}

const PROXY_ = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "

/**
 * Parses a header at `buf[start..end)`; undefined when more bytes are needed. Throws
 * {@linkcode ProxyHeaderError}.
 *
 * @example
 * ```ts
 * import { parseProxyHeader } from "./proxy_protocol.ts";
 * const b = new TextEncoder().encode("PROXY TCP4 192.0.2.1 192.0.2.2 5000 80\r\nGET /");
 * console.log(parseProxyHeader(b, 0, b.length)?.source); // { addr: "192.0.2.1", port: 5000 }
 * ```
 */
export function parseProxyHeader(buf: Uint8Array, start: number, end: number): ProxyHeader | undefined {
  const n = end - start;
  if (n === 0) return undefined;
  if (buf[start] === 0x0d) return parseV2(buf, start, end);
  if (buf[start] === 0x50) return parseV1(buf, start, end);
  throw new ProxyHeaderError("the connection did not start with a PROXY protocol header");
}

function parseV1(buf: Uint8Array, start: number, end: number): ProxyHeader | undefined {
  for (let i = 0; i < PROXY_.length; i++) {
    if (start + i >= end) return undefined;
    if (buf[start + i] !== PROXY_[i]) throw new ProxyHeaderError("malformed PROXY v1 header");
  }
  let lf = -1;
  for (let i = start; i < Math.min(end, start + V1_MAX); i++) {
    if (buf[i] === 0x0a) {
      lf = i;
      break;
    }
  }
  if (lf < 0) {
    if (end - start >= V1_MAX) throw new ProxyHeaderError("PROXY v1 header longer than 107 bytes");
    return undefined;
  }
  if (buf[lf - 1] !== 0x0d) throw new ProxyHeaderError("PROXY v1 header must end with CRLF");
  const line = String.fromCharCode(...buf.subarray(start, lf - 1));
  const parts = line.split(" ");
  const length = lf + 1 - start;
  if (parts[1] === "UNKNOWN") return { length, source: undefined };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) {
    throw new ProxyHeaderError("malformed PROXY v1 header");
  }
  const [, family, src, dst, sport, dport] = parts;
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const okAddr = (a: string) =>
    family === "TCP4" ? v4.test(a) : /^[0-9a-fA-F:.]+$/.test(a) && a.includes(":");
  const okPort = (p: string) => /^(0|[1-9]\d{0,4})$/.test(p) && Number(p) <= 65535;
  if (!okAddr(src) || !okAddr(dst) || !okPort(sport) || !okPort(dport)) {
    throw new ProxyHeaderError("malformed address or port in the PROXY v1 header");
  }
  return { length, source: { addr: src, port: Number(sport) } };
}

function parseV2(buf: Uint8Array, start: number, end: number): ProxyHeader | undefined {
  for (let i = 0; i < V2_SIGNATURE.length; i++) {
    if (start + i >= end) return undefined;
    if (buf[start + i] !== V2_SIGNATURE[i]) throw new ProxyHeaderError("malformed PROXY v2 signature");
  }
  if (end - start < 16) return undefined;
  const verCmd = buf[start + 12];
  const fam = buf[start + 13];
  const len = (buf[start + 14] << 8) | buf[start + 15];
  if (verCmd >> 4 !== 2) throw new ProxyHeaderError("unsupported PROXY protocol version");
  const cmd = verCmd & 0x0f;
  if (cmd > 1) throw new ProxyHeaderError("unknown PROXY v2 command");
  if (16 + len > V2_MAX) throw new ProxyHeaderError("PROXY v2 header too long");
  if (end - start < 16 + len) return undefined;
  const length = 16 + len;
  if (cmd === 0) return { length, source: undefined }; // LOCAL: the balancer's own connection
  const p = start + 16;
  if (fam === 0x11 || fam === 0x12) { // TCP or UDP over IPv4
    if (len < 12) throw new ProxyHeaderError("PROXY v2 IPv4 addresses are truncated");
    const addr = `${buf[p]}.${buf[p + 1]}.${buf[p + 2]}.${buf[p + 3]}`;
    return { length, source: { addr, port: (buf[p + 8] << 8) | buf[p + 9] } };
  }
  if (fam === 0x21 || fam === 0x22) { // over IPv6
    if (len < 36) throw new ProxyHeaderError("PROXY v2 IPv6 addresses are truncated");
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((buf[p + i] << 8) | buf[p + i + 1]).toString(16));
    const addr = groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
    return { length, source: { addr, port: (buf[p + 32] << 8) | buf[p + 33] } };
  }
  if (fam === 0x31 || fam === 0x32) { // over AF_UNIX: no address to take; the connection's own stands
    if (len < 216) throw new ProxyHeaderError("PROXY v2 AF_UNIX addresses are truncated");
    return { length, source: undefined };
  }
  if (fam === 0x00) return { length, source: undefined }; // UNSPEC: the connection's own addresses
  throw new ProxyHeaderError(`invalid PROXY v2 address family and transport 0x${fam.toString(16)}`);
}
