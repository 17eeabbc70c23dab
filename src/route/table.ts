/**
 * The route table a config makes and a reload swaps: the built-in mounts (`/_health`, `/_ready`,
 * `/_metrics`, `/_dashboard/`, the ACME challenge) on every site, then the site chosen by Host
 * (exact names first, then `*.name` wildcards, then the site without hosts), then its routes in
 * order, first match wins. A request no route takes gets the table's `notFound` mount.
 *
 * @module
 */

import { Dispatcher, type Mount, type Router } from "../http/dispatch.ts";
import type { RequestFields } from "../http/request.ts";
import { type HeaderMatcher, hostMatches, hostName, type PathMatcher } from "./match.ts";

/** A compiled route: its conditions and the mount that serves what it matches. */
export interface Route {
  /** The path condition. */
  path: PathMatcher;
  /** Methods taken; undefined: all. */
  methods?: ReadonlySet<string>;
  /** Header conditions; undefined: none. */
  headers?: HeaderMatcher;
  /** What serves the request (its name is the action's, for logs and metrics). */
  mount: Mount;
}

/** A compiled site. */
export interface Site {
  /** Host patterns (lower-cased); empty: the site for every other host. */
  hosts: readonly string[];
  /** Routes in order. */
  routes: readonly Route[];
}

/** Host values remembered with their site. */
const HOST_MEMO_SIZE = 1024;
/** A remembered host that no site answers. */
const NO_SITE = Symbol("no site");

/** No built-in mount took the path: the sites decide. */
const PASS: Mount = { name: "pass", prefix: "/", handler: () => {} };

/**
 * Sites and routes, matched per request.
 *
 * @example
 * ```ts ignore
 * const table = new RouteTable([{ hosts: [], routes: [{ path: pathMatcher("/*"), mount }] }], builtins, notFound);
 * server.dispatcher = table; // swapped at once
 * ```
 */
export class RouteTable implements Router {
  /** The sites, in config order. */
  readonly sites: readonly Site[];
  #builtins: Dispatcher;
  #exact = new Map<string, Site>();
  #wild: Site[] = [];
  #fallback: Site | undefined;
  #notFound: Mount;
  #hosts = new Map<string, Site | typeof NO_SITE>();
  /** The last request routed, remembered when its answer did not depend on header fields. */
  #lastPath: string | undefined;
  #lastHost: string | undefined;
  #lastMethod: string | undefined;
  #lastMount: Mount | undefined;

  /** A table over `sites`; `builtins` are matched first on every site; `notFound` takes the rest. */
  constructor(sites: Site[], builtins: readonly Mount[], notFound: Mount) {
    this.sites = sites;
    this.#builtins = new Dispatcher([...builtins], PASS);
    this.#notFound = notFound;
    for (const site of sites) {
      if (site.hosts.length === 0) {
        this.#fallback ??= site;
        continue;
      }
      for (const h of site.hosts) {
        const name = h.toLowerCase();
        if (name.startsWith("*.")) {
          if (!this.#wild.includes(site)) this.#wild.push(site);
        } else if (!this.#exact.has(name)) this.#exact.set(name, site);
      }
    }
  }

  /** The site that answers `host` (a Host header or `:authority`); undefined: none. */
  siteFor(host: string): Site | undefined {
    if (this.#exact.size === 0 && this.#wild.length === 0) return this.#fallback;
    // Clients send few distinct Host values: each is matched once, then remembered (bounded:
    // the values come from clients).
    const known = this.#hosts.get(host);
    if (known !== undefined) return known === NO_SITE ? undefined : known;
    const site = this.#match(host);
    if (this.#hosts.size >= HOST_MEMO_SIZE) this.#hosts.clear();
    this.#hosts.set(host, site ?? NO_SITE);
    return site;
  }

  #match(host: string): Site | undefined {
    const name = hostName(host);
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    for (const site of this.#wild) {
      for (const p of site.hosts) if (p.startsWith("*.") && hostMatches(p, name)) return site;
    }
    return this.#fallback;
  }

  /** The mount for a request: a built-in one, else the first route of its site that matches. */
  route(path: string, head?: RequestFields): Mount {
    const host = head?.host ?? "";
    const method = head?.method ?? "GET";
    if (path === this.#lastPath && host === this.#lastHost && method === this.#lastMethod) {
      return this.#lastMount!;
    }
    const builtin = this.#builtins.route(path);
    if (builtin !== PASS) return builtin;
    const site = this.siteFor(host);
    if (site === undefined) return this.#notFound;
    let byHeaders = false;
    for (const r of site.routes) {
      if (!r.path(path)) continue;
      if (r.methods !== undefined && !r.methods.has(method)) continue;
      if (r.headers !== undefined) {
        byHeaders = true;
        if (head === undefined || !r.headers(head.headers)) continue;
      }
      if (!byHeaders) this.#remember(path, host, method, r.mount);
      return r.mount;
    }
    if (!byHeaders) this.#remember(path, host, method, this.#notFound);
    return this.#notFound;
  }

  #remember(path: string, host: string, method: string, mount: Mount): void {
    this.#lastPath = path;
    this.#lastHost = host;
    this.#lastMethod = method;
    this.#lastMount = mount;
  }
}
