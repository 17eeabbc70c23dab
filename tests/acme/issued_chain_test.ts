/**
 * What an issued chain must be before it is stored or served (`src/acme/issued_chain.ts`): PEM
 * that parses, a leaf with the public key of ferry's key, covering every ordered name, each
 * certificate signed by the next, and a pair that loads into a TLS listener.
 */

import assert from "assert";
import { checkIssuedChain, IssuedChainRejected } from "../../src/acme/issued_chain.ts";
import { makeSelfSigned } from "../../src/tls/cert.ts";

const URL_ = "https://ca.test/cert/1";
const mine = await makeSelfSigned(["shop.test", "www.shop.test"]);
const other = await makeSelfSigned(["shop.test"]);

/** The message of the rejection `f` throws. */
function refusal(f: () => void): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof IssuedChainRejected, String(e));
    assert.match(e.message, /at https:\/\/ca\.test\/cert\/1 was refused: .*; the previous certificate stays/);
    return e.message;
  }
  throw new Error("not refused");
}

Deno.test("issued chain: a pair that matches, covers the names and loads is taken", () => {
  checkIssuedChain(["shop.test", "www.shop.test"], mine, URL_);
});

Deno.test("issued chain: another key, a name missing, a broken order, no PEM are each refused, named", () => {
  assert.match(
    refusal(() => checkIssuedChain(["shop.test"], { cert: other.cert, key: mine.key }, URL_)),
    /public key is not the one of the key ferry made/,
  );
  assert.match(
    refusal(() => checkIssuedChain(["shop.test", "api.shop.test"], mine, URL_)),
    /does not cover api\.shop\.test/,
  );
  assert.match(
    refusal(() => checkIssuedChain(["shop.test"], { cert: mine.cert + other.cert, key: mine.key }, URL_)),
    /certificate 1 of the chain is not signed by certificate 2/,
  );
  assert.match(
    refusal(() => checkIssuedChain(["shop.test"], { cert: "<html>", key: mine.key }, URL_)),
    /no PEM/,
  );
});
