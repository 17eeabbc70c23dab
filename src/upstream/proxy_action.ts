/**
 * The reverse proxy as the config's `proxy` route action (`src/route/action.ts`'s
 * `ProxyFactory`): one pool per named upstream (shared by the routes that name it) or per inline
 * `proxy: { to: [...] }`, its health checks started, closed when a reload retires its config.
 *
 * @module
 */

import type { Action, ActionContext } from "../route/action.ts";
import type { UpstreamSpec } from "../route/spec.ts";
import type { AllowList } from "../net/cidr.ts";
import { proxyHandler } from "./proxy_handler.ts";
import { startHealthChecks } from "./health.ts";
import { Pool } from "./pool.ts";
import { resolveUpstream } from "./upstream_config.ts";

/**
 * Builds the proxy action for upstream `name` from `spec`; throws RangeError naming each problem
 * (`targets[1]: …`). `trusted` are the peers whose `X-Forwarded-*` fields are kept.
 *
 * @example
 * ```ts ignore
 * const action = proxyAction("backend", { targets: ["127.0.0.1:9001"] }, { log, stats });
 * ```
 */
export function proxyAction(
  name: string,
  spec: UpstreamSpec,
  ctx: ActionContext,
  trusted?: AllowList,
): Action {
  const r = resolveUpstream(name, spec);
  if ("problems" in r) {
    throw new RangeError(r.problems.map((p) => `${p.path ? p.path + ": " : ""}${p.message}`).join("; "));
  }
  const pool = new Pool(r.settings, ctx.stats);
  startHealthChecks(pool, ctx.log);
  return {
    handler: proxyHandler(pool, { trusted, log: ctx.log }),
    close: () => Promise.resolve(pool.close()),
  };
}
