/**
 * `--workers 2`: both workers serve (SO_REUSEPORT spreads connections), `/_metrics` sums them
 * and labels each, and one SIGTERM drains both: a response in flight completes, then exit 0.
 */

import assert from "assert";
import { exchange, header, RawClient, text } from "../helpers/client.ts";
import { startChild } from "../helpers/server.ts";
import { countTargets, readRotatedJsonLog } from "../helpers/logs.ts";
import { needs } from "../helpers/needs.ts";

Deno.test(
  "workers: two workers share the port, metrics sum them, SIGTERM drains both",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using child = await startChild(
        ["--port", "0", "--https-port", "0", "--cert-dir", dir, "--workers", "2", "--log-format", "none"],
        2,
      );
      assert.match(child.stdout(), /\(2 isolates\)/);
      const port = Number(new URL(child.urls.find((u) => u.startsWith("http:"))!).port);
      // 60 fresh connections: the kernel hashes each to one of the two listening sockets.
      for (let i = 0; i < 60; i++) {
        const res = await exchange(port, `GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
        assert.equal(text(res), "Hello, World!");
      }
      const m = JSON.parse(text(await exchange(port, "GET /_metrics HTTP/1.1\r\nHost: t\r\n\r\n")));
      assert.equal(m.workers, 2);
      assert.equal(m.per_worker.length, 2);
      assert.ok(
        m.per_worker.every((w: { requests_total: number }) => w.requests_total > 0),
        JSON.stringify(m.per_worker),
      );
      assert.equal(m.routes.app.count, 60, "the sum over both workers");

      // A streamed response in flight when the signal comes must complete.
      await using c = await RawClient.connect(port);
      await c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
      assert.ok((await c.poll(2000)) > 0, "the stream has started");
      child.child.kill("SIGTERM");
      const res = await c.response();
      assert.equal(res.complete, true, "the in-flight body is finished, final chunk included");
      assert.match(text(res), /piece 5 of 5/);
      assert.ok(await c.closed(), "then the connection closes (its head went out before the drain)");
      const status = await child.status;
      assert.equal(status.code, 0);
      assert.match(child.stdout(), /draining 2 isolates/);
      assert.match(child.stdout(), /stopped/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "workers: two workers share one rotating log file, every line exactly once",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const log = `${dir}/access.log`;
      const errors = `${dir}/error.log`;
      await using child = await startChild([
        "--port",
        "0",
        "--no-https",
        "--workers",
        "2",
        "--log-format",
        "json",
        "--log-file",
        log,
        "--error-log",
        errors,
        "--log-rotate-size",
        "8K",
        "--log-rotate-interval",
        "",
        "--log-rotate-keep",
        "0",
      ]);
      const port = Number(new URL(child.urls[0]).port);
      // Fresh connections, so that the kernel spreads them over both workers; each asks for a
      // distinct target.
      const n = 3000;
      const ids = new Set<string>();
      await Promise.all(Array.from({ length: 24 }, async (_, w) => {
        await using c = await RawClient.connect(port);
        for (let i = w; i < n; i += 24) {
          await c.send(`GET /hello?r=${i} HTTP/1.1\r\nHost: t\r\n\r\n`);
          const res = await c.response();
          ids.add(header(res, "x-request-id")!);
        }
      }));
      const m = JSON.parse(text(await exchange(port, "GET /_metrics HTTP/1.1\r\nHost: t\r\n\r\n")));
      assert.ok(
        m.per_worker.every((w: { requests_total: number }) => w.requests_total > 0),
        `both workers served: ${JSON.stringify(m.per_worker)}`,
      );
      child.child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);

      const { entries, rotated } = await readRotatedJsonLog(dir, "access.log"); // every line whole
      assert.ok(rotated.length >= 3, `rotated files: ${rotated.join(", ")}`);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.deepEqual(
        names.filter((f) => f.startsWith("access.log.") && !f.endsWith(".gz")),
        [],
        "no rotated file is left uncompressed",
      );
      for (const e of entries) {
        if (e.target.startsWith("/hello?r=")) assert.ok(ids.has(e.id), `the id sent back: ${e.id}`);
      }
      const seen = countTargets(entries);
      for (let i = 0; i < n; i++) assert.equal(seen.get(`/hello?r=${i}`), 1, `/hello?r=${i}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
