/**
 * Every module over HTTP/2 (h2c prior knowledge, raw frames; curl where a client's view
 * matters): static files (Range, multi-range, preconditions, compression, a large file under
 * flow control), uploads, metrics, a fetch app, Python WSGI and ASGI, and a WebSocket upgrade
 * refused so the client retries over HTTP/1.1.
 */

import assert from "assert";
import { startServer } from "../helpers/server.ts";
import { startAsgi, startWsgi } from "../helpers/python.ts";
import { fetchHandler } from "../../src/app/fetch.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { field, request } from "./frame_kit.ts";
import { missing, needs } from "../helpers/needs.ts";

const dec = new TextDecoder();
const GET = (path: string, extra: Array<[string, string]> = []): Array<[string, string]> => [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", path],
  [":authority", "example.test:8080"],
  ...extra,
];
const INDEX = missing("read").length === 0 ? await Deno.readFile("static/index.html") : new Uint8Array();

Deno.test(
  "h2 modules: static files: whole, Range, multi-range, If-None-Match, gzip, HEAD",
  needs("read", "write", "run"),
  async () => {
    await using s = await startServer({ h2c: true });
    const whole = await request(s.port, GET("/static/index.html"));
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, INDEX);
    assert.equal(field(whole, "content-length"), String(INDEX.length));
    const etag = field(whole, "etag")!;
    const range = await request(s.port, GET("/static/index.html", [["range", "bytes=0-9"]]));
    assert.equal(range.status, 206);
    assert.deepEqual(range.body, INDEX.subarray(0, 10));
    const multi = await request(s.port, GET("/static/index.html", [["range", "bytes=0-1,5-6"]]));
    assert.equal(multi.status, 206);
    assert.match(field(multi, "content-type")!, /^multipart\/byteranges/);
    const cond = await request(s.port, GET("/static/index.html", [["if-none-match", etag]]));
    assert.equal(cond.status, 304);
    assert.equal(cond.body.length, 0);
    const gz = await request(s.port, GET("/static/index.html", [["accept-encoding", "gzip"]]));
    assert.equal(field(gz, "content-encoding"), "gzip");
    const { gunzipSync } = await import("zlib");
    assert.deepEqual(new Uint8Array(gunzipSync(gz.body)), INDEX);
    const head = await request(s.port, [[":method", "HEAD"], ...GET("/static/index.html").slice(1)]);
    assert.equal(head.status, 200);
    assert.equal(field(head, "content-length"), String(INDEX.length));
    assert.equal(head.body.length, 0);
  },
);

Deno.test(
  "h2 modules: a large static file arrives whole through curl under flow control",
  needs("read", "write", "run"),
  async () => {
    await using s = await startServer({ h2c: true });
    const mp4 = await Deno.readFile("static/sample.mp4");
    const o = await new Deno.Command("curl", {
      args: ["-sS", "--http2-prior-knowledge", `http://127.0.0.1:${s.port}/static/sample.mp4`],
      stdout: "piped",
    }).output();
    assert.equal(o.stdout.length, mp4.length);
    assert.deepEqual(o.stdout, mp4);
  },
);

Deno.test(
  "h2 modules: uploads: a body without content-length is stored; metrics count HTTP/2",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    await using s = await startServer({ h2c: true, uploadDir: dir, authUser: "u", authPass: "p" });
    const body = new Uint8Array(200_000).fill(120);
    const res = await request(s.port, [
      [":method", "PUT"],
      [":scheme", "http"],
      [":path", "/uploads/h2.bin"],
      [":authority", "x"],
      ["authorization", `Basic ${btoa("u:p")}`],
    ], body);
    assert.equal(res.status, 201, dec.decode(res.body));
    assert.deepEqual(await Deno.readFile(`${dir}/h2.bin`), body);
    const m = await request(s.port, GET("/_metrics", [["accept", "application/json"]]));
    assert.equal(m.status, 200);
    const prom = await request(s.port, GET("/_metrics?format=prometheus"));
    assert.match(dec.decode(prom.body), /ferry_http2_connections_total [1-9]/);
    assert.match(dec.decode(prom.body), /ferry_http2_streams_total [1-9]/);
  },
);

Deno.test(
  "h2 modules: a fetch app sees the authority and the body; an HTTP/1.1 WebSocket handshake (upgrade) is malformed",
  needs("read", "write", "run"),
  async () => {
    await using s = await startServer({
      h2c: true,
      handler: fetchHandler({
        fetch: async (req) => new Response(`${req.method} ${req.url} ${(await req.text()).length}`),
      }),
    });
    const res = await request(s.port, [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", "/f?x=1"],
      [":authority", "example.test:8080"],
    ], new TextEncoder().encode("hello"));
    assert.equal(dec.decode(res.body), "POST http://example.test:8080/f?x=1 5");
    // RFC 9113 §8.2.2: `upgrade` is connection-specific, so the request is malformed (PROTOCOL_ERROR).
    const ws = await request(s.port, GET("/ws", [["upgrade", "websocket"], ["sec-websocket-version", "13"]]));
    assert.equal(ws.reset, 0x1);
  },
);

Deno.test(
  "h2 modules: Python WSGI: SERVER_PROTOCOL HTTP/2, HTTP_HOST from :authority, cookies joined",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated", {}, { h2c: true });
    const res = await request(s.port, [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", "/echo?q=1"],
      [":authority", "example.test:8080"],
      ["cookie", "a=1"],
      ["cookie", "b=2"],
    ], new TextEncoder().encode("hello"));
    assert.equal(res.status, 200, dec.decode(res.body));
    const e = JSON.parse(dec.decode(res.body)).environ;
    assert.equal(e.SERVER_PROTOCOL, "HTTP/2");
    assert.equal(e.HTTP_HOST, "example.test:8080");
    assert.equal(e.SERVER_NAME, "example.test");
    assert.equal(e.HTTP_COOKIE, "a=1; b=2");
    assert.equal(e.CONTENT_LENGTH, "5");
    assert.equal(e.QUERY_STRING, "q=1");
  },
);

Deno.test("h2 modules: Python ASGI: http_version 2", needs("read", "write", "run"), async () => {
  await using s = await startAsgi("asgi_apps:app", {}, { h2c: true });
  const res = await request(s.port, GET("/scope"));
  assert.equal(res.status, 200, dec.decode(res.body));
  assert.equal(JSON.parse(dec.decode(res.body)).scope.http_version, "2");
});

Deno.test(
  "h2 modules: Python WSGI over TLS: wsgi.url_scheme https, HTTP_HOST and SERVER_PORT from :authority",
  needs("read", "write", "run"),
  async () => {
    const tlsMaterial = await makeSelfSigned();
    await using s = await startWsgi("plain_apps:validated", {}, { https: true, httpsPort: 0, tlsMaterial });
    const res = await request(
      s.httpsPort,
      [
        [":method", "GET"],
        [":scheme", "https"],
        [":path", "/echo"],
        [":authority", `localhost:${s.httpsPort}`],
      ],
      undefined,
      tlsMaterial.cert,
    );
    assert.equal(res.status, 200, dec.decode(res.body));
    const e = JSON.parse(dec.decode(res.body)).environ;
    assert.equal(e["wsgi.url_scheme"], "https");
    assert.equal(e.SERVER_PROTOCOL, "HTTP/2");
    assert.equal(e.HTTP_HOST, `localhost:${s.httpsPort}`);
    assert.equal(e.SERVER_PORT, String(s.httpsPort));
  },
);
