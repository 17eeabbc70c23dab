/**
 * The engine bugs an attack pass found (issue 16), each over a real socket: body chunks that pin
 * 64 KiB, answers held back by unread bodies, refusals counted twice, bodies with no rate floor,
 * files served under a trailing slash, temporary upload files left by a crash, and Ctrl+C under
 * `deno task start`.
 */

import assert from "assert";
import { join } from "path";
import { exchange, header, RawClient } from "../helpers/client.ts";
import { MemorySink, ROOT, startServer, until } from "../helpers/server.ts";
import type { Handler } from "../../src/mod.ts";
import { Logger } from "../../src/log/logger.ts";
import { needs } from "../helpers/needs.ts";

const H = "Host: t\r\n";

Deno.test("hardening: a chunk read from the socket is sized to its bytes, never a slice of 64 KiB", async () => {
  const chunks: Uint8Array[] = [];
  const handler: Handler = async (req, res) => {
    for await (const c of req.body) chunks.push(c);
    await res.send(200, [], String(chunks.length));
  };
  await using s = await startServer({ handler });
  await using c = await RawClient.connect(s.port);
  await c.send(`POST / HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\n`);
  for (let i = 0; i < 10; i++) {
    await c.send("x".repeat(10));
    await until(() => chunks.reduce((n, b) => n + b.length, 0) >= (i + 1) * 10, "the piece to be read");
  }
  const res = await c.response();
  assert.equal(res.status, 200);
  assert.ok(chunks.length >= 2, "the body came in several reads");
  for (const b of chunks) {
    assert.equal(
      b.buffer.byteLength,
      b.length,
      `a ${b.length}-byte chunk holds ${b.buffer.byteLength} bytes`,
    );
  }
});

Deno.test("hardening: an answer that does not read the body goes out before the body arrives", async () => {
  const handler: Handler = (_req, res) => res.send(401, [["WWW-Authenticate", 'Basic realm="t"']], "no\n");
  await using s = await startServer({ handler });
  await using c = await RawClient.connect(s.port);
  // 100 KB declared (under the drain bound), 10 bytes sent: the 401 must not wait for the rest.
  await c.send(`PUT /f HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\n${"x".repeat(10)}`);
  const res = await c.response();
  assert.equal(res.status, 401);
  // The body is then drained and the connection goes on.
  await c.send("x".repeat(100000 - 10) + `GET /next HTTP/1.1\r\n${H}\r\n`);
  assert.equal((await c.response()).status, 401);
});

Deno.test("hardening: pipelined answers go out while a later request's body is still incomplete", async () => {
  const echo: Handler = async (req, res) => await res.send(200, [], await req.body.bytes());
  await using s = await startServer({ handler: echo });
  await using c = await RawClient.connect(s.port);
  const post = (body: string, declared = body.length) =>
    `POST / HTTP/1.1\r\n${H}Content-Length: ${declared}\r\n\r\n${body}`;
  await c.send(post("one") + post("two") + post("thr", 5));
  const first = await c.response();
  const second = await c.response();
  assert.deepEqual([first.status, new TextDecoder().decode(first.body)], [200, "one"]);
  assert.deepEqual([second.status, new TextDecoder().decode(second.body)], [200, "two"]);
  await c.send("ee");
  assert.equal(new TextDecoder().decode((await c.response()).body), "three");
});

Deno.test("hardening: a bad chunk is counted, answered and logged once", async () => {
  const sink = new MemorySink();
  const log = new Logger("json", sink, sink, "info");
  const echo: Handler = async (req, res) => await res.send(200, [], await req.body.bytes());
  await using s = await startServer({ handler: echo, log, logFormat: "json" });
  const res = await exchange(
    s.port,
    `POST /bad HTTP/1.1\r\n${H}X-Request-Id: bad-chunk-1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
  );
  assert.equal(res.status, 400);
  await s.server.shutdown();
  await log.flush();
  assert.equal(s.server.stats.responses.get(400), 1);
  assert.equal(s.server.stats.rejections.get("bad_chunk_size"), 1);
  const lines = sink.text.split("\n").filter((l) => l.includes('"bad-chunk-1"'));
  assert.equal(lines.length, 1, lines.join("\n"));
});

Deno.test("hardening: a body timeout is counted once, as a timeout, with one 408", async () => {
  const echo: Handler = async (req, res) => await res.send(200, [], await req.body.bytes());
  await using s = await startServer({ handler: echo, bodyTimeout: 0.3 });
  await using c = await RawClient.connect(s.port);
  await c.send(`POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nab`);
  const res = await c.response();
  assert.equal(res.status, 408);
  assert.ok(await c.closed());
  await until(() => s.server.stats.responses.get(408) !== undefined, "the 408 to be counted");
  assert.equal(s.server.stats.responses.get(408), 1);
  assert.equal(s.server.stats.timeouts.get("body"), 1);
  assert.equal(s.server.stats.rejections.get("body_incomplete"), undefined);
});

Deno.test("hardening: a body that keeps trickling below --min-body-rate gets 408", async () => {
  const echo: Handler = async (req, res) => await res.send(200, [], await req.body.bytes());
  // Each byte comes well within --body-timeout of the last, but far below 100 bytes/s on average.
  await using s = await startServer({ handler: echo, bodyTimeout: 1, minBodyRate: 100 });
  await using c = await RawClient.connect(s.port);
  await c.send(`POST / HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\n`);
  let answered = false;
  let sent = 0;
  for (; sent < 60 && !answered; sent++) {
    try {
      await c.send("x");
    } catch {
      break; // the server closed
    }
    answered = (await c.poll(200)) > 0;
  }
  // Answered while the client was still trickling, not after it fell silent.
  assert.ok(answered && sent < 60, `no answer while 60 bytes trickled in (${sent} sent)`);
  const res = await c.response();
  assert.equal(res.status, 408);
  assert.equal(s.server.stats.timeouts.get("body"), 1);
});

Deno.test(
  "hardening: a file asked for with a trailing slash is 404",
  needs("read", "write", "run"),
  async () => {
    await using s = await startServer({ root: join(ROOT, "static") });
    assert.equal((await exchange(s.port, `GET /static/hello.txt HTTP/1.1\r\n${H}\r\n`)).status, 200);
    assert.equal((await exchange(s.port, `GET /static/hello.txt/ HTTP/1.1\r\n${H}\r\n`)).status, 404);
    assert.equal((await exchange(s.port, `GET /static/hello.txt%2f HTTP/1.1\r\n${H}\r\n`)).status, 404);
    assert.equal((await exchange(s.port, `GET /static/hello.txt%2F HTTP/1.1\r\n${H}\r\n`)).status, 404);
  },
);

Deno.test(
  "hardening: temporary files of uploads cut short by a crash are removed at start",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(join(dir, "sub"));
      const uuid = crypto.randomUUID();
      // A file no upload holds (its pid cannot be running), an old name with no pid, and a file a
      // live process holds locked (as an upload in progress does), which must stay.
      const dead = join(dir, "sub", `.ferry-upload-99999999-${uuid}.tmp`);
      const old = join(dir, `.ferry-upload-${uuid}.tmp`);
      const live = join(dir, `.ferry-upload-${Deno.pid}-${uuid}.tmp`);
      const kept = join(dir, "keep.txt");
      for (const p of [dead, old, live, kept]) await Deno.writeTextFile(p, "partial");
      using held = await Deno.open(live, { write: true });
      await held.lock(true);
      await using s = await startServer({ uploadDir: dir });
      const res = await exchange(s.port, `GET /uploads/keep.txt HTTP/1.1\r\n${H}\r\n`);
      assert.equal(res.status, 200);
      const exists = (p: string) => Deno.stat(p).then(() => true, () => false);
      assert.equal(await exists(dead), false);
      assert.equal(await exists(old), false);
      assert.equal(await exists(live), true);
      assert.equal(await exists(kept), true);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "hardening: Ctrl+C to the process group of `deno task start` drains the request in flight",
  needs("read", "write", "run"),
  async () => {
    const cwd = await Deno.makeTempDir();
    try {
      await Deno.copyFile(join(ROOT, "deno.json"), join(cwd, "deno.json"));
      await Deno.copyFile(join(ROOT, "deno.lock"), join(cwd, "deno.lock"));
      await Deno.symlink(join(ROOT, "main.ts"), join(cwd, "main.ts"));
      await Deno.symlink(join(ROOT, "src"), join(cwd, "src"));
      await Deno.symlink(join(ROOT, "static"), join(cwd, "static"));
      // setsid: a process group of its own, as a terminal gives a foreground job.
      const child = new Deno.Command("setsid", {
        args: [Deno.execPath(), "task", "start", "--port", "0", "--no-https", "--log-format", "none"],
        cwd,
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).spawn();
      let out = "";
      const dec = new TextDecoder();
      const pump = (async () => {
        for await (const chunk of child.stdout) out += dec.decode(chunk, { stream: true });
      })();
      const errs = new Response(child.stderr).text();
      await until(() => /listening on http:\/\/[^:]+:(\d+)/.test(out), `ferry to start: ${out}`, 60000);
      const port = Number(/listening on http:\/\/[^:]+:(\d+)/.exec(out)![1]);
      await using c = await RawClient.connect(port);
      // 100 Continue comes once the handler reads the body: then the request is surely in flight.
      await c.send(`POST /submit HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 10\r\n\r\n`);
      assert.equal((await c.response()).status, 100);
      await c.send("hello");
      // The request is in flight (its body half sent): SIGINT to the whole group, as Ctrl+C does.
      const kill = await new Deno.Command("kill", { args: ["-INT", "--", `-${child.pid}`] }).output();
      assert.ok(kill.success);
      await until(() => out.includes("draining"), `the drain to begin: ${out}`);
      await c.send("world");
      const res = await c.response();
      assert.equal(res.status, 200);
      assert.equal(new TextDecoder().decode(res.body), "helloworld");
      assert.match(header(res, "connection") ?? "", /close/);
      const status = await child.status;
      await pump;
      assert.equal(status.code, 0, `exit ${status.code}; stderr: ${await errs}`);
      assert.match(out, /ferry: stopped/);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
);

Deno.test(
  "hardening: a request sent during a large on-the-fly brotli transfer completes before it",
  needs("read", "write", "run"),
  async () => {
    const root = await Deno.makeTempDir();
    try {
      // 15 MB of text that compresses like prose (random words, no long repeats).
      const words = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "ferry",
        "server",
        "range",
        "chunk",
        "static",
        "http",
      ];
      const rnd = new Uint32Array(15_000_000 / 6);
      for (let i = 0; i < rnd.length; i += 16384) crypto.getRandomValues(rnd.subarray(i, i + 16384));
      const parts: string[] = [];
      for (let i = 0; i < rnd.length; i++) parts.push(words[rnd[i] % 10], i % 16 === 15 ? "\n" : " ");
      await Deno.writeTextFile(join(root, "big.txt"), parts.join(""));
      await using s = await startServer({ root, handler: (_req, res) => res.send(200, [], "hello\n") });
      // Four large transfers from other processes (curl), so that their reading does not share our
      // loop; a /hello sent once they are under way must be answered before another quarter of
      // their bytes has gone out (before the fix it waited while each file went out in one go).
      const out = (k: number) => join(root, `got${k}.br`);
      const curls = [0, 1, 2, 3].map((k) =>
        new Deno.Command("curl", {
          args: [
            "-s",
            "-N",
            "-o",
            out(k),
            "-H",
            "Accept-Encoding: br",
            `http://127.0.0.1:${s.port}/static/big.txt`,
          ],
        }).spawn()
      );
      const sizeOf = (k: number) => {
        try {
          return Deno.statSync(out(k)).size;
        } catch {
          return 0;
        }
      };
      const received = () => [0, 1, 2, 3].reduce((n, k) => n + sizeOf(k), 0);
      // A hang guard only: on a loaded machine the first compressed bytes can take a while.
      await until(() => [0, 1, 2, 3].every((k) => sizeOf(k) > 0), "the transfers to begin", 60_000);
      const before = received();
      const hello = await exchange(s.port, `GET /hello HTTP/1.1\r\n${H}\r\n`);
      const atHello = received();
      assert.equal(hello.status, 200);
      for (const c of curls) assert.ok((await c.status).success);
      const total = received();
      assert.ok(
        atHello - before < total / 4,
        `/hello was answered only after ${atHello - before} more of ${total} compressed bytes`,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
