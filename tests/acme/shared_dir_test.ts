/**
 * Two ferry processes (one with --workers 2) sharing one --acme-dir: the lock file lets one order
 * each name while the other waits and loads what it stored, so each name is ordered once.
 */

import assert from "assert";
import { preparePebble } from "../helpers/pebble.ts";
import { startChild } from "../helpers/server.ts";
import { acmeArgs, httpPortOf, httpsPortOf, prometheus, sample, servedSerial } from "./acme_helpers.ts";
import { needs } from "../helpers/needs.ts";

Deno.test(
  "acme: two instances sharing --acme-dir make one order per name",
  needs("read", "write", "run"),
  async () => {
    const prepared = await preparePebble({ nonceReject: 0 });
    const work = await Deno.makeTempDir({ prefix: "ferry-acme-" });
    const names = "one.test,two.test";
    await using a = await startChild(
      acmeArgs(work, 0, prepared.directory, prepared.caFile, names, ["--workers", "2"]),
      2,
    );
    await using b = await startChild(acmeArgs(work, 0, prepared.directory, prepared.caFile, names), 2);
    // pebble validates on a's port: a answers the tokens that b published too (they are in --acme-dir).
    await using pebble = await prepared.start(httpPortOf(a));
    await Deno.writeTextFile(`${work}/root.pem`, await pebble.root());
    for (const name of ["one.test", "two.test"]) {
      const fromA = await servedSerial(httpsPortOf(a), name, `${work}/root.pem`);
      const fromB = await servedSerial(httpsPortOf(b), name, `${work}/root.pem`);
      assert.equal(fromA, fromB, name);
    }
    const ma = await prometheus(httpsPortOf(a), work);
    const mb = await prometheus(httpsPortOf(b), work);
    for (const name of ["one.test", "two.test"]) {
      assert.equal(
        sample(ma, "ferry_acme_orders_total", name) + sample(mb, "ferry_acme_orders_total", name),
        1,
        `${name}\n${ma}\n${mb}`,
      );
    }
    assert.equal((pebble.output().match(/Issued certificate serial/g) ?? []).length, 2, pebble.output());
  },
);
