/**
 * A real Flask app (Debian's python3-flask, under /usr/bin/python3) behind ferry: routes, JSON, a
 * form POST, a multipart upload, a chunked POST, a streamed response, send_file, cookies and a
 * signed session.
 */

import assert from "assert";
import { exchange, text } from "../../helpers/client.ts";
import { APPS, pythonHas, startWsgi } from "../../helpers/python.ts";
import { join } from "../../helpers/paths.ts";
import { ROOT } from "../../helpers/server.ts";
import { missing, needs } from "../../helpers/needs.ts";

if (missing("run", "read").length === 0 && !pythonHas("flask")) {
  throw new Error("Flask is missing: apt-get install python3-flask (.ci/run does)");
}

Deno.test(
  "flask: routes, JSON, a form, a multipart upload and a chunked POST",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("flask_app:app");
    const base = `http://127.0.0.1:${s.port}`;
    assert.equal(await (await fetch(`${base}/`)).text(), "flask says hello");
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    const json = await (await fetch(`${base}/json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: [1, 2], b: "é" }),
    })).json();
    assert.deepEqual(json, { got: { a: [1, 2], b: "é" }, method: "POST" });
    const form = await (await fetch(`${base}/form`, {
      method: "POST",
      body: new URLSearchParams({ x: "1", y: "two words" }),
    }))
      .json();
    assert.deepEqual(form, { x: "1", y: "two words" });
    const fd = new FormData();
    const bytes = new Uint8Array(300_000).map((_, i) => 65 + (i % 26));
    fd.append("file", new Blob([bytes]), "letters.bin");
    fd.append("note", "a note");
    const up = await (await fetch(`${base}/upload`, { method: "POST", body: fd })).json();
    assert.deepEqual(up, { name: "letters.bin", size: 300_000, first: "ABCDEFGH", field: "a note" });
    const chunked = await exchange(
      s.port,
      "POST /raw HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert.deepEqual(JSON.parse(text(chunked)), { size: 11, length: 11, head: "hello worl" });
  },
);

Deno.test(
  "flask: a streamed response, send_file, cookies and the session",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("flask_app:app");
    const base = `http://127.0.0.1:${s.port}`;
    const stream = await exchange(s.port, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.equal(stream.chunked, true);
    assert.equal(text(stream), "chunk 0\nchunk 1\nchunk 2\n");
    const file = await fetch(`${base}/file`);
    assert.equal(file.headers.get("content-type"), "text/x-python; charset=utf-8");
    assert.equal(await file.text(), await Deno.readTextFile(join(APPS, "plain_apps.py")));
    assert.equal(await (await fetch(`${base}/memfile`)).text(), "in memory");
    const login = await fetch(`${base}/login?user=ada`);
    assert.equal(await login.text(), "logged in");
    const cookies = login.headers.getSetCookie().map((c) => c.split(";")[0]);
    assert.ok(cookies.some((c) => c.startsWith("session=")), `cookies: ${cookies}`);
    const who = await (await fetch(`${base}/whoami`, { headers: { cookie: cookies.join("; ") } })).json();
    assert.deepEqual(who, { user: "ada", plain: "cookie-value" });
  },
);

Deno.test(
  "flask: the example app in examples/python serves its routes",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("flask_app:app", { workers: 1, chdir: join(ROOT, "examples", "python") });
    const hello = await (await fetch(`http://127.0.0.1:${s.port}/hello/ada`)).json();
    assert.deepEqual(hello, { hello: "ada", scheme: "http", client: "127.0.0.1" });
  },
);
