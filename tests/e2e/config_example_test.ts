/**
 * `examples/sites/ferry.jsonc` as its README section runs it (from its folder, with the start
 * task's permissions): Django over WSGI and FastAPI over ASGI mounted with strip_prefix, a
 * TypeScript fetch app, uploads with a bcrypt user, a redirect, and an SPA on the second site,
 * each checked over HTTP/1.1 and HTTP/2 with curl. The test's copy differs in two keys only: the
 * admin API on a free port, and a temporary upload folder.
 */

import assert from "assert";
import { join } from "node:path";
import { parse } from "jsonc-parser";
import { ROOT, startChild } from "../helpers/server.ts";
import { pythonHas } from "../helpers/python.ts";
import { needs } from "../helpers/needs.ts";

const SITES = join(ROOT, "examples", "sites");
const ready = pythonHas("django") && pythonHas("fastapi");

/** curl over `version` (`--http1.1` or `--http2`) to the HTTPS listener: status, headers and body. */
async function curl(version: string, url: string, more: string[] = []) {
  const out = await new Deno.Command("curl", {
    args: ["-sk", version, "-D", "-", "--max-time", "20", ...more, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const split = text.lastIndexOf("\r\n\r\n");
  const head = text.slice(0, split);
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/m.exec(head.slice(head.lastIndexOf("HTTP/")))?.[1] ?? 0);
  return { status, head, body: text.slice(split + 4), protocol: /^HTTP\/([\d.]+)/.exec(head)?.[1] };
}

Deno.test({
  name:
    "config example: two sites, Django, FastAPI, a TypeScript app, uploads, a redirect, an SPA, h1 and h2",
  ignore: needs("read", "write", "run").ignore || !ready,
  async fn() {
    const uploads = await Deno.makeTempDir({ prefix: "ferry-example-uploads-" });
    const config = parse(await Deno.readTextFile(join(SITES, "ferry.jsonc")));
    config.admin = { listen: "127.0.0.1:0" };
    config.sites[0].routes.find((r: { uploads?: { dir: string } }) => r.uploads).uploads.dir = uploads;
    const copy = join(SITES, `.test-${crypto.randomUUID()}.jsonc`);
    await Deno.writeTextFile(copy, JSON.stringify(config));
    try {
      await using ferry = await startChild(
        ["--config", copy.slice(SITES.length + 1), "--port", "0", "--https-port", "0"],
        2,
        SITES,
      );
      const https = ferry.urls.find((u) => u.startsWith("https"))!;
      const port = new URL(https).port;
      for (const version of ["--http1.1", "--http2"]) {
        const app = `https://localhost:${port}`;
        const django = await curl(version, `${app}/blog/`);
        assert.equal(django.protocol, version === "--http2" ? "2" : "1.1");
        assert.deepEqual([django.status, django.body], [200, "Hello from Django, served by ferry\n"]);
        assert.match(django.head, /^x-site: apps\r?$/im, "the site's headers");
        const echo = await curl(version, `${app}/blog/echo`, ["-d", "abc"]);
        assert.deepEqual(JSON.parse(echo.body), { size: 3, method: "POST" });
        const fastapi = await curl(version, `${app}/api/hello`);
        assert.deepEqual(JSON.parse(fastapi.body), { message: "hello from FastAPI on ferry" });
        const openapi = JSON.parse((await curl(version, `${app}/api/openapi.json`)).body);
        assert.deepEqual(openapi.servers, [{ url: "/api" }], "root_path is the route's prefix");
        assert.deepEqual(JSON.parse((await curl(version, `${app}/json`)).body), { ok: true, path: "/json" });
        const moved = await curl(version, `${app}/old-blog`);
        assert.equal(moved.status, 301);
        assert.match(moved.head, /^location: \/blog\/\r?$/im);
        const name = `note-${version.slice(6)}.txt`;
        const denied = await curl(version, `${app}/uploads/${name}`, ["-T", "-", "-u", "alice:wrong"]);
        assert.equal(denied.status, 401);
        const stored = await curl(version, `${app}/uploads/${name}`, [
          "--data-binary",
          "hello",
          "-X",
          "PUT",
          "-u",
          "alice:s3cret",
        ]);
        assert.equal(stored.status, 201, stored.body);
        assert.equal(await Deno.readTextFile(join(uploads, name)), "hello");
        const spa = `https://127.0.0.1:${port}`;
        const deep = await curl(version, `${spa}/dashboard/settings`);
        assert.equal(deep.status, 200);
        assert.match(deep.body, /<title>ferry SPA<\/title>/);
        assert.equal((await curl(version, `${spa}/assets/app.js`)).status, 200);
        assert.equal((await curl(version, `${spa}/assets/gone.js`)).status, 404);
        assert.equal(
          (await curl(version, `${spa}/blog/`)).status,
          200,
          "the SPA site has no Django: its index",
        );
        assert.doesNotMatch((await curl(version, `${spa}/blog/`)).body, /Django/);
      }
    } finally {
      await Deno.remove(copy);
      await Deno.remove(uploads, { recursive: true });
    }
  },
});
