/**
 * A certificate reload (SIGHUP → `Server.reloadTls`) on the HTTPS listener the server started
 * with: new connections get the new certificate, ALPN still offers `h2`, the plain listener is
 * untouched, and a second reload swaps again.
 */

import assert from "assert";
import { header, RawClient, text } from "../helpers/client.ts";
import { startServer } from "../helpers/server.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import type { Handler } from "../../src/mod.ts";
import { needs } from "../helpers/needs.ts";

const first = await makeSelfSigned();
const second = await makeSelfSigned();
const H = "Host: localhost\r\n";
const hello: Handler = async (req, res) => await res.send(200, [["x-scheme", req.scheme]], "hello");

/** Whether a client trusting only `ca` completes a handshake; the ALPN protocol it got. */
async function handshake(port: number, ca: string): Promise<string | null | false> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({
      hostname: "localhost",
      port,
      caCerts: [ca],
      alpnProtocols: ["h2", "http/1.1"],
    });
    return (await conn.handshake()).alpnProtocol;
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

Deno.test(
  "tls reload: the listener started first serves the new certificate, twice over, h2 still offered",
  needs("unstable-net"),
  async () => {
    await using s = await startServer({
      handler: hello,
      https: true,
      httpsPort: 0,
      tlsMaterial: first,
      http2: true,
    });
    const port = s.httpsPort;
    assert.equal(await handshake(port, first.cert), "h2");
    assert.equal(await handshake(port, second.cert), false, "the second certificate is not served yet");

    // A connection opened before the reload.
    await using before = RawClient.wrap(
      await Deno.connectTls({
        hostname: "localhost",
        port,
        caCerts: [first.cert],
        alpnProtocols: ["http/1.1"],
      }),
    );
    await before.send(`GET / HTTP/1.1\r\n${H}\r\n`);
    assert.equal(text(await before.response()), "hello");

    await s.server.reloadTls(second);
    assert.equal(s.server.httpsAddr?.port, port, "the same port");
    assert.equal(await handshake(port, second.cert), "h2");
    assert.equal(await handshake(port, first.cert), false, "the first certificate is gone");
    await before.send(`GET / HTTP/1.1\r\n${H}\r\n`);
    assert.equal(header(await before.response(), "x-scheme"), "https", "the open connection goes on");

    await s.server.reloadTls(first);
    assert.equal(await handshake(port, first.cert), "h2");
    assert.equal(await handshake(port, second.cert), false);
  },
);

Deno.test(
  "tls reload: the plain listener is left alone and keeps serving",
  needs("unstable-net"),
  async () => {
    await using s = await startServer({ handler: hello, https: true, httpsPort: 0, tlsMaterial: first });
    const plain = s.server.httpAddr?.port;
    await s.server.reloadTls(second);
    assert.equal(s.server.httpAddr?.port, plain);
    await using c = await RawClient.connect(s.port);
    await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
    assert.equal(header(await c.response(), "x-scheme"), "http");
    assert.notEqual(await handshake(s.httpsPort, second.cert), false);
  },
);

Deno.test("tls reload: a pair that does not load is refused and the listener keeps the old one", async () => {
  await using s = await startServer({ handler: hello, https: true, httpsPort: 0, tlsMaterial: first });
  await assert.rejects(s.server.reloadTls({ cert: second.cert, key: first.key }));
  assert.notEqual(await handshake(s.httpsPort, first.cert), false);
});
