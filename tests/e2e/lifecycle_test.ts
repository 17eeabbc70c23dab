/**
 * Timeouts, trickling clients, the connection cap and graceful drain, over real sockets. Short
 * timeouts (fractions of a second) keep the tests quick; assertions are on what the server
 * sends and when it closes, never on how long anything took.
 */

import assert from "assert";
import { exchange, header, RawClient, text } from "../helpers/client.ts";
import { startServer, until } from "../helpers/server.ts";
import type { Handler } from "../../src/mod.ts";

const H = "Host: t\r\n";
const hello: Handler = async (req, res) => await res.send(200, [["x-path", req.path]], "hello");

Deno.test("header timeout: an incomplete head gets 408 and a close", async () => {
  await using s = await startServer({ handler: hello, headerTimeout: 0.2 });
  await using c = await RawClient.connect(s.port);
  await c.send("GET / HTTP/1.1\r\nHost: t\r\n"); // never finished
  const res = await c.response();
  assert.equal(res.status, 408);
  assert.equal(header(res, "connection"), "close");
  assert.ok(await c.closed());
  assert.equal(s.server.stats.timeouts.get("header"), 1);
});

Deno.test("header timeout: a connection that sends nothing is closed without a response", async () => {
  await using s = await startServer({ handler: hello, headerTimeout: 0.2 });
  await using c = await RawClient.connect(s.port);
  assert.deepEqual(await c.readAll(), new Uint8Array(0));
});

Deno.test("keep-alive timeout: an idle connection is closed quietly after its last response", async () => {
  await using s = await startServer({ handler: hello, keepaliveTimeout: 0.2 });
  await using c = await RawClient.connect(s.port);
  await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal((await c.response()).status, 200);
  assert.ok(await c.closed(), "closed with nothing more sent");
  assert.equal(s.server.stats.timeouts.get("keepalive"), 1);
});

Deno.test("keep-alive timeout 0: every response closes the connection", async () => {
  await using s = await startServer({ handler: hello, keepaliveTimeout: 0 });
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(res, "connection"), "close");
  assert.ok(res.closedAfter);
});

Deno.test("body timeout: a stalled body gets 408 and a close", async () => {
  await using s = await startServer({
    handler: async (req, res) => await res.send(200, [], await req.body.bytes()),
    bodyTimeout: 0.2,
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`);
  const res = await c.response();
  assert.equal(res.status, 408);
  assert.ok(await c.closed());
  assert.equal(s.server.stats.timeouts.get("body"), 1);
});

Deno.test("slowloris: 200 connections trickling heads do not delay a fresh client", async () => {
  await using s = await startServer({ handler: hello, headerTimeout: 30 });
  const trickle = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + "a".repeat(200);
  const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(s.port)));
  let stop = false;
  let sent = 0;
  const trickling = (async () => {
    for (let i = 0; i < trickle.length && !stop; i++) {
      await Promise.all(clients.map((c) => c.send(trickle[i]).catch(() => {})));
      sent = i + 1;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    await until(() => s.server.connectionCount >= 200 && sent >= 20, "trickling clients to be admitted");
    // While they trickle, fresh clients are served (each through the whole exchange).
    for (let i = 0; i < 5; i++) {
      const res = await exchange(s.port, `GET /fresh${i} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      assert.equal(res.status, 200);
      assert.equal(header(res, "x-path"), `/fresh${i}`);
    }
    assert.ok(s.server.connectionCount >= 200, "the tricklers are still connected");
  } finally {
    stop = true;
    await trickling;
    for (const c of clients) c.close();
  }
});

Deno.test("connection cap: one over --max-connections gets 503, Retry-After, close; recovers", async () => {
  await using s = await startServer({ handler: hello, maxConnections: 2 });
  const a = await RawClient.connect(s.port);
  const b = await RawClient.connect(s.port);
  for (const c of [a, b]) {
    await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
    assert.equal((await c.response()).status, 200);
  }
  await using c = await RawClient.connect(s.port);
  await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  const res = await c.response();
  assert.equal(res.status, 503);
  assert.match(header(res, "retry-after") ?? "", /^[1-5]$/);
  assert.equal(header(res, "connection"), "close");
  assert.ok(await c.closed());
  assert.equal(s.server.stats.capacityRejections, 1);

  a.close();
  await until(() => s.server.connectionCount < 2, "the server to notice the closed connection");
  const again = await exchange(s.port, `GET /back HTTP/1.1\r\n${H}\r\n`);
  assert.equal(again.status, 200);
  b.close();
});

Deno.test("drain: idle closes at once, in-flight finishes with close, late arrivals get 503", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let started!: () => void;
  const inFlight = new Promise<void>((r) => started = r);
  const s = await startServer({
    handler: async (req, res) => {
      if (req.path === "/slow") {
        started();
        await gate;
      }
      await res.send(200, [["x-path", req.path]], "done");
    },
    drainTimeout: 30,
  });
  try {
    // An idle keep-alive connection.
    const idle = await RawClient.connect(s.port);
    await idle.send(`GET /first HTTP/1.1\r\n${H}\r\n`);
    assert.equal((await idle.response()).status, 200);
    // A request in flight.
    const busy = await RawClient.connect(s.port);
    await busy.send(`GET /slow HTTP/1.1\r\n${H}\r\n`);
    await inFlight;
    // A request half-way through its head.
    const late = await RawClient.connect(s.port);
    await late.send("GET /late HTTP/1.1\r\n");
    await until(() => s.server.connectionCount === 3, "three connections");

    const finished = s.server.shutdown();
    assert.ok(await idle.closed(), "the idle connection closes at once");
    await late.send(`${H}\r\n`);
    const refused = await late.response();
    assert.equal(refused.status, 503);
    assert.match(header(refused, "retry-after") ?? "", /^\d+$/);
    assert.equal(header(refused, "connection"), "close");

    release();
    const done = await busy.response();
    assert.equal(text(done), "done");
    assert.equal(header(done, "connection"), "close");
    assert.ok(await busy.closed());
    await finished;
    assert.equal(s.server.connectionCount, 0);
    // The listener is closed: new connections are refused.
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: s.port }));
    for (const c of [idle, busy, late]) c.close();
  } finally {
    release();
    await s.server.shutdown();
  }
});

Deno.test("drain timeout: a request that never ends is cut off and shutdown completes", async () => {
  const s = await startServer({
    handler: () => new Promise<void>(() => {}), // never answers
    drainTimeout: 0.2,
  });
  const c = await RawClient.connect(s.port);
  await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  await until(() => s.server.stats.requestsTotal === 1, "the request to arrive");
  await s.server.shutdown();
  assert.ok(await c.closed());
  c.close();
});

Deno.test("write timeout: a client that stops reading a response is cut off, not kept forever", async () => {
  const chunk = new Uint8Array(1024 * 1024).fill(97);
  await using s = await startServer({
    bodyTimeout: 0.3,
    handler: async (_req, res) => {
      res.writeHead(200, [["content-type", "application/octet-stream"]]);
      for (let i = 0; i < 64; i++) await res.write(chunk); // 64 MiB: far more than socket buffers hold
      await res.end();
    },
  });
  const c = await RawClient.connect(s.port);
  await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  // Read nothing: the server's writes stall, and after --body-timeout it gives up.
  await until(() => s.server.stats.timeouts.get("write") === 1, "the write timeout", 20000);
  await until(() => s.server.connectionCount === 0, "the connection to be closed", 20000);
  c.close();
});
