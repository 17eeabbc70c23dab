/** Options and units: defaults, resolved once, every bad value refused naming its option. */

import assert from "assert";
import { DEFAULT_OPTIONS, resolveOptions } from "../src/options.ts";
import { formatSize, parseInterval, parseSize } from "../src/units.ts";

Deno.test("options: defaults fill gaps, and a resolved object comes back as it is, frozen", () => {
  const o = resolveOptions({ port: 0 });
  assert.equal(o.port, 0);
  assert.equal(o.headerTimeout, DEFAULT_OPTIONS.headerTimeout);
  assert.equal(o.minBodyRate, 500);
  assert.equal(resolveOptions(o), o);
  assert.ok(Object.isFrozen(o));
});

Deno.test("options: bad values are refused with the option's name", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ port: 70000 }, /port/],
    [{ maxHeaderCount: 0 }, /maxHeaderCount/],
    [{ headerTimeout: -1 }, /headerTimeout/],
    [{ drainDelay: -1 }, /drainDelay/],
    [{ staticPrefix: "static" }, /staticPrefix/],
    [{ logRotateSize: "10Q" }, /not a size/],
    [{ logRotateInterval: "1M" }, /ambiguous/],
    [{ logFormat: "xml" }, /logFormat/],
    [{ host: "" }, /host/],
  ];
  for (const [opts, message] of cases) {
    assert.throws(() => resolveOptions(opts), message, JSON.stringify(opts));
  }
});

Deno.test("units: one size syntax, unambiguous intervals, sizes written back as people write them", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("64k"), 64 * 1024);
  assert.equal(parseSize("10M"), 10 * 1024 * 1024);
  assert.equal(parseSize("1gib"), 1024 ** 3);
  assert.equal(parseSize("2 KB"), 2048);
  assert.throws(() => parseSize("1.5M"), RangeError);
  assert.throws(() => parseSize("-1"), RangeError);
  assert.equal(parseInterval("30s"), 30_000);
  assert.equal(parseInterval("15m"), 15 * 60_000);
  assert.equal(parseInterval("1w"), 7 * 86_400_000);
  assert.throws(() => parseInterval("1M"), /ambiguous/);
  assert.throws(() => parseInterval("5x"), RangeError);
  assert.deepEqual([formatSize(64 * 1024 * 1024), formatSize(1024 ** 3), formatSize(1000)], [
    "64M",
    "1G",
    "1000",
  ]);
});
