/**
 * The ASGI worker shares the WSGI worker's process care (ferry run as users run it, main.ts under
 * the start task's permissions): `--wsgi-max-rss` recycles an ASGI worker from the memory it
 * reports in its END frames, and a worker whose loop is stuck in the app exits when ferry is
 * killed (its watchdog thread sees the parent gone).
 */

import assert from "assert";
import { join } from "path";
import { APPS, PYTHON } from "../../helpers/python.ts";
import { startChild, until } from "../../helpers/server.ts";
import { needs } from "../../helpers/needs.ts";

/** Polls `cond` until it holds; fails after `ms` (a guard against hanging, not a timing assertion). */
async function untilAsync(cond: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const give = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > give) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const BASE = [
  "--port",
  "0",
  "--no-https",
  "--log-format",
  "none",
  "--wsgi-chdir",
  APPS,
  "--wsgi-python",
  PYTHON,
];

async function running(pid: number): Promise<boolean> {
  try {
    return !/^State:\s+Z/m.test(await Deno.readTextFile(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

Deno.test(
  "asgi worker: --wsgi-max-rss recycles a worker that grew past it",
  needs("read", "write", "run"),
  async () => {
    await using child = await startChild([
      ...BASE,
      "--asgi",
      "asgi_apps:app",
      "--wsgi-workers",
      "1",
      "--wsgi-max-rss",
      "60M",
    ]);
    const url = child.urls[0];
    const small = await (await fetch(`${url}grow?0`)).text();
    assert.equal(await (await fetch(`${url}grow?0`)).text(), small, "a small worker is kept");
    const grown = await (await fetch(`${url}grow?80`)).text();
    assert.equal(grown, small);
    const next = await (await fetch(`${url}grow?0`)).text();
    assert.notEqual(next, grown, "the worker past --wsgi-max-rss was replaced");
  },
);

Deno.test(
  "asgi worker: a worker whose loop is stuck in the app exits when ferry is killed",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ferry-asgi-watchdog-" });
    const spinning = join(dir, "spinning");
    let pid = 0;
    try {
      const first = await startChild([...BASE, "--asgi", "asgi_apps:app", "--wsgi-workers", "1"]);
      const url = first.urls[0];
      pid = Number(await (await fetch(`${url}pid`)).text());
      assert.ok(await running(pid));
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
      await conn.write(new TextEncoder().encode(`GET /spin?${spinning} HTTP/1.1\r\nHost: t\r\n\r\n`));
      await until(() => {
        try {
          return Deno.statSync(spinning).isFile;
        } catch {
          return false;
        }
      }, "the app's loop to spin");
      first.child.kill("SIGKILL");
      await first.status;
      conn.close();
      await untilAsync(async () => !(await running(pid)), "the orphaned ASGI worker to exit", 15000);
    } finally {
      if (pid > 0 && await running(pid)) Deno.kill(pid, "SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
);
