/**
 * A checked config made live: its apps started (or kept from the config before), each route's
 * action built into a mount, the sites compiled into a {@linkcode RouteTable}. Nothing is swapped
 * here: the caller swaps the table in when the whole build succeeded, then retires what the old
 * config held and the new one does not.
 *
 * @module
 */

import type { Handler, Mount } from "../http/dispatch.ts";
import type { Logger } from "../log/logger.ts";
import type { Stats } from "../stats.ts";
import type { ResolvedOptions } from "../server_options.ts";
import type { FerryConfig } from "./types.ts";
import type { RouteSpec, SiteSpec, StaticSpec, UpstreamSpec } from "../route/spec.ts";
import type { Action, ProxyFactory } from "../route/action.ts";
import { type Route, RouteTable, type Site } from "../route/table.ts";
import { headerMatcher, pathMatcher } from "../route/match.ts";
import { withSiteHeaders } from "../route/site_headers.ts";
import { redirectHandler, respondHandler } from "../route/answers.ts";
import { staticHandler } from "../static/serve_static.ts";
import { spaFallback } from "../static/spa_fallback.ts";
import { uploadHandler } from "../upload/uploads.ts";
import { bcryptUsers } from "../upload/users.ts";
import { setMountPoint } from "../http/mount_point.ts";
import { sendError } from "../http/error_page.ts";
import { STATUS } from "../http/status.ts";
import { AllowList } from "../net/cidr.ts";
import { type LiveApp, startApp } from "./apps.ts";
import { ConfigError } from "./load.ts";
import { type ConfigProblem, jsonPath } from "./validate.ts";

/** What a build needs of the running server. */
export interface BuildContext {
  /** The server's resolved options (limits, cache sizes, upload defaults). */
  options: ResolvedOptions;
  /** The log. */
  log: Logger;
  /** Counters. */
  stats: Stats;
  /** Mounts every site keeps before its routes (`/_health`, `/_metrics`, …). */
  builtins: readonly Mount[];
  /** The reverse proxy's factory, when built in. */
  proxy?: ProxyFactory;
}

/** A config made live. */
export class LiveConfig {
  /** The config, as checked (paths absolute). */
  readonly config: FerryConfig;
  /** The route table to swap in. */
  readonly table: RouteTable;
  /** The apps by name. */
  readonly apps: ReadonlyMap<string, LiveApp>;
  /** Proxy actions (named upstreams and inline ones). */
  readonly proxies: readonly Action[];

  /** Wraps what {@linkcode buildConfig} made. */
  constructor(config: FerryConfig, table: RouteTable, apps: Map<string, LiveApp>, proxies: Action[]) {
    this.config = config;
    this.table = table;
    this.apps = apps;
    this.proxies = proxies;
  }

  /**
   * Stops what this config holds and `next` does not (apps it did not keep; every proxy pool),
   * once their requests in flight have ended (at most `graceMs`).
   */
  async retire(next: LiveConfig | undefined, graceMs: number): Promise<void> {
    const kept = new Set(next?.apps.values() ?? []);
    await Promise.all([
      ...[...this.apps.values()].filter((a) => !kept.has(a)).map((a) => a.retire(graceMs)),
      ...this.proxies.map((p) => p.close?.()),
    ]);
  }
}

/** The answer for a request no route of its site takes. */
const notFound: Mount = {
  name: "not-found",
  prefix: "/",
  handler: (req, res) => sendError(res, req.headers.get("accept"), STATUS.NotFound, "Not Found"),
};

/**
 * Starts the apps of `config` (keeping `previous`' unchanged ones) and builds its route table.
 * Throws {@linkcode ConfigError} when an app does not start; what it started then is stopped.
 */
export async function buildConfig(
  config: FerryConfig,
  ctx: BuildContext,
  previous?: LiveConfig,
): Promise<LiveConfig> {
  const apps = new Map<string, LiveApp>();
  const problems: ConfigProblem[] = [];
  const started = await Promise.all(
    Object.entries(config.apps ?? {}).map(async ([name, spec]) =>
      [name, await startApp(name, spec, ctx.log, ctx.stats, previous?.apps)] as const
    ),
  );
  for (const [name, app] of started) {
    if ("path" in app) problems.push(app);
    else apps.set(name, app);
  }
  const proxies: Action[] = [];
  const upstreams = new Map<string, Action>();
  try {
    if (problems.length > 0) throw new ConfigError(problems);
    for (const [name, spec] of Object.entries(config.upstreams ?? {})) {
      if (ctx.proxy === undefined) break;
      const action = proxyAction(ctx.proxy, name, spec, jsonPath("upstreams", name), ctx);
      upstreams.set(name, action);
      proxies.push(action);
    }
    const sites = (config.sites ?? []).map((site, i) =>
      compileSite(site, jsonPath("sites", i), { ctx, apps, upstreams, proxies })
    );
    return new LiveConfig(config, new RouteTable(sites, ctx.builtins, notFound), apps, proxies);
  } catch (e) {
    const fresh = [...apps.values()].filter((a) => previous?.apps.get(a.name) !== a);
    await Promise.all([...fresh.map((a) => a.retire(0)), ...proxies.map((p) => p.close?.())]);
    throw e;
  }
}

interface Compile {
  ctx: BuildContext;
  apps: ReadonlyMap<string, LiveApp>;
  upstreams: ReadonlyMap<string, Action>;
  proxies: Action[];
}

function compileSite(site: SiteSpec, at: string, c: Compile): Site {
  return {
    hosts: (site.hosts ?? []).map((h) => h.toLowerCase()),
    routes: (site.routes ?? []).map((r, j) => {
      const built = actionOf(r, jsonPath(jsonPath(at, "routes"), j), c);
      const handler = withSiteHeaders(built.handler, site.headers);
      const route: Route = {
        path: pathMatcher(r.path),
        mount: { name: built.name, prefix: "/", handler, maxBodyBytes: built.maxBodyBytes },
      };
      if (r.methods !== undefined) route.methods = new Set(r.methods);
      if (r.match_headers !== undefined) route.headers = headerMatcher(r.match_headers);
      return route;
    }),
  };
}

/** The prefix a route's action takes off the path, as the static and upload modules want it (ends in `/`). */
function modulePrefix(route: RouteSpec): string {
  const strip = route.strip_prefix;
  if (strip === undefined || strip === "/") return "/";
  return strip.endsWith("/") ? strip : strip + "/";
}

function actionOf(
  r: RouteSpec,
  at: string,
  c: Compile,
): { name: string; handler: Handler; maxBodyBytes?: number } {
  const o = c.ctx.options;
  if (r.static !== undefined) return { name: "static", handler: staticAction(r.static, modulePrefix(r), c) };
  if (r.respond !== undefined) return { name: "respond", handler: respondHandler(r.respond) };
  if (r.redirect !== undefined) return { name: "redirect", handler: redirectHandler(r.redirect) };
  if (r.uploads !== undefined) {
    const u = r.uploads;
    // Uploads keep today's layout: the route's own prefix is not part of the stored name.
    const literal = r.path?.endsWith("*") ? r.path.slice(0, r.path.lastIndexOf("/") + 1) : "/";
    const prefix = r.strip_prefix !== undefined ? modulePrefix(r) : literal;
    const handler = uploadHandler({
      dir: u.dir,
      prefix,
      verify: u.users !== undefined && Object.keys(u.users).length > 0 ? bcryptUsers(u.users) : undefined,
      insecure: o.insecureUploads,
      stats: c.ctx.stats,
      log: c.ctx.log,
    });
    return { name: "uploads", handler, maxBodyBytes: u.max_bytes ?? o.maxUploadBytes };
  }
  if (r.app !== undefined) {
    const app = c.apps.get(r.app)!;
    const strip = r.strip_prefix;
    if (strip === undefined || strip === "/") return { name: "app", handler: app.handler };
    const mount = strip.endsWith("/") ? strip.slice(0, -1) : strip;
    const inner = app.handler;
    return {
      name: "app",
      handler: function mounted(req, res) {
        setMountPoint(req, mount);
        return inner(req, res);
      },
    };
  }
  if (r.proxy !== undefined && c.ctx.proxy !== undefined) {
    const p = r.proxy;
    if (typeof p === "string") return { name: "proxy", handler: c.upstreams.get(p)!.handler };
    const { to, ...rest } = p;
    const action = proxyAction(
      c.ctx.proxy,
      `route:${at}`,
      { ...rest, targets: to },
      jsonPath(at, "proxy"),
      c.ctx,
    );
    c.proxies.push(action);
    return { name: "proxy", handler: action.handler };
  }
  // resolveConfig refused anything else; an action added to the schema and not here is a bug.
  throw new ConfigError([{ path: at, message: "this action is not supported by this ferry" }]);
}

function proxyAction(
  factory: ProxyFactory,
  name: string,
  spec: UpstreamSpec,
  at: string,
  ctx: BuildContext,
): Action {
  try {
    const trusted = ctx.options.trustedProxies === ""
      ? undefined
      : AllowList.parse(ctx.options.trustedProxies);
    return factory(name, spec, { log: ctx.log, stats: ctx.stats, trusted });
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) {
      throw new ConfigError([{ path: at, message: e.message }]);
    }
    throw e;
  }
}

function staticAction(s: StaticSpec, prefix: string, c: Compile): Handler {
  const o = c.ctx.options;
  const options = {
    dotfiles: s.dotfiles ?? false,
    dirListing: s.browse ?? false,
    cacheControl: s.cache_control ?? o.cacheControl,
    cacheMaxBytes: o.cacheMaxBytes,
    statValid: o.fileCacheValid,
    index: s.index,
    log: c.ctx.log,
  };
  const fallback = s.fallback === undefined ? undefined : spaFallback(s.root + s.fallback, options);
  return staticHandler({ ...options, root: s.root, prefix, fallback });
}
