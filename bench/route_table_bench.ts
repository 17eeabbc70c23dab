/**
 * `deno bench --allow-all bench/route_table_bench.ts`: what routing costs per request in the
 * config's {@linkcode RouteTable}: one route against 10 sites × 5 routes with the request for the
 * last route of the last site (past every other site and route), both with the memo of the last
 * request defeated (two paths alternate), and the flags' Dispatcher beside them.
 *
 * @module
 */

import type { Mount } from "../src/http/dispatch.ts";
import { Dispatcher } from "../src/http/dispatch.ts";
import { HeaderList } from "../src/http/headers.ts";
import type { RequestFields } from "../src/http/request.ts";
import { pathMatcher } from "../src/route/match.ts";
import { type Route, RouteTable, type Site } from "../src/route/table.ts";

const mount = (name: string): Mount => ({ name, prefix: "/", handler: () => {} });
const builtins = [mount("health"), mount("ready"), mount("metrics"), mount("dashboard")].map((m, i) => ({
  ...m,
  prefix: ["/_health", "/_ready", "/_metrics", "/_dashboard/"][i],
}));
const route = (path: string, name: string): Route => ({ path: pathMatcher(path), mount: mount(name) });

function table(sites: number, routes: number): RouteTable {
  const all: Site[] = Array.from({ length: sites }, (_, s) => ({
    hosts: s < sites - 1 ? [`s${s}.test`, `*.s${s}.test`] : [],
    routes: Array.from(
      { length: routes },
      (_, r) =>
        s === sites - 1 && r >= routes - 2 ? route(r === routes - 1 ? "/hello" : "/hello2", "hello") : route(
          `/s${s}/r${r}/*`,
          "other",
        ),
    ),
  }));
  return new RouteTable(all, builtins, mount("not-found"));
}

const head = (path: string): RequestFields => ({
  method: "GET",
  target: path,
  form: "origin",
  path,
  query: "",
  headers: new HeaderList(["host"], ["127.0.0.1:8080"]),
  host: "127.0.0.1:8080",
  contentLength: -1,
  chunked: false,
});
const a = head("/hello");
const b = head("/hello2");
const one = table(1, 2);
const many = table(10, 5);
const flags = new Dispatcher(builtins, mount("app"));
let i = 0;

Deno.bench({ name: "1 site, 1 route", group: "route", baseline: true }, () => {
  one.route((i++ & 1) ? a.path : b.path, (i & 1) ? a : b);
});
Deno.bench({ name: "10 sites × 5 routes, the last one", group: "route" }, () => {
  many.route((i++ & 1) ? a.path : b.path, (i & 1) ? a : b);
});
Deno.bench({ name: "flags' Dispatcher (for scale)", group: "route" }, () => {
  flags.route((i++ & 1) ? a.path : b.path);
});
