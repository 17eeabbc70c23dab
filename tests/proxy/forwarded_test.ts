/** Who the client is behind trusted proxies: Forwarded (RFC 7239) and X-Forwarded-*. */

import assert from "assert";
import { forwardedClient } from "../../src/proxy/forwarded.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { AllowList } from "../../src/net/cidr.ts";

const trusted = AllowList.parse("10.0.0.0/8, ::1");
const h = (pairs: Record<string, string>) => new HeaderList(Object.keys(pairs), Object.values(pairs));

Deno.test("forwarded: only a trusted peer is believed", () => {
  const headers = h({ "x-forwarded-for": "203.0.113.7" });
  assert.equal(forwardedClient(headers, "198.51.100.1", trusted), undefined);
  assert.equal(forwardedClient(headers, "10.1.2.3", trusted)?.addr, "203.0.113.7");
});

Deno.test("forwarded: the rightmost address that is not a trusted proxy is the client", () => {
  // The client forged the first entry; the edge proxy (10.0.0.5) and the next (10.0.0.6) are trusted.
  const headers = h({ "x-forwarded-for": "1.2.3.4, 203.0.113.7, 10.0.0.5" });
  assert.equal(forwardedClient(headers, "10.0.0.6", trusted)?.addr, "203.0.113.7");
  // Every hop trusted: the leftmost is the client.
  assert.equal(
    forwardedClient(h({ "x-forwarded-for": "10.9.9.9, 10.0.0.5" }), "10.0.0.6", trusted)?.addr,
    "10.9.9.9",
  );
});

Deno.test("forwarded: proto and host from X-Forwarded-Proto and -Host", () => {
  const c = forwardedClient(
    h({ "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https", "x-forwarded-host": "example.com" }),
    "10.0.0.1",
    trusted,
  );
  assert.deepEqual(c, { addr: "203.0.113.7", port: 0, proto: "https", host: "example.com" });
  const bad = forwardedClient(
    h({ "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "gopher", "x-forwarded-host": "a b" }),
    "10.0.0.1",
    trusted,
  );
  assert.deepEqual(bad, { addr: "203.0.113.7", port: 0, proto: undefined, host: undefined });
});

Deno.test("forwarded: RFC 7239 Forwarded wins, with quoted IPv6 and ports", () => {
  const c = forwardedClient(
    h({
      forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https;host=example.com, for=10.0.0.5',
      "x-forwarded-for": "1.1.1.1",
    }),
    "10.0.0.6",
    trusted,
  );
  assert.deepEqual(c, { addr: "2001:db8:cafe::17", port: 4711, proto: "https", host: "example.com" });
  assert.equal(
    forwardedClient(h({ forwarded: "for=192.0.2.60;proto=http;by=203.0.113.43" }), "::1", trusted)?.addr,
    "192.0.2.60",
  );
});

Deno.test("forwarded: malformed values are ignored, not fatal", () => {
  for (
    const headers of <Array<Record<string, string>>> [
      { "x-forwarded-for": "not-an-ip" },
      { "x-forwarded-for": "203.0.113.7, , junk" },
      { forwarded: "for=unknown" },
      { forwarded: "for=_hidden" },
      { forwarded: "proto=https" },
      { forwarded: 'for="[::1' },
      { forwarded: "garbage" },
    ]
  ) {
    assert.equal(forwardedClient(h(headers), "10.0.0.1", trusted), undefined, JSON.stringify(headers));
  }
  assert.equal(forwardedClient(h({}), "10.0.0.1", trusted), undefined);
});
