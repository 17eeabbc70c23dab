/**
 * HTTP/2 in the access log (protocol `HTTP/2` and the stream id, plain and JSON), in
 * `/_metrics` (JSON and Prometheus: connections, streams, resets and GOAWAYs by code) and in the
 * dashboard's data (the HTTP/2 share of open connections).
 */

import assert from "assert";
import { startServer, until } from "../helpers/server.ts";
import { Client, concat, exchange, FRAME, get, request } from "./frame_kit.ts";

const dec = new TextDecoder();

Deno.test("h2 observability: access lines say HTTP/2 and the stream id (plain and JSON)", async () => {
  for (const logFormat of ["plain", "json"] as const) {
    await using s = await startServer({ h2c: true, logFormat });
    const c = new Client();
    await exchange(
      s.port,
      concat([c.start(), c.headers(1, get("/a")), c.headers(3, get("/b"))]),
      (fs) => fs.filter((f) => f.type === FRAME.DATA && (f.flags & 1) !== 0).length >= 2,
    );
    await until(() => s.logs.text.includes("/b"), "the access lines");
    const lines = s.logs.text.split("\n").filter((l) => l.includes("/a") || l.includes("/b"));
    if (logFormat === "plain") {
      assert.ok(
        lines.some((l) => l.includes('"GET /a HTTP/2"') && l.includes(" stream=1")),
        lines.join("\n"),
      );
      assert.ok(
        lines.some((l) => l.includes('"GET /b HTTP/2"') && l.includes(" stream=3")),
        lines.join("\n"),
      );
    } else {
      const objs = lines.map((l) => JSON.parse(l));
      assert.deepEqual(objs.map((o) => [o.target, o.protocol, o.stream]).sort(), [["/a", "HTTP/2", 1], [
        "/b",
        "HTTP/2",
        3,
      ]]);
    }
  }
});

Deno.test("h2 observability: /_metrics and Prometheus count connections, streams, resets and GOAWAYs by code", async () => {
  await using s = await startServer({ h2c: true });
  const c = new Client();
  // A stream reset by the client, a stream reset by the server (upper-case name), then a GOAWAY.
  await exchange(
    s.port,
    concat([
      c.start(),
      c.headers(1, get("/", [["X-Bad", "1"]])),
      c.headers(3, get("/"), { end: false }),
      c.rst(3),
      c.data(0, [1]),
    ]),
    (fs) => fs.some((f) => f.type === FRAME.GOAWAY),
  );
  const json = JSON.parse(
    dec.decode((await request(s.port, get("/_metrics", [["accept", "application/json"]]))).body),
  );
  assert.equal(json.http2.connections_total, 2);
  assert.equal(json.http2.streams_total >= 2, true);
  assert.equal(json.http2.resets_received, 1);
  assert.equal(json.http2.resets_sent.PROTOCOL_ERROR, 1);
  assert.equal(json.http2.goaways_sent.PROTOCOL_ERROR, 1);
  assert.equal(json.http2.limits.malformed, 1);
  const prom = dec.decode((await request(s.port, get("/_metrics?format=prometheus"))).body);
  assert.match(prom, /ferry_http2_goaways_sent_total\{code="PROTOCOL_ERROR"\} 1/);
  assert.match(prom, /ferry_http2_resets_sent_total\{code="PROTOCOL_ERROR"\} 1/);
  assert.match(prom, /ferry_http2_resets_received_total 1/);
  const dash = JSON.parse(dec.decode((await request(s.port, get("/_dashboard/data"))).body));
  assert.equal(dash.http2, 1); // the connection asking
  assert.ok(dash.connections >= 1);
});
