/**
 * The engine's limit refusals over a real socket (414, 431, 413), the reason counters and a live
 * fuzz run. The framing rules themselves are rows of `tests/http1/conformance_table.ts`.
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

// The rules of RFC 9112 framing, one row each, live in tests/http1/conformance_table.ts; this file
// keeps the refusals that depend on a limit.

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
