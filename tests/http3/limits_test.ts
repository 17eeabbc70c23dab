/**
 * HTTP/3's limits against a live server, each bounded, counted and answered as RFC 9114 asks:
 * a field section over `--max-header-bytes` (431, the connection stays), a peer that closes its
 * control stream (H3_CLOSED_CRITICAL_STREAM), a flood of frames that do no work
 * (H3_EXCESSIVE_LOAD), a stream whose HEADERS never come, one whose body stops, one whose body
 * trickles below `--min-body-rate` and one whose response the client never reads (cut after
 * their timeouts, the handler released), an idle connection (GOAWAY and close), and
 * `--h3-max-streams` (streams beyond wait: never more handlers at once).
 */

import assert from "assert";
import { startServer, until } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import type { Handler } from "../../src/mod.ts";
import { H3Client } from "./h3_client.ts";
import { cat, controlOpen, dt, fr, get, hd, post, T } from "./h3_kit.ts";
import { needsQuic } from "./needs_quic.ts";

const material = await makeSelfSigned();
const H3 = { https: true, httpsPort: 0, tlsMaterial: material, http3: true } as const;
const ok: Handler = async (req, res) => {
  const body = await req.body.bytes();
  await res.send(200, [["content-type", "text/plain"]], `ok ${body.length}`);
};

Deno.test(
  "h3 limits: a field section over --max-header-bytes gets 431 before and after decoding; the connection stays",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({ ...H3, handler: ok, maxHeaderBytes: 1024 });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const big = await c.request(get("/", [["x-big", "a".repeat(2000)]]));
    assert.equal(big.status, 431);
    // 20 references to a static entry of 108 octets: 22 octets in, 2160 out.
    const bomb = await c.raw(
      fr(T.HEADERS, [
        0x00,
        0x00,
        0xd1,
        0xd7,
        0xc1,
        0x50,
        0x01,
        0x61,
        ...new Array(20).fill([0xff, 0x16]).flat(),
      ]),
    );
    assert.equal(bomb.status, 431);
    assert.equal((await c.request(get("/"))).status, 200);
    assert.equal(s.server.stats.h3Limits.get("headers_too_large"), 2);
  },
);

Deno.test(
  "h3 limits: closing the control stream is H3_CLOSED_CRITICAL_STREAM; a second one H3_STREAM_CREATION_ERROR",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({ ...H3, handler: ok });
    {
      await using c = await H3Client.connect(s.httpsPort, material.cert, true);
      await c.uni(controlOpen(), true);
      assert.equal((await c.closed).closeCode, 0x104);
    }
    {
      await using c = await H3Client.connect(s.httpsPort, material.cert);
      await c.uni(controlOpen());
      assert.equal((await c.closed).closeCode, 0x103);
    }
    await until(() => s.server.stats.h3Errors.size === 2, "both errors counted");
    assert.equal(s.server.stats.h3Errors.get("CLOSED_CRITICAL_STREAM"), 1);
    assert.equal(s.server.stats.h3Errors.get("STREAM_CREATION_ERROR"), 1);
  },
);

Deno.test(
  "h3 limits: a flood of reserved frames is H3_EXCESSIVE_LOAD; a few are fine",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({ ...H3, handler: ok });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const few = await c.raw(cat(fr(T.RESERVED), fr(T.RESERVED), hd(get())));
    assert.equal(few.status, 200);
    const flood = new Uint8Array(2 * 5000).fill(0);
    for (let i = 0; i < flood.length; i += 2) flood[i] = 0x21; // type 0x21 (reserved), length 0
    c.raw(cat(flood, hd(get()))).catch(() => {});
    assert.equal((await c.closed).closeCode, 0x107);
    assert.equal(s.server.stats.h3Limits.get("waste"), 1);
  },
);

Deno.test(
  "h3 limits: a stream without HEADERS and a stalled body are cut after their timeouts; an idle connection gets GOAWAY and closes",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({
      ...H3,
      handler: ok,
      headerTimeout: 0.5,
      bodyTimeout: 0.5,
      keepaliveTimeout: 1,
    });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const silent = await c.open(fr(T.RESERVED)); // open, but no HEADERS
    const stalled = await c.open(cat(hd(post("/up", 10)), dt(2)));
    const [a, b] = await Promise.all([silent.response, stalled.response]);
    assert.equal(a.status, 0);
    assert.equal(b.complete && b.status === 200, false, "the stalled request is not answered as if whole");
    assert.equal(s.server.stats.h3Limits.get("head_timeout"), 1);
    assert.equal(s.server.stats.h3Limits.get("stalled"), 1);
    // Nothing open now: the connection is closed after the keep-alive timeout, with a GOAWAY first.
    const closed = await c.closed;
    assert.equal(closed.closeCode, 0x100);
    assert.ok(c.goaways.length === 1);
    assert.equal(s.server.stats.timeouts.get("keepalive"), 1);
  },
);

Deno.test(
  "h3 limits: --h3-max-streams 2: twelve requests on one connection all succeed, never more than 2 at once",
  needsQuic("read", "write", "run"),
  async () => {
    let running = 0;
    let most = 0;
    const slow: Handler = async (_req, res) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      await res.send(200, [], "ok");
    };
    await using s = await startServer({ ...H3, handler: slow, h3MaxStreams: 2 });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const all = await Promise.all(Array.from({ length: 12 }, (_, i) => c.request(get(`/${i}`))));
    assert.deepEqual(all.map((r) => r.status), new Array(12).fill(200));
    assert.ok(most <= 2, `${most} handlers at once`);
    assert.equal(most, 2);
  },
);

Deno.test(
  "h3 limits: a body trickled below --min-body-rate is cut after --body-timeout's grace, as over HTTP/1.1 and HTTP/2",
  needsQuic("read", "write", "run"),
  async () => {
    await using s = await startServer({ ...H3, handler: ok, bodyTimeout: 0.5, minBodyRate: 1000 });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    // 10 bytes/s against a floor of 1000: never a pause of --body-timeout, but far too slow.
    const { writer, response } = await c.open(hd(post("/up", 100)));
    let answered = false;
    response.finally(() => answered = true);
    let sent = 0;
    try {
      while (!answered && sent < 60) {
        await writer.write(dt(1));
        sent++;
        await Promise.race([response, new Promise((r) => setTimeout(r, 100))]);
      }
    } catch {
      // the stream was cut
    }
    const res = await response;
    assert.equal(res.complete && res.status === 200, false, "the trickle is not answered as if whole");
    assert.ok(sent < 60, `cut before the client gave up (${sent} bytes sent)`);
    assert.equal(s.server.stats.h3Limits.get("slow_body"), 1);
    assert.equal(s.server.stats.timeouts.get("body"), 1);
    assert.equal((await c.request(get("/"))).status, 200, "the connection serves on");
  },
);

Deno.test(
  "h3 limits: a response stream the client never reads is cut after --body-timeout without progress; the connection serves on",
  needsQuic("read", "write", "run"),
  async () => {
    let released = false;
    const big: Handler = async (req, res) => {
      if (req.path !== "/big") return await res.send(200, [], "small");
      const piece = new Uint8Array(64 * 1024);
      res.writeHead(200, [], 64 * 1024 * 256);
      try {
        for (let i = 0; i < 256; i++) await res.write(piece); // 16 MiB: more than QUIC's windows
        await res.end();
      } finally {
        released = true;
      }
    };
    // A long keep-alive (and QUIC idle) timeout: only the stalled write can end the stream.
    await using s = await startServer({ ...H3, handler: big, bodyTimeout: 0.5, keepaliveTimeout: 30 });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const bidi = await c.quic.createBidirectionalStream(); // its response is never read
    const w = bidi.writable.getWriter();
    await w.write(hd(get("/big")));
    await w.close();
    await until(() => s.server.stats.h3Limits.get("write_stalled") === 1, "the stalled stream cut", 10_000);
    assert.equal(s.server.stats.timeouts.get("write"), 1);
    // Deno's abort() waits for a write in flight: the handler is released all the same.
    await until(() => released, "the handler released");
    const next = await c.request(get("/small"));
    assert.equal(next.status, 200, "the connection serves on");
    assert.equal(new TextDecoder().decode(next.body), "small");
  },
);

Deno.test(
  "h3 limits: a large body sent in one write to a client that reads it steadily is not cut as stalled",
  needsQuic("read", "write", "run"),
  async () => {
    const size = 12 * 1024 * 1024;
    const whole: Handler = (_req, res) => res.send(200, [], new Uint8Array(size)); // one write
    await using s = await startServer({ ...H3, handler: whole, bodyTimeout: 0.5 });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const bidi = await c.quic.createBidirectionalStream();
    const w = bidi.writable.getWriter();
    await w.write(hd(get("/whole")));
    await w.close();
    // The client takes about 4 MiB a second: steady progress, but the whole body takes longer
    // than --body-timeout (which measures a write's lack of progress, not its length).
    const reader = bidi.readable.getReader();
    let received = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        received += value.length;
        await new Promise((r) => setTimeout(r, value.length / 4096));
      }
    } catch {
      // the stream was cut
    }
    assert.equal(s.server.stats.h3Limits.get("write_stalled") ?? 0, 0, "no stream cut as stalled");
    assert.ok(received > size, `the whole body arrived (${received} bytes with the frames' heads)`);
  },
);

Deno.test(
  "h3 limits: --min-body-rate counts from the handler's first read, not from the head (a body held back is not the client's slowness)",
  needsQuic("read", "write", "run"),
  async () => {
    let reading = false;
    let open!: () => void;
    const gate = new Promise<void>((r) => open = r);
    const late: Handler = async (req, res) => {
      if (req.path !== "/late") return await res.send(200, [], "small");
      await gate; // the app does something else first (say, a slow authorisation)
      reading = true;
      const body = await req.body.bytes();
      await res.send(200, [], `ok ${body.length}`);
    };
    await using s = await startServer({ ...H3, handler: late, bodyTimeout: 2, minBodyRate: 1000 });
    await using c = await H3Client.connect(s.httpsPort, material.cert);
    const { writer, response } = await c.open(hd(post("/late", 200)));
    await writer.write(dt(100));
    // Longer than --body-timeout plus what 100 bytes earn at 1000 bytes/s, while the app has not
    // read: counted from the head, the body would be late as soon as the app waits for the rest.
    await new Promise((r) => setTimeout(r, 3500));
    open();
    await until(() => reading, "the app reading the body");
    // The rest comes well within --body-timeout of the app's first wait, after a check of the
    // connection's streams has passed (they are checked every second at most).
    await new Promise((r) => setTimeout(r, 1500));
    await writer.write(dt(100));
    await writer.close();
    const res = await response;
    assert.equal(res.status, 200);
    assert.equal(new TextDecoder().decode(res.body), "ok 200");
    assert.equal(s.server.stats.h3Limits.get("slow_body") ?? 0, 0);
  },
);
