/**
 * ferry's public API for embedding: start a server with {@linkcode serve}, or build one from
 * parts with {@linkcode Server}.
 *
 * @example
 * ```ts ignore
 * import { serve } from "./mod.ts";
 * const server = await serve({ port: 0, https: false });
 * console.log(server.urls);
 * await server.shutdown();
 * ```
 *
 * @module
 */

import type { Handler, Mount } from "./dispatch.ts";
import type { ServerOptions } from "./options.ts";
import { Server, type ServerParts } from "./server.ts";
import { defaultApp } from "./app/default_app.ts";

export { Dispatcher, type Handler, type Mount } from "./dispatch.ts";
export {
  DEFAULT_OPTIONS,
  type LogFormat,
  type ResolvedOptions,
  resolveOptions,
  type ServerOptions,
} from "./options.ts";
export { Server, type ServerParts, type TlsMaterial } from "./server.ts";
export { ServerRequest } from "./http1/request.ts";
export { type ResponseHeaders, ResponseWriter } from "./http1/writer.ts";
export { HeaderList } from "./http1/headers.ts";
export { Body } from "./http1/body.ts";
export { ParseError, type ParseErrorCode } from "./http1/parser.ts";
export { STATUS, STATUS_TEXT } from "./http1/status.ts";
export { Stats } from "./metrics/stats.ts";
export { Logger } from "./log/logger.ts";

/** A handler that answers 404: the place of a module that is switched off. */
export const notFound: Handler = async function notFound(_req, res) {
  await res.send(404, [["Content-Type", "text/plain; charset=utf-8"]], "Not Found\n");
};

/**
 * The default mount table for `options`: `/_metrics`, `/uploads/`, `/static/`, in that order
 * (the app takes every other path).
 */
export function defaultMounts(_options: ServerOptions): Mount[] {
  return [
    { name: "metrics", prefix: "/_metrics", handler: notFound },
    { name: "uploads", prefix: "/uploads/", handler: notFound },
    { name: "static", prefix: "/static/", handler: notFound },
  ];
}

/**
 * Builds a server with ferry's default mounts and the given (or built-in) app, and starts it.
 */
export async function serve(options: ServerOptions = {}, parts: Partial<ServerParts> = {}): Promise<Server> {
  const server = new Server(options, {
    mounts: parts.mounts ?? defaultMounts(options),
    app: parts.app ?? defaultApp,
    tls: parts.tls,
    log: parts.log,
    stats: parts.stats,
  });
  await server.listen();
  return server;
}
