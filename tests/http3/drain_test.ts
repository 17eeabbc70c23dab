/**
 * Graceful drain over HTTP/3: SIGTERM sends GOAWAY on ferry's control stream with the first
 * stream id it will not serve; the request in flight (its body still arriving) is read to its
 * end and answered; a stream opened after the GOAWAY is not served; the process exits 0.
 */

import assert from "assert";
import { startChild, until } from "../helpers/server.ts";
import { H3Client } from "./h3_client.ts";
import { cat, dt, hd, post } from "./h3_kit.ts";
import { needsQuic } from "./needs_quic.ts";

const APP = new URL("../http2/fixtures/echo_length_app.ts", import.meta.url).pathname;
const dec = new TextDecoder();

Deno.test(
  "h3 drain: SIGTERM → GOAWAY (id 8: streams 0 and 4 are served); the body in flight finishes; a later stream is not served; exit 0",
  needsQuic("read", "write", "run"),
  async () => {
    const certDir = await Deno.makeTempDir();
    await using child = await startChild([
      "--no-http",
      "--https-port",
      "0",
      "--http3",
      "--cert-dir",
      certDir,
      "--app",
      APP,
      "--log-format",
      "none",
    ]);
    await until(() => /HTTP\/3/.test(child.stdout()), "the HTTP/3 start-up line");
    const port = Number(new URL(child.urls[0]).port);
    const ca = await Deno.readTextFile(`${certDir}/localhost-cert.pem`);
    await using c = await H3Client.connect(port, ca);
    const first = await c.open(cat(hd(post("/up", 8000)), dt(5000)));
    // Wait until ferry has stream 0 (a request on another stream is answered after it opened).
    const probe = await c.request([[":method", "GET"], [":scheme", "https"], [":authority", "localhost"], [
      ":path",
      "/probe",
    ]]);
    assert.equal(probe.status, 200);
    child.child.kill("SIGTERM");
    for (let i = 0; i < 200 && c.goaways.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(c.goaways, [8], "GOAWAY names the first stream not served (stream 4 was the probe)");
    assert.equal(c.controlFrames[0], 0x04, "SETTINGS came first");
    await first.writer.write(dt(3000));
    await first.writer.close();
    const res = await first.response;
    assert.equal(res.status, 200);
    assert.equal(dec.decode(res.body), "POST /up 8000");
    assert.ok(res.complete);
    const late = await c.raw(hd(post("/late", 0))).catch(() => undefined);
    assert.notEqual(late?.status, 200, "a stream after the GOAWAY is not served");
    const closed = await c.closed;
    assert.equal(closed.closeCode, 0x100, "closed with H3_NO_ERROR");
    assert.equal((await child.status).code, 0);
    await Deno.remove(certDir, { recursive: true });
  },
);
