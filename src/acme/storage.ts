/**
 * What automatic HTTPS keeps in `--acme-dir`: the account key of each CA, each name's certificate
 * chain and key, the http-01 answers being validated, and the per-name lock files. Everything is
 * written to a temporary file and renamed into place; private keys are mode 0600.
 *
 * Layout: `accounts/HOST.key`, `certs/NAME/cert.pem` + `key.pem`, `challenges/TOKEN`,
 * `locks/NAME.lock`. Several ferry processes (and `--workers`) share one directory: an answer
 * written by the instance that ordered is served by whichever instance the CA reaches.
 *
 * @module
 */

import { dirname, join } from "path";

/** A name's certificate chain (leaf first) and its private key, PEM. */
export interface StoredCertificate {
  /** The chain, leaf first. */
  cert: string;
  /** The private key. */
  key: string;
}

/** The token alphabet (base64url, RFC 8555 §8.3). */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
/** What may name a directory here: a DNS name, lower case. */
const NAME = /^[a-z0-9*]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/**
 * `--acme-dir` on disk.
 *
 * @example
 * ```ts ignore
 * const store = new AcmeStorage("./certs/acme");
 * const stored = await store.readCertificate("example.org");
 * ```
 */
export class AcmeStorage {
  /** The directory. */
  readonly dir: string;

  /** Storage rooted at `dir`. */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** Path of a name's directory. */
  certDir(name: string): string {
    if (!NAME.test(name) || name.includes("..")) throw new RangeError(`not a domain name: ${name}`);
    return join(this.dir, "certs", name);
  }

  /** The account key file for a CA. */
  accountKeyPath(directoryUrl: string): string {
    const u = new URL(directoryUrl);
    return join(this.dir, "accounts", `${u.hostname}${u.port ? "_" + u.port : ""}.key`);
  }

  /** The lock file of a name. */
  lockPath(name: string): string {
    this.certDir(name);
    return join(this.dir, "locks", `${name}.lock`);
  }

  /** A name's stored certificate and key, or undefined. */
  async readCertificate(name: string): Promise<StoredCertificate | undefined> {
    const dir = this.certDir(name);
    try {
      return {
        cert: await Deno.readTextFile(join(dir, "cert.pem")),
        key: await Deno.readTextFile(join(dir, "key.pem")),
      };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /**
   * Stores a name's chain and key: the key first, so that a reader who sees the new chain finds its
   * key (a reader checks the pair and retries on a mismatch).
   */
  async writeCertificate(name: string, stored: StoredCertificate): Promise<void> {
    const dir = this.certDir(name);
    await writeAtomic(join(dir, "key.pem"), stored.key, 0o600);
    await writeAtomic(join(dir, "cert.pem"), stored.cert, 0o644);
  }

  /** Reads a file, or undefined when it is absent. */
  async readText(path: string): Promise<string | undefined> {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** Writes a file atomically with `mode`. */
  writeText(path: string, text: string, mode: number): Promise<void> {
    return writeAtomic(path, text, mode);
  }

  /** Publishes an http-01 answer. */
  async writeChallenge(token: string, keyAuthorization: string): Promise<void> {
    if (!TOKEN.test(token)) throw new RangeError(`the CA sent a token outside base64url: ${token}`);
    await writeAtomic(join(this.dir, "challenges", token), keyAuthorization, 0o644);
  }

  /** Withdraws an http-01 answer. */
  async removeChallenge(token: string): Promise<void> {
    if (!TOKEN.test(token)) return;
    await Deno.remove(join(this.dir, "challenges", token)).catch(() => {});
  }

  /** The answer for `token`, or undefined (unknown token, or not a token at all). */
  async readChallenge(token: string): Promise<string | undefined> {
    if (!TOKEN.test(token)) return undefined;
    try {
      return await Deno.readTextFile(join(this.dir, "challenges", token));
    } catch {
      return undefined;
    }
  }
}

/** Writes `text` to a temporary file beside `path` (creating the directory), then renames it. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(tmp, text, { mode, createNew: true });
    await Deno.chmod(tmp, mode);
    const f = await Deno.open(tmp, { read: true });
    try {
      await f.syncData();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
