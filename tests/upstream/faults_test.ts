/**
 * The reverse proxy when upstreams fail: refused connects (502 at once), a target that accepts
 * and never answers (504 past the header timeout), a target killed during a request (502 for
 * that one, the next served by another), retries of a GET but never of a POST, responses framed
 * badly (502, the upstream connection dropped), and active health checks taking a target out
 * and back.
 */

import assert from "assert";
import { exchange, header, text } from "../helpers/client.ts";
import { startServer, until } from "../helpers/server.ts";
import { freePort, startNodeUpstream } from "../helpers/upstreams.ts";
import { parseProxyRoute } from "../../src/upstream/proxy_flag.ts";
import { needs } from "../helpers/needs.ts";

function proxied(routes: string[]) {
  return startServer({ proxyRoutes: routes.map(parseProxyRoute) });
}

/** A raw upstream in this process: `answer` gets each connection's first request bytes. */
function rawUpstream(answer: (conn: Deno.Conn, request: string) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const state = { requests: 0, closedByPeer: 0, conns: [] as Deno.Conn[] };
  const loop = (async () => {
    for await (const conn of listener) {
      state.conns.push(conn);
      (async () => {
        const buf = new Uint8Array(65536);
        let got = "";
        while (!got.includes("\r\n\r\n")) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) return;
          got += new TextDecoder().decode(buf.subarray(0, n));
        }
        state.requests++;
        await answer(conn, got);
        // Does the proxy drop the connection after this answer? A read ends with null when it does.
        if (await conn.read(buf).catch(() => null) === null) state.closedByPeer++;
      })();
    }
  })();
  return {
    port,
    target: `127.0.0.1:${port}`,
    state,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of state.conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      await loop.catch(() => {});
    },
  };
}

const GET = "GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n";

Deno.test("faults: every target refuses: 502 without waiting for a timeout", async () => {
  // Connect and header timeouts of an hour: a proxy that waited for either would hang this test.
  await using s = await proxied([
    `/api/=127.0.0.1:${freePort()},127.0.0.1:${freePort()};connect_timeout=3600;header_timeout=3600`,
  ]);
  const res = await exchange(s.port, GET);
  assert.equal(res.status, 502);
  assert.match(header(res, "x-ferry-upstream-error") ?? "", /upstream \/api\/ failed/);
});

Deno.test("faults: a target that accepts and never answers: 504 past the header timeout", async () => {
  await using up = rawUpstream(() => new Promise(() => {}));
  await using s = await proxied([`/api/=${up.target};header_timeout=0.3`]);
  const res = await exchange(s.port, GET);
  assert.equal(res.status, 504);
  assert.equal(up.state.requests, 1);
});

Deno.test(
  "faults: a target killed during a request: 502 for it, the next request served by another",
  needs("run"),
  async () => {
    const a = await startNodeUpstream("a");
    await using b = await startNodeUpstream("b");
    await using s = await proxied([`/api/=${a.target},${b.target};policy=first`]);
    const held = exchange(s.port, "GET /api/hang HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => a.output().includes("hanging"), "the request to reach a");
    await a.kill();
    assert.equal((await held).status, 502);
    const next = await exchange(s.port, "GET /api/who HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(next.status, 200);
    assert.equal(text(next), "hello from b\n"); // a is marked failed (max_fails 1)
  },
);

Deno.test(
  "faults: a GET is retried on another target within try_duration, a POST never",
  needs("run"),
  async () => {
    // The first target reads the request and hangs up: nothing was sent to the client yet.
    await using bad = rawUpstream((conn) => Promise.resolve(conn.close()));
    await using good = await startNodeUpstream("good");
    const count = async () => Number(await (await fetch(`http://${good.target}/count`)).text());
    await using s = await proxied([
      `/api/=${bad.target},${good.target};policy=first;try_duration=5;fail_duration=0`,
    ]);
    const get = await exchange(s.port, GET);
    assert.equal(get.status, 200);
    assert.equal(text(get), "hello from good\n");
    assert.equal(bad.state.requests, 1);
    const before = await count();
    // Without a body and with one: a mutant that retries POSTs answers 200 from good.
    const empty = await exchange(s.port, "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    assert.equal(empty.status, 502);
    const post = await exchange(s.port, "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
    assert.equal(post.status, 502);
    assert.equal(bad.state.requests, 3);
    assert.equal(await count(), before + 1); // only the count request itself
  },
);

for (
  const [what, head] of [
    ["Content-Length and Transfer-Encoding", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"],
    ["two Content-Lengths", "Content-Length: 5\r\nContent-Length: 5\r\n"],
    ["a bad Content-Length", "Content-Length: 5x\r\n"],
    ["a Transfer-Encoding other than chunked", "Transfer-Encoding: gzip\r\n"],
    ["obs-fold", "X-A: 1\r\n  folded\r\nContent-Length: 5\r\n"],
  ]
) {
  Deno.test(`faults: an upstream response with ${what} is a 502 and its connection is dropped`, async () => {
    await using up = rawUpstream(async (conn) => {
      await conn.write(
        new TextEncoder().encode(`HTTP/1.1 200 OK\r\n${head}\r\nhello0\r\n\r\nHTTP/1.1 200 OK\r\n`),
      );
    });
    await using s = await proxied([`/api/=${up.target}`]);
    const res = await exchange(s.port, GET);
    assert.equal(res.status, 502);
    assert.ok(!text(res).includes("hello"));
    await until(() => up.state.closedByPeer === 1, "the proxy to drop the upstream connection");
  });
}

Deno.test(
  "faults: a target failing its health check gets no requests, and is back once it passes",
  needs("run"),
  async () => {
    await using a = await startNodeUpstream("a");
    await using b = await startNodeUpstream("b");
    await using s = await proxied([`/api/=${a.target},${b.target};health=/health;health_interval=0.2`]);
    const who = async () => text(await exchange(s.port, "GET /api/who HTTP/1.1\r\nHost: a\r\n\r\n"));
    const healthy = () => s.server.stats.upstreamHealthy.get(`/api/ ${a.target}`);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add(await who());
    assert.deepEqual([...served].sort(), ["hello from a\n", "hello from b\n"]);
    await fetch(`http://${a.target}/set-health?code=503`).then((r) => r.text());
    await until(() => healthy() === 0, "a's check to fail");
    const aCount = Number(await (await fetch(`http://${a.target}/count`)).text());
    // Two intervals and more: every request goes to b, and a sees only its checks.
    for (let i = 0; i < 8; i++) assert.equal(await who(), "hello from b\n");
    await new Promise((r) => setTimeout(r, 400));
    for (let i = 0; i < 4; i++) assert.equal(await who(), "hello from b\n");
    const checks = Number(await (await fetch(`http://${a.target}/count`)).text()) - aCount - 1;
    assert.ok(checks >= 1, "a was still checked");
    await fetch(`http://${a.target}/set-health?code=200`).then((r) => r.text());
    await until(() => healthy() === 1, "a's check to pass again");
    const back = new Set<string>();
    for (let i = 0; i < 4; i++) back.add(await who());
    assert.ok(back.has("hello from a\n"));
  },
);

Deno.test("faults: a bad chunk after the head cuts the client's response short and drops the upstream", async () => {
  await using up = rawUpstream(async (conn) => {
    await conn.write(
      new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n",
      ),
    );
  });
  await using s = await proxied([`/api/=${up.target}`]);
  const res = await exchange(s.port, GET);
  assert.equal(res.status, 200);
  assert.equal(res.chunked, true);
  assert.equal(res.complete, false); // no last chunk: the client knows the body is cut short
  assert.ok(!text(res).includes("more"));
  await until(() => up.state.closedByPeer === 1, "the proxy to drop the upstream connection");
});

Deno.test(
  "faults: a PUT whose first target refuses is sent, body and all, to the next",
  needs("run"),
  async () => {
    await using good = await startNodeUpstream("good");
    await using s = await proxied([
      `/api/=127.0.0.1:${freePort()},${good.target};policy=first;try_duration=5`,
    ]);
    const body = "p".repeat(70_000);
    const res = await exchange(
      s.port,
      `PUT /api/echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.equal(res.status, 200);
    const echo = JSON.parse(text(res));
    assert.deepEqual([echo.name, echo.method, echo.bodyBytes], ["good", "PUT", body.length]);
    assert.equal(s.server.stats.upstreamRetries.get(`/api/ ${good.target}`), 1);
  },
);
