/**
 * The app interfaces over real sockets: every environ key, streamed request and response bodies,
 * write(), exc_info, errors before and after the head, HEAD, close() on client abort,
 * concurrency, fetch handlers (plain and Hono, in-process and through --app), and the example app.
 */

import assert from "assert";
import { bytes, concat, exchange, header, RawClient, text } from "../helpers/client.ts";
import { startChild, startServer, until } from "../helpers/server.ts";
import { ferryArgs } from "../helpers/start_flags.ts";
import {
  type App,
  appFromExport,
  type Environ,
  fetchHandler,
  Logger,
  type StartResponse,
  wsgiHandler,
} from "../../src/mod.ts";
import { MemorySink } from "../helpers/server.ts";
import honoApp from "../../examples/hono_app.ts";
import fetchApp from "../../examples/fetch_app.ts";
import { needs } from "../helpers/needs.ts";

const H = "Host: app.test:8080\r\n";
const log = new Logger("none", new MemorySink(), new MemorySink());
const wsgi = (app: App) => wsgiHandler(app, { log });

function jsonEnviron(environ: Environ): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(environ)) if (typeof v === "string") out[k] = v;
  return JSON.stringify(out);
}

Deno.test("wsgi: environ keys (decoded PATH_INFO, raw QUERY_STRING, repeats joined, no CONTENT_LENGTH without a body)", async () => {
  await using s = await startServer({
    handler: wsgi((environ, start) => {
      start("200 OK", [["Content-Type", "application/json"]]);
      return [jsonEnviron(environ)];
    }),
  });
  const res = await exchange(
    s.port,
    `GET /a%20b/caf%C3%A9/x%2Fy?q=%20a+b&r HTTP/1.1\r\n${H}Accept: a\r\nX-Multi: 1\r\nX-Multi: 2\r\n` +
      `X_Spoof: no\r\nUser-Agent: t/1\r\n\r\n`,
  );
  const env = JSON.parse(text(res));
  assert.equal(env.REQUEST_METHOD, "GET");
  assert.equal(env.SCRIPT_NAME, "");
  assert.equal(env.PATH_INFO, "/a b/café/x/y");
  assert.equal(env.QUERY_STRING, "q=%20a+b&r");
  assert.equal(env.SERVER_NAME, "app.test");
  assert.equal(env.SERVER_PORT, "8080");
  assert.equal(env.SERVER_PROTOCOL, "HTTP/1.1");
  assert.equal(env.REMOTE_ADDR, "127.0.0.1");
  assert.match(env.REMOTE_PORT, /^\d+$/);
  assert.equal(env["wsgi.url_scheme"], "http");
  assert.equal(env.HTTP_X_MULTI, "1, 2");
  assert.equal(env.HTTP_USER_AGENT, "t/1");
  assert.equal(env.HTTP_HOST, "app.test:8080");
  assert.equal(env.HTTP_X_SPOOF, undefined, "a name with _ could pose as another header: left out");
  assert.equal("CONTENT_LENGTH" in env, false);
  assert.equal("CONTENT_TYPE" in env, false);

  const post = await exchange(
    s.port,
    `POST /p HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc`,
  );
  const penv = JSON.parse(text(post));
  assert.equal(penv.CONTENT_TYPE, "text/plain");
  assert.equal(penv.CONTENT_LENGTH, "3");
  assert.equal(penv.SERVER_PROTOCOL, "HTTP/1.0");
  assert.equal(penv.SERVER_NAME, "127.0.0.1");
});

Deno.test("wsgi: a 5 MB chunked request body echoed byte-exact through wsgi.input", async () => {
  await using s = await startServer({
    handler: wsgi(async function* (environ: Environ, start: StartResponse) {
      start("200 OK", [["Content-Type", "application/octet-stream"]]);
      for await (const chunk of environ["wsgi.input"]) yield chunk;
    }),
  });
  const data = crypto.getRandomValues(new Uint8Array(65536));
  const big = new Uint8Array(5 * 1024 * 1024);
  for (let off = 0; off < big.length; off += data.length) big.set(data, off);
  big[12345] ^= 0xff;
  const parts: Uint8Array[] = [bytes(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`)];
  for (let off = 0; off < big.length; off += 300_000) {
    const piece = big.subarray(off, Math.min(off + 300_000, big.length));
    parts.push(bytes(piece.length.toString(16) + "\r\n"), piece, bytes("\r\n"));
  }
  parts.push(bytes("0\r\n\r\n"));
  await using c = await RawClient.connect(s.port);
  const [res] = await Promise.all([c.response(), c.send(concat(parts))]);
  assert.equal(header(res, "transfer-encoding"), "chunked");
  assert.deepEqual(res.body, big);
});

Deno.test("wsgi: an async-generator body goes out as chunks, each before the next is asked for", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using s = await startServer({
    handler: wsgi((_env, start) => {
      start("200 OK", [["Content-Type", "text/plain"]]);
      return (async function* () {
        yield "first;";
        await gate; // the client must already have "first;" while the app waits here
        yield "second";
      })();
    }),
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`GET / HTTP/1.1\r\n${H}\r\n`);
  // Bytes reach `buffered` as poll() reads them; the app is held at the gate meanwhile.
  for (let i = 0; i < 50 && !new TextDecoder().decode(c.buffered).includes("first;"); i++) await c.poll(100);
  assert.ok(
    new TextDecoder().decode(c.buffered).includes("first;"),
    "first piece sent before the second exists",
  );
  release();
  const res = await c.response();
  assert.equal(header(res, "transfer-encoding"), "chunked");
  assert.equal(text(res), "first;second");
});

Deno.test("wsgi: write() from start_response, mixed with the returned body", async () => {
  await using s = await startServer({
    handler: wsgi((_env, start) => {
      const write = start("200 OK", [["Content-Type", "text/plain"]]);
      write("written ");
      write(new TextEncoder().encode("bytes "));
      return ["then returned"];
    }),
  });
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(text(res), "written bytes then returned");
});

Deno.test("wsgi: Content-Length given by the app is used; an array body gets one computed", async () => {
  await using s = await startServer({
    handler: wsgi((env, start) => {
      if (env.PATH_INFO === "/given") {
        start("200 OK", [["Content-Length", "5"]]);
        return (function* () {
          yield "he";
          yield "llo";
        })();
      }
      start("200 OK", []);
      return ["ab", "cd"];
    }),
  });
  const given = await exchange(s.port, `GET /given HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(given, "content-length"), "5");
  assert.equal(header(given, "transfer-encoding"), undefined);
  assert.equal(text(given), "hello");
  const array = await exchange(s.port, `GET /array HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(array, "content-length"), "4");
  // HTTP/1.0 without a length: close-delimited.
  const old = await exchange(s.port, `GET /given HTTP/1.0\r\n\r\n`);
  assert.equal(text(old), "hello");
});

Deno.test("wsgi: start_response again with exc_info replaces the status before the head is sent", async () => {
  let late: unknown;
  await using s = await startServer({
    handler: wsgi((env, start) => {
      start("200 OK", [["X-First", "1"]]);
      if (env.PATH_INFO === "/late") {
        return (function* () {
          yield "sent";
          try {
            start("500 Oops", [], new Error("too late"));
          } catch (e) {
            late = e;
          }
        })();
      }
      try {
        throw new Error("failed after start_response");
      } catch (e) {
        start("503 Service Unavailable", [["X-Second", "1"]], e);
      }
      return ["recovered"];
    }),
  });
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(res.status, 503);
  assert.equal(header(res, "x-first"), undefined);
  assert.equal(header(res, "x-second"), "1");
  assert.equal(text(res), "recovered");
  const after = await exchange(s.port, `GET /late HTTP/1.1\r\n${H}\r\n`);
  assert.equal(after.status, 200);
  assert.ok(late instanceof Error && late.message === "too late", "exc_info re-raised once the head is out");
});

Deno.test("wsgi: an exception before the head is a generic 500; after it, a cut-off body", async () => {
  const sink = new MemorySink();
  await using s = await startServer({
    handler: wsgiHandler((env, start) => {
      if (env.PATH_INFO === "/before") throw new Error("db password is hunter2");
      start("200 OK", [["Content-Type", "text/plain"]]);
      return (function* () {
        yield "partial";
        throw new Error("mid-body failure");
      })();
    }, { log: new Logger("none", sink, sink) }),
  });
  const before = await exchange(s.port, `GET /before HTTP/1.1\r\n${H}\r\n`);
  assert.equal(before.status, 500);
  assert.doesNotMatch(text(before), /hunter2/);
  await s.server.log.flush();
  assert.match(s.logs.text, /hunter2/);
  assert.match(s.logs.text, /id=\S+/, "logged with the request id");

  await using c = await RawClient.connect(s.port);
  await c.send(`GET /after HTTP/1.1\r\n${H}\r\n`);
  const after = await c.response();
  assert.equal(after.status, 200);
  assert.equal(after.complete, false, "no final chunk");
  assert.equal(text(after), "partial");
});

Deno.test("wsgi: HEAD runs the app and sends no body", async () => {
  let ran = 0;
  await using s = await startServer({
    handler: wsgi((_env, start) => {
      ran++;
      start("200 OK", [["Content-Type", "text/plain"]]);
      return ["a body for GET"];
    }),
  });
  await using c = await RawClient.connect(s.port);
  await c.send(`HEAD / HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`);
  const head = await c.response("HEAD");
  assert.equal(header(head, "content-length"), "14");
  assert.equal(text(await c.response()), "a body for GET", "nothing of the HEAD body was on the wire");
  assert.equal(ran, 2);
});

Deno.test("wsgi: the body's return() (WSGI close) runs on completion and when the client goes away", async () => {
  let closed = 0;
  let produced = 0;
  await using s = await startServer({
    handler: wsgi((env, start) => {
      start("200 OK", [["Content-Type", "text/plain"]]);
      return (async function* () {
        try {
          if (env.PATH_INFO === "/short") {
            yield "short";
            return;
          }
          for (;;) {
            produced++;
            yield "x".repeat(16384);
            await new Promise((r) => setTimeout(r, 5));
          }
        } finally {
          closed++;
        }
      })();
    }),
  });
  await exchange(s.port, `GET /short HTTP/1.1\r\n${H}\r\n`);
  await until(() => closed === 1, "close() after a complete body");
  const c = await RawClient.connect(s.port);
  await c.send(`GET /endless HTTP/1.1\r\n${H}\r\n`);
  await until(() => produced > 3, "the endless body to start");
  c.close();
  await until(() => closed === 2, "close() after the client went away");
});

Deno.test("wsgi: 20 slow requests run concurrently", async () => {
  let inFlight = 0;
  let most = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using s = await startServer({
    handler: wsgi(async (_env, start) => {
      inFlight++;
      most = Math.max(most, inFlight);
      if (inFlight === 20) release();
      await gate; // every request waits until all 20 are inside the app at once
      inFlight--;
      start("200 OK", []);
      return ["ok"];
    }),
  });
  const results = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => exchange(s.port, `GET /${i} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`),
    ),
  );
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(most, 20);
});

Deno.test("fetch: a plain { fetch } object: Request with streaming body, URL and scheme; Response streamed", async () => {
  await using s = await startServer({ handler: fetchHandler(fetchApp) });
  const hello = await exchange(s.port, `GET /?a=1 HTTP/1.1\r\n${H}\r\n`);
  assert.equal(text(hello), "Hello from a fetch handler at http://app.test:8080/?a=1\n");
  assert.equal(header(hello, "content-length"), String(hello.body.length), "a finished body gets a length");
  const json = await exchange(s.port, `GET /json HTTP/1.1\r\n${H}\r\n`);
  assert.deepEqual(JSON.parse(text(json)), { ok: true, path: "/json" });
  assert.match(header(json, "content-type") ?? "", /application\/json/);
  const echo = await exchange(
    s.port,
    `POST /echo HTTP/1.1\r\n${H}Content-Type: text/x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`,
  );
  assert.equal(text(echo), "abcde");
  assert.equal(header(echo, "content-type"), "text/x");
});

Deno.test("fetch: a streaming Response goes out chunk by chunk; errors become 500", async () => {
  await using s = await startServer({
    handler: fetchHandler({
      fetch(req) {
        if (new URL(req.url).pathname === "/boom") throw new Error("fetch handler failed");
        let n = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(ctl) {
            await new Promise((r) => setTimeout(r, 10));
            if (++n > 3) ctl.close();
            else ctl.enqueue(new TextEncoder().encode(`part${n};`));
          },
        });
        return new Response(body, { headers: { "x-kind": "stream" } });
      },
    }),
  });
  const res = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(res, "transfer-encoding"), "chunked");
  assert.equal(text(res), "part1;part2;part3;");
  const boom = await exchange(s.port, `GET /boom HTTP/1.1\r\n${H}\r\n`);
  assert.equal(boom.status, 500);
});

Deno.test("fetch: a Hono app, unmodified", async () => {
  const { handler, kind } = appFromExport(honoApp, log);
  assert.equal(kind, "fetch");
  await using s = await startServer({ handler });
  assert.equal(text(await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`)), "Hello from Hono on ferry");
  const user = await exchange(s.port, `GET /users/42 HTTP/1.1\r\n${H}\r\n`);
  assert.deepEqual(JSON.parse(text(user)), { id: "42", scheme: "http:" });
  const echo = await exchange(s.port, `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nping`);
  assert.equal(text(echo), "ping");
  const missing = await exchange(s.port, `GET /nope HTTP/1.1\r\n${H}\r\n`);
  assert.equal(missing.status, 404);
});

Deno.test(
  "--app: WSGI, fetch and Hono modules served by main.ts",
  needs("read", "write", "run"),
  async () => {
    for (
      const [file, path, expect] of [
        ["examples/wsgi_app.ts", "/?x=1", 'Hello from a WSGI-style app: path /, query "x=1"\n'],
        ["examples/fetch_app.ts", "/json", '{"ok":true,"path":"/json"}'],
        ["examples/hono_app.ts", "/", "Hello from Hono on ferry"],
      ]
    ) {
      await using child = await startChild([
        "--port",
        "0",
        "--no-https",
        "--log-format",
        "none",
        "--app",
        file,
      ]);
      const port = Number(new URL(child.urls[0]).port);
      const res = await exchange(port, `GET ${path} HTTP/1.1\r\n${H}\r\n`);
      assert.equal(text(res), expect, file);
    }
  },
);

Deno.test(
  "--app: a module without a usable default export is refused at start",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/bad.ts`, "export default 42;\n");
      const out = await new Deno.Command(Deno.execPath(), {
        args: ferryArgs(["--port", "0", "--no-https", "--app", `${dir}/bad.ts`]),
        stdin: "null",
      }).output();
      assert.equal(out.code, 2);
      assert.match(new TextDecoder().decode(out.stderr), /--app .*bad\.ts: .*default export must be/);
      const missing = await new Deno.Command(Deno.execPath(), {
        args: ferryArgs(["--port", "0", "--no-https", "--app", "/nope.ts"]),
        stdin: "null",
      }).output();
      assert.equal(missing.code, 2);
      assert.match(new TextDecoder().decode(missing.stderr), /--app \/nope\.ts: .*not found/i);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("example app: /, /hello, /stream, /submit, /env", async () => {
  await using s = await startServer();
  const home = await exchange(s.port, `GET / HTTP/1.1\r\n${H}\r\n`);
  assert.match(text(home), /href="\/static\/index.html"/);
  assert.equal(text(await exchange(s.port, `GET /hello HTTP/1.1\r\n${H}\r\n`)), "Hello, World!");
  const stream = await exchange(s.port, `GET /stream HTTP/1.1\r\n${H}\r\n`);
  assert.equal(header(stream, "transfer-encoding"), "chunked");
  assert.equal(text(stream), [1, 2, 3, 4, 5].map((i) => `piece ${i} of 5\n`).join(""));
  const submit = await exchange(s.port, `POST /submit HTTP/1.1\r\n${H}Content-Length: 7\r\n\r\npayload`);
  assert.equal(text(submit), "payload");
  const env = JSON.parse(text(await exchange(s.port, `GET /env?k=v HTTP/1.1\r\n${H}X-Hi: there\r\n\r\n`)));
  assert.equal(env.QUERY_STRING, "k=v");
  assert.equal(env.HTTP_X_HI, "there");
  assert.equal(env.PATH, undefined, "no process environment");
  assert.equal(env.HOME, undefined);
});

Deno.test("fetch: HEAD sends the Content-Length a GET would, and no body", async () => {
  const handler = fetchHandler({ fetch: () => new Response("hello, head") });
  await using s = await startServer({ handler });
  await using c = await RawClient.connect(s.port);
  await c.send(`HEAD /x HTTP/1.1\r\n${H}\r\nGET /x HTTP/1.1\r\n${H}\r\n`);
  const head = await c.response("HEAD");
  assert.equal(head.status, 200);
  assert.equal(header(head, "content-length"), "11");
  assert.equal(head.body.length, 0);
  assert.equal(text(await c.response()), "hello, head", "nothing of the HEAD body was on the wire");
});
