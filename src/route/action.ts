/**
 * What a route action is once built: a handler, and what to close when a reload retires it. The
 * reverse proxy (`src/upstream/`, issue 37) plugs in here: it provides a {@linkcode ProxyFactory},
 * and `src/config/actions.ts` calls it once per named upstream (shared by the routes that name
 * it) and once per inline `proxy: { to: [...] }`.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { Logger } from "../log/logger.ts";
import type { Stats } from "../stats.ts";
import type { AllowList } from "../net/cidr.ts";
import type { UpstreamSpec } from "./spec.ts";

/** A built action: its handler, and how to let go of what it holds (pools, timers). */
export interface Action {
  /** Serves the requests its routes match. */
  handler: Handler;
  /** Called once the config it belongs to is retired and its requests have finished. */
  close?: () => Promise<void>;
}

/** What building an action may use. */
export interface ActionContext {
  /** The server's log. */
  log: Logger;
  /** The server's counters. */
  stats: Stats;
  /** Peers whose `Forwarded` / `X-Forwarded-*` fields are believed (`--trusted-proxies`). */
  trusted?: AllowList;
}

/**
 * The reverse proxy's factory: one upstream pool (targets, policy, health, retries) as an
 * action. `name` is the upstream's name under `"upstreams"`, or `route:SITE.ROUTE` for an inline
 * one (`proxy: { to }` is given here as `targets`). It may throw a `RangeError` naming what is
 * wrong; the config is then refused with that message at the route's path.
 *
 * @example
 * ```ts ignore
 * const factory: ProxyFactory = (name, spec, ctx) => ({ handler: proxyHandler(name, spec, ctx), close: () => pool.close() });
 * ```
 */
export type ProxyFactory = (name: string, spec: UpstreamSpec, ctx: ActionContext) => Action;
