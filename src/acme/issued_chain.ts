/**
 * Trusting nothing the CA issues until it is checked: the chain parses (PEM, each certificate in
 * turn signed by the next), its leaf carries the public key of the key ferry made for the order,
 * covers every name of the order and is valid now, and the pair loads into a TLS listener. Only
 * then is it stored and served; a chain that fails keeps the previous certificate in place.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import type { StoredCertificate } from "./storage.ts";

/** Why an issued chain was refused. */
export class IssuedChainRejected extends Error {
  /** The certificate's URL at the CA and what is wrong. */
  constructor(url: string, problem: string) {
    super(`the certificate the CA issued at ${url} was refused: ${problem}; the previous certificate stays`);
    this.name = "IssuedChainRejected";
  }
}

/** The PEM blocks of a chain, in order. */
function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Checks an issued pair for `names` (downloaded from `url`); throws {@linkcode IssuedChainRejected}
 * naming what is wrong.
 *
 * @example
 * ```ts ignore
 * checkIssuedChain(["example.org"], { cert, key }, order.certificate);
 * ```
 */
export function checkIssuedChain(names: string[], issued: StoredCertificate, url: string): void {
  const blocks = pemBlocks(issued.cert);
  if (blocks.length === 0) throw new IssuedChainRejected(url, "it holds no PEM certificate");
  let chain: X509Certificate[];
  try {
    chain = blocks.map((b) => new X509Certificate(b));
  } catch (e) {
    throw new IssuedChainRejected(
      url,
      `a certificate of the chain does not parse (${e instanceof Error ? e.message : e})`,
    );
  }
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(createPrivateKey(issued.key))) {
    throw new IssuedChainRejected(
      url,
      "its leaf's public key is not the one of the key ferry made for this order",
    );
  }
  for (const name of names) {
    if (leaf.checkHost(name, { wildcards: false }) === undefined) {
      throw new IssuedChainRejected(
        url,
        `its leaf does not cover ${name} (it names ${leaf.subjectAltName ?? leaf.subject})`,
      );
    }
  }
  const now = Date.now();
  if (new Date(leaf.validTo).getTime() <= now || new Date(leaf.validFrom).getTime() > now + 86_400_000) {
    throw new IssuedChainRejected(url, `its leaf is not valid now (${leaf.validFrom} to ${leaf.validTo})`);
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
      throw new IssuedChainRejected(
        url,
        `certificate ${i + 1} of the chain is not signed by certificate ${i + 2}`,
      );
    }
  }
  try {
    // The TLS stack's own check: the pair must load, as the listener will load it.
    Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: issued.cert, key: issued.key }).close();
  } catch (e) {
    throw new IssuedChainRejected(
      url,
      `the pair does not load into a TLS listener (${e instanceof Error ? e.message : e})`,
    );
  }
}
