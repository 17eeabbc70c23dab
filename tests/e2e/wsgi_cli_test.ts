/**
 * `--wsgi` as a user runs it (main.ts in a child process): an app that does not import exits 2
 * with its message, bad combinations exit 2, SIGHUP restarts the workers under load with no
 * failed request, SIGTERM drains a Python request in flight, and a client that does not read a
 * large response keeps ferry's memory bounded (the credit window holds the worker back).
 */

import assert from "assert";
import { APPS, PYTHON } from "../helpers/python.ts";
import { rssOf, runFerry, startChild, until } from "../helpers/server.ts";
import { needs } from "../helpers/needs.ts";

const WSGI = ["--wsgi-python", PYTHON, "--wsgi-chdir", APPS];
const BASE = ["--port", "0", "--no-https", "--log-format", "none"];

const run = runFerry;

Deno.test(
  "wsgi cli: an app that does not import → exit 2 with the traceback's message",
  needs("read", "run"),
  async () => {
    const r = await run([...BASE, ...WSGI, "--wsgi", "broken_app:app"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /the WSGI app broken_app:app could not be loaded: ImportError: broken_app cannot be imported/,
    );
    assert.match(r.stderr, /--wsgi-chdir/);
    const missing = await run([...BASE, ...WSGI, "--wsgi", "no_such_module:app"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ModuleNotFoundError: No module named 'no_such_module'/);
  },
);

Deno.test(
  "wsgi cli: --wsgi with --app, with --workers, or malformed → exit 2 naming the flag",
  needs("read", "run"),
  async () => {
    const both = await run([...BASE, ...WSGI, "--wsgi", "plain_apps:app", "--app", "examples/fetch_app.ts"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--wsgi and --app exclude each other/);
    const workers = await run([...BASE, ...WSGI, "--wsgi", "plain_apps:app", "--workers", "2"]);
    assert.equal(workers.code, 2);
    assert.match(workers.stderr, /use --wsgi-workers, not --workers/);
    const bad = await run([...BASE, ...WSGI, "--wsgi", "no-colon"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--wsgi must look like MODULE:CALLABLE/);
    const python = await run([...BASE, "--wsgi", "plain_apps:app", "--wsgi-python", "/no/such/python"]);
    assert.equal(python.code, 2);
    assert.match(python.stderr, /\/no\/such\/python.*--wsgi-python/);
  },
);

Deno.test(
  "wsgi cli: SIGHUP restarts every worker under load with no failed request",
  needs("read", "run"),
  async () => {
    await using child = await startChild([
      ...BASE,
      ...WSGI,
      "--wsgi",
      "plain_apps:app",
      "--wsgi-workers",
      "2",
    ]);
    const url = child.urls[0];
    const pids = async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) seen.add(await (await fetch(`${url}pid`)).text());
      return seen;
    };
    const before = await pids();
    let served = 0;
    let failed = 0;
    let stop = false;
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const r = await fetch(`${url}pid`);
          await r.text();
          if (r.status === 200) served++;
          else failed++;
        } catch {
          failed++;
        }
      }
    }));
    await until(() => served > 50, "load to run");
    child.child.kill("SIGHUP");
    await until(() => (child.stderr().match(/python worker ready/g) ?? []).length >= 4, "two new workers");
    const at = served;
    await until(() => served > at + 50, "load to go on after the reload");
    stop = true;
    await load;
    assert.equal(failed, 0);
    const after = await pids();
    for (const p of after) assert.ok(!before.has(p), `worker ${p} was not replaced`);
    child.child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
  },
);

Deno.test(
  "wsgi cli: SIGTERM drains a Python request in flight, then stops the workers",
  needs("read", "run"),
  async () => {
    await using child = await startChild([
      ...BASE,
      ...WSGI,
      "--wsgi",
      "plain_apps:app",
      "--wsgi-workers",
      "1",
    ]);
    const slow = fetch(`${child.urls[0]}sleep?0.5`);
    // In flight once the worker is busy with it.
    for (let i = 0; i < 200; i++) {
      const m = await (await fetch(`${child.urls[0]}_metrics`)).json();
      if (m.wsgi.busy === 1) break;
    }
    child.child.kill("SIGTERM");
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "slept");
    assert.equal((await child.status).code, 0);
  },
);

Deno.test(
  "wsgi cli: a client that does not read a 100 MiB response keeps ferry's memory bounded",
  needs("read", "run"),
  async () => {
    await using child = await startChild([
      ...BASE,
      ...WSGI,
      "--wsgi",
      "plain_apps:app",
      "--wsgi-workers",
      "1",
    ]);
    const port = Number(new URL(child.urls[0]).port);
    const base = await rssOf(child.child.pid);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(
        new TextEncoder().encode("GET /big?1600 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
      );
      // Nothing is read for a while: the socket buffers fill and the worker must wait for credit.
      await new Promise((r) => setTimeout(r, 1500));
      const held = await rssOf(child.child.pid);
      assert.ok(held - base < 40 * 1024 * 1024, `ferry grew by ${((held - base) / 1048576).toFixed(1)} MiB`);
      let total = 0;
      const buf = new Uint8Array(256 * 1024);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        total += n;
      }
      assert.ok(total > 1600 * 65536, `only ${total} bytes arrived`);
    } finally {
      conn.close();
    }
  },
);
