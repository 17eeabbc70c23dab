/**
 * A config's `"apps"`, each running with its own workers: a Python WSGI or ASGI app behind its
 * own {@linkcode PythonPool}, or a TypeScript module. A reload keeps an app whose settings did not
 * change (its workers go on); one that changed or went away is closed once its requests in flight
 * have ended.
 *
 * @module
 */

import type { Handler } from "../http/dispatch.ts";
import type { Logger } from "../log/logger.ts";
import type { Stats } from "../stats.ts";
import type { AppSpec } from "./types.ts";
import { PythonPool } from "../app/python/pool.ts";
import { resolveWsgiOptions, type WsgiGatewayOptions } from "../app/python/wsgi_options.ts";
import { pythonHandler } from "../app/python/gateway.ts";
import { asgiHandler } from "../app/python/asgi_gateway.ts";
import { AsgiStartupError, WsgiImportError } from "../app/python/python_worker.ts";
import { loadApp } from "../app/load.ts";
import type { ConfigProblem } from "./validate.ts";
import { jsonPath } from "./validate.ts";

/** One running app. */
export class LiveApp {
  /** The app's name under `"apps"`. */
  readonly name: string;
  /** Its settings as JSON: equal settings, same app. */
  readonly key: string;
  /** Serves its requests (counted while in flight). */
  readonly handler: Handler;
  /** What it runs on, for the start-up line. */
  readonly summary: string;
  #inflight = 0;
  #idle: (() => void) | undefined;
  #close: () => Promise<void>;

  /** An app around `handler`; `close` stops what it runs on. */
  constructor(name: string, key: string, handler: Handler, summary: string, close: () => Promise<void>) {
    this.name = name;
    this.key = key;
    this.summary = summary;
    this.#close = close;
    this.handler = async (req, res) => {
      this.#inflight++;
      try {
        await handler(req, res);
      } finally {
        if (--this.#inflight === 0) this.#idle?.();
      }
    };
  }

  /** Requests in flight. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Waits for its requests to end (at most `graceMs`), then stops it. */
  async retire(graceMs: number): Promise<void> {
    if (this.#inflight > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
    await this.#close();
  }
}

/** The gateway options of a Python app's settings. */
export function wsgiOptionsOf(app: AppSpec): WsgiGatewayOptions {
  const asgi = app.asgi !== undefined;
  const o: WsgiGatewayOptions = {
    app: (app.asgi ?? app.wsgi)!,
    interface: asgi ? "asgi" : "wsgi",
    asgi: app.asgi ?? "",
  };
  if (app.python !== undefined) o.python = app.python;
  if (app.chdir !== undefined) o.chdir = app.chdir;
  if (app.pythonpath !== undefined) o.pythonpath = app.pythonpath;
  if (app.workers !== undefined) o.workers = app.workers;
  if (app.threads !== undefined) o.threads = app.threads;
  if (app.concurrency !== undefined) o.concurrency = app.concurrency;
  if (app.timeout !== undefined) o.timeout = app.timeout;
  if (app.max_requests !== undefined) o.maxRequests = app.max_requests;
  if (app.max_queue !== undefined) o.maxQueue = app.max_queue;
  if (app.queue_timeout !== undefined) o.queueTimeout = app.queue_timeout;
  if (app.lifespan !== undefined) o.lifespan = app.lifespan;
  return o;
}

/**
 * Starts the app `name` (or takes it from `previous` when its settings are the same). A start
 * that fails is a problem at the app's JSON path, with the traceback or the module's error.
 */
export async function startApp(
  name: string,
  spec: AppSpec,
  log: Logger,
  stats: Stats,
  previous: ReadonlyMap<string, LiveApp> | undefined,
): Promise<LiveApp | ConfigProblem> {
  const key = JSON.stringify(spec);
  const kept = previous?.get(name);
  if (kept !== undefined && kept.key === key) return kept;
  const at = jsonPath("apps", name);
  if (spec.module !== undefined) {
    try {
      const { handler, kind } = await loadApp(spec.module, log);
      return new LiveApp(name, key, handler, `${kind} module ${spec.module}`, () => Promise.resolve());
    } catch (e) {
      return { path: jsonPath(at, "module"), message: e instanceof Error ? e.message : String(e) };
    }
  }
  let resolved;
  try {
    resolved = resolveWsgiOptions(wsgiOptionsOf(spec));
  } catch (e) {
    return { path: at, message: e instanceof Error ? e.message : String(e) };
  }
  const pool = new PythonPool(resolved, log, stats, name);
  try {
    await pool.start();
  } catch (e) {
    await pool.close().catch(() => {});
    const kind = resolved.interface === "asgi" ? "asgi" : "wsgi";
    if (e instanceof WsgiImportError) {
      return {
        path: jsonPath(at, kind),
        message: `${e.message}\n${e.traceback.trimEnd()}\n(check chdir and pythonpath)`,
      };
    }
    if (e instanceof AsgiStartupError) return { path: at, message: `${e.message}\n${e.detail.trimEnd()}` };
    return { path: at, message: `the Python workers did not start: ${e instanceof Error ? e.message : e}` };
  }
  const handler = resolved.interface === "asgi"
    ? asgiHandler(pool, { log, stats })
    : pythonHandler(pool, { log, stats });
  const summary = `${pool.size} Python workers (${resolved.interface.toUpperCase()}) serve ${resolved.app}`;
  return new LiveApp(name, key, handler, summary, () => pool.close());
}
