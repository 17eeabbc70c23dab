/**
 * The state of every open upstream pool, as Caddy's admin API answers
 * `GET /reverse_proxy/upstreams`: one entry per target with its address, whether it is healthy
 * (its last active check passed and failures have not marked it down), the requests in flight
 * (`num_requests`, as Caddy counts them) and its recent failures (`fails`), plus the pool's name.
 *
 * @module
 */

import { OPEN_POOLS } from "./pool.ts";

/** One target in Caddy's shape. */
export interface UpstreamStatus {
  /** The target (`127.0.0.1:9001`, `unix//run/app.sock`). */
  address: string;
  /** The pool it belongs to. */
  upstream: string;
  /** Whether requests go to it now. */
  healthy: boolean;
  /** Requests in flight to it. */
  num_requests: number;
  /** Failures within the pool's `fail_duration`. */
  fails: number;
  /** Requests sent to it since the pool was made. */
  requests_total: number;
}

/**
 * Every open pool's targets.
 *
 * @example
 * ```ts ignore
 * await res.send(200, [["Content-Type", "application/json"]], JSON.stringify(upstreamStatus()));
 * ```
 */
export function upstreamStatus(): UpstreamStatus[] {
  const out: UpstreamStatus[] = [];
  const now = performance.now();
  for (const pool of OPEN_POOLS) {
    for (const t of pool.targets) {
      const healthy = pool.available(t, now);
      out.push({
        address: t.name,
        upstream: pool.settings.name,
        healthy,
        num_requests: t.active,
        fails: t.failTimes.length,
        requests_total: t.requests,
      });
    }
  }
  return out;
}
