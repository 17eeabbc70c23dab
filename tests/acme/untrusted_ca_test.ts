/**
 * ACME trusts nothing from the CA (issue 34, findings 8 and 9), with ferry started as users start
 * it against a small CA served from this test over real sockets: a chain for another key is
 * refused (logged with the CA's URL, counted, retried) and the previous certificate stays stored
 * and served; a directory over 1 MiB is an error naming its URL, read no further (ferry's memory
 * stays put while the CA would send 300 MB).
 */

import assert from "assert";
import { makeSelfSigned } from "../../src/tls/cert.ts";
import { needs } from "../helpers/needs.ts";
import { tlsView } from "../helpers/pebble.ts";
import { rssOf, startChild } from "../helpers/server.ts";
import { httpsPortOf, outputMatches, prometheus, sample } from "./acme_helpers.ts";

/** What the small CA answers with. */
interface FakeCaOptions {
  /** The issued chain (PEM). */
  chain?: string;
  /** A directory body streamed without end (64 KiB pieces, up to 300 MB), with no Content-Length. */
  endlessDirectory?: boolean;
}

/** A minimal ACME CA: directory, nonces, account, an order ready at once, finalize, the chain. */
function fakeCa(o: FakeCaOptions): { url: string; served: () => number; close: () => Promise<void> } {
  let served = 0;
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, (req): Response => {
    served++;
    const base: string = `http://127.0.0.1:${server.addr.port}`;
    const path = new URL(req.url).pathname;
    const nonce = { "replay-nonce": crypto.randomUUID().replaceAll("-", "") };
    const json = (status: number, body: unknown, more: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...nonce, ...more },
      });
    if (path === "/dir") {
      if (o.endlessDirectory) {
        let sent = 0;
        const piece = new TextEncoder().encode(" ".repeat(65536));
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode(`{"newNonce":"${base}/nonce","pad":"`));
          },
          pull(c) {
            if (sent >= 300 * 1024 * 1024) return c.close();
            sent += piece.length;
            c.enqueue(piece);
          },
        });
        return new Response(body, { headers: { "content-type": "application/json" } });
      }
      return json(200, {
        newNonce: `${base}/nonce`,
        newAccount: `${base}/account`,
        newOrder: `${base}/order`,
      });
    }
    if (path === "/nonce") return new Response(null, { status: 200, headers: nonce });
    if (path === "/account") return json(201, { status: "valid" }, { location: `${base}/account/1` });
    const order = {
      status: "valid",
      authorizations: [],
      finalize: `${base}/finalize`,
      certificate: `${base}/cert`,
    };
    if (path === "/order") return json(201, { ...order, status: "ready" }, { location: `${base}/order/1` });
    if (path === "/finalize" || path === "/order/1") return json(200, order);
    if (path === "/cert") {
      return new Response(o.chain, {
        headers: { "content-type": "application/pem-certificate-chain", ...nonce },
      });
    }
    return new Response("not found", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/dir`,
    served: () => served,
    close: () => server.shutdown(),
  };
}

/** ferry's flags: automatic HTTPS for `name` from `directory`, every certificate due for renewal. */
function ferryArgs(work: string, directory: string, name: string): string[] {
  return [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--https-port",
    "0",
    "--cert-dir",
    `${work}/certs`,
    "--acme-dir",
    `${work}/acme`,
    "--acme-domain",
    name,
    "--acme-directory",
    directory,
    "--acme-renew-before",
    "100000",
  ];
}

Deno.test(
  "acme: a chain that does not match ferry's key is refused, logged with the CA, counted; the old one stays",
  needs("read", "write", "run", "net"),
  async () => {
    const work = await Deno.makeTempDir({ prefix: "ferry-acme-" });
    const name = "shop.test";
    // The certificate ferry holds: valid, but due for renewal (every one is, with this renew-before).
    const old = await makeSelfSigned([name]);
    await Deno.mkdir(`${work}/acme/certs/${name}`, { recursive: true });
    await Deno.writeTextFile(`${work}/acme/certs/${name}/cert.pem`, old.cert);
    await Deno.writeTextFile(`${work}/acme/certs/${name}/key.pem`, old.key, { mode: 0o600 });
    await Deno.writeTextFile(`${work}/old.pem`, old.cert);
    // The CA issues a certificate for the right name but another key than the one ferry made.
    const stranger = await makeSelfSigned([name]);
    const ca = fakeCa({ chain: stranger.cert });
    try {
      await using ferry = await startChild(ferryArgs(work, ca.url, name), 2);
      await outputMatches(
        ferry,
        new RegExp(
          `certificate for shop\\.test failed, retrying.*ca=${ca.url.replaceAll(".", "\\.")}` +
            `.*its leaf's public key is not the one of the key ferry made`,
        ),
      );
      const port = httpsPortOf(ferry);
      const m = await prometheus(port, work);
      assert.ok(sample(m, "ferry_acme_failures_total", name) >= 1, m);
      assert.equal(sample(m, "ferry_acme_orders_total", name), 0);
      // Neither stored nor served: the previous pair is on disk and on the wire.
      assert.equal(await Deno.readTextFile(`${work}/acme/certs/${name}/cert.pem`), old.cert);
      const view = await tlsView(port, name, `${work}/old.pem`);
      assert.ok(view.verified, "the previous certificate is still served");
    } finally {
      await ca.close();
      await Deno.remove(work, { recursive: true });
    }
  },
);

Deno.test(
  "acme: a directory over 1 MiB is an error naming its URL, and ferry's memory stays put",
  needs("read", "write", "run", "net"),
  async () => {
    const work = await Deno.makeTempDir({ prefix: "ferry-acme-" });
    const ca = fakeCa({ endlessDirectory: true });
    try {
      await using ferry = await startChild(ferryArgs(work, ca.url, "big.test"), 2);
      const before = await rssOf(ferry.child.pid);
      await outputMatches(
        ferry,
        new RegExp(
          `certificate for big\\.test failed.*response at ${
            ca.url.replaceAll(".", "\\.")
          } is more than 1048576 bytes`,
        ),
      );
      const grown = (await rssOf(ferry.child.pid)) - before;
      assert.ok(grown < 64 * 1024 * 1024, `ferry grew by ${(grown / 1048576).toFixed(1)} MiB`);
      const m = await prometheus(httpsPortOf(ferry), work);
      assert.ok(sample(m, "ferry_acme_failures_total", "big.test") >= 1, m);
    } finally {
      await ca.close();
      await Deno.remove(work, { recursive: true });
    }
  },
);
