/**
 * The config file's sites, routes and route actions as data, exactly as `ferry.schema.json`
 * describes them (snake_case keys, relative paths already resolved against the config file's
 * folder by `src/config/`). `src/route/table.ts` turns them, with one handler per route, into
 * the table a reload swaps.
 *
 * @module
 */

/** Response or request header fields by name. */
export type HeaderMap = Record<string, string>;

/** `"static"`: files under `root`, which gets the whole request path (after `strip_prefix`). */
export interface StaticSpec {
  /** The folder; `/files/a.txt` is `ROOT/files/a.txt`. */
  root: string;
  /** A file (URL path in `root`) answered for a GET/HEAD with no file: an SPA's `/index.html`. */
  fallback?: string;
  /** Directory listings (HTML; JSON for `Accept: application/json`). @default {false} */
  browse?: boolean;
  /** Index file names tried in a directory. @default {["index.html"]} */
  index?: string[];
  /** Serve dotfiles. @default {false} */
  dotfiles?: boolean;
  /** Cache-Control of the files. @default {"public, max-age=0, must-revalidate"} */
  cache_control?: string;
}

/** `"uploads"`: PUT, POST and DELETE of files under `dir`, behind Basic auth. */
export interface UploadsSpec {
  /** The folder files go to. */
  dir: string;
  /** User name → bcrypt hash (`$2a$`, `$2b$`, `$2y$`); none: read-only. */
  users?: Record<string, string>;
  /** Largest upload in bytes. @default {the --max-upload-size flag's value} */
  max_bytes?: number;
}

/** `"redirect"`: answers with a `Location`. */
export interface RedirectSpec {
  /** Where to; `{path}` and `{query}` are replaced by the request's. */
  to: string;
  /** 301, 302, 303, 307 or 308. @default {302} */
  status?: 301 | 302 | 303 | 307 | 308;
}

/** `"respond"`: a fixed answer. */
export interface RespondSpec {
  /** @default {200} */
  status?: number;
  /** @default {""} */
  body?: string;
  /** Header fields of the answer. */
  headers?: HeaderMap;
}

/**
 * The options of an upstream pool (issue 37), shared by a named upstream and an inline
 * `proxy: { to: [...] }`. Times are seconds.
 */
export interface UpstreamOptions {
  /** How a target is picked. @default {"round_robin"} */
  policy?: "round_robin" | "least_conn" | "ip_hash" | "first";
  /** Active health checks. */
  health?: { path?: string; interval?: number; timeout?: number; status?: number };
  /** Failures before a target is skipped. */
  max_fails?: number;
  /** How long a failed target is skipped. */
  fail_duration?: number;
  /** How long an idempotent request is retried on other targets (0: no retry). */
  try_duration?: number;
  /** Connect and response-head timeouts. */
  timeouts?: { connect?: number; header?: number };
  /** Idle connections kept per target. */
  keepalive?: number;
}

/** A named upstream under the config's `"upstreams"`. */
export interface UpstreamSpec extends UpstreamOptions {
  /** `HOST:PORT` or `unix/PATH`. */
  targets: string[];
}

/** A route's `"proxy"`: an upstream's name, or an inline upstream. */
export type ProxySpec = string | (UpstreamOptions & { to: string[] });

/** The actions a route may take; a route has exactly one. */
export const ACTIONS = ["static", "app", "uploads", "redirect", "respond", "proxy"] as const;

/** The name of an action. */
export type ActionName = typeof ACTIONS[number];

/** One route: conditions (path, methods, headers), then one action. */
export interface RouteSpec {
  /** Exact path, or a prefix glob ending in `*`; absent or `*`: every path. */
  path?: string;
  /** Methods the route takes; absent: all. */
  methods?: string[];
  /** Request header fields that must be present with these values (case-insensitive names). */
  match_headers?: HeaderMap;
  /** Removed from the path before the action sees it (SCRIPT_NAME / root_path for apps). */
  strip_prefix?: string;
  /** Static files. */
  static?: StaticSpec;
  /** An app's name under `"apps"`. */
  app?: string;
  /** Uploads. */
  uploads?: UploadsSpec;
  /** A redirect. */
  redirect?: RedirectSpec;
  /** A fixed answer. */
  respond?: RespondSpec;
  /** The reverse proxy. */
  proxy?: ProxySpec;
}

/** A site's certificate. */
export interface SiteTlsSpec {
  /** A self-signed certificate for the site's hosts. */
  self_signed?: boolean;
  /** Certificates from the ACME CA for the site's hosts. */
  acme?: boolean;
  /** PEM certificate chain (with `key`). */
  cert?: string;
  /** PEM private key (with `cert`). */
  key?: string;
}

/** One site: the hosts it answers, its certificate, its response headers and its routes. */
export interface SiteSpec {
  /** Host names (`*.b.test` matches one label); none: the site for every other host. */
  hosts?: string[];
  /** The certificate its hosts get by SNI. */
  tls?: SiteTlsSpec;
  /** Added to every response of the site. */
  headers?: HeaderMap;
  /** First match wins. */
  routes?: RouteSpec[];
}
