/**
 * Automatic HTTPS against Debian's pebble: two names issued and served per SNI with chains that
 * verify to pebble's root, a connection opened before issuance still served after it, the
 * challenge path left alone by --redirect-http, pebble's badNonce rejections survived; then a
 * restart that serves the stored certificates without an order, and a renewal swapped in live.
 */

import assert from "assert";
import { preparePebble } from "../helpers/pebble.ts";
import { RawClient, text } from "../helpers/client.ts";
import { startChild } from "../helpers/server.ts";
import {
  acmeArgs,
  httpPortOf,
  httpsPortOf,
  outputMatches,
  prometheus,
  sample,
  servedSerial,
} from "./acme_helpers.ts";
import { needs } from "../helpers/needs.ts";

Deno.test(
  "acme: two names issued and served per SNI, kept across a restart, renewed live",
  needs("read", "write", "run"),
  async (t) => {
    // badNonce rejections on: 30% of nonces (pebble's default is 5%, too rare to be sure to meet).
    const prepared = await preparePebble({ nonceReject: 30 });
    const work = await Deno.makeTempDir({ prefix: "ferry-acme-" });
    const argsOn = (port: number) =>
      acmeArgs(work, port, prepared.directory, prepared.caFile, "a.test,b.test", ["--redirect-http"]);
    const rootFile = `${work}/pebble-root.pem`;
    const serials: Record<string, string> = {};

    await t.step("issued while a connection opened before stays served", async () => {
      // ferry starts before the CA is up: its first orders fail and are retried.
      await using ferry = await startChild(argsOn(0), 2);
      const port = httpsPortOf(ferry);
      const httpPort = httpPortOf(ferry);
      // The banner comes after the listening lines.
      await outputMatches(
        ferry,
        /a\.test \(self-signed until issued\), b\.test \(self-signed until issued\)/,
      );
      const early = await Deno.connectTls({
        hostname: "127.0.0.1",
        port,
        caCerts: [await Deno.readTextFile(`${work}/certs/localhost-cert.pem`)],
      });
      await using c = RawClient.wrap(early, 20000);
      await c.send("GET /_health HTTP/1.1\r\nHost: a.test\r\n\r\n");
      assert.equal((await c.response()).status, 200);

      await using pebble = await prepared.start(httpPort);
      await Deno.writeTextFile(rootFile, await pebble.root());
      serials.a = await servedSerial(port, "a.test", rootFile);
      serials.b = await servedSerial(port, "b.test", rootFile);
      assert.notEqual(serials.a, serials.b);

      await c.send("GET /_health HTTP/1.1\r\nHost: a.test\r\n\r\n");
      const after = await c.response();
      assert.equal(after.status, 200, text(after));

      // --redirect-http: the challenge path is answered (404 for an unknown token), the rest redirected.
      const plain = await RawClient.connect(httpPort);
      await plain.send("GET /.well-known/acme-challenge/no-such-token HTTP/1.1\r\nHost: a.test:8080\r\n\r\n");
      assert.equal((await plain.response()).status, 404);
      await plain.send("GET /index.html HTTP/1.1\r\nHost: a.test\r\n\r\n");
      assert.equal((await plain.response()).status, 308);
      await plain[Symbol.asyncDispose]();

      const metrics = await prometheus(port, work);
      for (const name of ["a.test", "b.test"]) {
        assert.equal(sample(metrics, "ferry_acme_orders_total", name), 1, metrics);
        assert.equal(sample(metrics, "ferry_acme_renewals_total", name), 0);
        assert.ok(sample(metrics, "ferry_acme_certificate_expiry_days", name) > 365, metrics);
        assert.match(
          metrics,
          new RegExp(`ferry_acme_certificate_info\\{name="${name}",issuer="Pebble Intermediate`),
        );
      }
      // The CA's first refusals (it was down) were failures, retried.
      assert.ok(sample(metrics, "ferry_acme_failures_total", "a.test") >= 1);
      assert.match(ferry.stdout() + ferry.stderr(), /badNonce/);
      assert.match(pebble.output(), /badNonce|nonce/i);

      // Stored: keys 0600.
      assert.equal((await Deno.stat(`${work}/acme/certs/a.test/key.pem`)).mode! & 0o777, 0o600);

      // A restart serves what is stored, with no order.
      ferry.child.kill("SIGTERM");
      await ferry.status;
      // The same plain port: pebble validates there.
      await using again = await startChild(argsOn(httpPort), 2);
      const port2 = httpsPortOf(again);
      await outputMatches(again, /a\.test \(issuer Pebble Intermediate CA [0-9a-f]+, expires/);
      assert.equal(await servedSerial(port2, "a.test", rootFile), serials.a);
      assert.equal(await servedSerial(port2, "b.test", rootFile), serials.b);
      const m2 = await prometheus(port2, work);
      assert.equal(sample(m2, "ferry_acme_orders_total", "a.test"), 0, m2);
      assert.doesNotMatch(again.stdout() + again.stderr(), /ordering a certificate/);
      again.child.kill("SIGTERM");
      await again.status;

      // --acme-renew-before longer than the 5-year lifetime: due at once, renewed and swapped live.
      await using renewing = await startChild([...argsOn(httpPort), "--acme-renew-before", "3650"], 2);
      const port3 = httpsPortOf(renewing);
      await outputMatches(renewing, /serving a new certificate for a\.test/);
      await outputMatches(renewing, /serving a new certificate for b\.test/);
      const renewedA = await servedSerial(port3, "a.test", rootFile);
      assert.notEqual(renewedA, serials.a);
      const m3 = await prometheus(port3, work);
      assert.equal(sample(m3, "ferry_acme_renewals_total", "a.test"), 1, m3);
      assert.equal(sample(m3, "ferry_acme_orders_total", "b.test"), 1, m3);
    });
  },
);
