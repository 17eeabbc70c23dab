/**
 * The Python gateway's bounds: output without newlines read in linear time and logged in pieces,
 * the levels Python's logging gives kept (Django's "Not Found" a warning), a response head over
 * the limit refused with 502, and workers that cannot outlive a killed ferry, whose spilled bodies
 * the next start removes.
 */

import assert from "assert";
import { exchange, header, text } from "../../helpers/client.ts";
import { APPS, PYTHON, pythonHas, startWsgi } from "../../helpers/python.ts";
import { startChild, until } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";
import { needs } from "../../helpers/needs.ts";

const H = "Host: t\r\n";

function get(port: number, target: string) {
  return exchange(port, `GET ${target} HTTP/1.1\r\n${H}\r\n`);
}

/** The worker-output records of the (plain) error log: level, request id, stream, text, continued. */
function pythonLines(logText: string) {
  const re =
    /^\S+ (\w+) python pid=\d+ id=(\S+) stream=(\w+) line=([^]*?)( continued=true)?(?=\n\S+Z |\n*(?![^]))/gm;
  return [...logText.matchAll(re)].map((m) => ({
    level: m[1].toLowerCase(),
    id: m[2],
    stream: m[3],
    line: m[4],
    continued: m[5] !== undefined,
  }));
}

Deno.test(
  "python output: 20 MiB without a newline is logged in 16 KiB pieces while other requests are served",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("hardening_apps:app", { workers: 2 });
    // The app keeps its long line open until `release` exists (5 s at most), so the long request is
    // still running, by construction, while the other one is sent and answered: when the other waited
    // for it instead, the long one answers first and the order below fails.
    const dir = await Deno.makeTempDir({ prefix: "ferry-noline-" });
    const release = join(dir, "release");
    try {
      const order: string[] = [];
      const long = get(s.port, `/noline?20&${encodeURIComponent(release)}`)
        .then((r) => order.push(`noline ${r.status}`));
      await until(() => s.logText().includes("continued=true"), "the first piece of the long line");
      const other = await get(s.port, "/pid");
      order.push(`other ${other.status}`);
      await Deno.writeTextFile(release, "");
      await long;
      assert.deepEqual(order, ["other 200", "noline 200"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    await until(() => s.logText().includes("line=end of the long output"), "the line after the long one");
    const pieces = pythonLines(s.logText()).filter((r) => r.stream === "stdout");
    assert.equal(pieces.length, 20 * 64 + 2); // 1,280 pieces, the (empty) rest of the line, the next line
    assert.ok(
      pieces.slice(0, -2).every((p) => p.line.length === 16 * 1024 && p.continued && p.level === "info"),
    );
    assert.deepEqual(pieces.slice(-2).map((p) => [p.line, p.continued]), [["", false], [
      "end of the long output",
      false,
    ]]);
  },
);

Deno.test(
  "python logging: a line keeps the level the app's logging gave it; plain stderr is INFO",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("hardening_apps:app", { workers: 1 });
    const res = await exchange(s.port, `GET /levels HTTP/1.1\r\n${H}X-Request-Id: lv-1\r\n\r\n`);
    assert.equal(text(res), "logged");
    await until(() => s.logText().includes("plain stderr line"), "the plain line");
    const got = pythonLines(s.logText()).map((r) => [r.level, r.line, r.id]);
    assert.deepEqual(got, [
      ["debug", "a debug line", "lv-1"],
      ["info", "an info line", "lv-1"],
      ["warn", "a warning line", "lv-1"],
      ["error", "an error line\nwith a second line", "lv-1"],
      ["info", "plain stderr line", "lv-1"],
    ]);
  },
);

Deno.test({
  name:
    "python logging: Django's 'Not Found' is a warning; a failing view's traceback stays an error with the request id",
  ignore: !pythonHas("django"),
  fn: async () => {
    await using s = await startWsgi("django_debug_app:application", { workers: 1 });
    const missing = await exchange(s.port, `GET /favicon.ico HTTP/1.1\r\n${H}X-Request-Id: dj-1\r\n\r\n`);
    assert.equal(missing.status, 404);
    const boom = await exchange(s.port, `GET /boom HTTP/1.1\r\n${H}X-Request-Id: dj-2\r\n\r\n`);
    assert.equal(boom.status, 500);
    await until(() => s.logText().includes("Internal Server Error: /boom"), "the view's error");
    const rs = pythonLines(s.logText());
    const notFound = rs.find((r) => String(r.line).startsWith("Not Found: /favicon.ico"));
    assert.equal(notFound?.level, "warn");
    assert.equal(notFound?.id, "dj-1");
    const failed = rs.find((r) => String(r.line).startsWith("Internal Server Error: /boom"));
    assert.equal(failed?.level, "error");
    assert.equal(failed?.id, "dj-2");
    assert.match(String(failed?.line), /RuntimeError: a view that fails/);
  },
});

Deno.test(
  "python head: a head over --wsgi-max-response-head is a 502 with a log line naming the limit; a flag raises it",
  needs("read", "write", "run"),
  async () => {
    {
      await using s = await startWsgi("hardening_apps:app", { workers: 1 });
      const ok = await get(s.port, "/bighead?60000");
      assert.equal(ok.status, 200);
      const res = await exchange(s.port, `GET /bighead?100000 HTTP/1.1\r\n${H}X-Request-Id: big-1\r\n\r\n`);
      assert.equal(res.status, 502);
      assert.equal(header(res, "x-big"), undefined);
      assert.match(
        s.logText(),
        /ERROR python app sent a response head over the limit; answered 502 id=big-1 bytes=\d+ limit=65536 fix=raise --wsgi-max-response-head/,
      );
      assert.equal(s.stats.wsgiBadGateway, 1);
      const after = await get(s.port, "/pid");
      assert.equal(after.status, 200, "the worker serves on");
    }
    {
      await using s = await startWsgi("hardening_apps:app", { workers: 1, maxResponseHead: 256 * 1024 });
      const res = await get(s.port, "/bighead?200000");
      assert.equal(res.status, 200);
      assert.equal(header(res, "x-big")?.length, 200000);
    }
  },
);

/** Polls an async `cond` until it holds; fails after `ms` (a guard against hanging). */
async function untilAsync(cond: () => Promise<boolean>, what: string, ms = 10000): Promise<void> {
  const give = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > give) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether process `pid` is running (a zombie waiting for its reaper counts as gone). */
async function running(pid: number): Promise<boolean> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** Files under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) out.push(...await filesUnder(p));
      else out.push(p);
    }
  } catch {
    // gone
  }
  return out;
}

Deno.test(
  "python workers: a worker busy in a loop exits when ferry is killed; the next start removes the spilled body",
  needs("read", "write", "run"),
  async () => {
    const tmp = await Deno.makeTempDir({ prefix: "ferry-harden-" });
    const args = [
      "--port",
      "0",
      "--no-https",
      "--log-format",
      "none",
      "--wsgi",
      "hardening_apps:app",
      "--wsgi-python",
      PYTHON,
      "--wsgi-chdir",
      APPS,
      "--wsgi-workers",
      "1",
    ];
    let pid = 0;
    try {
      {
        const first = await startChild(args, 1, undefined, { TMPDIR: tmp });
        const port = Number(new URL(first.urls[0]).port);
        pid = Number(text(await get(port, "/pid")));
        assert.ok(await running(pid));
        // A 2 MiB body goes to a file before the worker sees it; the app then spins for ever (it
        // says so with a file in TMPDIR).
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        const size = 2 * 1024 * 1024;
        await conn.write(
          new TextEncoder().encode(`POST /spin HTTP/1.1\r\n${H}Content-Length: ${size}\r\n\r\n`),
        );
        const body = new Uint8Array(size).fill(0x61);
        for (let off = 0; off < size;) off += await conn.write(body.subarray(off));
        await untilAsync(
          async () => (await filesUnder(tmp)).some((f) => f.endsWith("/spinning")),
          "the app's loop",
        );
        first.child.kill("SIGKILL");
        await first.status;
        conn.close();
      }
      const spilled = (await filesUnder(tmp)).filter((f) => /body-/.test(f));
      assert.equal(spilled.length, 1, "the body file outlives the killed ferry");
      await untilAsync(async () => !(await running(pid)), "the orphaned worker to exit", 15000);
      {
        await using second = await startChild(args, 1, undefined, { TMPDIR: tmp });
        const port = Number(new URL(second.urls[0]).port);
        assert.equal((await get(port, "/pid")).status, 200);
        const left = await filesUnder(tmp);
        assert.ok(!left.includes(spilled[0]), `the stale body is removed (left: ${left.join(", ")})`);
      }
    } finally {
      if (pid > 0 && await running(pid)) Deno.kill(pid, "SIGKILL"); // the parent code's orphan
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
);
