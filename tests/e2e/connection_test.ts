/**
 * The connection loop over real sockets: keep-alive, HTTP/1.0, pipelining, byte-by-byte input,
 * 100-continue, unread bodies, response framing and handler failures.
 */

import assert from "assert";
import { bytes, concat, exchange, header, RawClient, text } from "../helpers/client.ts";
import { startServer, until } from "../helpers/server.ts";
import type { Handler } from "../../src/mod.ts";

const H = "Host: t\r\n";

/** Echoes the body, with the method, path and query in headers. */
const echo: Handler = async function echo(req, res) {
  const body = await req.body.bytes();
  await res.send(200, [["x-method", req.method], ["x-path", req.path], ["x-query", req.query]], body);
};

Deno.test("keep-alive: HTTP/1.1 connections persist; Connection: close is honoured", async () => {
  await using s = await startServer({ handler: echo });
  await using c = await RawClient.connect(s.port);
  for (let i = 0; i < 3; i++) {
    await c.send(`GET /n${i} HTTP/1.1\r\n${H}\r\n`);
    const res = await c.response();
    assert.equal(res.status, 200);
    assert.equal(header(res, "x-path"), `/n${i}`);
    assert.equal(header(res, "connection"), undefined);
  }
  await c.send(`GET /last HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  const res = await c.response();
  assert.equal(header(res, "connection"), "close");
  assert.ok(await c.closed());
  assert.equal(s.server.stats.keepAliveReuse, 3);
});

Deno.test("keep-alive: HTTP/1.0 closes by default and persists when asked", async () => {
  await using s = await startServer({ handler: echo });
  const plain = await exchange(s.port, "GET /a HTTP/1.0\r\n\r\n");
  assert.equal(plain.status, 200);
  assert.equal(header(plain, "connection"), "close");
  assert.ok(plain.closedAfter);

  await using c = await RawClient.connect(s.port);
  await c.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const a = await c.response();
  assert.equal(header(a, "connection"), "keep-alive");
  await c.send("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  assert.equal(header(await c.response(), "x-path"), "/c");
});

Deno.test("pipelining: each request is served after the one before it, answered in order, in one write", async () => {
  // Later handlers would finish first if they ran alongside: the first waits longest.
  let delay = 40;
  const events: string[] = [];
  await using s = await startServer({
    handler: async (req, res) => {
      events.push(`start ${req.path}`);
      const d = (delay -= 10);
      await new Promise((r) => setTimeout(r, Math.max(d, 0)));
      events.push(`end ${req.path}`);
      await res.send(200, [["x-path", req.path]], req.path);
    },
  });
  await using c = await RawClient.connect(s.port);
  const paths = ["/1", "/2", "/3", "/4", "/5"];
  await c.send(
    paths.map((p, i) =>
      `GET ${p} HTTP/1.1\r\n${H}${i === paths.length - 1 ? "Connection: close\r\n" : ""}\r\n`
    ).join(""),
  );
  const answered: string[] = [];
  for (let i = 0; i < paths.length; i++) answered.push(text(await c.response()));
  assert.deepEqual(answered, paths, "responses in request order");
  assert.deepEqual(
    events,
    paths.flatMap((p) => [`start ${p}`, `end ${p}`]),
    "one handler at a time, in order",
  );
  assert.ok(await c.closed());
  await until(() => s.server.connectionCount === 0, "connection to close");
  assert.equal(s.server.stats.socketWrites, 1, "five ready responses leave in one write");
});

Deno.test("pipelining: bodies and heads mixed in one packet, with HEAD in the middle", async () => {
  await using s = await startServer({ handler: echo });
  await using c = await RawClient.connect(s.port);
  await c.send(
    `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello` +
      `HEAD /b HTTP/1.1\r\n${H}\r\n` +
      `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n` +
      `GET /d?x=1 HTTP/1.1\r\n${H}\r\n`,
  );
  assert.equal(text(await c.response()), "hello");
  const head = await c.response("HEAD");
  assert.equal(header(head, "x-path"), "/b");
  assert.equal(header(head, "content-length"), "0");
  assert.equal(text(await c.response()), "abcde");
  const last = await c.response();
  assert.equal(header(last, "x-path"), "/d");
  assert.equal(header(last, "x-query"), "x=1");
});

Deno.test("input split: a chunked request delivered one byte per write parses the same", async () => {
  await using s = await startServer({ handler: echo });
  await using c = await RawClient.connect(s.port);
  const request = bytes(
    `\r\nPOST /split?q=1 HTTP/1.1\r\n${H}X-A:  spaced value \r\nTransfer-Encoding: chunked\r\n\r\n` +
      `4\r\nWiki\r\n5;name="v a l"\r\npedia\r\n0\r\nTrailer: yes\r\n\r\n`,
  );
  for (let i = 0; i < request.length; i++) await c.send(request.subarray(i, i + 1));
  const res = await c.response();
  assert.equal(res.status, 200);
  assert.equal(text(res), "Wikipedia");
  assert.equal(header(res, "x-query"), "q=1");
});

Deno.test("input split: every two-way split of a request with a body, over one socket each", async () => {
  await using s = await startServer({ handler: echo });
  const request = bytes(`PUT /p HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\nhello world`);
  for (let i = 1; i < request.length; i++) {
    await using c = await RawClient.connect(s.port);
    await c.send(request.subarray(0, i));
    await new Promise((r) => setTimeout(r, 1)); // let the first piece arrive on its own
    await c.send(request.subarray(i));
    assert.equal(text(await c.response()), "hello world", `split at ${i}`);
  }
});

Deno.test("100-continue: sent only when the handler starts reading the body", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using s = await startServer({
    handler: async (req, res) => {
      await gate; // the handler looks at the head first
      await res.send(200, [], await req.body.bytes());
    },
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`PUT /x HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 4\r\n\r\n`);
  // Nothing may arrive while the handler has not read.
  assert.equal(await c.poll(100), 0, "no 100 Continue before the handler reads");
  release();
  const interim = await c.response();
  assert.equal(interim.status, 100);
  await c.send("data");
  const res = await c.response();
  assert.equal(res.status, 200);
  assert.equal(text(res), "data");
});

Deno.test("100-continue: a handler that answers without reading gets no 100 and closes", async () => {
  await using s = await startServer({
    handler: async (_req, res) => await res.send(403, [], "no"),
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`PUT /x HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 1000\r\n\r\n`);
  const res = await c.response();
  assert.equal(res.status, 403);
  assert.equal(header(res, "connection"), "close");
  assert.ok(await c.closed());
});

Deno.test("100-continue: a declared length over the limit gets 413, never 100", async () => {
  await using s = await startServer({ handler: echo, maxBodyBytes: 10 });
  await using c = await RawClient.connect(s.port);
  await c.send(`PUT /x HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 11\r\n\r\n`);
  const res = await c.response();
  assert.equal(res.status, 413);
});

Deno.test("unread body: a small one is drained and the connection reused", async () => {
  await using s = await startServer({
    handler: async (req, res) => await res.send(200, [["x-path", req.path]], "ok"),
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`POST /a HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(await c.response(), "x-path"), "/a");
  assert.equal(header(await c.response(), "x-path"), "/b");
});

Deno.test("unread body: one over the drain bound closes the connection (said in the response)", async () => {
  await using s = await startServer({
    handler: async (_req, res) => await res.send(200, [], "ok"),
    maxDrainBytes: 100,
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`POST /a HTTP/1.1\r\n${H}Content-Length: 1000\r\n\r\n` + "x".repeat(1000));
  const res = await c.response();
  assert.equal(header(res, "connection"), "close");
  assert.ok(await c.closed());
});

Deno.test("response framing: streamed body is chunked on HTTP/1.1, close-delimited on HTTP/1.0", async () => {
  const stream: Handler = async (_req, res) => {
    res.writeHead(200, [["content-type", "text/plain"]]);
    for (const part of ["one ", "two ", "three"]) {
      await res.write(part);
      await res.flush();
    }
    await res.end();
  };
  await using s = await startServer({ handler: stream });
  const r11 = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(r11, "transfer-encoding"), "chunked");
  assert.equal(text(r11), "one two three");
  assert.ok(r11.complete);
  const r10 = await exchange(s.port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  assert.equal(header(r10, "transfer-encoding"), undefined);
  assert.equal(header(r10, "content-length"), undefined);
  assert.equal(header(r10, "connection"), "close");
  assert.equal(text(r10), "one two three");
});

Deno.test("response framing: HEAD, 204 and 304 carry no body; Date and Server are set", async () => {
  const h: Handler = async (req, res) => {
    const status = req.path === "/204" ? 204 : req.path === "/304" ? 304 : 200;
    await res.send(status, [["etag", '"x"']], "body that must not be sent");
  };
  await using s = await startServer({ handler: h });
  await using c = await RawClient.connect(s.port);
  await c.send(`HEAD /200 HTTP/1.1\r\n${H}\r\nGET /204 HTTP/1.1\r\n${H}\r\nGET /304 HTTP/1.1\r\n${H}\r\n`);
  const head = await c.response("HEAD");
  assert.equal(header(head, "content-length"), "26");
  assert.match(header(head, "date") ?? "", /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.equal(header(head, "server"), "ferry");
  const r204 = await c.response();
  assert.equal(r204.status, 204);
  assert.equal(header(r204, "content-length"), undefined);
  const r304 = await c.response();
  assert.equal(r304.status, 304);
  assert.equal(header(r304, "etag"), '"x"');
  // If any body had been sent, it would now sit in the buffer in front of this response.
  await c.send(`GET /200 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  assert.equal(text(await c.response()), "body that must not be sent");
});

Deno.test("handler failure before the head: 500 with a generic body, message only in the log", async () => {
  await using s = await startServer({
    handler: () => {
      throw new Error("secret database password leaked");
    },
  });
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(res.status, 500);
  assert.doesNotMatch(text(res), /secret/);
  await s.server.log.flush();
  assert.match(s.logs.text, /secret database password leaked/);
  assert.equal(s.server.stats.handlerErrors, 1);
});

Deno.test("handler failure after the head: the response is cut off and the connection closed", async () => {
  await using s = await startServer({
    handler: async (_req, res) => {
      res.writeHead(200);
      await res.write("partial");
      await res.flush();
      throw new Error("boom");
    },
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  const res = await c.response();
  assert.equal(res.chunked, true);
  assert.equal(res.complete, false, "no final chunk: the client can tell the body is truncated");
  assert.equal(text(res), "partial");
});

Deno.test("response headers: CR/LF in a value is refused (500), never sent", async () => {
  await using s = await startServer({
    handler: async (_req, res) => await res.send(200, [["x-evil", "a\r\nSet-Cookie: owned=1"]], "x"),
  });
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(res.status, 500);
  assert.equal(header(res, "set-cookie"), undefined);
});

Deno.test("OPTIONS * answers for the server; absolute-form targets use their authority", async () => {
  await using s = await startServer({
    handler: async (req, res) => await res.send(200, [["x-host", req.host]], req.path),
  });
  const opt = await exchange(s.port, `OPTIONS * HTTP/1.1\r\n${H}\r\n`);
  assert.equal(opt.status, 204);
  assert.match(header(opt, "allow") ?? "", /GET/);
  const abs = await exchange(s.port, `GET http://example.org:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n`);
  assert.equal(header(abs, "x-host"), "example.org:81");
  assert.equal(text(abs), "/p");
});

Deno.test("large bodies stream through: 5 MB chunked upload echoed byte-exact", async () => {
  await using s = await startServer({
    handler: async (req, res) => {
      res.writeHead(200);
      for await (const chunk of req.body) await res.write(chunk);
      await res.end();
    },
  });
  const data = new Uint8Array(5 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 13)) & 0xff;
  await using c = await RawClient.connect(s.port);
  const parts: Uint8Array[] = [bytes(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`)];
  for (let off = 0; off < data.length; off += 100_000) {
    const piece = data.subarray(off, Math.min(off + 100_000, data.length));
    parts.push(bytes(piece.length.toString(16) + "\r\n"), piece, bytes("\r\n"));
  }
  parts.push(bytes("0\r\n\r\n"));
  const [res] = await Promise.all([c.response(), c.send(concat(parts))]);
  assert.equal(res.body.length, data.length);
  assert.deepEqual(res.body, data);
});
