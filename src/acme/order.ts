/**
 * One certificate from an order (RFC 8555 §7.4–7.5): new order → each authorization's http-01
 * challenge answered (published in storage for the plain listener) → the authorization polled
 * until valid → finalize with a CSR → the order polled until valid → the chain downloaded.
 * Polling follows `Retry-After`. Nothing here checks reachability first: the CA's validation is
 * the check.
 *
 * @module
 */

import { type AcmeClient, retryAfterSeconds } from "./client.ts";
import type { Account } from "./account.ts";
import { thumbprint } from "./jws.ts";
import { makeCsr } from "./csr.ts";
import { AcmeProblem, type ProblemDocument } from "./problem.ts";
import type { AcmeStorage, StoredCertificate } from "./storage.ts";
import { checkIssuedChain } from "./issued_chain.ts";

interface OrderObject {
  status: string;
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: ProblemDocument;
}

interface Challenge {
  type: string;
  url: string;
  token: string;
  status: string;
  error?: ProblemDocument;
}

interface Authorization {
  status: string;
  identifier: { type: string; value: string };
  challenges: Challenge[];
}

/** Longest wait for one authorization or for the order to be ready. */
const POLL_LIMIT_MS = 5 * 60_000;

/** Options of {@linkcode orderCertificate}. */
export interface OrderOptions {
  /** The CA. */
  client: AcmeClient;
  /** The registered account. */
  account: Account;
  /** Where answers are published and nothing else (the caller stores the result). */
  storage: AcmeStorage;
  /** Called with each step, for the debug log. */
  step?: (what: string) => void;
}

/**
 * Orders and downloads a certificate for `names`; throws {@linkcode AcmeProblem} with the CA's
 * problem (the failed challenge's when validation failed).
 *
 * @example
 * ```ts ignore
 * const { cert, key } = await orderCertificate(["example.org"], { client, account, storage });
 * ```
 */
export async function orderCertificate(names: string[], o: OrderOptions): Promise<StoredCertificate> {
  const { client, account } = o;
  const who = { kid: account.kid };
  const dir = await client.directory(0); // fresh for each order
  const created = await client.post(
    dir.newOrder,
    {
      identifiers: names.map((value) => ({ type: "dns", value })),
    },
    account.key,
    who,
  );
  const orderUrl = created.headers.get("location");
  if (orderUrl === null) throw new Error(`the ACME server gave no order URL at ${dir.newOrder}`);
  let order = created.body as OrderObject;
  o.step?.(`order ${orderUrl}`);
  const thumb = await thumbprint(account.key);
  const tokens: string[] = [];
  try {
    for (const authzUrl of order.authorizations) {
      let authz = (await client.post(authzUrl, undefined, account.key, who)).body as Authorization;
      if (authz.status === "valid") continue;
      const ch = authz.challenges.find((c) => c.type === "http-01");
      if (ch === undefined) {
        throw new Error(`the CA offers no http-01 challenge for ${authz.identifier.value}`);
      }
      await o.storage.writeChallenge(ch.token, `${ch.token}.${thumb}`);
      tokens.push(ch.token);
      await client.post(ch.url, {}, account.key, who);
      o.step?.(`challenge ${ch.url} for ${authz.identifier.value}`);
      const give = Date.now() + POLL_LIMIT_MS;
      for (;;) {
        const res = await client.post(authzUrl, undefined, account.key, who);
        authz = res.body as Authorization;
        if (authz.status === "valid") break;
        if (authz.status !== "pending" && authz.status !== "processing") {
          const failed = authz.challenges.find((c) => c.type === "http-01");
          throw new AcmeProblem(
            failed?.error ?? { type: "about:blank", detail: `authorization is ${authz.status}` },
            0,
            `validation of ${authz.identifier.value} failed`,
          );
        }
        if (Date.now() > give) {
          throw new Error(`the CA did not validate ${authz.identifier.value} in 5 minutes`);
        }
        await sleep(retryAfterSeconds(res.headers.get("retry-after"), 1, 0.2, 30));
      }
    }
  } finally {
    for (const t of tokens) await o.storage.removeChallenge(t);
  }
  const { csr, keyPem } = await makeCsr(names);
  let res = await client.post(order.finalize, { csr }, account.key, who);
  order = res.body as OrderObject;
  const give = Date.now() + POLL_LIMIT_MS;
  while (order.status !== "valid") {
    if (order.status === "invalid") {
      throw new AcmeProblem(order.error ?? { detail: "order is invalid" }, 0, `order for ${names.join(",")}`);
    }
    if (Date.now() > give) throw new Error(`the CA did not issue for ${names.join(",")} in 5 minutes`);
    await sleep(retryAfterSeconds(res.headers.get("retry-after"), 1, 0.2, 30));
    res = await client.post(orderUrl, undefined, account.key, who);
    order = res.body as OrderObject;
  }
  if (order.certificate === undefined) throw new Error(`the valid order ${orderUrl} names no certificate`);
  const chain = await client.post(
    order.certificate,
    undefined,
    account.key,
    who,
    "application/pem-certificate-chain",
  );
  const cert = String(chain.body);
  const issued = { cert: cert.endsWith("\n") ? cert : cert + "\n", key: keyPem };
  // Nothing from the CA is trusted: the chain must parse, match this key, cover the names and load.
  checkIssuedChain(names, issued, order.certificate);
  o.step?.(`certificate ${order.certificate}`);
  return issued;
}

function sleep(seconds: number): Promise<void> {
  return new Promise((r) => setTimeout(r, seconds * 1000));
}
