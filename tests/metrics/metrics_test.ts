/** The metrics renderings from counters, without a server: JSON sums workers, Prometheus is well-formed. */

import assert from "assert";
import { Stats } from "../../src/stats.ts";
import { metricsJson, metricsPrometheus } from "../../src/metrics/metrics.ts";
import { dashboardSample } from "../../src/metrics/dashboard.ts";

function counters(requests: number, worker: number): Stats {
  const s = new Stats();
  s.worker = worker;
  s.requestsTotal = requests;
  s.responses.set(200, requests - 1);
  s.responses.set(404, 1);
  s.countRequest("app", "GET");
  s.observe("app", 2.5);
  s.wsgiRestarts.set("crash", worker);
  return s;
}

Deno.test("metrics json: workers are summed, and listed one by one", () => {
  // The JSON as a client parses it.
  const j = JSON.parse(JSON.stringify(metricsJson([counters(10, 0), counters(5, 1)])));
  assert.equal(j.requests_total, 15);
  assert.deepEqual(j.responses, { "200": 13, "404": 2 });
  assert.equal(j.workers, 2);
  assert.equal(j.per_worker.length, 2);
  assert.equal(j.wsgi.restarts.crash, 1);
  assert.equal(j.routes.app.count, 2);
});

Deno.test("metrics prometheus: one HELP and TYPE per family, labels quoted, values numeric", () => {
  const text = metricsPrometheus([counters(3, 0)]);
  const families = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (m) families.set(m[1], (families.get(m[1]) ?? 0) + 1);
    else if (line !== "" && !line.startsWith("# HELP ")) {
      assert.match(
        line,
        /^[a-z_:][a-z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[\d.e+]+|\+Inf|NaN)$/,
        line,
      );
    }
  }
  for (const [name, n] of families) assert.equal(n, 1, name);
  assert.match(text, /^ferry_responses_total\{code="404"\} 1$/m);
  assert.match(text, /^ferry_wsgi_restarts_total\{cause="crash"\} 0$/m);
});

Deno.test("dashboard sample: status classes and per-mount latency buckets", () => {
  const d = dashboardSample([counters(4, 0), counters(2, 1)]);
  assert.deepEqual(d.responses, { "2xx": 4, "4xx": 2 });
  assert.equal(d.requests, 6);
  assert.equal(d.mounts.app.count, 2);
  assert.equal(d.mounts.app.buckets.reduce((a, b) => a + b, 0), 2);
  assert.equal(d.bounds.length + 1, d.mounts.app.buckets.length);
});
