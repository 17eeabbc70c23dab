/**
 * `ferry --config FILE` as users start it (main.ts with the start task's permissions, real
 * sockets): `--check`, two sites by Host with respond, redirect, an SPA fallback, browse JSON,
 * strip_prefix and site headers; the admin API (`GET /config`, `POST /load`: an invalid config is
 * 400 and the old one keeps serving); and reloads (`POST /load`, SIGHUP) in the middle of 2,000
 * keep-alive requests with no error and the new route served right after.
 */

import assert from "assert";
import { join } from "node:path";
import { runFerry, startChild, until } from "../helpers/server.ts";
import { RawClient, text } from "../helpers/client.ts";
import { needs } from "../helpers/needs.ts";

/** A folder with an SPA build (`dist/`) and files (`files/`), and a config over them. */
async function site(config: (dir: string) => unknown): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-config-" });
  await Deno.mkdir(join(dir, "dist", "assets"), { recursive: true });
  await Deno.writeTextFile(join(dir, "dist", "index.html"), "<!doctype html><title>spa</title>\n");
  await Deno.writeTextFile(join(dir, "dist", "assets", "app.js"), "console.log(1)\n");
  await Deno.mkdir(join(dir, "files", "docs"), { recursive: true });
  await Deno.writeTextFile(join(dir, "files", "docs", "a.txt"), "A\n");
  const file = join(dir, "ferry.jsonc");
  await Deno.writeTextFile(file, "// written by the test\n" + JSON.stringify(config(dir), null, 2));
  return { dir, file };
}

const twoSites = (extra: unknown[] = []) => () => ({
  listen: { http: "127.0.0.1:0", https: false },
  admin: { listen: "127.0.0.1:0" },
  sites: [
    {
      hosts: ["a.test", "*.a.test"],
      headers: { "X-Site": "a" },
      routes: [
        ...extra,
        { path: "/ping", respond: { body: "pong" } },
        { path: "/old", redirect: { to: "/new{query}", status: 301 } },
        { path: "/docs/*", static: { root: "./files", browse: true } },
        { path: "/raw/*", strip_prefix: "/raw", static: { root: "./files/docs" } },
        { path: "/*", static: { root: "./dist", fallback: "/index.html" } },
      ],
    },
    { routes: [{ path: "/*", respond: { status: 404, body: "the default site\n" } }] },
  ],
});

/** A GET with a Host header (fetch sends the URL's own), over a real HTTP/1.1 connection. */
async function get(url: string, host: string, headers: Record<string, string> = {}) {
  const port = Number(new URL(url).port);
  const target = url.replace(/^http:\/\/[^/]+/, "");
  await using c = await RawClient.connect(port);
  const fields = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  await c.send(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`);
  const res = await c.response();
  return { status: res.status, headers: new Headers(res.headers), body: text(res) };
}

Deno.test(
  "config e2e: --check prints the resolved config, or one line per problem with did-you-mean (exit 2)",
  needs("read", "write", "run"),
  async () => {
    const good = await site(twoSites());
    const bad = await site(() => ({
      sites: [{ rotes: [], routes: [{ path: "/x", static: { root: "./nope" } }] }],
    }));
    try {
      const ok = await runFerry(["--config", good.file, "--check"]);
      assert.equal(ok.code, 0, ok.stderr);
      const printed = JSON.parse(ok.stdout);
      assert.equal(printed.sites[0].routes.at(-1).static.root, join(good.dir, "dist"), "paths resolved");
      const ko = await runFerry(["--config", bad.file, "--check"]);
      assert.equal(ko.code, 2);
      assert.match(ko.stderr, /^sites\[0\]\.rotes: unknown key \(did you mean "routes"\?\) \(line \d+\)$/m);
      const semantic = await site(() => ({
        sites: [{ routes: [{ path: "/x", static: { root: "./nope" } }] }],
      }));
      const ko2 = await runFerry(["--config", semantic.file, "--check"]);
      assert.equal(ko2.code, 2);
      assert.match(
        ko2.stderr,
        /^sites\[0\]\.routes\[0\]\.static\.root: no such directory: .*nope \(line \d+\)$/m,
      );
      await Deno.remove(semantic.dir, { recursive: true });
      const flags = await runFerry(["--check", "--root", "./static", "--port", "9001", "--no-https"]);
      assert.equal(flags.code, 0, flags.stderr);
      const made = JSON.parse(flags.stdout);
      assert.equal(made.listen.http, "127.0.0.1:9001");
      assert.ok(
        made.sites[0].routes.some((r: { static?: { root: string } }) => r.static?.root === "./static"),
      );
    } finally {
      await Deno.remove(good.dir, { recursive: true });
      await Deno.remove(bad.dir, { recursive: true });
    }
  },
);

Deno.test(
  "config e2e: two sites by Host; respond, redirect, SPA fallback, browse JSON, strip_prefix, headers",
  needs("read", "write", "run"),
  async () => {
    const { dir, file } = await site(twoSites());
    await using ferry = await startChild(["--config", file]);
    const url = ferry.urls[0].replace(/\/$/, "");
    try {
      const ping = await get(`${url}/ping`, "a.test");
      assert.deepEqual([ping.status, ping.body, ping.headers.get("x-site")], [200, "pong", "a"]);
      const wild = await get(`${url}/ping`, "api.a.test:8080");
      assert.equal(wild.body, "pong", "*.a.test takes api.a.test");
      const old = await get(`${url}/old?x=1`, "a.test");
      assert.deepEqual([old.status, old.headers.get("location")], [301, "/new?x=1"]);
      const deep = await get(`${url}/dashboard/settings`, "a.test");
      assert.deepEqual([deep.status, deep.body], [200, "<!doctype html><title>spa</title>\n"]);
      assert.ok(deep.headers.get("etag") !== null, "the fallback file keeps its validators");
      assert.equal(
        (await get(`${url}/assets/missing.js`, "a.test")).status,
        404,
        "an asset path is not the SPA",
      );
      assert.equal((await get(`${url}/assets/app.js`, "a.test")).body, "console.log(1)\n");
      const listing = await get(`${url}/docs/`, "a.test", { accept: "application/json" });
      assert.equal(listing.status, 200);
      const entries = JSON.parse(listing.body);
      assert.deepEqual(
        entries.map((e: { name: string; size: number; is_dir: boolean }) => [e.name, e.size, e.is_dir]),
        [
          ["a.txt", 2, false],
        ],
      );
      assert.ok(!Number.isNaN(Date.parse(entries[0].mtime)));
      assert.equal((await get(`${url}/docs/a.txt`, "a.test")).body, "A\n", "the root gets the whole path");
      assert.equal(
        (await get(`${url}/raw/a.txt`, "a.test")).body,
        "A\n",
        "strip_prefix takes /raw off first",
      );
      const other = await get(`${url}/ping`, "b.test");
      assert.deepEqual([other.status, other.body, other.headers.get("x-site")], [
        404,
        "the default site\n",
        null,
      ]);
      for (const host of ["a.test", "b.test"]) {
        assert.equal(
          (await get(`${url}/_health`, host)).body,
          "ok\n",
          "the built-in mounts stay on every site",
        );
      }
      assert.equal(
        (await get(`${url}/env`, "a.test")).status,
        200,
        "an SPA site's /env is the SPA, never the example app",
      );
      assert.ok(!(await get(`${url}/env`, "a.test")).body.includes("REQUEST_METHOD"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** Waits for the admin API's start-up line and gives its URL. */
async function adminUrl(ferry: { stdout: () => string }): Promise<string> {
  await until(() => /admin API on (\S+)/.test(ferry.stdout()), "the admin API");
  return /admin API on (\S+)/.exec(ferry.stdout())![1].replace(/\/$/, "");
}

Deno.test(
  "config e2e: the admin API: GET /config, POST /load; an invalid config is 400 and changes nothing",
  needs("read", "write", "run"),
  async () => {
    const { dir, file } = await site(twoSites());
    await using ferry = await startChild(["--config", file]);
    const url = ferry.urls[0].replace(/\/$/, "");
    try {
      const admin = await adminUrl(ferry);
      const running = await (await fetch(`${admin}/config`)).json();
      assert.equal(running.sites[0].hosts[0], "a.test");
      const invalid = await fetch(`${admin}/load`, {
        method: "POST",
        body: JSON.stringify({
          sites: [{ routes: [{ path: "/new", respond: { body: "new" }, redirct: {} }] }],
        }),
      });
      assert.equal(invalid.status, 400);
      assert.deepEqual(await invalid.json(), {
        errors: [{
          path: "sites[0].routes[0].redirct",
          message: 'unknown key (did you mean "redirect"?) (line 1)',
        }],
      });
      assert.equal((await get(`${url}/ping`, "a.test")).body, "pong", "the old config keeps serving");
      assert.equal((await get(`${url}/new`, "a.test")).status, 200, "the SPA still takes /new");
      assert.deepEqual(await (await fetch(`${admin}/config`)).json(), running, "GET /config is unchanged");
      const next = { ...running, sites: [{ routes: [{ path: "/new", respond: { body: "new" } }] }] };
      const loaded = await fetch(`${admin}/load`, { method: "POST", body: JSON.stringify(next) });
      assert.equal(loaded.status, 200, await loaded.clone().text());
      assert.equal((await loaded.json()).ok, true);
      assert.equal((await get(`${url}/new`, "a.test")).body, "new", "the new route, right after");
      assert.equal((await get(`${url}/ping`, "a.test")).status, 404, "the old routes are gone");
      const metrics = await (await fetch(`${url}/_metrics`, { headers: { accept: "text/plain" } })).text();
      assert.match(metrics, /^ferry_config_reloads_total\{result="ok"\} 1$/m);
      assert.match(metrics, /^ferry_config_reloads_total\{result="failed"\} 1$/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "config e2e: POST /load and SIGHUP during 2,000 keep-alive requests: no error, the new route at once",
  needs("read", "write", "run"),
  async () => {
    const { dir, file } = await site(twoSites());
    await using ferry = await startChild(["--config", file, "--log-format", "none"]);
    const url = ferry.urls[0].replace(/\/$/, "");
    try {
      const admin = await adminUrl(ferry);
      const TOTAL = 2000;
      const port = Number(new URL(url).port);
      let sent = 0;
      const failures: string[] = [];
      // 8 keep-alive connections, one request at a time each, until 2,000 have been answered.
      const worker = async () => {
        await using c = await RawClient.connect(port);
        while (sent < TOTAL) {
          sent++;
          try {
            await c.send("GET /ping HTTP/1.1\r\nHost: a.test\r\n\r\n");
            const res = await c.response();
            if (res.status !== 200 || text(res) !== "pong") failures.push(`${res.status} ${text(res)}`);
          } catch (e) {
            failures.push(String(e));
            return;
          }
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, worker));
      await until(() => sent >= 400, "the load to begin");
      const viaAdmin = twoSites([{ path: "/by-admin", respond: { body: "admin" } }])();
      const loaded = await fetch(`${admin}/load`, {
        method: "POST",
        body: JSON.stringify({ ...viaAdmin, listen: undefined, admin: undefined }),
      });
      assert.equal(loaded.status, 200, await loaded.clone().text());
      await loaded.body?.cancel();
      assert.equal((await get(`${url}/by-admin`, "a.test")).body, "admin");
      await until(() => sent >= 1000, "more of the load");
      const viaFile = twoSites([{ path: "/by-hup", respond: { body: "hup" } }])();
      await Deno.writeTextFile(file, JSON.stringify(viaFile));
      ferry.child.kill("SIGHUP");
      await until(() => ferry.stdout().includes("config reloaded"), "the SIGHUP reload");
      assert.equal((await get(`${url}/by-hup`, "a.test")).body, "hup");
      assert.equal((await get(`${url}/by-admin`, "a.test")).status, 200, "(the SPA takes it again)");
      await load;
      assert.ok(sent >= TOTAL);
      assert.deepEqual(failures, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "config e2e: flags: beside a --root of the user's own, the example app is off (404); a bare start keeps it",
  needs("read", "write", "run"),
  async () => {
    const { dir } = await site(twoSites());
    try {
      await using withRoot = await startChild(["--root", join(dir, "dist"), "--port", "0", "--no-https"]);
      const url = withRoot.urls[0].replace(/\/$/, "");
      assert.equal((await get(`${url}/env`, "localhost")).status, 404);
      assert.equal((await get(`${url}/static/index.html`, "localhost")).status, 200);
      assert.match(withRoot.stdout(), /app none \(other paths are 404\)/);
      await using bare = await startChild(["--port", "0", "--no-https"]);
      const env = await get(`${bare.urls[0].replace(/\/$/, "")}/env`, "localhost");
      assert.equal(env.status, 200);
      assert.match(env.body, /REQUEST_METHOD/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** The subject of the certificate ferry presents for `serverName` (SNI), by openssl s_client. */
async function subjectFor(port: number, serverName: string): Promise<string> {
  const sh = `openssl s_client -connect 127.0.0.1:${port} -servername ${serverName} </dev/null 2>/dev/null ` +
    "| openssl x509 -noout -subject";
  const out = await new Deno.Command("sh", { args: ["-c", sh], stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test(
  "config e2e: per-site TLS: each site's hosts get its certificate by SNI (self_signed, cert/key)",
  needs("read", "write", "run"),
  async () => {
    const { makeSelfSigned } = await import("../../src/tls/cert.ts");
    const pair = await makeSelfSigned(["b.test"]);
    const { dir, file } = await site((d) => ({
      listen: { http: false, https: "127.0.0.1:0" },
      sites: [
        { hosts: ["a.test", "*.w.test"], tls: { self_signed: true }, routes: [{ respond: { body: "a" } }] },
        {
          hosts: ["b.test"],
          tls: { cert: `${d}/b.pem`, key: `${d}/b.key` },
          routes: [{ respond: { body: "b" } }],
        },
        { routes: [{ respond: { body: "other" } }] },
      ],
    }));
    await Deno.writeTextFile(join(dir, "b.pem"), pair.cert);
    await Deno.writeTextFile(join(dir, "b.key"), pair.key);
    try {
      await using ferry = await startChild(["--config", file, "--cert-dir", join(dir, "certs")]);
      const port = Number(new URL(ferry.urls[0]).port);
      assert.match(await subjectFor(port, "a.test"), /CN ?= ?a\.test/);
      assert.match(await subjectFor(port, "b.test"), /CN ?= ?b\.test/);
      assert.match(
        await subjectFor(port, "x.w.test"),
        /CN ?= ?a\.test/,
        "*.w.test: the wildcard host's site",
      );
      assert.match(await subjectFor(port, "y.x.w.test"), /CN ?= ?localhost/, "a wildcard covers one label");
      assert.match(
        await subjectFor(port, "c.test"),
        /CN ?= ?localhost/,
        "other names: the default certificate",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "config e2e: proxy routes: a named upstream and an inline one (src/upstream/ as the action)",
  needs("read", "write", "run"),
  async () => {
    const upstream = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => new Response(`upstream saw ${new URL(req.url).pathname} for ${req.headers.get("host")}\n`),
    );
    const target = `127.0.0.1:${upstream.addr.port}`;
    const { dir, file } = await site(() => ({
      listen: { http: "127.0.0.1:0", https: false },
      upstreams: { backend: { targets: [target] } },
      sites: [{
        routes: [
          { path: "/api/*", proxy: "backend" },
          { path: "/inline/*", proxy: { to: [target] } },
        ],
      }],
    }));
    try {
      await using ferry = await startChild(["--config", file]);
      const url = ferry.urls[0].replace(/\/$/, "");
      const named = await get(`${url}/api/users`, "a.test");
      assert.deepEqual([named.status, named.body], [200, "upstream saw /api/users for a.test\n"]);
      assert.equal((await get(`${url}/inline/x`, "b.test")).body, "upstream saw /inline/x for b.test\n");
    } finally {
      await upstream.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "config e2e: two Python apps with their own pools; a reload keeps the unchanged one's workers, restarts the other",
  needs("read", "write", "run"),
  async () => {
    const { APPS, PYTHON } = await import("../helpers/python.ts");
    const app = (timeout: number) => ({
      wsgi: "plain_apps:app",
      chdir: APPS,
      python: PYTHON,
      workers: 1,
      timeout,
    });
    const config = (qTimeout: number) => ({
      listen: { http: "127.0.0.1:0", https: false },
      admin: { listen: "127.0.0.1:0" },
      apps: { p: app(30), q: app(qTimeout) },
      sites: [{
        routes: [
          { path: "/p/*", app: "p", strip_prefix: "/p" },
          { path: "/q/*", app: "q", strip_prefix: "/q" },
        ],
      }],
    });
    const { dir, file } = await site(() => config(30));
    try {
      await using ferry = await startChild(["--config", file]);
      const url = ferry.urls[0].replace(/\/$/, "");
      const admin = await adminUrl(ferry);
      const echo = async (app: string) => JSON.parse((await get(`${url}/${app}/echo`, "localhost")).body);
      const p1 = await echo("p");
      const q1 = await echo("q");
      assert.deepEqual(
        [p1.environ.SCRIPT_NAME, p1.environ.PATH_INFO],
        ["/p", "/echo"],
        "strip_prefix: SCRIPT_NAME",
      );
      assert.notEqual(p1.pid, q1.pid, "each app has its own workers");
      const loaded = await fetch(`${admin}/load`, { method: "POST", body: JSON.stringify(config(31)) });
      const result = await loaded.json();
      assert.equal(loaded.status, 200, JSON.stringify(result));
      assert.match(result.changes, /apps started: q; apps kept: p/);
      assert.equal((await echo("p")).pid, p1.pid, "p's settings did not change: same worker");
      assert.notEqual((await echo("q")).pid, q1.pid, "q's did: a new worker");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** Runs `deno ARGS` in `cwd` with a clean environment (no inherited INIT_CWD), as from a shell. */
async function denoIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test(
  "config e2e: from the user's folder: `deno task start` and an installed `ferry` resolve --config there",
  needs("read", "write", "run", "env"),
  async () => {
    const { ROOT } = await import("../helpers/server.ts");
    const { dir } = await site(twoSites());
    const bin = await Deno.makeTempDir({ prefix: "ferry-install-" });
    const denoDir = Deno.env.get("DENO_DIR");
    const cache: Record<string, string> = denoDir === undefined ? {} : { DENO_DIR: denoDir };
    try {
      const task = await denoIn(dir, [
        "task",
        "--config",
        join(ROOT, "deno.json"),
        "start",
        "--config",
        "ferry.jsonc",
        "--check",
      ], cache);
      assert.equal(task.code, 0, task.stderr);
      assert.equal(JSON.parse(task.stdout).sites[0].routes.at(-1).static.root, join(dir, "dist"));
      const install = await denoIn(ROOT, ["task", "install"], { ...cache, DENO_INSTALL_ROOT: bin });
      assert.equal(install.code, 0, install.stderr);
      const installed = await new Deno.Command(join(bin, "bin", "ferry"), {
        args: ["--config", "ferry.jsonc", "--check"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(installed.code, 0, new TextDecoder().decode(installed.stderr));
      const printed = JSON.parse(new TextDecoder().decode(installed.stdout));
      assert.equal(printed.sites[0].routes.at(-1).static.root, join(dir, "dist"));
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(bin, { recursive: true });
    }
  },
);

Deno.test(
  "config e2e: SIGHUP with a broken file logs each problem and keeps the running config",
  needs("read", "write", "run"),
  async () => {
    const { dir, file } = await site(twoSites());
    await using ferry = await startChild(["--config", file]);
    const url = ferry.urls[0].replace(/\/$/, "");
    try {
      await Deno.writeTextFile(file, '{ "sites": [{ "routes": [{ "path": "/x", "respnd": {} }] }] }');
      ferry.child.kill("SIGHUP");
      await until(() => ferry.stderr().includes("did you mean"), "the refusal");
      assert.match(
        ferry.stderr(),
        /sites\[0\]\.routes\[0\]\.respnd: unknown key \(did you mean "respond"\?\)/,
      );
      assert.equal((await get(`${url}/ping`, "a.test")).body, "pong", "the old config keeps serving");
      const metrics = await (await fetch(`${url}/_metrics`, { headers: { accept: "text/plain" } })).text();
      assert.match(metrics, /^ferry_config_reloads_total\{result="failed"\} 1$/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "config e2e: a reload brings a new site's certificate (SNI) without a restart",
  needs("read", "write", "run"),
  async () => {
    const config = (hosts: string[]) => ({
      listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" },
      admin: { listen: "127.0.0.1:0" },
      sites: hosts.map((h) => ({
        hosts: [h],
        tls: { self_signed: true },
        routes: [{ respond: { body: h } }],
      })),
    });
    const { dir, file } = await site(() => config(["a.test"]));
    try {
      await using ferry = await startChild(["--config", file, "--cert-dir", join(dir, "certs")], 2);
      const port = Number(new URL(ferry.urls.find((u) => u.startsWith("https"))!).port);
      const admin = await adminUrl(ferry);
      assert.match(await subjectFor(port, "n.test"), /CN ?= ?localhost/);
      const loaded = await fetch(`${admin}/load`, {
        method: "POST",
        body: JSON.stringify(config(["a.test", "n.test"])),
      });
      assert.equal(loaded.status, 200, await loaded.text());
      assert.match(
        await subjectFor(port, "n.test"),
        /CN ?= ?n\.test/,
        "the load answers once the certificate is served",
      );
      assert.match(await subjectFor(port, "a.test"), /CN ?= ?a\.test/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
