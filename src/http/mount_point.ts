/**
 * Where a route mounted the app that serves a request (`strip_prefix`): WSGI's `SCRIPT_NAME`
 * and ASGI's `root_path`, the path below it their `PATH_INFO` and `path` (PEP 3333, the ASGI
 * spec). Kept beside the request, not in it: most requests have none.
 *
 * @module
 */

import type { ServerRequest } from "./request.ts";

const points = new WeakMap<ServerRequest, string>();

/**
 * Records that `req` is served by an app mounted at `prefix` (no trailing `/`).
 *
 * @example
 * ```ts ignore
 * setMountPoint(req, "/blog"); // then SCRIPT_NAME is "/blog", PATH_INFO the rest
 * ```
 */
export function setMountPoint(req: ServerRequest, prefix: string): void {
  points.set(req, prefix);
}

/** The prefix `req`'s app is mounted at; `""` at the root. */
export function mountPoint(req: ServerRequest): string {
  return points.get(req) ?? "";
}

/** `req.path` below its mount point (`/` when it is the mount point itself). */
export function pathBelowMount(req: ServerRequest): string {
  const prefix = points.get(req);
  if (prefix === undefined) return req.path;
  const rest = req.path.slice(prefix.length);
  return rest === "" ? "/" : rest;
}
