/**
 * Certificates (`src/tls/cert.ts`, `cert_store.ts`, `budget.ts`): the self-signed maker, loading
 * a pair or the self-signed one (made, reused, remade), the errors that name the flag and the
 * file, the per-name store, and the handshake budget.
 */

import assert from "assert";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import {
  checkPair,
  loadCertificate,
  makeSelfSigned,
  notAfter,
  SELF_SIGNED_CERT,
  SELF_SIGNED_KEY,
} from "../../src/tls/cert.ts";
import { CertStore } from "../../src/tls/cert_store.ts";
import { tlsSocketBudget, UNKNOWN_LIMIT_BUDGET } from "../../src/tls/budget.ts";
import { needs } from "../helpers/needs.ts";

const DAY = 24 * 3600 * 1000;

Deno.test("tls cert: the self-signed pair is for localhost, 127.0.0.1 and ::1, a year long, a fresh key each time", async () => {
  const a = await makeSelfSigned();
  const b = await makeSelfSigned();
  checkPair(a, "a-cert.pem", "a-key.pem"); // does not throw: the key is the certificate's
  const x = new X509Certificate(a.cert);
  assert.match(x.subjectAltName ?? "", /DNS:localhost/);
  assert.match(x.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
  assert.match(x.subjectAltName ?? "", /IP Address:(::1|0:0:0:0:0:0:0:1)\b/);
  assert.equal(x.ca, false);
  const days = (notAfter(a.cert).getTime() - new Date(x.validFrom).getTime()) / DAY;
  assert.ok(days > 364 && days < 367, `valid for ${days} days`);
  assert.notEqual(a.key, b.key);
  assert.notEqual(new X509Certificate(b.cert).serialNumber, x.serialNumber);
  assert.throws(
    () => checkPair({ cert: a.cert, key: b.key }, "a.pem", "b.pem"),
    /--key b\.pem does not belong to --cert a\.pem/,
  );
});

Deno.test("tls cert: a bad pair is refused naming the flag and the file", async () => {
  const good = await makeSelfSigned();
  assert.throws(
    () => checkPair({ cert: "junk", key: good.key }, "c.pem", "k.pem"),
    /--cert c\.pem is not a PEM certificate/,
  );
  assert.throws(
    () => checkPair({ cert: good.cert, key: "junk" }, "c.pem", "k.pem"),
    /--key k\.pem is not a PEM private key/,
  );
  await assert.rejects(loadCertificate({ cert: "c.pem" }), /--cert and --key go together/);
  await assert.rejects(
    loadCertificate({ cert: "/nonexistent/c.pem", key: "/nonexistent/k.pem" }),
    /cannot read --cert \/nonexistent\/c\.pem/,
  );
});

Deno.test(
  "tls cert: --cert and --key are loaded as given; the self-signed one is made, then reused, remade when broken",
  needs("read", "write"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const own = await makeSelfSigned();
      await Deno.writeTextFile(join(dir, "own.pem"), own.cert);
      await Deno.writeTextFile(join(dir, "own.key"), own.key);
      const given = await loadCertificate({ cert: join(dir, "own.pem"), key: join(dir, "own.key") });
      assert.deepEqual([given.selfSigned, given.created, given.material.cert], [false, false, own.cert]);

      const certDir = join(dir, "certs");
      const first = await loadCertificate({ certDir });
      assert.deepEqual([first.selfSigned, first.created, first.certPath], [
        true,
        true,
        join(certDir, SELF_SIGNED_CERT),
      ]);
      assert.equal(
        (await Deno.stat(join(certDir, SELF_SIGNED_KEY))).mode! & 0o777,
        0o600,
        "the key is private",
      );
      const second = await loadCertificate({ certDir });
      assert.equal(second.created, false);
      assert.equal(second.material.cert, first.material.cert);

      await Deno.writeTextFile(join(certDir, SELF_SIGNED_CERT), "not a certificate\n");
      const third = await loadCertificate({ certDir });
      assert.equal(third.created, true, "a broken file is replaced");
      assert.notEqual(third.material.cert, first.material.cert);
      checkPair(third.material, third.certPath, third.keyPath);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("tls cert store: names pick their pair (any case, a trailing dot), others get the default", async () => {
  const fallback = await makeSelfSigned();
  const named = await makeSelfSigned();
  const store = new CertStore(fallback);
  assert.deepEqual(store.listenOptions(), { cert: fallback.cert, key: fallback.key });
  store.set("Example.ORG", named);
  assert.deepEqual(store.names(), ["example.org"]);
  assert.equal(store.pick("example.org"), named);
  assert.equal(store.pick("EXAMPLE.org."), named);
  assert.equal(store.pick("other.org"), fallback);
  assert.equal(store.pick(""), fallback);
  // With per-name pairs the listener gets a resolver, not a pair.
  assert.equal("cert" in store.listenOptions(), false);
  assert.throws(() => new CertStore().listenOptions(), /no certificate and key were given/);
});

Deno.test("tls budget: a quarter of the open-file limit, at least 16; a fixed budget when unknown", () => {
  assert.equal(tlsSocketBudget(1024), 256);
  assert.equal(tlsSocketBudget(40), 16);
  assert.equal(tlsSocketBudget(undefined), UNKNOWN_LIMIT_BUDGET);
  assert.equal(tlsSocketBudget(Infinity), UNKNOWN_LIMIT_BUDGET);
});
