/** Counters' latency recording: the HDR slots agree with hdr-histogram-js value by value. */

import assert from "assert";
import { Stats } from "../src/stats.ts";

Deno.test("metrics: latency slots give the percentiles that hdr-histogram-js gives value by value (property)", async () => {
  const fc = (await import("fast-check")).default;
  const { RouteLatency, newLatencyHistogram } = await import("../src/stats.ts");
  const ms = fc.oneof(
    fc.double({ min: 0, max: 5, noNaN: true }), // the usual: microseconds to milliseconds
    fc.double({ min: 0, max: 4_000_000, noNaN: true }), // up to past an hour (clamped)
    fc.constantFrom(0, 0.0004, 0.255, 0.256, 0.5115, 2147.483648, 3_600_000),
  );
  fc.assert(
    fc.property(
      fc.array(ms, { minLength: 1, maxLength: 300 }),
      fc.integer({ min: 1, max: 3 }),
      (values, reads) => {
        const route = new RouteLatency();
        const direct = newLatencyHistogram();
        // Read in between as well: folding twice must not count twice.
        values.forEach((v, i) => {
          route.record(v);
          direct.recordValue(Math.min(3_600_000_000, Math.max(1, Math.round(v * 1000))));
          if (i % Math.ceil(values.length / reads) === 0) route.percentileMs(50);
        });
        assert.equal(route.histogram.totalCount, values.length);
        for (const p of [0, 1, 25, 50, 90, 95, 99, 99.9, 100]) {
          assert.equal(route.histogram.getValueAtPercentile(p), direct.getValueAtPercentile(p), `p${p}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("latency: a duration recorded with a count is the same as recorded that many times", () => {
  const once = new Stats();
  const each = new Stats();
  for (const [ms, times] of [[0.4, 16], [3, 5], [250, 1], [0.0001, 7]] as const) {
    once.observe("app", ms, times);
    for (let i = 0; i < times; i++) each.observe("app", ms);
  }
  const a = once.latency.get("app")!;
  const b = each.latency.get("app")!;
  assert.equal(a.count, b.count);
  assert.deepEqual(a.buckets, b.buckets);
  for (const p of [50, 90, 99, 100]) assert.equal(a.percentileMs(p), b.percentileMs(p));
  assert.ok(Math.abs(a.sumSeconds - b.sumSeconds) < 1e-9);
});
