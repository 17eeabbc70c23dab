/**
 * HTTPS with real TLS clients: Deno.connectTls trusting the generated certificate, curl, a
 * TLS 1.1-only client that must fail, keep-alive and pipelining over TLS, junk on the TLS port,
 * the HTTP→HTTPS redirect, HSTS, the certificate made on first start and reused after, and
 * SIGHUP reloading it without dropping open connections.
 */

import assert from "assert";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { exchange, header, RawClient, text } from "../helpers/client.ts";
import { startChild, startServer, until } from "../helpers/server.ts";
import { loadCertificate, makeSelfSigned } from "../../src/tls/cert.ts";
import { ferryShell } from "../helpers/start_flags.ts";
import { httpsLocation } from "../../src/redirect.ts";
import type { Handler } from "../../src/mod.ts";
import { needs } from "../helpers/needs.ts";

const material = await makeSelfSigned();
const H = "Host: localhost\r\n";
const whoami: Handler = async (req, res) =>
  await res.send(200, [["x-url", req.url], ["x-scheme", req.scheme]], req.path);

async function tlsClient(port: number, ca = material.cert): Promise<RawClient> {
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port,
    caCerts: [ca],
    alpnProtocols: ["http/1.1"],
  });
  return RawClient.wrap(conn);
}

function https(opts: Parameters<typeof startServer>[0] = {}) {
  return startServer({ https: true, httpsPort: 0, tlsMaterial: material, handler: whoami, ...opts });
}

Deno.test("tls: Deno.connectTls trusting the certificate; ALPN http/1.1; https scheme for apps", async () => {
  await using s = await https();
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port: s.httpsPort,
    caCerts: [material.cert],
    alpnProtocols: ["http/1.1"],
  });
  const info = await conn.handshake();
  assert.equal(info.alpnProtocol, "http/1.1");
  await using c = RawClient.wrap(conn);
  await c.send(`GET /x?y=1 HTTP/1.1\r\n${H}\r\n`);
  const res = await c.response();
  assert.equal(header(res, "x-scheme"), "https");
  assert.equal(header(res, "x-url"), "https://localhost/x?y=1");
  assert.equal(s.server.stats.tlsHandshakesOk, 1);
});

Deno.test("tls: keep-alive and pipelining over TLS", async () => {
  await using s = await https();
  await using c = await tlsClient(s.httpsPort);
  await c.send(`GET /1 HTTP/1.1\r\n${H}\r\n`);
  assert.equal(text(await c.response()), "/1");
  await c.send(`GET /2 HTTP/1.1\r\n${H}\r\nGET /3 HTTP/1.1\r\n${H}\r\nGET /4 HTTP/1.1\r\n${H}\r\n`);
  for (const p of ["/2", "/3", "/4"]) assert.equal(text(await c.response()), p);
  assert.equal(s.server.stats.keepAliveReuse, 3);
});

Deno.test(
  "tls: curl --cacert works; a client insisting on TLS 1.1 fails",
  needs("read", "write", "run"),
  async () => {
    await using s = await https();
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/ca.pem`, material.cert);
      const ok = await new Deno.Command("curl", {
        args: ["-sS", "--cacert", `${dir}/ca.pem`, `https://localhost:${s.httpsPort}/curl`],
      }).output();
      assert.equal(new TextDecoder().decode(ok.stdout), "/curl", new TextDecoder().decode(ok.stderr));
      const old = await new Deno.Command("curl", {
        args: [
          "-sS",
          "--cacert",
          `${dir}/ca.pem`,
          "--tlsv1.1",
          "--tls-max",
          "1.1",
          `https://localhost:${s.httpsPort}/`,
        ],
      }).output();
      assert.notEqual(old.code, 0, "TLS 1.1 must be refused");
      assert.equal(old.stdout.length, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("tls: plaintext, random bytes, a reset mid-handshake and silence do not hurt the next client", async () => {
  await using s = await https({ headerTimeout: 0.3 });
  // Plain HTTP to the TLS port.
  const plain = await RawClient.connect(s.httpsPort);
  await plain.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  assert.ok((await plain.readAll()).length < 200, "at most a TLS alert comes back");
  plain.close();
  // Random bytes.
  const junk = await RawClient.connect(s.httpsPort);
  await junk.send(crypto.getRandomValues(new Uint8Array(512)));
  await junk.readAll();
  junk.close();
  // The start of a ClientHello, then a reset.
  const cut = await Deno.connect({ hostname: "127.0.0.1", port: s.httpsPort });
  await cut.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
  cut.close();
  // Nothing at all: ferry gives up after the header timeout. (Deno's TLS stream keeps the socket
  // itself until the peer acts, so the client sees no FIN; see README, HTTPS.)
  const silent = await RawClient.connect(s.httpsPort);
  await until(() => s.server.stats.timeouts.get("handshake") === 1, "the handshake timeout");
  silent.close();

  await until(() => s.server.stats.tlsHandshakesFailed >= 4, "four failed handshakes counted");
  await using c = await tlsClient(s.httpsPort);
  await c.send(`GET /after HTTP/1.1\r\n${H}\r\n`);
  assert.equal(text(await c.response()), "/after");
});

Deno.test("tls: --redirect-http answers 308 to the HTTPS port, path and query kept", async () => {
  await using s = await https({ redirectHttp: true });
  const res = await exchange(s.port, `GET /a/b?c=1&d=%20 HTTP/1.1\r\nHost: localhost:${s.port}\r\n\r\n`);
  assert.equal(res.status, 308);
  assert.equal(header(res, "location"), `https://localhost:${s.httpsPort}/a/b?c=1&d=%20`);
  // The HTTPS listener serves normally.
  await using c = await tlsClient(s.httpsPort);
  await c.send(`GET /a HTTP/1.1\r\n${H}\r\n`);
  assert.equal((await c.response()).status, 200);
  // A hostile Host never reaches the Location: the parser refuses it first.
  const bad = await exchange(s.port, `GET / HTTP/1.1\r\nHost: evil.com/x\r\n\r\n`);
  assert.equal(bad.status, 400);
  assert.equal(header(bad, "location"), undefined);
});

Deno.test("tls: redirect Location leaves out :443 and brackets IPv6", () => {
  assert.equal(httpsLocation("example.org:8080", 443, "/p", "q"), "https://example.org/p?q");
  assert.equal(httpsLocation("[::1]:8080", 8443, "/", ""), "https://[::1]:8443/");
});

Deno.test("tls: --hsts adds Strict-Transport-Security to HTTPS responses only", async () => {
  await using s = await https({ hsts: 31536000 });
  await using c = await tlsClient(s.httpsPort);
  await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(await c.response(), "strict-transport-security"), "max-age=31536000");
  const plain = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(plain, "strict-transport-security"), undefined);
});

Deno.test(
  "tls: the self-signed certificate is made on first start and reused on the second",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const first = await loadCertificate({ certDir: dir });
      assert.equal(first.created, true);
      assert.equal((await Deno.stat(first.keyPath)).mode! & 0o777, 0o600);
      const cert = new x509.X509Certificate(first.material.cert);
      const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
      const names = san.names.items.map((n) => n.value);
      for (const n of ["localhost", "127.0.0.1", "::1"]) {
        assert.ok(names.includes(n), `SAN has ${n}: ${names}`);
      }
      assert.equal((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve, "P-256");
      const second = await loadCertificate({ certDir: dir });
      assert.equal(second.created, false);
      assert.equal(second.material.cert, first.material.cert);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "tls: main.ts says where the certificate is, and SIGHUP reloads it for new connections",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using child = await startChild(
        ["--port", "0", "--https-port", "0", "--cert-dir", dir, "--log-format", "none"],
        2,
      );
      assert.match(child.stdout(), /self-signed certificate created: .*localhost-cert\.pem/);
      const port = Number(new URL(child.urls.find((u) => u.startsWith("https"))!).port);
      const oldCert = await Deno.readTextFile(`${dir}/localhost-cert.pem`);
      // An open connection made with the old certificate.
      await using before = await tlsClient(port, oldCert);
      await before.send(`GET /hello HTTP/1.1\r\n${H}\r\n`);
      assert.equal(text(await before.response()), "Hello, World!");

      const fresh = await makeSelfSigned();
      await Deno.writeTextFile(`${dir}/localhost-cert.pem`, fresh.cert);
      await Deno.writeTextFile(`${dir}/localhost-key.pem`, fresh.key);
      child.child.kill("SIGHUP");
      await until(() => /certificate reloaded/.test(child.stdout()), "the reload");

      await using after = await tlsClient(port, fresh.cert);
      await after.send(`GET /hello HTTP/1.1\r\n${H}\r\n`);
      assert.equal(text(await after.response()), "Hello, World!");
      await assert.rejects(tlsClient(port, oldCert).then((c) => c.send("x")), "the old certificate is gone");
      // The connection opened before the reload still works.
      await before.send(`GET /hello HTTP/1.1\r\n${H}\r\n`);
      assert.equal(text(await before.response()), "Hello, World!");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "tls: sockets that never send a ClientHello cannot starve plain HTTP of descriptors",
  needs("read", "write", "run"),
  async () => {
    // 256 descriptors: 300 silent TLS sockets would take them all without the budget (a quarter).
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        `ulimit -n 256 && exec ${
          ferryShell(["--host", "127.0.0.1", "--port", "0", "--https-port", "0", "--header-timeout", "0.5"])
        } --log-format none --cert-dir "$CERTS"`,
      ],
      env: { CERTS: await Deno.makeTempDir() },
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    let out = "";
    const pump = (async () => {
      for await (const c of child.stdout) out += new TextDecoder().decode(c);
    })();
    const silent: Deno.Conn[] = [];
    try {
      await until(() => (out.match(/listening on /g) ?? []).length >= 2, `ferry to start: ${out}`, 30000);
      const httpPort = Number(/listening on http:\/\/[^:]+:(\d+)/.exec(out)![1]);
      const httpsPort = Number(/listening on https:\/\/[^:]+:(\d+)/.exec(out)![1]);
      for (let i = 0; i < 300; i++) {
        silent.push(await Deno.connect({ hostname: "127.0.0.1", port: httpsPort }));
      }
      const metrics = async () => {
        const r = await fetch(`http://127.0.0.1:${httpPort}/_metrics`, {
          signal: AbortSignal.timeout(10000),
        });
        return (await r.json()).tls as { abandoned_held: number; accept_pauses: number };
      };
      // The handshakes time out and are abandoned; the sockets past the budget were refused.
      let tls = { abandoned_held: 0, accept_pauses: 0 };
      for (let i = 0; i < 100 && tls.abandoned_held === 0; i++) {
        tls = await metrics();
        if (tls.abandoned_held === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(tls.abandoned_held > 0 && tls.abandoned_held <= 64, `abandoned ${tls.abandoned_held}`);
      assert.ok(tls.accept_pauses >= 1, `the TLS listener never paused`);
      // Plain HTTP still has descriptors for new connections.
      for (let i = 0; i < 20; i++) {
        // A guard, not a timing: a starved server never answers.
        const r = await fetch(`http://127.0.0.1:${httpPort}/hello`, { signal: AbortSignal.timeout(10000) });
        assert.equal(r.status, 200);
        await r.body?.cancel();
      }
    } finally {
      for (const c of silent) c.close();
      child.kill("SIGKILL");
      await child.status;
      await pump;
    }
  },
);
