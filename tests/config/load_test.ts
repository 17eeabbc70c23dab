/**
 * Loading a config file (`src/config/load.ts`, `resolve.ts`): JSONC with comments and trailing
 * commas, paths relative to the file's folder, and the checks a schema cannot make (one action per
 * route, names that exist, folders that exist, one fallback site), each with its JSON path and line.
 */

import assert from "assert";
import { join } from "node:path";
import { ConfigError, loadConfigFile, parseConfig } from "../../src/config/load.ts";
import { needs } from "../helpers/needs.ts";

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

Deno.test(
  "config load: JSONC with comments and trailing commas; paths resolve against the file's folder",
  needs("read", "write"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(join(dir, "dist"));
      await Deno.writeTextFile(join(dir, "dist", "index.html"), "<p>spa</p>");
      const file = join(dir, "ferry.jsonc");
      await Deno.writeTextFile(
        file,
        `{
  // the SPA
  "sites": [
    { "routes": [ { "path": "/*", "static": { "root": "./dist", "fallback": "/index.html", }, }, ], },
  ],
}`,
      );
      const config = await loadConfigFile(file);
      assert.equal(config.sites![0].routes![0].static!.root, join(dir, "dist"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "config load: what a schema cannot check, with JSON paths and lines",
  needs("read", "write"),
  () => {
    const text = `{
  "apps": { "blog": { "wsgi": "mysite.wsgi:application" }, "both": { "wsgi": "a:b", "module": "./x.ts" } },
  "sites": [
    { "routes": [
      { "path": "/blog/*", "app": "blgo" },
      { "path": "/x" },
      { "path": "/y", "respond": {}, "redirect": { "to": "/" } },
      { "path": "/files/*", "static": { "root": "./no-such-dir" } },
      { "path": "/api/*", "proxy": "backend" },
      { "path": "/b/*", "app": "blog", "strip_prefix": "/c" },
    ] },
    { "routes": [] },
  ],
  "admin": { "listen": "0.0.0.0:2019" },
}`;
    const problems = problemsOf(() => parseConfig(text, { baseDir: "/nonexistent-base" }));
    assert.deepEqual(problems, [
      "admin.listen: the admin API listens on loopback only: use 127.0.0.1:PORT or [::1]:PORT (line 14)",
      "apps.both: has wsgi and module: an app is one of them (line 2)",
      "apps.both.module: no such file: /nonexistent-base/x.ts (line 2)",
      'sites[0].routes[0].app: no app "blgo" (did you mean "blog"?) (line 5)',
      "sites[0].routes[1]: needs one action: static, app, uploads, redirect, respond, proxy (line 6)",
      "sites[0].routes[2]: has redirect and respond: a route takes one action (split it in two routes) (line 7)",
      "sites[0].routes[3].static.root: no such directory: /nonexistent-base/no-such-dir (line 8)",
      "sites[0].routes[4].proxy: the reverse proxy is not built yet in this ferry (issue 37): " +
      "remove the route, or serve the path with an app (line 9)",
      'sites[0].routes[5].strip_prefix: "/c" does not begin the route\'s path "/b/*" (line 10)',
      'sites[1]: a second site without "hosts" (sites[0] takes every other host): name its hosts (line 12)',
    ]);
  },
);

Deno.test(
  "config load: a syntax error names its line; a missing file says which",
  needs("read", "write"),
  async () => {
    assert.deepEqual(
      problemsOf(() => parseConfig('{\n  "sites": [\n  }', { baseDir: "." })).length > 0,
      true,
    );
    const first = problemsOf(() => parseConfig('{\n  "sites": [\n  }', { baseDir: "." }))[0];
    assert.match(first, /^: line 3: JSON syntax: /);
    await assert.rejects(
      loadConfigFile("/nonexistent/ferry.jsonc"),
      /cannot read \/nonexistent\/ferry\.jsonc/,
    );
  },
);

Deno.test("config load: header fields a response cannot carry are refused at their path", () => {
  const problems = problemsOf(() =>
    parseConfig(
      JSON.stringify({
        sites: [{
          headers: { "Bad Name": "v", "Content-Length": "1", "X-Ok": "fine" },
          routes: [{ respond: { headers: { "X-Ctl": "a\u0001b" } } }],
        }],
      }),
      { baseDir: "/" },
    )
  );
  assert.deepEqual(problems, [
    `sites[0].headers["Bad Name"]: not a header name (letters, digits and !#$%&'*+-.^_\`|~) (line 1)`,
    `sites[0].headers["Content-Length"]: Content-Length is set by ferry itself and cannot be configured (line 1)`,
    `sites[0].routes[0].respond.headers["X-Ctl"]: a header value cannot hold control characters (line 1)`,
  ]);
});
