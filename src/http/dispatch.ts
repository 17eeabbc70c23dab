/**
 * The handler contract the connection loop calls (`Handler`, `Mount`), kept beside that loop so
 * nothing in http1 imports upward, and the dispatcher: a mount table from path prefixes to
 * handlers. ferry's default table is, in order, `/_health` and `/_ready`, `/_metrics`,
 * `/_dashboard/`, `/uploads/`, the static files, then the app for every other path.
 *
 * @module
 */

import type { RequestFields, ServerRequest } from "./request.ts";
import type { ResponseWriter } from "./writer.ts";

/**
 * A request handler. It answers through `res` and may read `req.body`; it never sees the socket.
 * Whatever it throws before answering becomes a 500; after answering, the connection closes.
 *
 * @example
 * ```ts ignore
 * const hello: Handler = async function hello(_req, res) {
 *   await res.send(200, [["content-type", "text/plain"]], "hello\n");
 * };
 * ```
 */
export type Handler = (req: ServerRequest, res: ResponseWriter) => void | Promise<void>;

/** One entry of the mount table. */
export interface Mount {
  /** Name used in logs and metrics (`static`, `app`, …). */
  name: string;
  /**
   * Path prefix. A prefix ending in `/` matches every path below it and the bare directory path
   * (`/static` for `/static/`); any other prefix matches exactly.
   */
  prefix: string;
  /** The handler. */
  handler: Handler;
  /** Largest request body for this mount; the server's `maxBodyBytes` when absent. */
  maxBodyBytes?: number;
  /** Called once when the server has stopped (a proxy's pool closes its kept connections). */
  close?: () => void;
}

/**
 * What a connection asks for each request: the mount that serves it. The flags' {@linkcode Dispatcher}
 * looks at the path only; a config file's route table (`src/route/table.ts`) also at the host, the
 * method and the header fields of `head`.
 */
export interface Router {
  /** The mount that handles a request for `path` (its head, when the router needs more). */
  route(path: string, head?: RequestFields): Mount;
}

/**
 * Routes a raw request path to the first mount that matches, else to the fallback (the app).
 *
 * @example
 * ```ts ignore
 * const d = new Dispatcher([{ name: "static", prefix: "/static/", handler: serveStatic }], app);
 * d.route("/static/a.css").name; // "static"
 * ```
 */
export class Dispatcher implements Router {
  /** The mounts, in matching order. */
  readonly mounts: readonly Mount[];
  /** The mount for paths no other mount takes. */
  readonly fallback: Mount;

  /**
   * A dispatcher over `mounts` (copied: the table is fixed once the dispatcher is made, and the
   * last path routed is remembered with its mount), falling back to `fallback`.
   */
  constructor(mounts: Mount[], fallback: Mount) {
    for (const m of mounts) {
      if (!m.prefix.startsWith("/")) throw new TypeError(`mount prefix must start with /: ${m.prefix}`);
    }
    this.mounts = [...mounts]; // a copy: what route() remembers stays true
    this.fallback = fallback;
  }

  /** The last path routed and its mount: keep-alive clients ask for the same path again and again. */
  #lastPath: string | undefined;
  #lastMount: Mount | undefined;

  /** The mount that handles `path`. */
  route(path: string): Mount {
    if (path === this.#lastPath) return this.#lastMount!;
    const m = this.#match(path);
    this.#lastPath = path;
    this.#lastMount = m;
    return m;
  }

  #match(path: string): Mount {
    const mounts = this.mounts;
    for (let i = 0; i < mounts.length; i++) {
      const m = mounts[i];
      const prefix = m.prefix;
      if (prefix.endsWith("/")) {
        if (path.startsWith(prefix) || (path.length === prefix.length - 1 && prefix.startsWith(path))) {
          return m;
        }
      } else if (path === prefix) {
        return m;
      }
    }
    return this.fallback;
  }
}
