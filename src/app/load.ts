/**
 * `--app PATH`: imports a module and turns its default export into a handler. A function is a
 * WSGI-style app; an object with a `fetch` method is a fetch handler (`deno serve`, Hono).
 *
 * @module
 */

import { resolve } from "path";
import { pathToFileURL } from "node:url";
import type { Handler } from "../http/dispatch.ts";
import type { Logger } from "../log/logger.ts";
import { type FetchApp, fetchHandler } from "./fetch.ts";
import { type App, wsgiHandler } from "./wsgi.ts";

/** Which kind of app a module exports. */
export type AppKind = "wsgi" | "fetch";

/**
 * The handler for a module's default export (already imported).
 *
 * @example
 * ```ts ignore
 * const { handler, kind } = appFromExport(mod.default, log);
 * ```
 */
export function appFromExport(exported: unknown, log: Logger): { handler: Handler; kind: AppKind } {
  if (typeof exported === "function") {
    return { handler: wsgiHandler(exported as App, { log }), kind: "wsgi" };
  }
  if (
    exported !== null && typeof exported === "object" &&
    typeof (exported as { fetch?: unknown }).fetch === "function"
  ) {
    return { handler: fetchHandler(exported as FetchApp), kind: "fetch" };
  }
  throw new TypeError(
    "the app module's default export must be a WSGI-style app (a function) or an object with a fetch method",
  );
}

/** The `--app` module could not be used (missing, does not import, wrong export): a bad file. */
export class AppLoadError extends Error {
  /** Wraps why `path` could not be loaded. */
  constructor(path: string, cause: unknown) {
    super(`--app ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "AppLoadError";
  }
}

/**
 * Imports the module at `path` (relative to the working directory) and makes its handler; any
 * failure is an {@linkcode AppLoadError}.
 */
export async function loadApp(path: string, log: Logger): Promise<{ handler: Handler; kind: AppKind }> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)
    ? path
    : pathToFileURL(resolve(path)).href;
  try {
    const mod = await import(url);
    if (!("default" in mod)) throw new TypeError(`${path} has no default export`);
    return appFromExport(mod.default, log);
  } catch (e) {
    throw new AppLoadError(path, e);
  }
}
