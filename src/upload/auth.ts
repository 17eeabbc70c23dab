/**
 * HTTP Basic authentication (RFC 7617) for uploads: UTF-8 credentials, a constant-time check,
 * and per-address throttling after repeated failures.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/** Credentials from `Authorization: Basic …`, or why there are none. */
export type BasicCredentials = { user: string; pass: string } | { error: "missing" | "malformed" };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses an Authorization header value as Basic credentials (RFC 7617 §2): base64 of
 * `user:pass`, decoded as UTF-8 (the charset ferry announces).
 *
 * @example
 * ```ts
 * import { parseBasic } from "./auth.ts";
 * console.log(parseBasic("Basic " + btoa("alice:s3cret"))); // { user: "alice", pass: "s3cret" }
 * ```
 */
export function parseBasic(header: string | undefined): BasicCredentials {
  if (header === undefined) return { error: "missing" };
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (m === null || m[1].length % 4 !== 0) return { error: "malformed" };
  let text: string;
  try {
    const bin = atob(m[1]);
    text = utf8.decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return { error: "malformed" };
  }
  const colon = text.indexOf(":");
  if (colon < 0) return { error: "malformed" };
  return { user: text.slice(0, colon), pass: text.slice(colon + 1) };
}

/**
 * Compares two secrets in time that does not depend on where they differ: both are hashed (so
 * their lengths leak nothing and the inputs to `timingSafeEqual` are equal in length), then the
 * digests are compared with `node:crypto`'s `timingSafeEqual`.
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./auth.ts";
 * console.log(constantTimeEqual("secret", "secret"), constantTimeEqual("secret", "guess")); // true false
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = createHash("sha256").update(a, "utf8").digest();
  const y = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(x, y);
}

/** Options of {@linkcode FailureThrottle}. */
export interface ThrottleOptions {
  /**
   * Failures allowed per address within the window.
   * @default {5}
   */
  maxFailures?: number;
  /**
   * Window of counted failures, ms.
   * @default {60000}
   */
  windowMs?: number;
  /**
   * How long an address is refused (429) after too many failures, ms.
   * @default {30000}
   */
  blockMs?: number;
}

/**
 * Counts authentication failures per client address; past the limit, the address is refused
 * for a while. Bounded: the oldest addresses are forgotten first.
 */
export class FailureThrottle {
  #max: number;
  #window: number;
  #block: number;
  #entries = new Map<string, { count: number; since: number; blockedUntil: number }>();

  /** A throttle with the given limits. */
  constructor(o: ThrottleOptions = {}) {
    this.#max = o.maxFailures ?? 5;
    this.#window = o.windowMs ?? 60_000;
    this.#block = o.blockMs ?? 30_000;
  }

  /** Seconds until `addr` may try again, or 0 when it may now. */
  retryAfter(addr: string, now = Date.now()): number {
    const e = this.#entries.get(addr);
    if (e === undefined || e.blockedUntil <= now) return 0;
    return Math.ceil((e.blockedUntil - now) / 1000);
  }

  /** Records a failure from `addr`. */
  fail(addr: string, now = Date.now()): void {
    let e = this.#entries.get(addr);
    if (e === undefined || now - e.since > this.#window) {
      e = { count: 0, since: now, blockedUntil: 0 };
      this.#entries.delete(addr);
      this.#entries.set(addr, e);
      if (this.#entries.size > 10_000) this.#entries.delete(this.#entries.keys().next().value!);
    }
    e.count++;
    if (e.count >= this.#max) e.blockedUntil = now + this.#block;
  }

  /** Forgets `addr`'s failures after a success. */
  succeed(addr: string): void {
    this.#entries.delete(addr);
  }
}

/** Whether `addr` is this machine's loopback: 127.0.0.0/8, ::1, or 127.x.x.x mapped into IPv6. */
export function isLoopback(addr: string): boolean {
  const a = addr.toLowerCase().replace(/^\[|\]$/g, "");
  if (a === "::1" || a === "0:0:0:0:0:0:0:1") return true;
  const v4 = a.startsWith("::ffff:") ? a.slice(7) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * Whether credentials in this request crossed a network in the clear: the client's own hop is
 * plain HTTP (the socket's, or what a trusted proxy says of the client's) and the client is not on
 * this machine. A TLS-terminating proxy on this machine that is not in `--trusted-proxies` is a
 * loopback peer, so its requests pass; a trusted proxy that reports the client's scheme is
 * believed.
 *
 * @example
 * ```ts
 * import { credentialsInClear } from "./auth.ts";
 * console.log(credentialsInClear({ secure: false, clientAddr: "203.0.113.9" })); // true
 * console.log(credentialsInClear({ secure: false, clientAddr: "127.0.0.1" })); // false
 * ```
 */
export function credentialsInClear(req: { secure: boolean; clientAddr: string }): boolean {
  return !req.secure && !isLoopback(req.clientAddr);
}
