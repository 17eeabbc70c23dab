/**
 * The proxy handler's bookkeeping when the client goes away at the last moment (an HTTP/2 or
 * HTTP/3 stream reset as its response ends, as the traffic matrix's burst of resets does through
 * the proxy): the upstream's part is already over, its request counted ended and its connection
 * given back to the pool; the failed end must neither count the request ended a second time (the
 * `upstream.active` gauge went below zero) nor close the connection the pool now holds, which
 * another request may already have taken.
 */

import assert from "assert";
import { harnessRequest, MemoryWriter } from "../../src/http/harness.ts";
import { Logger } from "../../src/log/logger.ts";
import { Stats } from "../../src/stats.ts";
import { proxyAction } from "../../src/upstream/proxy_action.ts";
import { MemorySink } from "../helpers/server.ts";
import { startNodeUpstream } from "../helpers/upstreams.ts";
import { needs } from "../helpers/needs.ts";

/** A writer whose client is gone by the time the response ends. */
class GoneAtEnd extends MemoryWriter {
  override end(): Promise<void> {
    this.abort();
    return Promise.reject(new Deno.errors.ConnectionReset("stream reset by the client"));
  }
}

Deno.test(
  "proxy handler: a client gone as its response ends leaves the upstream's request counted once and its kept connection open",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream("gone");
    const sink = new MemorySink();
    const stats = new Stats();
    const action = proxyAction("backend", { targets: [up.target] }, {
      log: new Logger("none", sink, sink),
      stats,
    });
    const key = `backend ${up.target}`;
    const conns = async () => {
      const w = new MemoryWriter();
      await action.handler(harnessRequest("/conns", { headers: [["host", "a"]] }), w);
      assert.equal(w.status, 200);
      return new TextDecoder().decode(w.chunks[0]);
    };
    try {
      const before = await conns(); // the upstream's count includes the test's readiness probe
      const gone = new GoneAtEnd();
      try {
        await action.handler(harnessRequest("/count", { headers: [["host", "a"]] }), gone);
      } catch {
        // the exchange's to handle: the client is gone
      }
      assert.equal(gone.status, 200);
      assert.equal(stats.upstreamActive.get(key), 0, "the request is counted ended once");
      assert.equal(stats.upstreamFailures.get(key) ?? 0, 0, "a client gone is not the upstream's failure");
      // The next request goes over the connection kept from the first.
      assert.equal(await conns(), before, "the kept connection was not closed");
      assert.equal(stats.upstreamActive.get(key), 0);
    } finally {
      await action.close?.();
    }
  },
);
