/**
 * The config the flags make (`ferry --check` without `--config`): one site whose routes are
 * today's mount table (uploads, `--static` mounts, the `--root` files, then the app), so an
 * operator can move from flags to a file.
 *
 * @module
 */

import type { CliConfig } from "../cli.ts";
import { resolveOptions } from "../options.ts";
import type { RouteSpec } from "../route/spec.ts";
import type { AppSpec, FerryConfig } from "./types.ts";

/** A `PREFIX/` mount as a route: `PREFIX/*`, with the prefix stripped. */
function mounted(prefix: string): Pick<RouteSpec, "path" | "strip_prefix"> {
  if (prefix === "/") return { path: "/*" };
  return { path: prefix + "*", strip_prefix: prefix.replace(/\/$/, "") };
}

/**
 * The config equivalent of `cli`'s flags.
 *
 * @example
 * ```ts ignore
 * console.log(JSON.stringify(flagsConfig(parseCli(["--root", "./site"])), null, 2));
 * ```
 */
export function flagsConfig(cli: CliConfig): FerryConfig {
  const o = resolveOptions(cli.options);
  const dotfiles = o.dotfiles === "allow";
  const files = (root: string) => ({ root, browse: o.dirListing, dotfiles, cache_control: o.cacheControl });
  const routes: RouteSpec[] = [{
    path: "/uploads/*",
    uploads: { dir: o.uploadDir, max_bytes: o.maxUploadBytes },
  }];
  for (const m of o.staticMounts) routes.push({ ...mounted(m.prefix), static: files(m.dir) });
  if (o.root !== "") routes.push({ ...mounted(o.staticPrefix), static: files(o.root) });
  const apps: Record<string, AppSpec> = {};
  const w = cli.wsgi;
  if (w !== undefined) {
    const app: AppSpec = w.interface === "asgi" ? { asgi: w.app } : { wsgi: w.app };
    if (w.python !== undefined) app.python = w.python;
    if (w.chdir !== undefined) app.chdir = w.chdir;
    if (w.pythonpath !== undefined) app.pythonpath = w.pythonpath;
    if (w.workers !== undefined) app.workers = w.workers;
    if (w.threads !== undefined) app.threads = w.threads;
    if (w.timeout !== undefined) app.timeout = w.timeout;
    apps.app = app;
  } else if (o.app !== "") apps.app = { module: o.app };
  if (apps.app !== undefined) routes.push({ path: "/*", app: "app" });
  return {
    $schema: "./ferry.schema.json",
    ...(Object.keys(apps).length > 0 ? { apps } : {}),
    sites: [{ routes }],
  };
}
