/**
 * The Python gateway's counters under the names that say what they serve (`--wsgi` and `--asgi`
 * alike): `/_metrics` has each `wsgi.*` value again under `python.*`, and each `ferry_wsgi_*`
 * Prometheus family again as `ferry_python_*`, with the same samples; the `wsgi` names stay.
 */

import assert from "assert";
import { exchange } from "../../helpers/client.ts";
import { startAsgi } from "../../helpers/python.ts";
import { until } from "../../helpers/server.ts";
import { needs } from "../../helpers/needs.ts";

Deno.test(
  "python names: an ASGI worker's crash counts under python.* and ferry_python_* as under wsgi.*",
  needs("read", "write", "run"),
  async () => {
    await using s = await startAsgi("asgi_apps:app", { workers: 1 });
    const res = await exchange(s.port, "GET /crash HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.equal(res.status, 502);
    await until(() => s.pool.size === 1 && s.stats.wsgiIdle === 1, "a replacement worker");
    const json = await (await fetch(`http://127.0.0.1:${s.port}/_metrics`)).json();
    assert.equal(json.python.bad_gateway, 1);
    assert.equal(json.python.restarts.crash, 1);
    assert.equal(json.python.workers, 1);
    assert.deepEqual(json.python, json.wsgi, "the same values under both names");
    const prom = (await (await fetch(`http://127.0.0.1:${s.port}/_metrics?format=prometheus`)).text()).split(
      "\n",
    );
    assert.ok(prom.includes('ferry_python_errors_total{code="502"} 1'));
    assert.ok(prom.includes('ferry_python_restarts_total{cause="crash"} 1'));
    assert.ok(prom.includes("# TYPE ferry_python_worker_processes gauge"));
    const wsgi = prom.filter((l) => l.includes("ferry_wsgi_"));
    // Each app's own families (ferry_python_app_*, python_apps_test.ts) have no ferry_wsgi_ twin.
    const python = prom.filter((l) => l.includes("ferry_python_") && !l.includes("ferry_python_app_"));
    assert.ok(wsgi.length > 0);
    assert.deepEqual(python, wsgi.map((l) => l.replaceAll("ferry_wsgi_", "ferry_python_")));
  },
);
