/**
 * Every module over HTTP/3 with the test client (tests/http3/h3_client.ts, on Deno.connectQuic):
 * static files (Range, multi-range, If-None-Match 304, gzip, HEAD, 404), uploads with a body of
 * unknown length, metrics (the http3 counters), a fetch app, Python WSGI (SERVER_PROTOCOL
 * HTTP/3) and ASGI (http_version "3"), and WebSocket refused with a 400 that says what to use.
 */

import assert from "assert";
import { startServer } from "../helpers/server.ts";
import { startAsgi, startWsgi } from "../helpers/python.ts";
import { fetchHandler } from "../../src/app/fetch.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { H3Client } from "./h3_client.ts";
import { cat, fr, get, hd } from "./h3_kit.ts";
import { needsQuic } from "./needs_quic.ts";

const dec = new TextDecoder();
const material = await makeSelfSigned();
const H3 = { https: true, httpsPort: 0, tlsMaterial: material, http3: true } as const;

Deno.test(
  "h3 modules: static files: whole, Range, multi-range, If-None-Match 304, gzip, HEAD, 404",
  needsQuic("read", "write", "run"),
  async () => {
    const INDEX = await Deno.readFile("static/index.html");
    await using s = await startServer(H3);
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const whole = await c.request(get("/static/index.html"));
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, INDEX);
    assert.equal(whole.headers.get("content-length"), String(INDEX.length));
    const etag = whole.headers.get("etag")!;
    const range = await c.request(get("/static/index.html", [["range", "bytes=0-9"]]));
    assert.equal(range.status, 206);
    assert.deepEqual(range.body, INDEX.subarray(0, 10));
    assert.equal(range.headers.get("content-range"), `bytes 0-9/${INDEX.length}`);
    const multi = await c.request(get("/static/index.html", [["range", "bytes=0-1,5-6"]]));
    assert.equal(multi.status, 206);
    assert.match(multi.headers.get("content-type")!, /^multipart\/byteranges/);
    const cond = await c.request(get("/static/index.html", [["if-none-match", etag]]));
    assert.equal(cond.status, 304);
    assert.equal(cond.body.length, 0);
    assert.ok(cond.complete);
    const gz = await c.request(get("/static/index.html", [["accept-encoding", "gzip"]]));
    assert.equal(gz.headers.get("content-encoding"), "gzip");
    const { gunzipSync } = await import("zlib");
    assert.deepEqual(new Uint8Array(gunzipSync(gz.body)), INDEX);
    const head = await c.request([[":method", "HEAD"], ...get("/static/index.html").slice(1)]);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(INDEX.length));
    assert.equal(head.body.length, 0);
    const missing = await c.request(get("/static/nope.txt"));
    assert.equal(missing.status, 404);
    assert.equal(s.server.stats.h3Connections, 1, "every request on one connection");
  },
);

Deno.test(
  "h3 modules: an upload of unknown length is stored whole; metrics count HTTP/3 connections and streams",
  needsQuic("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    await using s = await startServer({ ...H3, uploadDir: dir, authUser: "u", authPass: "p" });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const body = new Uint8Array(200_000).map((_, i) => i % 251);
    const fields: Array<[string, string]> = [
      [":method", "PUT"],
      [":scheme", "https"],
      [":path", "/uploads/h3.bin"],
      [":authority", "localhost"],
      ["authorization", `Basic ${btoa("u:p")}`],
    ];
    // No content-length: the body comes as several DATA frames.
    const res = await c.raw(cat(hd(fields), fr(0, body.subarray(0, 70_000)), fr(0, body.subarray(70_000))));
    assert.equal(res.status, 201, dec.decode(res.body));
    assert.deepEqual(await Deno.readFile(`${dir}/h3.bin`), body);
    const prom = await c.request(get("/_metrics?format=prometheus"));
    assert.equal(prom.status, 200);
    const text = dec.decode(prom.body);
    assert.match(text, /ferry_http3_connections_total 1\b/);
    assert.match(text, /ferry_http3_connections_active 1\b/);
    assert.match(text, /ferry_http3_streams_total 2\b/);
    const json = await c.request(get("/_metrics", [["accept", "application/json"]]));
    assert.equal(JSON.parse(dec.decode(json.body)).http3.streams_total, 3);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "h3 modules: a fetch app sees the URL and the body; a WebSocket attempt gets a 400 that says to use HTTP/1.1 or HTTP/2",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({
      ...H3,
      handler: fetchHandler({
        fetch: async (req) => new Response(`${req.method} ${req.url} ${(await req.text()).length}`),
      }),
    });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const res = await c.request(
      [[":method", "POST"], [":scheme", "https"], [":path", "/f?x=1"], [":authority", "example.test"]],
      new TextEncoder().encode("hello"),
    );
    assert.equal(dec.decode(res.body), "POST https://example.test/f?x=1 5");
    const ws = await c.request(get("/ws", [["upgrade", "websocket"], ["sec-websocket-version", "13"]]));
    assert.equal(ws.status, 400);
    assert.match(dec.decode(ws.body), /HTTP\/1\.1 or HTTP\/2/);
    const rfc9220 = await c.request([
      [":method", "CONNECT"],
      [":protocol", "websocket"],
      [":scheme", "https"],
      [":path", "/ws"],
      [":authority", "localhost"],
    ]);
    assert.equal(rfc9220.status, 400);
    assert.match(dec.decode(rfc9220.body), /RFC 9220/);
    // The connection is still good.
    assert.equal((await c.request(get("/f"))).status, 200);
  },
);

Deno.test(
  "h3 modules: Python WSGI sees SERVER_PROTOCOL HTTP/3 and the authority; ASGI sees http_version 3",
  needsQuic("read", "write", "run"),
  async () => {
    {
      await using s = await startWsgi("plain_apps:validated", {}, H3);
      await using c = await H3Client.connect(s.httpsPort, material.cert);
      const res = await c.request(
        [
          [":method", "POST"],
          [":scheme", "https"],
          [":path", "/echo?q=1"],
          [":authority", `localhost:${s.httpsPort}`],
          [
            "cookie",
            "a=1",
          ],
          ["cookie", "b=2"],
          ["content-length", "5"],
        ],
        new TextEncoder().encode("hello"),
      );
      assert.equal(res.status, 200, dec.decode(res.body));
      const e = JSON.parse(dec.decode(res.body)).environ;
      assert.equal(e.SERVER_PROTOCOL, "HTTP/3");
      assert.equal(e["wsgi.url_scheme"], "https");
      assert.equal(e.HTTP_HOST, `localhost:${s.httpsPort}`);
      assert.equal(e.HTTP_COOKIE, "a=1; b=2");
      assert.equal(e.CONTENT_LENGTH, "5");
    }
    {
      await using s = await startAsgi("asgi_apps:app", {}, H3);
      await using c = await H3Client.connect(s.httpsPort, material.cert);
      const res = await c.request(get("/scope"));
      assert.equal(res.status, 200, dec.decode(res.body));
      assert.equal(JSON.parse(dec.decode(res.body)).scope.http_version, "3");
    }
  },
);

Deno.test(
  "h3 modules: Expect: 100-continue gets an interim 100 when the handler reads the body, then the answer",
  needsQuic("read", "write", "run"),
  async () => {
    let sawBody = false;
    await using s = await startServer({
      ...H3,
      handler: async (req, res) => {
        const body = await req.body.bytes();
        sawBody = true;
        await res.send(200, [], `got ${body.length}`);
      },
    });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const { writer, response } = await c.open(
      hd([[":method", "POST"], [":scheme", "https"], [":path", "/up"], [":authority", "localhost"], [
        "content-length",
        "5",
      ], ["expect", "100-continue"]]),
    );
    // The client holds its body back; the handler's read makes ferry send 100 first.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sawBody, false);
    await writer.write(fr(0, new TextEncoder().encode("hello")));
    await writer.close();
    const res = await response;
    assert.deepEqual(res.interim, [100]);
    assert.equal(res.status, 200);
    assert.equal(dec.decode(res.body), "got 5");
  },
);
