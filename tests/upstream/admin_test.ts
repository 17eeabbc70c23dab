/**
 * The reverse proxy from a config file (ferry as a child, with the start task's permissions):
 * a named upstream with two targets, one of them down, and the admin API's
 * `GET /reverse_proxy/upstreams` in Caddy's shape (address, healthy, num_requests, fails).
 */

import assert from "assert";
import { join } from "node:path";
import { startChild, until } from "../helpers/server.ts";
import { exchange, text } from "../helpers/client.ts";
import { freePort, startNodeUpstream } from "../helpers/upstreams.ts";
import { needs } from "../helpers/needs.ts";

Deno.test(
  "admin: GET /reverse_proxy/upstreams lists each target's health, requests in flight and failures",
  needs("read", "write", "run"),
  async () => {
    await using up = await startNodeUpstream("cfg");
    const down = `127.0.0.1:${freePort()}`;
    const dir = await Deno.makeTempDir({ prefix: "ferry-proxy-admin-" });
    const file = join(dir, "ferry.jsonc");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        listen: { http: "127.0.0.1:0", https: false },
        admin: { listen: "127.0.0.1:0" },
        upstreams: { backend: { targets: [down, up.target], policy: "first", try_duration: 2 } },
        sites: [{ routes: [{ path: "/api/*", proxy: "backend" }] }],
      }),
    );
    try {
      await using ferry = await startChild(["--config", file]);
      const port = Number(new URL(ferry.urls[0]).port);
      // The first target refuses: the GET is retried on the second, and the first has one failure.
      const res = await exchange(port, "GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal(res.status, 200);
      assert.equal(text(res), "hello from cfg\n");
      await until(() => /admin API on (\S+)/.test(ferry.stdout()), "the admin API");
      const admin = /admin API on (\S+)/.exec(ferry.stdout())![1].replace(/\/$/, "");
      const list = await (await fetch(`${admin}/reverse_proxy/upstreams`)).json();
      assert.deepEqual(
        list.map((t: Record<string, unknown>) => [t.address, t.upstream, t.healthy, t.num_requests, t.fails]),
        [[down, "backend", false, 0, 1], [up.target, "backend", true, 0, 0]],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
