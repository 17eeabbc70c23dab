/**
 * Starts ferry with the Python WSGI gateway in this process: real Python workers (Debian's
 * /usr/bin/python3, which has Flask and Django; the `python3` on PATH may not), a real server on
 * port 0, and the logs kept in memory so tests can read them.
 *
 * @module
 */

import { join } from "./paths.ts";
import { MemorySink, ROOT, type StartOptions, startServer, type TestServer } from "./server.ts";
import { Logger } from "../../src/log/logger.ts";
import { Stats } from "../../src/stats.ts";
import { pythonHandler } from "../../src/app/python/gateway.ts";
import { PythonPool } from "../../src/app/python/pool.ts";
import { asgiHandler } from "../../src/app/python/asgi_gateway.ts";
import { resolveWsgiOptions, type WsgiGatewayOptions } from "../../src/app/python/wsgi_options.ts";

/** The interpreter with Debian's Flask and Django. */
export const PYTHON = "/usr/bin/python3";
/** The test apps. */
export const APPS: string = join(ROOT, "tests", "app", "python", "apps");

/** A running gateway. */
export interface WsgiServer extends TestServer {
  /** The worker pool. */
  pool: PythonPool;
  /** Counters. */
  stats: Stats;
  /** Everything logged (access lines are off; errors, warnings and the workers' output). */
  logText(): string;
}

/** Whether `module` imports in {@linkcode PYTHON} (false where Flask or Django is not installed). */
export function pythonHas(module: string): boolean {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", `import ${module}`], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** {@linkcode startWsgi} for an ASGI app. */
export function startAsgi(
  app: string,
  options: Partial<WsgiGatewayOptions> = {},
  server: Omit<StartOptions, "handler" | "log" | "stats"> = {},
): Promise<WsgiServer> {
  return startWsgi(app, { interface: "asgi", ...options }, server);
}

/** Starts the pool for `app` (in tests/app/python/apps), then a server in front of it. */
export async function startWsgi(
  app: string,
  wsgi: Partial<WsgiGatewayOptions> = {},
  server: Omit<StartOptions, "handler" | "log" | "stats"> = {},
): Promise<WsgiServer> {
  const sink = new MemorySink();
  const log = new Logger("none", sink, sink, "debug");
  const stats = new Stats();
  const pool = new PythonPool(
    resolveWsgiOptions({ app, chdir: APPS, python: PYTHON, workers: 2, ...wsgi }),
    log,
    stats,
  );
  await pool.start();
  const handler = pool.options.interface === "asgi"
    ? asgiHandler(pool, { log, stats })
    : pythonHandler(pool, { log, stats });
  const s = await startServer({ handler, log, stats, ...server });
  return {
    ...s,
    pool,
    stats,
    logText: () => sink.text,
    async [Symbol.asyncDispose]() {
      await pool.close();
      await s.server.shutdown();
    },
  };
}
