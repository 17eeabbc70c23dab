/**
 * The admin API, in Caddy's shape, on its own loopback listener: `GET /config` gives the running
 * config as JSON (paths as resolved), `POST /load` takes a whole config (JSON or JSONC), checks
 * it, and swaps it in; an invalid one is `400 {"errors":[{"path","message"}]}` and the running
 * config stays. `GET /reverse_proxy/upstreams` lists the proxy's targets (Caddy's shape).
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { ServerRequest } from "../http/request.ts";
import { STATUS } from "../http/status.ts";
import type { Reloader } from "./reloader.ts";
import { upstreamStatus } from "../upstream/status.ts";

/** Largest config `POST /load` takes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const JSON_TYPE: [string, string] = ["Content-Type", "application/json"];

/**
 * The admin API's handler over `reloader`.
 *
 * @example
 * ```ts ignore
 * const admin = new Server({ host: "127.0.0.1", port: 2019, https: false }, { app: adminHandler(reloader) });
 * ```
 */
export function adminHandler(reloader: Reloader): Handler {
  return async function admin(req, res) {
    const send = (status: number, value: unknown) =>
      res.send(status, [JSON_TYPE], JSON.stringify(value, null, 2) + "\n");
    if (req.path === "/config" || req.path === "/config/") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return await res.send(STATUS.MethodNotAllowed, [["Allow", "GET, HEAD"]], "");
      }
      return await send(STATUS.OK, reloader.current.config);
    }
    if (req.path === "/load") {
      if (req.method !== "POST") return await res.send(STATUS.MethodNotAllowed, [["Allow", "POST"]], "");
      const text = await readText(req);
      if (text === undefined) {
        return await send(STATUS.ContentTooLarge, {
          errors: [{ path: "", message: `a config is at most ${MAX_CONFIG_BYTES} bytes` }],
        });
      }
      const result = await reloader.load(text);
      if (!result.ok) return await send(STATUS.BadRequest, { errors: result.problems });
      return await send(STATUS.OK, { ok: true, changes: result.changes });
    }
    if (req.path === "/reverse_proxy/upstreams") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return await res.send(STATUS.MethodNotAllowed, [["Allow", "GET, HEAD"]], "");
      }
      return await send(STATUS.OK, upstreamStatus());
    }
    return await send(STATUS.NotFound, {
      errors: [{
        path: "",
        message:
          `no ${req.path} here: the admin API has GET /config, POST /load and GET /reverse_proxy/upstreams`,
      }],
    });
  };
}

/** The request body as UTF-8, or undefined past {@linkcode MAX_CONFIG_BYTES}. */
async function readText(req: ServerRequest): Promise<string | undefined> {
  if (req.contentLength > MAX_CONFIG_BYTES) return undefined;
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of req.body) {
    n += chunk.length;
    if (n > MAX_CONFIG_BYTES) return undefined;
    chunks.push(chunk.slice());
  }
  const all = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}
