/** The access-line formats, from an entry: plain, combined and JSON, escaping included. */

import assert from "assert";
import { type AccessEntry, AccessMemo, formatAccess } from "../../src/log/logger.ts";

const entry = (over: Partial<AccessEntry> = {}): AccessEntry => ({
  time: Date.UTC(2026, 11, 1, 10, 0, 0, 123),
  conn: 7,
  id: "abc-1",
  remote: "127.0.0.2",
  method: "GET",
  target: "/x?y=1",
  protocol: "HTTP/1.1",
  status: 200,
  bytes: 12,
  ms: 1.25,
  ua: "curl/8",
  referer: undefined,
  tls: true,
  phase: "running",
  trace: undefined,
  ...over,
});

Deno.test("access formats: plain, combined and JSON carry the same facts", () => {
  assert.equal(
    formatAccess("plain", entry()),
    '2026-12-01T10:00:00.123Z 127.0.0.2 "GET /x?y=1 HTTP/1.1" 200 12 1.3ms conn=7 id=abc-1 tls',
  );
  assert.equal(
    formatAccess("combined", entry()),
    '127.0.0.2 - - [01/Dec/2026:10:00:00 +0000] "GET /x?y=1 HTTP/1.1" 200 12 "-" "curl/8"',
  );
  const j = JSON.parse(formatAccess("json", entry()));
  assert.deepEqual([j.time, j.id, j.method, j.target, j.status, j.bytes, j.conn, j.remote, j.tls, j.ua], [
    "2026-12-01T10:00:00.123Z",
    "abc-1",
    "GET",
    "/x?y=1",
    200,
    12,
    7,
    "127.0.0.2",
    true,
    "curl/8",
  ]);
  assert.equal(j.ms, 1.25, "milliseconds, to the microsecond");
  assert.equal("referer" in j, false);
});

Deno.test("access formats: quotes, controls and non-ASCII are escaped in text, valid in JSON", () => {
  const e = entry({ target: '/a"b\\c\x01é', ua: "x\ny" });
  const plain = formatAccess("plain", e);
  assert.match(plain, /"GET \/a\\"b\\\\c\\x01\\xe9 HTTP\/1\.1"/);
  assert.doesNotMatch(plain, /\n/);
  const j = JSON.parse(formatAccess("json", e));
  assert.equal(j.target, '/a"b\\c\x01é');
  assert.equal(j.ua, "x\ny");
});

Deno.test("access formats: a connection's memo gives the same JSON line as none", () => {
  const memo = new AccessMemo();
  for (let i = 0; i < 3; i++) {
    assert.equal(
      formatAccess("json", entry({ bytes: 12 + i }), memo),
      formatAccess("json", entry({ bytes: 12 + i })),
    );
    assert.equal(
      formatAccess("json", entry({ bytes: 12 + i }), memo),
      formatAccess("json", entry({ bytes: 12 + i })),
    );
  }
});
