/**
 * The mount table (`src/http/dispatch.ts`): a prefix ending in `/` takes the paths below it and
 * the bare directory, any other prefix only itself, the first match wins, the app takes the rest;
 * run through the in-memory harness.
 */

import assert from "assert";
import { Dispatcher, type Handler, type Mount } from "../../src/http/dispatch.ts";
import { request } from "../../src/http/harness.ts";

const answer = (name: string): Handler => (req, res) => res.send(200, [["x-mount", name]], req.path);
const mount = (name: string, prefix: string): Mount => ({ name, prefix, handler: answer(name) });

const table = new Dispatcher(
  [
    mount("health", "/_health"),
    mount("docs", "/docs/"),
    mount("api-v1", "/docs/api/"),
    mount("uploads", "/uploads/"),
  ],
  mount("app", "/"),
);

Deno.test("dispatch: directory prefixes, exact prefixes, first match, fallback", () => {
  const routed = (path: string) => table.route(path).name;
  assert.equal(routed("/_health"), "health");
  assert.equal(routed("/_health/"), "app", "an exact prefix takes nothing below it");
  assert.equal(routed("/_healthz"), "app");
  assert.equal(routed("/docs/a.html"), "docs");
  assert.equal(routed("/docs"), "docs", "the bare directory");
  assert.equal(routed("/docs/api/x"), "docs", "the first match wins, not the longest");
  assert.equal(routed("/docsx"), "app");
  assert.equal(routed("/doc"), "app");
  assert.equal(routed("/uploads/f.bin"), "uploads");
  assert.equal(routed("/"), "app");
  assert.equal(routed(""), "app");
});

Deno.test("dispatch: a prefix not starting with / is refused, naming it", () => {
  assert.throws(
    () => new Dispatcher([mount("bad", "static/")], mount("app", "/")),
    /mount prefix must start with \/: static\//,
  );
});

Deno.test("dispatch (harness): the routed handler answers", async () => {
  const docs = await request(table, "/docs/guide?x=1");
  assert.equal(docs.header("x-mount"), "docs");
  assert.equal(docs.text(), "/docs/guide");
  assert.equal((await request(table, "/elsewhere")).header("x-mount"), "app");
});

Deno.test("dispatch: a path asked for again is routed as the first time, between other paths", () => {
  // route() remembers the last path it routed; the answer must not depend on what came before.
  const paths = [
    "/docs/a.html",
    "/docs/a.html",
    "/_health",
    "/docs",
    "/docs",
    "/x",
    "/docs/api/",
    "/_health",
  ];
  const fresh = (path: string) => new Dispatcher([...table.mounts], table.fallback).route(path).name;
  for (let round = 0; round < 3; round++) {
    for (const p of paths) assert.equal(table.route(p).name, fresh(p), p);
  }
  const mounts = [mount("a", "/a/")];
  const d = new Dispatcher(mounts, mount("app", "/"));
  assert.equal(d.route("/a/x").name, "a");
  mounts.length = 0; // the table given was copied
  assert.equal(d.route("/a/x").name, "a");
  assert.equal(d.route("/b").name, "app");
  assert.equal(d.route("/a/x").name, "a");
});
