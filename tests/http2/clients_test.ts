/**
 * HTTP/2 with independent clients: curl (`--http2` over TLS, `--http2-prior-knowledge` with
 * --h2c), nghttp, h2load, and Deno's TLS client for ALPN; HTTP/1.1 keeps working beside it.
 */

import assert from "assert";
import { startServer, until } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import type { Handler } from "../../src/mod.ts";
import { missing, needs } from "../helpers/needs.ts";

const material = await makeSelfSigned();
// The CA file for curl and nghttp, written only when this run may write (see needs.ts).
const caDir = missing("write").length === 0 ? await Deno.makeTempDir() : "";
const CA = `${caDir}/ca.pem`;
if (caDir !== "") await Deno.writeTextFile(CA, material.cert);

const echo: Handler = async (req, res) => {
  const body = await req.body.bytes();
  await res.send(
    200,
    [["content-type", "text/plain"], ["x-proto", req.protocol], ["x-url", req.url]],
    [
      req.method,
      req.path,
      req.headers.get("host") ?? "-",
      String(body.length),
    ].join(" "),
  );
};

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return { code: o.code, out: new TextDecoder().decode(o.stdout), err: new TextDecoder().decode(o.stderr) };
}

function servers(opts: Parameters<typeof startServer>[0] = {}) {
  return startServer({ https: true, httpsPort: 0, tlsMaterial: material, handler: echo, h2c: true, ...opts });
}

Deno.test(
  "h2 clients: ALPN prefers h2 whatever the client's order; http/1.1 and no ALPN get HTTP/1.1",
  needs("read", "write", "run"),
  async () => {
    await using s = await servers();
    const alpn = async (protocols: string[] | undefined) => {
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: s.httpsPort,
        caCerts: [material.cert],
        ...(protocols ? { alpnProtocols: protocols } : {}),
      });
      const info = await conn.handshake();
      conn.close();
      return info.alpnProtocol;
    };
    assert.equal(await alpn(["http/1.1", "h2"]), "h2");
    assert.equal(await alpn(["h2"]), "h2");
    assert.equal(await alpn(["http/1.1"]), "http/1.1");
    assert.equal(await alpn(undefined), null);
  },
);

Deno.test("h2 clients: --no-http2 offers http/1.1 only", needs("read", "write", "run"), async () => {
  await using s = await servers({ http2: false });
  const r = await run("curl", [
    "-sS",
    "--http2",
    "--cacert",
    CA,
    "-w",
    " %{http_version}",
    `https://localhost:${s.httpsPort}/x`,
  ]);
  assert.equal(r.out, "GET /x localhost:" + s.httpsPort + " 0 1.1");
});

Deno.test(
  "h2 clients: curl --http2 over TLS, with a body without content-length, and https URLs for apps",
  needs("read", "write", "run"),
  async () => {
    await using s = await servers();
    const base = `https://localhost:${s.httpsPort}`;
    const r = await run("curl", [
      "-sS",
      "--http2",
      "--cacert",
      CA,
      "-D",
      "-",
      "-w",
      " %{http_version}",
      `${base}/a?b=1`,
    ]);
    assert.match(r.out, /^HTTP\/2 200/);
    assert.match(r.out, /x-proto: HTTP\/2/);
    assert.match(r.out, new RegExp(`x-url: https://localhost:${s.httpsPort}/a\\?b=1`));
    assert.ok(r.out.endsWith(`GET /a localhost:${s.httpsPort} 0 2`), r.out);
    const chunked = await new Deno.Command("curl", {
      args: ["-sS", "--http2", "--cacert", CA, "-T", "-", "-w", " %{http_version}", `${base}/up`],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = chunked.stdin.getWriter();
    await w.write(new Uint8Array(100_000).fill(97));
    await w.close();
    const o = await chunked.output();
    assert.equal(new TextDecoder().decode(o.stdout), `PUT /up localhost:${s.httpsPort} 100000 2`);
    assert.equal(s.server.stats.h2Connections >= 2, true);
  },
);

Deno.test(
  "h2 clients: --h2c takes prior knowledge and HTTP/1.1 on one port; Upgrade: h2c is answered in HTTP/1.1",
  needs("read", "write", "run"),
  async () => {
    await using s = await servers();
    const url = `http://127.0.0.1:${s.port}/p`;
    const pk = await run("curl", ["-sS", "--http2-prior-knowledge", "-w", " %{http_version}", url]);
    assert.equal(pk.out, `GET /p 127.0.0.1:${s.port} 0 2`);
    const h1 = await run("curl", ["-sS", "--http1.1", "-w", " %{http_version}", url]);
    assert.equal(h1.out, `GET /p 127.0.0.1:${s.port} 0 1.1`);
    // curl --http2 over plain HTTP sends Upgrade: h2c; ferry answers in HTTP/1.1.
    const up = await run("curl", ["-sS", "--http2", "-w", " %{http_version}", url]);
    assert.equal(up.out, `GET /p 127.0.0.1:${s.port} 0 1.1`);
  },
);

Deno.test(
  "h2 clients: nghttp fetches several streams on one connection",
  needs("read", "write", "run"),
  async () => {
    await using s = await servers();
    const base = `https://localhost:${s.httpsPort}`;
    const r = await run("nghttp", ["-n", "-s", "-v", `${base}/1`, `${base}/2`, `${base}/3`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /The negotiated protocol: h2/);
    assert.equal((r.out.match(/recv HEADERS frame/g) ?? []).length, 3);
    assert.equal(s.server.stats.h2Connections, 1);
    assert.equal(s.server.stats.h2Streams, 3);
    // The client said goodbye: the server closes without a GOAWAY of its own to count.
    await until(() => s.server.stats.h2ConnectionsActive === 0, "the connection closed");
    assert.equal(s.server.stats.h2Goaways.size, 0);
  },
);

Deno.test(
  "h2 clients: h2load (bounded) gets every request answered over 4 connections",
  needs("read", "write", "run"),
  async () => {
    await using s = await servers();
    const r = await run("h2load", ["-n", "2000", "-c", "4", "-m", "50", `https://localhost:${s.httpsPort}/`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/);
    assert.match(r.out, /status codes: 2000 2xx/);
    assert.equal(s.server.stats.h2Streams, 2000);
  },
);

Deno.test(
  "h2 clients: h2load at 100 streams per connection on the example app: none refused",
  needs("read", "write", "run"),
  async () => {
    // The example app awaits its flush: a stream closed while its handler finishes must not count
    // against the concurrency limit (that refused streams and tripped the reset budget).
    await using s = await startServer({ https: true, httpsPort: 0, tlsMaterial: material });
    const r = await run("h2load", [
      "-n",
      "6000",
      "-c",
      "2",
      "-m",
      "100",
      `https://localhost:${s.httpsPort}/hello`,
    ]);
    assert.match(r.out, /requests: 6000 total, 6000 started, 6000 done, 6000 succeeded, 0 failed/);
    assert.equal(s.server.stats.h2Limits.size, 0);
  },
);
