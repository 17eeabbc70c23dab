/**
 * The reverse proxy against a real upstream (Node's `http`, the fixture), through ferry started
 * in-process with `--proxy` routes: hop-by-hop fields both ways, X-Forwarded-*, Host, bodies
 * streamed both ways, SSE, trailers, keep-alive reuse, the counters. Each test fails on a proxy
 * that skips its behaviour (named in the test).
 */

import assert from "assert";
import { bytes, exchange, header, RawClient, text } from "../helpers/client.ts";
import { startServer, until } from "../helpers/server.ts";
import { startNodeUpstream } from "../helpers/upstreams.ts";
import { parseProxyRoute } from "../../src/upstream/proxy_flag.ts";
import { needs } from "../helpers/needs.ts";

/** ferry with `--proxy` routes (the flag's text) on top of its defaults. */
function proxied(routes: string[], more: Record<string, unknown> = {}) {
  return startServer({ proxyRoutes: routes.map(parseProxyRoute), ...more });
}

/** The upstream's `/echo` answer: what it received. */
interface Echo {
  name: string;
  method: string;
  url: string;
  headers: string[];
  bodyBytes: number;
  trailers: string[];
}

/** The values of `name` (any case) in a raw header list. */
function valuesOf(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) out.push(raw[i + 1]);
  return out;
}

/** Reads from `conn` until `text` has arrived; throws after 10 s (a guard against hanging, not a timing assertion). */
async function readUntil(conn: Deno.Conn, text: string): Promise<string> {
  let seen = "";
  const dec = new TextDecoder();
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const give = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 10_000));
  try {
    while (!seen.includes(text)) {
      const n = await Promise.race([conn.read(buf), give]);
      if (n === null) {
        throw new Error(`gave up waiting for ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`);
      }
      seen += dec.decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

Deno.test(
  "proxy: hop-by-hop fields, and those Connection names, are removed from the request",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using s = await proxied([`/api/=${up.target}`]);
    const res = await exchange(
      s.port,
      "GET /api/echo?q=1 HTTP/1.1\r\nHost: site.test:8080\r\nConnection: X-Private, keep-alive\r\nX-Private: secret\r\n" +
        "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers, deflate\r\nUpgrade: h2c\r\nX-Normal: yes\r\n\r\n",
    );
    assert.equal(res.status, 200);
    const echo = JSON.parse(text(res)) as Echo;
    assert.equal(echo.url, "/api/echo?q=1");
    assert.deepEqual(valuesOf(echo.headers, "x-private"), []); // a mutant forwarding Connection-named fields fails here
    assert.deepEqual(valuesOf(echo.headers, "keep-alive"), []);
    assert.deepEqual(valuesOf(echo.headers, "proxy-connection"), []);
    assert.deepEqual(valuesOf(echo.headers, "upgrade"), []);
    assert.deepEqual(valuesOf(echo.headers, "te"), ["trailers"]);
    assert.deepEqual(valuesOf(echo.headers, "x-normal"), ["yes"]);
    assert.deepEqual(valuesOf(echo.headers, "host"), ["site.test:8080"]); // Host as the client sent it
  },
);

Deno.test(
  "proxy: hop-by-hop fields of the response are removed, end-to-end ones kept",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using s = await proxied([`/api/=${up.target}`]);
    const res = await exchange(s.port, "GET /api/hop HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(res.status, 200);
    assert.equal(text(res), "hop");
    assert.equal(header(res, "x-secret"), undefined);
    assert.equal(header(res, "keep-alive"), undefined);
    assert.equal(header(res, "proxy-connection"), undefined);
    assert.equal(header(res, "x-kept"), "yes");
  },
);

Deno.test(
  "proxy: X-Forwarded-* from an untrusted client are replaced, from a trusted proxy kept",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    const req = "GET /api/echo HTTP/1.1\r\nHost: site.test\r\nX-Forwarded-For: 6.6.6.6\r\n" +
      "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n\r\n";
    {
      await using s = await proxied([`/api/=${up.target}`]);
      const echo = JSON.parse(text(await exchange(s.port, req))) as Echo;
      assert.deepEqual(valuesOf(echo.headers, "x-forwarded-for"), ["127.0.0.1"]); // not "6.6.6.6, 127.0.0.1"
      assert.deepEqual(valuesOf(echo.headers, "x-forwarded-proto"), ["http"]);
      assert.deepEqual(valuesOf(echo.headers, "x-forwarded-host"), ["site.test"]);
    }
    {
      await using s = await proxied([`/api/=${up.target}`], { trustedProxies: "127.0.0.1/32" });
      const echo = JSON.parse(text(await exchange(s.port, req))) as Echo;
      assert.deepEqual(valuesOf(echo.headers, "x-forwarded-for"), ["6.6.6.6, 127.0.0.1"]);
      assert.deepEqual(valuesOf(echo.headers, "x-forwarded-proto"), ["https"]);
      assert.deepEqual(valuesOf(echo.headers, "x-forwarded-host"), ["evil.test"]);
    }
  },
);

Deno.test(
  "proxy: request bodies stream to the upstream, with a length or chunked (with trailers)",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using s = await proxied([`/api/=${up.target}`]);
    const body = "x".repeat(300_000);
    const fixed = JSON.parse(text(
      await exchange(
        s.port,
        `POST /api/echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ),
    )) as Echo;
    assert.equal(fixed.bodyBytes, body.length);
    assert.deepEqual(valuesOf(fixed.headers, "content-length"), [String(body.length)]);
    const chunked = JSON.parse(text(
      await exchange(
        s.port,
        "POST /api/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n",
      ),
    )) as Echo;
    assert.equal(chunked.bodyBytes, 11);
    assert.deepEqual(valuesOf(chunked.headers, "transfer-encoding"), ["chunked"]);
    assert.deepEqual(chunked.trailers, ["x-sum", "11"]);
  },
);

Deno.test(
  "proxy: a response is passed on as it arrives (SSE), not when it ends",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using s = await proxied([`/api/=${up.target}`]);
    await using c = await RawClient.connect(s.port);
    await c.send("GET /api/sse HTTP/1.1\r\nHost: a\r\n\r\n");
    // The upstream sends its second event only when asked, after the client has the first: a
    // proxy that waits for the whole response never delivers the first, and this read gives up.
    let seen = await readUntil(c.conn, "data: first");
    assert.ok(!seen.includes("second"));
    assert.match(seen, /content-type: text\/event-stream/i);
    await fetch(`http://${up.target}/sse-next`).then((r) => r.text());
    seen += await readUntil(c.conn, "data: second");
  },
);

Deno.test("proxy: trailers pass to a client that takes them", needs("read", "run"), async () => {
  await using up = await startNodeUpstream();
  await using s = await proxied([`/api/=${up.target}`]);
  await using c = await RawClient.connect(s.port);
  await c.send("GET /api/trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: close\r\n\r\n");
  const raw = new TextDecoder().decode(await c.readAll());
  assert.match(raw, /body with trailers/);
  assert.match(raw, /\r\n0\r\nx-checksum: abc123\r\n\r\n$/);
});

Deno.test(
  "proxy: upstream connections are kept alive and reused across clients",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using s = await proxied([`/api/=${up.target}`]);
    const conns = async () => text(await exchange(s.port, "GET /api/conns HTTP/1.1\r\nHost: a\r\n\r\n"));
    const before = await conns(); // the upstream's own count includes the test's readiness probe
    for (let i = 0; i < 5; i++) {
      const res = await exchange(s.port, "GET /api/hello HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal(text(res), "hello from node\n");
    }
    assert.equal(await conns(), before); // one upstream connection carried every request
  },
);

Deno.test(
  "proxy: the counters name the upstream and target, in JSON and Prometheus",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using s = await proxied([`/api/=${up.target}`]);
    for (let i = 0; i < 3; i++) await exchange(s.port, "GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
    const json = JSON.parse(text(await exchange(s.port, "GET /_metrics HTTP/1.1\r\nHost: a\r\n\r\n")));
    assert.equal(json.upstreams.requests["/api/"][up.target], 3);
    assert.equal(json.upstreams.healthy["/api/"][up.target], 1);
    const prom = text(await exchange(s.port, "GET /_metrics?format=prometheus HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert.ok(prom.includes(`ferry_upstream_requests_total{upstream="/api/",target="${up.target}"} 3`));
  },
);

Deno.test("proxy: an HTTP/2 client is proxied to the HTTP/1.1 upstream", needs("read", "run"), async () => {
  await using up = await startNodeUpstream();
  await using s = await proxied([`/api/=${up.target}`], { h2c: true });
  const out = await new Deno.Command("curl", {
    args: [
      "-s",
      "--http2-prior-knowledge",
      "-H",
      "Cookie: a=1",
      "-H",
      "Cookie: b=2",
      `http://127.0.0.1:${s.port}/api/echo`,
    ],
  }).output();
  const echo = JSON.parse(new TextDecoder().decode(out.stdout)) as Echo;
  assert.equal(echo.url, "/api/echo");
  assert.deepEqual(valuesOf(echo.headers, "host"), [`127.0.0.1:${s.port}`]);
  assert.equal(valuesOf(echo.headers, "cookie").length, 1); // crumbs joined (RFC 9113 §8.2.3)
  assert.deepEqual(bytes("ok").length, 2);
});

Deno.test("proxy: the access log names the upstream target and its time", needs("read", "run"), async () => {
  await using up = await startNodeUpstream();
  for (const format of ["json", "plain"] as const) {
    await using s = await proxied([`/api/=${up.target}`], { logFormat: format });
    await exchange(s.port, "GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
    await exchange(s.port, "GET /_health HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => s.logs.text.includes("/_health"), "the access lines");
    const lines = s.logs.text.split("\n").filter((l) => l.includes("/api/x") || l.includes("/_health"));
    if (format === "json") {
      const [proxiedLine, other] = lines.map((l) => JSON.parse(l));
      assert.equal(proxiedLine.upstream, up.target);
      assert.equal(typeof proxiedLine.upstream_ms, "number");
      assert.equal(other.upstream, undefined);
    } else {
      assert.match(lines[0], new RegExp(` upstream=${up.target} upstream_ms=\\d+\\.\\d`));
      assert.ok(!lines[1].includes("upstream="));
    }
  }
});

Deno.test(
  "proxy: an HTTP/2 client's body of unknown length goes upstream chunked",
  needs("read", "run"),
  async () => {
    await using up = await startNodeUpstream();
    await using s = await proxied([`/api/=${up.target}`], { h2c: true });
    // `-T -` streams stdin: HTTP/2 DATA frames without a Content-Length.
    const curl = new Deno.Command("curl", {
      args: ["-s", "--http2-prior-knowledge", "-X", "POST", "-T", "-", `http://127.0.0.1:${s.port}/api/echo`],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = curl.stdin.getWriter();
    await w.write(new Uint8Array(150_000).fill(0x63));
    await w.close();
    const out = await curl.output();
    const echo = JSON.parse(new TextDecoder().decode(out.stdout)) as Echo;
    assert.equal(echo.method, "POST");
    assert.equal(echo.bodyBytes, 150_000);
    assert.deepEqual(valuesOf(echo.headers, "transfer-encoding"), ["chunked"]);
  },
);
