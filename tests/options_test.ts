/** Options and units: defaults, resolved once, every bad value refused naming its option. */

import { ACME_OPTIONS } from "../src/acme/acme_options.ts";
import assert from "assert";
import { DEFAULT_OPTIONS, resolveOptions, SERVER_OPTIONS } from "../src/options.ts";
import { parseCli, program, TLS_OPTIONS } from "../src/cli.ts";
import { flagOf, type OptionTable } from "../src/option_spec.ts";
import { resolveWsgiOptions, WSGI_OPTIONS } from "../src/app/python/wsgi_options.ts";
import { formatSize, parseInterval, parseSize } from "../src/units.ts";
import { needs } from "./helpers/needs.ts";

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

Deno.test(
  "options: each @default in ServerOptions' docs is its table entry's default",
  needs("read"),
  async () => {
    const source = await Deno.readTextFile(new URL("../src/server_options.ts", import.meta.url));
    const documented = [...source.matchAll(/@default \{(.*?)\}[^]*?\n {2}(\w+)\?:/g)];
    assert.equal(documented.length, Object.keys(SERVER_OPTIONS).length, "every option has one @default");
    for (const [, text, name] of documented) {
      const spec = SERVER_OPTIONS[name as keyof typeof SERVER_OPTIONS];
      assert.deepEqual(JSON.parse(text), spec.default, `@default of ${name}`);
    }
  },
);

Deno.test(
  "options: every flag of the option tables is in --help and in the README's flags tables",
  needs("read"),
  async () => {
    const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
    const documented = new Set(
      readme.split("\n").filter((l) => l.startsWith("| `--")).flatMap((r) =>
        [...r.matchAll(/`(--[a-z0-9-]+)/g)].map((m) => m[1])
      ),
    );
    const help = program().helpInformation();
    let flags = 0;
    for (const table of [SERVER_OPTIONS, WSGI_OPTIONS, TLS_OPTIONS, ACME_OPTIONS] as OptionTable[]) {
      for (const spec of Object.values(table)) {
        const flag = flagOf(spec);
        if (flag === undefined) continue;
        flags++;
        assert.ok(help.includes(flag + " ") || help.includes(flag + "\n"), `--help lists ${flag}`);
        assert.ok(documented.has(flag), `README documents ${flag}`);
      }
    }
    assert.ok(flags >= 50, `${flags} flags`);
  },
);

Deno.test("options: a flag's text and a value in code are checked by the same rule", () => {
  assert.equal(parseCli(["--max-body-bytes", "2M"]).options.maxBodyBytes, 2 * 1024 * 1024);
  assert.throws(() => parseCli(["--max-header-count", "0"]), /--max-header-count.*from 1 to 10000/);
  assert.throws(
    () => resolveOptions({ maxHeaderCount: 0 }),
    /maxHeaderCount must be a whole number from 1 to 10000/,
  );
  assert.equal(parseCli(["--workers", "auto"]).options.workers, 0);
  assert.throws(() => parseCli(["--workers", "0"]), /--workers/);
  assert.deepEqual(parseCli(["--wsgi", "app:app", "--wsgi-pythonpath", "a,b:c"]).wsgi?.pythonpath, [
    "a",
    "b",
    "c",
  ]);
  assert.throws(() => parseCli(["--wsgi", "app"]), /--wsgi must look like MODULE:CALLABLE/);
  assert.throws(() => resolveWsgiOptions({ app: "app" }), /--wsgi must look like MODULE:CALLABLE/);
  assert.throws(
    () => resolveWsgiOptions({ app: "app:app", pipeline: 17 }),
    /--wsgi-pipeline must be a whole number/,
  );
});
