/**
 * A static route's `fallback` (Caddy's `try_files {path} /index.html`): a GET or HEAD for a path
 * with no file is answered with one file of the root (an SPA's `index.html`), 200 with that file's
 * own validators, so the app's router takes the deep link (`/dashboard/settings`). A path whose
 * last segment has a file extension (`/assets/x.js`) still gets 404: a missing asset must not
 * turn into HTML that the browser then fails to run.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import { sendError } from "../http/error_page.ts";
import { STATUS } from "../http/status.ts";
import { FileCache } from "./cache.ts";
import { serveFile, type StaticOptions } from "./serve_static.ts";

/**
 * The fallback handler for the file at `file` (an absolute path), served with `options`' headers.
 *
 * @example
 * ```ts ignore
 * const files = staticHandler({ root: "./dist", prefix: "/", fallback: spaFallback("./dist/index.html", {}) });
 * ```
 */
export function spaFallback(file: string, options: Omit<StaticOptions, "root">): Handler {
  const cache = new FileCache(4 * 1024 * 1024, 1024 * 1024);
  return async function spaFallback(req, res): Promise<void> {
    const method = req.method;
    const accept = req.headers.get("accept");
    if (method !== "GET" && method !== "HEAD") {
      if (method === "OPTIONS") return await res.send(STATUS.NoContent, [["Allow", "GET, HEAD, OPTIONS"]]);
      return await sendError(res, accept, STATUS.MethodNotAllowed, "Method Not Allowed", [[
        "Allow",
        "GET, HEAD, OPTIONS",
      ]]);
    }
    const last = req.path.slice(req.path.lastIndexOf("/") + 1);
    if (last.includes(".")) return await sendError(res, accept, STATUS.NotFound, "Not Found");
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(file);
    } catch {
      return await sendError(res, accept, STATUS.NotFound, "Not Found");
    }
    if (!stat.isFile) return await sendError(res, accept, STATUS.NotFound, "Not Found");
    await serveFile(req, res, file, stat, { ...options, root: file }, cache);
  };
}
