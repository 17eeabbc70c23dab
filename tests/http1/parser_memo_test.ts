/**
 * The parser's memo of the last head: a head sent again byte for byte gives what a fresh parser
 * gives, with arrays of its own; other heads, and the same head cut short, are parsed afresh.
 */

import assert from "assert";
import { RequestParser } from "../../src/http1/parser.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const A = "GET /a?x=1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: u/1\r\nConnection: close\r\n\r\n";
const B = "GET /a?x=1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: u/2\r\n\r\n";

function parse(p: RequestParser, text: string) {
  const bytes = enc(text);
  const n = p.execute(bytes, 0, bytes.length);
  assert.equal(n, bytes.length);
  const h = p.finish(bytes, 0, n);
  return { ...h, headers: [...h.headers] };
}

Deno.test("parser memo: a repeated head parses as a fresh parser would, with arrays of its own", () => {
  const p = new RequestParser();
  const first = p.finish(enc(A), 0, p.execute(enc(A), 0, A.length));
  first.headers.values[0] = "changed by a handler";
  first.headers.names.push("x-added");
  const again = p.finish(enc(A), 0, p.execute(enc(A), 0, A.length)); // from the memo
  again.headers.values[1] = "changed too";
  for (const text of [A, A, B, A, B, B, A]) {
    assert.deepEqual(parse(p, text), parse(new RequestParser(), text));
  }
  // The same head arriving in two pieces: the first piece is not the memo's whole head.
  const bytes = enc(A);
  assert.equal(p.execute(bytes, 0, 20), -1);
  const n = p.execute(bytes, 0, bytes.length);
  const h = p.finish(bytes, 0, n);
  assert.deepEqual({ ...h, headers: [...h.headers] }, parse(new RequestParser(), A));
  // A repeated head followed by a bad one: the bad one is still refused.
  parse(p, A);
  const bad = enc(A.replace("u/1", "u/\x011"));
  assert.throws(() => p.execute(bad, 0, bad.length));
});

Deno.test("parser memo: sized to the heads it remembers, so an idle connection keeps little", () => {
  const p = new RequestParser();
  const short = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const long = `GET / HTTP/1.1\r\nHost: h\r\nCookie: ${"c".repeat(600)}\r\n\r\n`;
  parse(p, short);
  assert.ok(p.memoCapacity >= short.length && p.memoCapacity <= 64, `memo of ${p.memoCapacity} bytes`);
  parse(p, long);
  assert.ok(p.memoCapacity >= long.length && p.memoCapacity < 1024, `memo of ${p.memoCapacity} bytes`);
  // Each is still parsed as a fresh parser would, from the memo or not.
  for (const text of [long, short, short, long, long]) {
    assert.deepEqual(parse(p, text), parse(new RequestParser(), text));
  }
});
