/**
 * The reverse proxy in front of the servers people put behind one: gunicorn (TCP and a Unix
 * socket), uvicorn, nginx and Python's `http.server`, each started by the test. A GET and a
 * streamed POST reach each, with X-Forwarded-For set by ferry.
 */

import assert from "assert";
import { exchange, text } from "../helpers/client.ts";
import { startServer } from "../helpers/server.ts";
import { freePort, spawnUpstream, type Upstream } from "../helpers/upstreams.ts";
import { startNginx } from "../helpers/proxies.ts";
import { join } from "../helpers/paths.ts";
import { PYTHON } from "../helpers/python.ts";
import { ROOT } from "../helpers/server.ts";
import { parseProxyRoute } from "../../src/upstream/proxy_flag.ts";
import { needs } from "../helpers/needs.ts";

const FIXTURES = join(ROOT, "tests", "upstream", "fixtures");

async function throughProxy(up: { target: string }, expect: string) {
  await using s = await startServer({ proxyRoutes: [parseProxyRoute(`/p/=${up.target}`)] });
  const get = await exchange(
    s.port,
    "GET /p/a?b=1 HTTP/1.1\r\nHost: site.test\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n",
  );
  assert.equal(get.status, 200);
  const g = JSON.parse(text(get));
  assert.equal(g.server, expect);
  assert.equal(g.path, "/p/a");
  assert.equal(g.xff, "127.0.0.1");
  const body = "b".repeat(200_000);
  const post = await exchange(
    s.port,
    `POST /p/upload HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n\r\n${
      body.length.toString(16)
    }\r\n${body}\r\n0\r\n\r\n`,
  );
  assert.equal(post.status, 200);
  assert.equal(JSON.parse(text(post)).body, body.length);
}

function gunicorn(bind: string, where: { port: number } | { unixPath: string }): Promise<Upstream> {
  return spawnUpstream(PYTHON, [
    "-m",
    "gunicorn",
    "-w",
    "1",
    "-b",
    bind,
    "--chdir",
    FIXTURES,
    "peer_apps:wsgi",
  ], where);
}

Deno.test("peers: gunicorn over TCP", needs("read", "run"), async () => {
  const port = freePort();
  await using up = await gunicorn(`127.0.0.1:${port}`, { port });
  await throughProxy(up, "gunicorn");
});

Deno.test("peers: gunicorn on a Unix socket (unix//PATH)", needs("read", "write", "run"), async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "app.sock");
  await using up = await gunicorn(`unix:${path}`, { unixPath: path });
  assert.equal(up.target, `unix/${path}`);
  await throughProxy(up, "gunicorn");
  await Deno.remove(dir, { recursive: true }).catch(() => {});
});

Deno.test("peers: uvicorn", needs("read", "run"), async () => {
  const port = freePort();
  await using up = await spawnUpstream(
    PYTHON,
    ["-m", "uvicorn", "--host", "127.0.0.1", "--port", String(port), "--app-dir", FIXTURES, "peer_apps:asgi"],
    { port },
  );
  await throughProxy(up, "uvicorn");
});

Deno.test(
  "peers: Python's http.server and nginx serve files through the proxy",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    const big = "n".repeat(1 << 20);
    await Deno.writeTextFile(join(dir, "big.txt"), big);
    const port = freePort();
    await using py = await spawnUpstream(
      PYTHON,
      ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir],
      { port },
    );
    const nport = freePort();
    await using nginx = await startNginx(`server { listen 127.0.0.1:${nport}; root ${dir}; }`, nport);
    await using s = await startServer({
      proxyRoutes: [parseProxyRoute(`/py/=${py.target}`), parseProxyRoute(`/ng/=127.0.0.1:${nginx.port}`)],
    });
    // Python's server maps the whole path: the file lives under the prefix there.
    await Deno.mkdir(join(dir, "py"));
    await Deno.mkdir(join(dir, "ng"));
    await Deno.writeTextFile(join(dir, "py", "big.txt"), big);
    await Deno.writeTextFile(join(dir, "ng", "big.txt"), big);
    for (const d of [dir, join(dir, "py"), join(dir, "ng")]) await Deno.chmod(d, 0o755); // nginx's worker user
    for (const prefix of ["/py/", "/ng/"]) {
      const res = await exchange(s.port, `GET ${prefix}big.txt HTTP/1.1\r\nHost: a\r\n\r\n`);
      assert.equal(res.status, 200, prefix);
      assert.equal(res.body.length, big.length, prefix);
      const missing = await exchange(s.port, `GET ${prefix}none.txt HTTP/1.1\r\nHost: a\r\n\r\n`);
      assert.equal(missing.status, 404, prefix);
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  },
);
