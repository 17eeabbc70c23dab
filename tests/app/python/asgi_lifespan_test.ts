/**
 * ferry's process with --asgi: lifespan startup failure stops it with exit 1 and the app's message,
 * lifespan shutdown runs on SIGTERM, an app without lifespan is served under `auto`, and the flags
 * (--wsgi/--asgi exclusive, --asgi-lifespan values, the --python-* aliases) are checked at start.
 */

import assert from "assert";
import { APPS, PYTHON } from "../../helpers/python.ts";
import { runFerry, startChild } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";
import { parseCli } from "../../../src/cli.ts";
import { needs } from "../../helpers/needs.ts";

const base = [
  "--no-https",
  "--port",
  "0",
  "--wsgi-python",
  PYTHON,
  "--wsgi-chdir",
  APPS,
  "--wsgi-workers",
  "1",
];

Deno.test(
  "asgi lifespan: a startup failure stops ferry with exit 1 and the app's message",
  needs("read", "write", "run"),
  async () => {
    const run = await runFerry([...base, "--asgi", "asgi_apps:failing_startup"]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /failed its lifespan startup: the database is not there/);
  },
);

Deno.test(
  "asgi lifespan: shutdown runs when ferry gets SIGTERM; the startup state reached requests",
  needs("read", "write", "run"),
  async () => {
    const marker = join(await Deno.makeTempDir({ prefix: "ferry-lifespan-" }), "shutdown");
    await using child = await startChild([...base, "--asgi", "asgi_apps:app"], 1, undefined, {
      ASGI_SHUTDOWN_MARKER: marker,
    });
    const scope = await (await fetch(`${child.urls[0]}scope`)).json();
    assert.deepEqual(scope.scope.state, { greeting: "from lifespan" });
    assert.throws(() => Deno.readTextFileSync(marker));
    child.child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, child.stderr());
    assert.equal(Deno.readTextFileSync(marker), "shutdown ran");
  },
);

Deno.test(
  "asgi lifespan: auto serves an app that raises on lifespan; on refuses it (exit 1)",
  needs("read", "write", "run"),
  async () => {
    await using child = await startChild([...base, "--asgi", "asgi_apps:no_lifespan"]);
    assert.equal(await (await fetch(child.urls[0])).text(), "served without lifespan");
    const on = await runFerry([...base, "--asgi", "asgi_apps:no_lifespan", "--asgi-lifespan", "on"]);
    assert.equal(on.code, 1);
    assert.match(on.stderr, /only http/);
  },
);

Deno.test(
  "asgi flags: --wsgi and --asgi exclude each other; bad values exit 2 naming the flag; aliases",
  needs("read", "write", "run"),
  async () => {
    const both = await runFerry([...base, "--asgi", "a:b", "--wsgi", "a:b"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--wsgi and --asgi exclude each other/);
    const mode = await runFerry([...base, "--asgi", "a:b", "--asgi-lifespan", "sometimes"]);
    assert.equal(mode.code, 2);
    assert.match(mode.stderr, /--asgi-lifespan/);
    const shape = await runFerry([...base, "--asgi", "nocolon"]);
    assert.equal(shape.code, 2);
    assert.match(shape.stderr, /--asgi must look like MODULE:CALLABLE/);
    const threads = await runFerry([...base, "--asgi", "a:b", "--wsgi-threads", "4"]);
    assert.equal(threads.code, 2);
    assert.match(threads.stderr, /--wsgi-threads is for --wsgi apps/);
    const missing = await runFerry([...base, "--asgi", "no_such_module:app"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No module named 'no_such_module'.*\n[^]*check --asgi/);
    const cfg = parseCli(["--asgi", "m:app", "--python-workers", "3", "--python-timeout", "7"]);
    assert.equal(cfg.wsgi?.interface, "asgi");
    assert.equal(cfg.wsgi?.workers, 3);
    assert.equal(cfg.wsgi?.timeout, 7);
    assert.equal(cfg.wsgi?.lifespan, "auto");
    assert.equal(cfg.wsgi?.concurrency, 1000);
  },
);
