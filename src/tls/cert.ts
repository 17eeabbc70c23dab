/**
 * Certificates for the HTTPS listener: the user's own (`--cert`, `--key`), or a self-signed one
 * for localhost that ferry makes on first start with WebCrypto and `@peculiar/x509` (no openssl
 * binary needed) and reuses until it nears expiry.
 *
 * @module
 */

import "reflect-metadata"; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from "@peculiar/x509";
import { dirname, join } from "path";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import type { Buffer } from "node:buffer";
import type { TlsMaterial } from "./material.ts";

x509.cryptoProvider.set(crypto);

/** Where the certificate comes from. */
export interface CertificateOptions {
  /**
   * PEM certificate chain file; with {@linkcode CertificateOptions.key}. Empty: use or make the
   * self-signed localhost certificate in `certDir`.
   * @default {""}
   */
  cert?: string;
  /**
   * PEM private key file.
   * @default {""}
   */
  key?: string;
  /**
   * Directory of the self-signed certificate.
   * @default {"./certs"}
   */
  certDir?: string;
}

/** A loaded certificate and what is known of it. */
export interface LoadedCertificate {
  /** The PEM texts. */
  material: TlsMaterial;
  /** Certificate file. */
  certPath: string;
  /** Key file. */
  keyPath: string;
  /** Whether it is ferry's self-signed localhost certificate. */
  selfSigned: boolean;
  /** Whether it was made just now. */
  created: boolean;
  /** When it expires. */
  notAfter: Date;
}

/** File names of the self-signed certificate inside `certDir`. */
export const SELF_SIGNED_CERT = "localhost-cert.pem";
/** File name of its key. */
export const SELF_SIGNED_KEY = "localhost-key.pem";

/** A self-signed certificate is remade when it has less than this left. */
const RENEW_BEFORE_MS = 24 * 3600 * 1000;
const VALID_DAYS = 365;

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new TypeError(`cannot read ${flag} ${path}: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * Checks that `material` holds a PEM certificate and a PEM private key that belong together;
 * throws `TypeError` naming the file at fault.
 *
 * @example
 * ```ts ignore
 * checkPair({ cert, key }, "cert.pem", "key.pem");
 * ```
 */
export function checkPair(material: TlsMaterial, certPath: string, keyPath: string): void {
  let certKey: Buffer;
  try {
    certKey = new X509Certificate(material.cert).publicKey.export({ type: "spki", format: "der" });
  } catch (e) {
    throw new TypeError(
      `--cert ${certPath} is not a PEM certificate (${e instanceof Error ? e.message : e})`,
    );
  }
  let ownKey: Buffer;
  try {
    ownKey = createPublicKey(createPrivateKey(material.key)).export({ type: "spki", format: "der" });
  } catch (e) {
    throw new TypeError(`--key ${keyPath} is not a PEM private key (${e instanceof Error ? e.message : e})`);
  }
  if (!certKey.equals(ownKey)) {
    throw new TypeError(`--key ${keyPath} does not belong to --cert ${certPath}: they are not a pair`);
  }
}

/**
 * Loads the configured certificate, or the self-signed one, making it when it is missing or
 * expiring. Throws `TypeError` naming the flag and file when only one of cert and key is given, a file
 * cannot be read, or they are not a PEM certificate and its private key.
 *
 * @example
 * ```ts ignore
 * const { material, certPath } = await loadCertificate({ certDir: "./certs" });
 * ```
 */
export async function loadCertificate(options: CertificateOptions = {}): Promise<LoadedCertificate> {
  const cert = options.cert ?? "";
  const key = options.key ?? "";
  if ((cert === "") !== (key === "")) {
    throw new TypeError("--cert and --key go together: give both or neither");
  }
  if (cert !== "") {
    const material = { cert: await readPem(cert, "--cert"), key: await readPem(key, "--key") };
    checkPair(material, cert, key);
    return {
      material,
      certPath: cert,
      keyPath: key,
      selfSigned: false,
      created: false,
      notAfter: notAfter(material.cert),
    };
  }
  const dir = options.certDir ?? "./certs";
  const certPath = join(dir, SELF_SIGNED_CERT);
  const keyPath = join(dir, SELF_SIGNED_KEY);
  try {
    const material = { cert: await Deno.readTextFile(certPath), key: await Deno.readTextFile(keyPath) };
    const expires = notAfter(material.cert);
    if (expires.getTime() - Date.now() > RENEW_BEFORE_MS) {
      return { material, certPath, keyPath, selfSigned: true, created: false, notAfter: expires };
    }
  } catch {
    // missing, or not a certificate: make a new one
  }
  const made = await makeSelfSigned();
  await Deno.mkdir(dir, { recursive: true });
  await writeAtomic(keyPath, made.key, 0o600);
  await writeAtomic(certPath, made.cert, 0o644);
  return {
    material: made,
    certPath,
    keyPath,
    selfSigned: true,
    created: true,
    notAfter: notAfter(made.cert),
  };
}

/** The expiry of the first certificate in a PEM text. */
export function notAfter(pem: string): Date {
  return new x509.X509Certificate(pem).notAfter;
}

/**
 * Makes an ECDSA P-256 certificate for `localhost`, `127.0.0.1` and `::1` (or for `names`, a
 * config site's hosts), signed by its own key.
 */
export async function makeSelfSigned(names: readonly string[] = []): Promise<TlsMaterial> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const serial = Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("").replace(/^[89a-f]/, "1"); // positive
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: `CN=${names[0] ?? "localhost"}, O=ferry self-signed`,
    notBefore: new Date(now - 3600 * 1000),
    notAfter: new Date(now + VALID_DAYS * 24 * 3600 * 1000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.length > 0 ? names.map((value) => ({ type: "dns" as const, value })) : [
          { type: "dns", value: "localhost" },
          { type: "ip", value: "127.0.0.1" },
          { type: "ip", value: "::1" },
        ],
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  let bin = "";
  for (const b of pkcs8) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return {
    cert: certificate.toString("pem") + "\n",
    key: `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`,
  };
}

/** Writes `text` to a temporary file beside `path`, then renames it over `path`. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(tmp, text, { mode, createNew: true });
    await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
