/**
 * The strict reading of an upstream's response head and the framing it implies: each rule as
 * bytes and the outcome (a reason code for every refusal), the head found at every split.
 */

import assert from "assert";
import {
  headEnd,
  parseResponseHead,
  responseFraming,
  UpstreamProtocolError,
} from "../../src/upstream/response_head.ts";

const enc = new TextEncoder();

function parse(text: string, method = "GET") {
  const b = enc.encode(text);
  const end = headEnd(b, b.length);
  assert.ok(end > 0, "a complete head");
  const head = parseResponseHead(b, end);
  return { head, framing: responseFraming(head, method) };
}

function refused(text: string, reason: string, method = "GET") {
  assert.throws(
    () => parse(text, method),
    (e: unknown) => e instanceof UpstreamProtocolError && e.reason === reason,
  );
}

Deno.test("response head: status, fields (lower-cased, trimmed, repeats kept) and keep-alive", () => {
  const { head, framing } = parse(
    "HTTP/1.1 200 OK\r\nX-A:  1 \r\nSet-Cookie: a\r\nSet-Cookie: b\r\nContent-Length: 3\r\n\r\n",
  );
  assert.equal(head.status, 200);
  assert.deepEqual(head.names, ["x-a", "set-cookie", "set-cookie", "content-length"]);
  assert.deepEqual(head.values, ["1", "a", "b", "3"]);
  assert.equal(head.keepAlive, true);
  assert.deepEqual(framing, { kind: "length", length: 3 });
  assert.equal(parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").head.keepAlive, false);
  assert.equal(parse("HTTP/1.0 200 OK\r\n\r\n").head.keepAlive, false);
  assert.equal(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").head.keepAlive, true);
  assert.equal(parse("HTTP/1.1 204\r\n\r\n").head.status, 204); // no reason phrase
});

Deno.test("response head: framing by RFC 9112 §6.3", () => {
  assert.deepEqual(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing, {
    kind: "chunked",
  });
  assert.deepEqual(parse("HTTP/1.1 200 OK\r\n\r\n").framing, { kind: "close" });
  assert.deepEqual(parse("HTTP/1.1 204 No Content\r\n\r\n").framing, { kind: "none" });
  assert.deepEqual(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").framing, { kind: "none" });
  assert.deepEqual(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", "HEAD").framing, { kind: "none" });
  assert.deepEqual(parse("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n").framing, { kind: "none" });
});

Deno.test("response head: what a proxy must not pass on is refused, with its reason", () => {
  refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", "two_lengths");
  refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "length_and_chunked");
  refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "bad_coding");
  refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad_length");
  refused("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", "bad_length");
  refused("HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n", "obs_fold");
  refused("HTTP/1.1 200 OK\r\nX : 1\r\n\r\n", "bad_field_name");
  refused("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "bad_field");
  refused("HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", "bad_field_value");
  refused("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "bare_cr");
  refused("HTTP/2.0 200 OK\r\n\r\n", "bad_status_line");
  refused("HTTP/1.1 600 Odd\r\n\r\n", "bad_status");
  refused("HTTP/1.1 20x OK\r\n\r\n", "bad_status");
  refused("HTTP/1.1 200 O\x00K\r\n\r\n", "bad_status_line");
  refused("ICY 200 OK\r\n\r\n", "bad_status_line");
});

Deno.test("response head: its end is found at every split of the input", () => {
  const text = enc.encode("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nbody");
  const whole = headEnd(text, text.length);
  assert.equal(whole, text.length - 4);
  for (let cut = 0; cut < text.length; cut++) {
    const first = headEnd(text, cut);
    const found = first >= 0 ? first : headEnd(text, text.length, cut);
    assert.equal(found, whole, `split at ${cut}`);
  }
});
