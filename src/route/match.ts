/**
 * The matchers of a route and a site, as Caddy's: a path is exact or a prefix glob ending in `*`
 * (`/api/*` takes `/api/` and below, not `/api`); a host is exact or `*.name` for one more label;
 * a route's methods and header conditions. Pure functions, compiled once per config.
 *
 * @module
 */

import type { HeaderList } from "../http/headers.ts";
import { stripPort } from "../http/authority.ts";

/** A compiled path condition: true when the raw request path matches. */
export type PathMatcher = (path: string) => boolean;

/** Every path. */
const ANY: PathMatcher = () => true;

/**
 * Compiles a route's `path`: absent or `*` matches every path; `PREFIX*` every path that starts
 * with PREFIX; anything else exactly that path.
 *
 * @example
 * ```ts
 * import { pathMatcher } from "./match.ts";
 * const m = pathMatcher("/api/*");
 * console.log(m("/api/users"), m("/api")); // true false
 * ```
 */
export function pathMatcher(pattern: string | undefined): PathMatcher {
  if (pattern === undefined || pattern === "*" || pattern === "/*") return ANY;
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return (path) => path.startsWith(prefix);
  }
  return (path) => path === pattern;
}

/**
 * Whether `host` (a Host header or `:authority`, port allowed) is one of a site's `hosts`:
 * names compare case-insensitively; `*.b.test` matches `x.b.test`, not `b.test` nor `y.x.b.test`.
 *
 * @example
 * ```ts
 * import { hostMatches } from "./match.ts";
 * console.log(hostMatches("*.b.test", "API.b.test:8443")); // true
 * ```
 */
export function hostMatches(pattern: string, host: string): boolean {
  const name = hostName(host);
  const p = pattern.toLowerCase();
  if (!p.startsWith("*.")) return name === p;
  const rest = p.slice(1); // ".b.test"
  if (!name.endsWith(rest)) return false;
  const label = name.slice(0, name.length - rest.length);
  return label.length > 0 && !label.includes(".");
}

/** The host part of an authority, lower-cased, without port or a trailing dot. */
export function hostName(authority: string): string {
  let name = stripPort(authority).toLowerCase();
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name;
}

/** A compiled header condition: every named field present with its value (case kept). */
export type HeaderMatcher = (headers: HeaderList) => boolean;

/**
 * Compiles `match_headers`: each field must be present with exactly the value given (a value of
 * `*` only asks that the field be present).
 *
 * @example
 * ```ts ignore
 * const m = headerMatcher({ "X-Key": "v" });
 * m(req.headers);
 * ```
 */
export function headerMatcher(fields: Record<string, string>): HeaderMatcher {
  const wanted = Object.entries(fields).map(([name, value]) => [name.toLowerCase(), value] as const);
  return (headers) => {
    for (const [name, value] of wanted) {
      const got = headers.get(name);
      if (got === undefined || (value !== "*" && got !== value)) return false;
    }
    return true;
  };
}
