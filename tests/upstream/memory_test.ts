/**
 * Back-pressure through the reverse proxy: ferry (a child with the start task's permissions)
 * relays 200 MB from a fast upstream to a client that reads slowly, and its resident memory
 * stays within 64 MB of what it was before: the proxy reads a piece from the upstream only once
 * the client has taken the last (a proxy that buffers the response, or writes without waiting,
 * holds the whole body).
 */

import assert from "assert";
import { RawClient } from "../helpers/client.ts";
import { rssOf, startChild } from "../helpers/server.ts";
import { startNodeUpstream } from "../helpers/upstreams.ts";
import { needs } from "../helpers/needs.ts";

const TOTAL = 200_000_000;

Deno.test(
  "memory: a 200 MB response to a slow reader keeps ferry's RSS within +64 MB",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using ferry = await startChild(["--no-https", "--port", "0", "--proxy", `/big/=${up.target}`]);
    const port = Number(new URL(ferry.urls[0]).port);
    const pid = ferry.child.pid;
    // Warm up: one small proxied response, so the baseline includes the code paths and pools.
    {
      await using c = await RawClient.connect(port);
      await c.send("GET /big/big?bytes=100000&length=1 HTTP/1.1\r\nHost: a\r\n\r\n");
      const res = await c.response();
      assert.equal(res.body.length, 100000);
    }
    const base = await rssOf(pid);
    await using c = await RawClient.connect(port, 120_000);
    await c.send(`GET /big/big?bytes=${TOTAL}&length=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    const buf = new Uint8Array(256 * 1024);
    let got = 0;
    let peak = base;
    let reads = 0;
    for (;;) {
      const n = await c.conn.read(buf);
      if (n === null) break;
      got += n;
      // Slower than the upstream writes: a pause every 4 MiB or so, and the RSS sampled then.
      if (++reads % 16 === 0) {
        await new Promise((r) => setTimeout(r, 5));
        peak = Math.max(peak, await rssOf(pid));
      }
    }
    assert.ok(got > TOTAL, `got ${got} bytes (head and body)`);
    const grew = (peak - base) / 2 ** 20;
    assert.ok(grew < 64, `RSS grew by ${grew.toFixed(1)} MiB`);
  },
);

Deno.test(
  "memory: a 200 MB upload to an upstream that reads slowly keeps ferry's RSS within +64 MB",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using ferry = await startChild([
      "--no-https",
      "--port",
      "0",
      "--max-body-bytes",
      "1G",
      "--proxy",
      `/up/=${up.target}`,
    ]);
    const port = Number(new URL(ferry.urls[0]).port);
    const pid = ferry.child.pid;
    {
      await using c = await RawClient.connect(port);
      await c.send("POST /up/slow-sink HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
      assert.equal(new TextDecoder().decode((await c.response()).body), "5\n");
    }
    const base = await rssOf(pid);
    await using c = await RawClient.connect(port, 120_000);
    await c.send(`POST /up/slow-sink HTTP/1.1\r\nHost: a\r\nContent-Length: ${TOTAL}\r\n\r\n`);
    const piece = new Uint8Array(256 * 1024).fill(0x62);
    let peak = base;
    for (let sent = 0, i = 0; sent < TOTAL; i++) {
      const n = Math.min(piece.length, TOTAL - sent);
      await c.send(n === piece.length ? piece : piece.subarray(0, n));
      sent += n;
      if (i % 16 === 0) peak = Math.max(peak, await rssOf(pid));
    }
    const res = await c.response();
    assert.equal(new TextDecoder().decode(res.body), `${TOTAL}\n`);
    const grew = (peak - base) / 2 ** 20;
    assert.ok(grew < 64, `RSS grew by ${grew.toFixed(1)} MiB`);
  },
);
