/**
 * JSON Web Signatures for ACME (RFC 8555 §6.2, RFC 7515): ES256 on WebCrypto. ECDSA P-256 with
 * SHA-256 in WebCrypto signs in the IEEE P1363 form (r ‖ s), which is exactly JWS's ES256 form.
 *
 * @module
 */

/** An ES256 key pair, as WebCrypto holds it. */
export type AccountKey = CryptoKeyPair;

const ES256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

/** base64url without padding (RFC 7515 §2). */
export function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A new extractable ES256 key pair. */
export async function generateKey(): Promise<AccountKey> {
  return await crypto.subtle.generateKey(ES256, true, ["sign", "verify"]) as CryptoKeyPair;
}

/** The public JWK of a key, members in the lexical order the thumbprint needs (RFC 7638 §3.2). */
export async function publicJwk(
  key: AccountKey,
): Promise<{ crv: string; kty: string; x: string; y: string }> {
  const jwk = await crypto.subtle.exportKey("jwk", key.publicKey);
  return { crv: jwk.crv!, kty: jwk.kty!, x: jwk.x!, y: jwk.y! };
}

/**
 * The key's JWK thumbprint (RFC 7638), the second half of an http-01 key authorization.
 *
 * @example
 * ```ts ignore
 * const keyAuthorization = `${token}.${await thumbprint(key)}`;
 * ```
 */
export async function thumbprint(key: AccountKey): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(JSON.stringify(await publicJwk(key))),
  );
  return b64url(new Uint8Array(digest));
}

/** The protected header of an ACME request: the key itself (new account) or the account URL. */
export type JwsIdentity = { jwk: true } | { kid: string };

/** A flattened JWS (RFC 7515 §7.2.2), the body of every ACME POST. */
export interface FlattenedJws {
  /** base64url of the protected header. */
  protected: string;
  /** base64url of the payload; empty for POST-as-GET. */
  payload: string;
  /** base64url of the signature. */
  signature: string;
}

/**
 * Signs `payload` (undefined: POST-as-GET, an empty payload) for `url` with `nonce`.
 *
 * @example
 * ```ts ignore
 * const body = await signJws(key, { kid }, url, nonce, { termsOfServiceAgreed: true });
 * ```
 */
export async function signJws(
  key: AccountKey,
  who: JwsIdentity,
  url: string,
  nonce: string,
  payload: unknown,
): Promise<FlattenedJws> {
  const header = "kid" in who
    ? { alg: "ES256", kid: who.kid, nonce, url }
    : { alg: "ES256", jwk: await publicJwk(key), nonce, url };
  const prot = b64url(JSON.stringify(header));
  const body = payload === undefined ? "" : b64url(JSON.stringify(payload));
  const sig = await crypto.subtle.sign(SIGN, key.privateKey, new TextEncoder().encode(`${prot}.${body}`));
  return { protected: prot, payload: body, signature: b64url(new Uint8Array(sig)) };
}

/** PKCS #8 PEM of a private key. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  const b64 = b64url(der).replace(/-/g, "+").replace(/_/g, "/");
  const padded = b64 + "=".repeat((4 - b64.length % 4) % 4);
  return `-----BEGIN PRIVATE KEY-----\n${
    padded.replace(/.{64}/g, "$&\n").replace(/\n$/, "")
  }\n-----END PRIVATE KEY-----\n`;
}

/** An ES256 key pair from the PKCS #8 PEM that {@linkcode privateKeyPem} wrote. */
export async function importKeyPem(pem: string): Promise<AccountKey> {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const privateKey = await crypto.subtle.importKey("pkcs8", der, ES256, true, ["sign"]);
  // WebCrypto derives no public key from a private one; the JWK form carries both halves.
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true },
    ES256,
    true,
    ["verify"],
  );
  return { privateKey, publicKey };
}
