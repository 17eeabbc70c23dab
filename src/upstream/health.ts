/**
 * Active health checks: each target of a pool is asked `GET PATH` every `interval` seconds; a
 * check that fails (no connection, no answer within `timeout`, another status than the one
 * expected, any 2xx when none is given) takes the target out of the pool, and the first one that
 * passes puts it back.
 *
 * @module
 */

import type { Pool, Target } from "./pool.ts";
import { UpstreamConn } from "./upstream_conn.ts";
import type { Logger } from "../log/logger.ts";

/**
 * Checks every target of `pool` now and then every `interval` seconds, until the pool closes.
 *
 * @example
 * ```ts ignore
 * startHealthChecks(pool, log);
 * ```
 */
export function startHealthChecks(pool: Pool, log?: Logger): void {
  const h = pool.settings.health;
  if (h === undefined) return;
  for (const t of pool.targets) {
    const run = async () => {
      if (pool.closed) return;
      const ok = await checkOnce(pool, t);
      if (ok !== t.healthy) {
        log?.info(ok ? "upstream target healthy again" : "upstream target failed its health check", {
          upstream: pool.settings.name,
          target: t.name,
        });
      }
      pool.setHealthy(t, ok);
      if (pool.closed) return;
      const timer = setTimeout(run, h.interval * 1000);
      Deno.unrefTimer(timer);
    };
    run();
  }
}

/** One check of `t`: whether it answered the health path with the expected status in time. */
export async function checkOnce(pool: Pool, t: Target): Promise<boolean> {
  const h = pool.settings.health!;
  let conn: UpstreamConn | undefined;
  const timer = setTimeout(() => conn?.close(), h.timeout * 1000);
  try {
    const a = t.address;
    const socket = a.transport === "unix"
      ? await Deno.connect({ transport: "unix", path: a.path })
      : await Deno.connect({
        hostname: a.hostname,
        port: a.port,
        signal: AbortSignal.timeout(h.timeout * 1000),
      });
    conn = new UpstreamConn(socket);
    const host = a.transport === "unix" ? "localhost" : t.name;
    const req =
      `GET ${h.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ferry-health-check\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(req));
    let head = await conn.readHead();
    while (head.status < 200) head = await conn.readHead();
    return h.status === 0 ? head.status >= 200 && head.status < 300 : head.status === h.status;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    conn?.close();
  }
}
