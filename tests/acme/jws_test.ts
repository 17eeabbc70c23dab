/**
 * ES256 JWS for ACME: signatures verify with the account's public key over `protected.payload`,
 * POST-as-GET has an empty payload, the header carries `jwk` or `kid`, and a stored key comes back
 * as the same key (same thumbprint, still verifies).
 */

import assert from "assert";
import {
  generateKey,
  importKeyPem,
  privateKeyPem,
  publicJwk,
  signJws,
  thumbprint,
} from "../../src/acme/jws.ts";

const fromB64url = (s: string) =>
  Uint8Array.from(
    atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - s.length % 4) % 4)),
    (c) => c.charCodeAt(0),
  );

Deno.test("jws: ES256 signatures verify; jwk then kid; POST-as-GET payload is empty", async () => {
  const key = await generateKey();
  const first = await signJws(key, { jwk: true }, "https://ca/new-acct", "n1", {
    termsOfServiceAgreed: true,
  });
  const header = JSON.parse(new TextDecoder().decode(fromB64url(first.protected)));
  assert.deepEqual(header.jwk, await publicJwk(key));
  assert.equal(header.alg, "ES256");
  assert.equal(header.nonce, "n1");
  assert.equal(header.url, "https://ca/new-acct");
  assert.equal(header.kid, undefined);
  const sig = fromB64url(first.signature);
  assert.equal(sig.length, 64); // r ‖ s, 32 bytes each (RFC 7518 §3.4)
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key.publicKey,
    sig,
    new TextEncoder().encode(`${first.protected}.${first.payload}`),
  );
  assert.ok(ok);
  const get = await signJws(key, { kid: "https://ca/acct/1" }, "https://ca/order/1", "n2", undefined);
  assert.equal(get.payload, "");
  const h2 = JSON.parse(new TextDecoder().decode(fromB64url(get.protected)));
  assert.equal(h2.kid, "https://ca/acct/1");
  assert.equal(h2.jwk, undefined);
});

Deno.test("jws: a stored key is the same key (thumbprint, signatures)", async () => {
  const key = await generateKey();
  const again = await importKeyPem(await privateKeyPem(key.privateKey));
  assert.equal(await thumbprint(again), await thumbprint(key));
  assert.match(await thumbprint(key), /^[A-Za-z0-9_-]{43}$/);
  const s = await signJws(again, { kid: "k" }, "u", "n", {});
  assert.ok(
    await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key.publicKey,
      fromB64url(s.signature),
      new TextEncoder().encode(`${s.protected}.${s.payload}`),
    ),
  );
});
