/**
 * The ASGI gateway with real asyncio workers and raw ASGI apps: the HTTP scope key by key, request
 * bodies as http.request pieces (inline, streamed, chunked), responses that stream piece by piece
 * and under back-pressure, http.disconnect, one worker serving many requests at once, the ASGI 2
 * double callable, and the failures (500, truncation, 502, 503, 504), over HTTP and HTTPS.
 */

import assert from "assert";
import { exchange, RawClient, text } from "../../helpers/client.ts";
import { APPS, startAsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";
import { makeSelfSigned } from "../../../src/tls/cert.ts";
import { needs } from "../../helpers/needs.ts";

const H = "Host: t\r\n";
const get = (port: number, target: string, extra = "") =>
  exchange(port, `GET ${target} HTTP/1.1\r\n${H}${extra}\r\n`);

async function tmpPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-asgi-test-" });
  return join(dir, "marker");
}

const material = await makeSelfSigned();

for (const secure of [false, true]) {
  const name = secure ? "HTTPS" : "HTTP";
  Deno.test(
    `asgi (${name}): every scope key has the spec's type and value`,
    needs("read", "write", "run"),
    async () => {
      await using s = await startAsgi(
        "asgi_apps:app",
        { workers: 1 },
        secure ? { https: true, httpsPort: 0, tlsMaterial: material } : {},
      );
      const port = secure ? s.httpsPort : s.port;
      const conn = secure
        ? await Deno.connectTls({ hostname: "localhost", port, caCerts: [material.cert] })
        : await Deno.connect({ hostname: "127.0.0.1", port });
      await using c = RawClient.wrap(conn);
      await c.send(
        "POST /scope/a%20b%2Fc/%C3%A9?x=1&y=%20 HTTP/1.1\r\nHost: example.test:8443\r\nX-Dup: one\r\n" +
          "x_under: u\r\nX-Dup: two\r\nCookie: a=1\r\nCookie: b=2\r\nContent-Length: 5\r\n\r\nhello",
      );
      const res = await c.response();
      assert.equal(res.status, 200);
      const { scope, pieces, body } = JSON.parse(text(res));
      assert.equal(pieces, 1);
      assert.equal(body, "hello");
      assert.equal(scope.type, "http");
      assert.deepEqual(scope.asgi, { version: "3.0", spec_version: "2.3" });
      assert.equal(scope.http_version, "1.1");
      assert.equal(scope.method, "POST");
      assert.equal(scope.scheme, secure ? "https" : "http");
      assert.equal(scope.path, "/scope/a b/c/é");
      assert.deepEqual(scope.raw_path, { bytes: "/scope/a%20b%2Fc/%C3%A9" });
      assert.deepEqual(scope.query_string, { bytes: "x=1&y=%20" });
      assert.equal(scope.root_path, "");
      // Lowercased byte pairs exactly as received: in order, repeats kept, "_" names kept, none added.
      assert.deepEqual(scope.headers, [
        ["bytes", "host", "bytes", "example.test:8443"],
        ["bytes", "x-dup", "bytes", "one"],
        ["bytes", "x_under", "bytes", "u"],
        ["bytes", "x-dup", "bytes", "two"],
        ["bytes", "cookie", "bytes", "a=1"],
        ["bytes", "cookie", "bytes", "b=2"],
        ["bytes", "content-length", "bytes", "5"],
      ]);
      assert.equal(scope.client.tuple[0], "127.0.0.1");
      assert.deepEqual(scope.client.types, ["str", "int"]);
      assert.ok(scope.client.tuple[1] > 0);
      assert.deepEqual(scope.server.tuple, ["127.0.0.1", port]);
      assert.deepEqual(scope.server.types, ["str", "int"]);
      assert.deepEqual(scope.state, { greeting: "from lifespan" });
      assert.deepEqual(
        Object.keys(scope).sort(),
        [
          "asgi",
          "client",
          "headers",
          "http_version",
          "method",
          "path",
          "query_string",
          "raw_path",
          "root_path",
          "scheme",
          "server",
          "state",
          "type",
        ],
      );
      // HTTP/1.0 is "1.0".
      await c.send("GET /scope HTTP/1.0\r\nHost: t\r\n\r\n");
      assert.equal(JSON.parse(text(await c.response())).scope.http_version, "1.0");
    },
  );

  Deno.test(
    `asgi (${name}): a response streams piece by piece (the second waits for the test)`,
    needs("read", "write", "run"),
    async () => {
      await using s = await startAsgi(
        "asgi_apps:app",
        { workers: 1 },
        secure ? { https: true, httpsPort: 0, tlsMaterial: material } : {},
      );
      const gate = await tmpPath();
      const conn = secure
        ? await Deno.connectTls({ hostname: "localhost", port: s.httpsPort, caCerts: [material.cert] })
        : await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      await conn.write(new TextEncoder().encode(`GET /stream?${gate} HTTP/1.1\r\n${H}\r\n`));
      let got = "";
      const buf = new Uint8Array(4096);
      while (!got.includes("first;")) {
        const n = await conn.read(buf);
        assert.ok(n !== null, `the first piece before the end: ${got}`);
        got += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.ok(!got.includes("second;"), "the second piece cannot exist yet");
      await Deno.writeTextFile(gate, "go");
      while (!got.includes("\r\n0\r\n\r\n")) {
        const n = await conn.read(buf);
        assert.ok(n !== null, got);
        got += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.ok(got.indexOf("second;") > got.indexOf("first;"));
      conn.close();
    },
  );
}

Deno.test(
  "asgi: request bodies arrive as http.request pieces: inline, streamed with more_body, chunked",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const small = await (await fetch(`http://127.0.0.1:${s.port}/body`, { method: "POST", body: "abc" }))
      .json();
    assert.deepEqual(small, { length: 3, pieces: 1, sum: 97 + 98 + 99 });
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    let sum = 0;
    for (const b of big) sum += b;
    const r = await (await fetch(`http://127.0.0.1:${s.port}/body`, { method: "POST", body: big })).json();
    assert.equal(r.length, big.length);
    assert.equal(r.sum, sum);
    assert.ok(r.pieces > 1, `pieces: ${r.pieces}`);
    await using c = await RawClient.connect(s.port);
    await c.send(
      `POST /body HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`,
    );
    const chunked = JSON.parse(text(await c.response()));
    assert.equal(chunked.length, 5);
    assert.ok(chunked.pieces >= 2);
  },
);

Deno.test(
  "asgi: the app sees http.disconnect when the client leaves mid-response",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const marker = await tmpPath();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    await conn.write(new TextEncoder().encode(`GET /disconnect?${marker} HTTP/1.1\r\n${H}\r\n`));
    await conn.read(new Uint8Array(1024));
    conn.close();
    await until(() => {
      try {
        return Deno.readTextFileSync(marker) === "http.disconnect";
      } catch {
        return false;
      }
    }, "the app to record http.disconnect");
    assert.equal((await get(s.port, "/pid")).status, 200);
  },
);

Deno.test(
  "asgi: the response is complete at more_body false; what the app does after runs later",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const marker = await tmpPath();
    const res = await get(s.port, `/after?${marker}`);
    assert.equal(text(res), "done");
    assert.throws(
      () => Deno.readTextFileSync(marker),
      "the after-work has not run when the response arrives",
    );
    await until(() => {
      try {
        return Deno.readTextFileSync(marker) === "after:http.disconnect";
      } catch {
        return false;
      }
    }, "the after-work");
  },
);

Deno.test(
  "asgi: one worker serves 50 sleeping requests at once (every start before the first end)",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1, maxQueue: 0 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => get(s.port, `/sleep?${i}`)));
    assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
    const marks: Array<[string, string]> = JSON.parse(text(await get(s.port, "/marks")));
    assert.equal(marks.length, 100);
    const firstEnd = marks.findIndex(([kind]) => kind === "end");
    assert.equal(firstEnd, 50, "all 50 started before any ended");
    assert.equal(s.pool.size, 1);
  },
);

Deno.test(
  "asgi: a slow reader makes the app's send wait (back-pressure reaches the app)",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    await conn.write(new TextEncoder().encode(`GET /big HTTP/1.1\r\n${H}\r\n`));
    // 256 MiB would never fit in buffers; nothing is read, so the app cannot have sent it all.
    await new Promise((r) => setTimeout(r, 500));
    const before = JSON.parse(text(await get(s.port, "/marks")));
    assert.deepEqual(before, [], "the app is still waiting in send()");
    let total = 0;
    const buf = new Uint8Array(256 * 1024);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      total += n;
      if (new TextDecoder().decode(buf.subarray(Math.max(0, n - 5), n)).endsWith("0\r\n\r\n")) break;
    }
    conn.close();
    assert.ok(total > 256 * 1024 * 1024);
    assert.deepEqual(JSON.parse(text(await get(s.port, "/marks"))), [["big", "sent"]]);
  },
);

Deno.test(
  "asgi: an exception before the start → 500, after it → a truncated response; the worker serves on",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const pid = text(await get(s.port, "/pid"));
    assert.equal((await get(s.port, "/raise")).status, 500);
    assert.match(s.logText(), /boom before the start/);
    assert.equal((await get(s.port, "/no-response")).status, 500);
    const late = await get(s.port, "/raise-late");
    assert.equal(late.status, 200);
    assert.equal(late.complete, false);
    assert.equal(text(await get(s.port, "/pid")), pid);
  },
);

Deno.test(
  "asgi: an exception after a complete response is one ERROR record with the request id and the traceback",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    assert.equal((await get(s.port, "/raise-after", "X-Request-Id: late-7\r\n")).status, 500);
    await until(() => s.logText().includes("boom after the response"), "the traceback in the log");
    // Records, not lines: a record's traceback spans lines; each record starts with its time.
    const records = s.logText().split(/\n(?=\d{4}-\d\d-\d\dT)/).filter((r) =>
      r.includes("boom after the response")
    );
    assert.equal(records.length, 1, s.logText());
    assert.match(records[0], /ERROR/);
    assert.match(records[0], /python app raised/);
    assert.match(records[0], /id=late-7/);
    assert.match(records[0], /Traceback/);
  },
);

Deno.test(
  "asgi: a crash → 502 for its request, a replacement, and the next request served",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const before = text(await get(s.port, "/pid"));
    assert.equal((await get(s.port, "/crash")).status, 502);
    await until(() => s.pool.size === 1 && s.stats.wsgiIdle === 1, "a replacement worker");
    const after = await get(s.port, "/pid");
    assert.equal(after.status, 200);
    assert.notEqual(text(after), before);
    assert.equal(s.stats.wsgiRestarts.get("crash"), 1);
  },
);

Deno.test(
  "asgi: past --wsgi-timeout → 504, the task cancelled with its stack in the log, the worker kept",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1, timeout: 0.5 });
    const pid = text(await get(s.port, "/pid"));
    const res = await get(s.port, "/timeout", "X-Request-Id: slow-1\r\n");
    assert.equal(res.status, 504);
    await until(() => s.logText().includes("sleepy_coroutine_for_the_stack"), "the task's stack in the log");
    assert.match(s.logText(), /python request timed out.*id=slow-1/);
    assert.equal(text(await get(s.port, "/pid")), pid, "cancelling the task kept the worker");
    // Blocking code on the loop cannot be cancelled: the worker is replaced.
    assert.equal((await get(s.port, "/block")).status, 504);
    await until(() => s.stats.wsgiRestarts.get("timeout") === 1, "the stuck worker replaced");
    await until(() => s.stats.wsgiIdle === 1, "a replacement");
    assert.notEqual(text(await get(s.port, "/pid")), pid);
  },
);

Deno.test(
  "asgi: --asgi-concurrency and --wsgi-max-queue bound a worker: one more is a 503",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1, concurrency: 2, maxQueue: 0 });
    const slow = [get(s.port, "/sleep?a"), get(s.port, "/sleep?b")];
    await until(() => s.pool.inflight === 2, "both to run in the worker");
    const third = await get(s.port, "/pid");
    assert.equal(third.status, 503);
    assert.deepEqual((await Promise.all(slow)).map((r) => r.status), [200, 200]);
  },
);

Deno.test(
  "asgi: an ASGI 2 double callable is detected and wrapped; MODULE:factory() works",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:Legacy", { workers: 1 });
    assert.equal(text(await get(s.port, "/x")), "asgi2 /x");
    await using f = await startAsgi("asgi_apps:make_app('from the factory')", { workers: 1 });
    assert.equal(text(await get(f.port, "/")), "from the factory");
  },
);

Deno.test(
  "asgi: http.response.trailers is accepted; the body arrives whole",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const res = await get(s.port, "/trailers");
    assert.equal(res.status, 200);
    assert.equal(text(res), "with trailers");
    assert.equal(res.complete, true);
  },
);

void APPS;

Deno.test(
  "asgi: reload and recycling replace workers after their open requests, running lifespan shutdown",
  needs("read", "write", "run"),
  async () => {
    const marker = await tmpPath();
    Deno.env.set("ASGI_SHUTDOWN_MARKER", marker);
    try {
      await using s = await startAsgi("asgi_apps:app", { workers: 1, maxRequests: 3 });
      const first = text(await get(s.port, "/pid"));
      // A slow request is open while the reload starts: it finishes on the old worker.
      const slow = get(s.port, "/sleep?reload");
      await until(() => s.stats.wsgiBusy === 1, "the slow request running");
      const reloaded = s.pool.reload();
      assert.equal(text(await slow), "reload");
      await reloaded;
      await until(() => s.stats.wsgiRestarts.get("reload") === 1, "the old worker retired");
      await until(() => Deno.readTextFileSync(marker) === "shutdown ran", "lifespan shutdown on reload");
      Deno.removeSync(marker);
      const second = text(await get(s.port, "/pid"));
      assert.notEqual(second, first);
      // --wsgi-max-requests 3: the third request on the new worker retires it, and a new one serves.
      await get(s.port, "/pid");
      await get(s.port, "/pid");
      await until(() => s.stats.wsgiRestarts.get("max_requests") === 1, "recycled after 3 requests");
      await until(() => {
        try {
          return Deno.readTextFileSync(marker) === "shutdown ran";
        } catch {
          return false;
        }
      }, "lifespan shutdown on recycling");
      await until(() => s.stats.wsgiIdle === 1, "a fresh worker");
      assert.notEqual(text(await get(s.port, "/pid")), second);
    } finally {
      Deno.env.delete("ASGI_SHUTDOWN_MARKER");
    }
  },
);

Deno.test(
  "asgi: over HTTP/2 (h2c, curl) the scope says http_version 2; a streamed body arrives whole",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 }, { h2c: true });
    const o = await new Deno.Command("curl", {
      args: [
        "-s",
        "--http2-prior-knowledge",
        "-H",
        "X-Dup: a",
        "-H",
        "X-Dup: b",
        `http://127.0.0.1:${s.port}/scope?q`,
      ],
      stdout: "piped",
    }).output();
    const { scope } = JSON.parse(new TextDecoder().decode(o.stdout));
    assert.equal(scope.http_version, "2");
    assert.deepEqual(scope.query_string, { bytes: "q" });
    const dups = scope.headers.filter((h: string[]) => h[1] === "x-dup").map((h: string[]) => h[3]);
    assert.deepEqual(dups, ["a", "b"]);
    const big = await new Deno.Command("curl", {
      args: [
        "-s",
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        `http://127.0.0.1:${s.port}/big`,
      ],
      stdout: "piped",
    }).output();
    assert.equal(Number(new TextDecoder().decode(big.stdout)), 4096 * 65536);
  },
);
