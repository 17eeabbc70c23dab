/**
 * Automatic HTTPS's scheduler: one issuer per process (shared by `--workers`), one loop per name,
 * so that a failing name never holds the others back. Each loop loads what `--acme-dir` holds,
 * orders when the name has no certificate or it expires within `--acme-renew-before` days (checked
 * at start and then in the background), stores the result before it counts as done, and hands it
 * to the listeners. A failed order (the CA's problem, a response over 1 MiB, an issued chain that
 * does not match the key ferry made or the names: `issued_chain.ts`) keeps the previous
 * certificate, is counted, logged with the CA's directory URL (and the CA's problem type and detail
 * as sent) and retried with exponential back-off (10 s, 20 s, 40 s, … up to 6 h).
 *
 * Instances sharing `--acme-dir` take a per-name lock file before ordering; one that finds the
 * lock held waits for it to go and then loads what the holder stored.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { AcmeClient } from "./client.ts";
import { type Account, ensureAccount } from "./account.ts";
import { orderCertificate } from "./order.ts";
import { chainFacts } from "./csr.ts";
import { AcmeProblem } from "./problem.ts";
import { AcmeStorage, type StoredCertificate } from "./storage.ts";
import { FileLock } from "./lock.ts";
import type { AcmeNameStatus } from "./metrics.ts";

export { LETS_ENCRYPT, LETS_ENCRYPT_STAGING } from "./acme_options.ts";

/** The automatic-HTTPS settings (`--acme-*`). */
export interface AcmeConfig {
  /** Names to obtain certificates for (lower case). */
  domains: string[];
  /** Account contact; "" for none. @default {""} */
  email: string;
  /** The CA's directory URL. @default {LETS_ENCRYPT} */
  directory: string;
  /** PEM roots for the CA's own HTTPS (contents, not a path). @default {[]} */
  caCerts: string[];
  /** Where keys and certificates are kept. @default {"./certs/acme"} */
  dir: string;
  /** Renew when a certificate expires within this many days. @default {30} */
  renewBeforeDays: number;
}

/** Where the issuer reports to. */
export interface IssuerEvents {
  /** A name has a (new) certificate: serve it. */
  certificate(name: string, stored: StoredCertificate): void | Promise<void>;
  /** The per-name status changed. */
  status?(list: AcmeNameStatus[]): void;
  /** Log lines. */
  log(level: "debug" | "info" | "error", message: string, fields?: Record<string, unknown>): void;
}

/** First retry after a failed order, then doubling. */
const BACKOFF_FIRST_MS = 10_000;
const BACKOFF_MAX_MS = 6 * 3600_000;
/** Background checks: at least this far apart per name, and at most. */
const CHECK_MIN_MS = 3600_000;
const CHECK_MAX_MS = 12 * 3600_000;
/** A lock's life, kept fresh while its holder orders. */
const LOCK_TTL_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Obtains and renews certificates for the configured names.
 *
 * @example
 * ```ts ignore
 * const issuer = new AcmeIssuer(config, { certificate: (n, c) => server.setCertificate(n, c), log });
 * await issuer.loadStored();
 * issuer.start();
 * ```
 */
export class AcmeIssuer {
  /** The settings. */
  readonly config: AcmeConfig;
  /** The storage. */
  readonly storage: AcmeStorage;
  readonly #client: AcmeClient;
  #events: IssuerEvents;
  #served = new Map<string, StoredCertificate>();
  #account: Promise<Account> | undefined;
  #status = new Map<string, AcmeNameStatus>();
  #serials = new Map<string, string>();
  #wakers = new Set<() => void>();
  #stopped = false;
  #loops: Promise<void>[] = [];

  /** An issuer that has not loaded or ordered anything yet. */
  constructor(config: AcmeConfig, events: IssuerEvents) {
    this.config = config;
    this.storage = new AcmeStorage(config.dir);
    this.#events = events;
    this.#client = new AcmeClient(config.directory, {
      caCerts: config.caCerts,
      onBadNonce: (url) =>
        this.#events.log("info", "acme: the CA rejected a nonce (badNonce); retrying with the one it sent", {
          url,
        }),
    });
    for (const name of config.domains) {
      this.#status.set(name, {
        name,
        issuer: "self-signed",
        notAfter: 0,
        orders: 0,
        renewals: 0,
        failures: 0,
        lastError: "",
      });
    }
  }

  /** Per-name state, in the configured order. */
  get status(): AcmeNameStatus[] {
    return [...this.#status.values()].map((s) => ({ ...s }));
  }

  /** Sends what happens from now on to `events` instead (`--workers`: to the worker isolates). */
  listen(events: IssuerEvents): void {
    this.#events = events;
  }

  /** The certificate served for each name that has one. */
  served(): Map<string, StoredCertificate> {
    return new Map(this.#served);
  }

  /** `badNonce` rejections retried so far. */
  get badNonces(): number {
    return this.#client.badNonces;
  }

  /** Loads and serves every stored certificate that is usable (whether or not it is due). */
  async loadStored(): Promise<void> {
    for (const name of this.config.domains) {
      const stored = await this.#readUsable(name);
      if (stored !== undefined) await this.#adopt(name, stored);
    }
  }

  /** Starts one loop per name. */
  start(): void {
    for (const name of this.config.domains) this.#loops.push(this.#run(name));
  }

  /** Stops the loops (an order in flight finishes in the background). */
  stop(): void {
    this.#stopped = true;
    for (const wake of this.#wakers) wake();
    this.#client.close();
  }

  async #run(name: string): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      let wait: number;
      try {
        await this.#ensure(name);
        failures = 0;
        wait = this.#nextCheck(name);
      } catch (e) {
        failures++;
        const s = this.#status.get(name)!;
        s.failures++;
        wait = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (failures - 1));
        const fields: Record<string, unknown> = {
          name,
          ca: this.config.directory,
          attempt: failures,
          retryInSeconds: wait / 1000,
        };
        if (e instanceof AcmeProblem) {
          fields.type = e.type;
          fields.detail = e.detail;
          s.lastError = `${e.type}: ${e.detail}`;
        } else {
          fields.error = e instanceof Error ? e.message : String(e);
          s.lastError = String(fields.error);
        }
        this.#events.log("error", `acme: certificate for ${name} failed, retrying`, fields);
        this.#publishStatus();
      }
      await this.#sleep(wait);
    }
  }

  /** When to look at `name` again: when it falls due, but between 1 h and 12 h from now. */
  #nextCheck(name: string): number {
    const s = this.#status.get(name)!;
    const due = s.notAfter - this.config.renewBeforeDays * DAY_MS - Date.now();
    return Math.min(CHECK_MAX_MS, Math.max(CHECK_MIN_MS, due));
  }

  #due(stored: StoredCertificate): boolean {
    const { notAfter } = chainFacts(stored.cert);
    return notAfter.getTime() - this.config.renewBeforeDays * DAY_MS <= Date.now();
  }

  /** Makes sure `name` is served a certificate that is not due; orders one if need be. */
  async #ensure(name: string): Promise<void> {
    for (;;) {
      const stored = await this.#readUsable(name);
      if (stored !== undefined && !this.#due(stored)) {
        await this.#adopt(name, stored);
        return;
      }
      const lock = await FileLock.acquire(this.storage.lockPath(name), LOCK_TTL_MS);
      if (lock === undefined) {
        // Another instance is ordering this name: wait for it, then load what it stored.
        this.#events.log("info", `acme: another instance is ordering ${name}; waiting for it`, { name });
        while (!this.#stopped && await FileLock.held(this.storage.lockPath(name))) await this.#sleep(500);
        if (this.#stopped) return;
        const after = await this.#readUsable(name);
        if (after !== undefined && !this.#due(after)) {
          await this.#adopt(name, after);
          return;
        }
        continue;
      }
      try {
        // Stored meanwhile by an instance that held the lock just before?
        const again = await this.#readUsable(name);
        if (again !== undefined && !this.#due(again) && again.cert !== stored?.cert) {
          await this.#adopt(name, again);
          return;
        }
        const renewal = again !== undefined;
        this.#events.log("info", `acme: ordering a certificate for ${name}`, {
          name,
          directory: this.config.directory,
          renewal,
        });
        const account = await this.#ensureAccount();
        const issued = await orderCertificate([name], {
          client: this.#client,
          account,
          storage: this.storage,
          step: (what) => this.#events.log("debug", `acme: ${name}: ${what}`),
        });
        // Stored before it counts: a stop right after issuance loses nothing.
        await this.storage.writeCertificate(name, issued);
        const s = this.#status.get(name)!;
        s.orders++;
        if (renewal) s.renewals++;
        s.lastError = "";
        await this.#adopt(name, issued);
        return;
      } finally {
        await lock.release();
      }
    }
  }

  #ensureAccount(): Promise<Account> {
    if (this.#account === undefined) {
      this.#account = ensureAccount(this.#client, this.storage, this.config.email);
      this.#account.catch(() => this.#account = undefined);
    }
    return this.#account;
  }

  /** The stored pair when its key matches and it covers `name`; undefined otherwise. */
  async #readUsable(name: string): Promise<StoredCertificate | undefined> {
    const stored = await this.storage.readCertificate(name);
    if (stored === undefined) return undefined;
    try {
      const leaf = new X509Certificate(stored.cert);
      if (!leaf.checkPrivateKey(createPrivateKey(stored.key))) {
        return undefined; // caught between the key and the chain being written: read again later
      }
      if (leaf.checkHost(name) === undefined) return undefined;
      if (new Date(leaf.validTo).getTime() <= Date.now()) return undefined;
      return stored;
    } catch {
      return undefined;
    }
  }

  async #adopt(name: string, stored: StoredCertificate): Promise<void> {
    const facts = chainFacts(stored.cert);
    const s = this.#status.get(name)!;
    s.issuer = facts.issuer;
    s.notAfter = facts.notAfter.getTime();
    if (this.#serials.get(name) === facts.serial) return;
    const first = !this.#serials.has(name);
    this.#serials.set(name, facts.serial);
    this.#served.set(name, stored);
    await this.#events.certificate(name, stored);
    this.#events.log("info", `acme: serving ${first ? "" : "a new "}certificate for ${name}`, {
      name,
      issuer: facts.issuer,
      notAfter: facts.notAfter.toISOString(),
      serial: facts.serial,
    });
    this.#publishStatus();
  }

  #publishStatus(): void {
    this.#events.status?.(this.status);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
