/**
 * Supervision of the Python workers, with real processes: a crash is a 502 and a replacement, a
 * request past --wsgi-timeout is a 504 with the worker's stacks in the log, a full queue is a 503,
 * workers recycle after --wsgi-max-requests and past --wsgi-max-rss, a reload replaces every
 * worker without a failed request, and a reload whose new code does not import keeps the old
 * workers. Everything is counted in /_metrics.
 */

import assert from "assert";
import { exchange, text } from "../../helpers/client.ts";
import { APPS, startWsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { join } from "../../helpers/paths.ts";
import { needs } from "../../helpers/needs.ts";

const H = "Host: t\r\n";
const get = (port: number, target: string, extra = "") =>
  exchange(port, `GET ${target} HTTP/1.1\r\n${H}${extra}\r\n`);

Deno.test(
  "wsgi supervision: a worker that dies mid-request → 502, a replacement, and the next request served",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1 });
    const before = text(await get(s.port, "/pid"));
    const res = await get(s.port, "/crash");
    assert.equal(res.status, 502);
    await until(() => s.pool.size === 1 && s.stats.wsgiIdle === 1, "a replacement worker");
    const after = await get(s.port, "/pid");
    assert.equal(after.status, 200);
    assert.notEqual(text(after), before);
    assert.equal(s.stats.wsgiBadGateway, 1);
    assert.equal(s.stats.wsgiRestarts.get("crash"), 1);
    // After the head, a death cuts the response short instead.
    const late = await get(s.port, "/crash-late");
    assert.equal(late.status, 200);
    assert.equal(late.complete, false);
    const metrics = await (await fetch(`http://127.0.0.1:${s.port}/_metrics`)).json();
    assert.equal(metrics.wsgi.bad_gateway, 1);
    assert.ok(metrics.wsgi.restarts.crash >= 1);
  },
);

Deno.test(
  "wsgi supervision: past --wsgi-timeout → 504, the worker's Python stack in the log, a replacement",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1, timeout: 0.5 });
    const res = await get(s.port, "/sleep?30", "X-Request-Id: slow-1\r\n");
    assert.equal(res.status, 504);
    await until(() => s.logText().includes("sleepy_function_for_the_stack"), "the stack dump in the log");
    assert.match(s.logText(), /python request timed out.*id=slow-1/);
    await until(() => s.stats.wsgiIdle === 1, "a replacement worker");
    assert.equal((await get(s.port, "/sleep?0")).status, 200);
    assert.equal(s.stats.wsgiGatewayTimeout, 1);
    assert.equal(s.stats.wsgiRestarts.get("timeout"), 1);
    const prom = await (await fetch(`http://127.0.0.1:${s.port}/_metrics?format=prometheus`)).text();
    assert.match(prom, /ferry_wsgi_errors_total\{code="504"\} 1/);
    assert.match(prom, /ferry_wsgi_restarts_total\{cause="timeout"\} 1/);
  },
);

Deno.test(
  "wsgi supervision: a full queue → 503 with Retry-After; a queue timeout → 503",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", {
      workers: 1,
      maxQueue: 1,
      queueTimeout: 0.3,
      pipeline: 1,
    });
    const busy = get(s.port, "/sleep?1.5"); // holds the only worker
    await until(() => s.stats.wsgiBusy === 1, "the worker to be busy");
    const queued = get(s.port, "/pid"); // waits in the queue, then times out
    await until(() => s.stats.wsgiQueued === 1, "the request to queue");
    const refused = await get(s.port, "/pid"); // the queue is full
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.find(([n]) => n === "retry-after")?.[1]) >= 1);
    assert.equal((await queued).status, 503);
    assert.equal((await busy).status, 200);
    assert.equal(s.stats.wsgiRefused, 2);
  },
);

Deno.test(
  "wsgi supervision: --wsgi-max-requests recycles a worker, and the pool keeps its size",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1, maxRequests: 3 });
    const pids: string[] = [];
    for (let i = 0; i < 7; i++) {
      await until(() => s.stats.wsgiIdle === 1, "a free worker");
      pids.push(text(await get(s.port, "/pid")));
    }
    assert.equal(new Set(pids.slice(0, 3)).size, 1);
    assert.notEqual(pids[3], pids[2]);
    assert.equal(new Set(pids).size, 3);
    assert.equal(s.stats.wsgiRestarts.get("max_requests"), 2);
    assert.equal(s.pool.size, 1);
  },
);

Deno.test(
  "wsgi supervision: --wsgi-max-rss recycles a worker after its request",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1, maxRss: 1024 * 1024 });
    const first = await get(s.port, "/pid");
    assert.equal(first.status, 200, "the request over the bound is still served");
    await until(
      () => (s.stats.wsgiRestarts.get("max_rss") ?? 0) === 1 && s.stats.wsgiIdle === 1,
      "a recycle",
    );
    assert.notEqual(text(await get(s.port, "/pid")), text(first));
  },
);

Deno.test(
  "wsgi supervision: reload replaces every worker under load with no failed request",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 2 });
    const oldPids = new Set<string>();
    for (let i = 0; i < 6; i++) oldPids.add(text(await get(s.port, "/pid")));
    let failures = 0;
    let served = 0;
    let stop = false;
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (!stop) {
        const r = await get(s.port, "/pid");
        if (r.status === 200) served++;
        else failures++;
      }
    }));
    await until(() => served > 20, "load to run");
    await s.pool.reload();
    const at = served;
    await until(() => served > at + 20, "load to continue after the reload");
    stop = true;
    await load;
    assert.equal(failures, 0);
    // A worker that was busy when the reload came retires when its request ends and is counted when
    // it has exited, which may be after reload() resolved.
    await until(() => s.stats.wsgiRestarts.get("reload") === 2, "both old workers retired for the reload");
    const newPids = new Set<string>();
    for (let i = 0; i < 6; i++) newPids.add(text(await get(s.port, "/pid")));
    for (const p of newPids) assert.ok(!oldPids.has(p), `worker ${p} survived the reload`);
  },
);

Deno.test(
  "wsgi supervision: a reload loads fresh code; one whose new code does not import keeps the old workers",
  needs("read", "write", "run"),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const mod = join(dir, "swapped.py");
      await Deno.copyFile(join(APPS, "plain_apps.py"), mod);
      await using s = await startWsgi("swapped:app", { workers: 1, chdir: dir });
      // Fresh code first: after a reload the new module answers.
      await Deno.writeTextFile(
        mod,
        (await Deno.readTextFile(mod)) + "\n\ndef _fresh(environ, start_response):\n" +
          '    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [b"fresh code"]\n\n\n' +
          'ROUTES["/fresh"] = _fresh\n',
      );
      assert.notEqual(text(await get(s.port, "/fresh")), "fresh code");
      await s.pool.reload();
      assert.equal(text(await get(s.port, "/fresh")), "fresh code");
      const pid = text(await get(s.port, "/pid"));
      await Deno.writeTextFile(mod, "raise ImportError('new code is broken')\n");
      await s.pool.reload();
      assert.match(s.logText(), /reload failed: the new code does not load.*new code is broken/s);
      assert.equal(text(await get(s.port, "/pid")), pid, "the old worker still serves");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "wsgi supervision: a request pipelined behind one that kills the worker is served by the replacement",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1, pipeline: 2 });
    const marker = `${await Deno.makeTempDir()}/crash`;
    const first = get(s.port, `/sleep-crash?${marker}`); // running: kills its worker once told
    await until(() => s.stats.wsgiBusy === 1, "the worker to be busy");
    const behind = get(s.port, "/pid"); // pipelined behind it on the same worker
    await until(() => s.pool.inflight === 2, "the second request to be pipelined to the worker");
    await Deno.writeTextFile(marker, "");
    assert.equal((await first).status, 502);
    const after = await behind;
    assert.equal(after.status, 200, "a request the dead worker never began goes to the replacement");
    assert.equal(s.stats.wsgiRetried, 1);
  },
);

Deno.test(
  "wsgi supervision: requests are not pipelined behind a slow app's; they wait for a free worker",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1, pipeline: 4 });
    // A fast app: a second request goes to the busy worker at once.
    const fast = get(s.port, "/sleep?0.3");
    await until(() => s.stats.wsgiBusy === 1, "the worker to be busy");
    const pipelined = get(s.port, "/pid");
    await until(() => s.pool.inflight === 2 || s.stats.wsgiQueued > 0, "the second request to be placed");
    assert.equal(s.stats.wsgiQueued, 0, "pipelined to the worker, not queued");
    await Promise.all([fast, pipelined]);
    // Slow requests teach the pool that this app is slow.
    for (let i = 0; i < 4; i++) assert.equal((await get(s.port, "/sleep?0.1")).status, 200);
    const slow = get(s.port, "/sleep?0.3");
    await until(() => s.stats.wsgiBusy === 1, "the worker to be busy again");
    const queued = get(s.port, "/pid");
    await until(() => s.stats.wsgiQueued === 1, "the second request to wait in ferry's queue");
    assert.equal((await slow).status, 200);
    assert.equal((await queued).status, 200);
  },
);

Deno.test(
  "wsgi supervision: a pipelined request's clock starts when the worker begins it",
  needs("read", "write", "run"),
  async () => {
    await using s = await startWsgi("plain_apps:app", { workers: 1, pipeline: 2, timeout: 1 });
    const a = get(s.port, "/sleep?0.7");
    await until(() => s.stats.wsgiBusy === 1, "the worker to be busy");
    const b = get(s.port, "/sleep?0.7"); // waits 0.7 s behind a, then runs 0.7 s: within its 1 s
    assert.equal((await a).status, 200);
    assert.equal((await b).status, 200);
    assert.equal(s.stats.wsgiGatewayTimeout, 0);
  },
);
