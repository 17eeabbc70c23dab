/**
 * ferry behind load balancers, with the real ones: HAProxy in front of two instances (PROXY v2,
 * then X-Forwarded-For), nginx in front with X-Forwarded-For; the client's address reaches the
 * app, the access log and the /_metrics allow-list; a header from an untrusted peer is not
 * believed; /_health, /_ready and --drain-delay; a rolling restart under load loses nothing.
 */

import assert from "assert";
import { exchange, text } from "../helpers/client.ts";
import { MemorySink, startChild, startServer, until } from "../helpers/server.ts";
import { curlFrom, freePort, proxyV2Family, startHaproxy, startNginx } from "../helpers/proxies.ts";
import { Logger } from "../../src/log/logger.ts";
import type { Handler } from "../../src/mod.ts";
import { needs } from "../helpers/needs.ts";

const H = "Host: t\r\n";

/** What every HAProxy here starts with: HTTP mode, short timeouts, retries on another server. */
const HAPROXY_DEFAULTS = `defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
  timeout check 5s
  retries 3
  option redispatch`;

/** Answers who ferry thinks the client is. */
const whoami: Handler = (req, res) =>
  res.send(
    200,
    [["Content-Type", "application/json"]],
    JSON.stringify({
      addr: req.clientAddr,
      scheme: req.scheme,
      host: req.host,
      xff: req.headers.get("x-forwarded-for") ?? null,
      port: Number(req.conn.localPort),
    }),
  );

Deno.test("proxy: /_health is 200; /_ready is 200, then 503 from the moment a drain begins, while serving on", async () => {
  const s = await startServer({ handler: whoami, drainDelay: 0.5 });
  assert.equal(text(await exchange(s.port, `GET /_health HTTP/1.1\r\n${H}\r\n`)), "ok\n");
  assert.equal((await exchange(s.port, `GET /_ready HTTP/1.1\r\n${H}\r\n`)).status, 200);
  const finished = s.server.shutdown();
  const ready = await exchange(s.port, `GET /_ready HTTP/1.1\r\n${H}\r\n`);
  assert.equal(ready.status, 503);
  // Still accepting and serving during the delay, so a balancer has time to notice.
  assert.equal((await exchange(s.port, `GET /who HTTP/1.1\r\n${H}\r\n`)).status, 200);
  assert.equal((await exchange(s.port, `GET /_health HTTP/1.1\r\n${H}\r\n`)).status, 200);
  await finished;
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: s.port }));
});

Deno.test(
  "proxy: X-Forwarded-* from a trusted peer are believed; from anyone else they pass untouched",
  needs("read", "write", "run"),
  async () => {
    await using s = await startServer({
      handler: whoami,
      trustedProxies: "127.0.0.1/32",
      metricsAllow: "203.0.113.9/32",
    });
    const url = `http://127.0.0.1:${s.port}/who`;
    const xff = [
      "X-Forwarded-For: 203.0.113.9",
      "X-Forwarded-Proto: https",
      "X-Forwarded-Host: shop.example",
    ];
    const trusted = JSON.parse((await curlFrom("127.0.0.1", url, xff)).body);
    assert.deepEqual([trusted.addr, trusted.scheme, trusted.host], ["203.0.113.9", "https", "shop.example"]);
    const stranger = JSON.parse((await curlFrom("127.0.0.3", url, xff)).body);
    assert.deepEqual([stranger.addr, stranger.scheme], ["127.0.0.3", "http"]);
    assert.equal(stranger.xff, "203.0.113.9", "the header reaches the app untouched");
    // The allow-list sees the believed client only.
    assert.equal((await curlFrom("127.0.0.1", `http://127.0.0.1:${s.port}/_metrics`, xff)).status, 200);
    assert.equal((await curlFrom("127.0.0.3", `http://127.0.0.1:${s.port}/_metrics`, xff)).status, 403);
    // Malformed: ignored, the peer is the client.
    const bad = JSON.parse((await curlFrom("127.0.0.1", url, ["X-Forwarded-For: nonsense"])).body);
    assert.equal(bad.addr, "127.0.0.1");
  },
);

Deno.test("proxy: --proxy-protocol takes the client from the header; a connection without one is closed", async () => {
  await using s = await startServer({ handler: whoami, proxyProtocol: true });
  const res = await exchange(
    s.port,
    `PROXY TCP4 198.51.100.7 127.0.0.1 40000 ${s.port}\r\nGET /who HTTP/1.1\r\n${H}\r\n`,
  );
  assert.equal(JSON.parse(text(res)).addr, "198.51.100.7");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await conn.write(new TextEncoder().encode(`GET /who HTTP/1.1\r\n${H}\r\n`));
  assert.equal(await conn.read(new Uint8Array(100)), null, "closed without an answer");
  conn.close();
  assert.equal(s.server.stats.rejections.get("proxy_protocol"), 1);
});

Deno.test("proxy: a PROXY v2 header over AF_UNIX is served with the connection's own address", async () => {
  await using s = await startServer({ handler: whoami, proxyProtocol: true });
  const header = proxyV2Family(0x31, 216); // what HAProxy sends when its client came over a Unix socket
  const request = new TextEncoder().encode(`GET /who HTTP/1.1\r\n${H}\r\n`);
  const bytes = new Uint8Array(header.length + request.length);
  bytes.set(header);
  bytes.set(request, header.length);
  const res = await exchange(s.port, bytes);
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(text(res)).addr, "127.0.0.1");
  assert.equal(s.server.stats.rejections.get("proxy_protocol") ?? 0, 0);
});

/** Two in-process instances behind HAProxy, with `mode` PROXY v2 or X-Forwarded-For. */
async function twoBehindHaproxy(mode: "proxy-v2" | "xff") {
  const sinks = [new MemorySink(), new MemorySink()];
  const servers = await Promise.all(sinks.map((sink) =>
    startServer({
      handler: whoami,
      log: new Logger("json", sink, sink, "info"),
      logFormat: "json",
      metricsAllow: "127.0.0.2/32",
      ...(mode === "proxy-v2" ? { proxyProtocol: true } : { trustedProxies: "127.0.0.9/32" }),
    })
  ));
  const port = freePort();
  const send = mode === "proxy-v2" ? "send-proxy-v2 check-send-proxy" : "";
  const haproxy = await startHaproxy(
    `${HAPROXY_DEFAULTS}
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  balance roundrobin
  ${mode === "xff" ? "option forwardfor" : ""}
  option httpchk GET /_ready
  default-server inter 200ms fall 3 rise 1
${servers.map((s, i) => `  server s${i} 127.0.0.1:${s.port} check ${send} source 127.0.0.9`).join("\n")}
`,
    port,
  );
  return { servers, sinks, haproxy, port };
}

for (const mode of ["proxy-v2", "xff"] as const) {
  Deno.test(
    `proxy: HAProxy (${mode}) in front of two instances: the client's address reaches app, log and allow-list`,
    needs("read", "write", "run"),
    async () => {
      const { servers, sinks, haproxy, port } = await twoBehindHaproxy(mode);
      try {
        const seen = new Set<number>();
        for (let i = 0; i < 6; i++) {
          const r = await curlFrom("127.0.0.2", `http://127.0.0.1:${port}/who?i=${i}`);
          const j = JSON.parse(r.body);
          assert.equal(j.addr, "127.0.0.2");
          seen.add(j.port);
        }
        assert.equal(seen.size, 2, "both instances served");
        assert.equal((await curlFrom("127.0.0.2", `http://127.0.0.1:${port}/_metrics`)).status, 200);
        assert.equal((await curlFrom("127.0.0.3", `http://127.0.0.1:${port}/_metrics`)).status, 403);
        // Straight to an instance, from an untrusted peer, a forwarding header is not believed.
        const direct = mode === "xff"
          ? await curlFrom("127.0.0.3", `http://127.0.0.1:${servers[0].port}/who`, [
            "X-Forwarded-For: 203.0.113.1",
          ])
          : undefined;
        if (direct !== undefined) assert.equal(JSON.parse(direct.body).addr, "127.0.0.3");
        for (const s of servers) await s.server.shutdown();
        const lines = sinks.flatMap((k) => k.text.split("\n")).filter((l) => l.includes('"/who?i='));
        assert.equal(lines.length, 6);
        for (const l of lines) assert.equal(JSON.parse(l).remote, "127.0.0.2", l);
      } finally {
        await haproxy[Symbol.asyncDispose]();
        for (const s of servers) await s.server.shutdown();
      }
    },
  );
}

Deno.test(
  "proxy: nginx proxy_pass with X-Forwarded-For in front: the client's address reaches the app",
  needs("read", "write", "run"),
  async () => {
    await using s = await startServer({ handler: whoami, trustedProxies: "127.0.0.1/32" });
    const port = freePort();
    await using _nginx = await startNginx(
      `server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${s.port};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }`,
      port,
    );
    for (let i = 0; i < 3; i++) {
      const j = JSON.parse((await curlFrom("127.0.0.2", `http://127.0.0.1:${port}/who`)).body);
      assert.deepEqual([j.addr, j.scheme, j.xff], ["127.0.0.2", "http", "127.0.0.2"]);
    }
  },
);

Deno.test(
  "proxy: a rolling restart behind HAProxy under continuous load loses no request",
  needs("read", "write", "run"),
  async () => {
    const ports = [freePort(), freePort()];
    const start = (p: number) =>
      startChild(["--port", String(p), "--no-https", "--log-format", "none", "--drain-delay", "0.6"]);
    const children = [await start(ports[0]), await start(ports[1])];
    const fe = freePort();
    await using _haproxy = await startHaproxy(
      `${HAPROXY_DEFAULTS}
  retry-on all-retryable-errors
frontend fe
  bind 127.0.0.1:${fe}
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /_ready
  default-server inter 100ms fall 1 rise 1
  http-response set-header X-Served-By %[srv_name]
${ports.map((p, i) => `  server s${i} 127.0.0.1:${p} check`).join("\n")}
`,
      fe,
    );
    let stop = false;
    let served = 0;
    const servedBy = [0, 0];
    const failures: string[] = [];
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const r = await fetch(`http://127.0.0.1:${fe}/hello`);
          const body = await r.text();
          if (r.status === 200) {
            served++;
            servedBy[Number(r.headers.get("x-served-by")?.slice(1))]++;
          } else failures.push(`${r.status} ${body.slice(0, 60)}`);
        } catch (e) {
          failures.push(String(e));
        }
      }
    }));
    try {
      await until(() => served > 50, "load through HAProxy");
      for (let i = 0; i < 2; i++) {
        children[i].child.kill("SIGTERM");
        assert.equal((await children[i].status).code, 0);
        const at = served;
        await until(() => served > at + 30, "the other instance to carry the load");
        children[i] = await start(ports[i]);
        // As an operator would: the next instance goes only once this one is back in rotation.
        const before = servedBy[i];
        await until(() => servedBy[i] > before + 10, `s${i} to be back in rotation`);
      }
    } finally {
      stop = true;
      await load;
      for (const c of children) {
        c.child.kill("SIGTERM");
        await c.status;
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(served > 150);
  },
);
