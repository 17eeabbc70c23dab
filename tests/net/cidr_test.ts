/** CIDR allow-lists (src/net/cidr.ts), shared by /_metrics and the trusted proxies. */

import assert from "assert";
import { AllowList } from "../../src/net/cidr.ts";

Deno.test("cidr: allow-lists for IPv4, IPv6 and IPv4-mapped addresses", () => {
  const allow = AllowList.parse("127.0.0.0/8, 192.168.1.0/24, ::1, fd00::/8");
  assert.ok(allow.allows("127.0.0.1"));
  assert.ok(allow.allows("127.255.0.9"));
  assert.ok(allow.allows("192.168.1.200"));
  assert.ok(!allow.allows("192.168.2.1"));
  assert.ok(allow.allows("::1"));
  assert.ok(allow.allows("::ffff:127.0.0.1"));
  assert.ok(allow.allows("fd12:3456::1"));
  assert.ok(!allow.allows("fe80::1"));
  assert.ok(!allow.allows("10.0.0.1"));
  assert.ok(!allow.allows("not an address"));
  assert.throws(() => AllowList.parse("300.0.0.1"), RangeError);
  assert.throws(() => AllowList.parse("10.0.0.0/33"), RangeError);
});
