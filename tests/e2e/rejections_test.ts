/**
 * Every rejection of the engine, over a real socket: the status, `Connection: close`, and the
 * server closing the connection after it (nothing after a framing error is trusted).
 */

import assert from "assert";
import { exchange, header, RawClient } from "../helpers/client.ts";
import { startServer } from "../helpers/server.ts";
import type { Handler } from "../../src/mod.ts";

const echo: Handler = async function echo(req, res) {
  const body = await req.body.bytes();
  await res.send(200, [["x-path", req.path]], body);
};

const H = "Host: t\r\n";
const cases: Array<[string, string, number]> = [
  ["lowercase http/", "GET / http/1.1\r\n" + H + "\r\n", 400],
  ["HTTP/2.0", "GET / HTTP/2.0\r\n" + H + "\r\n", 505],
  ["HTTP/1.2", "GET / HTTP/1.2\r\n" + H + "\r\n", 505],
  ["HTTP/0.9 (no version)", "GET /\r\n\r\n", 400],
  ["two spaces after the method", "GET  / HTTP/1.1\r\n" + H + "\r\n", 400],
  ["space after the version", "GET / HTTP/1.1 \r\n" + H + "\r\n", 400],
  ["target without a slash", "GET index.html HTTP/1.1\r\n" + H + "\r\n", 400],
  ["asterisk-form outside OPTIONS", "GET * HTTP/1.1\r\n" + H + "\r\n", 400],
  ["unknown method", "BREW / HTTP/1.1\r\n" + H + "\r\n", 501],
  ["lowercase method (methods are case-sensitive)", "get / HTTP/1.1\r\n" + H + "\r\n", 501],
  ["CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501],
  ["non-ASCII in the target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + H + "\r\n", 400],
  ["obs-fold", "GET / HTTP/1.1\r\n" + H + "X-A: 1\r\n  2\r\n\r\n", 400],
  ["whitespace before the first field", "GET / HTTP/1.1\r\n " + H + "\r\n", 400],
  ["bare CR in a value", "GET / HTTP/1.1\r\n" + H + "X-A: 1\r2\r\n\r\n", 400],
  ["bare LF ending a field", "GET / HTTP/1.1\r\n" + H + "X-A: 1\n\r\n", 400],
  ["bare LF ending the request line", "GET / HTTP/1.1\n" + H + "\r\n", 400],
  ["NUL in a value", "GET / HTTP/1.1\r\n" + H + "X-A: a\x00b\r\n\r\n", 400],
  ["DEL in a value", "GET / HTTP/1.1\r\n" + H + "X-A: a\x7fb\r\n\r\n", 400],
  ["whitespace before the colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400],
  ["a line without a colon", "GET / HTTP/1.1\r\n" + H + "NoColon\r\n\r\n", 400],
  ["invalid token in a name", "GET / HTTP/1.1\r\n" + H + "X(A): 1\r\n\r\n", 400],
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400],
  ["two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  ["invalid Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
  ["Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400],
  ["Content-Length not digits", "POST / HTTP/1.1\r\n" + H + "Content-Length: 1x\r\n\r\n", 400],
  ["Content-Length with a sign", "POST / HTTP/1.1\r\n" + H + "Content-Length: +1\r\n\r\n", 400],
  ["empty Content-Length", "POST / HTTP/1.1\r\n" + H + "Content-Length: \r\n\r\n", 400],
  [
    "differing Content-Length",
    "POST / HTTP/1.1\r\n" + H + "Content-Length: 1\r\nContent-Length: 2\r\n\r\na",
    400,
  ],
  ["differing Content-Length list", "POST / HTTP/1.1\r\n" + H + "Content-Length: 1, 2\r\n\r\na", 400],
  [
    "Content-Length overflow",
    "POST / HTTP/1.1\r\n" + H + "Content-Length: 99999999999999999999\r\n\r\n",
    400,
  ],
  [
    "Content-Length with Transfer-Encoding",
    "POST / HTTP/1.1\r\n" + H + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
  ["Transfer-Encoding on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
  ["gzip transfer coding", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\n", 501],
  [
    "gzip before chunked",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    501,
  ],
  ["chunked twice", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400],
  ["chunked not last", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400],
  ["unknown expectation", "POST / HTTP/1.1\r\n" + H + "Expect: 200-ok\r\nContent-Length: 0\r\n\r\n", 417],
  ["two empty lines before the request", "\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n", 200],
  ["bad chunk size", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
  [
    "chunk size overflow",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
    400,
  ],
  [
    "chunk data without CRLF",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
    400,
  ],
  [
    "chunk size with bare LF",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n",
    400,
  ],
  [
    "bad chunk extension",
    "POST / HTTP/1.1\r\n" + H + 'Transfer-Encoding: chunked\r\n\r\n1;a="b\r\na\r\n0\r\n\r\n',
    400,
  ],
  [
    "whitespace after chunk size",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n1 \r\na\r\n0\r\n\r\n",
    400,
  ],
  [
    "bad trailer",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n",
    400,
  ],
];

for (const [name, request, status] of cases) {
  Deno.test(`rejection: ${name} → ${status}`, async () => {
    await using s = await startServer({ handler: echo });
    const res = await exchange(s.port, request, "GET");
    assert.equal(res.status, status);
    if (status >= 400) {
      assert.match(header(res, "connection") ?? "", /close/);
      assert.ok(res.closedAfter, "the connection is closed after a rejection");
    }
  });
}

Deno.test("rejection: request-target over --max-target-length → 414", async () => {
  await using s = await startServer({ handler: echo, maxTargetLength: 100 });
  const ok = await exchange(s.port, `GET /${"a".repeat(99)} HTTP/1.1\r\n${H}\r\n`);
  assert.equal(ok.status, 200);
  const res = await exchange(s.port, `GET /${"a".repeat(100)} HTTP/1.1\r\n${H}\r\n`);
  assert.equal(res.status, 414);
  assert.ok(res.closedAfter);
});

Deno.test("rejection: 414 is sent before the rest of an endless target arrives", async () => {
  await using s = await startServer({ handler: echo, maxTargetLength: 1000 });
  await using c = await RawClient.connect(s.port);
  await c.send("GET /" + "a".repeat(5000)); // no end of line, ever
  const res = await c.response();
  assert.equal(res.status, 414);
});

Deno.test("rejection: head over --max-header-bytes → 431", async () => {
  await using s = await startServer({ handler: echo, maxHeaderBytes: 1024 });
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}X-Big: ${"b".repeat(2000)}\r\n\r\n`);
  assert.equal(res.status, 431);
  assert.ok(res.closedAfter);
});

Deno.test("rejection: more than 100 header fields → 431; exactly 100 is fine", async () => {
  await using s = await startServer({ handler: echo });
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: ${i}\r\n`).join("");
  const ok = await exchange(s.port, `GET / HTTP/1.1\r\n${H}${fields(99)}\r\n`);
  assert.equal(ok.status, 200);
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}${fields(100)}\r\n`);
  assert.equal(res.status, 431);
});

Deno.test("rejection: declared body over --max-body-bytes → 413 at once, body never read", async () => {
  let called = false;
  await using s = await startServer({
    handler: async (_req, res) => {
      called = true;
      await res.send(200);
    },
    maxBodyBytes: 1000,
  });
  await using c = await RawClient.connect(s.port);
  // Only the head is sent: the 413 must come from the declared length alone.
  await c.send(`POST / HTTP/1.1\r\n${H}Content-Length: 1001\r\n\r\n`);
  const res = await c.response();
  assert.equal(res.status, 413);
  assert.match(header(res, "connection") ?? "", /close/);
  assert.equal(called, false);
});

Deno.test("rejection: chunked body growing past --max-body-bytes → 413", async () => {
  await using s = await startServer({ handler: echo, maxBodyBytes: 1000 });
  const chunk = `200\r\n${"x".repeat(512)}\r\n`;
  const res = await exchange(
    s.port,
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`,
  );
  assert.equal(res.status, 413);
  assert.ok(res.closedAfter);
});

Deno.test("rejection: reasons are counted by code", async () => {
  await using s = await startServer({ handler: echo });
  await exchange(s.port, "GET / HTTP/1.1\r\nHost : t\r\n\r\n");
  await exchange(s.port, "GET / HTTP/1.1\r\n\r\n");
  assert.equal(s.server.stats.rejections.get("whitespace_before_colon"), 1);
  assert.equal(s.server.stats.rejections.get("missing_host"), 1);
});

Deno.test("live fuzz: 400 random and mutated requests never crash the server, which keeps serving", async () => {
  const fc = (await import("fast-check")).default;
  await using s = await startServer({ handler: echo, headerTimeout: 0.5, bodyTimeout: 0.5 });
  const valid = `POST /p?q=1 HTTP/1.1\r\n${H}Content-Length: 5\r\nX-A: b\r\n\r\nhello`;
  const inputs = fc.sample(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 5,
      })
        .map((edits) => {
          const b = Array.from(valid, (c) => c.charCodeAt(0));
          for (const e of edits) b[e.at % b.length] = e.byte;
          return Uint8Array.from(b);
        }),
    ),
    { numRuns: 400, seed: 20261121 },
  );
  for (const input of inputs) {
    await using c = await RawClient.connect(s.port);
    await c.send(input);
    await c.closeWrite();
    const reply = new TextDecoder().decode(await c.readAll());
    // Whatever came back is well-formed HTTP or nothing at all.
    if (reply !== "") assert.match(reply, /^HTTP\/1\.1 \d{3} /, JSON.stringify(reply.slice(0, 80)));
    const statuses = [...reply.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    assert.ok(
      statuses.every((x) => x === 200 || (x >= 400 && x < 500) || x === 501 || x === 505),
      `statuses ${statuses}`,
    );
  }
  const res = await exchange(s.port, `POST /after HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nok`);
  assert.equal(res.status, 200);
  assert.equal(s.server.stats.handlerErrors, 0);
});
