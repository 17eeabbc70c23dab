/**
 * The factory the config calls: every pool of the `upstreams` key made once (targets parsed,
 * health checks started), by name, and the `--proxy PREFIX=TARGET[,TARGET]` flag's mounts.
 *
 * @module
 */

import type { Stats } from "../stats.ts";
import type { Logger } from "../log/logger.ts";
import { startHealthChecks } from "./health.ts";
import { Pool } from "./pool.ts";
import { resolveUpstream, type UpstreamConfig } from "./upstream_config.ts";
import type { Mount } from "../http/dispatch.ts";
import { AllowList } from "../net/cidr.ts";
import { proxyHandler } from "./proxy_handler.ts";
import type { ProxyRoute } from "./proxy_flag.ts";

/** What the pools need of the server. */
export interface UpstreamDeps {
  /** Where the `ferry_upstream_…` counters go. */
  stats?: Stats;
  /** Where health changes are logged. */
  log?: Logger;
}

/**
 * The pools of `config` (the `upstreams` key: name → {@linkcode UpstreamConfig}), by name, their
 * health checks started. Throws RangeError listing every problem with its path
 * (`upstreams.backend.targets[1]: …`). Call {@linkcode closeUpstreams} when a reload replaces them.
 *
 * @example
 * ```ts ignore
 * const pools = createUpstreams({ backend: { targets: ["127.0.0.1:9001", "unix//run/app.sock"] } }, { stats, log });
 * const handler = proxyHandler(pools.get("backend")!, { trusted, log });
 * ```
 */
export function createUpstreams(
  config: Readonly<Record<string, UpstreamConfig | unknown>>,
  deps: UpstreamDeps = {},
): Map<string, Pool> {
  const problems: string[] = [];
  const pools = new Map<string, Pool>();
  for (const [name, raw] of Object.entries(config)) {
    const r = resolveUpstream(name, raw);
    if ("problems" in r) {
      for (const p of r.problems) {
        problems.push(`upstreams.${name}${p.path ? "." + p.path : ""}: ${p.message}`);
      }
    } else pools.set(name, new Pool(r.settings, deps.stats));
  }
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  for (const pool of pools.values()) startHealthChecks(pool, deps.log);
  return pools;
}

/** Stops the pools' health checks and closes their idle connections. */
export function closeUpstreams(pools: Iterable<Pool>): void {
  for (const p of pools) p.close();
}

/**
 * The mounts of `--proxy` routes: one pool each (named after its prefix), its handler, no body
 * limit of its own beyond the server's (bodies stream through, never buffered).
 *
 * @example
 * ```ts ignore
 * const mounts = proxyMounts([parseProxyRoute("/api/=127.0.0.1:9001")], { stats, log, trusted: "" });
 * ```
 */
export function proxyMounts(
  routes: readonly ProxyRoute[],
  deps: UpstreamDeps & { trusted: string },
): Mount[] {
  if (routes.length === 0) return [];
  const trusted = deps.trusted !== "" ? AllowList.parse(deps.trusted) : undefined;
  const pools = createUpstreams(Object.fromEntries(routes.map((r) => [r.prefix, r.upstream])), deps);
  return routes.map((r) => ({
    name: "proxy",
    prefix: r.prefix,
    handler: proxyHandler(pools.get(r.prefix)!, { trusted, log: deps.log }),
    close: () => pools.get(r.prefix)!.close(),
  }));
}
