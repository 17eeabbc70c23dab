/**
 * The in-memory exchange harness (`src/http/harness.ts`): the request a handler sees (path,
 * query, URL, scheme, body, protocol) and what the memory writer keeps (status, fields, body; the
 * HEAD, 204 and Content-Length rules; the `close` capability and no `switch`).
 */

import assert from "assert";
import { harnessRequest, request } from "../../src/http/harness.ts";
import type { Handler } from "../../src/http/dispatch.ts";
import { Refusal } from "../../src/http/refusal.ts";

Deno.test("harness: the request a handler sees", async () => {
  const req = harnessRequest("/a/b?c=1&d", { headers: { Host: "example.com", "X-One": "1" } });
  assert.deepEqual([req.method, req.path, req.query, req.protocol], ["GET", "/a/b", "c=1&d", "HTTP/1.1"]);
  assert.equal(req.url, "http://example.com/a/b?c=1&d");
  assert.equal(req.headers.get("x-one"), "1");
  assert.equal(req.contentLength, -1);
  assert.equal(await req.body.text(), "");

  const secure = harnessRequest("/", { secure: true, protocol: "HTTP/2", headers: { host: "h" } });
  assert.deepEqual([secure.scheme, secure.protocol, secure.url], ["https", "HTTP/2", "https://h/"]);

  const post = harnessRequest("/up", { method: "POST", body: "hello" });
  assert.equal(post.headers.get("content-length"), "5");
  assert.equal(post.contentLength, 5);
  assert.equal(await post.body.text(), "hello");
  const chunked = harnessRequest("/up", { method: "POST", body: "hello", chunked: true });
  assert.deepEqual([chunked.chunked, chunked.contentLength, chunked.headers.get("content-length")], [
    true,
    -1,
    undefined,
  ]);
  assert.notEqual(post.id, chunked.id, "each request has its own id");
});

Deno.test("harness: the writer keeps status, fields and body; echoes a body", async () => {
  const echo: Handler = async (req, res) => {
    const body = await req.body.bytes();
    res.writeHead(201, [["X-Got", String(body.length)]]);
    await res.write("got:");
    await res.end(body);
  };
  const res = await request(echo, "/echo", { method: "PUT", body: "abc" });
  assert.equal(res.status, 201);
  assert.equal(res.header("x-got"), "3");
  assert.equal(res.header("X-GOT"), "3", "header() ignores case");
  assert.equal(res.text(), "got:abc");
  assert.deepEqual([res.finished, res.aborted], [true, false]);
});

Deno.test("harness: HEAD and 204 carry no body; a body past Content-Length is refused", async () => {
  const page: Handler = (_req, res) => res.send(200, [["Content-Type", "text/plain"]], "twelve bytes");
  const head = await request(page, "/", { method: "HEAD" });
  assert.deepEqual([head.status, head.header("content-length"), head.body.length], [200, "12", 0]);
  const none = await request((_req, res) => res.send(204, [], ""), "/");
  assert.deepEqual([none.status, none.header("content-length")], [204, undefined]);

  let refused: unknown;
  await request(async (_req, res) => {
    res.writeHead(200, [["Content-Length", "2"]]);
    refused = await res.write("three").catch((e) => e);
    res.abort();
  }, "/");
  assert.ok(refused instanceof RangeError, String(refused));
});

Deno.test("harness: capabilities by name: close is offered, switch is not", async () => {
  let offered: string[] = [];
  const res = await request((_req, res) => {
    offered = (["close", "switch"] as const).filter((n) => res.capability(n) !== undefined);
    res.capability("close")?.();
    return res.send(200, [], "bye");
  }, "/");
  assert.deepEqual(offered, ["close"]);
  assert.equal(res.text(), "bye");
});

Deno.test("harness: the real exchange: a throw is 500 (logged once), a refusal its status, no answer 500", async () => {
  const thrown = await request(() => Promise.reject(new Error("boom")), "/");
  assert.equal(thrown.status, 500);
  assert.equal(thrown.text(), "Internal Server Error\n");
  assert.equal(thrown.log.match(/handler failed/g)?.length, 1, thrown.log);
  assert.match(thrown.log, /Error: boom/);
  const refused = await request(() => Promise.reject(new Refusal(409, "a directory has that name")), "/");
  assert.deepEqual([refused.status, refused.text(), refused.log], [409, "a directory has that name\n", ""]);
  const silent = await request(() => {}, "/");
  assert.equal(silent.status, 500);
  assert.match(silent.log, /handler returned without responding/);
  const late = await request(async (_req, res) => {
    res.writeHead(200);
    await res.write("part");
    throw new Error("late");
  }, "/");
  assert.deepEqual([late.status, late.aborted, late.text()], [200, true, "part"], "cut off after the head");
});
