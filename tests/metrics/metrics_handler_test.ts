/** /_metrics through the in-memory exchange harness: who may read it, which format, which methods. */

import assert from "assert";
import { request } from "../../src/http/harness.ts";
import { metricsHandler } from "../../src/metrics/metrics.ts";
import { AllowList } from "../../src/net/cidr.ts";
import { Stats } from "../../src/stats.ts";

function handler() {
  const stats = new Stats();
  stats.requestsTotal = 7;
  return metricsHandler({ stats: () => [stats], allow: AllowList.parse("127.0.0.0/8") });
}

Deno.test("metrics (harness): JSON for an allowed client, Prometheus when asked, 403 for others", async () => {
  const h = handler();
  const json = await request(h, "/_metrics");
  assert.equal(json.status, 200);
  assert.equal(json.header("content-type"), "application/json");
  assert.equal(JSON.parse(json.text()).requests_total, 7);
  const prom = await request(h, "/_metrics?format=prometheus");
  assert.equal(prom.status, 200);
  assert.ok(prom.text().split("\n").includes("ferry_requests_received_total 7"));
  const viaAccept = await request(h, "/_metrics", { headers: { accept: "text/plain" } });
  assert.match(viaAccept.header("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.equal((await request(h, "/_metrics", { clientAddr: "192.0.2.1" })).status, 403);
});

Deno.test("metrics (harness): only GET and HEAD, with Allow", async () => {
  const res = await request(handler(), "/_metrics", { method: "POST", body: "x" });
  assert.equal(res.status, 405);
  assert.equal(res.header("allow"), "GET, HEAD");
});
