/**
 * What `deno task bench` measures, as one table: each scenario names its servers, its load, its
 * metric and its targets (ratios between two of its servers). `bench.ts` runs them; the HTTP/2
 * rows (`bench_h2.ts`) and the ASGI rows (`bench_python.ts`) are declared in their own files and
 * listed here by id, so that `--only` and the order of the table cover them too.
 *
 * @module
 */

import { join } from "node:path";
import {
  freePort,
  gunicornBin,
  nginxBin,
  nodeBin,
  type Peer,
  pinned,
  PYTHON,
  ROOT,
  type Row,
  spawn,
  startDenoPeer,
  startDenoServe,
  startFerry,
  startNode,
  waitForPort,
  which,
} from "./bench_kit.ts";
import { caddyBin, startCaddyProxy, startFerryProxy, startNginxProxy } from "./bench_proxy.ts";

/** The long-lived peers every scenario may use (absent ones are left out of its rows). */
export type PeerName = "ferry" | "Deno.serve" | "node:http" | "nginx" | "raw ceiling" | "ferry native";

/** One server of a scenario. */
export interface ServerSpec {
  /** Its name in the results. */
  name: string;
  /** A long-lived peer; or else `start`. */
  peer?: PeerName;
  /** A server this scenario starts (in `dir`, for `round`), stopped when it is done. */
  start?: (dir: string, round: number) => Promise<Peer>;
  /** Started anew every round and warmed up for a second (so every configuration has the same history). */
  fresh?: boolean;
  /** The port asked: HTTP (the default), HTTPS, or nginx's twin with an access log. */
  port?: "http" | "https" | "logged";
  /** The path asked for. */
  path: string;
}

/** How a scenario loads its servers. */
export interface Load {
  /** HTTP requests (wrk or loadgen), WebSocket echo messages, or idle connections held open. */
  kind: "http" | "ws" | "idle";
  /** Concurrent connections (sockets; idle connections held). */
  connections: number;
  /** Idle connections held in a `--quick` run. */
  quickConnections?: number;
  /** A wrk script: 16 requests pipelined, or a 10 MiB PUT. */
  script?: "pipeline" | "put";
}

/** What a row reports. */
export type Metric = "req/s" | "MiB/s" | "msg/s" | "KiB";

/** A ratio a row shows: `of` (ferry by default) over `peer`, and what it should reach. */
export interface Target {
  /** The server on top (ferry when absent). */
  of?: string;
  /** The server under it. */
  peer: string;
  /** How the peer is named in the table, when not by its name. */
  label?: string;
  /** The ratio wanted (issue 19's targets and later ones). */
  target?: number;
  /** Whether a smaller ratio is better (memory). */
  lowerIsBetter?: boolean;
}

/** One row of the bench. */
export interface Scenario {
  /** Its `--only` id (several scenarios may share one). */
  id: string;
  /** Its name in the table; `{n}` is the number of connections. */
  name: string;
  /** The servers measured against each other. */
  servers: ServerSpec[];
  /** The load. */
  load: Load;
  /** The metric. */
  metric: Metric;
  /** The ratios shown; those naming a server that is not there are left out. */
  targets: Target[];
  /** Why it cannot run on this machine, if it cannot. */
  missing?: () => string | undefined;
  /** Whether the row also reports each server's CPU µs per request (from `/proc`). */
  cpu?: boolean;
}

/** Rows declared elsewhere (HTTP/2 in `bench_h2.ts`, HTTP/3 in `bench_h3.ts`, ASGI in `bench_python.ts`), run by `bench.ts`. */
export interface Delegated {
  /** Its `--only` id. */
  id: "asgi" | "h2" | "h3";
  /** Where its scenarios are declared. */
  declaredIn: string;
}

const hello = (name: string, peer: PeerName, port: ServerSpec["port"] = "http"): ServerSpec => ({
  name,
  peer,
  port,
  path: "/hello",
});

/** The pure WSGI hello and the Flask hello, written into `dir/wsgi` (once). */
async function wsgiApps(dir: string): Promise<string> {
  const apps = join(dir, "wsgi");
  await Deno.mkdir(apps, { recursive: true });
  await Deno.writeTextFile(
    join(apps, "pure.py"),
    `def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world\\n"]
`,
  );
  await Deno.writeTextFile(
    join(apps, "flaskhello.py"),
    `from flask import Flask
app = Flask(__name__)

@app.route("/hello")
def hello():
    return "Hello world\\n"
`,
  );
  return apps;
}

/** uWSGI with its Python plugin (Debian's `uwsgi` and `uwsgi-plugin-python3`), when installed. */
const uwsgiBin = await which("uwsgi");

/** uWSGI's own HTTP socket, one process, the app from `dir/wsgi`. */
function uwsgiServer(app: string): ServerSpec {
  return {
    name: "uWSGI",
    path: "/hello",
    start: async (dir) => {
      const apps = await wsgiApps(dir);
      const port = freePort();
      const child = spawn(
        pinned(0, [
          uwsgiBin!,
          "--plugin",
          "python3",
          "--http-socket",
          `127.0.0.1:${port}`,
          "--processes",
          "1",
          "--chdir",
          apps,
          "--module",
          app,
          "--disable-logging",
          "--master",
          "--die-on-term", // SIGTERM is a reload to uWSGI otherwise
        ]),
      );
      const peer: Peer = { name: "uWSGI", child, http: port };
      await waitForPort(port, child, "uWSGI");
      return peer;
    },
  };
}

/**
 * ferry's Python gateway, gunicorn's sync worker and (when installed) uWSGI on the same app, one
 * Python worker each.
 */
function wsgiServers(app: string): ServerSpec[] {
  return [
    {
      name: "ferry",
      path: "/hello",
      start: async (dir) =>
        startFerry("ferry --wsgi", dir, [
          "--log-format",
          "none",
          "--wsgi",
          app,
          "--wsgi-workers",
          "1",
          "--wsgi-python",
          PYTHON,
          "--wsgi-chdir",
          await wsgiApps(dir),
        ]),
    },
    {
      name: "gunicorn",
      path: "/hello",
      start: async (dir) => {
        const apps = await wsgiApps(dir);
        const port = freePort();
        const child = spawn(
          pinned(0, [gunicornBin!, "-w", "1", "-b", `127.0.0.1:${port}`, "--chdir", apps, app]),
        );
        const peer: Peer = { name: "gunicorn", child, http: port };
        await waitForPort(port, child, "gunicorn");
        return peer;
      },
    },
    ...(uwsgiBin ? [uwsgiServer(app)] : []),
  ];
}

const noProxyPeers = () =>
  !nginxBin
    ? "nginx is missing (apt-get install nginx-light): the proxy rows are skipped"
    : !caddyBin
    ? "caddy is missing (apt-get install caddy): the proxy rows are skipped"
    : undefined;

const noGunicorn = () =>
  gunicornBin ? undefined : "gunicorn is missing (apt-get install gunicorn): the wsgi rows are skipped";

/** The JSON access log of a fresh ferry, one file per round. */
const accessLog = (
  dir: string,
  round: number,
) => ["--log-format", "json", "--log-file", join(dir, `access-${round}.log`)];

/** A ferry started anew each round with `flags`, asked for `/hello`. */
const freshFerry = (name: string, flags: (dir: string, round: number) => string[]): ServerSpec => ({
  name,
  fresh: true,
  path: "/hello",
  start: (dir, round) => startFerry(name, dir, flags(dir, round)),
});

/**
 * A fetch app file served two ways: `ferry --app FILE` and `deno serve FILE`, both asked `path`.
 */
const sameApp = (label: string, file: string, path: string): ServerSpec[] => [
  {
    name: "ferry",
    path,
    start: (dir) =>
      startFerry(`ferry --app ${label}`, dir, ["--log-format", "none", "--app", join(ROOT, file)]),
  },
  { name: "deno serve", path, start: () => startDenoServe(`deno serve ${label}`, join(ROOT, file)) },
];

/**
 * A config of `sites` sites with `routes` routes each, written to `dir`; `/hello` is the last route
 * of the last site (the one without hosts), so a request goes past every other site and route.
 */
async function routesConfig(dir: string, sites: number, routes: number): Promise<string> {
  const hello = { path: "/hello", respond: { body: "Hello, World!\n" } };
  const other = (s: number, r: number) => ({ path: `/s${s}/r${r}/*`, respond: { body: `${s}.${r}\n` } });
  const config = {
    sites: Array.from({ length: sites }, (_, s) => ({
      ...(s < sites - 1 ? { hosts: [`s${s}.test`, `*.s${s}.test`] } : {}),
      routes: Array.from(
        { length: routes },
        (_, r) => (s === sites - 1 && r === routes - 1 ? hello : other(s, r)),
      ),
    })),
  };
  const file = join(dir, `routes-${sites}x${routes}.json`);
  await Deno.writeTextFile(file, JSON.stringify(config));
  return file;
}

/** A ferry started anew each round from a config of `sites` × `routes`. */
const configFerry = (name: string, sites: number, routes: number): ServerSpec => ({
  name,
  fresh: true,
  path: "/hello",
  start: async (dir) =>
    startFerry(name, dir, ["--config", await routesConfig(dir, sites, routes), "--log-format", "none"]),
});

/** Every scenario, in the order of the table. */
export const SCENARIOS: ReadonlyArray<Scenario | Delegated> = [
  {
    id: "hello",
    name: "hello, keep-alive, 50 connections",
    servers: [
      hello("ferry", "ferry"),
      hello("Deno.serve", "Deno.serve"),
      hello("node:http", "node:http"),
      hello("nginx", "nginx"),
      hello("raw ceiling", "raw ceiling"),
      hello("ferry native", "ferry native"),
    ],
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    cpu: true,
    targets: [
      // The stricter of issue 19's (0.9x the ceiling, 0.95x Deno.serve) and issue 39's (0.85x, 1.1x).
      { peer: "raw ceiling", target: 0.9 },
      { peer: "Deno.serve", target: 1.1 },
      { peer: "node:http" },
      { peer: "nginx" },
      // The engine alone (a bare handler, as the Deno.serve peer is), against the same two.
      { of: "ferry native", peer: "raw ceiling" },
      { of: "ferry native", peer: "Deno.serve" },
      { of: "raw ceiling", peer: "Deno.serve" },
    ],
  },
  {
    id: "pipelined",
    name: "hello, pipelined 16 deep",
    servers: [
      hello("ferry", "ferry"),
      hello("Deno.serve", "Deno.serve"),
      hello("node:http", "node:http"),
      hello("raw ceiling", "raw ceiling"),
    ],
    load: { kind: "http", connections: 50, script: "pipeline" },
    metric: "req/s",
    targets: [
      // Issue 19's targets (issue 39 asks 0.45x the ceiling and 3x Deno.serve: these are stricter).
      { peer: "raw ceiling", target: 0.5 },
      { peer: "Deno.serve", target: 5 },
      { peer: "node:http" },
      { of: "raw ceiling", peer: "Deno.serve" },
    ],
  },
  {
    id: "fetchapp",
    name: "fetch app `GET /json` (Response.json): the same file under ferry --app and deno serve",
    servers: sameApp("fetch app", "scripts/peers/fetch_app.ts", "/json"),
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    cpu: true,
    // Issue 39: at least as fast as Deno's own server on the same file.
    targets: [{ peer: "deno serve", target: 1.0 }],
  },
  {
    id: "hono",
    name: "Hono app `GET /json` (c.json): the same file under ferry --app and deno serve",
    servers: sameApp("hono", "scripts/peers/hono_app.ts", "/json"),
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    cpu: true,
    targets: [{ peer: "deno serve", target: 1.0 }],
  },
  {
    id: "static4k",
    name: "static 4 KiB file",
    servers: [
      { name: "ferry", peer: "ferry", path: "/static/bench-4k.bin" },
      { name: "nginx", peer: "nginx", path: "/static/bench-4k.bin" },
      { name: "raw ceiling", peer: "raw ceiling", path: "/static/bench-4k.bin" },
    ],
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    cpu: true,
    targets: [
      { peer: "nginx", target: 1.0 },
      { peer: "raw ceiling", label: "raw ceiling (4 KiB constant)" },
      { of: "raw ceiling", peer: "nginx" },
    ],
  },
  {
    id: "static1m",
    name: "static 1 MiB file",
    servers: [
      { name: "ferry", peer: "ferry", path: "/static/bench-1m.bin" },
      { name: "nginx", peer: "nginx", path: "/static/bench-1m.bin" },
    ],
    load: { kind: "http", connections: 50 },
    metric: "MiB/s",
    cpu: true,
    targets: [{ peer: "nginx", target: 0.8 }],
  },
  {
    id: "proxy",
    name: "proxied hello: the proxy on CPU 0, the same nginx upstream on CPU 1",
    servers: [
      { name: "ferry", path: "/hello", start: (dir) => startFerryProxy(dir) },
      { name: "caddy", path: "/hello", start: (dir) => startCaddyProxy(dir) },
      { name: "nginx", path: "/hello", start: (dir) => startNginxProxy(dir) },
    ],
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    cpu: true,
    // Issue 37: at least Caddy's reverse_proxy, 0.7x nginx's proxy_pass with upstream keep-alive.
    targets: [{ peer: "caddy", target: 1.0 }, { peer: "nginx", target: 0.7 }],
    missing: noProxyPeers,
  },
  {
    id: "proxy",
    name: "proxied 1 MiB response",
    servers: [
      { name: "ferry", path: "/static/bench-1m.bin", start: (dir) => startFerryProxy(dir) },
      { name: "nginx", path: "/static/bench-1m.bin", start: (dir) => startNginxProxy(dir) },
    ],
    load: { kind: "http", connections: 50 },
    metric: "MiB/s",
    cpu: true,
    targets: [{ peer: "nginx", target: 0.8 }],
    missing: noProxyPeers,
  },
  {
    id: "https",
    name: "HTTPS hello, keep-alive",
    servers: [
      hello("ferry", "ferry", "https"),
      hello("Deno.serve", "Deno.serve", "https"),
      hello("raw ceiling", "raw ceiling", "https"),
    ],
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    cpu: true,
    targets: [
      { peer: "raw ceiling", target: 0.9 },
      { peer: "Deno.serve", target: 1.0 },
      { of: "raw ceiling", peer: "Deno.serve" },
    ],
  },
  {
    id: "put",
    name: "10 MiB PUT (ferry stores it, fsync'd; peers discard)",
    servers: [
      { name: "ferry", peer: "ferry", path: "/uploads/bench.bin" },
      { name: "Deno.serve", peer: "Deno.serve", path: "/upload" },
      { name: "node:http", peer: "node:http", path: "/upload" },
    ],
    load: { kind: "http", connections: 4, script: "put" },
    metric: "req/s",
    targets: [{ peer: "Deno.serve" }, { peer: "node:http" }],
  },
  {
    id: "observability",
    name: "hello: JSON access log to a file + metrics, against neither (fresh servers each round)",
    servers: [
      freshFerry("ferry+logs", accessLog),
      freshFerry("ferry bare", () => ["--log-format", "none", "--no-metrics"]),
      freshFerry("ferry log only", (dir, round) => [...accessLog(dir, round), "--no-metrics"]),
      freshFerry("ferry metrics only", () => ["--log-format", "none"]),
      // What `deno task start` does: plain lines to stdout (here /dev/null), and metrics.
      freshFerry("ferry defaults", () => []),
      // nginx's own price for the same JSON line, buffered as ferry's is.
      hello("nginx", "nginx"),
      hello("nginx+log", "nginx", "logged"),
    ],
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    targets: [
      { of: "ferry+logs", peer: "ferry bare", target: 0.95 },
      // The split: each half alone against neither.
      { of: "ferry log only", peer: "ferry bare" },
      { of: "ferry metrics only", peer: "ferry bare" },
      { of: "ferry defaults", peer: "ferry bare" },
      { of: "nginx+log", peer: "nginx" },
    ],
  },
  {
    id: "routes",
    name: "hello through a config: 10 sites × 5 routes against one route (fresh servers each round)",
    servers: [configFerry("ferry 50 routes", 10, 5), configFerry("ferry 1 route", 1, 1)],
    load: { kind: "http", connections: 50 },
    metric: "req/s",
    // Issue 36: routing through 50 routes and 10 sites costs at most 5% of hello throughput.
    targets: [{ of: "ferry 50 routes", peer: "ferry 1 route", target: 0.95 }],
  },
  {
    id: "wsgi",
    name: "pure WSGI hello, 1 Python worker each, 10 connections",
    servers: wsgiServers("pure:app"),
    load: { kind: "http", connections: 10 },
    metric: "req/s",
    cpu: true,
    targets: [
      { peer: "gunicorn", label: "gunicorn (sync)", target: 2.5 },
      { peer: "uWSGI", label: "uWSGI (--http-socket, 1 process)", target: 1.5 },
    ],
    missing: noGunicorn,
  },
  {
    id: "wsgi",
    name: "Flask hello, 1 Python worker each, 10 connections",
    servers: wsgiServers("flaskhello:app"),
    load: { kind: "http", connections: 10 },
    metric: "req/s",
    cpu: true,
    targets: [
      { peer: "gunicorn", label: "gunicorn (sync)", target: 1.2 },
      { peer: "uWSGI", label: "uWSGI (--http-socket, 1 process)" },
    ],
    missing: noGunicorn,
  },
  { id: "asgi", declaredIn: "scripts/bench_python.ts" },
  { id: "h2", declaredIn: "scripts/bench_h2.ts" },
  { id: "h3", declaredIn: "scripts/bench_h3.ts" },
  {
    id: "ws",
    // One app file (`scripts/peers/ws_echo_app.ts`, `Deno.upgradeWebSocket`) served by ferry and
    // by Deno.serve.
    name: "WebSocket echo, 10 sockets × 8 messages of 32 B in flight",
    servers: [
      {
        name: "ferry",
        path: "/",
        start: (dir) =>
          startFerry("ferry ws", dir, [
            "--log-format",
            "none",
            "--app",
            join(ROOT, "scripts/peers/ws_echo_app.ts"),
          ]),
      },
      {
        name: "Deno.serve",
        path: "/",
        start: (dir) => startDenoPeer("Deno.serve ws", "ws_echo_deno.ts", dir),
      },
    ],
    load: { kind: "ws", connections: 10 },
    metric: "msg/s",
    targets: [{ peer: "Deno.serve", target: 0.95 }],
  },
  {
    id: "idle",
    name: "memory per idle keep-alive connection ({n})",
    // Each server started for this row alone: a long-lived one's heap has grown with the rows
    // before it (and its young generation with them), which hid the connections' own cost.
    servers: [
      {
        name: "ferry",
        path: "/hello",
        start: (dir) => startFerry("ferry (idle)", dir, ["--log-format", "none"]),
      },
      {
        name: "Deno.serve",
        path: "/hello",
        start: (dir) => startDenoPeer("Deno.serve (idle)", "deno_serve.ts", dir),
      },
      ...(nodeBin ? [{ name: "node:http", path: "/hello", start: async () => (await startNode())! }] : []),
    ],
    load: { kind: "idle", connections: 10000, quickConnections: 1000 },
    metric: "KiB",
    targets: [
      { peer: "Deno.serve", target: 1.0, lowerIsBetter: true },
      { peer: "node:http", target: 1.0, lowerIsBetter: true },
    ],
  },
];

/** The rows of a delegated entry are someone else's; a row of this table is a {@linkcode Scenario}. */
export function isScenario(s: Scenario | Delegated): s is Scenario {
  return "servers" in s;
}

/** A row's shape, for the rows other files give back. */
export type { Row };
