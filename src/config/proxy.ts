/**
 * Where the reverse proxy (issue 37, `src/upstream/`) plugs into the config: its
 * {@linkcode ProxyFactory}, called once per named upstream and once per inline `proxy: { to }`.
 * Set to undefined, a `proxy` route is refused as "not built yet".
 *
 * @module
 */

import type { ProxyFactory } from "../route/action.ts";
import { proxyAction } from "../upstream/proxy_action.ts";

/** The reverse proxy's factory: `src/upstream/`'s pools, with `--trusted-proxies` for X-Forwarded-*. */
export const PROXY_FACTORY: ProxyFactory | undefined = (name, spec, ctx) =>
  proxyAction(name, spec, ctx, ctx.trusted);
