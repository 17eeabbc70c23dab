/**
 * Per-app Python counters: a config with two Python apps (one WSGI, one ASGI) run by `main.ts`
 * with the start task's permissions; requests to each, a worker crash in one, then `/_metrics`
 * has each app's figures (`python.apps.NAME`, `ferry_python_app_*{app="NAME"}` samples) and
 * totals that are their sums; a reload that removes an app drops its entry. And the same figures summed over
 * `--workers` isolates (snapshots, as the isolates send them).
 */

import assert from "assert";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { startChild } from "../helpers/server.ts";
import { needs } from "../helpers/needs.ts";
import { Stats } from "../../src/stats.ts";
import { PoolCounters } from "../../src/app/python/pool_counters.ts";
import { metricsJson, metricsPrometheus } from "../../src/metrics/metrics.ts";

type Doc = {
  python: Record<string, unknown> & { apps: Record<string, Record<string, unknown>> };
  wsgi: Record<string, unknown>;
};
type Family = {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value: string }>;
};

/** The samples of `family` as `labels → value`, labels written `k=v,k=v` (sorted). */
function samples(families: Family[], family: string): Map<string, number> {
  const f = families.find((x) => x.name === family);
  assert.ok(f !== undefined, `family ${family}`);
  return new Map(f.metrics.map((m) => [
    Object.entries(m.labels ?? {}).sort().map(([k, v]) => `${k}=${v}`).join(","),
    Number(m.value),
  ]));
}

/** Polls `f` until it gives a value, else fails with the last one it saw. */
async function poll<T>(f: () => Promise<T | undefined>, what: string, last: () => unknown): Promise<T> {
  const give = Date.now() + 20_000;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > give) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(last())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test(
  "python apps: two apps count apart in /_metrics (JSON python.apps, app= samples); totals are their sums; a reload drops a removed app",
  needs("read", "write", "run"),
  async () => {
    const { APPS, PYTHON } = await import("../helpers/python.ts");
    const apps = {
      blog: { wsgi: "plain_apps:app", chdir: APPS, python: PYTHON, workers: 2 },
      api: { asgi: "asgi_apps:app", chdir: APPS, python: PYTHON, workers: 1 },
    };
    const config = (names: Array<keyof typeof apps>) => ({
      listen: { http: "127.0.0.1:0", https: false },
      admin: { listen: "127.0.0.1:0" },
      apps: Object.fromEntries(names.map((n) => [n, apps[n]])),
      sites: [{ routes: names.map((n) => ({ path: `/${n}/*`, app: n, strip_prefix: `/${n}` })) }],
    });
    const dir = await Deno.makeTempDir({ prefix: "ferry-pyapps-" });
    const file = join(dir, "ferry.json");
    await Deno.writeTextFile(file, JSON.stringify(config(["blog", "api"])));
    try {
      await using ferry = await startChild(["--config", file]);
      const url = ferry.urls[0].replace(/\/$/, "");
      const json = async () => (await (await fetch(`${url}/_metrics`)).json()) as Doc;
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/blog/echo`)).status, 200);
      for (let i = 0; i < 2; i++) {
        assert.equal((await (await fetch(`${url}/api/pid`)).text()).length > 0, true);
      }
      const crashed = await fetch(`${url}/blog/crash`);
      await crashed.body?.cancel();
      assert.equal(crashed.status, 502, "the blog's worker died before its head");
      // The blog's worker is replaced: both its workers alive again, one restart counted.
      let doc = await json();
      doc = await poll(
        async () => {
          doc = await json();
          const blog = doc.python.apps.blog;
          return blog?.workers === 2 && blog?.idle === 2 && doc.python.apps.api?.idle === 1 ? doc : undefined;
        },
        "the blog's replacement worker",
        () => doc.python,
      );
      const { blog, api } = doc.python.apps;
      assert.deepEqual(Object.keys(doc.python.apps).sort(), ["api", "blog"]);
      assert.deepEqual(
        [blog.workers, blog.busy, blog.bad_gateway, blog.restarts],
        [2, 0, 1, { crash: 1 }],
        "the blog's figures",
      );
      assert.deepEqual([api.workers, api.busy, api.bad_gateway, api.restarts], [1, 0, 0, {}], "the api's");
      for (const key of ["workers", "idle", "busy", "queued", "bad_gateway", "refused", "gateway_timeout"]) {
        assert.equal(doc.python[key], Number(blog[key]) + Number(api[key]), `python.${key} is the sum`);
        assert.equal(doc.wsgi[key], doc.python[key], `wsgi.${key} is python.${key}`);
      }
      assert.deepEqual(doc.python.restarts, { crash: 1 });
      assert.deepEqual(doc.wsgi.apps, doc.python.apps, "wsgi.apps is python.apps");

      const text = await (await fetch(`${url}/_metrics?format=prometheus`)).text();
      const families = parsePrometheusTextFormat(text) as Family[];
      // The totals stay unlabelled in their families (under both names); each app's figures are in
      // families of their own, so that summing a family never counts an app twice.
      for (const prefix of ["ferry_python_", "ferry_wsgi_"]) {
        assert.deepEqual([...samples(families, `${prefix}worker_processes`)], [["", 3]]);
        assert.deepEqual([...samples(families, `${prefix}restarts_total`)], [["cause=crash", 1]]);
        assert.equal(samples(families, `${prefix}errors_total`).get("code=502"), 1);
        assert.equal(samples(families, `${prefix}workers`).get("state=idle"), 3);
        assert.doesNotMatch(
          text,
          new RegExp(`^${prefix}(?!app_)[a-z_]+\\{app=`, "m"),
          `no app label in ${prefix}*`,
        );
      }
      assert.deepEqual(
        [...samples(families, "ferry_python_app_worker_processes")],
        [["app=api", 1], ["app=blog", 2]],
      );
      const errors = samples(families, "ferry_python_app_errors_total");
      assert.equal(errors.get("app=blog,code=502"), 1);
      assert.equal(errors.get("app=api,code=502"), 0);
      assert.deepEqual([...samples(families, "ferry_python_app_restarts_total")], [[
        "app=blog,cause=crash",
        1,
      ]]);
      const workers = samples(families, "ferry_python_app_workers");
      assert.equal(workers.get("app=blog,state=idle"), 2);
      assert.equal(workers.get("app=api,state=idle"), 1);
      const types = text.split("\n").filter((l) => l.startsWith("# TYPE "));
      assert.equal(new Set(types).size, types.length, "one TYPE line per family");

      // A reload without the api: its entry goes once its pool has stopped; the blog's stays.
      const admin = /admin API on (\S+)/.exec(ferry.stdout())![1].replace(/\/$/, "");
      const loaded = await fetch(`${admin}/load`, { method: "POST", body: JSON.stringify(config(["blog"])) });
      assert.equal(loaded.status, 200, await loaded.text());
      doc = await poll(
        async () => {
          doc = await json();
          return doc.python.apps.api === undefined && doc.python.workers === 2 ? doc : undefined;
        },
        "the api's entry to go",
        () => doc.python,
      );
      assert.deepEqual(Object.keys(doc.python.apps), ["blog"]);
      assert.deepEqual([doc.python.apps.blog.workers, doc.python.apps.blog.bad_gateway], [2, 1]);
      assert.doesNotMatch(
        await (await fetch(`${url}/_metrics?format=prometheus`)).text(),
        /app="api"/,
        "no sample of the removed app",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("python apps: per-app figures sum over --workers isolates, as their snapshots arrive", () => {
  const isolates = [new Stats(), new Stats()];
  const [a0, b0, a1] = [
    new PoolCounters(isolates[0], "a"),
    new PoolCounters(isolates[0], "b"),
    new PoolCounters(isolates[1], "a"),
  ];
  a0.gauges(2, 1, 0);
  b0.gauges(1, 1, 0);
  a1.gauges(3, 0, 4);
  a0.count("wsgiBadGateway");
  a1.count("wsgiBadGateway");
  b0.count("wsgiRefused");
  a1.restarted("max_requests");
  const all = isolates.map((s) => Stats.fromSnapshot(structuredClone(s.snapshot())));
  const doc = metricsJson(all) as Doc;
  assert.deepEqual(doc.python.apps, {
    a: {
      workers: 5,
      busy: 4,
      idle: 1,
      queued: 4,
      bad_gateway: 2,
      refused: 0,
      gateway_timeout: 0,
      retried: 0,
      restarts: { max_requests: 1 },
    },
    b: {
      workers: 1,
      busy: 0,
      idle: 1,
      queued: 0,
      bad_gateway: 0,
      refused: 1,
      gateway_timeout: 0,
      retried: 0,
      restarts: {},
    },
  });
  assert.deepEqual(
    [doc.python.workers, doc.python.busy, doc.python.queued, doc.python.bad_gateway, doc.python.refused],
    [6, 4, 4, 2, 1],
  );
  const prom = metricsPrometheus(all).split("\n");
  for (
    const line of [
      "ferry_python_worker_processes 6",
      'ferry_python_app_worker_processes{app="a"} 5',
      'ferry_python_app_worker_processes{app="b"} 1',
      'ferry_python_app_workers{app="a",state="busy"} 4',
      'ferry_python_app_errors_total{app="b",code="503"} 1',
      'ferry_python_app_restarts_total{app="a",cause="max_requests"} 1',
    ]
  ) assert.ok(prom.includes(line), line);
  // A stopped pool takes back its gauges; the last pool of an app drops its entry.
  a0.close();
  assert.deepEqual([isolates[0].wsgiWorkers, isolates[0].wsgiIdle, [...isolates[0].pythonApps.keys()]], [
    1,
    1,
    ["b"],
  ]);
});

Deno.test(
  "python apps: started from flags, the app is named by its module (--wsgi MODULE:CALLABLE)",
  needs("read", "write", "run"),
  async () => {
    const { APPS, PYTHON } = await import("../helpers/python.ts");
    await using ferry = await startChild([
      ...["--port", "0", "--no-https", "--log-format", "none"],
      ...["--wsgi-python", PYTHON, "--wsgi-chdir", APPS, "--wsgi-workers", "1", "--wsgi", "plain_apps:app"],
    ]);
    const url = ferry.urls[0].replace(/\/$/, "");
    const crashed = await fetch(`${url}/crash`);
    await crashed.body?.cancel();
    assert.equal(crashed.status, 502);
    const doc = (await (await fetch(`${url}/_metrics`)).json()) as Doc;
    assert.deepEqual(Object.keys(doc.python.apps), ["plain_apps:app"]);
    assert.equal(doc.python.apps["plain_apps:app"].bad_gateway, 1);
    const text = await (await fetch(`${url}/_metrics?format=prometheus`)).text();
    assert.match(text, /^ferry_python_app_errors_total\{app="plain_apps:app",code="502"\} 1$/m);
  },
);
