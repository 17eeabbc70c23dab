/**
 * The checks a schema cannot make, and the paths made absolute: a route has exactly one action,
 * the apps and upstreams it names exist, folders and files exist, certificates come in pairs, a
 * host belongs to one site. Relative paths resolve against the config file's folder. Every
 * problem names its JSON path.
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import type { FerryConfig } from "./types.ts";
import { ACTIONS, type RouteSpec, type SiteSpec } from "../route/spec.ts";
import { type ConfigProblem, jsonPath } from "./validate.ts";
import { didYouMean } from "./did_you_mean.ts";
import { isFieldName, isFieldValue } from "../http/writer.ts";

/** What the resolver needs to know of this ferry. */
export interface ResolveOptions {
  /** The folder relative paths are resolved against (the config file's). */
  baseDir: string;
  /** Whether the reverse proxy is built in (issue 37); else a `proxy` route is a problem. */
  proxy: boolean;
}

/** A bcrypt hash as `htpasswd -B` and Python's `bcrypt` write it. */
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/**
 * Checks `config` (already valid against the schema) and makes its paths absolute, in place.
 * Returns the problems; none means the config can be built.
 *
 * @example
 * ```ts ignore
 * const problems = resolveConfig(config, { baseDir: "/srv/site", proxy: false });
 * ```
 */
export function resolveConfig(config: FerryConfig, options: ResolveOptions): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(options.baseDir, p));
  for (const [kind, addr] of Object.entries(config.listen ?? {})) {
    if (typeof addr === "string") addressProblem(addr, jsonPath("listen", kind), out);
  }
  if (config.admin) {
    const at = "admin.listen";
    if (!addressProblem(config.admin.listen, at, out) && !isLoopback(config.admin.listen)) {
      out.push({
        path: at,
        message: "the admin API listens on loopback only: use 127.0.0.1:PORT or [::1]:PORT",
      });
    }
  }
  for (const [name, app] of Object.entries(config.apps ?? {})) {
    const at = jsonPath("apps", name);
    const kinds = (["wsgi", "asgi", "module"] as const).filter((k) => app[k] !== undefined);
    if (kinds.length !== 1) {
      out.push({
        path: at,
        message: kinds.length === 0
          ? 'needs one of "wsgi", "asgi" or "module"'
          : `has ${kinds.join(" and ")}: an app is one of them`,
      });
    }
    if (app.module !== undefined) {
      app.module = abs(app.module);
      fileProblem(app.module, jsonPath(at, "module"), "file", out);
    } else if (app.module === undefined && (app.threads !== undefined && app.asgi !== undefined)) {
      out.push({
        path: jsonPath(at, "threads"),
        message: "threads are for WSGI apps: an ASGI worker uses concurrency",
      });
    }
    if (app.chdir !== undefined) {
      app.chdir = abs(app.chdir);
      fileProblem(app.chdir, jsonPath(at, "chdir"), "directory", out);
    }
    if (app.python !== undefined && app.python.includes("/")) app.python = abs(app.python);
    if (app.pythonpath !== undefined) app.pythonpath = app.pythonpath.map(abs);
  }
  const apps = Object.keys(config.apps ?? {});
  const upstreams = Object.keys(config.upstreams ?? {});
  const hostsSeen = new Map<string, string>();
  let fallbackSite: string | undefined;
  (config.sites ?? []).forEach((site, i) => {
    const at = jsonPath("sites", i);
    if ((site.hosts ?? []).length === 0) {
      if (fallbackSite !== undefined) {
        out.push({
          path: at,
          message: `a second site without "hosts" (${fallbackSite} takes every other host): name its hosts`,
        });
      } else fallbackSite = at;
    }
    for (const [j, h] of (site.hosts ?? []).entries()) {
      const name = h.toLowerCase();
      const before = hostsSeen.get(name);
      if (before !== undefined) {
        out.push({
          path: jsonPath(jsonPath(at, "hosts"), j),
          message: `${h} is already a host of ${before}`,
        });
      } else hostsSeen.set(name, at);
    }
    siteTls(site, at, abs, out);
    fieldsProblems(site.headers, jsonPath(at, "headers"), out);
    (site.routes ?? []).forEach((route, j) => {
      checkRoute(
        route,
        jsonPath(jsonPath(at, "routes"), j),
        { apps, upstreams, abs, proxy: options.proxy },
        out,
      );
    });
  });
  return out;
}

function siteTls(site: SiteSpec, at: string, abs: (p: string) => string, out: ConfigProblem[]): void {
  const tls = site.tls;
  if (tls === undefined) return;
  const tat = jsonPath(at, "tls");
  const kinds = [tls.self_signed && "self_signed", tls.acme && "acme", (tls.cert || tls.key) && "cert"]
    .filter(
      Boolean,
    );
  if (kinds.length > 1) out.push({ path: tat, message: `has ${kinds.join(" and ")}: choose one` });
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    out.push({ path: tat, message: '"cert" and "key" go together: give both' });
  }
  if (tls.cert !== undefined) fileProblem(tls.cert = abs(tls.cert), jsonPath(tat, "cert"), "file", out);
  if (tls.key !== undefined) fileProblem(tls.key = abs(tls.key), jsonPath(tat, "key"), "file", out);
  if ((tls.acme || tls.self_signed) && (site.hosts ?? []).length === 0) {
    out.push({ path: tat, message: 'a certificate needs the site\'s names: add "hosts"' });
  }
  if (tls.acme && (site.hosts ?? []).some((h) => h.startsWith("*."))) {
    out.push({
      path: tat,
      message: "ACME http-01 cannot get a wildcard certificate: name the hosts one by one",
    });
  }
}

interface RouteContext {
  apps: string[];
  upstreams: string[];
  abs: (p: string) => string;
  proxy: boolean;
}

function checkRoute(route: RouteSpec, at: string, c: RouteContext, out: ConfigProblem[]): void {
  const actions = ACTIONS.filter((a) => route[a] !== undefined);
  if (actions.length !== 1) {
    out.push({
      path: at,
      message: actions.length === 0
        ? `needs one action: ${ACTIONS.join(", ")}`
        : `has ${actions.join(" and ")}: a route takes one action (split it in two routes)`,
    });
  }
  if (route.strip_prefix !== undefined && route.path !== undefined) {
    const literal = route.path.endsWith("*") ? route.path.slice(0, -1) : route.path;
    if (!literal.startsWith(route.strip_prefix)) {
      out.push({
        path: jsonPath(at, "strip_prefix"),
        message: `${JSON.stringify(route.strip_prefix)} does not begin the route's path ${
          JSON.stringify(route.path)
        }`,
      });
    }
  }
  fieldsProblems(route.respond?.headers, jsonPath(jsonPath(at, "respond"), "headers"), out);
  if (route.static !== undefined) {
    const s = route.static;
    const sat = jsonPath(at, "static");
    s.root = c.abs(s.root);
    if (!fileProblem(s.root, jsonPath(sat, "root"), "directory", out) && s.fallback !== undefined) {
      fileProblem(
        resolve(s.root, "." + s.fallback),
        jsonPath(sat, "fallback"),
        "file",
        out,
        `under ${s.root}`,
      );
    }
  }
  if (route.app !== undefined && !c.apps.includes(route.app)) {
    out.push({ path: jsonPath(at, "app"), message: unknownName("app", route.app, c.apps, "apps") });
  }
  if (route.uploads !== undefined) {
    const u = route.uploads;
    const uat = jsonPath(at, "uploads");
    u.dir = c.abs(u.dir);
    // Made on the first upload: its parent must be there.
    if (existsAs(u.dir) !== "directory") fileProblem(dirname(u.dir), jsonPath(uat, "dir"), "directory", out);
    for (const [user, hash] of Object.entries(u.users ?? {})) {
      if (!BCRYPT.test(hash)) {
        out.push({
          path: jsonPath(jsonPath(uat, "users"), user),
          message:
            "expected a bcrypt hash ($2b$…): make one with `htpasswd -nbB USER PASS` or Python's bcrypt",
        });
      }
    }
  }
  if (route.proxy !== undefined) {
    const pat = jsonPath(at, "proxy");
    if (!c.proxy) {
      out.push({
        path: pat,
        message:
          "the reverse proxy is not built yet in this ferry (issue 37): remove the route, or serve the path with an app",
      });
    } else if (typeof route.proxy === "string" && !c.upstreams.includes(route.proxy)) {
      out.push({ path: pat, message: unknownName("upstream", route.proxy, c.upstreams, "upstreams") });
    }
  }
}

function unknownName(kind: string, name: string, known: string[], key: string): string {
  const guess = didYouMean(name, known);
  if (guess !== undefined) {
    return `no ${kind} ${JSON.stringify(name)} (did you mean ${JSON.stringify(guess)}?)`;
  }
  return known.length === 0
    ? `no ${kind} ${JSON.stringify(name)}: define it under "${key}"`
    : `no ${kind} ${JSON.stringify(name)} (known: ${known.join(", ")})`;
}

/** Pushes a problem unless `path` is a `kind`; returns whether it pushed one. */
function fileProblem(
  path: string,
  at: string,
  kind: "file" | "directory",
  out: ConfigProblem[],
  where = "",
): boolean {
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(path);
  } catch (e) {
    const missing = e instanceof Deno.errors.NotFound;
    out.push({
      path: at,
      message: missing ? `no such ${kind}${where ? " " + where : ""}: ${path}` : `cannot read ${path}: ${e}`,
    });
    return true;
  }
  if (kind === "directory" ? !stat.isDirectory : !stat.isFile) {
    out.push({ path: at, message: `${path} is not a ${kind}` });
    return true;
  }
  return false;
}

/**
 * Splits `HOST:PORT` (`[::1]:8080` for IPv6).
 *
 * @example
 * ```ts
 * import { splitAddress } from "./resolve.ts";
 * console.log(splitAddress("[::1]:2019")); // { host: "::1", port: 2019 }
 * ```
 */
export function splitAddress(addr: string): { host: string; port: number } | undefined {
  const colon = addr.lastIndexOf(":");
  if (colon <= 0) return undefined;
  let host = addr.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(addr.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535 || host === "") return undefined;
  return { host, port };
}

function addressProblem(addr: string, at: string, out: ConfigProblem[]): boolean {
  if (splitAddress(addr) !== undefined) return false;
  out.push({
    path: at,
    message: `expected HOST:PORT with a port from 0 to 65535, got ${JSON.stringify(addr)}`,
  });
  return true;
}

function isLoopback(addr: string): boolean {
  const host = splitAddress(addr)!.host;
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function existsAs(path: string): "file" | "directory" | undefined {
  try {
    const st = Deno.statSync(path);
    return st.isDirectory ? "directory" : st.isFile ? "file" : undefined;
  } catch {
    return undefined;
  }
}

/** Header fields a response can carry: token names, values without control characters, none ferry manages. */
function fieldsProblems(fields: Record<string, string> | undefined, at: string, out: ConfigProblem[]): void {
  for (const [name, value] of Object.entries(fields ?? {})) {
    const fat = jsonPath(at, name);
    if (!isFieldName(name)) {
      out.push({ path: fat, message: "not a header name (letters, digits and !#$%&'*+-.^_`|~)" });
    } else if (MANAGED_FIELDS.has(name.toLowerCase())) {
      out.push({ path: fat, message: `${name} is set by ferry itself and cannot be configured` });
    } else if (!isFieldValue(value)) {
      out.push({ path: fat, message: "a header value cannot hold control characters" });
    }
  }
}

/** Fields ferry writes itself. */
const MANAGED_FIELDS = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "date",
  "server",
  "x-request-id",
]);
