/**
 * The Python WSGI gateway against real Python workers and real sockets: PEP 3333's environ and
 * input, start_response and write(), streaming, file_wrapper, close(), Content-Length, hop-by-hop
 * headers, what the app prints, and a wsgiref validator-wrapped app with warnings as errors.
 */

import assert from "assert";
import { exchange, header, RawClient, text } from "../../helpers/client.ts";
import { startWsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { makeSelfSigned } from "../../../src/tls/cert.ts";
import { needs } from "../../helpers/needs.ts";

const H = "Host: example.test:8080\r\n";

async function get(port: number, target: string, extra = ""): Promise<Awaited<ReturnType<typeof exchange>>> {
  return await exchange(port, `GET ${target} HTTP/1.1\r\n${H}${extra}\r\n`);
}

Deno.test(
  "wsgi: the environ is PEP 3333's: native latin-1 strings, the wsgi.* values, CONTENT_LENGTH",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated");
    const res = await exchange(
      s.port,
      `POST /echo/caf%C3%A9?q=1&r=%20 HTTP/1.1\r\n${H}Content-Type: text/plain\r\nX-Thing: a\r\nX-Thing: b\r\n` +
        `Cookie: a=1\r\nCookie: b=2\r\nX_Under: dropped\r\nContent-Length: 5\r\n\r\nhello`,
    );
    assert.equal(res.status, 200);
    const j = JSON.parse(text(res));
    const e = j.environ;
    assert.equal(e.REQUEST_METHOD, "POST");
    assert.equal(e.SCRIPT_NAME, "");
    // The UTF-8 bytes of "é", each decoded as latin-1 (PEP 3333's "bytes as unicode").
    assert.equal(e.PATH_INFO, "/echo/caf\u00c3\u00a9");
    assert.equal(e.QUERY_STRING, "q=1&r=%20");
    assert.equal(e.CONTENT_TYPE, "text/plain");
    assert.equal(e.CONTENT_LENGTH, "5");
    assert.equal(e.SERVER_NAME, "example.test");
    assert.equal(e.SERVER_PORT, "8080");
    assert.equal(e.SERVER_PROTOCOL, "HTTP/1.1");
    assert.equal(e.REMOTE_ADDR, "127.0.0.1");
    assert.equal(e["wsgi.url_scheme"], "http");
    assert.equal(e.HTTP_X_THING, "a, b");
    assert.equal(e.HTTP_COOKIE, "a=1; b=2");
    assert.equal(e.HTTP_X_UNDER, undefined, "a header with _ must not pose as its - twin");
    assert.equal(e.HTTP_CONTENT_LENGTH, undefined);
    assert.deepEqual(j.version, [1, 0]);
    assert.deepEqual([j.multithread, j.multiprocess, j.run_once, j.input_terminated], [
      false,
      true,
      false,
      true,
    ]);
    assert.equal(j.body, "hello");
    assert.equal(s.logText().includes("Warning"), false, s.logText());
  },
);

Deno.test(
  "wsgi: a chunked body is de-chunked and the app gets its real CONTENT_LENGTH",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated");
    const res = await exchange(
      s.port,
      `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n`,
    );
    const j = JSON.parse(text(res));
    assert.equal(j.environ.CONTENT_LENGTH, "7");
    assert.equal(j.body, "abcdefg");
  },
);

Deno.test(
  "wsgi: a body over 1 MiB travels through a temporary file, whole",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated");
    const body = "0123456789abcdef".repeat(100_000); // 1.6 MB
    const res = await fetch(`http://127.0.0.1:${s.port}/echo`, { method: "POST", body });
    const j = await res.json();
    assert.equal(j.environ.CONTENT_LENGTH, String(body.length));
    assert.equal(j.body.length, body.length);
    assert.equal(j.body, body);
    const left = () => [...Deno.readDirSync(s.pool.dir)].filter((e) => e.name.startsWith("body-")).length;
    await until(() => left() === 0, "the temporary body file to be removed");
  },
);

Deno.test(
  "wsgi: wsgi.input's read, readline(n), readlines and a clean EOF",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app");
    const res = await exchange(
      s.port,
      `POST /input HTTP/1.1\r\n${H}Content-Length: 20\r\n\r\nline one\nline two\nxy`,
    );
    assert.deepEqual(JSON.parse(text(res)), ["line ", "one\n", ["line two\n", "xy"], ""]);
  },
);

Deno.test(
  "wsgi: Expect: 100-continue is answered by ferry before the body is sent",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated");
    await using c = await RawClient.connect(s.port);
    await c.send(`POST /echo HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 4\r\n\r\n`);
    const cont = await c.response();
    assert.equal(cont.status, 100);
    await c.send("body");
    const res = await c.response();
    assert.equal(JSON.parse(text(res)).body, "body");
  },
);

Deno.test(
  "wsgi: a streamed iterable goes out chunked, piece by piece; write() works; close() always runs",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated");
    const stream = await get(s.port, "/stream");
    assert.equal(stream.chunked, true);
    assert.equal(text(stream), "part 0\npart 1\npart 2\npart 3\npart 4\n");
    assert.equal(text(await get(s.port, "/write")), "written returned");
    for (let i = 0; i < 4; i++) await get(s.port, "/closing");
    // Both workers may have served them: ask until each has answered.
    const closed = new Set<string>();
    for (let i = 0; i < 10; i++) {
      for (const p of JSON.parse(text(await get(s.port, "/closed")))) closed.add(p);
    }
    assert.deepEqual([...closed], ["/closing"]);
  },
);

Deno.test(
  "wsgi: file_wrapper sends a file from its current position",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated");
    const res = await get(s.port, "/file");
    const source = await Deno.readTextFile(new URL("./apps/plain_apps.py", import.meta.url));
    assert.equal(text(res), source.slice(3));
  },
);

Deno.test(
  "wsgi: a declared Content-Length is honoured; a shorter body closes the connection",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app");
    await using c = await RawClient.connect(s.port);
    await c.send(`GET /short HTTP/1.1\r\n${H}\r\n`);
    await c.send("");
    const raw = new TextDecoder().decode(await c.readAll());
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /Content-Length: 10\r\n/);
    assert.ok(raw.endsWith("\r\n\r\n12345"), JSON.stringify(raw));
  },
);

Deno.test(
  "wsgi: hop-by-hop headers from the app are dropped with a warning",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app");
    const res = await get(s.port, "/hop");
    assert.equal(res.status, 200);
    assert.equal(header(res, "keep-alive"), undefined);
    assert.notEqual(header(res, "connection"), "keep-alive");
    assert.match(s.logText(), /hop-by-hop header; dropped .*header=Keep-Alive/);
  },
);

Deno.test(
  "wsgi: what the app prints is logged line by line with the worker's pid and the request id",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app");
    const res = await get(s.port, "/print", "X-Request-Id: print-1\r\n");
    assert.equal(text(res), "printed");
    await until(() => s.logText().includes("to stderr"), "the stderr line to be logged");
    const log = s.logText();
    assert.match(log, /python pid=\d+ id=print-1 stream=stdout line=hello from the app/);
    assert.match(log, /python pid=\d+ id=print-1 stream=stderr line=to stderr/);
    assert.match(log, /wsgi\.errors id=print-1 pid=\d+ line=to wsgi\.errors/);
  },
);

Deno.test(
  "wsgi: an exception before the head is a 500 with a generic body, the traceback in the log",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:validated");
    const res = await get(s.port, "/boom", "X-Request-Id: boom-1\r\n");
    assert.equal(res.status, 500);
    assert.equal(text(res), "Internal Server Error\n");
    assert.match(s.logText(), /python app raised id=boom-1 .*RuntimeError: the app failed on purpose/s);
    // After the head: the response is cut short, never complete-looking.
    const late = await get(s.port, "/boom-late");
    assert.equal(late.status, 200);
    assert.equal(late.complete, false);
    assert.equal((await get(s.port, "/pid")).status, 200, "the worker goes on serving");
  },
);

Deno.test(
  "wsgi: MODULE:factory() calls the factory, with its arguments",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:make_app('from the factory')", { workers: 1 });
    assert.equal(text(await get(s.port, "/")), "from the factory");
  },
);

Deno.test("wsgi: HTTPS sets wsgi.url_scheme to https", needs("read", "write", "run"), async () => {
  const tlsMaterial = await makeSelfSigned();
  await using s = await startWsgi("plain_apps:validated", { workers: 1 }, {
    https: true,
    httpsPort: 0,
    tlsMaterial,
  });
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port: s.httpsPort,
    caCerts: [tlsMaterial.cert],
  });
  await using c = RawClient.wrap(conn);
  await c.send(`GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  const j = JSON.parse(text(await c.response()));
  assert.equal(j.environ["wsgi.url_scheme"], "https");
  assert.equal(j.environ.SERVER_PORT, "443");
});

Deno.test(
  "wsgi: more bytes than the declared Content-Length are never sent; the connection closes",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1 });
    await using c = await RawClient.connect(s.port);
    await c.send(`GET /long HTTP/1.1\r\n${H}\r\n`);
    const raw = new TextDecoder().decode(await c.readAll());
    assert.match(raw, /Content-Length: 3\r\n/);
    assert.ok(raw.endsWith("\r\n\r\n012"), JSON.stringify(raw.slice(-20)));
    assert.equal((await get(s.port, "/pid")).status, 200, "the worker goes on serving");
  },
);

Deno.test(
  "wsgi: close() runs when the client goes away in the middle of a stream",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1 });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    await conn.write(new TextEncoder().encode(`GET /endless HTTP/1.1\r\n${H}\r\n`));
    const buf = new Uint8Array(65536);
    let got = 0;
    while (got < 200_000) got += (await conn.read(buf)) ?? 0;
    conn.close();
    let closed = false;
    for (let i = 0; i < 100 && !closed; i++) {
      closed = JSON.parse(text(await get(s.port, "/closed"))).includes("/endless");
      if (!closed) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(closed, "close() ran after the client left");
  },
);
