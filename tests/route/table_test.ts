/**
 * The route table (`src/route/table.ts`): built-in mounts on every site, sites by Host (exact,
 * then `*.` wildcards, then the site without hosts), first matching route wins with its methods
 * and header conditions, 404 for the rest; run through the in-memory harness.
 */

import assert from "assert";
import type { Handler, Mount } from "../../src/http/dispatch.ts";
import { request } from "../../src/http/harness.ts";
import { headerMatcher, pathMatcher } from "../../src/route/match.ts";
import { type Route, RouteTable } from "../../src/route/table.ts";

const answer = (name: string): Handler => (req, res) => res.send(200, [["x-mount", name]], req.path);
const mount = (name: string, prefix = "/"): Mount => ({ name, prefix, handler: answer(name) });
const route = (path: string, name: string, more: Partial<Route> = {}): Route => ({
  path: pathMatcher(path),
  mount: mount(name),
  ...more,
});

const table = new RouteTable(
  [
    {
      hosts: ["a.test", "www.a.test"],
      routes: [
        route("/api/*", "a-api-post", { methods: new Set(["POST"]) }),
        route("/api/*", "a-api-key", { headers: headerMatcher({ "x-key": "k" }) }),
        route("/api/*", "a-api"),
        route("/*", "a-spa"),
      ],
    },
    { hosts: ["*.b.test"], routes: [route("/ping", "b-ping")] },
    { hosts: [], routes: [route("/", "default-home")] },
  ],
  [mount("health", "/_health"), mount("metrics", "/_metrics")],
  mount("not-found"),
);

const via = async (
  host: string,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
) => (await request(table, path, { ...init, headers: { host, ...init.headers } })).header("x-mount");

Deno.test("route table: the site by Host, first match wins, methods and headers narrow a route", async () => {
  assert.equal(await via("a.test", "/api/users"), "a-api");
  assert.equal(await via("WWW.A.TEST:8443", "/api/users"), "a-api", "case and port do not matter");
  assert.equal(await via("a.test", "/api/users", { method: "POST" }), "a-api-post");
  assert.equal(await via("a.test", "/api/users", { headers: { "x-key": "k" } }), "a-api-key");
  assert.equal(await via("a.test", "/api/users", { headers: { "x-key": "other" } }), "a-api");
  assert.equal(await via("a.test", "/dashboard/settings"), "a-spa");
  assert.equal(await via("x.b.test", "/ping"), "b-ping");
  assert.equal(
    await via("x.b.test", "/pong"),
    "not-found",
    "a site's unmatched path is 404, not another site's",
  );
  assert.equal(await via("b.test", "/"), "default-home", "*.b.test is not b.test: the fallback site");
  assert.equal(await via("elsewhere.test", "/"), "default-home");
  assert.equal(await via("", "/"), "default-home", "no Host: the fallback site");
});

Deno.test("route table: the built-in mounts answer on every site, before its routes", async () => {
  for (const host of ["a.test", "x.b.test", "other.test"]) {
    assert.equal(await via(host, "/_health"), "health");
    assert.equal(await via(host, "/_metrics"), "metrics");
  }
});

Deno.test("route table: with no fallback site, an unknown Host is 404; the remembered route follows the host", () => {
  const t = new RouteTable([{ hosts: ["a.test"], routes: [route("/*", "a")] }], [], mount("not-found"));
  const name = (host: string) => t.route("/x", { host, method: "GET" } as never).name;
  assert.equal(name("a.test"), "a");
  assert.equal(name("b.test"), "not-found");
  assert.equal(name("a.test"), "a");
  // The same path and host by another method is routed again, not taken from the memo.
  const m = new RouteTable(
    [{ hosts: [], routes: [route("/x", "get", { methods: new Set(["GET"]) })] }],
    [],
    mount("nf"),
  );
  assert.equal(m.route("/x", { host: "", method: "GET" } as never).name, "get");
  assert.equal(m.route("/x", { host: "", method: "DELETE" } as never).name, "nf");
});
