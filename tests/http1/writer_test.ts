/**
 * The response writer driven with bytes (its output is collected from a byte sink): framing by
 * Content-Length, chunked and close-delimited bodies, HEAD/204/304, and its refusals: CR or LF in
 * a value, a bad field name, a body longer than its Content-Length.
 */

import assert from "assert";
import { type ExchangeFacts, Http1Writer, Output, type ResponseSink } from "../../src/http1/writer.ts";

/** A sink for one exchange; `bytes()` is what went to the "socket". */
function sink(opts: { head?: boolean; minor?: number; close?: boolean } = {}) {
  const chunks: Uint8Array[] = [];
  const out = new Output({
    write: (p: Uint8Array) => {
      chunks.push(p.slice());
      return Promise.resolve(p.length);
    },
  });
  const s: ResponseSink = { out, mustClose: () => opts.close ?? false, endOfResponse: () => out.flush() };
  const facts: ExchangeFacts = {
    head: opts.head ?? false,
    versionMinor: opts.minor ?? 1,
    requestId: "req-1",
    extraHead: undefined,
  };
  const text = () => new TextDecoder().decode(Uint8Array.from(chunks.flatMap((c) => [...c])));
  return { s, facts, text };
}

Deno.test("writer: a Content-Length body, the X-Request-Id, Date and Server once", async () => {
  const { s, facts, text } = sink();
  await new Http1Writer(s, facts).send(200, [["Content-Type", "text/plain"]], "hello");
  const t = text();
  assert.match(t, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(t, /\r\nContent-Length: 5\r\n/);
  assert.match(t, /\r\nX-Request-Id: req-1\r\n/);
  assert.equal(t.match(/\r\nDate: /g)?.length, 1);
  assert.equal(t.match(/\r\nServer: ferry\r\n/g)?.length, 1);
  assert.ok(t.endsWith("\r\n\r\nhello"));
});

Deno.test("writer: a streamed body is chunked on HTTP/1.1 and close-delimited on HTTP/1.0", async () => {
  const one = sink();
  const w = new Http1Writer(one.s, one.facts);
  w.writeHead(200, []);
  await w.write("ab");
  await w.write("cde");
  await w.end();
  assert.match(one.text(), /Transfer-Encoding: chunked\r\n/);
  assert.ok(one.text().endsWith("\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"));
  const old = sink({ minor: 0 });
  const w0 = new Http1Writer(old.s, old.facts);
  w0.writeHead(200, []);
  await w0.write("ab");
  await w0.end();
  assert.match(old.text(), /Connection: close\r\n/);
  assert.doesNotMatch(old.text(), /Transfer-Encoding/);
  assert.equal(w0.closeAfter, true);
});

Deno.test("writer: HEAD, 204 and 304 carry no body", async () => {
  const head = sink({ head: true });
  await new Http1Writer(head.s, head.facts).send(200, [], "not sent");
  assert.match(head.text(), /Content-Length: 8\r\n/);
  assert.ok(head.text().endsWith("\r\n\r\n"));
  const none = sink();
  await new Http1Writer(none.s, none.facts).send(204, [], "ignored");
  assert.doesNotMatch(none.text(), /Content-Length|ignored/);
  const notModified = sink();
  await new Http1Writer(notModified.s, notModified.facts).send(304, [["ETag", '"x"']]);
  assert.match(notModified.text(), /^HTTP\/1\.1 304 Not Modified\r\n/);
  assert.match(notModified.text(), /\r\nETag: "x"\r\n/);
  assert.ok(notModified.text().endsWith("\r\n\r\n"), "no body after the head");
  assert.doesNotMatch(notModified.text(), /Content-Length/);
});

Deno.test("writer: CR or LF in a value, a bad name, or a bad status is refused and nothing is sent", () => {
  for (
    const [status, headers] of [
      [200, [["X-A", "a\r\nInjected: yes"]]],
      [200, [["X-A", "a\nb"]]],
      [200, [["Bad Name", "v"]]],
      [200, [["", "v"]]],
      [99, []],
    ] as Array<[number, Array<[string, string]>]>
  ) {
    const { s, facts, text } = sink();
    const w = new Http1Writer(s, facts);
    assert.throws(() => w.writeHead(status, headers), `${status} ${JSON.stringify(headers)}`);
    assert.equal(s.out.pending, 0, "nothing of a rejected head is buffered");
    assert.equal(text(), "");
  }
});

Deno.test("writer: a body longer than its Content-Length is refused; a shorter one closes", async () => {
  const long = sink();
  const w = new Http1Writer(long.s, long.facts);
  w.writeHead(200, [["Content-Length", "3"]]);
  await assert.rejects(() => w.write("four"), RangeError);
  assert.equal(w.closeAfter, true);
  assert.equal(w.remainingLength, 3);
  const short = sink();
  const w2 = new Http1Writer(short.s, short.facts);
  w2.writeHead(200, [["Content-Length", "3"]]);
  await w2.write("ab");
  await w2.end();
  assert.equal(w2.closeAfter, true, "a short body must end the connection");
});

Deno.test("writer: a header pair sent again and again, then changed in place, goes out as it is now", async () => {
  // The writer keeps the encoded line of a pair it sees repeatedly; a handler that edits its
  // pair in place must still be sent the new value, and a CR smuggled in later is still refused.
  const pair: [string, string] = ["Cache-Control", "max-age=60"];
  for (let i = 0; i < 3; i++) {
    const { s, facts, text } = sink();
    await new Http1Writer(s, facts).send(200, [pair], "x");
    assert.match(text(), /\r\nCache-Control: max-age=60\r\n/);
  }
  pair[1] = "no-store";
  const now = sink();
  await new Http1Writer(now.s, now.facts).send(200, [pair], "x");
  assert.match(now.text(), /\r\nCache-Control: no-store\r\n/);
  assert.doesNotMatch(now.text(), /max-age/);
  pair[1] = "no-store\r\nSet-Cookie: a=b";
  const bad = sink();
  assert.throws(() => new Http1Writer(bad.s, bad.facts).send(200, [pair], "x"), TypeError);
});

Deno.test("writer: heads made from a kept template carry their own status, fields, HSTS lines, id and length", async () => {
  // Once a pair is kept, a head of it starts from a template; each combination of status, fields
  // (and their order) and HSTS lines must still come out exactly as the writer would spell it.
  const type: [string, string] = ["Content-Type", "text/plain"];
  const cache: [string, string] = ["Cache-Control", "no-store"];
  const hsts = new TextEncoder().encode("Strict-Transport-Security: max-age=63072000\r\n");
  const cases = [
    { status: 200, headers: [type], extra: undefined, id: "a-1", body: "hello" },
    { status: 404, headers: [type], extra: undefined, id: "a-2", body: "not here" },
    { status: 200, headers: [type], extra: hsts, id: "a-3", body: "tls" },
    { status: 200, headers: [type, cache], extra: undefined, id: "a-4", body: "" },
    { status: 200, headers: [cache, type], extra: hsts, id: "a-5", body: "1234567890123" },
    { status: 200, headers: [], extra: undefined, id: "a-6", body: "x".repeat(4096) },
  ];
  for (let round = 0; round < 4; round++) {
    for (const c of cases) {
      const { s, facts, text } = sink();
      const f = { ...facts, requestId: c.id, extraHead: c.extra };
      await new Http1Writer(s, f).send(c.status, c.headers, c.body);
      const t = text();
      const head = t.slice(0, t.indexOf("\r\n\r\n") + 4);
      const date = head.match(/\r\nDate: [^\r]+\r\n/)![0];
      const expected = `HTTP/1.1 ${c.status} ${c.status === 200 ? "OK" : "Not Found"}\r\n` +
        c.headers.map(([n, v]) => `${n}: ${v}\r\n`).join("") +
        (c.extra ? "Strict-Transport-Security: max-age=63072000\r\n" : "") +
        `X-Request-Id: ${c.id}${date}Server: ferry\r\nContent-Length: ${c.body.length}\r\n\r\n`;
      assert.equal(head, expected, `round ${round}, ${c.id}`);
      assert.equal(t.slice(head.length), c.body);
    }
  }
});
