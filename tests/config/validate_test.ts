/**
 * Schema validation (`src/config/validate.ts`) against ferry's own `ferry.schema.json`: every
 * problem names its JSON path, unknown keys get "did you mean", and the schema itself is the one
 * shipped for editors.
 */

import assert from "assert";
import { validate } from "../../src/config/validate.ts";
import { SCHEMA } from "../../src/config/load.ts";
import { didYouMean } from "../../src/config/did_you_mean.ts";

Deno.test("config validate: the issue's example keys are all valid", () => {
  const config = {
    $schema: "./ferry.schema.json",
    listen: { http: "127.0.0.1:8080", https: false },
    admin: { listen: "127.0.0.1:2019" },
    apps: {
      blog: { wsgi: "mysite.wsgi:application", python: "/usr/bin/python3", chdir: "./blog", workers: 2 },
      api: { asgi: "main:app" },
      chat: { module: "./chat.ts" },
    },
    upstreams: { backend: { targets: ["127.0.0.1:9001", "unix//run/app.sock"], policy: "least_conn" } },
    sites: [{
      hosts: ["a.test", "*.b.test"],
      tls: { self_signed: true },
      headers: { "X-Site": "a" },
      routes: [
        { path: "/api/*", proxy: "backend" },
        { path: "/x/*", proxy: { to: ["127.0.0.1:9003"], try_duration: 5 } },
        {
          path: "/blog/*",
          app: "blog",
          strip_prefix: "/blog",
          methods: ["GET"],
          match_headers: { "X-Key": "v" },
        },
        { path: "/old", redirect: { to: "/new", status: 301 } },
        { path: "/ping", respond: { status: 200, body: "pong", headers: { "Content-Type": "text/plain" } } },
        { path: "/files/*", static: { root: "./files", browse: true, index: ["index.html"] } },
        { path: "/uploads/*", uploads: { dir: "./uploads", users: { alice: "$2b$..." } } },
        { path: "/*", static: { root: "./dist", fallback: "/index.html" } },
      ],
    }],
  };
  assert.deepEqual(validate(config, SCHEMA), []);
  assert.deepEqual(validate({ admin: false, listen: { http: false } }, SCHEMA), []);
});

Deno.test("config validate: problems name their JSON path; unknown keys say what was meant", () => {
  const problems = validate({
    listen: { htp: "127.0.0.1:80" },
    sites: [{}, {
      hosts: "a.test",
      routes: [{ path: "/x" }, { path: "/x", static: { root: 1, browse: "yes" }, redirct: {} }],
    }],
    admin: true,
  }, SCHEMA);
  assert.deepEqual(problems, [
    { path: "listen.htp", message: 'unknown key (did you mean "http"?)' },
    { path: "sites[1].hosts", message: 'expected a list, got "a.test"' },
    { path: "sites[1].routes[1].static.root", message: "expected a string, got 1" },
    { path: "sites[1].routes[1].static.browse", message: 'expected a boolean, got "yes"' },
    { path: "sites[1].routes[1].redirct", message: 'unknown key (did you mean "redirect"?)' },
    { path: "admin", message: "expected false or an object, got true" },
  ]);
});

Deno.test("config validate: header names that are not identifiers are quoted in the path", () => {
  const problems = validate({ sites: [{ headers: { "X-Site": 1 } }] }, SCHEMA);
  assert.deepEqual(problems, [{ path: 'sites[0].headers["X-Site"]', message: "expected a string, got 1" }]);
});

Deno.test("config validate: did-you-mean takes near names only", () => {
  assert.equal(didYouMean("rotes", ["hosts", "routes", "tls"]), "routes");
  assert.equal(didYouMean("strip-prefix", ["strip_prefix", "path"]), "strip_prefix");
  assert.equal(didYouMean("banana", ["hosts", "routes", "tls"]), undefined);
});
