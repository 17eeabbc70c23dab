/**
 * The certificate signing request sent at finalize (RFC 8555 §7.4, RFC 2986): a fresh ECDSA
 * P-256 key per certificate, the name as subject and as the only subjectAltName, made with
 * `@peculiar/x509` on WebCrypto.
 *
 * @module
 */

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { b64url, privateKeyPem } from "./jws.ts";

x509.cryptoProvider.set(crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A CSR (base64url DER, as finalize takes it) and the PEM of its private key. */
export interface CertificateRequest {
  /** base64url of the DER CSR. */
  csr: string;
  /** PKCS #8 PEM of the certificate's private key. */
  keyPem: string;
}

/**
 * Makes a key and a CSR for `names` (the first is the subject's common name).
 *
 * @example
 * ```ts ignore
 * const { csr, keyPem } = await makeCsr(["example.org"]);
 * ```
 */
export async function makeCsr(names: string[]): Promise<CertificateRequest> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${names[0]}`,
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value }))),
    ],
  });
  return { csr: b64url(new Uint8Array(req.rawData)), keyPem: await privateKeyPem(keys.privateKey) };
}

/** What ferry needs to know of an issued chain. */
export interface ChainFacts {
  /** The leaf's expiry. */
  notAfter: Date;
  /** The leaf's issuer, as its common name (or the whole DN). */
  issuer: string;
  /** The leaf's serial number, hex. */
  serial: string;
}

/**
 * Reads the leaf of a PEM chain.
 *
 * @example
 * ```ts ignore
 * const { notAfter, issuer } = chainFacts(pem);
 * ```
 */
export function chainFacts(pem: string): ChainFacts {
  const leaf = new x509.X509Certificate(pem);
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(leaf.issuer);
  return { notAfter: leaf.notAfter, issuer: cn ? cn[1] : leaf.issuer, serial: leaf.serialNumber };
}
