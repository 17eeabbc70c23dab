/**
 * The config's `proxy` action (`proxyAction`, the route table's ProxyFactory): built from an
 * upstream spec, its handler answers through the in-memory exchange harness (no client socket:
 * the handler knows only the exchange contract) from a real upstream; a bad spec is refused with
 * the path of each problem; `close` lets go of the pool.
 */

import assert from "assert";
import { request } from "../../src/http/harness.ts";
import { Logger } from "../../src/log/logger.ts";
import { Stats } from "../../src/stats.ts";
import { proxyAction } from "../../src/upstream/proxy_action.ts";
import { MemorySink } from "../helpers/server.ts";
import { startNodeUpstream } from "../helpers/upstreams.ts";
import { needs } from "../helpers/needs.ts";

function context() {
  const sink = new MemorySink();
  return { log: new Logger("none", sink, sink), stats: new Stats() };
}

Deno.test(
  "proxy action: its handler serves through the exchange harness from a real upstream",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream("harness");
    const ctx = context();
    const action = proxyAction("backend", { targets: [up.target] }, ctx);
    try {
      const res = await request(action.handler, "/api/hello", { headers: [["host", "site.test"]] });
      assert.equal(res.status, 200);
      assert.equal(res.text(), "hello from harness\n");
      assert.equal(ctx.stats.upstreamRequests.get(`backend ${up.target}`), 1);
    } finally {
      await action.close?.();
    }
  },
);

Deno.test("proxy action: a bad spec is refused with each problem's path", () => {
  assert.throws(
    () => proxyAction("backend", { targets: ["nowhere"], policy: "random" as "first" }, context()),
    (e: unknown) =>
      e instanceof RangeError && /targets\[0\]: .*no port/.test(e.message) &&
      /policy: one of/.test(e.message),
  );
});
