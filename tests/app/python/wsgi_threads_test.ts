/**
 * --wsgi-threads: one WSGI worker process serves N requests at once on N threads (gunicorn's
 * gthread), with wsgi.multithread true.
 */

import assert from "assert";
import { exchange, text } from "../../helpers/client.ts";
import { startWsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { needs } from "../../helpers/needs.ts";

const get = (port: number, target: string) => exchange(port, `GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`);

Deno.test(
  "wsgi threads: one worker with --wsgi-threads 4 serves four slow requests at once",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("threaded_apps:app", { workers: 1, threads: 4, maxQueue: 0 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => get(s.port, `/slow?${i}`)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
    const bodies = results.map((r) => JSON.parse(text(r)));
    assert.ok(bodies.every((b) => b.multithread === true));
    assert.equal(new Set(bodies.map((b) => b.thread)).size, 4, "four threads");
    const marks: Array<[string, string]> = JSON.parse(text(await get(s.port, "/marks")));
    assert.equal(marks.findIndex(([kind]) => kind === "end"), 4, "all four started before any ended");
    assert.equal(s.pool.size, 1);
    // A fifth while four run: with no queue it is a 503, as a busy single-threaded worker's would be.
    const busy = [1, 2, 3, 4].map((i) => get(s.port, `/slow?b${i}`));
    await until(() => s.pool.inflight === 4, "the four to run in the worker's threads");
    assert.equal((await get(s.port, "/marks")).status, 503);
    await Promise.all(busy);
  },
);

Deno.test(
  "wsgi threads: four threads all waiting for credit still get it (large responses to clients that read late)",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("threaded_apps:app", { workers: 1, threads: 4 });
    const MIB = 4;
    const conns = await Promise.all(
      Array.from({ length: 8 }, () => Deno.connect({ hostname: "127.0.0.1", port: s.port })),
    );
    await Promise.all(
      conns.map((c) =>
        c.write(new TextEncoder().encode("GET /big?4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
      ),
    );
    // Nobody reads for a moment: every thread fills its credit window and waits.
    await new Promise((r) => setTimeout(r, 300));
    const sizes = await Promise.all(conns.map(async (c) => {
      let total = 0;
      const buf = new Uint8Array(256 * 1024);
      for (;;) {
        const n = await c.read(buf);
        if (n === null) break;
        total += n;
      }
      c.close();
      return total;
    }));
    for (const size of sizes) {
      assert.ok(size > MIB * 1024 * 1024 && size < MIB * 1024 * 1024 + 1024, `${size} bytes`);
    }
    assert.equal((await get(s.port, "/marks")).status, 200);
  },
);
