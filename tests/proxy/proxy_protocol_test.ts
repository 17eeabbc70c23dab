/** PROXY protocol v1 and v2 headers, at every split of the bytes, and the malformed ones refused. */

import assert from "assert";
import { parseProxyHeader, ProxyHeaderError } from "../../src/proxy/proxy_protocol.ts";
import { proxyV2Family } from "../helpers/proxies.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A v2 header for a TCP connection from `src`:`sport` (IPv4 or IPv6 bytes). */
export function proxyV2(
  src: number[],
  sport: number,
  dst: number[],
  dport: number,
  tlv: number[] = [],
): Uint8Array {
  const v6 = src.length === 16;
  const addrs = [...src, ...dst, sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, ...tlv];
  return new Uint8Array([
    0x0d,
    0x0a,
    0x0d,
    0x0a,
    0x00,
    0x0d,
    0x0a,
    0x51,
    0x55,
    0x49,
    0x54,
    0x0a,
    0x21,
    v6 ? 0x21 : 0x11,
    addrs.length >> 8,
    addrs.length & 0xff,
    ...addrs,
  ]);
}

function atEverySplit(bytes: Uint8Array, check: (r: ReturnType<typeof parseProxyHeader>) => void): void {
  for (let n = 1; n < bytes.length; n++) {
    assert.equal(parseProxyHeader(bytes, 0, n), undefined, `prefix ${n}`);
  }
  check(parseProxyHeader(bytes, 0, bytes.length));
}

Deno.test("proxy protocol: v1 TCP4, TCP6 and UNKNOWN; more bytes are left for HTTP", () => {
  const line = enc("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  atEverySplit(
    line,
    (r) => assert.deepEqual(r, { length: line.length, source: { addr: "192.0.2.1", port: 56324 } }),
  );
  const six = enc("PROXY TCP6 2001:db8::1 2001:db8::2 4000 80\r\n");
  assert.deepEqual(parseProxyHeader(six, 0, six.length)?.source, { addr: "2001:db8::1", port: 4000 });
  const unknown = enc("PROXY UNKNOWN\r\nGET / HTTP/1.1\r\n");
  assert.deepEqual(parseProxyHeader(unknown, 0, unknown.length), { length: 15, source: undefined });
});

Deno.test("proxy protocol: v2 PROXY over IPv4 and IPv6 with TLVs, and LOCAL", () => {
  const v4 = proxyV2([192, 0, 2, 1], 56324, [10, 0, 0, 1], 80, [0x01, 0x00, 0x02, 0x68, 0x32]);
  atEverySplit(
    v4,
    (r) => assert.deepEqual(r, { length: v4.length, source: { addr: "192.0.2.1", port: 56324 } }),
  );
  const six = proxyV2(
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    4000,
    new Array(16).fill(0),
    80,
  );
  assert.deepEqual(parseProxyHeader(six, 0, six.length)?.source, { addr: "2001:db8::1", port: 4000 });
  const local = new Uint8Array([...v4.subarray(0, 12), 0x20, 0x00, 0, 0]);
  assert.deepEqual(parseProxyHeader(local, 0, local.length), { length: 16, source: undefined });
});

Deno.test("proxy protocol: a missing or malformed header is refused", () => {
  const bad = [
    "GET / HTTP/1.1\r\n\r\n",
    "PROXY TCP4 999.0.2.1 198.51.100.2 56324 443\r\n",
    "PROXY TCP4 192.0.2.1 198.51.100.2 99999 443\r\n",
    "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n",
    "PROXY TCP5 a b 1 2\r\n",
    "PROXY " + "x".repeat(120),
  ];
  for (const s of bad) assert.throws(() => parseProxyHeader(enc(s), 0, s.length), ProxyHeaderError, s);
  const wrongVersion = proxyV2([1, 2, 3, 4], 1, [5, 6, 7, 8], 2);
  wrongVersion[12] = 0x31;
  assert.throws(() => parseProxyHeader(wrongVersion, 0, wrongVersion.length), ProxyHeaderError);
  const short = proxyV2([1, 2, 3, 4], 1, [5, 6, 7, 8], 2).slice(0, 16 + 4);
  short[15] = 4; // claims 4 bytes of addresses for TCP4
  assert.throws(() => parseProxyHeader(short, 0, short.length), ProxyHeaderError);
});

Deno.test("proxy protocol: v2 over AF_UNIX (stream and datagram) and UNSPEC keep the connection's own address", () => {
  for (const fam of [0x31, 0x32]) {
    const unix = proxyV2Family(fam, 216);
    atEverySplit(unix, (r) => assert.deepEqual(r, { length: 232, source: undefined }));
    const short = proxyV2Family(fam, 108);
    assert.throws(() => parseProxyHeader(short, 0, short.length), ProxyHeaderError, "truncated");
  }
  const unspec = proxyV2Family(0x00, 0);
  assert.deepEqual(parseProxyHeader(unspec, 0, unspec.length), { length: 16, source: undefined });
  // Combinations the spec calls invalid are refused.
  for (const fam of [0x01, 0x10, 0x13, 0x33, 0x41]) {
    const bad = proxyV2Family(fam, 216);
    assert.throws(() => parseProxyHeader(bad, 0, bad.length), /address family and transport/);
  }
});
