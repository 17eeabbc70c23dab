/**
 * The ACME account (RFC 8555 §7.3): an ES256 key kept in `--acme-dir` (mode 0600) per CA, and the
 * account URL (`kid`) that the CA returns for it. `newAccount` with a known key returns the existing
 * account, so each start asks again rather than trusting a stored URL.
 *
 * @module
 */

import type { AcmeClient } from "./client.ts";
import { type AccountKey, generateKey, importKeyPem, privateKeyPem } from "./jws.ts";
import type { AcmeStorage } from "./storage.ts";

/** An account ready to sign requests. */
export interface Account {
  /** Its key. */
  key: AccountKey;
  /** Its URL, the `kid` of every later request. */
  kid: string;
}

/**
 * Loads (or makes and stores) the account key for the client's CA and registers it.
 *
 * @example
 * ```ts ignore
 * const account = await ensureAccount(client, storage, "ops@example.org");
 * ```
 */
export async function ensureAccount(
  client: AcmeClient,
  storage: AcmeStorage,
  email: string,
): Promise<Account> {
  const path = storage.accountKeyPath(client.directoryUrl);
  const pem = await storage.readText(path);
  let key: AccountKey;
  if (pem !== undefined) key = await importKeyPem(pem);
  else {
    key = await generateKey();
    await storage.writeText(path, await privateKeyPem(key.privateKey), 0o600);
  }
  const dir = await client.directory();
  const res = await client.post(
    dir.newAccount,
    {
      termsOfServiceAgreed: true,
      ...(email !== "" ? { contact: [`mailto:${email}`] } : {}),
    },
    key,
    { jwk: true },
  );
  const kid = res.headers.get("location");
  if (kid === null) throw new Error(`the ACME server gave no account URL (Location) at ${dir.newAccount}`);
  return { key, kid };
}
