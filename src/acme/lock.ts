/**
 * A lock file with an expiry, so that of several ferry processes sharing `--acme-dir` one orders
 * a name while the others wait and then load what it stored (as Caddy's storage locks do). The
 * holder refreshes the expiry while it works; a holder that died leaves a lock that expires.
 *
 * @module
 */

import { dirname } from "path";

/** What a lock file holds. */
interface LockBody {
  /** Who holds it (random per process). */
  owner: string;
  /** Milliseconds since the epoch after which the lock is void. */
  expires: number;
}

/** This process's identity in lock files. */
const SELF = `${Deno.pid}-${crypto.randomUUID()}`;

/**
 * A held lock; {@linkcode FileLock.release} gives it back.
 *
 * @example
 * ```ts ignore
 * const lock = await FileLock.acquire("certs/acme/locks/example.org.lock", 120_000);
 * if (lock) try { await order(); } finally { await lock.release(); }
 * ```
 */
export class FileLock {
  readonly #path: string;
  readonly #ttl: number;
  #timer: ReturnType<typeof setInterval>;

  private constructor(path: string, ttl: number) {
    this.#path = path;
    this.#ttl = ttl;
    this.#timer = setInterval(() => this.#write(false).catch(() => {}), Math.max(1000, ttl / 3));
  }

  async #write(createNew: boolean): Promise<void> {
    const body: LockBody = { owner: SELF, expires: Date.now() + this.#ttl };
    await Deno.writeTextFile(this.#path, JSON.stringify(body), { createNew });
  }

  /**
   * Takes the lock at `path` for `ttlMs` (kept fresh while held), or resolves undefined when a
   * live holder has it. An expired or unreadable lock is broken.
   */
  static async acquire(path: string, ttlMs: number): Promise<FileLock | undefined> {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const body: LockBody = { owner: SELF, expires: Date.now() + ttlMs };
        await Deno.writeTextFile(path, JSON.stringify(body), { createNew: true });
        return new FileLock(path, ttlMs);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      let held: LockBody | undefined;
      try {
        held = JSON.parse(await Deno.readTextFile(path));
      } catch {
        // half written by its holder, or just removed: look again
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (held !== undefined && held.expires > Date.now()) return undefined;
      // Expired: break it. Two breakers race to remove; createNew above picks one winner.
      await Deno.remove(path).catch(() => {});
    }
    return undefined;
  }

  /** Whether a live lock is at `path` now. */
  static async held(path: string): Promise<boolean> {
    try {
      const body = JSON.parse(await Deno.readTextFile(path)) as LockBody;
      return body.expires > Date.now();
    } catch {
      return false;
    }
  }

  /** Gives the lock back. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    await Deno.remove(this.#path).catch(() => {});
  }
}
