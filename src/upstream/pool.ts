/**
 * An upstream pool: its targets and what is known of each (active health, recent failures,
 * requests in flight, idle kept-alive connections), the policy that picks one for a request,
 * and the connections themselves (reused when idle, opened within the connect timeout).
 *
 * @module
 */

import { bump, type Stats } from "../stats.ts";
import { type TargetAddress, targetName } from "./target.ts";
import type { UpstreamSettings } from "./upstream_config.ts";
import { UpstreamConn } from "./upstream_conn.ts";
import { turnMono } from "../net/clock.ts";

/** The pools open now: a pool joins when made and leaves when closed (the admin API lists them). */
export const OPEN_POOLS: Set<Pool> = new Set();

/** One target of a pool and its state. */
export class Target {
  /** Its address. */
  readonly address: TargetAddress;
  /** Its name (`127.0.0.1:9001`, `unix//run/app.sock`). */
  readonly name: string;
  /** The metrics key, `POOL TARGET`. */
  readonly key: string;
  /** What the last active check found (true until a check fails). */
  healthy = true;
  /** Requests in flight. */
  active = 0;
  /** Requests sent to it. */
  requests = 0;
  /** Failures (connect, reset, timeout, bad framing). */
  fails = 0;
  /** When its recent failures happened (`performance.now()`), oldest first. */
  failTimes: number[] = [];
  /** Idle connections, most recent last. */
  idle: UpstreamConn[] = [];

  /** A target of pool `pool` at `address`. */
  constructor(pool: string, address: TargetAddress) {
    this.address = address;
    this.name = targetName(address);
    this.key = `${pool} ${this.name}`;
  }
}

/** Why a connection to a target could not be made. */
export class ConnectError extends Error {
  /** Whether the connect timed out (else it was refused or failed). */
  readonly timedOut: boolean;
  /** An error saying which target and why. */
  constructor(message: string, timedOut: boolean) {
    super(message);
    this.name = "ConnectError";
    this.timedOut = timedOut;
  }
}

/**
 * A pool of targets with a policy.
 *
 * @example
 * ```ts ignore
 * const pool = new Pool(settings, stats);
 * const t = pool.pick("10.0.0.1", new Set());
 * const conn = await pool.connect(t!);
 * ```
 */
export class Pool {
  /** The settings it was made from. */
  readonly settings: UpstreamSettings;
  /** Its targets, in the config's order. */
  readonly targets: Target[];
  /** Where its counters go. */
  readonly stats: Stats | undefined;
  #next = 0;
  #closed = false;
  #sweep: ReturnType<typeof setInterval> | undefined;
  /** Connections waiting for a response head, each with its deadline (one sweep, not a timer each). */
  #heads: Map<UpstreamConn, number> = new Map();
  #headSweep: ReturnType<typeof setInterval> | undefined;

  /** A pool over `settings.targets`, counting into `stats`. */
  constructor(settings: UpstreamSettings, stats?: Stats) {
    this.settings = settings;
    this.stats = stats;
    this.targets = settings.targets.map((a) => new Target(settings.name, a));
    for (const t of this.targets) this.#gauges(t);
    OPEN_POOLS.add(this);
    if (settings.keepalive > 0) {
      const every = Math.max(100, Math.min(settings.keepaliveIdle * 1000, 10_000));
      const sweep = this.#sweep = setInterval(() => this.#closeStale(), every);
      Deno.unrefTimer(sweep);
    }
  }

  /** Whether `t` may take requests: its last check passed and it has not failed too often lately. */
  available(t: Target, now: number = performance.now()): boolean {
    if (!t.healthy) return false;
    const s = this.settings;
    if (s.failDuration <= 0) return true;
    const since = now - s.failDuration * 1000;
    while (t.failTimes.length > 0 && t.failTimes[0] < since) t.failTimes.shift();
    return t.failTimes.length < s.maxFails;
  }

  /**
   * The target for a request from `clientAddr`, skipping `tried`; undefined when none is left.
   * When failures have marked every healthy target down, they are tried all the same (as nginx
   * does with a single server): a passive mark is a guess, and a refused connect is fast.
   */
  pick(clientAddr: string, tried: ReadonlySet<Target>): Target | undefined {
    const now = turnMono();
    let open = this.targets.filter((t) => !tried.has(t) && this.available(t, now));
    if (open.length === 0 && !this.targets.some((t) => this.available(t, now))) {
      open = this.targets.filter((t) => !tried.has(t) && t.healthy);
    }
    if (open.length === 0) return undefined;
    switch (this.settings.policy) {
      case "first":
        return open[0];
      case "ip_hash": {
        // Hash over every target, then walk on to the next open one: a client keeps its target
        // while that target is up, and others' clients do not move when it goes down.
        let h = 2166136261;
        for (let i = 0; i < clientAddr.length; i++) h = Math.imul(h ^ clientAddr.charCodeAt(i), 16777619);
        const all = this.targets;
        const start = (h >>> 0) % all.length;
        for (let i = 0; i < all.length; i++) {
          const t = all[(start + i) % all.length];
          if (open.includes(t)) return t;
        }
        return open[0];
      }
      case "least_conn": {
        let best = open[0];
        const offset = this.#next++;
        for (let i = 0; i < open.length; i++) {
          const t = open[(offset + i) % open.length];
          if (t.active < best.active) best = t;
        }
        return best;
      }
      default:
        return open[this.#next++ % open.length];
    }
  }

  /** An idle kept connection to `t`, else a new one within the connect timeout. */
  async connect(t: Target): Promise<UpstreamConn> {
    for (;;) {
      const c = t.idle.pop();
      if (c === undefined) break;
      if (c.dead) continue;
      c.claim();
      return c;
    }
    const ms = this.settings.connectTimeout * 1000;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), ms);
    try {
      const a = t.address;
      let conn: Deno.Conn;
      if (a.transport === "unix") {
        // Deno's Unix connect takes no signal: one that completes after the timeout is closed.
        const pending = Deno.connect({ transport: "unix", path: a.path });
        ac.signal.addEventListener("abort", () => pending.then((c) => c.close(), () => {}));
        conn = await Promise.race([
          pending,
          new Promise<never>((_, reject) =>
            ac.signal.addEventListener("abort", () => reject(ac.signal.reason))
          ),
        ]);
      } else conn = await Deno.connect({ hostname: a.hostname, port: a.port, signal: ac.signal });
      if (a.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
      return new UpstreamConn(conn);
    } catch (e) {
      if (ac.signal.aborted) throw new ConnectError(`connecting to ${t.name} took over ${ms} ms`, true);
      throw new ConnectError(`cannot connect to ${t.name}: ${(e as Error).message}`, false);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Starts `c`'s header timeout: if no head has come (see {@linkcode Pool.headArrived}) within
   * `timeouts.header`, it is marked `timedOut` and closed, which ends the wait for it.
   */
  awaitHead(c: UpstreamConn): void {
    const ms = this.settings.headerTimeout * 1000;
    this.#heads.set(c, turnMono() + ms);
    if (this.#headSweep === undefined) {
      const sweep = this.#headSweep = setInterval(
        () => this.#expireHeads(),
        Math.max(10, Math.min(250, ms / 4)),
      );
      Deno.unrefTimer(sweep);
    }
  }

  /** Ends `c`'s header timeout. */
  headArrived(c: UpstreamConn): void {
    this.#heads.delete(c);
  }

  #expireHeads(): void {
    const now = performance.now();
    for (const [c, deadline] of this.#heads) {
      if (deadline > now) continue;
      this.#heads.delete(c);
      c.timedOut = true;
      c.close();
    }
  }

  /** Gives a connection back after a response: kept idle when it may carry another, else closed. */
  release(t: Target, c: UpstreamConn, reusable: boolean): void {
    c.uses++;
    if (!reusable || c.dead || this.#closed || t.idle.length >= this.settings.keepalive) {
      c.close();
      return;
    }
    c.idleSince = performance.now();
    t.idle.push(c);
    c.watchIdle(() => {
      const i = t.idle.indexOf(c);
      if (i >= 0) t.idle.splice(i, 1);
      c.close();
    });
  }

  /** Counts a request begun on `t`. */
  begin(t: Target): void {
    t.active++;
    t.requests++;
    if (this.stats !== undefined) {
      bump(this.stats.upstreamRequests, t.key);
      this.stats.upstreamActive.set(t.key, t.active);
    }
  }

  /** Counts a request's end on `t`: `headMs` until its head (undefined when none came), failed or not. */
  end(t: Target, headMs: number | undefined, failed: boolean): void {
    t.active--;
    const s = this.stats;
    if (s !== undefined) {
      s.upstreamActive.set(t.key, t.active);
      if (headMs !== undefined) bump(s.upstreamSeconds, t.key, headMs / 1000);
    }
    if (failed) this.fail(t);
  }

  /** Records a failure of `t` (a passive check). */
  fail(t: Target): void {
    t.fails++;
    if (this.settings.failDuration > 0) {
      t.failTimes.push(performance.now());
      if (t.failTimes.length > this.settings.maxFails) t.failTimes.shift();
    }
    if (this.stats !== undefined) bump(this.stats.upstreamFailures, t.key);
    // Kept connections to a target that failed are suspect: the next request opens a new one.
    for (const c of t.idle.splice(0)) c.close();
  }

  /** Counts a retry of a request on another target of this pool. */
  retried(t: Target): void {
    if (this.stats !== undefined) bump(this.stats.upstreamRetries, t.key);
  }

  /** Sets what the active check found for `t`. */
  setHealthy(t: Target, healthy: boolean): void {
    t.healthy = healthy;
    this.#gauges(t);
  }

  #gauges(t: Target): void {
    if (this.stats === undefined) return;
    this.stats.upstreamHealthy.set(t.key, t.healthy ? 1 : 0);
    if (!this.stats.upstreamActive.has(t.key)) this.stats.upstreamActive.set(t.key, 0);
    if (!this.stats.upstreamRequests.has(t.key)) this.stats.upstreamRequests.set(t.key, 0);
  }

  #closeStale(): void {
    const limit = performance.now() - this.settings.keepaliveIdle * 1000;
    for (const t of this.targets) {
      while (t.idle.length > 0 && t.idle[0].idleSince < limit) t.idle.shift()!.close();
    }
  }

  /** Whether {@linkcode Pool.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the sweeper and closes idle connections (health checks stop with {@linkcode Pool.closed}). */
  close(): void {
    this.#closed = true;
    OPEN_POOLS.delete(this);
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    if (this.#headSweep !== undefined) clearInterval(this.#headSweep);
    for (const t of this.targets) for (const c of t.idle.splice(0)) c.close();
  }
}
