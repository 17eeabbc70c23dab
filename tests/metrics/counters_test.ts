/** The counter table: every counter of Stats is in it, and every entry shows in every rendering. */

import assert from "assert";
import { Stats } from "../../src/stats.ts";
import { COUNTERS, LABELLED_COUNTERS } from "../../src/metrics/counters.ts";
import { metricsJson, metricsPrometheus } from "../../src/metrics/metrics.ts";
import { dashboardSample } from "../../src/metrics/dashboard.ts";

/** The value at a dotted path of a JSON document. */
function at(doc: unknown, path: string): unknown {
  return path.split(".").reduce((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
}

Deno.test("counters: every numeric field and counter map of Stats has its entry in the table", () => {
  const s = new Stats();
  const numeric = Object.keys(s).filter((k) =>
    typeof (s as unknown as Record<string, unknown>)[k] === "number" && k !== "startedAt" && k !== "worker"
  );
  const maps = Object.keys(s).filter((k) =>
    (s as unknown as Record<string, unknown>)[k] instanceof Map && k !== "requests" && k !== "latency" &&
    k !== "status" && // status lists other layers attach (Stats.status), not counters
    k !== "pythonApps" // the Python counters again by app, rendered from this table's entries
  );
  assert.deepEqual(numeric.sort(), COUNTERS.map((c) => c.field as string).sort());
  assert.deepEqual(maps.sort(), LABELLED_COUNTERS.map((c) => c.field as string).sort());
});

Deno.test("counters: every counter shows in the JSON, the Prometheus text and the dashboard sample", () => {
  const s = new Stats();
  COUNTERS.forEach((c, i) => (s[c.field] as number) = 1000 + i);
  LABELLED_COUNTERS.forEach((c, i) =>
    (s[c.field] as Map<unknown, number>).set(c.field === "responses" ? 418 : c.label2 ? "k t" : "k", 2000 + i)
  );
  const json = metricsJson([s]);
  const prom = metricsPrometheus([s]).split("\n");
  const dash = dashboardSample([s]).counters;
  COUNTERS.forEach((c, i) => {
    assert.equal(at(json, c.json), 1000 + i, `JSON ${c.json}`);
    const labels = Object.entries(c.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join(",");
    assert.ok(
      prom.includes(`${c.prom}${labels ? `{${labels}}` : ""} ${1000 + i}`),
      `Prometheus ${c.prom} ${labels}`,
    );
    assert.ok(prom.includes(`# TYPE ${c.prom} ${c.kind}`), `Prometheus TYPE of ${c.prom}`);
    assert.equal(dash[c.json]?.value, 1000 + i, `dashboard ${c.json}`);
  });
  LABELLED_COUNTERS.forEach((c, i) => {
    const key = c.field === "responses" ? "418" : c.label2 ? "k t" : "k";
    // Two labels: the JSON nests (`upstreams.requests.k.t`), Prometheus has both labels.
    assert.equal(at(json, `${c.json}.${key.replace(" ", ".")}`), 2000 + i, `JSON ${c.json}`);
    const labels = c.label2 ? `${c.label}="k",${c.label2}="t"` : `${c.label}="${key}"`;
    assert.ok(prom.includes(`${c.prom}{${labels}} ${2000 + i}`), `Prometheus ${c.prom}`);
    assert.ok(prom.includes(`# TYPE ${c.prom} ${c.kind ?? "counter"}`), `Prometheus TYPE of ${c.prom}`);
    assert.equal(dash[`${c.json}.${key}`]?.value, 2000 + i, `dashboard ${c.json}`);
  });
});

Deno.test("counters: each Prometheus family is declared once", () => {
  const prom = metricsPrometheus([new Stats()]).split("\n").filter((l) => l.startsWith("# TYPE "));
  assert.equal(new Set(prom).size, prom.length);
});
